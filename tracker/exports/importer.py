"""Importing a workbook: the blank logframe template filled in, or an exported workbook.

Two modes:

* **update** (on a project's Exports page): the Indicators sheet's targets and actuals, and
  the Logframe sheet's end targets of indicators, update the project's figures; a period
  that is not there yet is created. Other columns and sheets are read by people, not by us.
* **create** (an admin, for a new project): Summary (the project's facts), Logframe (results,
  indicators, activities), Indicators (periods with targets and actuals) and, when present,
  Budget (lines) create a project.

Every import is first a **dry run**: ``plan_import`` lists each create and change and each
problem with its sheet, row and column, and writes nothing. ``apply_plan`` then makes the
changes in the caller's transaction (the route commits once: all or nothing); the audit
trail's session hook records each row change.

Rules that protect the data: a blank cell leaves the stored value as it is; a formula where
a value belongs is refused (type the value); an approved (locked) period is not changed;
unknown codes, wrong types and duplicate rows are problems, never guesses.

Before openpyxl sees the file, ``check_package`` looks at the bytes and the zip directory:
not a zip (junk, CSV, old .xls, a password-protected workbook), a macro-enabled workbook, an
OpenDocument or Word file, too many entries, too much unpacked data or a suspicious
compression ratio (a zip bomb), encrypted entries, or XML with a DTD are refused with a
clear message.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..concurrency import stamp
from ..extensions import db
from ..validation import InputError
from ..models import (
    Activity,
    BudgetLine,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNode,
)
from ..models.budget import BUDGET_CATEGORIES, CATEGORY_LABELS
from ..models.results import LEVEL_LABELS, UNIT_LABELS
from .services import (
    BUDGET_COLUMNS,
    INDICATOR_COLUMNS,
    LOGFRAME_COLUMNS,
    SUMMARY_FIELDS,
    code_key,
    plain_number,
)

# Limits (each can be set in the app config under the same name).
DEFAULT_LIMITS = {
    "IMPORT_MAX_ENTRIES": 2_000,          # files inside the zip package
    "IMPORT_MAX_UNPACKED_MB": 60,         # all entries together, unpacked
    "IMPORT_MAX_RATIO": 200,              # unpacked / packed, for entries above 2 MB unpacked
    "IMPORT_MAX_ROWS": 100_000,           # rows read per sheet
}
XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_TEXT = 10_000


class ImportRefused(InputError):
    """The file as a whole cannot be imported (the message says why); nothing was read."""


# --- The file itself --------------------------------------------------------------------------

def _limit(name: str) -> int:
    try:
        return int(current_app.config.get(name, DEFAULT_LIMITS[name]))
    except RuntimeError:  # outside an app (scripts)
        return DEFAULT_LIMITS[name]


def check_package(data: bytes, filename: str = "") -> None:
    """Refuse anything that is not a plain .xlsx workbook, before openpyxl opens it."""
    name = (filename or "").lower()
    if not data:
        raise ImportRefused("The file is empty.")
    if name.endswith((".xlsm", ".xltm", ".xlam")):
        raise ImportRefused("This is a macro-enabled workbook (.xlsm). For safety only plain .xlsx workbooks are "
                            "imported: save it as “Excel Workbook (.xlsx)” and upload that.")
    if data.startswith(OLE2_MAGIC):
        raise ImportRefused("This is an old-format Excel file (.xls) or a password-protected workbook. Save it as "
                            "“Excel Workbook (.xlsx)” without a password and upload that.")
    if not data.startswith(XLSX_MAGIC):
        looks_like_text = all(32 <= b < 127 or b in (9, 10, 13) or b >= 128 for b in data[:512])
        hint = " It looks like text (CSV?): open it in Excel and save it as .xlsx." if looks_like_text else ""
        raise ImportRefused("This file is not an Excel workbook (.xlsx): it is not a zip package as .xlsx files "
                            f"are.{hint}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ImportRefused("This file is damaged or not an Excel workbook (.xlsx): its zip package cannot be "
                            "read.") from None
    with archive:
        _check_entries(archive, entries)


def _check_entries(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > _limit("IMPORT_MAX_ENTRIES"):
        raise ImportRefused(f"The workbook holds {len(entries):,} files inside; a workbook never needs that many. "
                            "Nothing was read (this looks like a zip bomb).")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > _limit("IMPORT_MAX_UNPACKED_MB") * 1024 * 1024:
        raise ImportRefused(f"The workbook would unpack to {unpacked / 1024 / 1024:,.0f} MB, more than the limit of "
                            f"{_limit('IMPORT_MAX_UNPACKED_MB')} MB. Nothing was read (this looks like a zip bomb).")
    for entry in entries:
        if entry.file_size > 2 * 1024 * 1024 and entry.file_size > _limit("IMPORT_MAX_RATIO") * max(entry.compress_size, 1):
            raise ImportRefused(f"“{entry.filename[:80]}” inside the workbook is compressed "
                                f"{entry.file_size // max(entry.compress_size, 1):,} times, far more than any real "
                                "workbook. Nothing was read (this looks like a zip bomb).")
        if entry.flag_bits & 0x1:
            raise ImportRefused("The workbook's contents are encrypted. Remove the password and upload it again.")
    names = {e.filename for e in entries}
    lowered = {n.lower() for n in names}
    if any(n.endswith("vbaproject.bin") for n in lowered):
        raise ImportRefused("This workbook contains macros (a VBA project). For safety only plain .xlsx workbooks "
                            "are imported: save it as “Excel Workbook (.xlsx)” and upload that.")
    if "mimetype" in names and b"opendocument" in archive.read("mimetype")[:200]:
        raise ImportRefused("This is an OpenDocument spreadsheet (.ods). Save it as “Excel 2007-365 (.xlsx)” and "
                            "upload that.")
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        raise ImportRefused("This is a Word or PowerPoint file, not an Excel workbook (.xlsx).")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused("This zip file is not an Excel workbook (.xlsx): it has no workbook inside.")
    content_types = archive.read("[Content_Types].xml")[:200_000]
    if b"macroEnabled" in content_types or b"vbaProject" in content_types:
        raise ImportRefused("This is a macro-enabled workbook (.xlsm). For safety only plain .xlsx workbooks are "
                            "imported: save it as “Excel Workbook (.xlsx)” and upload that.")
    for entry in entries:
        if entry.filename.lower().endswith((".xml", ".rels")):
            with archive.open(entry) as handle:
                head = handle.read(4096)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise ImportRefused("The workbook contains XML declarations (DTD) that Excel never writes. "
                                    "Nothing was read.")


def open_workbook(data: bytes, filename: str = ""):
    """Check the package, then open it with openpyxl (read-only, formulas kept as formulas)."""
    from openpyxl import load_workbook

    check_package(data, filename)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds on damaged files
        raise ImportRefused("The workbook could not be read: it is damaged or not in the Excel .xlsx format. "
                            "Open it in Excel or LibreOffice and save it again as .xlsx.") from None


# --- What the dry run reports -----------------------------------------------------------------

@dataclass
class Problem:
    sheet: str
    row: int | None
    column: str | None  # letter
    header: str
    message: str

    def __str__(self) -> str:
        where = [self.sheet]
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}" + (f" ({self.header})" if self.header else ""))
        return ", ".join(where) + ": " + self.message


@dataclass
class Change:
    kind: str  # create | change
    what: str
    detail: str
    sheet: str = ""
    row: int | None = None


@dataclass
class Plan:
    mode: str  # update | create
    project_code: str = ""
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    operations: list[Callable[[], None]] = field(default_factory=list, repr=False)
    project: Project | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def creates(self) -> int:
        return sum(1 for c in self.changes if c.kind == "create")

    @property
    def updates(self) -> int:
        return sum(1 for c in self.changes if c.kind == "change")

    def fingerprint(self) -> str:
        """Identifies exactly what the plan would do (apply refuses a plan that moved on)."""
        text = json.dumps([[c.kind, c.what, c.detail] for c in self.changes], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- Reading cells ----------------------------------------------------------------------------

MISSING = object()  # a cell whose value was refused (the problem is recorded)
YES_NO = {"yes": Decimal(1), "y": Decimal(1), "có": Decimal(1), "no": Decimal(0), "n": Decimal(0),
          "không": Decimal(0)}


def _norm(header) -> str:
    return re.sub(r"\s+", " ", str(header or "")).strip().lower()


class Table:
    """The rows of one sheet, addressed by column key, with problems recorded in place."""

    def __init__(self, plan: Plan, sheet_name: str):
        self.plan, self.sheet = plan, sheet_name
        self.letters: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.rows: list[tuple[int, dict]] = []
        self.ok = True

    @classmethod
    def read(cls, plan: Plan, sheet_name: str, ws, columns, required: tuple[str, ...]) -> Table:
        """Find the columns by their headers in row 1 and collect the non-empty rows below."""
        from openpyxl.utils import get_column_letter

        table = cls(plan, sheet_name)
        table.headers = {c.key: c.header for c in columns}
        rows = ws.iter_rows()
        header_row = next(rows, None) or ()
        by_text = {_norm(cell.value): index for index, cell in enumerate(header_row) if cell.value is not None}
        positions = {}
        for column in columns:
            if _norm(column.header) in by_text:
                positions[column.key] = by_text[_norm(column.header)]
                table.letters[column.key] = get_column_letter(positions[column.key] + 1)
        missing = [table.headers[key] for key in required if key not in positions]
        if missing:
            table.ok = False
            names = ", ".join(f"“{m}”" for m in missing)
            plan.problems.append(Problem(sheet_name, 1, None, "", f"column{'s' if len(missing) > 1 else ''} {names} "
                                         f"{'are' if len(missing) > 1 else 'is'} missing: row 1 must hold the column "
                                         "headers as in the template."))
            return table
        limit = _limit("IMPORT_MAX_ROWS")
        for number, row in enumerate(rows, 2):
            if number - 1 > limit:
                plan.problems.append(Problem(sheet_name, number, None, "",
                                             f"more than {limit:,} rows; split the workbook."))
                table.ok = False
                break
            cells = {key: row[index] for key, index in positions.items() if index < len(row)}
            if all(cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())
                   for cell in cells.values()):
                continue
            table.rows.append((number, cells))
        return table

    def has(self, key: str) -> bool:
        return key in self.letters

    def problem(self, row: int, key: str | None, message: str) -> None:
        self.plan.problems.append(Problem(self.sheet, row, self.letters.get(key) if key else None,
                                          self.headers.get(key, "") if key else "", message))

    def raw(self, row: int, cells: dict, key: str):
        """The cell's value, or MISSING (with a problem) when it holds a formula."""
        cell = cells.get(key)
        if cell is None or cell.value is None:
            return None
        if cell.data_type == "f":
            formula = str(cell.value)
            shown = formula if len(formula) <= 40 else formula[:40] + "…"
            self.problem(row, key, f"holds a formula ({shown}) where a value belongs: type the value itself "
                                   "(or copy the cells and paste them as values).")
            return MISSING
        return cell.value

    def text(self, row: int, cells: dict, key: str, required: bool = False, limit: int = MAX_TEXT):
        value = self.raw(row, cells, key)
        if value is MISSING:
            return MISSING
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "Yes" if value else "No"
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        elif isinstance(value, (datetime, date)):
            text = value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
        else:
            text = str(value)
        text = "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32).strip()
        if required and not text:
            self.problem(row, key, "is empty; it is required.")
            return MISSING
        if len(text) > limit:
            self.problem(row, key, f"is {len(text):,} characters long; at most {limit:,} are allowed.")
            return MISSING
        return text

    def number(self, row: int, cells: dict, key: str, places: int = 4):
        value = self.raw(row, cells, key)
        if value is MISSING or value is None:
            return value
        if isinstance(value, bool) or isinstance(value, (datetime, date)):
            self.problem(row, key, f"“{_show(value)}” is not a number.")
            return MISSING
        if isinstance(value, str):
            cleaned = value.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
            if not cleaned:
                return None
            try:
                number = Decimal(cleaned)
            except InvalidOperation:
                self.problem(row, key, f"“{_show(value)}” is not a number.")
                return MISSING
        else:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite() or abs(number) >= Decimal("1e13"):
            self.problem(row, key, f"“{_show(value)}” is not a usable number.")
            return MISSING
        if number.as_tuple().exponent < -places and number != number.quantize(Decimal(1).scaleb(-places)):
            self.problem(row, key, f"“{_show(value)}” has more than {places} decimals.")
            return MISSING
        return number

    def date(self, row: int, cells: dict, key: str, required: bool = False):
        value = self.raw(row, cells, key)
        if value is MISSING:
            return MISSING
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(row, key, "is empty; a date is required (for example 2016-01-31).")
                return MISSING
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        self.problem(row, key, f"“{_show(value)}” is not a date; type it as 2016-01-31 or as an Excel date.")
        return MISSING

    def money(self, row: int, cells: dict, key: str, required: bool = False):
        number = self.number(row, cells, key, places=2)
        if number is MISSING:
            return MISSING
        if number is None:
            if required:
                self.problem(row, key, "is empty; an amount is required.")
                return MISSING
            return None
        if number < 0:
            self.problem(row, key, f"“{_show(number)}” is negative; amounts cannot be.")
            return MISSING
        return int(number * 100)


