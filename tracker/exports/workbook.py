"""Writing the donor's workbook (.xlsx) with openpyxl, streamed sheet by sheet.

Every sheet is written in openpyxl's ``write_only`` mode: rows go to a temporary file as
they are produced, so memory stays flat however large the project is. Header rows are
frozen and filtered, columns have widths, money has the currency format with two decimals,
dates are real dates, and text a user typed is always written as text (a title such as
``=HYPERLINK(...)`` stays text; see ``tracker.spreadsheets``).

Opening without a repair prompt: we stay on openpyxl's well-trodden features (inline
strings, number formats, frozen panes, autofilter, outline levels, external hyperlinks,
print titles) and keep within Excel's limits (32,767 characters per cell, hyperlinks of
at most 2,000 characters, web and mail links only, sheet names under 31 characters).
Checked by hand by converting an export with LibreOffice headless::

    soffice --headless --convert-to pdf --outdir /tmp/check KFIT-VNM-CI_results.xlsx

(``apt-get install libreoffice-calc-nogui``); the tests do not need LibreOffice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink

from ..spreadsheets import EXCEL_MAX_TEXT, clean_text, safe_hyperlink
from .columns import (
    BUDGET,
    END_OF_TABLE,
    INDICATORS,
    LOGFRAME,
    SUMMARY_FIELDS,
    Column,
    Formula,
    Link,
    Money,
    Row,
    YesNo,
)
from .language import N_, Translator, mark_workbook
from .services import ExportContext, Sheet, sheets

PROGRESS_EVERY = 1000  # rows between two progress reports
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
NOTE_FILL = PatternFill("solid", fgColor="FFF2CC")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# A yes/no indicator's 1 or 0 (or a cumulative sum) shown as a word; the cell stays a number.
YES_NO_FORMAT = '"Yes";"Yes";"No"'


def yes_no_format(tr=None) -> str:
    """YES_NO_FORMAT with the words in the export's language (``tr``: the export's translator)."""
    if tr is None:
        return YES_NO_FORMAT
    yes, no = (str(tr(word)).replace('"', "") for word in (N_("Yes"), N_("No")))
    return f'"{yes}";"{yes}";"{no}"'


def money_format(currency: str) -> str:
    """'[$USD] #,##0.00': the currency shown, two decimals, thousands grouped."""
    return f"[${currency}] #,##0.00;-[${currency}] #,##0.00"


class _Styles:
    """Style templates (openpyxl StyleArrays) registered once per workbook; cells carry
    only the resulting style id."""

    def __init__(self, ws, currency: str, tr=None):
        self.ws = ws
        self.money = self._make(number_format=money_format(currency))
        self.date = self._make(number_format=DATE_FORMAT)
        self.datetime = self._make(number_format=DATETIME_FORMAT)
        self.percent = self._make(number_format="0.0%")
        self.int = self._make(number_format="0")
        self.yesno = self._make(number_format=yes_no_format(tr))
        self.wrap = self._make(alignment=Alignment(wrap_text=True, vertical="top"))
        self.link = self._make(font=Font(color="0563C1", underline="single"))
        self.header = self._make(font=Font(bold=True), fill=HEADER_FILL,
                                 alignment=Alignment(wrap_text=True, vertical="top"),
                                 border=Border(bottom=Side(style="thin", color="7F7F7F")))

    def _make(self, **attributes) -> StyleArray:
        cell = Cell(self.ws, row=1, column=1)
        for name, value in attributes.items():
            setattr(cell, name, value)
        return cell._style

    def emphasised(self, base: StyleArray | None, *, note: bool = False) -> StyleArray:
        cell = Cell(self.ws, row=1, column=1, style_array=base)
        cell.font = Font(bold=True)
        if note:
            cell.fill = NOTE_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell._style

    def for_kind(self, kind: str) -> StyleArray | None:
        return {"money": self.money, "date": self.date, "datetime": self.datetime, "percent": self.percent,
                "int": self.int, "wrap": self.wrap, "link": self.link}.get(kind)

    def id_of(self, style: StyleArray | None) -> int:
        """The workbook's index of a style (0 is the default style)."""
        return 0 if style is None else self.ws.parent._cell_styles.add(style)


