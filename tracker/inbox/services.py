"""Needs your action: what each person has to do, per project and per role.

A person's role comes from their membership of each project; someone with several projects
sees each project's items, grouped by project. Admins see the items of the projects they
are a member of (an admin without a membership has no inbox: they are not part of the work).

The kinds, by role (``KIND_LABELS`` holds their headings):

officer
    ``activity_due``      an activity in progress without a weekly log for the project's
                          current week (the week page's "due" rule, tracker.progress.weeks);
    ``activity_late``     a late activity (tracker.inbox.late);
    ``period_missing``    a reporting period ended before today without an actual, not
                          approved (flagged ``late`` past the project's ``late_after_days``);
    ``period_returned``   a period the manager returned, with the note;
    ``evidence_queried``  an evidence item the auditor queried (editing it answers);
    ``overspend_unjustified`` a budget line spent past its budget where no expenditure of the
                          line carries a justification.
manager
    ``period_submitted``  a period submitted and waiting for approval;
    ``overspend``         a budget line spent (committed + disbursed) past its current budget;
    ``line_near_limit``   a line that has used ``NEAR_LIMIT_PCT`` (90%) or more of its budget,
                          not yet over it;
    ``member_idle``       **a member with no role work for 4 weeks**: another member of the
                          project (any role) who is the actor of no audit event of the project
                          in the last 28 days (a weekly log, an actual, a submission, an
                          expenditure, evidence, a review, an export all are such events) and
                          whose membership was not created or changed in that time either.
auditor
    ``evidence_waiting``  an evidence item waiting for review;
    ``expenditure_unbacked`` a disbursed expenditure that no (not deleted) evidence backs.
liaison
    ``export_due``        **approved periods not yet in an export sent since**: periods of
                          the project approved after the project's last export (the newest
                          ``export`` event of the audit trail, by anyone, whatever its format);
                          one item per project, naming how many periods wait.

Cost: one query for the memberships, one UNION ALL of per-kind aggregates (GROUP BY project)
for the counts, then for the items one query per kind that has any, each limited to
``PER_PROJECT`` rows per project with a window function. None of these grows with the
number of projects, indicators, activities or people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from .. import paging
from ..audit import trail
from ..extensions import db
from ..formatting import money, percent, week_range
from ..models import (
    Activity,
    AuditEvent,
    BudgetLine,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Membership,
    ProgressLog,
    Project,
    User,
)
from ..models.accounts import ROLE_LABELS
from ..models.progress import IN_PROGRESS_STATUSES, STATUS_LABELS
from ..progress.weeks import current_date, default_week
from ..results.values import period_label
from ..validation import code_key
from . import late

PER_PROJECT = 5          # items listed per kind and project; the count says how many there are
NEAR_LIMIT_PCT = 90      # a budget line at or above this share of its budget is "near its limit"
IDLE_DAYS = 28           # "no role work for 4 weeks"


@dataclass(frozen=True)
class InboxItem:
    kind: str          # one of KIND_LABELS
    project_id: int
    project_code: str
    text: str          # one line a person reads (already translated)
    url: str           # where the action is done (a path)
    late: bool = False


KIND_LABELS = {
    "activity_due": _l("Weekly logs due"),
    "activity_late": _l("Late activities"),
    "period_missing": _l("Periods ended without an actual"),
    "period_returned": _l("Periods returned to you"),
    "evidence_queried": _l("Evidence queried by the auditor"),
    "overspend_unjustified": _l("Overspends awaiting a justification"),
    "period_submitted": _l("Periods waiting for your approval"),
    "overspend": _l("Budget lines over budget"),
    "line_near_limit": _l("Budget lines near their limit"),
    "member_idle": _l("Members with no work for 4 weeks"),
    "evidence_waiting": _l("Evidence waiting for review"),
    "expenditure_unbacked": _l("Disbursed expenditure without evidence"),
    "export_due": _l("Approved periods not yet exported"),
}
KINDS = tuple(KIND_LABELS)

ROLE_KINDS = {
    "officer": ("activity_due", "activity_late", "period_missing", "period_returned", "evidence_queried",
                "overspend_unjustified"),
    "manager": ("period_submitted", "overspend", "line_near_limit", "member_idle"),
    "auditor": ("evidence_waiting", "expenditure_unbacked"),
    "liaison": ("export_due",),
}


# ---------------------------------------------------------------------------------------------
# Who: the person's projects and roles (one query)


@dataclass(frozen=True)
class Seat:
    """One membership: the project's facts the items need, and the role."""

    project_id: int
    code: str
    role: str
    start_date: date
    end_date: date
    late_after_days: int
    currency: str


