"""The dashboard strip: a few figures per project, for the overview and every portfolio card.

For a list of projects at once, in a fixed number of queries (five, whatever the number of
projects, indicators, periods or expenditures):

- indicators on track / at risk / off track / no data: the one status rule
  (``tracker.results.values.indicator_progress``), from every indicator with its periods;
- budget used against time elapsed: spent (committed + disbursed, tracker/budget/figures.py's
  definition) as a share of the grant, beside the share of the project period gone by today;
- evidence coverage: the share of disbursed dollars whose expenditure has at least one
  verified, not deleted evidence item (the auditor's coverage figure);
- periods waiting for approval (submitted) and late activities (tracker/inbox/late.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm.attributes import set_committed_value

from ..budget.figures import percent_of
from ..extensions import db
from ..models import Activity, EvidenceItem, EvidenceLink, Expenditure, Indicator, IndicatorPeriod, Project
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


def dashboards(projects: list[Project], today: date | None = None) -> dict[int, Dashboard]:
    """project id -> Dashboard for each of ``projects`` (five queries for all of them)."""
    today = today or current_date()
    by_id = {p.id: p for p in projects}
    boards = {p.id: Dashboard(p.id, grant_cents=p.grant_cents, elapsed_pct=elapsed_pct(p.start_date, p.end_date, today))
              for p in projects}
    if not boards:
        return boards
    ids = list(boards)
    indicators = db.session.execute(select(Indicator).where(Indicator.project_id.in_(ids))).scalars().all()
    # The periods in one query (selectinload would send one per 500 indicators), set on their indicators.
    periods: dict[int, list] = {indicator.id: [] for indicator in indicators}
    for period in db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.project_id.in_(ids))).scalars():
        periods.setdefault(period.indicator_id, []).append(period)
    for indicator in indicators:
        set_committed_value(indicator, "periods", periods[indicator.id])
    for indicator in indicators:
        progress = indicator_progress(indicator, by_id[indicator.project_id])
        boards[indicator.project_id].statuses[_status_key(progress.status)] += 1
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
