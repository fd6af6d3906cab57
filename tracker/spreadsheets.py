"""Formula-safe text for spreadsheets (Excel, LibreOffice, CSV).

Text a user typed that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would be read as a formula by a spreadsheet program. Such text is written as text: in
openpyxl by giving the cell the string data type explicitly; in CSV by a leading
apostrophe, which spreadsheet programs hide and which keeps the text as it was typed.
"""

import csv
import io

from openpyxl.cell.cell import TYPE_STRING

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_safe(value):
    """The value for a CSV cell: formula-like text gets a leading apostrophe."""
    if value is None:
        return ""
    if is_formula_like(value):
        return "'" + value
    return value


def set_text(cell, value: str) -> None:
    """Store ``value`` in an openpyxl cell as text, never as a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = TYPE_STRING


def text_cell(sheet, value):
    """For write-only sheets: a WriteOnlyCell holding ``value`` as text."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = TYPE_STRING
    return cell


def csv_text(header: list[str], rows) -> str:
    """CSV text with a UTF-8 BOM (Excel then reads Vietnamese correctly), formula-safe."""
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return buffer.getvalue()
