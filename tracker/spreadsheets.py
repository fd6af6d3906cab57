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


# --- Added for the donor's workbook (tracker/exports). The functions above are unchanged. ---

# Excel refuses (with a repair prompt) a cell holding more than this many characters.
EXCEL_MAX_TEXT = 32_767
# Excel refuses hyperlinks longer than this (it repairs the file and drops them).
EXCEL_MAX_URL = 2_000
SAFE_URL_SCHEMES = ("http://", "https://", "mailto:")


def clean_text(value: str) -> str:
    """Text that every spreadsheet program accepts: no XML-illegal control characters
    (openpyxl refuses them), cut at Excel's cell limit with a visible mark."""
    value = strip_control(value)
    if len(value) > EXCEL_MAX_TEXT:
        value = value[: EXCEL_MAX_TEXT - 1] + "…"
    return value


def strip_control(value: str) -> str:
    """Text without the control characters spreadsheet programs refuse (tab, CR, LF stay)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if ILLEGAL_CHARACTERS_RE.search(value) else value


def safe_hyperlink(url: str | None) -> str | None:
    """``url`` when it may become a clickable link in a workbook (web or mail address of a
    length Excel accepts), else None: no ``javascript:``, ``file:`` or local paths."""
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(SAFE_URL_SCHEMES) or len(url) > EXCEL_MAX_URL:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    return url


def csv_stream(header: list[str], rows):
    """Like ``csv_text`` but yields the text in chunks, for large sheets sent as a stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(UTF8_BOM)
    writer.writerow([csv_safe(h) for h in header])
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_safe(v) for v in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
