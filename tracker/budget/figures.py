"""Figures of the grant's money: line totals, the project summary, roll-ups, the burn chart.

Read only: nothing here changes a row. Definitions used everywhere (pages, exports, tests):
a line's **current budget** is its revised amount where there is one, else its original
amount; **spent** is committed plus disbursed; **balance** is current budget minus spent;
**% used** is spent ÷ current budget.

**Roll-ups.** A line's figures are split over activities by its allocation percentages and
rolled up from activities to their result and every result above it. Cents are split by the
largest-remainder method, so the parts of every figure add up to the whole to the cent; what
a line leaves unallocated is shown as its own row, so the activity roll-up plus that row
always reconciles to the line totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import paging
from ..charts import BurnChart, burn_chart
from ..evidence.services import justified_overspends
from ..extensions import db
from ..models import Activity, BudgetAllocation, BudgetLine, Expenditure, Project, ResultNode
from ..validation import code_key, parse_id

# ---------------------------------------------------------------------------------------------
# Line totals (used by the budget page and by the Excel export)


def percent_of(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (exact); None when there is no whole to measure against."""
    if not whole:
        return None
    return Decimal(part) * 100 / Decimal(whole)


class Spending:
    """Derived figures shared by a line, a roll-up row and the whole budget.

    Needs ``current_cents``, ``committed_cents`` and ``disbursed_cents`` on the instance.
    """

    @property
    def spent_cents(self) -> int:
        return self.committed_cents + self.disbursed_cents

    @property
    def balance_cents(self) -> int:
        return self.current_cents - self.spent_cents

    @property
    def pct_used(self) -> Decimal | None:
        return percent_of(self.spent_cents, self.current_cents)

    @property
    def bar_pct(self) -> int:
        """% used clamped to 0..100, for progress bars."""
        pct = self.pct_used
        return 0 if pct is None else int(max(0, min(100, pct)))


@dataclass
class LineTotals(Spending):
    line: BudgetLine
    committed_cents: int
    disbursed_cents: int

    @property
    def original_cents(self) -> int:
        return self.line.original_cents

    @property
    def current_cents(self) -> int:
        return self.line.current_cents

    @property
    def overspent(self) -> bool:
        return self.balance_cents < 0


def _spending_sums(project_id: int, line_id: int | None = None) -> dict[int, tuple[int, int]]:
    query = select(
        Expenditure.line_id,
        func.sum(case((Expenditure.status == "committed", Expenditure.amount_cents), else_=0)).label("committed"),
        func.sum(case((Expenditure.status == "disbursed", Expenditure.amount_cents), else_=0)).label("disbursed"),
    ).where(Expenditure.project_id == project_id).group_by(Expenditure.line_id)
    if line_id is not None:
        query = query.where(Expenditure.line_id == line_id)
    return {row.line_id: (int(row.committed or 0), int(row.disbursed or 0)) for row in db.session.execute(query)}


def line_totals(project_id: int) -> list[LineTotals]:
    """Every budget line of the project with its committed and disbursed sums (two queries)."""
    sums = _spending_sums(project_id)
    lines = db.session.execute(
        select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.code)
    ).scalars().all()
    return [LineTotals(line, *sums.get(line.id, (0, 0))) for line in lines]


def one_line_totals(line: BudgetLine) -> LineTotals:
    """One line with its sums (one query)."""
    return LineTotals(line, *_spending_sums(line.project_id, line.id).get(line.id, (0, 0)))


@dataclass
class BudgetSummary(Spending):
    """The project's figures that must reconcile to the grant."""

    grant_cents: int
    original_cents: int
    current_cents: int
    committed_cents: int
    disbursed_cents: int
    overspent_lines: int

    @property
    def unbudgeted_cents(self) -> int:
        """Grant not yet put into any line (never negative: the lines cannot exceed it)."""
        return self.grant_cents - self.current_cents

    @property
    def grant_balance_cents(self) -> int:
        return self.grant_cents - self.spent_cents

    @property
    def pct_of_grant_spent(self) -> Decimal | None:
        return percent_of(self.spent_cents, self.grant_cents)


