"""Rules of activities and their weekly progress logs, and what "this week" shows.

Weeks are ISO weeks written ``2016-W47``. A week *belongs to the project* when any of its
days falls inside the project period; logs for other weeks are refused.

The **default week** (``/projects/<id>/week`` without a week, and the activities page) is
the current ISO week clamped into the project period: a running project opens on this
week, a finished one on its last week and one not yet started on its first week. The demo
(2016-2017) therefore opens on 2017-W52, where activities still in progress and indicator
periods without an actual are waiting.

An activity is **in progress** when its status is on track, at risk or delayed; it is **due**
a log for a week when it is in progress, has started by the end of that week (actual start,
else planned start; no date counts as started) and has no log for that week.

Saving a log for a week that already has one updates it (one log per activity per ISO week;
its earlier versions are in the audit trail). A log for the activity's latest logged week
also sets the activity's status and % complete, its actual start (first log that is not
"not started") and its actual end (first "completed" log).

Services flush and never commit; bad input raises ``FieldError`` (an ``InputError`` that
names the form field it belongs to) and a stale form raises ``ConflictError``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from ..concurrency import ConflictError, check_version, stamp
from ..extensions import db
from ..formatting import iso_week, week_range, week_start
from ..validation import InputError
from ..models import (
    Activity,
    EvidenceItem,
    EvidenceLink,
    Indicator,
    IndicatorPeriod,
    ProgressLog,
    Project,
    ResultNode,
)
from ..models.progress import ACTIVITY_STATUSES, IN_PROGRESS_STATUSES, STATUS_LABELS
from ..results.services import FieldError, code_key

# ---------------------------------------------------------------------------------------------
# Weeks


def first_week(project: Project) -> str:
    return iso_week(project.start_date)


def last_week(project: Project) -> str:
    return iso_week(project.end_date)


def default_week(project: Project, today: date | None = None) -> str:
    """The current ISO week, clamped into the project period (see the module docstring)."""
    today = today or date.today()
    return iso_week(min(max(today, project.start_date), project.end_date))


def normalise_week(text: str) -> str:
    """'2016-w7' -> '2016-W07'; InputError for anything that is not an ISO week."""
    text = (text or "").strip().upper()
    return iso_week(week_start(text))


def week_in_project(project: Project, week: str) -> bool:
    start, end = week_range(week)
    return start <= project.end_date and end >= project.start_date


def neighbour_weeks(project: Project, week: str) -> tuple[str | None, str | None]:
    """The weeks before and after ``week``, or None where that leaves the project period."""
    start = week_start(week)
    previous, following = iso_week(start - timedelta(days=7)), iso_week(start + timedelta(days=7))
    return (previous if week_in_project(project, previous) else None,
            following if week_in_project(project, following) else None)


# ---------------------------------------------------------------------------------------------
# Reading: rows, counters and the week's lists


@dataclass
class ActivityRow:
    """An activity with its log for the week being looked at (None when not logged)."""

    activity: Activity
    log: ProgressLog | None
    week: str

    @property
    def due(self) -> bool:
        return self.log is None and is_in_progress(self.activity, self.week)

    @property
    def loggable(self) -> bool:
        """The week is inside the project period (the project is already loaded: no query)."""
        return week_in_project(self.activity.project, self.week)


def is_in_progress(activity: Activity, week: str) -> bool:
    if activity.status not in IN_PROGRESS_STATUSES:
        return False
    started = activity.actual_start or activity.planned_start
    return started is None or started <= week_range(week)[1]


def _started_by(week: str):
    week_end = week_range(week)[1]
    started = func.coalesce(Activity.actual_start, Activity.planned_start)
    return or_(started.is_(None), started <= week_end)


def _rows_query(project_id: int, week: str):
    return (
        select(Activity, ProgressLog)
        .outerjoin(ProgressLog, and_(ProgressLog.activity_id == Activity.id, ProgressLog.iso_week == week))
        .where(Activity.project_id == project_id)
        .options(joinedload(Activity.result))
    )


def _sorted(rows: list[ActivityRow]) -> list[ActivityRow]:
    return sorted(rows, key=lambda r: (code_key(r.activity.result.code), r.activity.position,
                                       code_key(r.activity.code)))


def activity_rows(project: Project, week: str) -> list[ActivityRow]:
    """Every activity of the project with its log for ``week``, in logframe order (one query)."""
    rows = db.session.execute(_rows_query(project.id, week)).all()
    return _sorted([ActivityRow(activity, log, week) for activity, log in rows])


def grouped_rows(rows: list[ActivityRow]) -> list[tuple[ResultNode, list[ActivityRow]]]:
    """Rows grouped under their result, keeping the order."""
    groups: list[tuple[ResultNode, list[ActivityRow]]] = []
    for row in rows:
        if not groups or groups[-1][0].id != row.activity.result_id:
            groups.append((row.activity.result, []))
        groups[-1][1].append(row)
    return groups


def activity_row(activity: Activity, week: str) -> ActivityRow:
    log = db.session.execute(
        select(ProgressLog).where(ProgressLog.activity_id == activity.id, ProgressLog.iso_week == week)
    ).scalar()
    return ActivityRow(activity, log, week)


def due_rows(project: Project, week: str) -> list[ActivityRow]:
    """Activities in progress without a log for ``week`` (one query)."""
    rows = db.session.execute(
        _rows_query(project.id, week)
        .where(Activity.status.in_(IN_PROGRESS_STATUSES), _started_by(week), ProgressLog.id.is_(None))
    ).all()
    return _sorted([ActivityRow(activity, log, week) for activity, log in rows])


@dataclass
class Counters:
    """The numbers shown above the activity lists (updated out of band after each log)."""

    week: str
    status_counts: list[tuple[str, str, int]]
    total: int
    due: int
    logged: int


def counters(project: Project, week: str) -> Counters:
    """Activity status counts and the week's due/logged counts, in two aggregate queries."""
    by_status = Counter(dict(db.session.execute(
        select(Activity.status, func.count()).where(Activity.project_id == project.id).group_by(Activity.status)
    ).all()))
    logged_exists = exists().where(ProgressLog.activity_id == Activity.id, ProgressLog.iso_week == week)
    due, logged = db.session.execute(
        select(
            func.count().filter(Activity.status.in_(IN_PROGRESS_STATUSES), _started_by(week), ~logged_exists),
            func.count().filter(logged_exists),
        ).where(Activity.project_id == project.id)
    ).one()
    return Counters(week, [(s, STATUS_LABELS[s], by_status.get(s, 0)) for s in ACTIVITY_STATUSES],
                    sum(by_status.values()), due or 0, logged or 0)


