"""The progress area's public face: activities and their weekly progress logs.

Other areas, tests and the workbook import call the names here (``__all__``). What a week
shows (rows, counters, the week page's lists, the weeks themselves) is read in ``weeks.py``;
changes and the rules of an activity's fields live here, each a function taking plain values
(text typed in a form, or a workbook cell's value), so pages and the import refuse the same
input with the same words:

* ``parse_status`` (a status value or its label), ``parse_percent_complete`` (a whole 0-100),
  ``check_status_and_percent`` (completed is 100%, not started is 0%);
* ``check_activity_fields`` (code, title, dates inside the project and in order, status and
  %) and ``check_activity`` (that, plus the result and a code no other activity has);
* ``create_activity``, ``update_activity``, ``move_activity``, ``log_week``.

Saving a log for a week that already has one updates it (one log per activity per ISO week;
its earlier versions are in the audit trail). A log for the activity's latest logged week
also sets the activity's status and % complete, its actual start (first log that is not
"not started") and its actual end (first "completed" log).

Services flush and never commit; bad input raises ``InputError`` naming the form field it
belongs to, a stale form raises ``ConflictError``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..concurrency import ConflictError, check_version, stamp
from ..extensions import db
from ..formatting import week_range
from ..i18n import LANGUAGES, N_
from ..models import Activity, EvidenceItem, EvidenceLink, ProgressLog, Project, ResultNode
from ..models.progress import ACTIVITY_STATUSES, IN_PROGRESS_STATUSES, STATUS_LABELS
from ..validation import InputError, clean_text, code_key, parse_date, parse_percent
from .weeks import (
    ACTIVITY_PAGE_SIZE,
    ActivityPage,
    ActivityRow,
    Counters,
    activity_page,
    activity_row,
    activity_rows,
    counters,
    default_week,
    due_page,
    due_rows,
    evidence_choices,
    first_week,
    grouped_rows,
    is_in_progress,
    last_week,
    linked_evidence,
    neighbour_weeks,
    normalise_week,
    periods_without_actual,
    periods_without_actual_page,
    queried_evidence,
    queried_evidence_page,
    status_rows,
    summary_text,
    week_in_project,
    week_logs,
    week_logs_page,
    week_or_none,
)

__all__ = [
    "STATUS_LABELS", "ACTIVITY_STATUSES", "IN_PROGRESS_STATUSES",
    # weeks and what they show (weeks.py)
    "first_week", "last_week", "default_week", "normalise_week", "week_or_none", "week_in_project",
    "neighbour_weeks",
    "ActivityRow", "Counters", "status_rows", "is_in_progress", "activity_rows", "grouped_rows", "activity_row",
    "due_rows", "week_logs_page", "periods_without_actual_page", "ACTIVITY_PAGE_SIZE", "ActivityPage", "activity_page", "due_page",
    "counters", "week_logs", "periods_without_actual", "queried_evidence", "queried_evidence_page",
    "evidence_choices",
    "linked_evidence", "summary_text",
    # the rules of an activity's fields (here)
    "parse_status", "parse_percent_complete", "check_status_and_percent", "check_activity_fields",
    "check_activity",
    # changes (here)
    "LogInput", "log_week", "ActivityInput", "activity_result_choices", "create_activity", "update_activity",
    "move_activity", "load_activity",
]

# ---------------------------------------------------------------------------------------------
# The rules of an activity's fields


def _label_forms(label) -> set[str]:
    """A (lazy) label as it is written in every language of the app, casefolded."""
    forms = set()
    for language in LANGUAGES:
        with force_locale(language):
            forms.add(str(label).casefold())
    return forms


def parse_status(raw) -> str:
    """A status as stored (``on_track``) or as shown (``On track``, any case, in any of the app's
    languages: ``Đúng tiến độ``) -> the stored value."""
    text = clean_text(raw)
    if text in STATUS_LABELS:
        return text
    wanted = text.casefold()
    for value, label in STATUS_LABELS.items():
        if wanted == value.casefold() or wanted in _label_forms(label):
            return value
    raise InputError(_("Choose a status from the list (%(choices)s).",
                       choices=", ".join(str(label) for label in STATUS_LABELS.values())), field="status")


PERCENT_MESSAGE = N_("% complete must be a whole number from 0 to 100.")


def parse_percent_complete(raw) -> int | None:
    """'45', '45%', 45 or 45.0 -> 45; None when empty; a whole number from 0 to 100."""
    if isinstance(raw, bool):
        raise InputError(_(PERCENT_MESSAGE), field="percent_complete")
    try:
        value = parse_percent(raw, label="% complete", whole=True)
    except InputError:
        raise InputError(_(PERCENT_MESSAGE), field="percent_complete") from None
    return None if value is None else int(value)


def check_status_and_percent(status, percent) -> tuple[str, int]:
    """The status and % complete of an activity or a log, checked together; returns them parsed."""
    status = parse_status(status)
    percent = parse_percent_complete(percent)
    if percent is None:
        raise InputError(_(PERCENT_MESSAGE), field="percent_complete")
    if status == "completed" and percent != 100:
        raise InputError(_("A completed activity is 100% complete; enter 100 or choose another status."),
                         field="percent_complete")
    if status == "not_started" and percent != 0:
        raise InputError(_("An activity that has not started is 0% complete; enter 0 or choose another status."),
                         field="percent_complete")
    return status, percent


@dataclass
class ActivityInput:
    """An activity's fields as typed or read from a workbook (text, dates or numbers)."""

    result_id: int | None
    code: str
    title: str
    description: str = ""
    planned_start: date | str | None = None
    planned_end: date | str | None = None
    actual_start: date | str | None = None
    actual_end: date | str | None = None
    status: str = "not_started"
    percent_complete: int | str | None = 0
    responsible: str = ""
    locations: str = ""