def summarise(project: Project, totals: list[LineTotals]) -> BudgetSummary:
    return BudgetSummary(
        grant_cents=project.grant_cents,
        original_cents=sum(t.original_cents for t in totals),
        current_cents=sum(t.current_cents for t in totals),
        committed_cents=sum(t.committed_cents for t in totals),
        disbursed_cents=sum(t.disbursed_cents for t in totals),
        overspent_lines=sum(1 for t in totals if t.overspent),
    )


# ---------------------------------------------------------------------------------------------
# Roll-up per activity and per result through the allocations


@dataclass
class Figures(Spending):
    """Budget, committed and disbursed cents of one roll-up row."""

    current_cents: int = 0
    committed_cents: int = 0
    disbursed_cents: int = 0

    def add(self, other: Figures) -> None:
        self.current_cents += other.current_cents
        self.committed_cents += other.committed_cents
        self.disbursed_cents += other.disbursed_cents


def split_cents(total: int, weights: list[Decimal]) -> list[int]:
    """Split ``total`` cents by percentage ``weights`` (summing to 100) so the parts add up exactly.

    Largest-remainder method: each part gets the floor of its exact share, then the cents
    left over go one each to the parts with the largest remainders (earliest first on ties).
    """
    if not weights:
        return []
    exact = [Decimal(total) * Decimal(w) / Decimal(100) for w in weights]
    parts = [int(x // 1) for x in exact]
    left = total - sum(parts)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


@dataclass
class Rollup:
    activities: list[tuple[Activity, Figures]]
    unallocated: Figures
    results: list[tuple[ResultNode, int, Figures]]  # (result, depth, figures incl. everything below)
    total: Figures


def rollup(project_id: int, totals: list[LineTotals]) -> Rollup:
    """Spread each line's figures over activities by its allocations; roll activities up to results.

    Three queries (allocations, activities, results) whatever the number of rows.
    """
    allocations = db.session.execute(
        select(BudgetAllocation).where(BudgetAllocation.project_id == project_id)
        .order_by(BudgetAllocation.line_id, BudgetAllocation.activity_id)
    ).scalars().all()
    activities = db.session.execute(
        select(Activity).where(Activity.project_id == project_id).order_by(Activity.position, Activity.code)
    ).scalars().all()
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project_id)).scalars().all()

    by_line: dict[int, list[BudgetAllocation]] = {}
    for allocation in allocations:
        by_line.setdefault(allocation.line_id, []).append(allocation)
    per_activity: dict[int, Figures] = {a.id: Figures() for a in activities}
    unallocated = Figures()
    total = Figures()
    for t in totals:
        shares = by_line.get(t.line.id, [])
        weights = [Decimal(a.percent) for a in shares]
        rest = Decimal(100) - sum(weights, Decimal(0))
        weights_with_rest = [*weights, rest]
        splits = {
            name: split_cents(value, weights_with_rest)
            for name, value in (("current", t.current_cents), ("committed", t.committed_cents),
                                ("disbursed", t.disbursed_cents))
        }
        for index, allocation in enumerate(shares):
            per_activity.setdefault(allocation.activity_id, Figures()).add(
                Figures(splits["current"][index], splits["committed"][index], splits["disbursed"][index]))
        unallocated.add(Figures(splits["current"][-1], splits["committed"][-1], splits["disbursed"][-1]))
        total.add(Figures(t.current_cents, t.committed_cents, t.disbursed_cents))

    per_result: dict[int, Figures] = {r.id: Figures() for r in results}
    parent_of = {r.id: r.parent_id for r in results}
    for activity in activities:
        node = activity.result_id
        seen = set()
        while node is not None and node not in seen:  # up the tree: output -> outcome -> objective
            seen.add(node)
            per_result.setdefault(node, Figures()).add(per_activity[activity.id])
            node = parent_of.get(node)

    ordered = sorted(results, key=lambda r: code_key(r.code))
    return Rollup(
        activities=[(a, per_activity[a.id]) for a in activities],
        unallocated=unallocated,
        results=[(r, r.code.count("."), per_result[r.id]) for r in ordered],
        total=total,
    )


