"""The indicator grid (targets and actuals per period), the period page and its approval steps.

Grid cells are saved one at a time: htmx swaps the cell (``results/_cell.html``) and the
indicator's "to date" summary out of band, and tells the page the period's new version
(``HX-Trigger: periodSaved``) so the period's other cell stays current. The grid's cells are
compact (a labelled input; static/js/grid.js posts it with ``layout=grid`` and gets a compact
cell back); the period page's cells are small forms that work without JavaScript: POST, then
303 back to the grid (or a page with the error).

Every save goes through ``htmx.write``: load or 404, permission, form, one service call.
"""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..concurrency import answer_earlier, remember_submission
from ..evidence.services import evidence_for
from ..extensions import db
from ..formatting import input_number
from ..htmx import fragment_response, is_htmx, last_errors, write
from ..i18n import N_
from ..models import Dimension, User
from ..permissions import requires
from ..validation import parse_id
from . import narratives, services
from .forms import CellForm, DimensionForm, PeriodForm, ReturnForm, StepForm, ThresholdsForm, breakdown_form
from .grid_cells import GridCells

bp = Blueprint("results", __name__)


@bp.app_context_processor
def indicator_helpers():
    """``ind`` in templates: value display, period labels, state labels and the overview's chart;
    ``grid_cells()``: the writer of the grid's compact cells for this request."""
    return {"ind": services, "grid_cells": GridCells.for_request}


# ---------------------------------------------------------------------------------------------
# Helpers


def _period_or_404(period_id: int):
    period = services.load_period(g.project, period_id)
    if period is None:
        abort(404)
    return period


def _indicator_or_404(indicator_id: int):
    indicator = services.load_indicator(g.project, indicator_id)
    if indicator is None:
        abort(404)
    return indicator


def _int_arg(name: str, default=None):
    return parse_id(request.args.get(name, "")) or default


def _back_to_grid(anchor: str = "", year: int | None = None) -> str:
    """Where a plain (no-JS) save returns: the grid page it came from, else the grid showing
    ``year`` (the period's: the grid may show one year of periods at a time)."""
    referrer = request.referrer or ""
    grid = url_for("results.grid", project_id=g.project.id)
    parts = urlsplit(referrer)
    if parts.netloc in ("", request.host) and parts.path == grid:
        return f"{grid}?{parts.query}#{anchor}" if parts.query else f"{grid}#{anchor}"
    return url_for("results.grid", project_id=g.project.id, year=year) + f"#{anchor}"


def _saved(message: str, url: str):
    flash(message, "success")
    return redirect(url, 303)


def _refused(form, url: str):
    """A button-only POST that failed: its messages as a flash, back to the page."""
    for message in last_errors() or [m for errors in form.errors.values() for m in errors]:
        flash(message, "error")
    return redirect(url, 303)


def _messages(form) -> str:
    return " ".join(m for errors in form.errors.values() for m in errors)


# ---------------------------------------------------------------------------------------------
# The grid


def _grid_page(status: int = 200, thresholds_form=None):
    grid = services.load_grid(g.project, _int_arg("result"), _int_arg("page", 1), year=_int_arg("year"))
    if thresholds_form is None:
        thresholds_form = ThresholdsForm(formdata=None)
        thresholds_form.on_track_pct.data = input_number(g.project.on_track_pct)
        thresholds_form.at_risk_pct.data = input_number(g.project.at_risk_pct)
        thresholds_form.late_after_days.data = str(g.project.late_after_days)
        thresholds_form.version.data = str(g.project.version)
    return render_template("results/grid.html", grid=grid, thresholds_form=thresholds_form), status


@bp.route("/projects/<int:project_id>/indicators")
@requires("project.view")
def grid(project_id):
    """Indicators × periods: targets (managers) and actuals (officers) edited in place.

    Paged by indicator and filtered by result so a large framework stays usable; with more
    than a year's worth of columns (``grid.GRID_MAX_COLUMNS``) it shows one year of periods
    (``?year=``) with links to the others.
    """
    return _grid_page()