class _Out:
    """One cell as openpyxl's worksheet writer reads it. Value, type, style id and address
    are decided once here, so openpyxl's per-cell type guessing is skipped; the XML is still
    written by openpyxl's own writer. Text always has the string type: it can never be read
    as a formula, whatever it starts with."""

    __slots__ = ("parent", "coordinate", "data_type", "_value", "style_id", "has_style", "hyperlink", "_comment")

    def __init__(self, parent, coordinate: str, data_type: str, value, style_id: int, hyperlink=None):
        self.parent = parent
        self.coordinate = coordinate
        self.data_type = data_type
        self._value = value
        self.style_id = style_id
        self.has_style = style_id != 0
        self.hyperlink = hyperlink
        self._comment = None


def _clean(value: str) -> str:
    """clean_text, skipping the regular expression for the usual printable text."""
    if value.isprintable() and len(value) <= EXCEL_MAX_TEXT:
        return value
    return clean_text(value)


class _ColumnWriter:
    """How one column's values become cells: style ids for each kind of value."""

    __slots__ = ("letter", "kind", "text", "number", "money", "date", "datetime", "link", "yesno")

    def __init__(self, letter: str, column: Column, styles: _Styles, bold: bool = False, note: bool = False):
        def sid(style):
            if bold:
                style = styles.emphasised(style, note=note)
            return styles.id_of(style)

        self.letter = letter
        self.kind = column.kind
        self.text = sid(styles.wrap if column.kind == "wrap" else None)
        self.number = sid(styles.for_kind(column.kind) if column.kind in ("int", "percent", "money") else None)
        self.money = sid(styles.money)
        self.date = sid(styles.date)
        self.datetime = sid(styles.datetime)
        self.link = sid(styles.link)
        self.yesno = sid(styles.yesno)


def _row_cells(ws, writers: list[_ColumnWriter], values, row_index: int) -> list[_Out]:
    """The cells of one row (empty values are left out)."""
    cells = []
    number = str(row_index)
    for writer, value in zip(writers, values, strict=False):
        if value is None:
            continue
        kind = type(value)
        address = writer.letter + number
        if kind is str:
            if value:
                cells.append(_Out(ws, address, "s", _clean(value), writer.text))
        elif kind is int or kind is float:
            if writer.kind == "money" and kind is int:
                value = value / 100
            cells.append(_Out(ws, address, "n", value, writer.number))
        elif kind is Decimal:
            cells.append(_Out(ws, address, "n", float(value), writer.number))
        elif kind is Formula:
            cells.append(_Out(ws, address, "f", value.text, writer.number))
        elif kind is date:
            cells.append(_Out(ws, address, "d", value, writer.date))
        elif kind is datetime:
            cells.append(_Out(ws, address, "d", value.replace(tzinfo=None), writer.datetime))
        elif kind is Money:
            cells.append(_Out(ws, address, "n", value.cents / 100, writer.money))
        elif kind is Link:
            if value.label:
                url = safe_hyperlink(value.url)
                link = Hyperlink(ref=address, target=url) if url else None
                cells.append(_Out(ws, address, "s", _clean(value.label), writer.link if url else writer.text, link))
        elif kind is bool:  # yes/no flags are words in every sheet
            cells.append(_Out(ws, address, "s", "Yes" if value else "No", writer.text))
        elif kind is YesNo:
            cells.append(_Out(ws, address, "n", float(value.number), writer.yesno))
        else:
            cells.append(_Out(ws, address, "s", _clean(str(value)), writer.text))
    return cells


def _pass_through(cells, _row_index):
    """Stands in for WriteOnlyWorksheet._values_to_row: our rows are cells already."""
    return cells


