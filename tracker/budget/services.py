"""Rules of the grant's money.

Definitions used everywhere (pages, exports, tests): a line's **current budget** is its
revised amount where there is one, else its original amount; **spent** is committed plus
disbursed; **balance** is current budget minus spent; **% used** is spent ÷ current budget.

Decisions written down here because they are the app's contract:

* **The grant is a ceiling.** The current budgets of a project's lines (revised where
  revised) never total more than the grant. Original amounts are the history of the first
  budget and are not re-checked once lines are revised. A change that would go over is
  refused with the figures ("Budget lines would total USD 121,500.00, USD 1,500.00 above
  the grant of USD 120,000.00.").
* **A line's budget cannot be revised below what is already spent on it**; first move or
  correct the expenditures.
* **Foreign currency.** An expenditure paid in another currency records the original amount,
  its ISO 4217 code and the rate used, as *units of that currency for one US dollar* (VND
  22,350 means 22,350 đồng = USD 1). The USD amount may be left empty: it is then computed as
  original ÷ rate, rounded half-up to the cent. When it is typed it must agree with
  original ÷ rate within one cent (banks round too), and the typed figure is kept.
* **Overspending.** An expenditure that takes a line's spending (committed + disbursed)
  past its current budget needs a written justification. It is stored on the expenditure
  (so it is in the audit trail with the row) and flagged on the budget page and in the
  auditor's workspace.
* **Dates.** An expenditure dated outside the project period is booked with a warning, not
  refused (late invoices happen); the warning is shown to the person booking it.
* **Roll-ups.** A line's figures are split over activities by its allocation percentages
  and rolled up from activities to their result and every result above it. Cents are
  split by the largest-remainder method, so the parts of every figure add up to the whole to
  the cent; what a line leaves unallocated is shown as its own row, so the activity
  roll-up plus that row always reconciles to the line totals.

Services flush, never commit; they raise ``FieldErrors`` (an ``InputError`` carrying a
message per form field) and ``ConflictError`` so the route can roll back and answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from ..concurrency import check_version, stamp
from ..extensions import db
from ..formatting import money
from ..validation import InputError, parse_money_cents
from ..models import (
    BUDGET_CATEGORIES,
    EXPENDITURE_STATUSES,
    Activity,
    BudgetAllocation,
    BudgetLine,
    Expenditure,
    Project,
    ResultNode,
)
from .currencies import CURRENCIES, minor_units

# ---------------------------------------------------------------------------------------------
# Errors


class FieldErrors(InputError):
    """Bad input, with one message per form field (``""`` for the form as a whole)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors=errors)


# C0 control characters but tab and line feed (a NUL cannot even be stored by PostgreSQL).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
MAX_ID = 2**31 - 1  # the largest INTEGER id on PostgreSQL (and so on every database we run on)


