"""What the donor's workbook holds: the records behind each sheet, read in one snapshot.

The sheets and their columns are declared in ``columns.py``; here each sheet gets its records
(query rows labelled like the column keys, or small records built from the services' own
figures) and its rows below the table (totals, the check against the grant). The one row
builder (``columns.RowBuilder``) turns records into cells for the workbook and CSV alike.

Figures come from the shared services only: indicator progress from
``tracker.results.services`` (``indicator_progress``, ``percent_of_target``, ``status_for``)
and the money from ``tracker.budget.services.line_totals``. Codes sort by
``tracker.validation.code_key`` (A2 before A10), as on the pages.

Rows of the large sheets (indicator periods, weekly logs, expenditures, evidence) are read
in chunks or streamed, so memory does not grow with the project.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload

from ..budget.services import line_totals
from ..database import DEFERRED_READ
from ..extensions import db
from ..models import (
    Activity,
    BudgetLine,
    Dimension,
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
from ..models.results import LEVEL_LABELS
from ..results.services import indicator_progress, percent_of_target, status_for
from ..results.values import STATUS_LABELS as INDICATOR_STATUS_LABELS
from ..validation import code_key
from .columns import (
    END_OF_TABLE,
    LAYOUT_SHEETS,
    SHEETS,
    SUMMARY_FIELDS,
    Formula,
    Money,
    Row,
    RowBuilder,
    SheetColumns,
    SummaryItem,
    evidence_ref,
    localized,
    plain_number,
    rounded_pct,
    status_formula,
    yes_no,
)
from .language import LANGUAGE_NAMES, N_, Translator, chosen

CHUNK = 500  # indicators or results loaded per query on the large sheets
MAX_OUTLINE = 7  # Excel's deepest outline level


@dataclass
class ExportContext:
    """Who asked for the export, when, for which project, and in which language (``en``,
    ``vi`` or ``both``; ``tr`` translates the words the export writes, see ``language.py``)."""

    project: Project
    generated_by: str = "system"
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    language: str = "en"
    tr: Translator = field(init=False, repr=False)

    def __post_init__(self):
        self.language = chosen(self.language)
        self.tr = Translator(self.language)

    @property
    def currency(self) -> str:
        code = (self.project.currency or "USD").upper()
        return code if code.isalpha() and len(code) == 3 else "USD"


@dataclass
class Sheet:
    """A sheet of this export: its declared columns and where its records come from."""

    spec: SheetColumns
    records: Callable[[], Iterable]
    outline: Callable[[], int] | None = None  # deepest outline level, for grouped sheets

    def __getattr__(self, name):  # title, slug, columns, headers, description, freeze, letter...
        if name == "spec":
            raise AttributeError(name)
        return getattr(self.spec, name)

    def rows(self) -> Iterator:
        """Cell values row by row (the header excluded), the same for the workbook and CSV."""
        return RowBuilder(self.spec).rows(self.records())


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


@contextmanager
def export_act(project: Project, what: str, **details):
    """One export: read in one snapshot (``read_snapshot``), then write the act to the audit
    trail with ``details`` (the caller may add to the dict it is given; the route commits)."""
    with read_snapshot():
        yield details
    record_export(project, what, **details)


def any_illustrative(project: Project) -> bool:
    flags = db.session.execute(
        select(
            select(Indicator.id).where(Indicator.project_id == project.id, Indicator.illustrative).exists(),
            select(BudgetLine.id).where(BudgetLine.project_id == project.id, BudgetLine.illustrative).exists(),
        )
    ).one()
    return any(flags)


ILLUSTRATIVE = N_("Some figures in this workbook are illustrative (marked “%(yes)s” in the Illustrative columns): "
                  "the source gives none.")


def illustrative_notice(project: Project, tr: Translator | None = None) -> str:
    """The notice shown wherever figures are illustrative ('' when none is); in the export's
    language with ``tr``, else in the person's."""
    if project.illustrative_note:
        return project.illustrative_note
    if any_illustrative(project):
        if tr is None:
            from flask_babel import gettext

            return gettext(ILLUSTRATIVE, yes=gettext("Yes"))
        return tr(ILLUSTRATIVE, yes=tr(N_("Yes")))
    return ""