def week_logs(project: Project, week: str) -> list[ProgressLog]:
    """The week's logs with their activity and author, in logframe order."""
    logs = db.session.execute(
        select(ProgressLog).join(Activity)
        .where(ProgressLog.project_id == project.id, ProgressLog.iso_week == week)
        .options(joinedload(ProgressLog.activity).joinedload(Activity.result), joinedload(ProgressLog.author))
    ).scalars().all()
    return sorted(logs, key=lambda log: (code_key(log.activity.result.code), log.activity.position))


def periods_without_actual(project: Project, week: str) -> list[IndicatorPeriod]:
    """Indicator periods ended by the end of ``week`` with no actual, not yet approved."""
    week_end = week_range(week)[1]
    periods = db.session.execute(
        select(IndicatorPeriod).join(Indicator)
        .where(IndicatorPeriod.project_id == project.id, IndicatorPeriod.end_date <= week_end,
               IndicatorPeriod.actual.is_(None), IndicatorPeriod.actual_text == "",
               IndicatorPeriod.state != "approved")
        .options(joinedload(IndicatorPeriod.indicator))
        .order_by(IndicatorPeriod.end_date.desc(), Indicator.position, Indicator.id)
    ).scalars().all()
    return periods


def queried_evidence(project: Project) -> list[EvidenceItem]:
    """Evidence items the auditor has queried (not deleted), oldest query first."""
    return db.session.execute(
        select(EvidenceItem).where(EvidenceItem.project_id == project.id, EvidenceItem.review_state == "queried",
                                   EvidenceItem.deleted_at.is_(None))
        .options(joinedload(EvidenceItem.reviewed_by))
        .order_by(EvidenceItem.reviewed_at, EvidenceItem.id)
    ).scalars().all()