def _show(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _figure(table: Table, row: int, cells: dict, key: str, unit: str):
    """A target or actual in ``unit``: text for qualitative, 1/0 for yes/no, else a number."""
    if unit == "qualitative":
        text = table.text(row, cells, key)
        return None if text == "" else text
    if unit == "yesno":
        value = table.raw(row, cells, key)
        if value is MISSING or value is None:
            return value
        if isinstance(value, str) and value.strip().lower() in YES_NO:
            return YES_NO[value.strip().lower()]
        number = table.number(row, cells, key)
        if number not in (None, MISSING) and number not in (0, 1):
            table.problem(row, key, f"“{_show(number)}” is not a yes/no value: use 1 (yes) or 0 (no).")
            return MISSING
        return number
    return table.number(row, cells, key)


def _shown(value) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, Decimal):
        return str(plain_number(value))
    if isinstance(value, int):
        return str(value)
    return f"“{_show(value)}”"


def _sheet(plan: Plan, wb, name: str, required: bool):
    if name in wb.sheetnames:
        return wb[name]
    for existing in wb.sheetnames:  # forgive case and spaces
        if _norm(existing) == _norm(name):
            return wb[existing]
    if required:
        plan.problems.append(Problem(name, None, None, "", f"the sheet “{name}” is missing (the workbook has: "
                                     f"{', '.join(wb.sheetnames) or 'no sheets'})."))
    return None


