"""Narrative views (issue 16): a period's narrative and variance explanation, a result's
narrative per reporting period. Registered on the results blueprint (imported by routes.py).

Each is a fragment with its own form (``results/_period_narrative.html``,
``results/_result_narrative.html``) that htmx posts and swaps in place; without JavaScript the
same form posts and is answered with a 303 back to its page (or the page with the errors).
Saving goes through ``htmx.write``: 422 with the messages next to the fields, 409 for a form
opened on an older version, what was typed kept either way.
"""

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..htmx import fragment_response, is_htmx, last_errors, write
from ..models import ResultNode
from ..permissions import requires
from . import narratives
from .forms import PeriodNarrativeForm, ResultNarrativeForm
from .routes import _period_or_404, _period_page, bp


@bp.app_context_processor
def narrative_helpers():
    """``narr`` in templates: the narrative rules and read API (tracker/results/narratives.py)."""
    return {"narr": narratives}


# --- a period's narrative ---------------------------------------------------------------------


def _narrative_form(period) -> PeriodNarrativeForm:
    form = PeriodNarrativeForm(formdata=None)
    form.narrative.data = period.narrative
    form.variance_explanation.data = period.variance_explanation
    form.version.data = str(period.version)
    return form


@bp.route("/projects/<int:project_id>/indicators/periods/<int:period_id>/narrative", methods=["POST"])
@requires("indicator.actual")
def period_narrative(project_id, period_id):
    """Save a period's progress narrative and variance explanation (locked once approved)."""
    period = _period_or_404(period_id)
    form = PeriodNarrativeForm()
    return write(lambda: narratives.save_period_narrative(period, form.narrative.data, form.variance_explanation.data,
                                                          form.version.data, current_user),
                 form=form, done=lambda _result: _narrative_saved(period_id),
                 again=lambda status: _narrative_again(period_id, form, status))


def _narrative_saved(period_id: int):
    message = _("Saved the narrative.")
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("results.period", project_id=g.project.id, period_id=period_id) + "#narrative", 303)
    period = _period_or_404(period_id)
    return fragment_response("results/_period_narrative.html", period=period, indicator=period.indicator,
                             narrative_form=_narrative_form(period), message=message,
                             trigger={"periodSaved": {"id": period.id, "version": period.version}})


def _narrative_again(period_id: int, form, status: int):
    period = _period_or_404(period_id)
    if is_htmx():
        return fragment_response("results/_period_narrative.html", status, period=period, indicator=period.indicator,
                                 narrative_form=form, conflict=status == 409)
    return _period_page(period, status, narrative_form=form, narrative_conflict=status == 409)


# --- a result's narratives per reporting period ------------------------------------------------


def _result_or_404(result_id: int) -> ResultNode:
    result = db.session.get(ResultNode, result_id)
    if result is None or result.project_id != g.project.id:
        abort(404)
    return result


def _result_form(result, start, end, row=None) -> ResultNarrativeForm:
    form = ResultNarrativeForm(formdata=None)
    form.start_date.data, form.end_date.data = start.isoformat(), end.isoformat()
    form.text.data = row.text if row is not None else ""
    form.version.data = str(row.version if row is not None else 0)
    return form


def _entries(result, failed=None, status=200):
    """One entry per reporting period: (start, end, row, form, locked, conflict)."""
    rows = {(row.start_date, row.end_date): row for row in db.session.execute(
        db.select(narratives.ResultNarrative).where(narratives.ResultNarrative.result_id == result.id)).scalars()}
    entries = []
    for start, end in narratives.reporting_periods(g.project.id):
        row = rows.get((start, end))
        form = failed[0] if failed and failed[1] == (start, end) else _result_form(result, start, end, row)
        entries.append({"start": start, "end": end, "row": row, "form": form,
                        "locked": narratives.result_period_locked(result, start, end),
                        "conflict": bool(failed and failed[1] == (start, end) and status == 409)})
    return entries


@bp.route("/projects/<int:project_id>/results/<int:result_id>/narratives")
@requires("project.view")
def result_narratives(project_id, result_id):
    """A result's narrative for each reporting period, each edited in place."""
    result = _result_or_404(result_id)
    return render_template("results/result_narratives.html", result=result, entries=_entries(result))


@bp.route("/projects/<int:project_id>/results/<int:result_id>/narrative", methods=["POST"])
@requires("indicator.actual")
def save_result_narrative(project_id, result_id):
    """Save a result's narrative for one reporting period (locked once its periods are approved)."""
    result = _result_or_404(result_id)
    form = ResultNarrativeForm()

    def change():
        start, end = narratives.parse_reporting_period(g.project.id, form.start_date.data, form.end_date.data)
        return narratives.save_result_narrative(result, start, end, form.text.data, form.version.data or "",
                                                current_user)

    return write(change, form=form, done=lambda row: _result_saved(result_id, row),
                 again=lambda status: _result_again(result_id, form, status))


def _entry_anchor(start) -> str:
    return f"#narrative-{start.isoformat()}"


def _result_saved(result_id: int, row):
    message = _("Saved the narrative.")
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("results.result_narratives", project_id=g.project.id, result_id=result_id)
                        + _entry_anchor(row.start_date), 303)
    result = _result_or_404(result_id)
    entry = {"start": row.start_date, "end": row.end_date, "row": row,
             "form": _result_form(result, row.start_date, row.end_date, row),
             "locked": narratives.result_period_locked(result, row.start_date, row.end_date), "conflict": False}
    return fragment_response("results/_result_narrative.html", result=result, entry=entry, message=message)


def _result_again(result_id: int, form, status: int):
    result = _result_or_404(result_id)
    chosen = narratives.reporting_period_or_none(g.project.id, form.start_date.data, form.end_date.data)
    if chosen is None:  # a form naming no reporting period (tampered or outdated): the page, with why
        return render_template("results/result_narratives.html", result=result, entries=_entries(result),
                               problem=" ".join(last_errors()) or _("Choose a reporting period.")), status
    start, end = chosen
    entries = _entries(result, failed=(form, (start, end)), status=status)
    if is_htmx():
        entry = next(e for e in entries if (e["start"], e["end"]) == (start, end))
        return fragment_response("results/_result_narrative.html", status, result=result, entry=entry)
    return render_template("results/result_narratives.html", result=result, entries=entries), status