def clean_text(value) -> str:
    """Typed text without control characters (CRLF becomes LF), trimmed."""
    text = "" if value is None else str(value)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def parse_id(value) -> int | None:
    """A database id from form or URL text; None for anything that cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise FieldErrors(errors)


# ---------------------------------------------------------------------------------------------
# Line totals (used by the budget page and by the Excel export)


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
        if not self.current_cents:
            return None
        return Decimal(self.spent_cents) * 100 / Decimal(self.current_cents)

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
        if not self.grant_cents:
            return None
        return Decimal(self.spent_cents) * 100 / Decimal(self.grant_cents)


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

    def code_key(code: str):
        return [int(part) if part.isdigit() else part for part in code.split(".")]

    ordered = sorted(results, key=lambda r: code_key(r.code))
    return Rollup(
        activities=[(a, per_activity[a.id]) for a in activities],
        unallocated=unallocated,
        results=[(r, r.code.count("."), per_result[r.id]) for r in ordered],
        total=total,
    )


# ---------------------------------------------------------------------------------------------
# Burn chart (drawn as SVG by the template from these numbers)


@dataclass
class BurnChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    start: date
    end: date
    max_cents: int
    budget_cents: int
    grant_cents: int
    disbursed_points: str
    spent_points: str
    plan_points: str
    grant_y: float
    budget_y: float
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    last_day: date | None = None
    disbursed_cents: int = 0
    spent_cents: int = 0

    @property
    def summary(self) -> str:
        if self.last_day is None:
            return (f"No spending booked yet. Budget {money(self.budget_cents)} "
                    f"of a grant of {money(self.grant_cents)}.")
        return (f"By {self.last_day.isoformat()}: disbursed {money(self.disbursed_cents)}, "
                f"committed and disbursed {money(self.spent_cents)}, of a budget of {money(self.budget_cents)} "
                f"(grant {money(self.grant_cents)}).")


def _nice_ceiling(cents: int) -> int:
    """A round axis maximum a little above ``cents`` (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten)."""
    target = cents * 105 // 100
    if target <= 0:
        return 100
    magnitude = 1
    while magnitude * 10 <= target:
        magnitude *= 10
    for step in ("1", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"):
        candidate = int(Decimal(magnitude) * Decimal(step))
        if candidate >= target:
            return candidate
    return magnitude * 10


def _month_starts(start: date, end: date) -> list[date]:
    months = []
    current = date(start.year, start.month, 1)
    if current < start:
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    while current <= end:
        months.append(current)
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return months


def burn_chart(project: Project, budget_cents: int, *, width: int = 720, height: int = 260) -> BurnChart:
    """Cumulative disbursed and committed+disbursed spending over the project period (one query)."""
    rows = db.session.execute(
        select(Expenditure.spent_on, Expenditure.status, func.sum(Expenditure.amount_cents))
        .where(Expenditure.project_id == project.id)
        .group_by(Expenditure.spent_on, Expenditure.status).order_by(Expenditure.spent_on)
    ).all()
    left, right, top, bottom = 78, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    start = project.start_date
    end = max([project.end_date, *[r[0] for r in rows]])
    if rows and rows[0][0] < start:
        start = rows[0][0]
    span = max((end - start).days, 1)
    spent_total = sum(int(r[2]) for r in rows)
    max_cents = _nice_ceiling(max(project.grant_cents, budget_cents, spent_total))

    def x(day: date) -> float:
        return round(left + plot_w * (day - start).days / span, 1)

    def y(cents: int) -> float:
        return round(top + plot_h - plot_h * cents / max_cents, 1)

    def steps(series: list[tuple[date, int]]) -> str:
        points = [(x(start), y(0))]
        running = 0
        for day, cents in series:
            points.append((x(day), y(running)))
            running += cents
            points.append((x(day), y(running)))
        points.append((x(end), y(running)))
        return " ".join(f"{px},{py}" for px, py in points)

    by_day_disbursed: dict[date, int] = {}
    by_day_spent: dict[date, int] = {}
    for day, status, cents in rows:
        by_day_spent[day] = by_day_spent.get(day, 0) + int(cents)
        if status == "disbursed":
            by_day_disbursed[day] = by_day_disbursed.get(day, 0) + int(cents)

    months = _month_starts(start, end)
    every = max(1, round(len(months) / 8))
    x_ticks = [(x(m), m.strftime("%b %Y")) for i, m in enumerate(months) if i % every == 0]
    y_ticks = []
    for quarter in range(5):
        cents = max_cents * quarter // 4
        y_ticks.append((y(cents), money(cents).replace(".00", "")))

    return BurnChart(
        width=width, height=height, left=left, top=top, plot_width=plot_w, plot_height=plot_h,
        start=start, end=end, max_cents=max_cents, budget_cents=budget_cents, grant_cents=project.grant_cents,
        disbursed_points=steps(sorted(by_day_disbursed.items())),
        spent_points=steps(sorted(by_day_spent.items())),
        plan_points=f"{x(project.start_date)},{y(0)} {x(project.end_date)},{y(budget_cents)}",
        grant_y=y(project.grant_cents), budget_y=y(budget_cents),
        x_ticks=x_ticks, y_ticks=y_ticks,
        last_day=rows[-1][0] if rows else None,
        disbursed_cents=sum(by_day_disbursed.values()), spent_cents=spent_total,
    )


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
    return BudgetPage(totals=totals, summary=summary, rollup=rollup(project.id, totals),
                      chart=burn_chart(project, summary.current_cents), overspends=justified_overspends(project.id))


def justified_overspends(project_id: int) -> list[Expenditure]:
    """Expenditures booked past their line's budget, with the justification given (one query)."""
    return db.session.execute(
        select(Expenditure).options(joinedload(Expenditure.line))
        .where(Expenditure.project_id == project_id, Expenditure.overspend_justification != "")
        .order_by(Expenditure.spent_on, Expenditure.id)
    ).scalars().all()