def seats(user, project_id: int | None = None) -> list[Seat]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    query = (select(Membership.project_id, Project.code, Membership.role, Project.start_date, Project.end_date,
                    Project.late_after_days, Project.currency)
             .join(Project, Project.id == Membership.project_id).where(Membership.user_id == user.id))
    if project_id is not None:
        query = query.where(Membership.project_id == project_id)
    return sorted((Seat(*row) for row in db.session.execute(query)), key=lambda s: code_key(s.code))


KIND_ROLE = {kind: role for role, kinds in ROLE_KINDS.items() for kind in kinds}


class _Context:
    """What every kind's query needs: the project ids per kind, today, the user."""

    def __init__(self, user, seat_list: list[Seat], today: date, project_id: int | None = None):
        self.user, self.today, self.seats = user, today, {s.project_id: s for s in seat_list}
        self.project_id = project_id
        self.listed: list[int] | None = None  # item rows of these projects only (a page of the inbox)
        self._url_templates: dict[tuple, str] = {}
        self.projects: dict[str, list[int]] = defaultdict(list)
        for seat in seat_list:
            for kind in ROLE_KINDS.get(seat.role, ()):
                self.projects[kind].append(seat.project_id)

    def url(self, endpoint: str, **ids: int) -> str:
        """``url_for(endpoint, **ids)`` for integer ids, from one ``url_for`` per endpoint (an
        inbox page lists dozens of items; each used to build its URL from the routing map)."""
        key = (endpoint, tuple(sorted(ids)))
        template = self._url_templates.get(key)
        if template is None:
            marks = {name: 987_654_301 + n for n, name in enumerate(sorted(ids))}
            template = url_for(endpoint, **marks).replace("{", "{{").replace("}", "}}")
            for name, mark in marks.items():
                template = template.replace(str(mark), "{" + name + "}")
            self._url_templates[key] = template
        return template.format(**{name: int(value) for name, value in ids.items()})

    def weeks(self) -> dict[str, list[int]]:
        """Officer projects grouped by their current week (clamped into each project's period)."""
        grouped: dict[str, list[int]] = defaultdict(list)
        listed = set(self.listed) if self.listed is not None else None
        for pid in self.projects["activity_due"]:
            if listed is not None and pid not in listed:
                continue
            seat = self.seats[pid]
            grouped[default_week(seat, self.today)].append(pid)
        return grouped

    @property
    def idle_since(self) -> datetime:
        return datetime.combine(self.today - timedelta(days=IDLE_DAYS), time(), UTC)

    @property
    def shape(self) -> _Shape:
        return _Shape(self.project_id is not None, len(self.weeks()), len(self.listed or ()))

    def params(self) -> dict:
        """The values of the statements' bound parameters (see ``_Shape``)."""
        values = {"user_id": self.user.id, "today": self.today, "idle_since": self.idle_since,
                  "project_id": self.project_id, "listed_pids": self.listed or []}
        values |= {f"listed_{n}": pid for n, pid in enumerate(self.listed or ())}
        for n, (week, pids) in enumerate(sorted(self.weeks().items())):
            values |= {f"due_week_{n}": week, f"due_end_{n}": week_range(week)[1], f"due_pids_{n}": pids}
        return values


@dataclass(frozen=True)
class _Shape:
    """What the statements' structure depends on: all else is a bound parameter.

    The badge's counts run on every page, so their statement is built once per shape and kept
    (``_count_statement``): building a dozen SQLAlchemy selects per request cost more than
    running them (issue 15). The person's projects are a subquery over their memberships, not a
    list of ids (someone in 500 projects would otherwise bind 500 parameters per kind).
    """

    filtered: bool   # one project (``project_id``) or all of the person's projects
    due_weeks: int   # officer projects grouped by current week (``_Context.weeks``)
    listed: int = 0  # > 0: rows of the projects ``listed_0``.. only (one page of the inbox; ``listed_pids``)


