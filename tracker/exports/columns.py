"""The donor workbook's sheets and columns, declared once.

A column says what it is (header, kind, width) and where its value comes from; a sheet is
a list of columns. The workbook (``workbook.py``), the CSV per sheet (``csv_export.py``), the
blank logframe template and the workbook import all read these definitions, so a new column
is one line here and its header is the same everywhere::

    Column("balance", "Balance", "money", 16, value="balance_cents", formula="={current}-{spent}")

- ``value``: an attribute path on the row's record (``"line.code"``), a callable
  ``record -> value``, or nothing (the attribute named like the key).
- ``kind``: text, wrap (text that wraps), money (integer cents), date, datetime (UTC), int,
  number (Decimal or text), percent (a figure 0-100; the workbook's formula gives the
  fraction shown as %), link (a ``Link``), flag (True is written "Yes").
- ``labels``: the one value -> label map of an enum (from the model modules); the stored
  value is written as its label, the same words the pages show.
- ``formula``: a spreadsheet formula with other columns of the same row as ``{key}``
  (``"={committed}+{disbursed}"``), or a callable ``record -> such a formula or None``. The
  workbook writes the live formula; CSV writes ``value``, the figure the app computed (a test
  recomputes the formulas and compares them with the app's figures).

``SHEETS["Indicators"].header("target")`` gives a header; ``SHEETS`` lists the sheets in the
workbook's order. ``RowBuilder`` is the one row builder: record -> cell values, for every sheet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from openpyxl.utils import get_column_letter

from ..models.budget import CATEGORY_LABELS, EXPENDITURE_STATUS_LABELS
from ..models.evidence import KIND_LABELS, REVIEW_STATE_LABELS
from ..models.progress import STATUS_LABELS as ACTIVITY_STATUS_LABELS
from ..models.results import PERIOD_STATE_LABELS, UNIT_LABELS
from ..results.values import STATUS_LABELS as INDICATOR_STATUS_LABELS
from .language import N_

KINDS = ("text", "wrap", "money", "date", "datetime", "int", "number", "percent", "link", "flag")


# --- What a cell can hold besides plain values -----------------------------------------------

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
    """Cell values written as they are (totals, notes, headings), with an outline level
    (grouping) or emphasis. Anything else a sheet yields is a record for its columns."""

    __slots__ = ("values", "level", "bold", "note")

    def __init__(self, values, level: int = 0, bold: bool = False, note: bool = False):
        self.values = values
        self.level = level
        self.bold = bold
        self.note = note


class YesNo:
    """A yes/no indicator's value (1 or 0, a sum for a cumulative one): a number in the workbook
    shown as Yes / No by its number format (so formulas still count it), the word in CSV."""

    __slots__ = ("number",)

    def __init__(self, number):
        self.number = number


def yes_no(unit: str, value):
    """``value`` as a ``YesNo`` for a yes/no indicator; else as it is."""
    if unit == "yesno" and value is not None and not isinstance(value, str):
        return YesNo(value)
    return value


# Rows after this marker are not part of the table (totals, checks): the autofilter stops
# above them and CSV leaves them out.
END_OF_TABLE = object()


# --- Conversions of stored values -------------------------------------------------------------

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


def evidence_ref(evidence_id: int) -> str:
    """How an evidence item is referred to across sheets: E12."""
    return f"E{evidence_id}"


def _number(value):
    return plain_number(value) if type(value) is Decimal else value


def _percent(value):
    return rounded_pct(value) if type(value) is Decimal else value


# (flag values stay as they are: both writers write True as "Yes" and False or None as nothing)
_CONVERT: dict[str, Callable[[Any], Any]] = {"number": _number, "percent": _percent, "datetime": naive_utc}


# --- Columns and sheets -----------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column: header, kind, width, where its value comes from (see the module's doc)."""

    key: str
    header: str
    kind: str = "text"
    width: float = 14
    value: str | Callable[[Any], Any] | None = None
    formula: str | Callable[[Any], str | None] | None = None
    labels: Mapping[str, str] | None = None
    read: Callable[[Any], Any] = field(init=False, repr=False, compare=False)  # record -> cell value
    path: str | None = field(init=False, repr=False, compare=False)  # the attribute path, when it is one
    after: Callable[[Any], Any] | None = field(init=False, repr=False, compare=False)  # labels or conversion

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")
        source = self.value if self.value is not None else self.key
        path = None if callable(source) else source
        after = _CONVERT.get(self.kind)
        if self.labels is not None:
            def after(value, get=self.labels.get):
                return get(value, value)
        get = attrgetter(path) if path is not None else source
        if after is None:
            read = get
        else:
            def read(record, get=get, after=after):
                return after(get(record))
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "after", after)
        object.__setattr__(self, "read", read)