# ---------------------------------------------------------------------------------------------
# Budget lines


def _grant_check(project: Project, current_total: int) -> None:
    """The budget in force (revised where revised) never totals more than the grant."""
    if current_total > project.grant_cents:
        raise FieldErrors({"": (
            f"Budget lines would total {money(current_total, project.currency)}, "
            f"{money(current_total - project.grant_cents, project.currency)} above the grant of "
            f"{money(project.grant_cents, project.currency)}.")})


def _line_fields(project: Project, data: dict, line: BudgetLine | None) -> dict:
    """Parse and check a line's fields; FieldErrors with every problem at once."""
    errors: dict[str, str] = {}
    code = clean_text(data.get("code"))
    if not code:
        errors["code"] = "A code is required, for example BL7."
    elif len(code) > 20:
        errors["code"] = "A code has at most 20 characters."
    else:
        clash = db.session.execute(
            select(BudgetLine.id).where(BudgetLine.project_id == project.id, BudgetLine.code == code)
        ).scalar()
        if clash is not None and (line is None or clash != line.id):
            errors["code"] = f"Another line already has the code {code}."
    category = data.get("category") or "other"
    if category not in BUDGET_CATEGORIES:
        errors["category"] = "Choose a category from the list."
    account_code = clean_text(data.get("account_code"))
    if len(account_code) > 40:
        errors["account_code"] = "The donor's account code has at most 40 characters."
    description = clean_text(data.get("description"))
    if not description:
        errors["description"] = "Say what the line pays for."
    original = revised = None
    try:
        original = parse_money_cents(data.get("original") or "", field="The original amount")
    except InputError as error:
        errors["original"] = str(error)
    raw_revised = clean_text(data.get("revised"))
    if raw_revised:
        try:
            revised = parse_money_cents(raw_revised, field="The revised amount", allow_zero=True)
        except InputError as error:
            errors["revised"] = str(error)
    _raise_if(errors)
    return {"code": code, "category": category, "account_code": account_code, "description": description,
            "original_cents": original, "revised_cents": revised, "notes": clean_text(data.get("notes"))}


def _check_totals_with(project: Project, line: BudgetLine | None, current: int) -> None:
    others = db.session.execute(
        select(func.coalesce(func.sum(func.coalesce(BudgetLine.revised_cents, BudgetLine.original_cents)), 0))
        .where(BudgetLine.project_id == project.id, BudgetLine.id != (line.id if line else -1))
    ).scalar()
    _grant_check(project, int(others) + current)


def create_line(project: Project, data: dict, user=None) -> BudgetLine:
    """Add a budget line; refused when the lines would total more than the grant."""
    values = _line_fields(project, data, None)
    current = values["revised_cents"] if values["revised_cents"] is not None else values["original_cents"]
    _check_totals_with(project, None, current)
    position = db.session.execute(
        select(func.coalesce(func.max(BudgetLine.position), -1)).where(BudgetLine.project_id == project.id)
    ).scalar() + 1
    line = BudgetLine(project_id=project.id, position=position, **values)
    stamp(line, user)
    db.session.add(line)
    db.session.flush()
    return line