def _project_ids(kind: str, shape: _Shape):
    """SQL: the ids of the person's projects where their role has ``kind``.

    Aliased, so that it never correlates with a query over memberships (``member_idle``).
    """
    seat = aliased(Membership)
    query = select(seat.project_id).where(seat.user_id == bindparam("user_id"), seat.role == KIND_ROLE[kind])
    if shape.filtered:
        query = query.where(seat.project_id == bindparam("project_id"))
    if shape.listed:
        query = query.where(seat.project_id.in_(bindparam("listed_pids", expanding=True)))
    return query


# ---------------------------------------------------------------------------------------------
# The conditions of each kind: (model whose project_id groups, conditions); shared by counts and rows


def _line_spent():
    """SQL: what a budget line has spent (committed + disbursed), NULL when it has no expenditure.

    Correlated to the budget line of the outer query, which is already restricted to the
    person's projects: each line sums its own expenditures through
    ``ix_expenditure_line_status_amount`` (a covering index), instead of grouping every expenditure of
    every project before the join (issue 15).
    """
    return (select(func.sum(Expenditure.amount_cents)).where(Expenditure.line_id == BudgetLine.id)
            .scalar_subquery())


def _current_cents():
    return func.coalesce(BudgetLine.revised_cents, BudgetLine.original_cents)


def _not_deleted_evidence_of_expenditure():
    return (select(EvidenceLink.id).join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
            .where(EvidenceLink.expenditure_id == Expenditure.id, EvidenceItem.deleted_at.is_(None)).exists())


def _last_export():
    return (select(func.max(AuditEvent.created_at))
            .where(AuditEvent.action == "export", AuditEvent.project_id == IndicatorPeriod.project_id)
            .scalar_subquery())


def _conditions(kind: str, shape: _Shape, spent=None) -> list:
    """The kind's conditions; one project's statements also name it directly, so that the
    database reaches its rows through an index on the project instead of the membership list."""
    conditions = _kind_conditions(kind, shape, spent)
    if shape.filtered:
        conditions.append(_GROUPED_BY[kind].project_id == bindparam("project_id"))
    return conditions


def _kind_conditions(kind: str, shape: _Shape, spent=None) -> list:
    pids = _project_ids(kind, shape)
    today = bindparam("today", type_=Date)
    if kind == "activity_due":
        per_week = []
        for n in range(shape.due_weeks):
            week, week_end = bindparam(f"due_week_{n}", type_=String), bindparam(f"due_end_{n}", type_=Date)
            started = func.coalesce(Activity.actual_start, Activity.planned_start)
            logged = exists().where(ProgressLog.activity_id == Activity.id, ProgressLog.iso_week == week)
            per_week.append(and_(Activity.project_id.in_(bindparam(f"due_pids_{n}", expanding=True)),
                                 or_(started.is_(None), started <= week_end), ~logged))
        listed = [Activity.project_id.in_(bindparam("listed_pids", expanding=True))] if shape.listed else []
        return [Activity.status.in_(IN_PROGRESS_STATUSES), or_(*per_week) if per_week else literal(False), *listed]
    if kind == "activity_late":
        return [Activity.project_id.in_(pids), late.activity_late_condition(today)]
    if kind == "period_missing":
        return [IndicatorPeriod.project_id.in_(pids), late.period_missing_condition(today)]
    if kind == "period_returned":
        return [IndicatorPeriod.project_id.in_(pids), IndicatorPeriod.state == "returned"]
    if kind == "period_submitted":
        return [IndicatorPeriod.project_id.in_(pids), IndicatorPeriod.state == "submitted"]
    if kind == "evidence_queried":
        return [EvidenceItem.project_id.in_(pids), EvidenceItem.deleted_at.is_(None),
                EvidenceItem.review_state == "queried"]
    if kind == "evidence_waiting":
        return [EvidenceItem.project_id.in_(pids), EvidenceItem.deleted_at.is_(None),
                EvidenceItem.review_state == "pending"]
    if kind == "overspend":
        return [BudgetLine.project_id.in_(pids), spent > _current_cents()]
    if kind == "overspend_unjustified":
        justified = exists().where(Expenditure.line_id == BudgetLine.id, Expenditure.overspend_justification != "")
        return [BudgetLine.project_id.in_(pids), spent > _current_cents(), ~justified]
    if kind == "line_near_limit":
        return [BudgetLine.project_id.in_(pids), _current_cents() > 0, spent <= _current_cents(),
                spent * 100 >= _current_cents() * NEAR_LIMIT_PCT]
    if kind == "member_idle":
        since = bindparam("idle_since", type_=AuditEvent.created_at.type)
        worked = exists().where(AuditEvent.actor_id == Membership.user_id,
                                AuditEvent.project_id == Membership.project_id, AuditEvent.created_at >= since)
        joined = exists().where(AuditEvent.table_name == "membership", AuditEvent.row_id == Membership.id,
                                AuditEvent.created_at >= since)
        return [Membership.project_id.in_(pids), Membership.user_id != bindparam("user_id"), ~worked, ~joined]
    if kind == "expenditure_unbacked":
        return [Expenditure.project_id.in_(pids), Expenditure.status == "disbursed",
                ~_not_deleted_evidence_of_expenditure()]
    if kind == "export_due":
        last = _last_export()
        return [IndicatorPeriod.project_id.in_(pids), IndicatorPeriod.state == "approved",
                or_(last.is_(None), IndicatorPeriod.approved_at > last)]
    raise KeyError(kind)