def _unit_of(text: str) -> str | None:
    lowered = _norm(text)
    for key, label in UNIT_LABELS.items():
        if lowered in (key, _norm(label)):
            return key
    return {"yes/no": "yesno", "%": "percent", "": "number"}.get(lowered)


def _level_of(text: str) -> str | None:
    lowered = _norm(text)
    for key, label in LEVEL_LABELS.items():
        if lowered in (key, _norm(label)):
            return key
    return {"indicator": "indicator", "activity": "activity", "objective": "objective", "outcome": "outcome",
            "expected result": "outcome", "result": "outcome"}.get(lowered)


# --- Indicator periods (both modes) -----------------------------------------------------------

@dataclass
class IndicatorSpec:
    """An indicator as the import knows it: an existing one, or one to create."""

    code: str
    unit: str
    periods: dict[tuple[date, date], IndicatorPeriod | dict] = field(default_factory=dict)
    indicator: Indicator | None = None


def _read_periods(plan: Plan, wb, indicators: dict[str, IndicatorSpec], user, required: bool) -> None:
    ws = _sheet(plan, wb, "Indicators", required)
    if ws is None:
        return
    table = Table.read(plan, "Indicators", ws, INDICATOR_COLUMNS, ("code", "start", "end", "target", "actual"))
    if not table.ok:
        return
    seen: dict[tuple[str, date, date], int] = {}
    for number, cells in table.rows:
        code = table.text(number, cells, "code", required=True, limit=20)
        start = table.date(number, cells, "start", required=True)
        end = table.date(number, cells, "end", required=True)
        if MISSING in (code, start, end):
            continue
        spec = indicators.get(code)
        if spec is None:
            table.problem(number, "code", f"unknown indicator code “{_show(code)}”"
                          + (f" (the project has {', '.join(sorted(indicators, key=code_key)[:8])}"
                             f"{'…' if len(indicators) > 8 else ''})." if indicators else "."))
            continue
        if end < start:
            table.problem(number, "end", f"the period ends ({end}) before it starts ({start}).")
            continue
        key = (code, start, end)
        if key in seen:
            table.problem(number, "code", f"indicator {code} period {start} – {end} appears twice (also row {seen[key]}).")
            continue
        seen[key] = number
        target = _figure(table, number, cells, "target", spec.unit)
        actual = _figure(table, number, cells, "actual", spec.unit)
        comment = table.text(number, cells, "comment")
        if MISSING in (target, actual, comment):
            continue
        label = f"Indicator {code}, period {start} – {end}"
        existing = spec.periods.get((start, end))
        if existing is None:
            overlap = next(((s, e) for s, e in spec.periods if s <= end and start <= e), None)
            if overlap is not None:
                table.problem(number, "start", f"the period {start} – {end} overlaps the period "
                                               f"{overlap[0]} – {overlap[1]} of indicator {code}.")
                continue
            values = _period_values(spec.unit, target, actual)
            values["comment"] = comment or ""
            spec.periods[(start, end)] = values
            shown = ", ".join(f"{k} {_shown(v)}" for k, v in (("target", target), ("actual", actual)) if v is not None)
            plan.changes.append(Change("create", label, f"new period{': ' + shown if shown else ''}", "Indicators",
                                       number))
            if spec.indicator is not None:
                plan.operations.append(_create_period_op(spec, start, end, values))
            continue
        updates = {}
        for name, new in (("target", target), ("actual", actual)):
            if new is None:
                continue
            field_name = name if spec.unit != "qualitative" else f"{name}_text"
            old = getattr(existing, field_name)
            if (old if spec.unit == "qualitative" else (None if old is None else Decimal(old))) != new:
                updates[field_name] = (old, new)
        if comment and comment != existing.comment:
            updates["comment"] = (existing.comment, comment)
        if not updates:
            continue
        if existing.locked:
            names = [name.replace("_text", "") for name in updates]
            table.problem(number, names[0], f"{label} is approved and locked, so its {' and '.join(names)} cannot "
                                            "change. Unlock the period in the app first, or leave the value as it is.")
            continue
        for field_name, (old, new) in updates.items():
            plan.changes.append(Change("change", label, f"{field_name.replace('_text', '')}: {_shown(old)} → {_shown(new)}",
                                       "Indicators", number))
        plan.operations.append(_update_period_op(existing, {k: v[1] for k, v in updates.items()}, user))


