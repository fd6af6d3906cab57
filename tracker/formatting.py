"""Parsing and formatting of money, numbers, dates and ISO weeks, shared by every area.

Money is an integer number of cents everywhere; text is parsed with ``Decimal`` and never
passes through a float.

Numbers, money, percentages and dates are written with Babel in the request's locale
(``flask_babel.get_locale()``; English outside a request, or what ``force_locale`` chose):

* English keeps the app's long-standing forms: ``USD 120,000.00`` (the currency's ISO code in
  front), ``1,234.5``, ``45%`` and ISO dates (``2016-11-24``), the one date form auditors and
  spreadsheets read alike;
* other locales get Babel's own forms: Vietnamese ``120.000,00 US$`` (Babel writes a no-break
  space, U+00A0, before the currency), ``1.234,5``, ``45%`` and Babel's medium date
  (``24 thg 11, 2016``).

What goes back into an input (``input_number``, ``input_money``) has no grouping and the
locale's decimal symbol, so that submitting a form unchanged reads the same value again
(tracker.validation reads numbers strictly in the same locale). Dates in URLs, inputs and
files stay ISO.
"""

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from flask import g, has_app_context
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .validation import InputError

ENGLISH = Locale("en")


def locale() -> Locale:
    """The locale numbers and dates are written in: the request's, English outside one."""
    if has_app_context():
        # Flask-Babel keeps the request's (or force_locale's) locale on its namespace in ``g``
        # once chosen: read it there first (a page formats hundreds of figures).
        space = g.get("_flask_babel")
        chosen = getattr(space, "babel_locale", None) if space is not None else None
        if chosen is None:
            from flask_babel import get_locale

            chosen = get_locale()
        if chosen is not None:
            return chosen
    return ENGLISH


def _english(where: Locale) -> bool:
    return where.language == "en"


def decimal_symbol() -> str:
    """The current locale's decimal symbol ('.' in English, ',' in Vietnamese), for input hints."""
    return get_decimal_symbol(locale())


def group_symbol() -> str:
    """The current locale's thousands separator (',' in English, '.' in Vietnamese), for input hints."""
    return get_group_symbol(locale())