_GROUPED_BY = {
    "activity_due": Activity, "activity_late": Activity,
    "period_missing": IndicatorPeriod, "period_returned": IndicatorPeriod, "period_submitted": IndicatorPeriod,
    "export_due": IndicatorPeriod,
    "evidence_queried": EvidenceItem, "evidence_waiting": EvidenceItem,
    "overspend": BudgetLine, "overspend_unjustified": BudgetLine, "line_near_limit": BudgetLine,
    "member_idle": Membership, "expenditure_unbacked": Expenditure,
}


def _count_select(kind: str, ctx: _Shape):
    model = _GROUPED_BY[kind]
    kind_column = literal_column(f"'{kind}'", String).label("kind")  # a fixed name from KINDS, never input
    if model is BudgetLine:
        spent = _line_spent()
        base = select(kind_column, BudgetLine.project_id.label("project_id"), func.count().label("n"))
        return base.where(*_conditions(kind, ctx, spent)).group_by(BudgetLine.project_id)
    if kind == "export_due":  # one item per project, however many periods wait
        return (select(kind_column, model.project_id.label("project_id"), literal_column("1").label("n"))
                .where(*_conditions(kind, ctx)).group_by(model.project_id))
    return (select(kind_column, model.project_id.label("project_id"), func.count().label("n"))
            .where(*_conditions(kind, ctx)).group_by(model.project_id))


@lru_cache(maxsize=256)
def _count_statement(kinds: tuple[str, ...], shape: _Shape):
    selects = [_count_select(kind, shape) for kind in kinds]
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _raw_counts(ctx: _Context) -> dict[tuple[str, int], int]:
    """(kind, project_id) -> count, in one UNION ALL query (none when the person has no role)."""
    kinds = tuple(kind for kind in KINDS if ctx.projects.get(kind))
    if not kinds:
        return {}
    statement = _count_statement(kinds, ctx.shape)
    return {(row.kind, row.project_id): int(row.n) for row in db.session.execute(statement, ctx.params())}


def _context(user, project_id, today) -> _Context:
    return _Context(user, seats(user, project_id), today or current_date(), project_id)


def counts_for(user, project_id: int | None = None, *, today: date | None = None) -> dict[str, int]:
    """How many items of each kind the person has (every kind present, 0 when none), and "total"."""
    ctx = _context(user, project_id, today)
    counts = dict.fromkeys(KINDS, 0)
    for (kind, _pid), n in _raw_counts(ctx).items():
        counts[kind] += n
    counts["total"] = sum(counts[kind] for kind in KINDS)
    return counts


def totals_by_project(user, *, today: date | None = None) -> dict[int, int]:
    """project_id -> number of items (the navigation's badges). Read only."""
    return _remembered(user, today)[2]