def _period_values(unit: str, target, actual) -> dict:
    if unit == "qualitative":
        return {"target_text": target or "", "actual_text": actual or ""}
    return {"target": target, "actual": actual}


def _update_period_op(period: IndicatorPeriod, values: dict, user):
    def apply():
        for name, value in values.items():
            setattr(period, name, value)
        stamp(period, user)
    return apply


def _create_period_op(spec: IndicatorSpec, start: date, end: date, values: dict):
    def apply():
        indicator = spec.indicator
        db.session.add(IndicatorPeriod(project_id=indicator.project_id, indicator_id=indicator.id,
                                       start_date=start, end_date=end, state="draft", **values))
    return apply


# --- Update mode ------------------------------------------------------------------------------

def plan_update(project: Project, wb, user) -> Plan:
    """The dry run of updating ``project`` from ``wb`` (nothing is written)."""
    plan = Plan("update", project_code=project.code, project=project)
    summary = _sheet(plan, wb, "Summary", False)
    if summary is not None:
        cells, rows = _summary_values(summary)
        cell = cells.get(_norm("Project code"))
        code = str(cell.value).strip() if cell is not None and cell.value is not None else ""
        if code and code != project.code:
            plan.problems.append(Problem("Summary", rows[_norm("Project code")], "B", "Value",
                                         f"this workbook is for project “{_show(code)}”, not {project.code}. "
                                         "Import it on that project's page."))
            return plan
    indicators = db.session.execute(
        select(Indicator).where(Indicator.project_id == project.id).options(selectinload(Indicator.periods))
    ).scalars().all()
    specs = {i.code: IndicatorSpec(i.code, i.unit, {(p.start_date, p.end_date): p for p in i.periods}, i)
             for i in indicators}
    logframe = _sheet(plan, wb, "Logframe", False)
    if logframe is not None:
        _update_end_targets(plan, logframe, specs)
    _read_periods(plan, wb, specs, user, required=True)
    return plan


