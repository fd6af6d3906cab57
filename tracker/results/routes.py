"""The indicator grid (targets and actuals per period), the period page and its approval steps.

Grid cells are saved one at a time: htmx swaps the cell (``results/_cell.html``) and the
indicator's "to date" summary out of band, and tells the page the period's new version
(``HX-Trigger: periodSaved``) so the period's other cell stays current. Without JavaScript
each cell is a small form: POST, then 303 back to the grid (or a page with the error).
"""

import json
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..concurrency import ConflictError
from ..evidence.services import evidence_for
from ..extensions import db
from ..formatting import number
from ..validation import InputError
from ..htmx import is_htmx
from ..models import Dimension, User
from ..permissions import requires
from . import services
from .forms import CellForm, DimensionForm, PeriodForm, ReturnForm, StepForm, ThresholdsForm

bp = Blueprint("results", __name__)


@bp.app_context_processor
def indicator_helpers():
    """``ind`` in templates: value display, period labels and the overview's chart."""
    return {"ind": services}


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
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else default


def _grid_url(**values) -> str:
    return url_for("results.grid", project_id=g.project.id, **{k: v for k, v in values.items() if v})


def _back_to_grid(anchor: str = "") -> str:
    """Where a plain (no-JS) save returns: the grid page it came from, else the grid."""
    referrer = request.referrer or ""
    grid = url_for("results.grid", project_id=g.project.id)
    parts = urlsplit(referrer)
    if parts.netloc in ("", request.host) and parts.path == grid:
        return f"{grid}?{parts.query}#{anchor}" if parts.query else f"{grid}#{anchor}"
    return f"{grid}#{anchor}"


def _html(html: str, status: int = 200, trigger: dict | None = None) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Vary"] = "HX-Request"
    if trigger:
        response.headers["HX-Trigger"] = json.dumps(trigger)
    return response


# ---------------------------------------------------------------------------------------------
# The grid


def _grid_page(status: int = 200, thresholds_form=None):
    grid = services.load_grid(g.project, _int_arg("result"), _int_arg("page", 1))
    if thresholds_form is None:
        thresholds_form = ThresholdsForm(formdata=None)
        thresholds_form.on_track_pct.data = number(g.project.on_track_pct)
        thresholds_form.at_risk_pct.data = number(g.project.at_risk_pct)
    return render_template("results/grid.html", grid=grid, thresholds_form=thresholds_form), status


@bp.route("/projects/<int:project_id>/indicators")
@requires("project.view")
def grid(project_id):
    """Indicators × periods: targets (managers) and actuals (officers) edited in place.

    Paged by indicator and filtered by result so a large framework stays usable.
    """
    return _grid_page()


@bp.route("/projects/<int:project_id>/indicators/thresholds", methods=["POST"])
@requires("project.edit")
def thresholds(project_id):
    """A manager sets the % of target at which indicators count as on track / at risk."""
    form = ThresholdsForm()
    if form.validate():
        try:
            services.set_thresholds(g.project, form.on_track_pct.data, form.at_risk_pct.data)
        except InputError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Saved the status thresholds.", "success")
            return redirect(url_for("results.grid", project_id=project_id) + "#thresholds", 303)
    return _grid_page(422, form)


def _field_error(form, error: Exception) -> int:
    if isinstance(error, ConflictError):
        form.form_errors.append(str(error))
        return 409
    field = getattr(error, "field", None)
    if field and field in form:
        form[field].errors = list(form[field].errors) + [str(error)]
    else:
        form.form_errors.append(str(error))
    return 422