def _cents(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


# The fast path. A page can show a thousand figures, and Babel parses its pattern on every
# call (about 10 µs). For a finite, non-negative value and the plain patterns used here
# (``#,##0`` grouping by three, a fixed or exact number of decimals) Python's own formatting
# writes the same digits; only the locale's two symbols are swapped in. Negative values and
# anything unusual go to Babel. tests/test_formatting_fast.py compares both on many values.


@lru_cache(maxsize=32)
def _symbol_table(name: str) -> dict[int, str] | None:
    """str.translate table from Python's ',' and '.' to the locale's symbols (None: the same)."""
    where = Locale.parse(name)
    decimal, group = get_decimal_symbol(where), get_group_symbol(where)
    if (decimal, group) == (".", ","):
        return None
    return {ord(","): group, ord("."): decimal}


@lru_cache(maxsize=64)
def _currency_symbol(currency: str, name: str) -> str:
    return get_currency_symbol(currency, Locale.parse(name))


def _fast(value: Decimal, places: int, grouped: bool, where: Locale) -> str | None:
    """``value`` with ``places`` decimals (half-even, as Babel rounds), grouped by three or not,
    in the locale's symbols; None when Babel must write it (negative, infinite, not a number)."""
    if not value.is_finite() or value.is_signed():
        return None
    text = format(value, f"{',' if grouped else ''}.{places}f")
    table = _symbol_table(str(where))
    return text if table is None else text.translate(table)


def money(cents: int | None, currency: str = "USD") -> str:
    """123450 -> 'USD 1,234.50' (en), '1.234,50 US$' (vi)."""
    if cents is None:
        return ""
    if not currency:
        return amount(cents)
    where = locale()
    figure = _fast(_cents(cents), 2, True, where) if currency.isalpha() and currency.isupper() else None
    if _english(where):
        # The ISO code before the figure, as the app always wrote it (and auditors read it).
        if figure is not None:
            return f"{currency} {figure}"
        return format_currency(_cents(cents), currency, format="¤¤\xa0#,##0.00", locale=where,
                               currency_digits=False).replace("\xa0", " ")
    if figure is not None:
        return f"{figure}\xa0{_currency_symbol(currency, str(where))}"
    return format_currency(_cents(cents), currency, format="#,##0.00\xa0¤", locale=where, currency_digits=False)


def amount(cents: int | None) -> str:
    """123450 -> '1,234.50' (en), '1.234,50' (vi): no currency."""
    if cents is None:
        return ""
    where = locale()
    return _fast(_cents(cents), 2, True, where) or format_decimal(_cents(cents), format="#,##0.00", locale=where)


def cents_to_decimal(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def _fraction_digits(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value, places: int | None = None) -> str:
    """A number with the locale's grouping, without trailing zeros: 3.0000 -> '3', 1234.5000 ->
    '1,234.5' (en) or '1.234,5' (vi); ``places`` fixes the decimals instead."""
    if value is None:
        return ""
    value = Decimal(value)
    digits = _fraction_digits(value) if places is None else places
    where = locale()
    fast = _fast(value, digits, True, where)
    if fast is not None:
        return fast
    pattern = "#,##0" + ("." + ("0" if places is not None else "#") * digits if digits else "")
    return format_decimal(value, format=pattern, locale=where)


def input_number(value) -> str:
    """A stored number as it goes back into an input: no grouping, the locale's decimal symbol,
    no trailing zeros (3.0000 -> '3'; 2.5 -> '2.5' in en, '2,5' in vi)."""
    if value is None:
        return ""
    value = Decimal(value)
    digits = _fraction_digits(value)
    where = locale()
    fast = _fast(value, digits, False, where)
    if fast is not None:
        return fast
    return format_decimal(value, format="0" + ("." + "#" * digits if digits else ""), locale=where)


def input_money(cents: int | None) -> str:
    """Cents as they go back into an input: '1234.50' (en), '1234,50' (vi)."""
    if cents is None:
        return ""
    where = locale()
    return _fast(_cents(cents), 2, False, where) or format_decimal(_cents(cents), format="0.00", locale=where)


def percent(value, places: int = 0) -> str:
    """45 -> '45%'; 12.5 with two places -> '12.50%' (en), '12,50%' (vi); None -> '–'."""
    if value is None:
        return "–"
    where = locale()
    value = Decimal(value)
    fast = _fast(value, places, True, where) if str(where) in _PLAIN_PERCENT else None
    if fast is not None:
        return fast + "%"
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    return format_percent(value / 100, format=pattern, locale=where)


# Locales whose percent form is the number then '%' with nothing between (Babel's own, for these).
_PLAIN_PERCENT = frozenset({"en", "vi"})


def day(value: date | None) -> str:
    """ISO in English (the one form every auditor and spreadsheet reads alike); Babel's medium
    date elsewhere (Vietnamese: '24 thg 11, 2016')."""
    if not value:
        return ""
    where = locale()
    if _english(where):
        return value.isoformat()
    return _medium_date(value, str(where))


@lru_cache(maxsize=4096)
def _medium_date(value: date, name: str) -> str:
    """Babel's medium date, remembered: a page shows the same few dates many times."""
    return format_date(value, format="medium", locale=Locale.parse(name))


def iso_week(value: date) -> str:
    year, week, _weekday = value.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    """'2016-W47' -> the Monday of that ISO week; InputError for anything else."""
    try:
        year_text, week_text = week.split("-W")
        return date.fromisocalendar(int(year_text), int(week_text), 1)
    except (ValueError, AttributeError):
        raise InputError(_("%(week)s is not an ISO week such as 2016-W47.", week=repr(week))) from None


def week_range(week: str) -> tuple[date, date]:
    start = week_start(week)
    return start, start + timedelta(days=6)


def multiline(text: str) -> Markup:
    """Escape text and keep its line breaks."""
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())