@dataclass(frozen=True)
class SheetColumns:
    """A sheet of the workbook as the export, the template and the import know it."""

    title: str
    slug: str
    columns: tuple[Column, ...]
    description: str = ""
    freeze: str = "A2"
    autofilter: bool = True
    landscape: bool = True
    grouped: bool = False  # records carry ``outline`` (level) and ``bold``

    def __post_init__(self):
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"sheet {self.title}: a column key is used twice")

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(f"sheet {self.title} has no column {key!r}")

    def header(self, key: str) -> str:
        return self.column(key).header

    def letter(self, key: str) -> str:
        """The spreadsheet column of ``key``: "A", "B"..."""
        return get_column_letter(self.keys.index(key) + 1)

    def only(self, *keys: str) -> list[Column]:
        """These columns, in the sheet's order (the template's narrower sheets)."""
        return [c for c in self.columns if c.key in keys]


# --- The row builder --------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class RowBuilder:
    """Records -> rows of cell values for one sheet: the same for the workbook and CSV."""

    def __init__(self, sheet: SheetColumns):
        columns = sheet.columns
        self.sheet = sheet
        # The attribute paths are read in one call; then labels, conversions and callables.
        self.paths = [i for i, c in enumerate(columns) if c.path is not None]
        self.read_paths = None if len(self.paths) < 2 else self._by_first_record
        self.readers = [(i, c.read) for i, c in enumerate(columns) if c.path is None or self.read_paths is None]
        self.afters = [(i, c.after) for i, c in enumerate(columns)
                       if c.path is not None and c.after is not None and self.read_paths is not None]
        self.width = len(columns)
        self.letters = {c.key: get_column_letter(i) for i, c in enumerate(columns, 1)}
        self.formulas = [(i, c.formula, callable(c.formula)) for i, c in enumerate(columns) if c.formula is not None]
        self._compiled: dict[str, list[str]] = {}

    def _by_first_record(self, record):
        """Choose how to read the paths from the first record (a sheet's records share a shape):
        by position for named tuples and query rows, else by attribute."""
        paths = [self.sheet.columns[i].path for i in self.paths]
        fields = getattr(record, "_fields", None)
        if fields is not None and all(path in fields for path in paths):
            self.read_paths = itemgetter(*(fields.index(path) for path in paths))
        else:
            self.read_paths = attrgetter(*paths)
        return self.read_paths(record)

    def compile(self, template: str) -> list[str]:
        """'={a}+{b}' -> the parts around the row number: ['=E', '+F', ''] (joined by '7')."""
        parts = self._compiled.get(template)
        if parts is None:
            marker = "\x00"
            text = _PLACEHOLDER.sub(lambda m: self.letters[m.group(1)] + marker, template)
            parts = self._compiled[template] = text.split(marker)
        return parts

    def __call__(self, record, number: int):
        if self.read_paths is None:
            values = [None] * self.width
        elif len(self.paths) == self.width:
            values = list(self.read_paths(record))
        else:
            values = [None] * self.width
            for index, value in zip(self.paths, self.read_paths(record), strict=True):
                values[index] = value
        for index, after in self.afters:
            values[index] = after(values[index])
        for index, read in self.readers:
            values[index] = read(record)
        if self.formulas:
            row, compiled = str(number), self._compiled
            for index, formula, per_record in self.formulas:
                template = formula(record) if per_record else formula
                if template is not None:
                    parts = compiled.get(template) or self.compile(template)
                    values[index] = Formula(row.join(parts), values[index])
        if self.sheet.grouped:
            return Row(values, level=record.outline, bold=record.bold)
        return values

    def rows(self, items: Iterable) -> Iterator:
        """Each record built into its row (row 1 is the header); ``Row``s and END_OF_TABLE pass."""
        number = 1
        for item in items:
            if item is END_OF_TABLE:
                yield item
                continue
            number += 1
            yield item if type(item) is Row else self(item, number)


# --- Formulas of the Indicators sheet: the rules of tracker.results.services ------------------

def percent_formula(t: str, a: str, ascending: bool) -> str:
    """% of target as a fraction, the rule of ``percent_of_target``, for the cells (or
    placeholders) ``t`` (target) and ``a`` (actual): actual / target when more is better,
    target / actual when less is; empty without both figures."""
    if ascending:
        return f'=IF(AND(ISNUMBER({t}),ISNUMBER({a})),IF({t}=0,"",{a}/{t}),"")'
    return f'=IF(AND(ISNUMBER({t}),ISNUMBER({a})),IF({a}=0,IF({t}>=0,1,""),{t}/{a}),"")'


