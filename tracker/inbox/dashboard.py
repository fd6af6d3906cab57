"""The dashboard strip: a few figures per project, for the overview and every portfolio card.

For a list of projects at once, in a fixed number of queries (six, whatever the number of
projects, indicators, periods or expenditures):

- indicators on track / at risk / off track / no data: the one status rule
  (``tracker.results.values.indicator_progress``), fed with each indicator's periods summed
  in SQL (``indicator_statuses``);
- budget used against time elapsed: spent (committed + disbursed, tracker/budget/figures.py's
  definition) as a share of the grant, beside the share of the project period gone by today;
- evidence coverage: the share of disbursed dollars whose expenditure has at least one
  verified, not deleted evidence item (the auditor's coverage figure);
- periods waiting for approval (submitted) and late activities (tracker/inbox/late.py).

The figures are remembered per project (``_BoardMemo``) until the trail gains an event naming
that project (every change to a project's rows appends one), the day changes or
``MEMO_SECONDS`` pass: the overview of a project with 72,000 periods (10x) reads them once per
change of that project, not on each load nor on a change elsewhere.
The strip's texts are translated once per page (``strip_texts``), not once per card.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from time import monotonic
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, func, select

from .. import formatting
from ..budget.figures import percent_of
from ..extensions import db
from ..models import (
    Activity,
    AuditEvent,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Project,
)
from ..progress.weeks import current_date
from ..results.values import indicator_progress
from . import late

STATUSES = ("on_track", "at_risk", "off_track", "no_data")  # qualitative indicators are counted apart


@dataclass
class Dashboard:
    project_id: int
    statuses: Counter = field(default_factory=Counter)
    spent_cents: int = 0
    grant_cents: int = 0
    elapsed_pct: Decimal | None = None
    disbursed_cents: int = 0
    verified_cents: int = 0
    waiting_approval: int = 0
    late_activities: int = 0

    @property
    def used_pct(self) -> Decimal | None:
        return percent_of(self.spent_cents, self.grant_cents)

    @property
    def coverage_pct(self) -> Decimal | None:
        return percent_of(self.verified_cents, self.disbursed_cents)

    @property
    def burning_fast(self) -> bool:
        """More of the grant used than of the time gone by (by more than 10 points)."""
        return self.used_pct is not None and self.elapsed_pct is not None and self.used_pct > self.elapsed_pct + 10


def elapsed_pct(start: date, end: date, today: date) -> Decimal:
    total = (end - start).days + 1
    gone = min(max((today - start).days + 1, 0), total)
    return Decimal(gone * 100) / Decimal(total) if total > 0 else Decimal(100)


def _status_key(status: str | None) -> str:
    return status if status in ("on_track", "at_risk", "off_track", "qualitative") else "no_data"


def _exact(value) -> Decimal | None:
    """A sum as the exact decimal it is (SQLite adds REALs; every value has at most 4 decimals)."""
    return None if value is None else Decimal(str(value)).quantize(_SCALE)


_SCALE = Decimal("0.0001")


def indicator_statuses(ids: list[int], projects: dict[int, Project]):
    """(project id, status) of every indicator of the projects ``ids``, in two queries.

    The status is the one rule's (``indicator_progress``), fed with each indicator's periods
    summed in SQL into at most two: the periods before the latest one with an actual (their
    targets and actuals added up) and that latest period itself. Every figure the rule reads
    (the sums to date, the latest actual and target) comes out the same as from all the
    periods, and an indicator travels as one row instead of one per period (issue 15: the
    overview and the portfolio show these counts on each load; 72,000 periods at 10×).
    """
    period = IndicatorPeriod
    last = (select(period.indicator_id, func.max(period.start_date).label("start"))
            .where(period.project_id.in_(ids), period.actual.is_not(None))
            .group_by(period.indicator_id).subquery())
    before = period.start_date < last.c.start
    at = period.start_date == last.c.start
    sums = {row.indicator_id: row for row in db.session.execute(
        select(period.indicator_id, last.c.start,
               func.sum(case((before, period.target))).label("target_before"),
               func.sum(case((before, period.actual))).label("actual_before"),
               func.max(case((at, period.target))).label("target"),
               func.max(case((at, period.actual))).label("actual"))
        .join(last, last.c.indicator_id == period.indicator_id)
        .where(period.start_date <= last.c.start)
        .group_by(period.indicator_id, last.c.start))}
    for indicator in db.session.execute(
            select(Indicator.id, Indicator.project_id, Indicator.unit, Indicator.cumulative, Indicator.ascending,
                   Indicator.target_value).where(Indicator.project_id.in_(ids))):
        row = sums.get(indicator.id)
        periods = []
        if row is not None and indicator.unit != "qualitative":
            periods = [SimpleNamespace(start_date=row.start, target=_exact(row.target), actual=_exact(row.actual))]
            if row.target_before is not None or row.actual_before is not None:
                periods.insert(0, SimpleNamespace(start_date=date.min, target=_exact(row.target_before),
                                                  actual=_exact(row.actual_before)))
        shape = SimpleNamespace(unit=indicator.unit, cumulative=indicator.cumulative, ascending=indicator.ascending,
                                target_value=indicator.target_value, periods=periods)
        yield indicator.project_id, indicator_progress(shape, projects[indicator.project_id]).status


def dashboards(projects: list[Project], today: date | None = None) -> dict[int, Dashboard]:
    """project id -> Dashboard for each of ``projects``: one query when every one is remembered
    (``_BoardMemo``), six for all of them otherwise. With ``today`` given, always counted afresh."""
    if today is not None:
        return _count(projects, today)
    today = current_date()
    # Each project's stamp is read before its figures: a change committed in between leaves a
    # newer stamp, so the figures are counted again on the next page, never remembered stale.
    stamps = project_stamps([project.id for project in projects])
    database = (str(db.engine.url), id(db.engine))
    boards, missing = {}, []
    for project in projects:
        board = _MEMO.get(database, (today, stamps.get(project.id)), project.id)
        if board is None:
            missing.append(project)
        else:
            boards[project.id] = replace(board, statuses=Counter(board.statuses))
    if missing:
        counted = _count(missing, today)
        _MEMO.put(database, {pid: (today, stamps.get(pid)) for pid in counted}, counted)
        boards.update((pid, replace(board, statuses=Counter(board.statuses))) for pid, board in counted.items())
    return {project.id: boards[project.id] for project in projects}


def project_stamps(ids: list[int]) -> dict[int, tuple]:
    """project id -> (id, hash) of the project's newest audit event, in one query of one index
    seek per project: a strip only changes with its own project's data (every change to a
    project's rows appends an event naming the project), so a change elsewhere keeps it."""
    if not ids:
        return {}
    rows = db.session.execute(_stamps_statement(len(ids)), {f"p{n}": pid for n, pid in enumerate(ids)})
    return {row.project_id: (row.id, row.hash) for row in rows}


