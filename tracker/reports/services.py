"""The progress report of one reporting period: what the donor liaison sends.

One report holds, for a reporting period (one of the project's indicator periods' date
ranges, ``narratives.parse_reporting_period``):

* the project's identification (title, code, donor, grant, dates, partners);
* the period's narrative per result (``narratives.result_narratives``);
* the IPTT of the period (``iptt.iptt_stream`` with that period only, values to date counted
  up to the period's end);
* the budget: per line and per result (rolled up through the allocations by
  ``budget.figures.rollup``), what was spent in the period and up to its end, against the
  share of the project's time elapsed at the period's end ("time elapsed"), so a line that
  spends well ahead of time shows;
* the evidence of the period: live items dated within it, or linked to one of its indicator
  periods, with their links;
* the approval state of the period's indicator values (how many are draft, submitted,
  returned, approved, and who approved last).

Read only, a fixed number of queries whatever the size of the project (the IPTT streams its
indicators in batches of 50). The page and the .docx (``docx_report.py``) are built from the
same ``ProgressReport``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, or_, select

from ..budget.figures import LineTotals, Rollup, line_totals, rollup
from ..extensions import db
from ..models import EvidenceItem, EvidenceLink, Expenditure, IndicatorPeriod, Project, User
from ..models.results import PERIOD_STATES
from ..results.narratives import parse_reporting_period, result_narratives
from ..validation import InputError
from .iptt import IpttGroup, ReportingPeriod, iptt_stream


@dataclass
class BudgetOfPeriod:
    """Budget lines and results with what was spent in the period and up to its end."""

    in_period: list[LineTotals]
    to_end: list[LineTotals]
    results_in_period: Rollup
    results_to_end: Rollup
    time_elapsed_pct: Decimal | None

    @property
    def lines(self):
        """(line totals to the period's end, spent in the period in cents)."""
        spent = {t.line.id: t.spent_cents for t in self.in_period}
        return [(t, spent.get(t.line.id, 0)) for t in self.to_end]

    @property
    def results(self):
        """(result, depth, figures to the period's end, spent in the period in cents)."""
        in_period = {r.id: f.spent_cents for r, _d, f in self.results_in_period.results}
        return [(r, depth, f, in_period.get(r.id, 0)) for r, depth, f in self.results_to_end.results]

    @property
    def total_in_period_cents(self) -> int:
        return sum(t.spent_cents for t in self.in_period)

    @property
    def total_to_end(self):
        return self.results_to_end.total


@dataclass
class ProgressReport:
    project: Project
    period: ReportingPeriod
    groups: list[IpttGroup]
    result_narratives: list[tuple]  # (result, text) for the results that have one
    budget: BudgetOfPeriod
    evidence: list[EvidenceItem]
    states: Counter = field(default_factory=Counter)
    last_approval: tuple | None = None  # (approved_at, approver's name)

    @property
    def periods(self) -> list[ReportingPeriod]:
        return [self.period]

    @property
    def state_rows(self) -> list[tuple[str, int]]:
        return [(state, self.states[state]) for state in PERIOD_STATES if self.states.get(state)]

    @property
    def indicator_count(self) -> int:
        return sum(self.states.values())

    @property
    def all_approved(self) -> bool:
        return bool(self.states) and self.states.get("approved", 0) == self.indicator_count


def _spending_totals(project_id: int, start: date | None, end: date) -> list[LineTotals]:
    """Each budget line with what was committed and disbursed from ``start`` (or the beginning)
    to ``end``, both included (one query, plus the lines' own)."""
    where = [Expenditure.project_id == project_id, Expenditure.spent_on <= end]
    if start is not None:
        where.append(Expenditure.spent_on >= start)
    sums = {row.line_id: (int(row.committed or 0), int(row.disbursed or 0)) for row in db.session.execute(
        select(Expenditure.line_id,
               func.sum(case((Expenditure.status == "committed", Expenditure.amount_cents), else_=0)).label("committed"),
               func.sum(case((Expenditure.status == "disbursed", Expenditure.amount_cents), else_=0)).label("disbursed"))
        .where(*where).group_by(Expenditure.line_id))}
    return [LineTotals(t.line, *sums.get(t.line.id, (0, 0))) for t in line_totals(project_id)]


def time_elapsed_pct(project: Project, on: date) -> Decimal | None:
    """The share of the project's days gone by the end of ``on`` (0-100)."""
    days = (project.end_date - project.start_date).days + 1
    if days <= 0:
        return None
    gone = (min(max(on, project.start_date - date.resolution), project.end_date) - project.start_date).days + 1
    return Decimal(max(gone, 0)) * 100 / Decimal(days)


def budget_of_period(project: Project, period: ReportingPeriod) -> BudgetOfPeriod:
    in_period = _spending_totals(project.id, period.start, period.end)
    to_end = _spending_totals(project.id, None, period.end)
    return BudgetOfPeriod(in_period, to_end, rollup(project.id, in_period), rollup(project.id, to_end),
                          time_elapsed_pct(project, period.end))


def period_evidence(project_id: int, period: ReportingPeriod) -> list[EvidenceItem]:
    """Live evidence dated within the period, or linked to one of its indicator periods (one query)."""
    linked = (select(EvidenceLink.evidence_id)
              .join(IndicatorPeriod, IndicatorPeriod.id == EvidenceLink.period_id)
              .where(EvidenceLink.project_id == project_id, IndicatorPeriod.start_date == period.start,
                     IndicatorPeriod.end_date == period.end))
    return db.session.execute(
        select(EvidenceItem).where(
            EvidenceItem.project_id == project_id, EvidenceItem.deleted_at.is_(None),
            or_(EvidenceItem.dated.between(period.start, period.end), EvidenceItem.id.in_(linked)))
        .order_by(EvidenceItem.dated, EvidenceItem.id)).scalars().all()


def approval_states(project_id: int, period: ReportingPeriod) -> tuple[Counter, tuple | None]:
    """How many of the period's indicator values are in each state, and the last approval."""
    where = (IndicatorPeriod.project_id == project_id, IndicatorPeriod.start_date == period.start,
             IndicatorPeriod.end_date == period.end)
    states = Counter(dict(db.session.execute(
        select(IndicatorPeriod.state, func.count()).where(*where).group_by(IndicatorPeriod.state)).all()))
    last = db.session.execute(
        select(IndicatorPeriod.approved_at, User.name).outerjoin(User, User.id == IndicatorPeriod.approved_by_id)
        .where(*where, IndicatorPeriod.approved_at.is_not(None))
        .order_by(IndicatorPeriod.approved_at.desc()).limit(1)).first()
    return states, (tuple(last) if last else None)


def reporting_period(project_id: int, start, end) -> tuple[date, date] | None:
    """(start, end) when the ISO dates are one of the project's reporting periods, else None."""
    try:
        return parse_reporting_period(project_id, start, end)
    except InputError:
        return None


def progress_report(project: Project, start: date, end: date) -> ProgressReport:
    """Everything the progress report of the reporting period (start, end) shows."""
    period = ReportingPeriod(start, end)
    _periods, groups = iptt_stream(project, [period], as_of=end)
    groups = list(groups)
    texts = result_narratives(project.id)
    narratives = [(group.result, texts[(group.result.id, start, end)]) for group in groups
                  if (group.result.id, start, end) in texts]
    states, last = approval_states(project.id, period)
    return ProgressReport(project, period, groups, narratives, budget_of_period(project, period),
                          period_evidence(project.id, period), states, last)


def record_download(project: Project, period: ReportingPeriod, what: str) -> None:
    """Write the report's download to the audit trail, as every export is (the route commits)."""
    from ..audit import trail

    trail.record(db.session, "export", table_name="project", row_id=project.id, project_id=project.id,
                 changes={"format": what, "report": "progress", "period": period.slug})