DATE_LABELS = {"planned_start": N_("The planned start"), "planned_end": N_("The planned end"),
               "actual_start": N_("The actual start"), "actual_end": N_("The actual end")}


def check_activity_fields(data: ActivityInput, *, project_start: date, project_end: date) -> ActivityInput:
    """Every rule of an activity's own fields (no database): returns them cleaned and parsed.

    Code and title are required, dates are ISO dates inside the project period with each end
    after its start, and status and % complete agree.
    """
    code, title = clean_text(data.code), clean_text(data.title)
    if not code:
        raise InputError(_("Give the activity a code, for example %(example)s.", example="A1.6"), field="code")
    if len(code) > 20:
        raise InputError(_("An activity code has at most %(count)s characters.", count=20), field="code")
    if not title:
        raise InputError(_("Give the activity a title."), field="title")
    dates = {}
    for name, label in DATE_LABELS.items():
        try:
            value = parse_date(getattr(data, name), label=_(label))
        except InputError as error:
            raise InputError(str(error), field=name) from None
        if value is not None and not project_start <= value <= project_end:
            raise InputError(_("Dates must fall within the project period (%(start)s to %(end)s).",
                               start=project_start.isoformat(), end=project_end.isoformat()), field=name)
        dates[name] = value
    if dates["planned_start"] and dates["planned_end"] and dates["planned_end"] < dates["planned_start"]:
        raise InputError(_("The planned end is before the planned start."), field="planned_end")
    if dates["actual_start"] and dates["actual_end"] and dates["actual_end"] < dates["actual_start"]:
        raise InputError(_("The actual end is before the actual start."), field="actual_end")
    status, percent = check_status_and_percent(data.status, 0 if data.percent_complete is None
                                               else data.percent_complete)
    return replace(data, code=code, title=title, description=clean_text(data.description), status=status,
                   percent_complete=percent, responsible=clean_text(data.responsible),
                   locations=clean_text(data.locations), **dates)


def check_activity(project: Project, data: ActivityInput, activity: Activity | None = None) -> ActivityInput:
    """``check_activity_fields`` plus the result (one of the project's) and a code no other activity has."""
    result = db.session.get(ResultNode, data.result_id) if isinstance(data.result_id, int) else None
    if result is None or result.project_id != project.id:
        raise InputError(_("Choose the result this activity delivers."), field="result_id")
    data = check_activity_fields(data, project_start=project.start_date, project_end=project.end_date)
    clash = db.session.execute(
        select(Activity.id).where(Activity.project_id == project.id, Activity.code == data.code)
    ).scalar()
    if clash is not None and (activity is None or clash != activity.id):
        raise InputError(_("Another activity already has the code %(code)s; choose another.", code=data.code),
                         field="code")
    return data


# ---------------------------------------------------------------------------------------------
# Changing: weekly logs


@dataclass
class LogInput:
    week: str
    status: str
    percent_complete: int | str | None
    done: str = ""
    problems: str = ""
    next_steps: str = ""
    evidence_ids: tuple[int, ...] = ()