@dataclass
class LinePage:
    """One line: its figures, its shares of activities (with their cents) and its expenditures."""

    line: BudgetLine
    totals: LineTotals
    shares: list[tuple[BudgetAllocation, int]]
    unallocated: tuple[Decimal, int]  # (percent, cents) of the line no activity has
    expenditures: list[Expenditure]


def line_page(project_id: int, line_id) -> LinePage | None:
    """Everything the line page shows (None when the line is not in this project)."""
    if parse_id(line_id) is None:
        return None
    line = db.session.execute(
        select(BudgetLine).options(selectinload(BudgetLine.allocations).joinedload(BudgetAllocation.activity))
        .where(BudgetLine.id == line_id, BudgetLine.project_id == project_id)).scalar()
    if line is None:
        return None
    totals = one_line_totals(line)
    shares = sorted(line.allocations, key=lambda a: (a.activity.position, code_key(a.activity.code)))
    weights = [Decimal(a.percent) for a in shares]
    rest = Decimal(100) - sum(weights, Decimal(0))
    split = split_cents(totals.current_cents, [*weights, rest])
    return LinePage(line, totals, list(zip(shares, split[:-1], strict=True)), (rest, split[-1]),
                    expenditures(project_id, line_id=line.id))


# ---------------------------------------------------------------------------------------------
# Burn chart (the figures; ``tracker.charts.burn_chart`` draws it)


def spending_by_day(project_id: int) -> list[tuple[date, str, int]]:
    """(day, status, cents) of the project's spending, oldest first: the burn chart's data (one query)."""
    return [(day, status, int(cents)) for day, status, cents in db.session.execute(
        select(Expenditure.spent_on, Expenditure.status, func.sum(Expenditure.amount_cents))
        .where(Expenditure.project_id == project_id)
        .group_by(Expenditure.spent_on, Expenditure.status).order_by(Expenditure.spent_on)
    ).all()]


@dataclass
class BudgetPage:
    """Everything the budget page shows, computed in a fixed number of queries."""

    totals: list[LineTotals]
    summary: BudgetSummary
    rollup: Rollup
    chart: BurnChart
    overspends: list[Expenditure]


def budget_page(project: Project) -> BudgetPage:
    totals = line_totals(project.id)
    summary = summarise(project, totals)
    chart = burn_chart(spending_by_day(project.id), period=(project.start_date, project.end_date),
                       budget_cents=summary.current_cents, grant_cents=project.grant_cents,
                       currency=project.currency or "USD")
    return BudgetPage(totals=totals, summary=summary, rollup=rollup(project.id, totals), chart=chart,
                      overspends=justified_overspends(project.id))




def _expenditure_conditions(project_id: int, line_id: int | None) -> list:
    conditions = [Expenditure.project_id == project_id]
    if line_id is not None:
        conditions.append(Expenditure.line_id == line_id)
    return conditions


def expenditures(project_id: int, *, line_id: int | None = None) -> list[Expenditure]:
    """The project's expenditures, newest first, with their lines (one query)."""
    return db.session.execute(
        select(Expenditure).options(joinedload(Expenditure.line))
        .where(*_expenditure_conditions(project_id, line_id))
        .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc())).scalars().all()


def expenditures_page(project_id: int, *, line_id: int | None = None, page: int = 1,
                      page_size: int = 50) -> paging.Page:
    """One page of the project's expenditures, newest first, with their lines and the true total
    (two queries whatever the page size)."""
    conditions = _expenditure_conditions(project_id, line_id)
    total = db.session.execute(select(func.count()).select_from(Expenditure).where(*conditions)).scalar()
    page = paging.clamp(page, total, page_size)
    rows = db.session.execute(
        select(Expenditure).options(joinedload(Expenditure.line)).where(*conditions)
        .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc())
        .limit(page_size).offset(paging.offset(page, page_size))).scalars().all()
    return paging.Page(rows, total, page, page_size)


def project_activities(project_id: int) -> list[Activity]:
    """The project's activities in their order (the allocation form's rows)."""
    return db.session.execute(
        select(Activity).where(Activity.project_id == project_id).order_by(Activity.position, Activity.code)
    ).scalars().all()


def lines_for_choice(project_id: int) -> list[BudgetLine]:
    return db.session.execute(
        select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.code)
    ).scalars().all()