def _update_end_targets(plan: Plan, ws, specs: dict[str, IndicatorSpec]) -> None:
    table = Table.read(plan, "Logframe", ws, LOGFRAME_COLUMNS, ("level", "code", "target"))
    if not table.ok:
        return
    for number, cells in table.rows:
        level = table.text(number, cells, "level")
        if level is MISSING or _level_of(level) != "indicator":
            continue
        code = table.text(number, cells, "code", required=True, limit=20)
        if code is MISSING:
            continue
        spec = specs.get(code)
        if spec is None:
            table.problem(number, "code", f"unknown indicator code “{_show(code)}”.")
            continue
        new = _figure(table, number, cells, "target", spec.unit)
        if new in (None, MISSING):
            continue
        indicator = spec.indicator
        if spec.unit == "qualitative":
            old, name = indicator.target_text, "target_text"
        else:
            old, name = indicator.target_value, "target_value"
            old = None if old is None else Decimal(old)
        if old == new:
            continue
        plan.changes.append(Change("change", f"Indicator {code}", f"end target: {_shown(old)} → {_shown(new)}",
                                   "Logframe", number))

        def apply(indicator=indicator, name=name, new=new):
            setattr(indicator, name, new)
        plan.operations.append(apply)


def _summary_values(ws) -> tuple[dict, dict]:
    """The Summary sheet's label (column A) -> value cell (column B), and label -> row number."""
    cells: dict = {}
    rows: dict = {}
    for number, row in enumerate(ws.iter_rows(max_col=2), 1):
        if number > 200:
            break
        label = _norm(row[0].value) if row else ""
        if label and label not in cells and len(row) > 1:
            cells[label], rows[label] = row[1], number
    return cells, rows


