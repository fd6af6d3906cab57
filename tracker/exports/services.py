"""What the donor's workbook holds: one definition per sheet, shared by Excel and CSV.

A sheet is a list of columns and a generator of rows. Values are plain Python values (text,
int, Decimal, date, datetime); money is integer cents in columns of kind ``money``; a
formula cell is ``Formula(text, value)``: the workbook writes the live formula, CSV writes
``value``, the figure the app computed itself (the two agree: a test recomputes the
workbook's formulas and compares them with the app's totals).

Figures come from the shared services only: indicator progress from
``tracker.results.services`` (``indicator_progress``, ``percent_of_target``,
``status_for``) and the money from ``tracker.budget.services.line_totals``.

Rows of the large sheets (indicator periods, weekly logs, expenditures, evidence) are read
in chunks or streamed, so memory does not grow with the project.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload

from ..budget.services import line_totals
from ..database import DEFERRED_READ
from ..extensions import db
from ..models import (
    Activity,
    BudgetLine,
    DimensionCategory,
    DisaggregatedValue,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    ProgressLog,
    Project,
    ResultNode,
    User,
)
from ..models.evidence import KIND_LABELS
from ..models.progress import STATUS_LABELS as ACTIVITY_STATUS_LABELS
from ..models.results import LEVEL_LABELS
from ..results.services import STATUS_LABELS, indicator_progress, percent_of_target, status_for

CHUNK = 500  # indicators or results loaded per query on the large sheets
MAX_OUTLINE = 7  # Excel's deepest outline level


# --- The pieces a sheet is made of ----------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text, wrap, money, date, datetime, int, number, percent, link
    width: float = 14


class Formula:
    """A live formula in the workbook; ``value`` is what CSV shows (the app's own figure)."""

    __slots__ = ("text", "value")

    def __init__(self, text: str, value=None):
        self.text = text
        self.value = value


class Money:
    """An amount in cents in a column that is not a money column (the Summary's grant)."""

    __slots__ = ("cents",)

    def __init__(self, cents: int):
        self.cents = cents


class Link:
    """Text that is also a hyperlink (when the address is safe to link)."""

    __slots__ = ("label", "url")

    def __init__(self, label: str, url: str | None):
        self.label = label
        self.url = url


class Row:
    """A row with an outline level (grouping) or emphasis; plain rows are tuples."""

    __slots__ = ("values", "level", "bold", "note")

    def __init__(self, values, level: int = 0, bold: bool = False, note: bool = False):
        self.values = values
        self.level = level
        self.bold = bold
        self.note = note


# Rows after this marker are not part of the table (totals, checks): the autofilter stops
# above them and CSV leaves them out.
END_OF_TABLE = object()


@dataclass
class Sheet:
    slug: str
    title: str
    columns: list[Column]
    rows: Callable[[], Iterable]
    description: str = ""
    freeze: str = "A2"
    autofilter: bool = True
    outline: Callable[[], int] | None = None  # deepest outline level, for grouped sheets
    landscape: bool = True

    def letter(self, key: str) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter([c.key for c in self.columns].index(key) + 1)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


@dataclass
class ExportContext:
    """Who asked for the export, when, and for which project."""

    project: Project
    generated_by: str = "system"
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    @property
    def currency(self) -> str:
        code = (self.project.currency or "USD").upper()
        return code if code.isalpha() and len(code) == 3 else "USD"


@contextmanager
def read_snapshot():
    """Run an export's reads in one read-only transaction: every sheet sees the same moment,
    and the export does not hold SQLite's write lock (a deferred BEGIN in WAL mode) nor block
    anyone on PostgreSQL (REPEATABLE READ, read only). Ends the request's transaction first
    (an export view has nothing pending) and rolls back at the end; audit records are
    written afterwards, in their own transaction."""
    db.session.rollback()
    options = {DEFERRED_READ: True}
    if db.session.get_bind().dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    db.session.connection(execution_options=options)
    try:
        yield
    finally:
        db.session.rollback()


# --- Small conversions ------------------------------------------------------------------------

def plain_number(value):
    """Decimal(3.0000) -> 3, Decimal(2.5000) -> Decimal(2.5); never an exponent form."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def naive_utc(moment: datetime | None) -> datetime | None:
    """Spreadsheets have no time zones: times are written in UTC, without the zone."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def rounded_pct(pct: Decimal | None) -> Decimal | None:
    return None if pct is None else Decimal(pct).quantize(Decimal("0.01"))


def code_key(code: str):
    """Natural order of codes: 1.2 before 1.10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in (code or "").split(".")]


def evidence_ref(evidence_id: int) -> str:
    """How an evidence item is referred to across sheets: E12."""
    return f"E{evidence_id}"


def yes(flag: bool) -> str:
    return "Yes" if flag else ""


def any_illustrative(project: Project) -> bool:
    flags = db.session.execute(
        select(
            select(Indicator.id).where(Indicator.project_id == project.id, Indicator.illustrative).exists(),
            select(BudgetLine.id).where(BudgetLine.project_id == project.id, BudgetLine.illustrative).exists(),
        )
    ).one()
    return any(flags)


def illustrative_notice(project: Project) -> str:
    """The notice shown wherever figures are illustrative ('' when none is)."""
    if project.illustrative_note:
        return project.illustrative_note
    if any_illustrative(project):
        return ("Some figures in this workbook are illustrative (marked “Yes” in the Illustrative "
                "columns): the source gives none.")
    return ""


# --- Summary ----------------------------------------------------------------------------------

# (label, attribute, kind). The import reads the same labels back (tracker.exports.importer).
SUMMARY_FIELDS = [
    ("Project", "title", "text"),
    ("Project code", "code", "text"),
    ("Donor", "donor", "text"),
    ("Funding source", "funding_source", "text"),
    ("Implementing agency", "implementing_agency", "text"),
    ("Implementing partners", "implementing_partners", "text"),
    ("Grant", "grant_cents", "money"),
    ("Currency", "currency", "text"),
    ("Start date", "start_date", "date"),
    ("End date", "end_date", "date"),
    ("Country (ISO code)", "country", "text"),
    ("IATI identifier", "iati_identifier", "text"),
    ("Overall objective", "objective", "text"),
    ("Summary", "summary", "text"),
    ("Status", "status_note", "text"),
]

SUMMARY_COLUMNS = [Column("item", "Item", "text", 26), Column("value", "Value", "wrap", 100)]


def summary_rows(ctx: ExportContext, sheets: list[Sheet]) -> Iterator:
    project = ctx.project
    notice = illustrative_notice(project)
    if notice:
        yield Row(("Illustrative figures", notice), bold=True, note=True)
    for label, attr, kind in SUMMARY_FIELDS:
        value = getattr(project, attr)
        yield (label, Money(value) if kind == "money" else value)
    yield ("Generated at (UTC)", ctx.generated_at)
    yield ("Generated by", ctx.generated_by)
    yield END_OF_TABLE
    yield ()
    yield Row(("Sheets in this workbook", ""), bold=True)
    for sheet in sheets:
        if sheet.slug != "summary":
            yield (sheet.title, sheet.description)


# --- Logframe ---------------------------------------------------------------------------------

LOGFRAME_COLUMNS = [
    Column("level", "Level", "text", 16),
    Column("code", "Code", "text", 9),
    Column("logic", "Intervention logic", "wrap", 48),
    Column("indicator", "Indicator", "wrap", 40),
    Column("unit", "Unit", "text", 11),
    Column("baseline", "Baseline", "number", 12),
    Column("target", "Target", "number", 12),
    Column("latest", "Latest actual", "number", 12),
    Column("latest_end", "Latest period end", "date", 12),
    Column("verification", "Means of verification", "wrap", 32),
    Column("assumptions", "Assumptions and risks", "wrap", 36),
    Column("illustrative", "Illustrative", "text", 10),
]


def _indicator_figure(indicator: Indicator, number, text: str):
    return text if indicator.unit == "qualitative" else plain_number(number)


def logframe_depth(project: Project) -> int:
    """The deepest outline level of the Logframe sheet (indicators sit one below their result)."""
    codes = db.session.execute(select(ResultNode.code).where(ResultNode.project_id == project.id)).scalars()
    return min(max((code.count(".") for code in codes), default=0) + 1, MAX_OUTLINE)


def logframe_rows(ctx: ExportContext) -> Iterator:
    """The four-column matrix (logic | indicators | verification | assumptions), one row per
    result, indicator and activity, grouped by outline level under their result."""
    project = ctx.project
    result_ids = [row.id for row in sorted(
        db.session.execute(select(ResultNode.id, ResultNode.code).where(ResultNode.project_id == project.id)),
        key=lambda row: code_key(row.code))]
    for start in range(0, len(result_ids), CHUNK):
        chunk = result_ids[start:start + CHUNK]
        results = db.session.execute(
            select(ResultNode).where(ResultNode.id.in_(chunk))
            .options(selectinload(ResultNode.indicators).selectinload(Indicator.periods),
                     selectinload(ResultNode.activities))
        ).scalars().all()
        by_id = {r.id: r for r in results}
        for result_id in chunk:
            result = by_id[result_id]
            level = min(result.depth, MAX_OUTLINE - 1)
            yield Row((LEVEL_LABELS.get(result.level, result.level), result.code, result.statement, None, None,
                       None, None, None, None, None, result.assumptions, None), level=level, bold=True)
            for indicator in result.indicators:
                progress = indicator_progress(indicator, project)
                latest = (progress.text_to_date or None if indicator.unit == "qualitative"
                          else plain_number(progress.value_to_date))
                yield Row((
                    "Indicator", indicator.code, None, indicator.title, indicator.unit_label,
                    _indicator_figure(indicator, indicator.baseline_value, indicator.baseline_text),
                    _indicator_figure(indicator, indicator.target_value, indicator.target_text),
                    latest,
                    progress.latest_period.end_date if progress.latest_period else None,
                    indicator.means_of_verification, None, yes(indicator.illustrative),
                ), level=level + 1)
            for activity in result.activities:
                yield Row(("Activity", activity.code, activity.title, None, None, None, None, None, None, None,
                           None, None), level=level + 1)


# --- Indicators -------------------------------------------------------------------------------

INDICATOR_COLUMNS = [
    Column("code", "Indicator code", "text", 10),
    Column("title", "Indicator", "text", 40),
    Column("result", "Result", "text", 8),
    Column("unit", "Unit", "text", 11),
    Column("start", "Period start", "date", 12),
    Column("end", "Period end", "date", 12),
    Column("target", "Target", "number", 11),
    Column("actual", "Actual", "number", 11),
    Column("pct", "% of target", "percent", 11),
    Column("target_to_date", "Target to date", "number", 11),
    Column("actual_to_date", "Actual to date", "number", 11),
    Column("pct_to_date", "% of target to date", "percent", 12),
    Column("status", "Status", "text", 12),
    Column("state", "Approval", "text", 11),
    Column("comment", "Comment", "text", 36),
    Column("disaggregated", "Disaggregated values", "text", 32),
    Column("illustrative", "Illustrative", "text", 10),
]


def _pct_formula(target: str, actual: str, ascending: bool) -> str:
    """% of target as a spreadsheet formula, the same rule as ``percent_of_target``."""
    if ascending:
        return f'=IF(AND(ISNUMBER({target}),ISNUMBER({actual})),IF({target}=0,"",{actual}/{target}),"")'
    return (f'=IF(AND(ISNUMBER({target}),ISNUMBER({actual})),'
            f'IF({actual}=0,IF({target}>=0,1,""),{target}/{actual}),"")')


def _status_formula(pct_cell: str, project: Project) -> str:
    """The status rule of ``status_for`` with the project's thresholds."""
    on_track = plain_number(Decimal(project.on_track_pct) / 100)
    at_risk = plain_number(Decimal(project.at_risk_pct) / 100)
    labels = STATUS_LABELS
    return (f'=IF(ISNUMBER({pct_cell}),IF({pct_cell}>={on_track},"{labels["on_track"]}",'
            f'IF({pct_cell}>={at_risk},"{labels["at_risk"]}","{labels["off_track"]}")),"{labels["no_data"]}")')


def _disaggregated_text(project_id: int, period_ids: list[int]) -> dict[int, str]:
    """'Language: Vietnamese 8; English 1' per period."""
    if not period_ids:
        return {}
    from ..models import Dimension

    rows = db.session.execute(
        select(DisaggregatedValue.period_id, Dimension.name, DimensionCategory.label, DisaggregatedValue.value)
        .join(DimensionCategory, DimensionCategory.id == DisaggregatedValue.category_id)
        .join(Dimension, Dimension.id == DimensionCategory.dimension_id)
        .where(DisaggregatedValue.project_id == project_id, DisaggregatedValue.period_id.in_(period_ids))
        .order_by(DisaggregatedValue.period_id, Dimension.position, DimensionCategory.position)
    ).all()
    grouped: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for period_id, dimension, label, value in rows:
        grouped[period_id].setdefault(dimension, []).append(f"{label} {plain_number(value)}")
    return {pid: "; ".join(f"{dim}: {', '.join(parts)}" for dim, parts in dims.items())
            for pid, dims in grouped.items()}


def indicator_rows(ctx: ExportContext, sheet: Sheet) -> Iterator:
    """One row per indicator and period, in indicator order, read in chunks of indicators."""
    project = ctx.project
    col = {c.key: sheet.letter(c.key) for c in sheet.columns}
    indicator_ids = db.session.execute(
        select(Indicator.id).where(Indicator.project_id == project.id).order_by(Indicator.position, Indicator.id)
    ).scalars().all()
    result_codes = dict(db.session.execute(
        select(ResultNode.id, ResultNode.code).where(ResultNode.project_id == project.id)).all())
    row_number = 1
    for start in range(0, len(indicator_ids), CHUNK):
        chunk = indicator_ids[start:start + CHUNK]
        indicators = {i.id: i for i in db.session.execute(
            select(Indicator).where(Indicator.id.in_(chunk)).options(selectinload(Indicator.periods))
        ).scalars().all()}
        disaggregated = _disaggregated_text(
            project.id, [p.id for i in indicators.values() for p in i.periods])
        for indicator_id in chunk:
            indicator = indicators[indicator_id]
            progress = indicator_progress(indicator, project)
            qualitative = indicator.unit == "qualitative"
            to_date = {period.id: (target_td, actual_td) for period, target_td, actual_td in progress.series}
            for period in sorted(indicator.periods, key=lambda p: p.start_date):
                row_number += 1
                r = str(row_number)
                if qualitative:
                    figures = (period.target_text, period.actual_text, None, None, None, None,
                               STATUS_LABELS["qualitative"])
                else:
                    target_td, actual_td = to_date.get(period.id, (None, None))
                    pct = percent_of_target(period.actual, period.target, indicator.ascending)
                    pct_td = percent_of_target(actual_td, target_td, indicator.ascending)
                    status = status_for(pct_td, project) if period.actual is not None else "no_data"
                    figures = (
                        plain_number(period.target), plain_number(period.actual),
                        Formula(_pct_formula(col["target"] + r, col["actual"] + r, indicator.ascending),
                                rounded_pct(pct)),
                        plain_number(target_td), plain_number(actual_td),
                        Formula(_pct_formula(col["target_to_date"] + r, col["actual_to_date"] + r,
                                             indicator.ascending), rounded_pct(pct_td)),
                        Formula(_status_formula(col["pct_to_date"] + r, project), STATUS_LABELS[status]),
                    )
                yield (indicator.code, indicator.title, result_codes.get(indicator.result_id, ""),
                       indicator.unit_label, period.start_date, period.end_date, *figures,
                       period.state.capitalize(), period.comment, disaggregated.get(period.id, ""),
                       yes(indicator.illustrative))


# --- Activities and their weekly logs -----------------------------------------------------------

ACTIVITY_COLUMNS = [
    Column("code", "Code", "text", 9),
    Column("title", "Activity", "text", 44),
    Column("result", "Result", "text", 8),
    Column("planned_start", "Planned start", "date", 12),
    Column("planned_end", "Planned end", "date", 12),
    Column("actual_start", "Actual start", "date", 12),
    Column("actual_end", "Actual end", "date", 12),
    Column("status", "Status", "text", 12),
    Column("percent", "% complete", "int", 10),
    Column("responsible", "Responsible", "text", 28),
    Column("locations", "Locations", "text", 24),
    Column("latest_week", "Latest week", "text", 10),
    Column("latest_note", "Latest weekly note", "text", 48),
]


def activity_rows(ctx: ExportContext) -> Iterator:
    project_id = ctx.project.id
    # The latest weekly log of each activity: one pass over the logs with a window function
    # (a join on MAX(week_start) makes SQLite compare every activity with every log).
    ranked = (select(ProgressLog.activity_id, ProgressLog.iso_week, ProgressLog.done,
                     func.row_number().over(partition_by=ProgressLog.activity_id,
                                            order_by=ProgressLog.week_start.desc()).label("rank"))
              .where(ProgressLog.project_id == project_id).subquery())
    latest = {row.activity_id: (row.iso_week, row.done) for row in db.session.execute(
        select(ranked.c.activity_id, ranked.c.iso_week, ranked.c.done).where(ranked.c.rank == 1))}
    rows = db.session.execute(
        select(Activity.id, Activity.code, Activity.title, ResultNode.code, Activity.planned_start,
               Activity.planned_end, Activity.actual_start, Activity.actual_end, Activity.status,
               Activity.percent_complete, Activity.responsible, Activity.locations)
        .join(ResultNode, ResultNode.id == Activity.result_id)
        .where(Activity.project_id == project_id)
        .order_by(Activity.position, Activity.id)
    ).all()
    labels = ACTIVITY_STATUS_LABELS
    for (activity_id, code, title, result, planned_start, planned_end, actual_start, actual_end, status,
         percent, responsible, locations) in sorted(rows, key=lambda row: code_key(row[1])):
        week, note = latest.get(activity_id, (None, None))
        yield (code, title, result, planned_start, planned_end, actual_start, actual_end, labels.get(status, status),
               percent, responsible, locations, week, note)


PROGRESS_COLUMNS = [
    Column("activity", "Activity code", "text", 10),
    Column("title", "Activity", "text", 36),
    Column("week", "ISO week", "text", 10),
    Column("week_start", "Week start", "date", 12),
    Column("status", "Status", "text", 12),
    Column("percent", "% complete", "int", 10),
    Column("done", "What was done", "text", 48),
    Column("problems", "Problems", "text", 32),
    Column("next_steps", "Next steps", "text", 32),
    Column("author", "Logged by", "text", 24),
    Column("updated_at", "Last saved (UTC)", "datetime", 17),
]


def progress_rows(ctx: ExportContext) -> Iterator:
    """Every weekly log, by activity then week, streamed from the database."""
    result = db.session.execute(
        select(Activity.code, Activity.title, ProgressLog.iso_week, ProgressLog.week_start, ProgressLog.status,
               ProgressLog.percent_complete, ProgressLog.done, ProgressLog.problems, ProgressLog.next_steps,
               User.name, ProgressLog.updated_at)
        .join(Activity, Activity.id == ProgressLog.activity_id)
        .outerjoin(User, User.id == ProgressLog.author_id)
        .where(ProgressLog.project_id == ctx.project.id)
        .order_by(Activity.position, Activity.id, ProgressLog.week_start)
        .execution_options(yield_per=2000)
    )
    labels = ACTIVITY_STATUS_LABELS
    for (code, title, week, week_start, status, percent, done, problems, next_steps, author,
         updated_at) in result:
        yield (code, title, week, week_start, labels.get(status, status), percent, done, problems, next_steps,
               author, naive_utc(updated_at))


# --- Budget and expenditures --------------------------------------------------------------------

BUDGET_COLUMNS = [
    Column("code", "Code", "text", 8),
    Column("category", "Category", "text", 22),
    Column("account", "Account", "text", 9),
    Column("description", "Description", "text", 44),
    Column("original", "Original budget", "money", 16),
    Column("revised", "Revised budget", "money", 16),
    Column("current", "Current budget", "money", 16),
    Column("committed", "Committed", "money", 16),
    Column("disbursed", "Disbursed", "money", 16),
    Column("spent", "Spent", "money", 16),
    Column("balance", "Balance", "money", 16),
    Column("pct_used", "% used", "percent", 9),
    Column("illustrative", "Illustrative", "text", 10),
    Column("notes", "Notes", "text", 40),
]


def budget_rows(ctx: ExportContext, sheet: Sheet) -> Iterator:
    """Lines with live formulas (current, spent, balance, % used), a SUM total row, the grant
    and a check cell comparing the two. The definitions are those of ``line_totals``."""
    c = {col.key: sheet.letter(col.key) for col in sheet.columns}
    totals = line_totals(ctx.project.id)
    first, last = 2, len(totals) + 1
    for index, t in enumerate(totals):
        r = str(first + index)
        line = t.line
        yield (
            line.code, line.category_label, line.account_code, line.description,
            t.original_cents, line.revised_cents,
            Formula(f"=IF(ISNUMBER({c['revised']}{r}),{c['revised']}{r},{c['original']}{r})", t.current_cents),
            t.committed_cents, t.disbursed_cents,
            Formula(f"={c['committed']}{r}+{c['disbursed']}{r}", t.spent_cents),
            Formula(f"={c['current']}{r}-{c['spent']}{r}", t.balance_cents),
            Formula(f'=IF({c["current"]}{r}=0,"",{c["spent"]}{r}/{c["current"]}{r})', rounded_pct(t.pct_used)),
            yes(line.illustrative), line.notes,
        )
    yield END_OF_TABLE
    total_row = last + 1
    sums = {key: sum(getattr(t, f"{key}_cents") for t in totals)
            for key in ("original", "current", "committed", "disbursed", "spent", "balance")}
    sums["revised"] = sum(t.line.revised_cents or 0 for t in totals)

    def total(key):
        if not totals:
            return Formula("=0", 0)
        return Formula(f"=SUM({c[key]}{first}:{c[key]}{last})", sums[key])

    t_row = str(total_row)
    current_total = sums["current"]
    pct = None if not current_total else Decimal(sums["spent"]) * 100 / Decimal(current_total)
    yield Row(("Total", None, None, f"{len(totals)} budget line{'s' if len(totals) != 1 else ''}",
               total("original"), total("revised"), total("current"), total("committed"), total("disbursed"),
               total("spent"), total("balance"),
               Formula(f'=IF({c["current"]}{t_row}=0,"",{c["spent"]}{t_row}/{c["current"]}{t_row})',
                       rounded_pct(pct)), None, None), bold=True)
    yield ()
    grant_row = str(total_row + 2)
    grant = ctx.project.grant_cents
    yield (None, None, None, "Grant", None, None, grant)
    difference = current_total - grant
    yield Row((None, None, None, "Check: current budget total minus the grant (0 when they agree)", None, None,
               Formula(f"={c['current']}{t_row}-{c['current']}{grant_row}", difference),
               Formula(f'=IF(ROUND({c["current"]}{t_row}-{c["current"]}{grant_row},2)=0,"OK","DIFFERS")',
                       "OK" if difference == 0 else "DIFFERS")), bold=True)


EXPENDITURE_COLUMNS = [
    Column("voucher", "Voucher", "text", 13),
    Column("date", "Date", "date", 12),
    Column("line", "Budget line", "text", 10),
    Column("line_description", "Budget line description", "text", 32),
    Column("payee", "Payee", "text", 28),
    Column("description", "Description", "text", 40),
    Column("status", "Status", "text", 11),
    Column("amount", "Amount", "money", 16),
    Column("original_amount", "Original amount", "number", 15),
    Column("original_currency", "Original currency", "text", 9),
    Column("rate", "Exchange rate", "number", 11),
    Column("evidence", "Evidence", "text", 18),
    Column("justification", "Overspend justification", "text", 30),
]


def _evidence_by(column, project_id: int) -> dict[int, list[str]]:
    """Evidence references per linked row (for ``EvidenceLink.<column>``), live items only."""
    refs: dict[int, list[str]] = defaultdict(list)
    for target_id, evidence_id in db.session.execute(
        select(column, EvidenceLink.evidence_id)
        .join(EvidenceItem, EvidenceItem.id == EvidenceLink.evidence_id)
        .where(EvidenceLink.project_id == project_id, column.is_not(None), EvidenceItem.deleted_at.is_(None))
        .order_by(EvidenceLink.evidence_id)
    ):
        refs[target_id].append(evidence_ref(evidence_id))
    return refs


def expenditure_rows(ctx: ExportContext, sheet: Sheet) -> Iterator:
    project_id = ctx.project.id
    evidence = _evidence_by(EvidenceLink.expenditure_id, project_id)
    result = db.session.execute(
        select(Expenditure.id, Expenditure.voucher, Expenditure.spent_on, BudgetLine.code, BudgetLine.description,
               Expenditure.payee, Expenditure.description, Expenditure.status, Expenditure.amount_cents,
               Expenditure.original_amount, Expenditure.original_currency, Expenditure.exchange_rate,
               Expenditure.overspend_justification)
        .join(BudgetLine, BudgetLine.id == Expenditure.line_id)
        .where(Expenditure.project_id == project_id)
        .order_by(Expenditure.spent_on, Expenditure.voucher)
        .execution_options(yield_per=2000)
    )
    count = total = 0
    for (expenditure_id, voucher, spent_on, line_code, line_description, payee, description, status, cents,
         original, currency, rate, justification) in result:
        count += 1
        total += cents
        yield (voucher, spent_on, line_code, line_description, payee, description, status.capitalize(), cents,
               plain_number(original), currency, plain_number(rate), ", ".join(evidence.get(expenditure_id, ())),
               justification)
    yield END_OF_TABLE
    amount = sheet.letter("amount")
    yield Row(("Total", None, None, None, None, f"{count} expenditure{'s' if count != 1 else ''}", None,
               Formula(f"=SUM({amount}2:{amount}{count + 1})" if count else "=0", total)), bold=True)


# --- Evidence ---------------------------------------------------------------------------------

EVIDENCE_COLUMNS = [
    Column("ref", "Ref", "text", 7),
    Column("kind", "Kind", "text", 15),
    Column("title", "Title", "link", 48),
    Column("dated", "Date", "date", 12),
    Column("source", "Source", "text", 26),
    Column("language", "Language", "text", 9),
    Column("url", "Link", "link", 40),
    Column("file", "File", "text", 22),
    Column("review", "Review state", "text", 11),
    Column("review_note", "Review note", "text", 30),
    Column("reviewed_at", "Reviewed at (UTC)", "datetime", 17),
    Column("reviewed_by", "Reviewed by", "text", 22),
    Column("backs", "Backs up", "text", 48),
]


def _evidence_targets(project_id: int) -> dict[int, list[str]]:
    """What each evidence item backs up, as text: 'Activity A1.4; Indicator 1.1.b 2016-07-01–2016-12-31'."""
    period_indicator = aliased(Indicator)
    rows = db.session.execute(
        select(EvidenceLink.evidence_id, Activity.code, ResultNode.code, Expenditure.voucher,
               period_indicator.code, IndicatorPeriod.start_date, IndicatorPeriod.end_date)
        .outerjoin(Activity, Activity.id == EvidenceLink.activity_id)
        .outerjoin(ResultNode, ResultNode.id == EvidenceLink.result_id)
        .outerjoin(Expenditure, Expenditure.id == EvidenceLink.expenditure_id)
        .outerjoin(IndicatorPeriod, IndicatorPeriod.id == EvidenceLink.period_id)
        .outerjoin(period_indicator, period_indicator.id == IndicatorPeriod.indicator_id)
        .where(EvidenceLink.project_id == project_id)
        .order_by(EvidenceLink.id)
    )
    targets: dict[int, list[str]] = defaultdict(list)
    for evidence_id, activity, result, voucher, indicator, start, end in rows:
        if activity:
            targets[evidence_id].append(f"Activity {activity}")
        elif result:
            targets[evidence_id].append(f"Result {result}")
        elif voucher:
            targets[evidence_id].append(f"Expenditure {voucher}")
        elif indicator:
            targets[evidence_id].append(f"Indicator {indicator} {start.isoformat()}–{end.isoformat()}")
    return targets


def evidence_rows(ctx: ExportContext) -> Iterator:
    project_id = ctx.project.id
    targets = _evidence_targets(project_id)
    reviewer = aliased(User)
    result = db.session.execute(
        select(EvidenceItem.id, EvidenceItem.kind, EvidenceItem.title, EvidenceItem.dated, EvidenceItem.source,
               EvidenceItem.language, EvidenceItem.url, EvidenceItem.file_name, EvidenceItem.review_state,
               EvidenceItem.review_note, EvidenceItem.reviewed_at, reviewer.name)
        .outerjoin(reviewer, reviewer.id == EvidenceItem.reviewed_by_id)
        .where(EvidenceItem.project_id == project_id, EvidenceItem.deleted_at.is_(None))
        .order_by(EvidenceItem.dated, EvidenceItem.id)
        .execution_options(yield_per=2000)
    )
    for (evidence_id, kind, title, dated, source, language, url, file_name, review_state, review_note,
         reviewed_at, reviewed_by) in result:
        yield (evidence_ref(evidence_id), KIND_LABELS.get(kind, kind), Link(title, url), dated, source, language,
               Link(url, url) if url else None, file_name, review_state.capitalize(), review_note,
               naive_utc(reviewed_at), reviewed_by, "; ".join(targets.get(evidence_id, ())))


# --- The workbook's sheets ----------------------------------------------------------------------

def sheets(ctx: ExportContext) -> list[Sheet]:
    """Every sheet of the donor's workbook, in order."""
    result: list[Sheet] = []

    def add(sheet: Sheet) -> Sheet:
        result.append(sheet)
        return sheet

    add(Sheet("summary", "Summary", SUMMARY_COLUMNS, lambda: summary_rows(ctx, result),
              "Project facts, when and by whom this workbook was made.", autofilter=False, landscape=False))
    add(Sheet("logframe", "Logframe", LOGFRAME_COLUMNS, lambda: logframe_rows(ctx),
              "The results framework: intervention logic, indicators (baseline, target, latest actual), "
              "means of verification, assumptions. Rows are grouped by level (use the outline buttons).",
              freeze="C2", outline=lambda: logframe_depth(ctx.project)))
    indicators = add(Sheet("indicators", "Indicators", INDICATOR_COLUMNS, lambda: indicator_rows(ctx, indicators),
                           "One row per indicator and reporting period: target, actual, % of target "
                           "(live formulas), status, approval, disaggregated values.", freeze="C2"))
    add(Sheet("activities", "Activities", ACTIVITY_COLUMNS, lambda: activity_rows(ctx),
              "Dates, status, % complete and the latest weekly note of each activity.", freeze="C2"))
    add(Sheet("progress-log", "Progress log", PROGRESS_COLUMNS, lambda: progress_rows(ctx),
              "Every weekly progress log.", freeze="D2"))
    budget = add(Sheet("budget", "Budget", BUDGET_COLUMNS, lambda: budget_rows(ctx, budget),
                       "Budget lines: current budget, committed, disbursed, balance and % used as formulas, "
                       "totals, and a check of the total against the grant.", freeze="B2"))
    expenditures = add(Sheet("expenditures", "Expenditures", EXPENDITURE_COLUMNS,
                             lambda: expenditure_rows(ctx, expenditures),
                             "Each expenditure with its budget line and the references of its evidence "
                             "(see the Evidence sheet).", freeze="B2"))
    add(Sheet("evidence", "Evidence", EVIDENCE_COLUMNS, lambda: evidence_rows(ctx),
              "The evidence register, with links, review state and what each item backs up.", freeze="B2"))
    return result


SHEET_SLUGS = ("summary", "logframe", "indicators", "activities", "progress-log", "budget", "expenditures",
               "evidence")


def sheet_by_slug(ctx: ExportContext, slug: str) -> Sheet | None:
    return next((s for s in sheets(ctx) if s.slug == slug), None)


def row_estimate(project_id: int) -> int:
    """Roughly how many rows the workbook will hold (for progress and for choosing the
    background export), from a few counts."""
    def count(model, *where):
        return db.session.execute(
            select(func.count()).select_from(model).where(model.project_id == project_id, *where)).scalar() or 0

    return (count(ResultNode) + count(Indicator) + 2 * count(Activity) + count(IndicatorPeriod)
            + count(ProgressLog) + count(BudgetLine) + count(Expenditure)
            + count(EvidenceItem, EvidenceItem.deleted_at.is_(None)) + 40)


def export_filename(project: Project, extension: str, suffix: str = "") -> str:
    """A safe download name: KFIT-VNM-CI_results_2026-01-31.xlsx."""
    code = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in project.code) or "project"
    stamp = datetime.now(UTC).date().isoformat()
    return f"{code}_{suffix or 'results'}_{stamp}.{extension}"


def record_export(project: Project, what: str, **details) -> None:
    """Write the export act to the audit trail (the route commits)."""
    from ..audit import trail

    trail.record(db.session, "export", table_name="project", row_id=project.id, project_id=project.id,
                 changes={"format": what, **details})