def _pct_formula(target: str, actual: str) -> Callable[[Any], str | None]:
    """% of target (``percent_formula``) of two columns; none for qualitative indicators."""
    t, a = "{" + target + "}", "{" + actual + "}"
    ascending, descending = percent_formula(t, a, True), percent_formula(t, a, False)

    def formula(record):
        if record.qualitative:
            return None
        return ascending if record.ascending else descending

    return formula


def status_formula(on_track_pct, at_risk_pct, labels: Mapping[str, str] | None = None) -> str:
    """The rule of ``status_for`` with a project's thresholds, on the % to date of the row;
    ``labels``: the status words in the export's language (English by default)."""
    on_track = plain_number(Decimal(on_track_pct) / 100)
    at_risk = plain_number(Decimal(at_risk_pct) / 100)
    labels, pct = labels or INDICATOR_STATUS_LABELS, "{pct_to_date}"
    return (f'=IF(ISNUMBER({pct}),IF({pct}>={on_track},"{labels["on_track"]}",'
            f'IF({pct}>={at_risk},"{labels["at_risk"]}","{labels["off_track"]}")),"{labels["no_data"]}")')


def localized(spec: SheetColumns, tr) -> SheetColumns:
    """``spec`` in an export's language (``tracker.exports.language.Translator``): its title,
    description, headers, enum labels and, outside English, the word a true flag is written as.
    The keys, kinds and values stay as declared (the import, CSV slugs and formulas use them)."""
    yes = {True: tr(N_("Yes")), False: tr(N_("No"))} if tr.language != "en" else None  # English: the writers' own
    columns = tuple(replace(column, header=tr(column.header),
                            labels=tr.labels(column.labels) if column.labels is not None
                            else yes if column.kind == "flag" else None)
                    for column in spec.columns)
    return replace(spec, title=tr.title(spec.title), description=tr(spec.description), columns=columns)


# --- The sheets -------------------------------------------------------------------------------

class SummaryItem(NamedTuple):
    item: str
    value: Any


# (label, attribute, kind): the project facts on the Summary sheet; the import reads the same labels.
SUMMARY_FIELDS = [
    (N_("Project"), "title", "text"),
    (N_("Project code"), "code", "text"),
    (N_("Donor"), "donor", "text"),
    (N_("Funding source"), "funding_source", "text"),
    (N_("Implementing agency"), "implementing_agency", "text"),
    (N_("Implementing partners"), "implementing_partners", "text"),
    (N_("Grant"), "grant_cents", "money"),
    (N_("Currency"), "currency", "text"),
    (N_("Start date"), "start_date", "date"),
    (N_("End date"), "end_date", "date"),
    (N_("Country (ISO code)"), "country", "text"),
    (N_("IATI identifier"), "iati_identifier", "text"),
    (N_("Overall objective"), "objective", "text"),
    (N_("Summary"), "summary", "text"),
    (N_("Status"), "status_note", "text"),
]

SUMMARY = SheetColumns(N_("Summary"), "summary", (
    Column("item", N_("Item"), "text", 26),
    Column("value", N_("Value"), "wrap", 100),
), N_("Project facts, when and by whom this workbook was made."), autofilter=False, landscape=False)

# Records: ``tracker.exports.services.LogframeLine`` (a result, an indicator or an activity).
LOGFRAME = SheetColumns(N_("Logframe"), "logframe", (
    Column("level", N_("Level"), "text", 16),
    Column("code", N_("Code"), "text", 9),
    Column("logic", N_("Intervention logic"), "wrap", 48),
    Column("indicator", N_("Indicator"), "wrap", 40),
    Column("unit", N_("Unit"), "text", 11, labels=UNIT_LABELS),
    Column("baseline", N_("Baseline"), "number", 12),
    Column("target", N_("Target"), "number", 12),
    Column("latest", N_("Latest actual"), "number", 12),
    Column("latest_end", N_("Latest period end"), "date", 12),
    Column("verification", N_("Means of verification"), "wrap", 32),
    Column("assumptions", N_("Assumptions and risks"), "wrap", 36),
    Column("illustrative", N_("Illustrative"), "flag", 10),
), N_("The results framework: intervention logic, indicators (baseline, target, latest actual), means of "
   "verification, assumptions. Rows are grouped by level (use the outline buttons)."), freeze="C2", grouped=True)