def write_sheet(wb: Workbook, sheet: Sheet, ctx: ExportContext, progress: Callable[[int], None] | None = None,
                done: int = 0) -> int:
    """Write one sheet; returns the running count of data rows written (for progress)."""
    ws = wb.create_sheet(sheet.title)
    ws._values_to_row = _pass_through
    styles = _Styles(ws, ctx.currency, ctx.tr)
    letters = [get_column_letter(index) for index in range(1, len(sheet.columns) + 1)]
    for letter, column in zip(letters, sheet.columns, strict=True):
        ws.column_dimensions[letter].width = column.width
    ws.freeze_panes = sheet.freeze
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if sheet.outline is not None:
        # The summary (result) row sits above the rows it groups.
        ws.sheet_properties.outlinePr.summaryBelow = False
        ws.sheet_format.outlineLevelRow = sheet.outline()

    writers = [_ColumnWriter(letter, column, styles) for letter, column in zip(letters, sheet.columns, strict=True)]
    emphasis: dict[bool, list[_ColumnWriter]] = {}
    header_style = styles.id_of(styles.header)
    ws.append([_Out(ws, f"{letter}1", "s", _clean(header), header_style)
               for letter, header in zip(letters, sheet.headers, strict=True)])
    row_index = 1
    table_end = None
    for row in sheet.rows():
        if row is END_OF_TABLE:
            table_end = row_index
            continue
        row_index += 1
        if type(row) is Row:
            if row.level:
                ws.row_dimensions[row_index].outlineLevel = row.level
            row_writers = writers
            if row.bold:
                if row.note not in emphasis:
                    emphasis[row.note] = [_ColumnWriter(letter, column, styles, bold=True, note=row.note)
                                          for letter, column in zip(letters, sheet.columns, strict=True)]
                row_writers = emphasis[row.note]
            ws.append(_row_cells(ws, row_writers, row.values, row_index))
        else:
            ws.append(_row_cells(ws, writers, row, row_index))
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    if sheet.autofilter:
        ws.auto_filter.ref = f"A1:{letters[-1]}{max(table_end or row_index, 1)}"
    return done