def _extended(rows: Iterable, **extra: Callable) -> Iterator[tuple]:
    """Query rows with a few more fields computed in Python (``name=row -> value``), as named
    tuples: the row builder reads them by position, as fast as the rows themselves."""
    record = None
    for row in rows:
        if record is None:
            record = namedtuple("Record", (*row._fields, *extra))
        yield record(*row, *(compute(row) for compute in extra.values()))


# --- Summary ----------------------------------------------------------------------------------

def summary_records(ctx: ExportContext, sheets: list[Sheet]) -> Iterator:
    project, tr = ctx.project, ctx.tr
    notice = illustrative_notice(project, tr)
    if notice:
        yield Row((tr(N_("Illustrative figures")), notice), bold=True, note=True)
    for label, attr, kind in SUMMARY_FIELDS:
        value = getattr(project, attr)
        yield SummaryItem(tr(label), Money(value) if kind == "money" else value)
    yield SummaryItem(tr(N_("Generated at (UTC)")), ctx.generated_at)
    yield SummaryItem(tr(N_("Generated by")), ctx.generated_by)
    yield SummaryItem(tr(N_("Language of this workbook")), LANGUAGE_NAMES[ctx.language])
    yield END_OF_TABLE
    yield Row(())
    yield Row((tr(N_("Sheets in this workbook")), ""), bold=True)
    for sheet in sheets:
        if sheet.slug != "summary":
            yield SummaryItem(sheet.title, sheet.description)
        for layout in LAYOUT_SHEETS:  # the laid-out sheets, where the workbook has them
            if layout.after == sheet.slug:
                yield SummaryItem(tr.title(layout.title), tr(layout.description))


# --- Logframe ---------------------------------------------------------------------------------

@dataclass(slots=True)
class LogframeLine:
    """A result, an indicator or an activity of the Logframe sheet."""

    level: str
    code: str
    outline: int
    bold: bool = False
    logic: str | None = None
    indicator: str | None = None
    unit: str | None = None
    baseline: object = None
    target: object = None
    latest: object = None
    latest_end: date | None = None
    verification: str | None = None
    assumptions: str | None = None
    illustrative: bool | None = None  # indicators only (results and activities leave it empty)


def logframe_depth(project: Project) -> int:
    """The deepest outline level of the Logframe sheet (indicators sit one below their result)."""
    codes = db.session.execute(select(ResultNode.code).where(ResultNode.project_id == project.id)).scalars()
    return min(max((code.count(".") for code in codes), default=0) + 1, MAX_OUTLINE)


def _sorted_ids(rows) -> list[int]:
    """Ids of (id, code) rows in code order."""
    return [row[0] for row in sorted(rows, key=lambda row: code_key(row[1]))]


def logframe_records(ctx: ExportContext) -> Iterator[LogframeLine]:
    """The four-column matrix (logic | indicators | verification | assumptions), one row per
    result, indicator and activity, grouped by outline level under their result."""
    project, tr = ctx.project, ctx.tr
    levels = tr.labels(LEVEL_LABELS)
    indicator_level, activity_level = tr(N_("Indicator")), tr(N_("Activity"))
    result_ids = _sorted_ids(db.session.execute(
        select(ResultNode.id, ResultNode.code).where(ResultNode.project_id == project.id)))
    for start in range(0, len(result_ids), CHUNK):
        chunk = result_ids[start:start + CHUNK]
        by_id = {r.id: r for r in db.session.execute(
            select(ResultNode).where(ResultNode.id.in_(chunk))
            .options(selectinload(ResultNode.indicators).selectinload(Indicator.periods),
                     selectinload(ResultNode.activities))
        ).scalars()}
        for result_id in chunk:
            result = by_id[result_id]
            level = min(result.depth, MAX_OUTLINE - 1)
            yield LogframeLine(levels.get(result.level, result.level), result.code, level, bold=True,
                               logic=result.statement, assumptions=result.assumptions)
            for indicator in result.indicators:  # in position order, as on the pages
                progress = indicator_progress(indicator, project)
                qualitative = indicator.unit == "qualitative"
                yield LogframeLine(
                    indicator_level, indicator.code, level + 1, indicator=indicator.title, unit=indicator.unit,
                    baseline=indicator.baseline_text if qualitative else yes_no(indicator.unit, indicator.baseline_value),
                    target=indicator.target_text if qualitative else yes_no(indicator.unit, indicator.target_value),
                    latest=(progress.text_to_date or None) if qualitative else yes_no(indicator.unit,
                                                                                        progress.value_to_date),
                    latest_end=progress.latest_period.end_date if progress.latest_period else None,
                    verification=indicator.means_of_verification, illustrative=indicator.illustrative)
            for activity in result.activities:
                yield LogframeLine(activity_level, activity.code, level + 1, logic=activity.title)