def update_line(project: Project, line: BudgetLine, data: dict, version, user=None) -> BudgetLine:
    """Change a line from a form opened at ``version`` (409 when someone saved meanwhile)."""
    check_version(line, version, f"Budget line {line.code}")
    values = _line_fields(project, data, line)
    current = values["revised_cents"] if values["revised_cents"] is not None else values["original_cents"]
    _check_totals_with(project, line, current)
    spent = one_line_totals(line).spent_cents
    if current < spent and current < line.current_cents:
        field_name = "revised" if values["revised_cents"] is not None else "original"
        raise FieldErrors({field_name: (
            f"{money(spent)} is already committed or disbursed on {line.code}; its budget cannot go "
            f"below that. Move or correct those expenditures first.")})
    amounts_changed = (values["original_cents"], values["revised_cents"]) != (line.original_cents,
                                                                             line.revised_cents)
    for key, value in values.items():
        if getattr(line, key) != value:
            setattr(line, key, value)
    if amounts_changed:
        line.illustrative = False  # a figure a manager set is no longer the demo's illustration
    if db.session.is_modified(line):
        stamp(line, user)
    db.session.flush()
    return line


def delete_line(line: BudgetLine) -> None:
    """Remove a line that has no expenditures (its allocations go with it)."""
    count = db.session.execute(select(func.count()).where(Expenditure.line_id == line.id)).scalar()
    if count:
        raise FieldErrors({"": f"{line.code} has {count} expenditure{'s' if count != 1 else ''}; "
                               "a line with spending cannot be removed. Revise its amount instead."})
    db.session.delete(line)
    db.session.flush()


def parse_percent(raw: str, *, label: str) -> Decimal | None:
    """'' -> None; '12.5' -> Decimal; InputError for anything outside 0 < p <= 100 or > 2 decimals."""
    text = (raw or "").strip().replace("%", "").replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(f"{label}: the share must be a number of percent, for example 25.") from None
    if not value.is_finite():
        raise InputError(f"{label}: the share must be a number of percent, for example 25.")
    if value.as_tuple().exponent < -2:
        raise InputError(f"{label}: a share has at most two decimals.")
    if value < 0 or value > 100:
        raise InputError(f"{label}: a share is between 0 and 100 percent.")
    return None if value == 0 else value


def set_allocations(line: BudgetLine, shares: dict[int, str]) -> list[BudgetAllocation]:
    """Replace the line's allocations: ``{activity_id: "percent"}``; blank or 0 removes a share.

    The shares of a line total at most 100%; what is left is shown as unallocated.
    """
    activities = {a.id: a for a in db.session.execute(
        select(Activity).where(Activity.project_id == line.project_id)).scalars()}
    errors: dict[str, str] = {}
    wanted: dict[int, Decimal] = {}
    for activity_id, raw in shares.items():
        activity = activities.get(activity_id)
        if activity is None:
            errors[f"share-{activity_id}"] = "That activity is not part of this project."
            continue
        try:
            value = parse_percent(raw, label=activity.code)
        except InputError as error:
            errors[f"share-{activity_id}"] = str(error)
            continue
        if value is not None:
            wanted[activity_id] = value
    _raise_if(errors)
    total = sum(wanted.values(), Decimal(0))
    if total > 100:
        raise FieldErrors({"": f"The shares of {line.code} would total {total.normalize():f}%; "
                               "a line's shares total at most 100%."})
    existing = {a.activity_id: a for a in line.allocations}
    for activity_id, allocation in list(existing.items()):
        if activity_id not in wanted:
            line.allocations.remove(allocation)
    for activity_id, value in wanted.items():
        if activity_id in existing:
            if existing[activity_id].percent != value:
                existing[activity_id].percent = value
        else:
            line.allocations.append(BudgetAllocation(project_id=line.project_id, activity_id=activity_id,
                                                     percent=value))
    db.session.flush()
    return line.allocations


# ---------------------------------------------------------------------------------------------
# Expenditures


CENT = Decimal("0.01")


def _parse_decimal(raw: str, *, label: str, places: int, example: str, limit: Decimal) -> Decimal:
    text = (raw or "").strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(f"{label} must be a number, for example {example}.") from None
    if not value.is_finite():
        raise InputError(f"{label} must be a number, for example {example}.")
    if value <= 0:
        raise InputError(f"{label} must be more than zero.")
    if value.as_tuple().exponent < -places:
        raise InputError(f"{label} can have at most {places} decimal{'s' if places != 1 else ''}."
                         if places else f"{label} has no decimals.")
    if value >= limit:
        raise InputError(f"{label} is too large.")
    return value