@lru_cache(maxsize=64)
def _stamps_statement(count: int):
    newest = [select(func.max(AuditEvent.id)).where(AuditEvent.project_id == bindparam(f"p{n}")).scalar_subquery()
              for n in range(count)]
    return select(AuditEvent.project_id, AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(newest))


def _count(projects: list[Project], today: date) -> dict[int, Dashboard]:
    """project id -> Dashboard for each of ``projects`` (five queries for all of them)."""
    by_id = {p.id: p for p in projects}
    boards = {p.id: Dashboard(p.id, grant_cents=p.grant_cents, elapsed_pct=elapsed_pct(p.start_date, p.end_date, today))
              for p in projects}
    if not boards:
        return boards
    ids = list(boards)
    for project_id, status in indicator_statuses(ids, by_id):
        boards[project_id].statuses[_status_key(status)] += 1
    verified = (select(EvidenceLink.id).join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
                .where(EvidenceLink.expenditure_id == Expenditure.id, EvidenceItem.deleted_at.is_(None),
                       EvidenceItem.review_state == "verified").exists())
    disbursed = Expenditure.status == "disbursed"
    for pid, spent, paid, backed in db.session.execute(
            select(Expenditure.project_id, func.sum(Expenditure.amount_cents),
                   func.sum(case((disbursed, Expenditure.amount_cents), else_=0)),
                   func.sum(case((disbursed & verified, Expenditure.amount_cents), else_=0)))
            .where(Expenditure.project_id.in_(ids)).group_by(Expenditure.project_id)):
        board = boards[pid]
        board.spent_cents, board.disbursed_cents, board.verified_cents = int(spent or 0), int(paid or 0), int(backed or 0)
    for pid, n in db.session.execute(
            select(IndicatorPeriod.project_id, func.count())
            .where(IndicatorPeriod.project_id.in_(ids), IndicatorPeriod.state == "submitted")
            .group_by(IndicatorPeriod.project_id)):
        boards[pid].waiting_approval = n
    for pid, n in db.session.execute(
            select(Activity.project_id, func.count())
            .where(Activity.project_id.in_(ids), late.activity_late_condition(today))
            .group_by(Activity.project_id)):
        boards[pid].late_activities = n
    return boards


