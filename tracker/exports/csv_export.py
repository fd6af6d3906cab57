"""Each sheet of the workbook as CSV: UTF-8 with a BOM (so Excel shows Vietnamese correctly),
formula-safe (text that would be read as a formula gets a leading apostrophe), streamed.

CSV holds data only: where the workbook has a live formula, CSV has the figure the app
computed; totals and check rows below a table are left out. Money is a plain number with
two decimals (1234.50), percentages a plain number (37.50 for 37.5 %), dates ISO and times
UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from ..spreadsheets import csv_stream, strip_control
from .columns import END_OF_TABLE, Column, Formula, Link, Money, Row, YesNo
from .services import Sheet


def cents_text(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def csv_value(value, column: Column):
    """One value as CSV wants it; text stays ``str`` (made formula-safe by csv_stream),
    numbers are written as numbers (a negative balance is not mistaken for a formula)."""
    if type(value) is Formula:
        value = value.value
    if value is None:
        return ""
    if isinstance(value, str):
        return strip_control(value)
    if isinstance(value, Link):
        return strip_control(value.label or "")
    if isinstance(value, Money):
        return cents_text(value.cents)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, YesNo):
        return "Yes" if Decimal(value.number) >= 1 else "No"
    if column.kind == "money" and isinstance(value, int):
        return cents_text(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def sheet_rows(sheet: Sheet) -> Iterator[list]:
    """The table rows of ``sheet`` as CSV values (stops where the table ends)."""
    columns = sheet.columns
    for row in sheet.rows():
        if row is END_OF_TABLE:
            return
        values = row.values if type(row) is Row else row
        yield [csv_value(value, column) for column, value in zip(columns, values, strict=False)]


def sheet_csv(sheet: Sheet) -> Iterator[str]:
    """The sheet as CSV text, in chunks (BOM first)."""
    return csv_stream(sheet.headers, sheet_rows(sheet))