@bp.route("/projects/<int:project_id>/indicators/thresholds", methods=["POST"])
@requires("project.edit")
def thresholds(project_id):
    """A manager sets the % of target at which indicators count as on track / at risk, and the
    days after which a period without an actual is late."""
    form = ThresholdsForm()
    return write(lambda: services.set_thresholds(g.project, form.on_track_pct.data, form.at_risk_pct.data,
                                                 late_after_raw=form.late_after_days.data,
                                                 version=form.version.data or "", user=current_user),
                 form=form, again=lambda status: _grid_page(status, form),
                 done=lambda _result: _saved(_("Saved the status thresholds."),
                                       url_for("results.grid", project_id=project_id) + "#thresholds"))


def _save_cell(period_id: int, kind: str):
    period = _period_or_404(period_id)
    form = CellForm()
    save = services.save_target if kind == "target" else services.save_actual
    return write(lambda: save(period, form.value.data, form.version.data, current_user), form=form,
                 done=lambda _: _cell_saved(period_id, kind),
                 again=lambda status: _cell_again(period_id, kind, form, status))


def _compact_cell() -> bool:
    """The grid's compact cells (static/js/grid.js sends ``layout=grid``), else cells as forms."""
    return is_htmx() and request.form.get("layout") == "grid"


def _cell_saved(period_id: int, kind: str):
    period = _period_or_404(period_id)
    if not is_htmx():
        return redirect(_back_to_grid(f"cell-{period_id}-{kind}", period.start_date.year), 303)
    indicator = services.load_indicator(g.project, period.indicator_id)
    return fragment_response("results/_cell_response.html", period=period, indicator=indicator, kind=kind,
                             compact=_compact_cell(),
                             progress=services.indicator_progress(indicator, g.project),
                             trigger={"periodSaved": {"id": period.id, "version": period.version}})


def _cell_again(period_id: int, kind: str, form, status: int):
    period = _period_or_404(period_id)
    context = dict(period=period, cells=[period], indicator=period.indicator, kind=kind, raw=form.value.data or "",
                   error=_messages(form), conflict=status == 409, compact=_compact_cell())
    if is_htmx():
        return fragment_response("results/_cell.html", status, **context)
    return render_template("results/cell_page.html",
                           back_url=_back_to_grid(f"cell-{period.id}-{kind}", period.start_date.year),
                           **context), status


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/target", methods=["POST"])
@requires("framework.edit")
def save_target(project_id, period_id):
    """Save one period's target (a grid cell)."""
    return _save_cell(period_id, "target")


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/actual", methods=["POST"])
@requires("indicator.actual")
def save_actual(project_id, period_id):
    """Save one period's actual (a grid cell)."""
    return _save_cell(period_id, "actual")


# ---------------------------------------------------------------------------------------------
# A period: breakdown and approval steps


def _period_page(period, status=200, breakdown=None, **forms):
    forms.setdefault("step_form", StepForm(formdata=None))
    forms.setdefault("return_form", ReturnForm(formdata=None))
    forms.setdefault("dates_form", _dates_form(period))
    errors, raw = {}, None
    if breakdown is not None:  # a refused breakdown: what was typed, with the messages by field
        raw = {name: field.data or "" for name, field in breakdown._fields.items()
               if name == "total" or name.startswith("category-")}
        errors = {name: " ".join(field.errors) for name, field in breakdown._fields.items() if field.errors}
        if breakdown.form_errors:
            errors["_form"] = " ".join(breakdown.form_errors)
    evidence = evidence_for(period.project_id, periods=[period.id]).period(period.id)
    return render_template("results/period.html", period=period, indicator=period.indicator, evidence=evidence,
                           people=_people(period), breakdown_errors=errors, breakdown_raw=raw, **forms), status


def _people(period) -> dict:
    """Names of who submitted, approved and last changed the period."""
    ids = {i for i in (period.submitted_by_id, period.approved_by_id, period.updated_by_id) if i}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(ids))).all())


