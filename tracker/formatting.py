"""Parsing and formatting of money, numbers, dates and ISO weeks, shared by every area.

Money is an integer number of cents everywhere; text is parsed with ``Decimal`` and never
passes through a float.
"""

from datetime import date, timedelta
from decimal import Decimal

from markupsafe import Markup, escape

from .validation import InputError


def money(cents: int | None, currency: str = "USD") -> str:
    """123450 -> 'USD 1,234.50'."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{currency} {whole:,}.{rest:02d}".strip()


def amount(cents: int | None) -> str:
    """123450 -> '1,234.50' (no currency)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{rest:02d}"


def cents_to_decimal(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def number(value, places: int | None = None) -> str:
    """Decimal/int to text without trailing zeros: 3.0000 -> '3', 2.5000 -> '2.5'."""
    if value is None:
        return ""
    value = Decimal(value)
    if places is not None:
        return f"{value:,.{places}f}"
    if value == value.to_integral():
        return f"{int(value):,}"
    return format(value.normalize(), "f")


def percent(value, places: int = 0) -> str:
    if value is None:
        return "–"
    return f"{Decimal(value):.{places}f}%"


def day(value: date | None) -> str:
    """ISO date, the one format every user and spreadsheet reads the same way."""
    return value.isoformat() if value else ""


def iso_week(value: date) -> str:
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    """'2016-W47' -> the Monday of that ISO week; InputError for anything else."""
    try:
        year_text, week_text = week.split("-W")
        return date.fromisocalendar(int(year_text), int(week_text), 1)
    except (ValueError, AttributeError):
        raise InputError(f"{week!r} is not an ISO week such as 2016-W47.") from None


def week_range(week: str) -> tuple[date, date]:
    start = week_start(week)
    return start, start + timedelta(days=6)


def multiline(text: str) -> Markup:
    """Escape text and keep its line breaks."""
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())
