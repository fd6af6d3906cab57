"""The formatting fast path writes exactly what Babel writes.

tracker/formatting.py formats non-negative finite figures with Python's own ``format`` and the
locale's two symbols instead of asking Babel each time (a page can hold a thousand figures).
These tests compare both on many values, in English and Vietnamese, so the shortcut can never
show a person a figure Babel would have written differently."""

from datetime import date
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Flask
from flask_babel import Babel, force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import formatting

pytestmark = pytest.mark.once  # nothing here depends on the database (tests/conftest.py)

LOCALES = ("en", "vi")


@pytest.fixture(scope="module")
def babel_app():
    app = Flask("formatting-fast")
    Babel(app)
    return app


def _reference_money(cents, currency, name):
    value = Decimal(int(cents)).scaleb(-2)
    if name == "en":
        return format_currency(value, currency, format="¤¤\xa0#,##0.00", locale=name,
                               currency_digits=False).replace("\xa0", " ")
    return format_currency(value, currency, format="#,##0.00\xa0¤", locale=name, currency_digits=False)


def _reference_number(value, places, name):
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    digits = (max(0, -exponent) if isinstance(exponent, int) else 0) if places is None else places
    pattern = "#,##0" + ("." + ("0" if places is not None else "#") * digits if digits else "")
    return format_decimal(value, format=pattern, locale=name)


def _reference_input_number(value, name):
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    digits = max(0, -exponent) if isinstance(exponent, int) else 0
    return format_decimal(value, format="0" + ("." + "#" * digits if digits else ""), locale=name)


cents = st.integers(min_value=-10**15, max_value=10**15)
decimals = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False,
                       allow_infinity=False, places=6)


@settings(max_examples=300, deadline=None)
@given(cents=cents, currency=st.sampled_from(["USD", "VND", "EUR"]))
def test_money_and_amounts_match_babel(babel_app, cents, currency):
    with babel_app.test_request_context():
        for name in LOCALES:
            with force_locale(name):
                assert formatting.money(cents, currency) == _reference_money(cents, currency, name)
                value = Decimal(int(cents)).scaleb(-2)
                assert formatting.amount(cents) == format_decimal(value, format="#,##0.00", locale=name)
                assert formatting.input_money(cents) == format_decimal(value, format="0.00", locale=name)


@settings(max_examples=300, deadline=None)
@given(value=decimals, places=st.sampled_from([None, 0, 1, 2]))
def test_numbers_match_babel(babel_app, value, places):
    with babel_app.test_request_context():
        for name in LOCALES:
            with force_locale(name):
                assert formatting.number(value, places) == _reference_number(value, places, name)
                assert formatting.input_number(value) == _reference_input_number(value, name)


@settings(max_examples=300, deadline=None)
@given(value=decimals, places=st.sampled_from([0, 1, 2]))
def test_percentages_match_babel(babel_app, value, places):
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    with babel_app.test_request_context():
        for name in LOCALES:
            with force_locale(name):
                assert formatting.percent(value, places) == format_percent(value / 100, format=pattern, locale=name)


def test_the_forms_people_read(babel_app):
    with babel_app.test_request_context():
        with force_locale("en"):
            assert formatting.money(12_000_000) == "USD 120,000.00"
            assert formatting.money(-500) == "-USD 5.00"
            assert formatting.number(Decimal("1234.5000")) == "1,234.5"
            assert formatting.percent(Decimal("12.5"), 2) == "12.50%"
            assert formatting.day(date(2016, 11, 24)) == "2016-11-24"
        with force_locale("vi"):
            assert formatting.money(12_000_000) == "120.000,00\xa0US$"
            assert formatting.money(15_000_000_000, "VND") == "150.000.000,00\xa0₫"
            assert formatting.number(Decimal("1234.5000")) == "1.234,5"
            assert formatting.input_number(Decimal("2.50")) == "2,5"
            assert formatting.percent(Decimal("12.5"), 2) == "12,50%"
            assert formatting.day(date(2016, 11, 24)) == format_date(date(2016, 11, 24), "medium", locale="vi")
