"""Narratives: what a period's figure means, and what a result achieved in a reporting period.

Two kinds of text (issue 16):

* a **period narrative** and a **variance explanation** on each indicator period
  (``IndicatorPeriod.narrative`` / ``.variance_explanation``): what happened in the period, and
  why the actual is off target;
* a **result narrative** per reporting period (``ResultNarrative``): what changed, why, what
  next. The reporting periods are the date ranges of the project's indicator periods, so a
  result narrative is keyed by the result and the period's start and end dates.

The rules:

* **When a variance needs explaining.** A period is *off target* when its actual, as a % of its
  target (``values.percent_of_target``: actual ÷ target, target ÷ actual where less is better),
  is below the project's *at risk* threshold (``Project.at_risk_pct``, default 60%): the same
  line below which the grid shows the indicator as off track. Submitting such a period requires
  a variance explanation (``check_variance_explained``, called by ``workflow.submit_period``,
  so a single submit and a bulk submit refuse it alike). Qualitative indicators, and periods
  without both a target and an actual, never need one. Exceeding the target needs no
  explanation (a narrative may still say why).
* **Locked with the period.** A period's narrative and explanation change only while the period
  is not approved (``workflow.check_unlocked``). A result's narrative for a reporting period is
  locked once every indicator period of that result with those dates is approved (and there is
  at least one); for a result without indicators of its own (the objective) the project's
  periods with those dates decide.
* **Concurrent edits.** Saves carry the version the form was opened with: a period's narrative
  its period's version, a result narrative its own (``0`` when none existed yet); a stale form
  is refused with ``ConflictError`` (409).
* Each text is at most ``MAX_NARRATIVE`` characters. Every change is in the audit trail through
  the session hook (both tables are ``__audit__``).

Read API (one query each) for pages, exports and the progress report: ``period_narratives``,
``result_narratives``, ``reporting_periods``, ``latest_result_narratives``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from ..concurrency import ConflictError, check_version, stamp
from ..extensions import db
from ..models import Indicator, IndicatorPeriod, Project, ResultNarrative, ResultNode
from ..validation import InputError, clean_text, parse_date
from .values import percent_of_target, period_label
from .workflow import LockedError, check_unlocked, describe

MAX_NARRATIVE = 4000


# --- reading ---------------------------------------------------------------------------------


def period_narratives(project_id: int) -> dict[int, tuple[str, str]]:
    """``{period_id: (narrative, variance_explanation)}`` for the project's periods that have
    either text (periods with neither are left out). One query."""
    rows = db.session.execute(
        select(IndicatorPeriod.id, IndicatorPeriod.narrative, IndicatorPeriod.variance_explanation)
        .where(IndicatorPeriod.project_id == project_id,
               (IndicatorPeriod.narrative != "") | (IndicatorPeriod.variance_explanation != "")))
    return {row.id: (row.narrative, row.variance_explanation) for row in rows}


def result_narratives(project_id: int) -> dict[tuple[int, date, date], str]:
    """``{(result_id, start_date, end_date): text}`` for the project's non-empty result
    narratives. One query."""
    rows = db.session.execute(
        select(ResultNarrative.result_id, ResultNarrative.start_date, ResultNarrative.end_date, ResultNarrative.text)
        .where(ResultNarrative.project_id == project_id, ResultNarrative.text != ""))
    return {(row.result_id, row.start_date, row.end_date): row.text for row in rows}


def reporting_periods(project_id: int) -> list[tuple[date, date]]:
    """The project's reporting periods: the distinct (start, end) of its indicator periods, in
    date order. One query."""
    rows = db.session.execute(
        select(IndicatorPeriod.start_date, IndicatorPeriod.end_date)
        .where(IndicatorPeriod.project_id == project_id).distinct()
        .order_by(IndicatorPeriod.start_date, IndicatorPeriod.end_date))
    return [(row.start_date, row.end_date) for row in rows]


def latest_result_narratives(project_id: int) -> dict[int, tuple[date, date, str]]:
    """``{result_id: (start, end, text)}``: each result's non-empty narrative of its latest
    reporting period (by end date), for the overview. One query."""
    latest = (select(ResultNarrative.result_id, func.max(ResultNarrative.end_date).label("end_date"))
              .where(ResultNarrative.project_id == project_id, ResultNarrative.text != "")
              .group_by(ResultNarrative.result_id).subquery())
    rows = db.session.execute(
        select(ResultNarrative.result_id, ResultNarrative.start_date, ResultNarrative.end_date, ResultNarrative.text)
        .join(latest, and_(latest.c.result_id == ResultNarrative.result_id,
                           latest.c.end_date == ResultNarrative.end_date))
        .where(ResultNarrative.text != "")
        .order_by(ResultNarrative.start_date))
    return {row.result_id: (row.start_date, row.end_date, row.text) for row in rows}


# --- the variance rule -----------------------------------------------------------------------


def off_target(period: IndicatorPeriod, project: Project) -> bool:
    """True when the period's actual is below the project's *at risk* % of its target."""
    indicator = period.indicator
    if indicator.unit == "qualitative":
        return False
    pct = percent_of_target(period.actual, period.target, indicator.ascending)
    return pct is not None and pct < Decimal(project.at_risk_pct)


def explanation_required(period: IndicatorPeriod, project: Project | None = None) -> bool:
    """True when submitting the period needs a variance explanation it does not have yet."""
    project = project if project is not None else db.session.get(Project, period.project_id)
    return off_target(period, project) and not period.variance_explanation.strip()


def check_variance_explained(period: IndicatorPeriod, project: Project | None = None) -> None:
    """Refuse to submit an off-target period without a variance explanation (on its field)."""
    project = project if project is not None else db.session.get(Project, period.project_id)
    if off_target(period, project) and not period.variance_explanation.strip():
        pct = percent_of_target(period.actual, period.target, period.indicator.ascending)
        raise InputError(
            _("%(what)s is %(pct)s%% of its target, below the project's %(threshold)s%% threshold: explain the "
              "variance before submitting the period.",
              what=describe(period, "actual"), pct=f"{pct:.0f}", threshold=f"{Decimal(project.at_risk_pct):.0f}"),
            field="variance_explanation")


# --- changing --------------------------------------------------------------------------------


def _text(raw, field: str, label: str) -> str:
    text = clean_text(raw or "")
    if len(text) > MAX_NARRATIVE:
        raise InputError(_("%(label)s is too long (at most %(limit)s characters).", label=label,
                           limit=f"{MAX_NARRATIVE:,}"), field=field)
    return text


def save_period_narrative(period: IndicatorPeriod, narrative, variance_explanation, version, user) -> IndicatorPeriod:
    """Set a period's narrative and variance explanation (``None`` leaves one as it is).

    ``version`` (from a page's form) refuses a stale form with ``ConflictError``; the import
    passes ``None``. An approved period is locked (``LockedError``).
    """
    if version is not None:
        check_version(period, version, describe(period, "narrative"))
    check_unlocked(period)
    errors, values = {}, {}
    for name, raw, label in (("narrative", narrative, _("The narrative")),
                             ("variance_explanation", variance_explanation, _("The variance explanation"))):
        if raw is None:
            continue
        try:
            values[name] = _text(raw, name, label)
        except InputError as error:
            errors.update(error.errors)
    if errors:
        raise InputError(errors=errors)
    for name, value in values.items():
        setattr(period, name, value)
    stamp(period, user)
    db.session.flush()
    return period


def load_result_narrative(result: ResultNode, start: date, end: date) -> ResultNarrative | None:
    return db.session.execute(select(ResultNarrative).where(
        ResultNarrative.result_id == result.id, ResultNarrative.start_date == start,
        ResultNarrative.end_date == end)).scalar_one_or_none()


def result_period_locked(result: ResultNode, start: date, end: date) -> bool:
    """True when the result's narrative for (start, end) is locked (see the module's rules)."""
    own = select(IndicatorPeriod.state).join(Indicator, Indicator.id == IndicatorPeriod.indicator_id).where(
        Indicator.result_id == result.id, IndicatorPeriod.start_date == start, IndicatorPeriod.end_date == end)
    states = db.session.execute(own).scalars().all()
    if not states:
        states = db.session.execute(select(IndicatorPeriod.state).where(
            IndicatorPeriod.project_id == result.project_id, IndicatorPeriod.start_date == start,
            IndicatorPeriod.end_date == end)).scalars().all()
    return bool(states) and all(state == "approved" for state in states)


def parse_reporting_period(project_id: int, start_raw, end_raw) -> tuple[date, date]:
    """Read a reporting period's dates; it must be one of the project's indicator periods' ranges."""
    start, end = parse_date(start_raw, label=_("The start")), parse_date(end_raw, label=_("The end"))
    if start is None or end is None or (start, end) not in reporting_periods(project_id):
        if start is None or end is None:
            raise InputError(_("Choose a reporting period."), field="start_date")
        raise InputError(_("%(start)s – %(end)s is not one of the project's reporting periods (the indicator "
                           "periods' dates).", start=start.isoformat(), end=end.isoformat()), field="start_date")
    return start, end