# Records: ``tracker.exports.services.IndicatorLine`` (an indicator's period and its figures).
INDICATORS = SheetColumns(N_("Indicators"), "indicators", (
    Column("code", N_("Indicator code"), "text", 10, value="indicator.code"),
    Column("title", N_("Indicator"), "text", 40, value="indicator.title"),
    Column("result", N_("Result"), "text", 8, value="result_code"),
    Column("unit", N_("Unit"), "text", 11, value="indicator.unit", labels=UNIT_LABELS),
    Column("start", N_("Period start"), "date", 12, value="period.start_date"),
    Column("end", N_("Period end"), "date", 12, value="period.end_date"),
    Column("target", N_("Target"), "number", 11),
    Column("actual", N_("Actual"), "number", 11),
    Column("pct", N_("% of target"), "percent", 11, formula=_pct_formula("target", "actual")),
    Column("target_to_date", N_("Target to date"), "number", 11),
    Column("actual_to_date", N_("Actual to date"), "number", 11),
    Column("pct_to_date", N_("% of target to date"), "percent", 12,
           formula=_pct_formula("target_to_date", "actual_to_date")),
    Column("status", N_("Status"), "text", 12, labels=INDICATOR_STATUS_LABELS, formula=attrgetter("status_formula")),
    Column("state", N_("Approval"), "text", 11, value="period.state", labels=PERIOD_STATE_LABELS),
    Column("comment", N_("Comment"), "text", 36, value="period.comment"),
    # Issue 16: read back by the import (tracker/imports/indicators.py), locked periods refused.
    Column("narrative", N_("Progress narrative"), "text", 40, value="period.narrative"),
    Column("variance_explanation", N_("Variance explanation"), "text", 40, value="period.variance_explanation"),
    Column("disaggregated", N_("Disaggregated values"), "text", 32),
    Column("illustrative", N_("Illustrative"), "flag", 10, value="indicator.illustrative"),
), N_("One row per indicator and reporting period: target, actual, % of target (live formulas), status, "
   "approval, disaggregated values."), freeze="C2")

# Records: query rows labelled like the keys (``tracker.exports.services.activity_records``).
ACTIVITIES = SheetColumns(N_("Activities"), "activities", (
    Column("code", N_("Code"), "text", 9),
    Column("title", N_("Activity"), "text", 44),
    Column("result", N_("Result"), "text", 8),
    Column("planned_start", N_("Planned start"), "date", 12),
    Column("planned_end", N_("Planned end"), "date", 12),
    Column("actual_start", N_("Actual start"), "date", 12),
    Column("actual_end", N_("Actual end"), "date", 12),
    Column("status", N_("Status"), "text", 12, labels=ACTIVITY_STATUS_LABELS),
    Column("percent", N_("% complete"), "int", 10),
    Column("responsible", N_("Responsible"), "text", 28),
    Column("locations", N_("Locations"), "text", 24),
    Column("latest_week", N_("Latest week"), "text", 10),
    Column("latest_note", N_("Latest weekly note"), "text", 48),
), N_("Dates, status, % complete and the latest weekly note of each activity."), freeze="C2")

PROGRESS_LOG = SheetColumns(N_("Progress log"), "progress-log", (
    Column("activity", N_("Activity code"), "text", 10),
    Column("title", N_("Activity"), "text", 36),
    Column("week", N_("ISO week"), "text", 10),
    Column("week_start", N_("Week start"), "date", 12),
    Column("status", N_("Status"), "text", 12, labels=ACTIVITY_STATUS_LABELS),
    Column("percent", N_("% complete"), "int", 10),
    Column("done", N_("What was done"), "text", 48),
    Column("problems", N_("Problems"), "text", 32),
    Column("next_steps", N_("Next steps"), "text", 32),
    Column("author", N_("Logged by"), "text", 24),
    Column("updated_at", N_("Last saved (UTC)"), "datetime", 17),
), N_("Every weekly progress log."), freeze="D2")