# --- remembered between pages -------------------------------------------------------------------

MEMO_SECONDS = 60  # changes made outside the app (SQL by hand) show within this time
MEMO_PROJECTS = 4096


class _BoardMemo:
    """Per process (each gunicorn worker keeps its own), per database and project: the board
    counted under the project's stamp (the day and the project's newest audit event)."""

    def __init__(self):
        self._by_database: dict[tuple, dict[int, tuple[tuple, float, Dashboard]]] = {}
        self._lock = threading.Lock()

    def get(self, database: tuple, stamp: tuple, project_id: int) -> Dashboard | None:
        entry = self._by_database.get(database, {}).get(project_id)
        if entry is None or entry[0] != stamp or monotonic() - entry[1] > MEMO_SECONDS:
            return None
        return entry[2]

    def put(self, database: tuple, stamps: dict[int, tuple], boards: dict[int, Dashboard]) -> None:
        with self._lock:
            entries = self._by_database.get(database)
            if entries is None:
                if len(self._by_database) >= 8:  # tests make many databases in one process
                    self._by_database.clear()
                entries = self._by_database[database] = {}
            if len(entries) + len(boards) > MEMO_PROJECTS:
                entries.clear()
            now = monotonic()
            entries.update((pid, (stamps[pid], now, board)) for pid, board in boards.items())

    def clear(self) -> None:
        with self._lock:
            self._by_database.clear()


_MEMO = _BoardMemo()


# --- the strip's texts --------------------------------------------------------------------------

def strip_texts() -> dict[str, str]:
    """The strip's texts in the request's language, looked up once per page: a page of 50
    cards would otherwise ask gettext 600 times (about 15 us each)."""
    return {"indicators": _("Indicators"), "on_track": _("%(count)s on track"), "at_risk": _("%(count)s at risk"),
            "off_track": _("%(count)s off track"), "no_data": _("%(count)s no data"),
            "qualitative": _("(%(count)s qualitative)"), "budget_used": _("Budget used"),
            "used": _("%(used)s of the grant, %(elapsed)s of the time"), "verified": _("Verified evidence"),
            "coverage": _("%(pct)s of disbursed dollars"), "nothing_disbursed": _("nothing disbursed"),
            "waiting": _("Waiting for approval"), "late": _("Late activities")}


def strip_lines(board: Dashboard, texts: dict[str, str]) -> SimpleNamespace:
    """The strip of one board as the texts ``_dashboard.html`` shows (``texts``: ``strip_texts()``)."""
    statuses = board.statuses
    coverage = board.coverage_pct
    return SimpleNamespace(
        project_id=board.project_id, texts=texts,
        on_track=texts["on_track"] % {"count": statuses["on_track"]},
        at_risk=texts["at_risk"] % {"count": statuses["at_risk"]},
        off_track=texts["off_track"] % {"count": statuses["off_track"]},
        no_data=texts["no_data"] % {"count": statuses["no_data"]},
        qualitative=texts["qualitative"] % {"count": statuses["qualitative"]} if statuses["qualitative"] else "",
        used=texts["used"] % {"used": formatting.percent(board.used_pct), "elapsed": formatting.percent(board.elapsed_pct)},
        burning_fast=board.burning_fast,
        coverage=texts["coverage"] % {"pct": formatting.percent(coverage)} if coverage is not None
        else texts["nothing_disbursed"],
        waiting_approval=board.waiting_approval, late_activities=board.late_activities)


def strips(projects: list[Project]) -> dict[int, SimpleNamespace]:
    """project id -> the strip's lines for each of ``projects`` (the portfolio's cards, the overview)."""
    texts = strip_texts()
    return {pid: strip_lines(board, texts) for pid, board in dashboards(projects).items()}
