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
from functools import lru_cache

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import paging
from ..charts import BurnChart, burn_chart
from ..evidence.services import justified_overspends  # noqa: F401  (services re-exports it)
from ..evidence.services import overspends_page as _overspends_page
from ..extensions import db
from ..models import (
    Activity,
    BudgetAllocation,
    BudgetLine,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Project,
    ResultNode,
)
from ..models.budget import LineAmounts
from ..validation import code_key, parse_id

LINES_PAGE_SIZE = 50  # budget lines per page of the budget page
ROLLUP_PAGE_SIZE = 50  # activities per page of the roll-up

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
    lines: int = 0
    illustrative: bool = False  # at least one line's figures are illustrative

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
        lines=len(totals),
        illustrative=any(t.line.illustrative for t in totals),
    )


# ---------------------------------------------------------------------------------------------
# The same figures read with SQL aggregates (the budget page: its totals are those of every line,
# whatever page of lines it shows)


def _line_spending(status: str):
    """A line's committed or disbursed cents, as a correlated subquery (an index on
    expenditure (line_id, status, amount_cents) answers it without reading the table)."""
    return (select(func.coalesce(func.sum(Expenditure.amount_cents), 0))
            .where(Expenditure.line_id == BudgetLine.id, Expenditure.status == status)
            .correlate(BudgetLine).scalar_subquery())


def _current_cents():
    return func.coalesce(BudgetLine.revised_cents, BudgetLine.original_cents)


@lru_cache(maxsize=1)
def _summary_statement():
    """The summary's statement, built once (``project_id`` is a bound parameter): building it
    took longer than the database takes to answer it."""
    per_line = select(
        BudgetLine.original_cents.label("original"), _current_cents().label("current"),
        case((BudgetLine.illustrative, 1), else_=0).label("illustrative"),
        _line_spending("committed").label("committed"), _line_spending("disbursed").label("disbursed"),
    ).where(BudgetLine.project_id == bindparam("project_id")).cte("per_line").prefix_with("MATERIALIZED")
    # MATERIALIZED: each line's two sums are read once (SQLite would otherwise flatten the
    # subquery and run each correlated sum again for every outer expression that names it).
    c = per_line.c
    return select(
        func.count(), func.sum(c.original), func.sum(c.current), func.sum(c.committed), func.sum(c.disbursed),
        func.sum(case((c.current - c.committed - c.disbursed < 0, 1), else_=0)), func.max(c.illustrative),
    ).select_from(per_line)


def budget_summary(project: Project) -> BudgetSummary:
    """``summarise`` over every line, computed by the database (one query whatever the number of lines)."""
    row = db.session.execute(_summary_statement(), {"project_id": project.id}).one()
    count, original, current, committed, disbursed, overspent, illustrative = row
    return BudgetSummary(grant_cents=project.grant_cents, original_cents=int(original or 0),
                         current_cents=int(current or 0), committed_cents=int(committed or 0),
                         disbursed_cents=int(disbursed or 0), overspent_lines=int(overspent or 0),
                         lines=int(count or 0), illustrative=bool(illustrative))


@dataclass
class LineRow(LineAmounts):
    """The columns of a budget line the budget page shows (read as a row, not an ORM object)."""

    id: int
    code: str
    description: str
    category: str
    account_code: str | None
    illustrative: bool
    original_cents: int
    revised_cents: int | None


@lru_cache(maxsize=1)
def _line_rows_statement():
    """Every line of a project (``project_id``) in order with its sums; built once."""
    return (select(BudgetLine.id, BudgetLine.code, BudgetLine.description, BudgetLine.category,
                   BudgetLine.account_code, BudgetLine.illustrative, BudgetLine.original_cents,
                   BudgetLine.revised_cents, _line_spending("committed"), _line_spending("disbursed"))
            .where(BudgetLine.project_id == bindparam("project_id")).order_by(BudgetLine.position, BudgetLine.code))


@lru_cache(maxsize=1)
def _line_page_statement():
    return _line_rows_statement().limit(bindparam("limit")).offset(bindparam("offset"))


def _line_totals_of(rows) -> list[LineTotals]:
    return [LineTotals(LineRow(*row[:8]), int(row[8] or 0), int(row[9] or 0)) for row in rows]


def lines_page(project_id: int, page: int = 1, page_size: int = LINES_PAGE_SIZE,
               total: int | None = None) -> paging.Page:
    """One page of the project's lines (in their order) with their sums: a ``paging.Page`` of
    ``LineTotals`` (one query, or two when the number of lines, ``total``, is not given)."""
    if total is None:
        total = db.session.execute(select(func.count()).select_from(BudgetLine)
                                   .where(BudgetLine.project_id == project_id)).scalar()
    page = paging.clamp(page, total, page_size)
    rows = db.session.execute(_line_page_statement(), {"project_id": project_id, "limit": page_size,
                                                       "offset": paging.offset(page, page_size)}).all()
    return paging.Page(_line_totals_of(rows), total, page, page_size)


def all_line_rows(project_id: int) -> list[LineTotals]:
    """Every line with its sums, as rows (one query): what the roll-up spreads."""
    return _line_totals_of(db.session.execute(_line_rows_statement(), {"project_id": project_id}).all())


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
    return _spread(totals, allocations, activities, results)