# --- Indicators -------------------------------------------------------------------------------

@dataclass(slots=True)
class IndicatorLine:
    """One period of an indicator with the app's figures (the formulas' CSV values)."""

    indicator: Indicator
    period: IndicatorPeriod
    result_code: str
    qualitative: bool
    ascending: bool
    target: object = None
    actual: object = None
    pct: Decimal | None = None
    target_to_date: Decimal | None = None
    actual_to_date: Decimal | None = None
    pct_to_date: Decimal | None = None
    status: str = "no_data"
    status_formula: str | None = None
    disaggregated: str = ""


def _disaggregated_text(project_id: int, period_ids: list[int]) -> dict[int, str]:
    """'Language: Vietnamese 8; English 1' per period."""
    if not period_ids:
        return {}
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


def indicator_records(ctx: ExportContext) -> Iterator[IndicatorLine]:
    """One record per indicator and period, read in chunks; indicators in the pages' order
    (their results in code order, then their position under the result)."""
    project = ctx.project
    status_rule = status_formula(project.on_track_pct, project.at_risk_pct, ctx.tr.labels(INDICATOR_STATUS_LABELS))
    result_codes = dict(db.session.execute(
        select(ResultNode.id, ResultNode.code).where(ResultNode.project_id == project.id)).all())
    indicator_ids = [row.id for row in sorted(
        db.session.execute(select(Indicator.id, Indicator.result_id, Indicator.position)
                           .where(Indicator.project_id == project.id)),
        key=lambda row: (code_key(result_codes.get(row.result_id, "")), row.position, row.id))]
    for start in range(0, len(indicator_ids), CHUNK):
        chunk = indicator_ids[start:start + CHUNK]
        indicators = {i.id: i for i in db.session.execute(
            select(Indicator).where(Indicator.id.in_(chunk)).options(selectinload(Indicator.periods))
        ).scalars()}
        disaggregated = _disaggregated_text(project.id, [p.id for i in indicators.values() for p in i.periods])
        for indicator_id in chunk:
            indicator = indicators[indicator_id]
            progress = indicator_progress(indicator, project)
            qualitative = indicator.unit == "qualitative"
            to_date = {period.id: (target_td, actual_td) for period, target_td, actual_td in progress.series}
            result_code = result_codes.get(indicator.result_id, "")
            for period in sorted(indicator.periods, key=lambda p: p.start_date):
                line = IndicatorLine(indicator, period, result_code, qualitative, indicator.ascending,
                                     disaggregated=disaggregated.get(period.id, ""))
                if qualitative:
                    line.target, line.actual, line.status = period.target_text, period.actual_text, "qualitative"
                else:
                    target_td, actual_td = to_date.get(period.id, (None, None))
                    pct_td = percent_of_target(actual_td, target_td, indicator.ascending)
                    unit = indicator.unit
                    line.target, line.actual = yes_no(unit, period.target), yes_no(unit, period.actual)
                    line.pct = percent_of_target(period.actual, period.target, indicator.ascending)
                    line.target_to_date, line.actual_to_date = yes_no(unit, target_td), yes_no(unit, actual_td)
                    line.pct_to_date = pct_td
                    line.status = status_for(pct_td, project) if period.actual is not None else "no_data"
                    line.status_formula = status_rule
                yield line


# --- Activities and their weekly logs -----------------------------------------------------------

def activity_records(ctx: ExportContext) -> list:
    """Each activity with its latest weekly log, in code order (A1.2 before A1.10)."""
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
        select(Activity.id, Activity.code, Activity.title, ResultNode.code.label("result"), Activity.planned_start,
               Activity.planned_end, Activity.actual_start, Activity.actual_end, Activity.status,
               Activity.percent_complete.label("percent"), Activity.responsible, Activity.locations)
        .join(ResultNode, ResultNode.id == Activity.result_id)
        .where(Activity.project_id == project_id)
    ).all()
    no_log = (None, None)
    return list(_extended(sorted(rows, key=lambda row: code_key(row.code)),
                          latest_week=lambda row: latest.get(row.id, no_log)[0],
                          latest_note=lambda row: latest.get(row.id, no_log)[1]))


