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

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
)
from flask import has_app_context
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .validation import InputError

ENGLISH = Locale("en")


def locale() -> Locale:
    """The locale numbers and dates are written in: the request's, English outside one."""
    if has_app_context():
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


def money(cents: int | None, currency: str = "USD") -> str:
    """123450 -> 'USD 1,234.50' (en), '1.234,50 US$' (vi)."""
    if cents is None:
        return ""
    if not currency:
        return amount(cents)
    where = locale()
    if _english(where):
        # The ISO code before the figure, as the app always wrote it (and auditors read it).
        return format_currency(_cents(cents), currency, format="¤¤\xa0#,##0.00", locale=where,
                               currency_digits=False).replace("\xa0", " ")
    return format_currency(_cents(cents), currency, format="#,##0.00\xa0¤", locale=where, currency_digits=False)


def amount(cents: int | None) -> str:
    """123450 -> '1,234.50' (en), '1.234,50' (vi): no currency."""
    if cents is None:
        return ""
    return format_decimal(_cents(cents), format="#,##0.00", locale=locale())


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
    pattern = "#,##0" + ("." + ("0" if places is not None else "#") * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale())


def input_number(value) -> str:
    """A stored number as it goes back into an input: no grouping, the locale's decimal symbol,
    no trailing zeros (3.0000 -> '3'; 2.5 -> '2.5' in en, '2,5' in vi)."""
    if value is None:
        return ""
    value = Decimal(value)
    digits = _fraction_digits(value)
    return format_decimal(value, format="0" + ("." + "#" * digits if digits else ""), locale=locale())


def input_money(cents: int | None) -> str:
    """Cents as they go back into an input: '1234.50' (en), '1234,50' (vi)."""
    if cents is None:
        return ""
    return format_decimal(_cents(cents), format="0.00", locale=locale())


def percent(value, places: int = 0) -> str:
    """45 -> '45%'; 12.5 with two places -> '12.50%' (en), '12,50%' (vi); None -> '–'."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    return format_percent(Decimal(value) / 100, format=pattern, locale=locale())


def day(value: date | None) -> str:
    """ISO in English (the one form every auditor and spreadsheet reads alike); Babel's medium
    date elsewhere (Vietnamese: '24 thg 11, 2016')."""
    if not value:
        return ""
    where = locale()
    if _english(where):
        return value.isoformat()
    return format_date(value, format="medium", locale=where)


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