def _existing_log(activity_id: int, week: str) -> ProgressLog | None:
    return db.session.execute(
        select(ProgressLog).where(ProgressLog.activity_id == activity_id, ProgressLog.iso_week == week)
    ).scalar()


def _same_content(log: ProgressLog, data: LogInput) -> bool:
    return (log.status, log.percent_complete, log.done, log.problems, log.next_steps) == (
        data.status, data.percent_complete, data.done, data.problems, data.next_steps)


def _check_log(project: Project, data: LogInput, today: date | None) -> LogInput:
    try:
        week = normalise_week(data.week)
    except InputError as error:
        raise InputError(str(error), field="week") from None
    if not week_in_project(project, week):
        raise InputError(_("Week %(week)s is outside the project period (%(start)s to %(end)s); choose a week "
                           "inside it.", week=week, start=project.start_date.isoformat(),
                           end=project.end_date.isoformat()), field="week")
    if week_range(week)[0] > (today or date.today()):
        raise InputError(_("Week %(week)s has not started yet; log it once it has.", week=week), field="week")
    status, percent = check_status_and_percent(data.status, data.percent_complete)
    return replace(data, week=week, status=status, percent_complete=percent, done=clean_text(data.done),
                   problems=clean_text(data.problems), next_steps=clean_text(data.next_steps))


def log_week(activity: Activity, data: LogInput, user, version=None, *, today: date | None = None) -> ProgressLog:
    """Save what happened on ``activity`` in ``data.week``; a second save of the week updates it.

    ``version`` is the version of the week's log when the form was opened ('' when there was
    none). A log saved by someone else meanwhile is refused with a ConflictError, except an
    identical one (the same form posted twice), which is simply kept. A log inserted by a
    parallel request at the same moment (the unique week) is met the same way.
    """
    data = _check_log(activity.project, data, today)
    log = _existing_log(activity.id, data.week)
    if log is None:
        try:
            with db.session.begin_nested():  # a savepoint: a parallel insert of the week fails alone
                log = _new_log(activity, data, user)
        except IntegrityError:
            log = _existing_log(activity.id, data.week)
            if log is None:
                raise
            if not _same_content(log, data):
                raise _saved_meanwhile(log, activity, data.week) from None
            _link_evidence(activity, data.evidence_ids)
            return log
    elif version in (None, "", "0"):
        if not _same_content(log, data):
            raise _saved_meanwhile(log, activity, data.week)
        _link_evidence(activity, data.evidence_ids)  # the same form posted twice: kept as it is
        return log
    else:
        check_version(log, version, _("The log for %(code)s, week %(week)s,", code=activity.code, week=data.week))
        _fill_log(log, data, user)
        db.session.flush()
    _follow_latest_log(activity, log, user)
    _link_evidence(activity, data.evidence_ids)
    db.session.flush()
    return log


def _saved_meanwhile(log: ProgressLog, activity: Activity, week: str) -> ConflictError:
    who = log.author.name if log.author else _("someone else")
    when = log.updated_at.strftime("%Y-%m-%d %H:%M UTC") if log.updated_at else _("just now")
    return ConflictError(_("%(who)s saved a log for %(code)s, week %(week)s, on %(when)s, after you opened the "
                           "form. Yours was not saved; reload to see theirs, then make your changes again.",
                           who=who, code=activity.code, week=week, when=when))


def _new_log(activity: Activity, data: LogInput, user) -> ProgressLog:
    log = ProgressLog(project_id=activity.project_id, activity_id=activity.id, iso_week=data.week,
                      week_start=week_range(data.week)[0], author_id=getattr(user, "id", None))
    _fill_log(log, data, user)
    db.session.add(log)
    db.session.flush()
    return log


def _fill_log(log: ProgressLog, data: LogInput, user) -> None:
    log.status, log.percent_complete = data.status, data.percent_complete
    log.done, log.problems, log.next_steps = data.done, data.problems, data.next_steps
    if log.author_id is None:
        log.author_id = getattr(user, "id", None)
    stamp(log, user)