def reporting_period_or_none(project_id: int, start_raw, end_raw) -> tuple[date, date] | None:
    """``parse_reporting_period`` for a view redrawing a refused form: None instead of an error."""
    try:
        return parse_reporting_period(project_id, start_raw, end_raw)
    except InputError:
        return None


def save_result_narrative(result: ResultNode, start: date, end: date, text, version, user) -> ResultNarrative:
    """Set a result's narrative for the reporting period (start, end), creating it if needed.

    ``version`` is the narrative's version the form was opened with (``0`` or ``""`` when there
    was none); ``None`` (the import) skips the check. Refused when the reporting period is
    locked for this result.
    """
    what = _("The narrative of %(code)s for %(period)s", code=result.code, period=period_label(start, end))
    row = load_result_narrative(result, start, end)
    if version is not None:
        if row is None:
            if str(version).strip() not in ("", "0"):
                raise ConflictError(_("%(what)s was removed after you opened it; reload and try again.", what=what))
        else:
            check_version(row, version, what)
    if result_period_locked(result, start, end):
        raise LockedError(_("%(what)s is locked: every indicator period of %(period)s is approved. A manager must "
                            "unlock one before it can change. Nothing was saved.", what=what,
                            period=period_label(start, end)))
    value = _text(text, "text", _("The narrative"))
    if row is None:
        row = ResultNarrative(project_id=result.project_id, result_id=result.id, start_date=start, end_date=end,
                              text=value)
        db.session.add(row)
    else:
        row.text = value
    stamp(row, user)
    db.session.flush()
    return row


def take_step(period: IndicatorPeriod, action: str, version, user, note: str = "",
              variance_explanation=None) -> IndicatorPeriod:
    """A workflow step (``workflow.take_step``); a submit may carry the variance explanation
    typed in the submit form, saved with the submit in one change (one version step)."""
    from .workflow import take_step as step

    if action == "submit" and variance_explanation is not None and clean_text(variance_explanation):
        check_version(period, version, describe(period, "period"))
        check_unlocked(period)
        period.variance_explanation = _text(variance_explanation, "variance_explanation",
                                            _("The variance explanation"))
    return step(period, action, version, user, note)


def narratives_by_result(project_id: int) -> dict[int, list[tuple[date, date, str]]]:
    """``{result_id: [(start, end, text), ...]}`` in date order, the non-empty result narratives
    (the logframe's compact column). One query."""
    found: dict[int, list[tuple[date, date, str]]] = {}
    for (result_id, start, end), text in sorted(result_narratives(project_id).items(),
                                                key=lambda item: (item[0][1], item[0][2])):
        found.setdefault(result_id, []).append((start, end, text))
    return found
