"""Plumbing every area shares for reading what a person typed (or a workbook cell held).

One error type, ``InputError``, carries the message(s) of bad input and the form field(s)
they belong to; every service raises it, the write path (``tracker.htmx.write``) puts it back
on the form, and the workbook import adds sheet, row and column to the same words. Parsing
helpers here know nothing of any area: ids, trimmed text, money in cents, decimals,
percentages, ISO dates, and the one sort key for codes (A2 before A10, 1.2 before 1.10).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache


class InputError(ValueError):
    """Bad input; each message belongs to a form field (``""``: the form as a whole).

    ``InputError("Amount is required.", field="amount")`` for one field, or
    ``InputError(errors={"amount": "...", "voucher": "..."})`` for several at once.
    """

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 errors: dict[str, str] | None = None):
        if errors is None:
            errors = {field or "": message or "This value is not valid."}
        self.errors: dict[str, str] = dict(errors)
        self.field = field if field is not None else (next(iter(self.errors)) or None
                                                      if len(self.errors) == 1 else None)
        super().__init__(" ".join(self.errors.values()))

    @property
    def message(self) -> str:
        return str(self)


def raise_if(errors: dict[str, str]) -> None:
    """Raise one InputError holding every collected field error, if there is any."""
    if errors:
        raise InputError(errors=errors)


# C0 control characters but tab and line feed (a NUL cannot even be stored by PostgreSQL).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
MAX_ID = 2**31 - 1  # the largest INTEGER id on PostgreSQL (and so on every database we run on)


def clean_text(value) -> str:
    """Typed text without control characters (CRLF becomes LF), trimmed."""
    text = "" if value is None else str(value)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def parse_id(value) -> int | None:
    """A database id from form or URL text; None for anything that cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


# Numbers: "1,234.5" is read with its thousands separators; "1,5" is refused rather than
# read as 15 (a comma is a thousands separator only before exactly three digits).
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,12})?$")


def parse_decimal(raw, *, label: str, example: str = "1250.5") -> Decimal | None:
    """Typed text (or a number from a workbook cell) to Decimal; None when empty.

    Refuses what could be misread: a comma not grouping thousands ("1,5"), exponents,
    infinities, and absurd magnitudes, each with a message naming ``label``.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InputError(f"{label} must be a number, for example {example}.")
    if isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    else:
        text = str(raw).strip().replace("\u00a0", " ").replace(" ", "")
        if not text:
            return None
        if _GROUPED.match(text):
            text = text.replace(",", "")
        elif "," in text:
            raise InputError(f"{label}: {raw.strip()!r} could be read two ways; type it without commas, "
                             f"for example {example}.")
        if not _PLAIN.match(text):
            raise InputError(f"{label} must be a number, for example {example}.")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InputError(f"{label} must be a number, for example {example}.") from None
    if not value.is_finite() or (value and not -12 <= value.adjusted() < 13):
        raise InputError(f"{label} is too large." if value.is_finite() and value.adjusted() >= 0
                         else f"{label} must be a number, for example {example}.")
    return value


def parse_money_cents(raw, *, field: str = "Amount", allow_zero: bool = False) -> int:
    """'1,234.5' -> 123450. Refuses empty, negatives, zero (unless allowed), more than two decimals."""
    value = parse_decimal(raw, label=field, example="1250.00")
    if value is None:
        raise InputError(f"{field} is required.")
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise InputError(f"{field} can have at most two decimals.")
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError(f"{field} must be more than zero." if not allow_zero else f"{field} cannot be negative.")
    return int(value * 100)


def parse_percent(raw, *, label: str, whole: bool = False) -> Decimal | None:
    """'45', '45%' or 12.5 -> a percentage in 0-100; None when empty."""
    if isinstance(raw, str):
        raw = raw.strip().rstrip("%").strip()
    value = parse_decimal(raw, label=label, example="45")
    if value is None:
        return None
    if whole and value != value.to_integral_value():
        raise InputError(f"{label} must be a whole number from 0 to 100.")
    if not 0 <= value <= 100:
        raise InputError(f"{label} must be from 0 to 100." if not whole
                         else f"{label} must be a whole number from 0 to 100.")
    return value


# Dates: ISO only (the one format every person and spreadsheet reads the same way), and in
# a range no real project leaves, so no stored date can break a page, a chart or an export.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)


def parse_date(raw, *, label: str) -> date | None:
    """'2016-11-24' (or a date from a workbook cell) -> date; None when empty."""
    if raw is None:
        return None
    if isinstance(raw, date):
        value = raw.date() if hasattr(raw, "date") and callable(raw.date) else raw
    else:
        text = str(raw).strip()
        if not text:
            return None
        try:
            value = date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
        except ValueError:
            raise InputError(f"{label} must be a date such as 2016-11-24.") from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise InputError(f"{label} must be between {MIN_DATE.year} and {MAX_DATE.year}.")
    return value


@lru_cache(maxsize=65536)
def code_key(code: str) -> tuple:
    """The one sort order of codes everywhere: 1.2 before 1.10, A2 before A10, A1.2 before A1.10."""
    parts = []
    for part in (code or "").replace("-", ".").split("."):
        # isdecimal, not isdigit: "²" is a digit that int() cannot read (a stored code must never break a sort).
        digits = "".join(ch for ch in part if ch.isdecimal())
        prefix = "".join(ch for ch in part if not ch.isdecimal())
        parts.append((prefix, int(digits) if digits else -1, part))
    return tuple(parts)


def years_around(start: date, end: date, years: int = 1) -> tuple[date, date]:
    """``start`` to ``end`` widened by ``years`` on each side, held within MIN_DATE-MAX_DATE."""
    def shift(day: date, by: int) -> date:
        year = min(max(day.year + by, MIN_DATE.year), MAX_DATE.year)
        return day.replace(year=year, day=28) if (day.month, day.day) == (2, 29) else day.replace(year=year)

    return max(shift(start, -years), MIN_DATE), min(shift(end, years), MAX_DATE)


def check_near_project(value: date | None, start: date, end: date, *, label: str, years: int = 1,
                       field: str | None = None) -> None:
    """Refuse a date more than ``years`` before the project starts or after it ends: a typing
    slip (2061 for 2016), not a real record; the message says the range allowed."""
    if value is None:
        return
    low, high = years_around(start, end, years)
    if not low <= value <= high:
        span = "a year" if years == 1 else f"{years} years"
        raise InputError(f"{label} must be within {span} of the project ({low.isoformat()} to {high.isoformat()}).",
                         field=field)