def _save_cell(period_id: int, kind: str):
    period = _period_or_404(period_id)
    form = CellForm()
    save = services.save_target if kind == "target" else services.save_actual
    error, status = None, 422
    if form.validate():
        try:
            save(period, form.value.data, form.version.data, current_user)
        except ConflictError as conflict:
            db.session.rollback()
            error, status = str(conflict), 409
        except InputError as bad:
            db.session.rollback()
            error = str(bad)
        else:
            db.session.commit()
            anchor = f"cell-{period.id}-{kind}"
            if not is_htmx():
                return redirect(_back_to_grid(anchor), 303)
            period = _period_or_404(period_id)
            indicator = services.load_indicator(g.project, period.indicator_id)
            html = render_template("results/_cell_response.html", period=period, indicator=indicator, kind=kind,
                                   progress=services.indicator_progress(indicator, g.project))
            return _html(html, trigger={"periodSaved": {"id": period.id, "version": period.version}})
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    db.session.rollback()
    period = _period_or_404(period_id)
    context = dict(period=period, cells=[period], indicator=period.indicator, kind=kind, raw=form.value.data or "",
                   error=error, conflict=status == 409)
    if is_htmx():
        return _html(render_template("results/_cell.html", **context), status)
    return render_template("results/cell_page.html", back_url=_back_to_grid(f"cell-{period.id}-{kind}"),
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


def _period_page(period, status=200, **forms):
    forms.setdefault("step_form", StepForm(formdata=None))
    forms.setdefault("return_form", ReturnForm(formdata=None))
    forms.setdefault("dates_form", _dates_form(period))
    forms.setdefault("breakdown_errors", {})
    forms.setdefault("breakdown_raw", None)
    evidence = evidence_for(period.project_id, periods=[period.id]).period(period.id)
    people = _people(period)
    return render_template("results/period.html", period=period, indicator=period.indicator, evidence=evidence,
                           people=people, **forms), status


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
    form = StepForm()
    raw = {key: value for key, value in request.form.items() if key.startswith("category-") or key == "total"}
    values = {}
    for key, value in raw.items():
        if key.startswith("category-") and key[9:].isdigit():
            values[int(key[9:])] = value
    errors = {}
    status = 422
    if form.validate():
        try:
            services.save_breakdown(period, raw.get("total"), values, form.version.data, current_user)
        except ConflictError as conflict:
            errors["_form"], status = str(conflict), 409
        except InputError as error:
            errors[getattr(error, "field", "_form")] = str(error)
        else:
            db.session.commit()
            flash("Saved the breakdown and the total.", "success")
            return redirect(url_for("results.period", project_id=project_id, period_id=period_id) + "#breakdown",
                            303)
    db.session.rollback()
    return _period_page(_period_or_404(period_id), status, breakdown_errors=errors, breakdown_raw=raw)


def _step(period_id: int, action: str):
    period = _period_or_404(period_id)
    form = ReturnForm() if action == "return" else StepForm()
    status = 422
    if form.validate():
        try:
            if action == "submit":
                services.submit_period(period, form.version.data, current_user)
            elif action == "approve":
                services.approve_period(period, form.version.data, current_user)
            elif action == "return":
                services.return_period(period, form.note.data, form.version.data, current_user)
            else:
                services.unlock_period(period, form.version.data, current_user, form.note.data)
        except (InputError, ConflictError) as error:
            db.session.rollback()
            status = _field_error(form, error)
        else:
            db.session.commit()
            done = {"submit": "Submitted for approval.", "approve": "Approved: the period is locked.",
                    "return": "Returned to the officer with your note.",
                    "unlock": "Unlocked: the period can change again."}[action]
            if is_htmx():
                period = _period_or_404(period_id)
                html = render_template("results/_workflow.html", period=period, indicator=period.indicator,
                                       step_form=StepForm(formdata=None), return_form=ReturnForm(formdata=None),
                                       people=_people(period), message=done)
                return _html(html, trigger={"periodSaved": {"id": period.id, "version": period.version}})
            flash(done, "success")
            return redirect(url_for("results.period", project_id=g.project.id, period_id=period_id) + "#workflow",
                            303)
    db.session.rollback()
    period = _period_or_404(period_id)
    forms = {"return_form": form} if action == "return" else {"step_form": form}
    if is_htmx():
        forms.setdefault("step_form", StepForm(formdata=None))
        forms.setdefault("return_form", ReturnForm(formdata=None))
        html = render_template("results/_workflow.html", period=period, indicator=period.indicator,
                               people=_people(period), conflict=status == 409, **forms)
        return _html(html, status)
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


def _indicator_page(indicator, status=200, period_form=None, dimension_form=None, dates_errors=None):
    return render_template(
        "results/indicator.html", indicator=indicator,
        progress=services.indicator_progress(indicator, g.project),
        period_form=period_form or PeriodForm(formdata=None),
        dimension_form=dimension_form or DimensionForm(formdata=None),
        step_form=StepForm(formdata=None), dates_errors=dates_errors or {}), status


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
    status = 422
    if form.validate():
        try:
            services.add_period(item, form.start_date.date, form.end_date.date, current_user)
        except InputError as error:
            db.session.rollback()
            status = _field_error(form, error)
        else:
            db.session.commit()
            flash("Added the period.", "success")
            return redirect(url_for("results.indicator", project_id=project_id, indicator_id=indicator_id), 303)
    return _indicator_page(_indicator_or_404(indicator_id), status, period_form=form)


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/dates", methods=["POST"])
@requires("framework.edit")
def period_dates(project_id, period_id):
    """Change a period's dates."""
    period = _period_or_404(period_id)
    form = PeriodForm()
    status = 422
    if form.validate():
        try:
            services.change_period_dates(period, form.start_date.date, form.end_date.date, form.version.data,
                                         current_user)
        except (InputError, ConflictError) as error:
            db.session.rollback()
            status = _field_error(form, error)
        else:
            db.session.commit()
            flash("Saved the period's dates.", "success")
            return redirect(url_for("results.period", project_id=project_id, period_id=period_id), 303)
    db.session.rollback()
    return _period_page(_period_or_404(period_id), status, dates_form=form)


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/delete", methods=["POST"])
@requires("framework.edit")
def delete_period(project_id, period_id):
    """Remove a period without an actual."""
    period = _period_or_404(period_id)
    indicator_id = period.indicator_id
    form = StepForm()
    if form.validate():
        try:
            services.delete_period(period, form.version.data)
        except (InputError, ConflictError) as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("results.period", project_id=project_id, period_id=period_id), 303)
        db.session.commit()
        flash("Removed the period.", "success")
    return redirect(url_for("results.indicator", project_id=project_id, indicator_id=indicator_id), 303)