def evidence_choices(project: Project) -> list[tuple[int, str]]:
    """Evidence items that a log may link to its activity: (id, label), newest first."""
    rows = db.session.execute(
        select(EvidenceItem.id, EvidenceItem.title, EvidenceItem.dated)
        .where(EvidenceItem.project_id == project.id, EvidenceItem.deleted_at.is_(None))
        .order_by(EvidenceItem.dated.desc().nulls_last(), EvidenceItem.id.desc())
    ).all()
    return [(item_id, f"{dated.isoformat() + ' · ' if dated else ''}{title}") for item_id, title, dated in rows]


def linked_evidence(activity: Activity) -> list[EvidenceItem]:
    """The activity's evidence, through the evidence area's one-query lookup."""
    from ..evidence.services import evidence_for

    return evidence_for(activity.project_id, activities=[activity.id]).activity(activity.id)


def summary_text(project: Project, week: str, logs: list[ProgressLog]) -> str:
    """The week's logs as plain text, for pasting into an email."""
    start, end = week_range(week)
    lines = [f"{project.code} · {project.title}", f"Progress for week {week} ({start.isoformat()} to "
             f"{end.isoformat()})", ""]
    if not logs:
        lines.append("No activity was logged this week.")
    for log in logs:
        activity = log.activity
        lines.append(f"{activity.code} {activity.title}")
        lines.append(f"  Status: {log.status_label}, {log.percent_complete}% complete")
        for label, text in (("Done", log.done), ("Problems", log.problems), ("Next steps", log.next_steps)):
            if text.strip():
                body = "\n    ".join(text.strip().splitlines())
                lines.append(f"  {label}: {body}")
        if log.author:
            lines.append(f"  Logged by {log.author.name}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# Changing: weekly logs


@dataclass
class LogInput:
    week: str
    status: str
    percent_complete: int
    done: str = ""
    problems: str = ""
    next_steps: str = ""
    evidence_ids: tuple[int, ...] = ()


def _existing_log(activity_id: int, week: str) -> ProgressLog | None:
    return db.session.execute(
        select(ProgressLog).where(ProgressLog.activity_id == activity_id, ProgressLog.iso_week == week)
    ).scalar()


def _check_status_and_percent(status: str, percent: int | None) -> None:
    if status not in ACTIVITY_STATUSES:
        raise FieldError("status", "Choose a status from the list.")
    if percent is None or not 0 <= percent <= 100:
        raise FieldError("percent_complete", "% complete must be a whole number from 0 to 100.")
    if status == "completed" and percent != 100:
        raise FieldError("percent_complete", "A completed activity is 100% complete; enter 100 or choose "
                                             "another status.")
    if status == "not_started" and percent != 0:
        raise FieldError("percent_complete", "An activity that has not started is 0% complete; enter 0 or "
                                             "choose another status.")


def _same_content(log: ProgressLog, data: LogInput) -> bool:
    return (log.status, log.percent_complete, log.done, log.problems, log.next_steps) == (
        data.status, data.percent_complete, data.done, data.problems, data.next_steps)


def log_week(activity: Activity, data: LogInput, user, version=None, *, today: date | None = None) -> ProgressLog:
    """Save what happened on ``activity`` in ``data.week``; a second save of the week updates it.

    ``version`` is the version of the week's log when the form was opened ('' when there was
    none). A log saved by someone else meanwhile is refused with a ConflictError, except an
    identical one (the same form posted twice), which is simply kept.
    """
    project = activity.project
    try:
        week = normalise_week(data.week)
    except InputError as error:
        raise FieldError("week", str(error)) from None
    if not week_in_project(project, week):
        raise FieldError("week", f"Week {week} is outside the project period ({project.start_date.isoformat()} "
                                 f"to {project.end_date.isoformat()}); choose a week inside it.")
    start, end = week_range(week)
    if start > (today or date.today()):
        raise FieldError("week", f"Week {week} has not started yet; log it once it has.")
    _check_status_and_percent(data.status, data.percent_complete)

    log = _existing_log(activity.id, week)
    if log is not None:
        if version in (None, "", "0"):
            if _same_content(log, data):
                _link_evidence(activity, data.evidence_ids)
                return log
            who = log.author.name if log.author else "someone else"
            when = log.updated_at.strftime("%Y-%m-%d %H:%M UTC") if log.updated_at else "just now"
            raise ConflictError(
                f"{who} saved a log for {activity.code}, week {week}, on {when}, after you opened the form. "
                "Yours was not saved; reload to see theirs, then make your changes again.")
        check_version(log, version, f"The log for {activity.code}, week {week},")
    else:
        log = ProgressLog(project_id=activity.project_id, activity_id=activity.id, iso_week=week,
                          week_start=start, author_id=getattr(user, "id", None))
        db.session.add(log)
    log.status, log.percent_complete = data.status, data.percent_complete
    log.done, log.problems, log.next_steps = data.done.strip(), data.problems.strip(), data.next_steps.strip()
    if log.author_id is None:
        log.author_id = getattr(user, "id", None)
    stamp(log, user)
    db.session.flush()
    _follow_latest_log(activity, log, user)
    _link_evidence(activity, data.evidence_ids)
    db.session.flush()
    return log


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
        raise FieldError("evidence", "Choose evidence items of this project from the list.")
    linked = set(db.session.execute(
        select(EvidenceLink.evidence_id).where(EvidenceLink.activity_id == activity.id,
                                               EvidenceLink.evidence_id.in_(wanted))
    ).scalars())
    for evidence_id in sorted(wanted - linked):
        db.session.add(EvidenceLink(project_id=activity.project_id, evidence_id=evidence_id,
                                    activity_id=activity.id))


# ---------------------------------------------------------------------------------------------
# Changing: activities (managers)


@dataclass
class ActivityInput:
    result_id: int | None
    code: str
    title: str
    description: str = ""
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    status: str = "not_started"
    percent_complete: int = 0
    responsible: str = ""
    locations: str = ""


def activity_result_choices(project: Project) -> list[tuple[int, str]]:
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    return [(r.id, f"{r.code} {r.statement[:90]}{'…' if len(r.statement) > 90 else ''}") for r in results]


def _validate_activity(project: Project, data: ActivityInput, activity: Activity | None) -> None:
    result = db.session.get(ResultNode, data.result_id) if data.result_id else None
    if result is None or result.project_id != project.id:
        raise FieldError("result_id", "Choose the result this activity delivers.")
    code = data.code.strip()
    if not code:
        raise FieldError("code", "Give the activity a code, for example A1.6.")
    clash = db.session.execute(
        select(Activity.id).where(Activity.project_id == project.id, Activity.code == code)
    ).scalar()
    if clash is not None and (activity is None or clash != activity.id):
        raise FieldError("code", f"Another activity already has the code {code}; choose another.")
    if not data.title.strip():
        raise FieldError("title", "Give the activity a title.")
    for name in ("planned_start", "planned_end", "actual_start", "actual_end"):
        value = getattr(data, name)
        if value is not None and not project.start_date <= value <= project.end_date:
            raise FieldError(name, f"Dates must fall within the project period ({project.start_date.isoformat()} "
                                   f"to {project.end_date.isoformat()}).")
    if data.planned_start and data.planned_end and data.planned_end < data.planned_start:
        raise FieldError("planned_end", "The planned end is before the planned start.")
    if data.actual_start and data.actual_end and data.actual_end < data.actual_start:
        raise FieldError("actual_end", "The actual end is before the actual start.")
    _check_status_and_percent(data.status, data.percent_complete)


def _apply(activity: Activity, data: ActivityInput) -> None:
    activity.result_id = data.result_id
    activity.code = data.code.strip()
    activity.title = data.title.strip()
    activity.description = data.description.strip()
    activity.planned_start, activity.planned_end = data.planned_start, data.planned_end
    activity.actual_start, activity.actual_end = data.actual_start, data.actual_end
    activity.status, activity.percent_complete = data.status, data.percent_complete
    activity.responsible, activity.locations = data.responsible.strip(), data.locations.strip()


def create_activity(project: Project, data: ActivityInput, user) -> Activity:
    """Add an activity at the end of its result's list."""
    _validate_activity(project, data, None)
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
    check_version(activity, version, f"Activity {activity.code}")
    _validate_activity(activity.project, data, activity)
    _apply(activity, data)
    stamp(activity, user)
    db.session.flush()
    return activity


def move_activity(activity: Activity, direction: str, user) -> bool:
    """Swap the activity with its neighbour under the same result; False when it cannot move."""
    if direction not in ("up", "down"):
        raise InputError("Move an activity up or down.")
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