LOG_CHUNK = 100  # activities whose weekly logs are read (and ordered) at once


def progress_records(ctx: ExportContext) -> Iterator:
    """Every weekly log, by activity in code order (as on the Activities sheet), then by week;
    read a hundred activities at a time, so memory does not grow with the project."""
    project_id = ctx.project.id
    activity_ids = _sorted_ids(db.session.execute(
        select(Activity.id, Activity.code).where(Activity.project_id == project_id)))
    for start in range(0, len(activity_ids), LOG_CHUNK):
        chunk = activity_ids[start:start + LOG_CHUNK]
        rank = {activity_id: n for n, activity_id in enumerate(chunk)}
        rows = db.session.execute(
            select(ProgressLog.activity_id, Activity.code.label("activity"), Activity.title,
                   ProgressLog.iso_week.label("week"), ProgressLog.week_start, ProgressLog.status,
                   ProgressLog.percent_complete.label("percent"), ProgressLog.done, ProgressLog.problems,
                   ProgressLog.next_steps, User.name.label("author"), ProgressLog.updated_at)
            .join(Activity, Activity.id == ProgressLog.activity_id)
            .outerjoin(User, User.id == ProgressLog.author_id)
            .where(ProgressLog.project_id == project_id, ProgressLog.activity_id.in_(chunk))
        ).all()
        yield from sorted(rows, key=lambda row: (rank[row.activity_id], row.week_start))


# --- Budget and expenditures --------------------------------------------------------------------

def budget_records(ctx: ExportContext, sheet: SheetColumns) -> Iterator:
    """Lines with live formulas (current, spent, balance, % used), a SUM total row, the grant
    and a check cell comparing the two. The figures are those of ``line_totals``."""
    c = {key: sheet.letter(key) for key in sheet.keys}
    totals = line_totals(ctx.project.id)
    yield from totals
    yield END_OF_TABLE
    first, last = 2, len(totals) + 1
    t_row = str(last + 1)
    sums = {key: sum(getattr(t, f"{key}_cents") for t in totals)
            for key in ("original", "current", "committed", "disbursed", "spent", "balance")}
    sums["revised"] = sum(t.line.revised_cents or 0 for t in totals)

    def total(key):
        return Formula(f"=SUM({c[key]}{first}:{c[key]}{last})" if totals else "=0", sums[key])

    current_total = sums["current"]
    pct = None if not current_total else Decimal(sums["spent"]) * 100 / Decimal(current_total)
    tr = ctx.tr
    yield Row((tr(N_("Total")), None, None, tr(N_("Budget lines: %(count)s"), count=len(totals)),
               *(total(key) for key in ("original", "revised", "current", "committed", "disbursed", "spent",
                                         "balance")),
               Formula(f'=IF({c["current"]}{t_row}=0,"",{c["spent"]}{t_row}/{c["current"]}{t_row})',
                       rounded_pct(pct)), None, None), bold=True)
    yield Row(())
    grant_row = str(last + 3)
    grant = ctx.project.grant_cents
    yield Row((None, None, None, tr(N_("Grant")), None, None, grant))
    difference = current_total - grant
    agree, differ = tr(N_("OK")), tr(N_("DIFFERS"))
    yield Row((None, None, None, tr(N_("Check: current budget total minus the grant (0 when they agree)")), None, None,
               Formula(f"={c['current']}{t_row}-{c['current']}{grant_row}", difference),
               Formula(f'=IF(ROUND({c["current"]}{t_row}-{c["current"]}{grant_row},2)=0,"{agree}","{differ}")',
                       agree if difference == 0 else differ)), bold=True)


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


def expenditure_records(ctx: ExportContext, sheet: SheetColumns) -> Iterator:
    """Every expenditure by date, with its evidence references, then the total."""
    project_id = ctx.project.id
    evidence = _evidence_by(EvidenceLink.expenditure_id, project_id)
    result = db.session.execute(
        select(Expenditure.id, Expenditure.voucher, Expenditure.spent_on.label("date"),
               BudgetLine.code.label("line"), BudgetLine.description.label("line_description"),
               Expenditure.payee, Expenditure.description, Expenditure.status, Expenditure.amount_cents.label("amount"),
               Expenditure.original_amount, Expenditure.original_currency, Expenditure.exchange_rate.label("rate"),
               Expenditure.overspend_justification.label("justification"))
        .join(BudgetLine, BudgetLine.id == Expenditure.line_id)
        .where(Expenditure.project_id == project_id)
        .order_by(Expenditure.spent_on, Expenditure.voucher)
        .execution_options(yield_per=2000)
    )
    count = total = 0
    for record in _extended(result, evidence=lambda row: ", ".join(evidence.get(row.id, ()))):
        count += 1
        total += record.amount
        yield record
    yield END_OF_TABLE
    amount = sheet.letter("amount")
    yield Row((ctx.tr(N_("Total")), None, None, None, None, ctx.tr(N_("Expenditures: %(count)s"), count=count), None,
               Formula(f"=SUM({amount}2:{amount}{count + 1})" if count else "=0", total)), bold=True)