@bp.route("/projects/<int:project_id>/indicators/<int:indicator_id>/dimensions", methods=["POST"])
@requires("framework.edit")
def add_dimension(project_id, indicator_id):
    """Declare a disaggregation dimension with its categories."""
    item = _indicator_or_404(indicator_id)
    form = DimensionForm()
    status = 422
    if form.validate():
        try:
            services.add_dimension(item, form.name.data, form.categories.data)
        except InputError as error:
            db.session.rollback()
            status = _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Added the dimension {form.name.data.strip()}.", "success")
            return redirect(url_for("results.indicator", project_id=project_id, indicator_id=indicator_id)
                            + "#dimensions", 303)
    return _indicator_page(_indicator_or_404(indicator_id), status, dimension_form=form)


@bp.route("/projects/<int:project_id>/indicators/dimensions/<int:dimension_id>/remove", methods=["POST"])
@requires("framework.edit")
def remove_dimension(project_id, dimension_id):
    """Remove a dimension and the values entered for its categories."""
    dimension = db.session.get(Dimension, dimension_id)
    if dimension is None or dimension.project_id != g.project.id:
        abort(404)
    item = _indicator_or_404(dimension.indicator_id)
    if StepForm().validate():
        try:
            services.remove_dimension(item, dimension)
        except InputError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Removed the dimension.", "success")
    return redirect(url_for("results.indicator", project_id=project_id, indicator_id=item.id) + "#dimensions", 303)