def _dates_form(period) -> PeriodForm:
    form = PeriodForm(formdata=None)
    form.start_date.data = period.start_date.isoformat()
    form.end_date.data = period.end_date.isoformat()
    form.version.data = str(period.version)
    return form


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>")
@requires("project.view")
def period(project_id, period_id):
    """One reporting period: target, actual, breakdown by category, approval and evidence."""
    return _period_page(_period_or_404(period_id))


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/breakdown", methods=["POST"])
@requires("indicator.actual")
def breakdown(project_id, period_id):
    """Save the actual per category with its total (checked against the sum)."""
    period = _period_or_404(period_id)
    form = breakdown_form(period.indicator)
    values = {category.id: form[f"category-{category.id}"].data
              for dimension in period.indicator.dimensions for category in dimension.categories}
    return write(lambda: services.save_breakdown(period, form.total.data, values, form.version.data, current_user),
                 form=form, again=lambda status: _period_page(_period_or_404(period_id), status, breakdown=form),
                 done=lambda _result: _saved(_("Saved the breakdown and the total."),
                                       url_for("results.period", project_id=project_id, period_id=period_id)
                                       + "#breakdown"))


# What each step says once done (translated where shown).
STEP_DONE = {"submit": N_("Submitted for approval."), "approve": N_("Approved: the period is locked."),
             "return": N_("Returned to the officer with your note."),
             "unlock": N_("Unlocked: the period can change again.")}


def _step(period_id: int, action: str):
    period = _period_or_404(period_id)
    form = ReturnForm() if action == "return" else StepForm()
    explanation = getattr(form, "variance_explanation", None)
    return write(lambda: narratives.take_step(period, action, form.version.data, current_user, form.note.data,
                                              explanation.data if explanation is not None else None),
                 form=form, done=lambda _: _step_done(period_id, action),
                 again=lambda status: _step_again(period_id, action, form, status))


def _workflow(period, status=200, trigger=None, **context):
    context.setdefault("step_form", StepForm(formdata=None))
    context.setdefault("return_form", ReturnForm(formdata=None))
    return fragment_response("results/_workflow.html", status, trigger=trigger, period=period,
                             indicator=period.indicator, people=_people(period), **context)


def _step_done(period_id: int, action: str):
    if is_htmx():
        period = _period_or_404(period_id)
        return _workflow(period, message=_(STEP_DONE[action]),
                         trigger={"periodSaved": {"id": period.id, "version": period.version}})
    return _saved(_(STEP_DONE[action]), url_for("results.period", project_id=g.project.id, period_id=period_id)
                  + "#workflow")


def _step_again(period_id: int, action: str, form, status: int):
    period = _period_or_404(period_id)
    forms = {"return_form": form} if action == "return" else {"step_form": form}
    if is_htmx():
        return _workflow(period, status, conflict=status == 409, **forms)
    return _period_page(period, status, **forms)


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/submit", methods=["POST"])
@requires("indicator.submit")
def submit(project_id, period_id):
    """The officer submits the period's actual for approval."""
    return _step(period_id, "submit")


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/approve", methods=["POST"])
@requires("indicator.approve")
def approve(project_id, period_id):
    """A manager approves the period (it is then locked)."""
    return _step(period_id, "approve")


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/return", methods=["POST"])
@requires("indicator.approve")
def return_period(project_id, period_id):
    """A manager returns the period to the officer with a note."""
    return _step(period_id, "return")


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/unlock", methods=["POST"])
@requires("indicator.approve")
def unlock(project_id, period_id):
    """A manager unlocks an approved period."""
    return _step(period_id, "unlock")


# ---------------------------------------------------------------------------------------------
# An indicator: its periods and dimensions (managers)


def _indicator_page(indicator, status=200, period_form=None, dimension_form=None):
    return render_template(
        "results/indicator.html", indicator=indicator,
        progress=services.indicator_progress(indicator, g.project),
        period_form=period_form or PeriodForm(formdata=None),
        dimension_form=dimension_form or DimensionForm(formdata=None),
        step_form=StepForm(formdata=None)), status