def rollup_rows(project_id: int) -> Rollup:
    """``rollup`` of every line, read as rows rather than ORM objects (four queries): the budget
    page's roll-up section. Its activities and results are rows with the columns it shows."""
    allocations = db.session.execute(
        select(BudgetAllocation.line_id, BudgetAllocation.activity_id, BudgetAllocation.percent)
        .where(BudgetAllocation.project_id == project_id)
        .order_by(BudgetAllocation.line_id, BudgetAllocation.activity_id)).all()
    activities = db.session.execute(
        select(Activity.id, Activity.code, Activity.title, Activity.result_id)
        .where(Activity.project_id == project_id).order_by(Activity.position, Activity.code)).all()
    results = db.session.execute(
        select(ResultNode.id, ResultNode.parent_id, ResultNode.code, ResultNode.statement)
        .where(ResultNode.project_id == project_id)).all()
    return _spread(all_line_rows(project_id), allocations, activities, results)


def _spread(totals, allocations, activities, results) -> Rollup:
    """The roll-up's arithmetic: anything with the attributes of the models' columns will do."""
    by_line: dict[int, list] = {}
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


def chart_of(project: Project, budget_cents: int) -> BurnChart:
    """The burn chart of the project's spending against ``budget_cents`` (the lines' current total)."""
    return burn_chart(spending_by_day(project.id), period=(project.start_date, project.end_date),
                      budget_cents=budget_cents, grant_cents=project.grant_cents,
                      currency=project.currency or "USD")


def overspends_page(project_id: int, page: int = 1, page_size: int = 50) -> paging.Page:
    """A page of the expenditures booked past their line's budget, with the true total."""
    return _overspends_page(project_id, page, page_size)


@dataclass
class BudgetPage:
    """What the budget page shows, each part in a fixed number of queries. The page itself has the
    summary and a page of lines; the chart, the overspends and the roll-up load when revealed
    (their own routes), and a booking's answer carries them all out of band."""

    summary: BudgetSummary | None
    lines: paging.Page | None = None  # of LineTotals
    chart: BurnChart | None = None
    overspends: paging.Page | None = None
    rollup: Rollup | None = None
    activities: paging.Page | None = None  # a page of the roll-up's (activity, Figures)

    @property
    def totals(self) -> list[LineTotals]:
        return self.lines.items if self.lines is not None else []


def rollup_page(project_id: int, page: int = 1, page_size: int = ROLLUP_PAGE_SIZE) -> tuple[Rollup, paging.Page]:
    """The roll-up and one page of its activities (the results are few: all of them are shown)."""
    figures = rollup_rows(project_id)
    total = len(figures.activities)
    page = paging.clamp(page, total, page_size)
    start = paging.offset(page, page_size)
    return figures, paging.Page(figures.activities[start:start + page_size], total, page, page_size)


def budget_page(project: Project, lines: int = 1, page_size: int = LINES_PAGE_SIZE) -> BudgetPage:
    """The budget page itself: the totals of every line and one page of lines (two queries)."""
    summary = budget_summary(project)
    return BudgetPage(summary=summary, lines=lines_page(project.id, lines, page_size, total=summary.lines))


def budget_after_booking(project: Project) -> BudgetPage:
    """Every part of the budget page a booking changes: totals, chart, overspends, the roll-up."""
    summary = budget_summary(project)
    figures, activities = rollup_page(project.id)
    return BudgetPage(summary=summary, chart=chart_of(project, summary.current_cents),
                      overspends=overspends_page(project.id), rollup=figures, activities=activities)


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
    """One page of the project's expenditures, newest first, with the true total (two queries
    whatever the page size): rows of ``ExpenditureRow``'s columns, each with its line's code and
    how many (not deleted) evidence items back it."""
    conditions = _expenditure_conditions(project_id, line_id)
    total = db.session.execute(select(func.count()).select_from(Expenditure).where(*conditions)).scalar()
    page = paging.clamp(page, total, page_size)
    evidence = (select(func.count(func.distinct(EvidenceLink.evidence_id)))
                .join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
                .where(EvidenceLink.expenditure_id == Expenditure.id, EvidenceItem.deleted_at.is_(None))
                .correlate(Expenditure).scalar_subquery())
    rows = db.session.execute(
        select(Expenditure.id, Expenditure.voucher, Expenditure.spent_on, BudgetLine.code, Expenditure.payee,
               Expenditure.amount_cents, Expenditure.original_amount, Expenditure.original_currency,
               Expenditure.exchange_rate, Expenditure.status, Expenditure.overspend_justification,
               evidence.label("evidence"))
        .join(BudgetLine, Expenditure.line_id == BudgetLine.id).where(*conditions)
        .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc())
        .limit(page_size).offset(paging.offset(page, page_size))).all()
    return paging.Page(rows, total, page, page_size)


def project_activities(project_id: int) -> list[Activity]:
    """The project's activities in their order (the allocation form's rows)."""
    return db.session.execute(
        select(Activity).where(Activity.project_id == project_id).order_by(Activity.position, Activity.code)
    ).scalars().all()


def lines_for_choice(project_id: int) -> list:
    """(id, code, description) rows of the project's lines in their order: a form's choices, a filter."""
    return db.session.execute(
        select(BudgetLine.id, BudgetLine.code, BudgetLine.description)
        .where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.code)
    ).all()