# --- Create mode ------------------------------------------------------------------------------

def plan_create(wb, user) -> Plan:
    """The dry run of creating a project from ``wb`` (nothing is written)."""
    plan = Plan("create")
    summary = _sheet(plan, wb, "Summary", True)
    logframe = _sheet(plan, wb, "Logframe", True)
    if summary is None or logframe is None:
        return plan
    facts = _read_facts(plan, summary)
    if facts is None:
        return plan
    plan.project_code = facts["code"]
    plan.changes.append(Change("create", f"Project {facts['code']}", facts["title"], "Summary", None))
    results, indicators, activities = _read_logframe(plan, logframe)
    specs = {code: IndicatorSpec(code, spec["unit"]) for code, spec in indicators.items()}
    _read_periods(plan, wb, specs, user, required=False)
    lines = _read_budget(plan, wb)
    if plan.ok:
        plan.operations.append(_create_project_op(plan, facts, results, indicators, specs, activities, lines))
    return plan


def _read_facts(plan: Plan, ws) -> dict | None:
    """The project's facts from the Summary sheet (label in column A, value in column B)."""
    cells, rows = _summary_values(ws)
    table = Table(plan, "Summary")
    facts: dict = {}
    for label, attr, kind in SUMMARY_FIELDS:
        key = _norm(label)
        table.letters[attr], table.headers[attr] = "B", label
        required = attr in ("title", "code", "grant_cents", "start_date", "end_date")
        if key not in rows:
            if required:
                plan.problems.append(Problem("Summary", None, "A", "Item", f"the row “{label}” is missing."))
            facts[attr] = MISSING if required else ""
            continue
        row, wrapped = rows[key], {attr: cells[key]}
        if kind == "money":
            facts[attr] = table.money(row, wrapped, attr, required=True)
        elif kind == "date":
            facts[attr] = table.date(row, wrapped, attr, required=True)
        else:
            limit = {"code": 40, "title": 300, "currency": 3, "country": 2}.get(attr, MAX_TEXT)
            facts[attr] = table.text(row, wrapped, attr, required=required, limit=limit)
    if any(value is MISSING for value in facts.values()):
        return None
    facts["currency"] = (facts["currency"] or "USD").upper()
    if not re.fullmatch(r"[A-Z]{3}", facts["currency"]):
        table.problem(rows.get(_norm("Currency")), "currency", "must be a three-letter currency code such as USD.")
        return None
    if facts["end_date"] < facts["start_date"]:
        table.problem(rows.get(_norm("End date")), "end_date", "the project ends before it starts.")
        return None
    if db.session.execute(select(Project.id).where(Project.code == facts["code"])).first():
        table.problem(rows.get(_norm("Project code")), "code",
                      f"a project with the code {facts['code']} exists already. To update its targets and actuals, "
                      "import on that project's Exports page; to create a new one, give it another code.")
        return None
    return facts