def _sum_by_project(counts: dict[tuple[str, int], int]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for (_kind, pid), n in counts.items():
        totals[pid] += n
    return dict(totals)


def all_counts(user, *, today: date | None = None) -> dict[tuple[str, int], int]:
    """(kind, project_id) -> count over all the person's projects, in two queries. Read only."""
    return _remembered(user, today)[1]


def _remembered(user, today: date | None) -> tuple[list[Seat], dict[tuple[str, int], int], dict[int, int]]:
    """The person's seats, counts over all their projects and totals per project. Read only.

    The badges are on every page, so all three are remembered (``_TOTALS_MEMO``, a
    ``trail.StampedMemo``) until the trail gains an event (a membership or project change
    appends one too), the day changes or ``TOTALS_MEMO_SECONDS`` pass (a change made by SQL by
    hand): one query then. The landing page, the inbox and an overview read their counts from
    the same memo. A given ``today`` is never remembered.
    """
    def count(day: date):
        ctx = _context(user, None, day)
        counts = _raw_counts(ctx)
        return list(ctx.seats.values()), counts, _sum_by_project(counts)

    if today is not None:
        return count(today)
    today = current_date()
    return _TOTALS_MEMO.get((user.id, today), lambda: count(today))


TOTALS_MEMO_SECONDS = 60
TOTALS_MEMO_PEOPLE = 2048
_TOTALS_MEMO = trail.StampedMemo(TOTALS_MEMO_SECONDS, TOTALS_MEMO_PEOPLE)


# ---------------------------------------------------------------------------------------------
# Items: one query per kind that has any, PER_PROJECT rows per project


def _limited(statement, partition, order, shape: _Shape):
    """Keep the first PER_PROJECT rows of each project.

    One project (an overview) or a page of the inbox (``shape.listed`` projects): each project's
    rows are an ``ORDER BY ... LIMIT`` of their own, so the database stops after a few rows
    instead of ranking every submitted period of a big project (at 10× the ranking took 180 ms).
    All of the person's projects (the digest): a window function, one query for all.
    """
    if shape.filtered:
        return statement.order_by(*order).limit(PER_PROJECT)
    if shape.listed:
        arms = [statement.where(partition == bindparam(f"listed_{n}")).order_by(*order).limit(PER_PROJECT)
                .subquery() for n in range(shape.listed)]
        return union_all(*(select(arm) for arm in arms)) if len(arms) > 1 else select(arms[0])
    ranked = statement.add_columns(
        func.row_number().over(partition_by=partition, order_by=order).label("rank")).subquery()
    return select(ranked).where(ranked.c.rank <= PER_PROJECT)


@lru_cache(maxsize=256)
def _rows(kind: str, ctx: _Shape):
    """The query of ``kind``'s rows (limited per project); its parameters: ``_Context.params``."""
    where = _conditions
    if kind in ("activity_due", "activity_late"):
        statement = select(Activity.project_id, Activity.id, Activity.code, Activity.title, Activity.status,
                           Activity.planned_start, Activity.planned_end).where(*where(kind, ctx))
        return _limited(statement, Activity.project_id, (Activity.planned_end, Activity.position, Activity.id), ctx)
    if kind in ("period_missing", "period_returned", "period_submitted"):
        statement = (select(IndicatorPeriod.project_id, IndicatorPeriod.id, Indicator.code, IndicatorPeriod.start_date,
                            IndicatorPeriod.end_date, IndicatorPeriod.return_note)
                     .join(Indicator, Indicator.id == IndicatorPeriod.indicator_id).where(*where(kind, ctx)))
        return _limited(statement, IndicatorPeriod.project_id,
                        (IndicatorPeriod.end_date, IndicatorPeriod.id), ctx)  # an index's order (0013)
    if kind in ("evidence_queried", "evidence_waiting"):
        statement = select(EvidenceItem.project_id, EvidenceItem.id, EvidenceItem.title,
                           EvidenceItem.review_note).where(*where(kind, ctx))
        return _limited(statement, EvidenceItem.project_id, (EvidenceItem.created_at, EvidenceItem.id), ctx)
    if kind in ("overspend", "overspend_unjustified", "line_near_limit"):
        spent = _line_spent()
        statement = (select(BudgetLine.project_id, BudgetLine.id, BudgetLine.code, spent.label("spent"),
                            _current_cents().label("budget"))
                     .where(*where(kind, ctx, spent)))
        return _limited(statement, BudgetLine.project_id, (BudgetLine.position, BudgetLine.code), ctx)
    if kind == "member_idle":
        statement = (select(Membership.project_id, Membership.id, User.name, Membership.role)
                     .join(User, User.id == Membership.user_id).where(User.active.is_(True), *where(kind, ctx)))
        return _limited(statement, Membership.project_id, (User.name, Membership.id), ctx)
    if kind == "expenditure_unbacked":
        statement = select(Expenditure.project_id, Expenditure.id, Expenditure.voucher, Expenditure.amount_cents,
                           Expenditure.spent_on).where(*where(kind, ctx))
        return _limited(statement, Expenditure.project_id, (Expenditure.spent_on, Expenditure.id), ctx)
    if kind == "export_due":
        return (select(IndicatorPeriod.project_id, func.count().label("periods"))
                .where(*where(kind, ctx)).group_by(IndicatorPeriod.project_id))
    raise KeyError(kind)


def _item(kind: str, row, ctx: _Context) -> InboxItem:
    seat = ctx.seats[row.project_id]
    pid = row.project_id

    def make(text: str, url: str, is_late: bool = False) -> InboxItem:
        return InboxItem(kind, pid, seat.code, text, url, is_late)

    if kind == "activity_due":
        week = default_week(seat, ctx.today)
        return make(_("%(code)s %(title)s: log the week %(week)s", code=row.code, title=row.title, week=week),
                    url_for("progress.week", project_id=pid, week=week) + f"#activity-{row.id}")
    if kind == "activity_late":
        if row.status == "not_started" and row.planned_start and row.planned_start < ctx.today:
            why = _("planned to start on %(date)s, not started", date=row.planned_start.isoformat())
        else:
            why = _("planned to end on %(date)s, still %(status)s", date=row.planned_end.isoformat(),
                    status=_(STATUS_LABELS.get(row.status, row.status)).lower())
        return make(_("%(code)s %(title)s: %(why)s", code=row.code, title=row.title, why=why),
                    ctx.url("progress.activity", project_id=pid, activity_id=row.id), True)
    if kind in ("period_missing", "period_returned", "period_submitted"):
        label = period_label(row.start_date, row.end_date)
        url = ctx.url("results.period", project_id=pid, period_id=row.id)
        if kind == "period_missing":
            return make(_("%(indicator)s, %(period)s: ended on %(date)s without an actual", indicator=row.code,
                          period=label, date=row.end_date.isoformat()), url,
                        late.period_is_late(row.end_date, seat.late_after_days, ctx.today))
        if kind == "period_returned":
            return make(_("%(indicator)s, %(period)s: returned with the note “%(note)s”", indicator=row.code,
                          period=label, note=row.return_note), url)
        return make(_("%(indicator)s, %(period)s: submitted, waiting for approval", indicator=row.code,
                      period=label), url)
    if kind == "evidence_queried":
        return make(_("“%(title)s”: queried: %(note)s", title=row.title, note=row.review_note),
                    ctx.url("evidence.edit", project_id=pid, item_id=row.id))
    if kind == "evidence_waiting":
        return make(_("“%(title)s”: waiting for review", title=row.title),
                    ctx.url("evidence.item", project_id=pid, item_id=row.id))
    if kind in ("overspend", "overspend_unjustified", "line_near_limit"):
        spent, budget = money(int(row.spent), seat.currency), money(int(row.budget), seat.currency)
        url = ctx.url("budget.line", project_id=pid, line_id=row.id)
        if kind == "line_near_limit":
            return make(_("Line %(code)s has used %(pct)s of its budget (%(spent)s of %(budget)s)", code=row.code,
                          pct=percent(int(row.spent) * 100 / int(row.budget)), spent=spent, budget=budget), url)
        if kind == "overspend":
            return make(_("Line %(code)s is over budget: %(spent)s spent of %(budget)s", code=row.code,
                          spent=spent, budget=budget), url)
        return make(_("Line %(code)s is over budget (%(spent)s of %(budget)s) and no expenditure carries a "
                      "justification", code=row.code, spent=spent, budget=budget), url)
    if kind == "member_idle":
        return make(_("%(name)s (%(role)s): no work in the project for 4 weeks", name=row.name,
                      role=str(ROLE_LABELS.get(row.role, row.role)).lower()),
                    ctx.url("accounts.members", project_id=pid))
    if kind == "expenditure_unbacked":
        return make(_("Voucher %(voucher)s, %(amount)s on %(date)s: disbursed without evidence",
                      voucher=row.voucher, amount=money(int(row.amount_cents), seat.currency),
                      date=row.spent_on.isoformat()),
                    ctx.url("budget.expenditure", project_id=pid, expenditure_id=row.id))
    if kind == "export_due":
        return make(_("%(count)s approved periods are not in an export made since their approval",
                      count=row.periods), ctx.url("exports.index", project_id=pid))
    raise KeyError(kind)


def items_for(user, project_id: int | None = None, *, today: date | None = None) -> list[InboxItem]:
    """The person's items, by project (code order) then kind (the order of KIND_LABELS).

    At most ``PER_PROJECT`` items of each kind and project; ``counts_for`` gives the totals.
    """
    return [item for group in inbox(user, project_id, today=today) for kind in group.kinds for item in kind.items]


# ---------------------------------------------------------------------------------------------
# For the pages: items grouped by project and kind, with the true counts


@dataclass
class KindGroup:
    kind: str
    label: str
    count: int
    items: list[InboxItem]

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.items))