# Records: ``tracker.budget.services.LineTotals`` (the app's own figures of each line).
BUDGET = SheetColumns(N_("Budget"), "budget", (
    Column("code", N_("Code"), "text", 8, value="line.code"),
    Column("category", N_("Category"), "text", 22, value="line.category", labels=CATEGORY_LABELS),
    Column("account", N_("Account"), "text", 9, value="line.account_code"),
    Column("description", N_("Description"), "text", 44, value="line.description"),
    Column("original", N_("Original budget"), "money", 16, value="original_cents"),
    Column("revised", N_("Revised budget"), "money", 16, value="line.revised_cents"),
    Column("current", N_("Current budget"), "money", 16, value="current_cents",
           formula="=IF(ISNUMBER({revised}),{revised},{original})"),
    Column("committed", N_("Committed"), "money", 16, value="committed_cents"),
    Column("disbursed", N_("Disbursed"), "money", 16, value="disbursed_cents"),
    Column("spent", N_("Spent"), "money", 16, value="spent_cents", formula="={committed}+{disbursed}"),
    Column("balance", N_("Balance"), "money", 16, value="balance_cents", formula="={current}-{spent}"),
    Column("pct_used", N_("% used"), "percent", 9, value="pct_used", formula='=IF({current}=0,"",{spent}/{current})'),
    Column("illustrative", N_("Illustrative"), "flag", 10, value="line.illustrative"),
    Column("notes", N_("Notes"), "text", 40, value="line.notes"),
), N_("Budget lines: current budget, committed, disbursed, balance and % used as formulas, totals, and a check "
   "of the total against the grant."), freeze="B2")

EXPENDITURES = SheetColumns(N_("Expenditures"), "expenditures", (
    Column("voucher", N_("Voucher"), "text", 13),
    Column("date", N_("Date"), "date", 12),
    Column("line", N_("Budget line"), "text", 10),
    Column("line_description", N_("Budget line description"), "text", 32),
    Column("payee", N_("Payee"), "text", 28),
    Column("description", N_("Description"), "text", 40),
    Column("status", N_("Status"), "text", 11, labels=EXPENDITURE_STATUS_LABELS),
    Column("amount", N_("Amount"), "money", 16),
    Column("original_amount", N_("Original amount"), "number", 15),
    Column("original_currency", N_("Original currency"), "text", 9),
    Column("rate", N_("Exchange rate"), "number", 11),
    Column("evidence", N_("Evidence"), "text", 18),
    Column("justification", N_("Overspend justification"), "text", 30),
), N_("Each expenditure with its budget line and the references of its evidence (see the Evidence sheet)."),
    freeze="B2")

EVIDENCE = SheetColumns(N_("Evidence"), "evidence", (
    Column("ref", N_("Ref"), "text", 7, value=lambda r: evidence_ref(r.id)),
    Column("kind", N_("Kind"), "text", 15, labels=KIND_LABELS),
    Column("title", N_("Title"), "link", 48, value=lambda r: Link(r.title, r.url)),
    Column("dated", N_("Date"), "date", 12),
    Column("source", N_("Source"), "text", 26),
    Column("language", N_("Language"), "text", 9),
    Column("url", N_("Link"), "link", 40, value=lambda r: Link(r.url, r.url) if r.url else None),
    Column("file", N_("File"), "text", 22),
    Column("review", N_("Review state"), "text", 11, labels=REVIEW_STATE_LABELS),
    Column("review_note", N_("Review note"), "text", 30),
    Column("reviewed_at", N_("Reviewed at (UTC)"), "datetime", 17),
    Column("reviewed_by", N_("Reviewed by"), "text", 22),
    Column("backs", N_("Backs up"), "text", 48),
), N_("The evidence register, with links, review state and what each item backs up."), freeze="B2")

@dataclass(frozen=True)
class LayoutSheet:
    """A sheet laid out for reading and printing rather than as a table (merged cells, columns
    per reporting period): written by its own module after the table sheet ``after``; no CSV, and
    the import does not read it."""

    title: str
    slug: str
    description: str
    after: str


# tracker/exports/matrix_sheet.py and iptt_sheet.py
LOGFRAME_MATRIX = LayoutSheet(
    N_("Logframe matrix"), "logframe-matrix",
    N_("The logframe as donors' templates lay it out: intervention logic, indicators with baseline and target, "
    "sources of verification, assumptions; one block per level; prints on A4 landscape."), after="summary")
IPTT = LayoutSheet(
    N_("IPTT"), "iptt",
    N_("Indicator performance tracking table: per reporting period target, actual and % of target, then the "
    "life-of-project target, actual to date and % (live formulas, coloured by the project's thresholds), with "
    "the narratives and variance explanations."), after="indicators")
LAYOUT_SHEETS = (LOGFRAME_MATRIX, IPTT)

# Every sheet of the workbook, in order, by title.
SHEETS: dict[str, SheetColumns] = {s.title: s for s in (
    SUMMARY, LOGFRAME, INDICATORS, ACTIVITIES, PROGRESS_LOG, BUDGET, EXPENDITURES, EVIDENCE)}
SHEET_SLUGS = tuple(s.slug for s in SHEETS.values())