def _indicator_url(indicator_id: int, anchor: str = "") -> str:
    return url_for("results.indicator", project_id=g.project.id, indicator_id=indicator_id) + anchor


@bp.route("/projects/<int:project_id>/indicators/<int:indicator_id>")
@requires("project.view")
def indicator(project_id, indicator_id):
    """An indicator: baseline and target, its periods and its disaggregation dimensions."""
    return _indicator_page(_indicator_or_404(indicator_id))


@bp.route("/projects/<int:project_id>/indicators/<int:indicator_id>/periods", methods=["POST"])
@requires("framework.edit")
def add_period(project_id, indicator_id):
    """Add a reporting period (it may not overlap another or leave the project period)."""
    item = _indicator_or_404(indicator_id)
    form = PeriodForm()
    earlier = answer_earlier(form.form_token.data, current_user)
    if earlier is not None:
        return earlier

    def change():
        added = services.add_period(item, form.start_date.data, form.end_date.data, current_user)
        remember_submission(form.form_token.data, current_user, _indicator_url(indicator_id))
        return added

    return write(change,
                 form=form, done=lambda _result: _saved(_("Added the period."), _indicator_url(indicator_id)),
                 again=lambda status: _indicator_page(_indicator_or_404(indicator_id), status, period_form=form))


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/dates", methods=["POST"])
@requires("framework.edit")
def period_dates(project_id, period_id):
    """Change a period's dates."""
    period = _period_or_404(period_id)
    form = PeriodForm()
    return write(lambda: services.change_period_dates(period, form.start_date.data, form.end_date.data,
                                                      form.version.data, current_user),
                 form=form, again=lambda status: _period_page(_period_or_404(period_id), status, dates_form=form),
                 done=lambda _result: _saved(_("Saved the period's dates."),
                                       url_for("results.period", project_id=project_id, period_id=period_id)))


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/delete", methods=["POST"])
@requires("framework.edit")
def delete_period(project_id, period_id):
    """Remove a period without an actual."""
    period = _period_or_404(period_id)
    indicator_id = period.indicator_id
    form = StepForm()
    return write(lambda: services.delete_period(period, form.version.data), form=form,
                 done=lambda _result: _saved(_("Removed the period."), _indicator_url(indicator_id)),
                 again=lambda _status: _refused(form, url_for("results.period", project_id=project_id,
                                                              period_id=period_id)))


@bp.route("/projects/<int:project_id>/indicators/<int:indicator_id>/dimensions", methods=["POST"])
@requires("framework.edit")
def add_dimension(project_id, indicator_id):
    """Declare a disaggregation dimension with its categories."""
    item = _indicator_or_404(indicator_id)
    form = DimensionForm()
    return write(lambda: services.add_dimension(item, form.name.data, form.categories.data), form=form,
                 done=lambda dimension: _saved(_("Added the dimension %(name)s.", name=dimension.name),
                                               _indicator_url(indicator_id, "#dimensions")),
                 again=lambda status: _indicator_page(_indicator_or_404(indicator_id), status, dimension_form=form))


@bp.route("/projects/<int:project_id>/indicators/dimensions/<int:dimension_id>/remove", methods=["POST"])
@requires("framework.edit")
def remove_dimension(project_id, dimension_id):
    """Remove a dimension and the values entered for its categories."""
    dimension = db.session.get(Dimension, dimension_id)
    if dimension is None or dimension.project_id != g.project.id:
        abort(404)
    item = _indicator_or_404(dimension.indicator_id)
    form = StepForm()
    back = _indicator_url(item.id, "#dimensions")
    return write(lambda: services.remove_dimension(item, dimension), form=form,
                 done=lambda _result: _saved(_("Removed the dimension."), back), again=lambda _status: _refused(form, back))


from . import narrative_routes  # noqa: E402,F401  (issue 16's views, registered on bp)
