"""Reading a workbook's tables: which sheets and headers the import knows, and each cell as
the text a person would have typed.

The sheets and their headers are the export's own declared columns
(``tracker.exports.columns``, read in ``COLUMNS`` below), so a workbook exported from the app,
the blank template and the import agree on every header; a new column is one line there.

Cells are handed to the services as typed text: a number cell becomes the text a person
would type for it (``12``, ``3.5``), a date cell an ISO date, a text cell stays as it is, so
a number typed as text is read by exactly the rule of the pages ("1,5" is refused in English,
never read as 15).

**Numbers and the workbook's language.** A number cell is a number whatever the language: it is
handed over as a ``CellNumber`` (plain text such as ``3.5`` that the parsers read in no locale).
A number typed as *text* in a cell is read, strictly, in the workbook's language
(``workbook_locale``): the document property *language* (``dc:language`` in
docProps/core.xml, openpyxl's ``wb.properties.language``), which the export writes (``en`` or
``vi``; its first two letters count); when it is missing, names both languages or one the app
does not know, the importing person's locale. So ``22.350`` typed as text is 22350 in a
Vietnamese workbook and refused ("Did you mean 22,35 or 2.235?") nowhere silently. A formula where a value belongs is refused (type the value). Sheets are read whole:
openpyxl's read-only mode trusts a sheet's declared ``<dimension>``, which a hand-edited or
third-party file may state too small, so the dimension is reset before reading. Malformed
sheet XML is refused as a damaged workbook, never a server error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from openpyxl.utils import get_column_letter

from ..exports.columns import SHEETS, SUMMARY_FIELDS, Column
from ..exports.language import names_of
from ..formatting import number as fmt_number
from ..i18n import LANGUAGES, N_
from ..validation import CellNumber, clean_text, number_locale
from .package import ImportRefused, limit

# The import's sheets and headers: the export's declared columns (tracker/exports/columns.py),
# so the workbook, the template and the import share every header. Allocations (each budget
# line's share of an activity, in create mode) are the import's own optional sheet.
ALLOCATION_COLUMNS = (
    Column("line", N_("Budget line"), "text", 10),
    Column("activity", N_("Activity"), "text", 10),
    Column("share", N_("Share (%)"), "percent", 10),
)
COLUMNS = {
    **{title: SHEETS[title].columns for title in ("Logframe", "Indicators", "Budget")},
    "Allocations": ALLOCATION_COLUMNS,
}
SUMMARY = SUMMARY_FIELDS  # (label in column A, Project attribute, kind)

MISSING = object()  # a cell whose value was refused (the problem is recorded)


@dataclass
class Problem:
    sheet: str
    row: int | None
    column: str | None  # letter
    header: str
    message: str

    @property
    def sheet_shown(self) -> str:
        """The sheet's name in the person's language (the names are the catalogue's msgids)."""
        return _(self.sheet) if self.sheet else ""

    @property
    def header_shown(self) -> str:
        """The column's header in the person's language."""
        return _(self.header) if self.header else ""

    def __str__(self) -> str:
        where = [self.sheet]
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return ", ".join(where) + ": " + self.message


def norm(header) -> str:
    return re.sub(r"\s+", " ", str(header or "")).strip().lower()


def shown(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def find_sheet(problems: list[Problem], wb, name: str, required: bool):
    """The sheet called ``name`` (forgiving case and spaces; in English, Vietnamese or both, as the
    export writes it: ``tracker.exports.language``); a problem when required and absent."""
    names = names_of(name, title=True) | {norm(name)}
    for existing in wb.sheetnames:
        if existing == name or norm(existing) in names:
            return wb[existing]
    if required:
        problems.append(Problem(name, None, None, "", _("the sheet “%(name)s” is missing (the workbook has: "
                                                        "%(sheets)s).", name=_(name),
                                                        sheets=", ".join(wb.sheetnames) or _("no sheets"))))
    return None


def read_rows(ws, name: str, max_col: int | None = None):
    """Every row of a sheet (its declared dimension ignored); a damaged sheet is refused whole."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    rows = []
    maximum = limit("IMPORT_MAX_ROWS") + 1
    try:
        for number, row in enumerate(ws.iter_rows(max_col=max_col), 1):
            if number > maximum:
                rows.append(None)  # the marker of "more rows than the limit"
                break
            rows.append(row)
    except ImportRefused:
        raise
    except Exception:  # malformed XML, impossible cell references or numbers: openpyxl raises many kinds
        raise ImportRefused(_("The sheet “%(name)s” could not be read: its contents are damaged or not in the Excel "
                              ".xlsx format. Open the workbook in Excel or LibreOffice and save it again as .xlsx.",
                              name=_(name))) from None
    return rows


def typed(value):
    """A cell's value as a person would have typed it: text, or None when the cell is empty.

    Numbers in their plain decimal form (a float's shortest form, so 0.1 stays 0.1), dates in
    ISO form, Excel's TRUE/FALSE as ``TRUE``/``FALSE``. A number too large for a float (such as
    ``1e999999999``, which reads as infinity) is returned as that text so the rule refuses it as
    too large.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value != value:
            return CellNumber("NaN")
        if value in (float("inf"), float("-inf")):
            return CellNumber(("-" if value < 0 else "") + "1e999999999")
        number = Decimal(repr(value))
        return CellNumber(format(number.normalize() if number == number.to_integral_value() else number, "f"))
    if isinstance(value, (int, Decimal)):
        return CellNumber(format(Decimal(value), "f"))
    return str(value)


def workbook_locale(wb) -> str:
    """The language numbers typed as text in ``wb`` are read in: the workbook's document
    property *language* when it names one language of the app ('vi', 'vi-VN', 'en'), else the
    importing person's locale."""
    declared = str(getattr(getattr(wb, "properties", None), "language", None) or "").strip().lower()
    code = declared[:2]
    if code in LANGUAGES and (len(declared) == 2 or declared[2] in "-_"):
        return code
    return number_locale().language


class Table:
    """The rows of one sheet, addressed by column key, with problems recorded in place."""

    def __init__(self, problems: list[Problem], sheet: str):
        self.problems, self.sheet = problems, sheet
        self.letters: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.rows: list[tuple[int, dict]] = []
        self.ok = True

    @classmethod
    def read(cls, problems: list[Problem], ws, sheet: str, required: tuple[str, ...]) -> Table:
        """Find the sheet's columns by their headers in row 1 and collect the non-empty rows below."""
        table = cls(problems, sheet)
        columns = COLUMNS[sheet]
        table.headers = {c.key: c.header for c in columns}
        rows = read_rows(ws, sheet)
        header_row = rows[0] if rows and rows[0] is not None else ()
        by_text = {norm(cell.value): index for index, cell in enumerate(header_row) if cell.value is not None}
        positions = {}
        for column in columns:  # a header in English, Vietnamese or both (tracker.exports.language)
            found = next((by_text[name] for name in names_of(column.header) | {norm(column.header)}
                          if name in by_text), None)
            if found is not None:
                positions[column.key] = found
                table.letters[column.key] = get_column_letter(positions[column.key] + 1)
        missing = [table.headers[key] for key in required if key not in positions]
        if missing:
            table.ok = False
            names = ", ".join(f"“{_(m)}”" for m in missing)
            problems.append(Problem(sheet, 1, None, "", ngettext(
                "column %(names)s is missing: row 1 must hold the column headers as in the template.",
                "columns %(names)s are missing: row 1 must hold the column headers as in the template.",
                len(missing), names=names)))
            return table
        for number, row in enumerate(rows[1:], 2):
            if row is None:
                problems.append(Problem(sheet, number, None, "", _("more than %(count)s rows; split the workbook.",
                                                                   count=fmt_number(limit("IMPORT_MAX_ROWS")))))
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

    def problem(self, row: int | None, key: str | None, message: str) -> None:
        self.problems.append(Problem(self.sheet, row, self.letters.get(key) if key else None,
                                     self.headers.get(key, "") if key else "", message))

    def raw(self, row: int, cells: dict, key: str):
        """The cell's value as typed (text or None), or MISSING (with a problem) for a formula."""
        cell = cells.get(key)
        if cell is None or cell.value is None:
            return None
        if cell.data_type == "f":
            formula = str(cell.value)
            self.problem(row, key, _("holds a formula (%(formula)s) where a value belongs: type the value "
                                     "itself (or copy the cells and paste them as values).", formula=shown(formula)))
            return MISSING
        return typed(cell.value)

    def text(self, row: int, cells: dict, key: str, required: bool = False, limit: int = 10_000):
        """Plain text (codes, titles, labels) with the import's own checks: required, length."""
        value = self.raw(row, cells, key)
        if value is MISSING:
            return MISSING
        text = clean_text(value)
        if required and not text:
            self.problem(row, key, _("is empty; it is required."))
            return MISSING
        if len(text) > limit:
            self.problem(row, key, _("is %(length)s characters long; at most %(limit)s are allowed.",
                                     length=fmt_number(len(text)), limit=fmt_number(limit)))
            return MISSING
        return text


def summary_cells(ws) -> tuple[dict, dict]:
    """The Summary sheet's label (column A) -> value cell (column B), and label -> row number."""
    cells: dict = {}
    numbers: dict = {}
    # A label in Vietnamese or both is keyed by its English form, as the callers look it up.
    english = {name: norm(label) for label, _attr, _kind in SUMMARY_FIELDS for name in names_of(label)}
    for number, row in enumerate(read_rows(ws, "Summary", max_col=2), 1):
        if row is None or number > 200:
            break
        label = norm(row[0].value) if row else ""
        label = english.get(label, label)
        if label and label not in cells and len(row) > 1:
            cells[label], numbers[label] = row[1], number
    return cells, numbers