def usd_from_original(original: Decimal, rate: Decimal) -> int:
    """Original amount ÷ rate (units per USD), in cents, rounded half-up."""
    return int((original / rate).quantize(CENT, rounding=ROUND_HALF_UP) * 100)


@dataclass
class Booking:
    expenditure: Expenditure
    warnings: list[str] = field(default_factory=list)
    computed_usd: bool = False


def _parse_date(raw) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _expenditure_fields(project: Project, data: dict, expenditure: Expenditure | None) -> tuple[dict, bool]:
    """Parse and check an expenditure's fields (everything but the budget check)."""
    errors: dict[str, str] = {}
    line = None
    line_id = parse_id(data.get("line_id"))
    if line_id:
        line = db.session.get(BudgetLine, line_id)
        if line is None or line.project_id != project.id:
            line = None
    if line is None:
        errors["line_id"] = "Choose the budget line this is paid from."
    spent_on = _parse_date(data.get("spent_on"))
    if spent_on is None:
        errors["spent_on"] = "Give the date as YYYY-MM-DD, for example 2016-11-25."
    status = data.get("status") or ""
    if status not in EXPENDITURE_STATUSES:
        errors["status"] = "Choose committed or disbursed."
    voucher = clean_text(data.get("voucher"))
    if not voucher:
        errors["voucher"] = "The voucher or reference number is required."
    elif len(voucher) > 60:
        errors["voucher"] = "A voucher number has at most 60 characters."
    else:
        clash = db.session.execute(
            select(Expenditure.id).where(Expenditure.project_id == project.id, Expenditure.voucher == voucher)
        ).scalar()
        if clash is not None and (expenditure is None or clash != expenditure.id):
            errors["voucher"] = f"Voucher {voucher} is already booked in this project; each voucher is booked once."
    payee = clean_text(data.get("payee"))
    if len(payee) > 200:
        errors["payee"] = "The payee has at most 200 characters."

    # Currency: all of amount, currency and rate, or none of them.
    raw_original = clean_text(data.get("original_amount"))
    currency = clean_text(data.get("original_currency")).upper()
    raw_rate = clean_text(data.get("exchange_rate"))
    original = rate = None
    if currency and currency not in CURRENCIES:
        errors["original_currency"] = f"{currency} is not an ISO 4217 currency code such as VND or EUR."
    elif currency == "USD":
        errors["original_currency"] = "Leave the original currency empty for amounts paid in US dollars."
    if raw_original:
        if not currency and "original_currency" not in errors:
            errors["original_currency"] = "Say which currency the original amount is in, for example VND."
        try:
            places = minor_units(currency) if currency in CURRENCIES else 2
            original = _parse_decimal(raw_original, label="The original amount", places=places,
                                      example="212325000", limit=Decimal("1e15"))
        except InputError as error:
            errors["original_amount"] = str(error)
        if not raw_rate:
            errors["exchange_rate"] = "A foreign amount needs the exchange rate used (units of it for one USD)."
    elif currency and "original_currency" not in errors:
        errors["original_amount"] = f"Give the amount paid in {currency}, or leave the currency empty."
    if raw_rate:
        if not raw_original and "original_amount" not in errors:
            errors["original_amount"] = "An exchange rate needs the original amount it converts."
        try:
            rate = _parse_decimal(raw_rate, label="The exchange rate", places=6, example="22350",
                                  limit=Decimal("1e11"))
        except InputError as error:
            errors["exchange_rate"] = str(error)

    raw_usd = clean_text(data.get("amount"))
    amount_cents = None
    computed = False
    if raw_usd:
        try:
            amount_cents = parse_money_cents(raw_usd, field="The USD amount")
        except InputError as error:
            errors["amount"] = str(error)
    if original is not None and rate is not None:
        expected = usd_from_original(original, rate)
        if amount_cents is None and "amount" not in errors:
            amount_cents, computed = expected, True
            if amount_cents <= 0:
                errors["amount"] = "The converted amount rounds to zero US dollars."
            elif amount_cents >= 10**15:
                errors["amount"] = "The converted amount is too large; check the rate."
        elif amount_cents is not None and abs(amount_cents - expected) > 1:
            errors["amount"] = (
                f"{money(amount_cents)} does not match {original:,f} {currency} at {rate.normalize():f} "
                f"{currency} per USD, which is {money(expected)}. Correct the rate, or leave the USD amount "
                "empty to have it computed.")
    elif amount_cents is None and "amount" not in errors:
        errors["amount"] = "The amount in USD is required (or give the original amount and rate to compute it)."
    _raise_if(errors)
    values = {
        "line_id": line.id, "spent_on": spent_on, "amount_cents": amount_cents, "status": status,
        "voucher": voucher, "payee": payee, "description": clean_text(data.get("description")),
        "original_amount": original, "original_currency": currency if original is not None else "",
        "exchange_rate": rate,
    }
    return values, computed


