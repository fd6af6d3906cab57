"""Plumbing every area shares for reading what a person typed (or a workbook cell held).

One error type, ``InputError``, carries the message(s) of bad input and the form field(s)
they belong to; every service raises it, the write path (``tracker.htmx.write``) puts it back
on the form, and the workbook import adds sheet, row and column to the same words. Parsing
helpers here know nothing of any area: ids, trimmed text, money in cents, decimals,
percentages, ISO dates, and the one sort key for codes (A2 before A10, 1.2 before 1.10).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, get_group_symbol
from babel.numbers import parse_decimal as babel_parse_decimal
from flask import has_app_context
from flask_babel import gettext as _


class InputError(ValueError):
    """Bad input; each message belongs to a form field (``""``: the form as a whole).

    ``InputError("Amount is required.", field="amount")`` for one field, or
    ``InputError(errors={"amount": "...", "voucher": "..."})`` for several at once.
    """

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 errors: dict[str, str] | None = None):
        if errors is None:
            errors = {field or "": message or _("This value is not valid.")}
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


# Numbers are read in the locale of the person typing them, strictly (Babel's strict parsing):
# in English "22,350" is 22350 and "1.5" one and a half; in Vietnamese "22.350" is 22350 and
# "1,5" one and a half. A number whose separators do not fit the locale ("1,5" in English,
# "22.35" in Vietnamese, "150.000.000" in English) is refused with how it could be read, never
# reinterpreted. Digits alone ("150000000") are read the same everywhere. Spaces may group
# thousands (they are read as the locale's group symbol, so "1 5" is still refused).
_DIGITS = re.compile(r"^[+-]?\d+$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_number_locale: ContextVar[str | None] = ContextVar("tracker_number_locale", default=None)


class CellNumber(str):
    """A number that was already a number (a workbook's numeric cell), in plain decimal form
    ('3.5', '1e999999999'): ``parse_decimal`` reads it in no locale, since nobody typed its
    separators."""

    __slots__ = ()


@contextmanager
def numbers_in(locale: str):
    """Read typed numbers in ``locale`` (a workbook's language) inside the block, whatever the
    request's locale."""
    token = _number_locale.set(locale)
    try:
        yield
    finally:
        _number_locale.reset(token)


def number_locale() -> Locale:
    """The locale typed numbers are read in: ``numbers_in``'s, else the request's, else English."""
    chosen = _number_locale.get()
    if chosen:
        return Locale.parse(chosen)
    if has_app_context():
        from flask_babel import get_locale

        current = get_locale()
        if current is not None:
            return current
    return Locale("en")


def _written(value: Decimal, where: Locale, grouping: bool = True) -> str:
    """``value`` as a person of ``where`` writes it, keeping its decimals."""
    exponent = value.as_tuple().exponent
    digits = max(0, -exponent) if isinstance(exponent, int) else 0
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=where)


def _example(example: str, where: Locale) -> str:
    """An example such as '12 or 3.5' written in ``where`` ('12 hoặc 3,5' in Vietnamese)."""
    text = re.sub(r"\d+(?:\.\d+)?", lambda m: _written(Decimal(m.group()), where, grouping=False), example)
    return text.replace(" or ", " " + _("or") + " ")


def _readings(text: str, where: Locale, babel_suggestions) -> list[str]:
    """How text that does not fit ``where`` could have been meant, written in ``where``: first as
    typed in the other convention (dot and comma swapped), then Babel's suggestions; at most two."""
    candidates = [text.translate(str.maketrans({".": ",", ",": "."}))] + list(babel_suggestions or [])
    values: list[Decimal] = []
    for candidate in candidates:
        try:
            value = babel_parse_decimal(candidate, locale=where, strict=True)
        except NumberFormatError:
            continue
        if value.is_finite() and value not in values:
            values.append(value)
    return [_written(value, where) for value in values[:2]]


def _read_text(raw: str, label, example: str) -> Decimal | None:
    text = raw.strip()
    if not text:
        return None
    where = number_locale()
    if _DIGITS.match(text):
        return Decimal(text)
    if _SPACES.search(text):
        text = _SPACES.sub(get_group_symbol(where), text)
    try:
        return babel_parse_decimal(text, locale=where, strict=True)
    except NumberFormatError as error:
        readings = _readings(text, where, error.suggestions)
    typed = raw.strip()
    if len(readings) == 2:
        raise InputError(_("%(label)s: “%(typed)s” could be read two ways. Did you mean %(first)s or %(second)s?",
                           label=label, typed=typed, first=readings[0], second=readings[1]))
    if readings:
        raise InputError(_("%(label)s: “%(typed)s” is not written the way numbers are written here "
                           "(%(sample)s). Did you mean %(reading)s?", label=label, typed=typed,
                           sample=_written(Decimal("1234.5"), where), reading=readings[0]))
    raise InputError(_("%(label)s must be a number, for example %(example)s.", label=label,
                       example=_example(example, where)))


def parse_decimal(raw, *, label: str, example: str = "1250.5") -> Decimal | None:
    """Typed text (read in the person's locale, strictly) or a number (from a workbook cell) to
    Decimal; None when empty.

    Refuses text whose separators do not fit the locale (saying how it could be read),
    infinities and NaN, and absurd magnitudes, each with a message naming ``label``.
    ``example`` is written in English form ('12 or 3.5') and shown in the person's locale.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InputError(_("%(label)s must be a number, for example %(example)s.", label=label,
                           example=_example(example, number_locale())))
    if isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    elif isinstance(raw, CellNumber):
        try:
            value = Decimal(str.strip(raw))
        except InvalidOperation:
            value = Decimal("NaN")
    else:
        value = _read_text(str(raw), label, example)
        if value is None:
            return None
    if not value.is_finite() or (value and not -12 <= value.adjusted() < 13):
        if value.is_finite() and value.adjusted() >= 0:
            raise InputError(_("%(label)s is too large.", label=label))
        raise InputError(_("%(label)s must be a number, for example %(example)s.", label=label,
                           example=_example(example, number_locale())))
    return value


def parse_money_cents(raw, *, field: str = "Amount", allow_zero: bool = False) -> int:
    """'1,234.5' (en) or '1.234,5' (vi) -> 123450. Refuses empty, negatives, zero (unless
    allowed), more than two decimals."""
    value = parse_decimal(raw, label=field, example="1250.00")
    if value is None:
        raise InputError(_("%(label)s is required.", label=field))
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise InputError(_("%(label)s can have at most two decimals.", label=field))
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError(_("%(label)s must be more than zero.", label=field) if not allow_zero
                         else _("%(label)s cannot be negative.", label=field))
    return int(value * 100)


def parse_percent(raw, *, label: str, whole: bool = False) -> Decimal | None:
    """'45', '45%', '12,5' (vi) or 12.5 -> a percentage in 0-100; None when empty."""
    if isinstance(raw, str) and not isinstance(raw, CellNumber):
        raw = raw.strip().rstrip("%").strip()
    value = parse_decimal(raw, label=label, example="45")
    if value is None:
        return None
    if whole and value != value.to_integral_value():
        raise InputError(_("%(label)s must be a whole number from 0 to 100.", label=label))
    if not 0 <= value <= 100:
        raise InputError(_("%(label)s must be from 0 to 100.", label=label) if not whole
                         else _("%(label)s must be a whole number from 0 to 100.", label=label))
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
            raise InputError(_("%(label)s must be a date such as 2016-11-24.", label=label)) from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise InputError(_("%(label)s must be between %(first)s and %(last)s.", label=label,
                             first=MIN_DATE.year, last=MAX_DATE.year))
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
        if years == 1:
            message = _("%(label)s must be within a year of the project (%(low)s to %(high)s).",
                        label=label, low=low.isoformat(), high=high.isoformat())
        else:
            message = _("%(label)s must be within %(years)s years of the project (%(low)s to %(high)s).",
                        label=label, years=years, low=low.isoformat(), high=high.isoformat())
        raise InputError(message, field=field)
