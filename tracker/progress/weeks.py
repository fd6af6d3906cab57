"""What a week looks like: ISO weeks inside the project, the activities with their log for a
week, the counters, and the lists of the week page.

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

Reading only: every query here has a fixed count whatever the number of activities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from ..extensions import db
from ..formatting import day, iso_week, week_range, week_start
from ..models import (
    Activity,
    EvidenceItem,
    Indicator,
    IndicatorPeriod,
    ProgressLog,
    Project,
    ResultNode,
)
from ..models.progress import IN_PROGRESS_STATUSES, STATUS_LABELS
from ..validation import InputError
from ..validation import code_key as _code_key

# The pages sort every activity of a project by its result's and its own code on each request
# (the keys only; see _page_rows); the codes repeat from request to request, so their sort keys
# are remembered rather than parsed again (500 activities: ~4 ms saved per page).
code_key = lru_cache(maxsize=16384)(_code_key)

# ---------------------------------------------------------------------------------------------
# Weeks


def first_week(project: Project) -> str:
    return iso_week(project.start_date)


def last_week(project: Project) -> str:
    return iso_week(project.end_date)


def current_date() -> date:
    """Today's date, or the app's ``TODAY`` setting (a date or ISO text) when one is set.

    Tests and demos pin "today" with it; the default week, late work and the inbox read it.
    """
    from flask import current_app, has_app_context

    pinned = current_app.config.get("TODAY") if has_app_context() else None
    if pinned:
        return pinned if isinstance(pinned, date) else date.fromisoformat(str(pinned))
    return date.today()


def default_week(project: Project, today: date | None = None) -> str:
    """The current ISO week, clamped into the project period (see the module docstring)."""
    today = today or current_date()
    return iso_week(min(max(today, project.start_date), project.end_date))


def normalise_week(text: str) -> str:
    """'2016-w7' -> '2016-W07'; InputError for anything that is not an ISO week."""
    text = (text or "").strip().upper()
    return iso_week(week_start(text))


def week_or_none(text) -> str | None:
    """An ISO week from a URL or a form ('2016-w7' -> '2016-W07'); None when it is not one."""
    try:
        return normalise_week(text)
    except InputError:
        return None


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


def status_rows(counts) -> list[tuple[str, str, int]]:
    """(status, label, count) for every activity status, in the order of the one status map."""
    return [(status, label, counts.get(status, 0)) for status, label in STATUS_LABELS.items()]


def counters(project: Project, week: str) -> Counters:
    """Activity status counts and the week's due/logged counts, in one aggregate query."""
    logged_exists = exists().where(ProgressLog.activity_id == Activity.id, ProgressLog.iso_week == week)
    total, due, logged, *by_status = db.session.execute(
        select(
            func.count(),
            func.count().filter(Activity.status.in_(IN_PROGRESS_STATUSES), _started_by(week), ~logged_exists),
            func.count().filter(logged_exists),
            *(func.count().filter(Activity.status == status) for status in STATUS_LABELS),
        ).where(Activity.project_id == project.id)
    ).one()
    return Counters(week, status_rows(dict(zip(STATUS_LABELS, by_status, strict=True))), total or 0, due or 0, logged or 0)


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
    """The week's logs as plain text, for pasting into an email (in the person's language;
    dates as the pages show them: ISO in English)."""
    start, end = week_range(week)
    lines = [f"{project.code} · {project.title}",
             _("Progress for week %(week)s (%(start)s to %(end)s)", week=week, start=day(start), end=day(end)), ""]
    if not logs:
        lines.append(_("No activity was logged this week."))
    for log in logs:
        activity = log.activity
        lines.append(f"{activity.code} {activity.title}")
        lines.append("  " + _("Status: %(status)s, %(pct)s%% complete", status=log.status_label,
                              pct=log.percent_complete))
        for label, text in ((_("Done"), log.done), (_("Problems"), log.problems), (_("Next steps"), log.next_steps)):
            if text.strip():
                body = "\n    ".join(text.strip().splitlines())
                lines.append(f"  {label}: {body}")
        if log.author:
            lines.append("  " + _("Logged by %(name)s", name=log.author.name))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"




# ---------------------------------------------------------------------------------------------
# Reading a page of rows (the activities page and the week's due list): two queries whatever
# the number of activities. The first reads only the sort keys of every matching activity
# (id, result code, position, code), sorted in logframe order in Python as everywhere here; the
# second loads the page's activities with their result and the week's log.

ACTIVITY_PAGE_SIZE = 25  # a row costs ~80 us to draw and ~2 KB of HTML: 25 keep a page light


@dataclass
class ActivityPage:
    """One page of activity rows, with what the pager needs."""

    rows: list[ActivityRow]
    page: int
    per_page: int
    total: int
    continues: bool  # the first row's result began on the page before

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def shown_to(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.shown_to)

    @property
    def groups(self):
        return grouped_rows(self.rows)