def _read_logframe(plan: Plan, ws):
    table = Table.read(plan, "Logframe", ws, LOGFRAME_COLUMNS, ("level", "code", "logic", "indicator"))
    results: dict[str, dict] = {}
    indicators: dict[str, dict] = {}
    activities: dict[str, dict] = {}
    if not table.ok:
        return results, indicators, activities
    current_result = None
    for number, cells in table.rows:
        level_text = table.text(number, cells, "level", required=True)
        code = table.text(number, cells, "code", required=True, limit=20)
        if MISSING in (level_text, code):
            continue
        level = _level_of(level_text)
        if level is None:
            table.problem(number, "level", f"unknown level “{_show(level_text)}”: use Overall objective, Expected "
                                           "result, Output, Indicator or Activity.")
            continue
        if code in results or code in indicators or code in activities:
            table.problem(number, "code", f"the code {code} is used twice.")
            continue
        if level in LEVEL_LABELS:
            statement = table.text(number, cells, "logic", required=True)
            assumptions = table.text(number, cells, "assumptions")
            if MISSING in (statement, assumptions):
                continue
            parent = code.rsplit(".", 1)[0] if "." in code else None
            if parent is not None and parent not in results:
                table.problem(number, "code", f"result {code} needs its parent result {parent} in a row above.")
                continue
            results[code] = {"level": level, "statement": statement, "assumptions": assumptions, "parent": parent,
                             "row": number}
            current_result = code
            plan.changes.append(Change("create", f"{LEVEL_LABELS[level]} {code}", _show(statement), "Logframe",
                                       number))
            continue
        if current_result is None:
            table.problem(number, "code", f"{level} {code} has no result above it; put it under its result.")
            continue
        if level == "activity":
            title = table.text(number, cells, "logic", required=True)
            if title is MISSING:
                continue
            activities[code] = {"title": title, "result": current_result}
            plan.changes.append(Change("create", f"Activity {code}", _show(title), "Logframe", number))
            continue
        title = table.text(number, cells, "indicator", required=True)
        unit_text = table.text(number, cells, "unit")
        if MISSING in (title, unit_text):
            continue
        unit = _unit_of(unit_text)
        if unit is None:
            table.problem(number, "unit", f"unknown unit “{_show(unit_text)}”: use Number, Percent, Yes / no or "
                                          "Qualitative.")
            continue
        baseline = _figure(table, number, cells, "baseline", unit)
        target = _figure(table, number, cells, "target", unit)
        verification = table.text(number, cells, "verification")
        if MISSING in (baseline, target, verification):
            continue
        indicators[code] = {"title": title, "unit": unit, "baseline": baseline, "target": target,
                            "verification": verification, "result": current_result}
        plan.changes.append(Change("create", f"Indicator {code}", _show(title), "Logframe", number))
    if not results and table.ok:
        plan.problems.append(Problem("Logframe", None, None, "", "no result rows: the logframe needs at least the "
                                     "overall objective."))
    return results, indicators, activities


def _category_of(text: str) -> str | None:
    lowered = _norm(text)
    if not lowered:
        return "other"
    for key in BUDGET_CATEGORIES:
        if lowered in (key, _norm(CATEGORY_LABELS[key])):
            return key
    return None


def _read_budget(plan: Plan, wb) -> list[dict]:
    ws = _sheet(plan, wb, "Budget", False)
    if ws is None:
        return []
    table = Table.read(plan, "Budget", ws, BUDGET_COLUMNS, ("code", "description", "original"))
    lines: list[dict] = []
    if not table.ok:
        return lines
    seen: set[str] = set()
    for number, cells in table.rows:
        code = table.text(number, cells, "code", limit=20)
        if code is MISSING:
            continue
        if not code or code.lower() == "total":
            break  # the totals and checks below an exported budget table
        description = table.text(number, cells, "description", required=True)
        category_text = table.text(number, cells, "category")
        account = table.text(number, cells, "account", limit=40)
        original = table.money(number, cells, "original", required=True)
        revised = table.money(number, cells, "revised")
        notes = table.text(number, cells, "notes")
        if MISSING in (description, category_text, account, original, revised, notes):
            continue
        category = _category_of(category_text)
        if category is None:
            table.problem(number, "category", f"unknown category “{_show(category_text)}”.")
            continue
        if code in seen:
            table.problem(number, "code", f"budget line {code} appears twice.")
            continue
        seen.add(code)
        lines.append({"code": code, "description": description, "category": category, "account_code": account,
                      "original_cents": original, "revised_cents": revised, "notes": notes})
        plan.changes.append(Change("create", f"Budget line {code}", f"{_show(description)}: {original / 100:,.2f}",
                                   "Budget", number))
    return lines