@dataclass
class ProjectGroup:
    project_id: int
    project_code: str
    role: str
    kinds: list[KindGroup]

    @property
    def total(self) -> int:
        return sum(k.count for k in self.kinds)


def inbox(user, project_id: int | None = None, *, today: date | None = None) -> list[ProjectGroup]:
    """The page's view: per project (with the role), per kind: the count and the first items.

    Works outside a request too (the ``remind`` CLI): URLs are then built in a bare request
    context, as paths.
    """
    if not has_request_context():
        with current_app.test_request_context():
            return inbox(user, project_id, today=today)
    ctx = _context(user, project_id, today)
    return _groups(ctx, _raw_counts(ctx), list(ctx.seats))


@dataclass
class InboxPage:
    """One page of "Needs your action": the groups of ``per_page`` projects that have items,
    in project code order, with the totals over all of the person's projects."""

    groups: list[ProjectGroup]
    items_total: int      # items in all the person's projects
    projects_total: int   # projects with at least one item
    page: int = 1
    per_page: int = 0     # 0: every project on one page

    @property
    def pages(self) -> int:
        return paging.page_count(self.projects_total, self.per_page) if self.per_page else 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def projects_shown(self) -> int:
        return sum(1 for group in self.groups if group.total)

    @property
    def projects_after(self) -> int:
        """Projects with items on the pages after this one."""
        return max(0, self.projects_total - (self.page - 1) * self.per_page - self.projects_shown)