def _budget_check(project: Project, line: BudgetLine, amount_cents: int, expenditure: Expenditure | None,
                  justification: str) -> None:
    """Spending past the line's current budget needs a written justification."""
    sums = _spending_sums(project.id, line.id).get(line.id, (0, 0))
    spent = sums[0] + sums[1]
    if expenditure is not None and expenditure.line_id == line.id:
        spent -= expenditure.amount_cents
    after = spent + amount_cents
    if after > line.current_cents and not justification:
        raise FieldErrors({"overspend_justification": (
            f"This takes {line.code} to {money(after)}, {money(after - line.current_cents)} over its budget of "
            f"{money(line.current_cents)}. Write a justification to book it anyway.")})


def _date_warnings(project: Project, spent_on: date) -> list[str]:
    if project.start_date <= spent_on <= project.end_date:
        return []
    return [f"The date {spent_on.isoformat()} is outside the project period "
            f"({project.start_date.isoformat()} to {project.end_date.isoformat()}). It was booked; check the "
            "date if that was not intended."]


def book_expenditure(project: Project, data: dict, user=None) -> Booking:
    """Book a new expenditure against one of the project's lines."""
    values, computed = _expenditure_fields(project, data, None)
    justification = clean_text(data.get("overspend_justification"))
    line = db.session.get(BudgetLine, values["line_id"])
    _budget_check(project, line, values["amount_cents"], None, justification)
    expenditure = Expenditure(project_id=project.id, overspend_justification=justification,
                              created_by_id=getattr(user, "id", None), **values)
    stamp(expenditure, user)
    db.session.add(expenditure)
    db.session.flush()
    return Booking(expenditure, _date_warnings(project, values["spent_on"]), computed)


def update_expenditure(project: Project, expenditure: Expenditure, data: dict, version, user=None) -> Booking:
    """Change an expenditure from a form opened at ``version``."""
    check_version(expenditure, version, f"Expenditure {expenditure.voucher}")
    values, computed = _expenditure_fields(project, data, expenditure)
    justification = clean_text(data.get("overspend_justification"))
    line = db.session.get(BudgetLine, values["line_id"])
    _budget_check(project, line, values["amount_cents"], expenditure, justification)
    for key, value in values.items():
        if getattr(expenditure, key) != value:
            setattr(expenditure, key, value)
    if expenditure.overspend_justification != justification:
        expenditure.overspend_justification = justification
    if db.session.is_modified(expenditure):
        stamp(expenditure, user)
    db.session.flush()
    return Booking(expenditure, _date_warnings(project, values["spent_on"]), computed)


def expenditures(project_id: int, *, line_id: int | None = None) -> list[Expenditure]:
    """The project's expenditures, newest first, with their lines (one query)."""
    query = (select(Expenditure).options(joinedload(Expenditure.line))
             .where(Expenditure.project_id == project_id)
             .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()))
    if line_id is not None:
        query = query.where(Expenditure.line_id == line_id)
    return db.session.execute(query).scalars().all()


def lines_for_choice(project_id: int) -> list[BudgetLine]:
    return db.session.execute(
        select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.code)
    ).scalars().all()


def default_spent_on() -> date:
    """The date the add-expenditure form starts with: today."""
    return date.today()