def _follow_latest_log(activity: Activity, log: ProgressLog, user) -> None:
    """The latest logged week sets the activity's status, % complete and actual dates."""
    latest = db.session.execute(
        select(func.max(ProgressLog.week_start)).where(ProgressLog.activity_id == activity.id)
    ).scalar()
    if latest is not None and log.week_start < latest:
        return
    project = activity.project
    changed = (activity.status, activity.percent_complete) != (log.status, log.percent_complete)
    activity.status, activity.percent_complete = log.status, log.percent_complete
    if log.status not in ("not_started", "cancelled") and activity.actual_start is None:
        activity.actual_start = max(log.week_start, project.start_date)
        changed = True
    if log.status == "completed" and activity.actual_end is None:
        activity.actual_end = min(log.week_start + timedelta(days=6), project.end_date)
        changed = True
    if changed:
        stamp(activity, user)


def _link_evidence(activity: Activity, evidence_ids) -> None:
    """Link the chosen evidence items to the activity (links that exist are kept as they are)."""
    wanted = {int(i) for i in evidence_ids or ()}
    if not wanted:
        return
    valid = set(db.session.execute(
        select(EvidenceItem.id).where(EvidenceItem.id.in_(wanted), EvidenceItem.project_id == activity.project_id,
                                      EvidenceItem.deleted_at.is_(None))
    ).scalars())
    if valid != wanted:
        raise InputError(_("Choose evidence items of this project from the list."), field="evidence")
    linked = set(db.session.execute(
        select(EvidenceLink.evidence_id).where(EvidenceLink.activity_id == activity.id,
                                               EvidenceLink.evidence_id.in_(wanted))
    ).scalars())
    for evidence_id in sorted(wanted - linked):
        db.session.add(EvidenceLink(project_id=activity.project_id, evidence_id=evidence_id,
                                    activity_id=activity.id))


# ---------------------------------------------------------------------------------------------
# Changing: activities (managers)


def activity_result_choices(project: Project) -> list[tuple[int, str]]:
    """The project's results in code order, as (id, 'code statement') for the activity form."""
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    return [(r.id, f"{r.code} {r.statement[:90]}{'…' if len(r.statement) > 90 else ''}") for r in results]


def _apply(activity: Activity, data: ActivityInput) -> None:
    activity.result_id = data.result_id
    activity.code, activity.title, activity.description = data.code, data.title, data.description
    activity.planned_start, activity.planned_end = data.planned_start, data.planned_end
    activity.actual_start, activity.actual_end = data.actual_start, data.actual_end
    activity.status, activity.percent_complete = data.status, data.percent_complete
    activity.responsible, activity.locations = data.responsible, data.locations


def create_activity(project: Project, data: ActivityInput, user) -> Activity:
    """Add an activity at the end of its result's list (every field checked by ``check_activity``)."""
    data = check_activity(project, data)
    last = db.session.execute(
        select(func.max(Activity.position)).where(Activity.project_id == project.id)
    ).scalar()
    activity = Activity(project_id=project.id, position=(last if last is not None else -1) + 1)
    _apply(activity, data)
    stamp(activity, user)
    db.session.add(activity)
    db.session.flush()
    return activity


def update_activity(activity: Activity, data: ActivityInput, version, user) -> Activity:
    """Change an activity, refusing a form opened before someone else's save."""
    check_version(activity, version, _("Activity %(code)s", code=activity.code))
    data = check_activity(activity.project, data, activity)
    _apply(activity, data)
    stamp(activity, user)
    db.session.flush()
    return activity


def move_activity(activity: Activity, direction: str, user) -> bool:
    """Swap the activity with its neighbour under the same result; False when it cannot move."""
    if direction not in ("up", "down"):
        raise InputError(_("Move an activity up or down."))
    siblings = db.session.execute(
        select(Activity).where(Activity.project_id == activity.project_id, Activity.result_id == activity.result_id)
    ).scalars().all()
    siblings.sort(key=lambda a: (a.position, code_key(a.code)))
    index = siblings.index(activity)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(siblings):
        return False
    other = siblings[other_index]
    if other.position == activity.position:  # equal positions: spread them out first
        for position, sibling in enumerate(siblings):
            sibling.position = siblings[0].position + position
    activity.position, other.position = other.position, activity.position
    stamp(activity, user)
    stamp(other, user)
    db.session.flush()
    return True


def load_activity(project: Project, activity_id: int) -> Activity | None:
    """The project's activity with that id (None for another project's or a missing one)."""
    return db.session.execute(
        select(Activity).where(Activity.id == activity_id, Activity.project_id == project.id)
        .options(joinedload(Activity.result))
    ).scalar()