def inbox_page(user, project_id: int | None = None, *, page: int = 1, per_page: int = 0,
               today: date | None = None) -> InboxPage:
    """"Needs your action" a page at a time: the counts of every project (one query), the items
    of the ``per_page`` projects of ``page`` only (someone in 500 projects would otherwise get
    every item of all of them on the landing page)."""
    seat_list, raw, _totals = _remembered(user, today)
    if project_id is not None:
        ctx = _context(user, project_id, today)
        raw = {key: n for key, n in raw.items() if key[1] == project_id}
    else:
        ctx = _Context(user, seat_list, today or current_date())
    with_items = {pid for (_kind, pid), n in raw.items() if n}  # counted only for the role's kinds
    busy = [pid for pid in ctx.seats if pid in with_items]
    if per_page:
        page = paging.clamp(page, len(busy), per_page)
        busy = busy[paging.offset(page, per_page):paging.offset(page, per_page) + per_page]
        ctx.listed = busy
    else:
        page = 1
    groups = _groups(ctx, raw, busy)
    return InboxPage(groups, sum(raw.values()), len(with_items), page, per_page)


def _groups(ctx: _Context, raw: dict[tuple[str, int], int], pids: list[int]) -> list[ProjectGroup]:
    """The groups of the projects ``pids`` (their first items read in one query per kind)."""
    found: dict[tuple[str, int], list[InboxItem]] = defaultdict(list)
    wanted = set(pids)
    present = {kind for (kind, pid), n in raw.items() if n and pid in wanted}
    for kind in KINDS:
        if kind in present:
            for row in db.session.execute(_rows(kind, ctx.shape), ctx.params()):
                if row.project_id in wanted:
                    found[(kind, row.project_id)].append(_item(kind, row, ctx))
    groups = []
    for pid in pids:
        seat = ctx.seats[pid]
        kinds = [KindGroup(kind, str(KIND_LABELS[kind]), raw.get((kind, pid), 0), found.get((kind, pid), []))
                 for kind in ROLE_KINDS.get(seat.role, ()) if raw.get((kind, pid))]
        groups.append(ProjectGroup(pid, seat.code, seat.role, kinds))
    return groups