def write_workbook(ctx: ExportContext, destination, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole workbook to ``destination`` (a path or a binary file); returns the
    number of data rows written. ``progress(rows_done)`` is called every 1,000 rows."""
    from .layout_sheets import write_layout_sheets

    wb = Workbook(write_only=True)
    _set_properties(wb, ctx)
    mark_workbook(wb, ctx.language)  # the import reads numbers typed as text in this language
    done = 0
    for sheet in sheets(ctx):
        done = write_sheet(wb, sheet, ctx, progress, done)
        done = write_layout_sheets(wb, ctx, sheet.slug, progress, done)  # the laid-out sheets after it
    wb.save(destination)
    return done


def _set_properties(wb: Workbook, ctx: ExportContext, title: str | None = None) -> None:
    project = ctx.project
    props = wb.properties
    props.title = clean_text(title or f"{project.code}: {project.title}")[:250]
    props.subject = ctx.tr(N_("Results framework, budget and evidence"))
    props.creator = clean_text(ctx.generated_by)[:250]
    props.lastModifiedBy = props.creator
    props.description = ctx.tr(N_("Exported from the results tracker."))
    props.created = props.modified = ctx.generated_at
    props.keywords = clean_text(f"{project.code}, {project.donor}, logframe")[:250]


# --- The blank logframe template ----------------------------------------------------------------

TEMPLATE_INSTRUCTIONS = [  # in the template's language (``write_template``)
    N_("How to fill in this logframe template"),
    "",
    N_("1. Summary: type the project's facts in column B (code, title, donor, grant, dates...). Dates as "
       "2016-01-01, amounts as numbers (120000)."),
    N_("2. Logframe: one row per result, indicator or activity. Level is one of Overall objective, Expected "
       "result, Output, Indicator, Activity. Result codes show the tree: 1 (objective), 1.1 (expected result), "
       "1.1.1 (output). An indicator or activity belongs to the result in the nearest row above it."),
    N_("3. Indicators: one row per indicator and reporting period, with the period's target and actual. The "
       "indicator code must be one from the Logframe sheet."),
    N_("4. Budget (optional): one row per budget line with its original (and revised) amount."),
    "",
    N_("Then upload the workbook on the project's Exports page (or, for a new project, on the import page). "
       "The app first shows a dry run listing every change and every problem with its sheet, row and column; "
       "nothing is saved until you apply it."),
    N_("Type values, not formulas, in the columns the import reads. A blank cell leaves a stored value as it is."),
    N_("An exported workbook can be imported back in the same way to update targets and actuals."),
]


def write_template(destination, generated_by: str = "", language: str = "en") -> None:
    """The blank logframe template: the same sheets and headers the export writes and the
    import reads, with drop-down lists for levels and units, and instructions, in ``language``
    (en, vi or both, as the export; the import reads every form)."""
    from datetime import UTC

    from ..models.results import LEVEL_LABELS, UNIT_LABELS

    tr = Translator(language)
    wb = Workbook(write_only=True)
    mark_workbook(wb, tr.language)  # the import reads numbers typed as text in this language
    props = wb.properties
    props.title = tr(N_("Logframe template"))
    props.creator = clean_text(generated_by or tr(N_("Results tracker")))[:250]
    props.created = props.modified = datetime.now(UTC).replace(tzinfo=None)

    ws = wb.create_sheet(tr.title(N_("Instructions")))
    ws.column_dimensions["A"].width = 120
    styles = _Styles(ws, "USD")
    for index, line in enumerate(TEMPLATE_INSTRUCTIONS):
        if index == 0:
            ws.append([Cell(ws, row=1, column=1, value=tr(line), style_array=styles.emphasised(None))])
        else:
            ws.append([Cell(ws, row=1, column=1, value=tr(line), style_array=styles.wrap) if line else None])

    ws = wb.create_sheet(tr.title(N_("Summary")))
    styles = _Styles(ws, "USD")
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 80
    ws.freeze_panes = "A2"
    ws.append([Cell(ws, row=1, column=1, value=tr(h), style_array=styles.header) for h in (N_("Item"), N_("Value"))])
    for label, _attr, kind in SUMMARY_FIELDS:
        style = {"money": styles.money, "date": styles.date}.get(kind, styles.wrap)
        ws.append([tr(label), Cell(ws, row=1, column=1, style_array=style)])

    def table(title, columns, validations=()):
        sheet_ws = wb.create_sheet(tr.title(title))
        sheet_styles = _Styles(sheet_ws, "USD")
        for index, column in enumerate(columns, 1):
            sheet_ws.column_dimensions[get_column_letter(index)].width = column.width
        sheet_ws.freeze_panes = "A2"
        sheet_ws.append([Cell(sheet_ws, row=1, column=1, value=tr(c.header), style_array=sheet_styles.header)
                         for c in columns])
        keys = [c.key for c in columns]
        for key, choices in validations:
            letter = get_column_letter(keys.index(key) + 1)
            rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                  showErrorMessage=True, errorTitle=tr(N_("Not in the list")),
                                  error=tr(N_("Choose a value from the list.")))
            rule.add(f"{letter}2:{letter}2000")
            sheet_ws.data_validations.append(rule)
        return sheet_ws

    # The drop-down lists hold words the import reads as one value: in a bilingual template, English.
    choice = tr if tr.language != "both" else Translator("en")
    levels = [choice(label) for label in (*LEVEL_LABELS.values(), N_("Indicator"), N_("Activity"))]
    logframe = LOGFRAME.only("level", "code", "logic", "indicator", "unit", "baseline", "target", "verification",
                             "assumptions")
    table(LOGFRAME.title, logframe, [("level", levels), ("unit", [choice(label) for label in UNIT_LABELS.values()])])
    table(INDICATORS.title, INDICATORS.only("code", "title", "start", "end", "target", "actual", "comment"))
    table(BUDGET.title, BUDGET.only("code", "category", "account", "description", "original", "revised", "notes"))
    wb.save(destination)