def _page_rows(project: Project, week: str, conditions, page: int, per_page: int,
               through_activity: int | None = None, from_start: bool = False) -> ActivityPage:
    activity, result = Activity.__table__, ResultNode.__table__
    keys = db.session.connection().execute(  # plain rows through Core: every activity of the project
        select(activity.c.id, result.c.code, activity.c.position, activity.c.code, activity.c.result_id)
        .join(result, result.c.id == activity.c.result_id)
        .where(activity.c.project_id == project.id, *conditions)
    ).all()
    keys.sort(key=lambda k: (code_key(k[1]), k[2], code_key(k[3])))
    total = len(keys)
    pages = max(1, -(-total // per_page))
    if through_activity is not None:
        index = next((i for i, k in enumerate(keys) if k[0] == through_activity), 0)
        page, from_start = index // per_page + 1, True
    page = min(max(1, page), pages)
    start = 0 if from_start else (page - 1) * per_page
    chosen = keys[start:page * per_page]
    continues = start > 0 and bool(chosen) and keys[start - 1][4] == chosen[0][4]
    found = db.session.execute(  # even for no rows: the count of queries does not depend on the data
        _rows_query(project.id, week).where(Activity.id.in_([k[0] for k in chosen]))).all()
    rows = _sorted([ActivityRow(activity, log, week) for activity, log in found])
    return ActivityPage(rows, page, per_page, total, continues)


def activity_page(project: Project, week: str, page: int = 1, per_page: int = ACTIVITY_PAGE_SIZE, *,
                  through_activity: int | None = None) -> ActivityPage:
    """A page of the project's activities with their log for ``week``, in logframe order.

    With ``through_activity`` every row from the first up to the end of that activity's page
    (the table redrawn after a move keeps the moved row in view)."""
    return _page_rows(project, week, (), page, per_page, through_activity)


def due_page(project: Project, week: str, page: int = 1, per_page: int = ACTIVITY_PAGE_SIZE) -> ActivityPage:
    """A page of the activities due a log for ``week`` (see ``due_rows``)."""
    logged = exists().where(ProgressLog.activity_id == Activity.id, ProgressLog.iso_week == week)
    return _page_rows(project, week, (Activity.status.in_(IN_PROGRESS_STATUSES), _started_by(week), ~logged),
                      page, per_page)


WEEK_LOGS_SHOWN = 50  # the week's summary (fetched when revealed)
PERIODS_SHOWN = 25  # periods without an actual on the week page


def week_logs_page(project: Project, week: str, limit: int = WEEK_LOGS_SHOWN) -> tuple[list[ProgressLog], int]:
    """The first ``limit`` of the week's logs in logframe order, and how many there are in all
    (the week page; the printable and plain-text summaries show them all). Two queries."""
    keys = db.session.execute(  # from the project's activities to their week's log (the unique activity/week
        # index), not through every log the project ever had
        select(ProgressLog.id, ResultNode.code, Activity.position)
        .select_from(Activity)
        .join(ProgressLog, and_(ProgressLog.activity_id == Activity.id, ProgressLog.iso_week == week))
        .join(ResultNode, ResultNode.id == Activity.result_id)
        .where(Activity.project_id == project.id)
    ).all()
    keys.sort(key=lambda k: (code_key(k[1]), k[2]))
    chosen = [k[0] for k in keys[:limit]]
    logs = db.session.execute(
        select(ProgressLog).where(ProgressLog.id.in_(chosen))
        .options(joinedload(ProgressLog.activity).joinedload(Activity.result), joinedload(ProgressLog.author))
    ).scalars().all()
    return sorted(logs, key=lambda log: (code_key(log.activity.result.code), log.activity.position)), len(keys)


def periods_without_actual_page(project: Project, week: str,
                                limit: int = PERIODS_SHOWN) -> tuple[list[IndicatorPeriod], int]:
    """The first ``limit`` of ``periods_without_actual`` (same order) and how many there are.

    One query, the count as a subquery beside the page: cheap on a large project where thousands
    of periods wait (a window count over them all, sorted in full, cost 170 ms on a 10x bench
    project): with an index on (project, actual, actual text, end date, state) the count reads
    only that index and the page only the periods that ended last."""
    week_end = week_range(week)[1]
    where = (IndicatorPeriod.project_id == project.id, IndicatorPeriod.actual.is_(None),
             IndicatorPeriod.actual_text == "", IndicatorPeriod.end_date <= week_end,
             IndicatorPeriod.state != "approved")
    total = select(func.count()).select_from(IndicatorPeriod).where(*where).scalar_subquery()
    rows = db.session.execute(  # the count rides along as a subquery SQLite and PostgreSQL run once
        select(IndicatorPeriod, total).join(IndicatorPeriod.indicator).where(*where)
        .options(contains_eager(IndicatorPeriod.indicator))
        .order_by(IndicatorPeriod.end_date.desc(), Indicator.position, Indicator.id).limit(limit)
    ).all()
    return [period for period, _ in rows], (rows[0][1] if rows else 0)


QUERIED_SHOWN = 25


def queried_evidence_page(project: Project, limit: int = QUERIED_SHOWN) -> tuple[list[EvidenceItem], int]:
    """The first ``limit`` of ``queried_evidence`` (oldest query first) and how many there are
    (the week page; the evidence register lists them all). One query."""
    rows = db.session.execute(
        select(EvidenceItem, func.count().over())
        .where(EvidenceItem.project_id == project.id, EvidenceItem.review_state == "queried",
               EvidenceItem.deleted_at.is_(None))
        .options(joinedload(EvidenceItem.reviewed_by))
        .order_by(EvidenceItem.reviewed_at, EvidenceItem.id).limit(limit)
    ).all()
    return [item for item, _ in rows], (rows[0][1] if rows else 0)
