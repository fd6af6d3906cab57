"""The workbook's laid-out sheets (``columns.LAYOUT_SHEETS``): the Logframe matrix after the
Summary, the IPTT after the Indicators. Each is written by its own module, streamed like the
table sheets, with the helpers they share here: print settings and styles."""

from __future__ import annotations

from collections.abc import Callable

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray

from .columns import LAYOUT_SHEETS
from .services import ExportContext

A4 = 9  # the paper size code of A4 in SpreadsheetML
THIN = Side(style="thin", color="9FA8B5")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def make_style(ws, **attributes) -> StyleArray:
    cell = Cell(ws, row=1, column=1)
    for name, value in attributes.items():
        setattr(cell, name, value)
    return cell._style


def style_id(ws, style: StyleArray) -> int:
    return ws.parent._cell_styles.add(style)


def grid_style(ws, *, bold=False, fill: str | None = None, number_format: str | None = None, wrap=True,
               horizontal: str | None = None) -> int:
    """A bordered cell's style id (wrapped, top-aligned text; bold, fill and format as asked)."""
    attributes = {"border": GRID, "alignment": Alignment(wrap_text=wrap, vertical="top", horizontal=horizontal)}
    if bold:
        attributes["font"] = Font(bold=True)
    if fill:
        attributes["fill"] = PatternFill("solid", fgColor=fill)
    if number_format:
        attributes["number_format"] = number_format
    return style_id(ws, make_style(ws, **attributes))


def print_on_a4_landscape(ws, title_rows: str) -> None:
    """A4 landscape, fitted to the page's width (as many pages down as needed), the header rows
    repeated on every page. Called before the first row: a streamed sheet writes its properties
    first (the print area is set at the end, once the last row is known)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.gridLines = False


def merge(ws, ref: str) -> None:
    """Merge ``ref`` (A1:D1). Added to the set directly: openpyxl's ``add`` compares each new range
    with every range before it, which grows with the square of a large logframe."""
    from openpyxl.worksheet.cell_range import CellRange

    ws.merged_cells.ranges.add(CellRange(ref))


def write_layout_sheets(wb, ctx: ExportContext, after: str, progress: Callable[[int], None] | None,
                        done: int) -> int:
    """Write the laid-out sheets that follow the table sheet ``after``; returns the row count."""
    for sheet in LAYOUT_SHEETS:
        if sheet.after != after:
            continue
        if sheet.slug == "logframe-matrix":
            from .matrix_sheet import write_matrix_sheet

            done = write_matrix_sheet(wb, ctx, sheet, done)
        elif sheet.slug == "iptt":
            from .iptt_sheet import write_iptt_sheet

            done = write_iptt_sheet(wb, ctx, sheet, done)
        if progress is not None:
            progress(done)
    return done