# --- Evidence ---------------------------------------------------------------------------------

def _evidence_targets(project_id: int, tr: Translator) -> dict[int, list[str]]:
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
    words = {key: tr(word) for key, word in (("activity", N_("Activity")), ("result", N_("Result")),
                                              ("expenditure", N_("Expenditure")), ("indicator", N_("Indicator")))}
    for evidence_id, activity, result, voucher, indicator, start, end in rows:
        if activity:
            targets[evidence_id].append(f"{words['activity']} {activity}")
        elif result:
            targets[evidence_id].append(f"{words['result']} {result}")
        elif voucher:
            targets[evidence_id].append(f"{words['expenditure']} {voucher}")
        elif indicator:
            targets[evidence_id].append(f"{words['indicator']} {indicator} {start.isoformat()}–{end.isoformat()}")
    return targets


def evidence_records(ctx: ExportContext) -> Iterator:
    """The live evidence items by date, with what each backs up."""
    project_id = ctx.project.id
    targets = _evidence_targets(project_id, ctx.tr)
    reviewer = aliased(User)
    result = db.session.execute(
        select(EvidenceItem.id, EvidenceItem.kind, EvidenceItem.title, EvidenceItem.dated, EvidenceItem.source,
               EvidenceItem.language, EvidenceItem.url, EvidenceItem.file_name.label("file"),
               EvidenceItem.review_state.label("review"), EvidenceItem.review_note, EvidenceItem.reviewed_at,
               reviewer.name.label("reviewed_by"))
        .outerjoin(reviewer, reviewer.id == EvidenceItem.reviewed_by_id)
        .where(EvidenceItem.project_id == project_id, EvidenceItem.deleted_at.is_(None))
        .order_by(EvidenceItem.dated, EvidenceItem.id)
        .execution_options(yield_per=2000)
    )
    yield from _extended(result, backs=lambda row: "; ".join(targets.get(row.id, ())))


# --- The workbook's sheets ----------------------------------------------------------------------

def sheets(ctx: ExportContext) -> list[Sheet]:
    """Every sheet of the donor's workbook, in order, each with where its records come from."""
    result: list[Sheet] = []
    sources = {
        "summary": lambda spec: lambda: summary_records(ctx, result),
        "logframe": lambda spec: lambda: logframe_records(ctx),
        "indicators": lambda spec: lambda: indicator_records(ctx),
        "activities": lambda spec: lambda: activity_records(ctx),
        "progress-log": lambda spec: lambda: progress_records(ctx),
        "budget": lambda spec: lambda: budget_records(ctx, spec),
        "expenditures": lambda spec: lambda: expenditure_records(ctx, spec),
        "evidence": lambda spec: lambda: evidence_records(ctx),
    }
    for declared in SHEETS.values():
        spec = localized(declared, ctx.tr)
        outline = (lambda: logframe_depth(ctx.project)) if spec.grouped else None
        result.append(Sheet(spec, sources[spec.slug](spec), outline))
    return result


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


def export_filename(project: Project, extension: str, suffix: str = "", language: str = "en") -> str:
    """A safe download name: KFIT-VNM-CI_results_2026-01-31.xlsx (…_2026-01-31_vi.xlsx in
    Vietnamese, …_both.xlsx bilingual)."""
    code = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in project.code) or "project"
    stamp = datetime.now(UTC).date().isoformat()
    tail = "" if language == "en" else f"_{language}"
    return f"{code}_{suffix or 'results'}_{stamp}{tail}.{extension}"


def record_export(project: Project, what: str, **details) -> None:
    """Write the export act to the audit trail (the route commits)."""
    from ..audit import trail

    trail.record(db.session, "export", table_name="project", row_id=project.id, project_id=project.id,
                 changes={"format": what, **details})