def _create_project_op(plan, facts, results, indicators, specs, activities, lines):
    def apply():
        project = Project(**{attr: facts[attr] for _label, attr, _kind in SUMMARY_FIELDS})
        db.session.add(project)
        db.session.flush()
        pid = project.id
        nodes: dict[str, ResultNode] = {}
        for position, code in enumerate(sorted(results, key=code_key)):
            spec = results[code]
            node = ResultNode(project_id=pid, code=code, level=spec["level"], statement=spec["statement"],
                              assumptions=spec["assumptions"], parent=nodes.get(spec["parent"]), position=position)
            nodes[code] = node
            db.session.add(node)
        db.session.flush()
        for position, (code, spec) in enumerate(indicators.items()):
            qualitative = spec["unit"] == "qualitative"
            indicator = Indicator(
                project_id=pid, result_id=nodes[spec["result"]].id, code=code, title=spec["title"], unit=spec["unit"],
                baseline_value=None if qualitative else spec["baseline"],
                baseline_text=(spec["baseline"] or "") if qualitative else "",
                target_value=None if qualitative else spec["target"],
                target_text=(spec["target"] or "") if qualitative else "",
                means_of_verification=spec["verification"], position=position)
            db.session.add(indicator)
            db.session.flush()
            for (start, end), values in sorted(specs[code].periods.items()):
                db.session.add(IndicatorPeriod(project_id=pid, indicator_id=indicator.id, start_date=start,
                                               end_date=end, state="draft", **values))
        for position, (code, spec) in enumerate(activities.items()):
            db.session.add(Activity(project_id=pid, result_id=nodes[spec["result"]].id, code=code,
                                    title=spec["title"], position=position))
        for position, line in enumerate(lines):
            db.session.add(BudgetLine(project_id=pid, position=position, **line))
        db.session.flush()
        plan.project = project
    return apply


# --- Dry run and apply ------------------------------------------------------------------------

def plan_import(data: bytes, filename: str, user, project: Project | None) -> Plan:
    """Check and read the workbook, then plan (update ``project``, or create one when None).
    Raises ImportRefused for a file that cannot be read at all."""
    wb = open_workbook(data, filename)
    try:
        return plan_update(project, wb, user) if project is not None else plan_create(wb, user)
    finally:
        wb.close()


def apply_plan(plan: Plan) -> Project:
    """Make the planned changes (flushes; the route commits once). Refuses a plan with problems."""
    if not plan.ok:
        raise InputError("The workbook has problems; nothing was changed.")
    for operation in plan.operations:
        operation()
    db.session.flush()
    return plan.project


# --- Keeping an upload between the dry run and applying it ------------------------------------

UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_MAX_AGE_HOURS = 24


def _uploads_dir():
    from pathlib import Path

    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_upload(data: bytes, filename: str, project_id: int | None, user_id: int | None, fingerprint: str) -> str:
    """Store the uploaded workbook under instance/imports/ until it is applied; returns its token.
    The file is stored under the token only: the user's file name never becomes a path."""
    import secrets
    import time

    directory = _uploads_dir()
    for old in directory.iterdir():  # forget abandoned dry runs
        try:
            if time.time() - old.stat().st_mtime > UPLOAD_MAX_AGE_HOURS * 3600:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_hex(16)
    (directory / f"{token}.xlsx").write_bytes(data)
    meta = {"filename": filename[:255], "project_id": project_id, "user_id": user_id, "fingerprint": fingerprint,
            "sha256": hashlib.sha256(data).hexdigest()}
    (directory / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load_upload(token: str) -> tuple[bytes, dict] | None:
    if not UPLOAD_TOKEN.match(token or ""):
        return None
    directory = _uploads_dir()
    try:
        meta = json.loads((directory / f"{token}.json").read_text(encoding="utf-8"))
        return (directory / f"{token}.xlsx").read_bytes(), meta
    except (OSError, ValueError):
        return None


def discard_upload(token: str) -> None:
    if not UPLOAD_TOKEN.match(token or ""):
        return
    directory = _uploads_dir()
    for suffix in (".xlsx", ".json"):
        (directory / f"{token}{suffix}").unlink(missing_ok=True)
