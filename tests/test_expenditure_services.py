"""Booking and changing expenditures, called directly: amounts, currencies, vouchers, dates, overspending."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import add_bare_project
from tracker.budget import currencies, services
from tracker.concurrency import ConflictError
from tracker.extensions import db
from tracker.models import AuditEvent, BudgetLine, Expenditure, Project
from tracker.validation import InputError


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session.execute(select(Project)).scalar_one()


def line_id(code: str) -> int:
    return db.session.execute(select(BudgetLine.id).where(BudgetLine.code == code)).scalar_one()


def data(**changes) -> dict:
    values = {"spent_on": "2016-12-20", "line_id": str(line_id("BL2")), "amount": "1250.50", "status": "committed",
              "voucher": "V-2016-100", "payee": "Đại học Huế", "description": "Interpretation in Huế"}
    values.update(changes)
    return values


def counts():
    return (db.session.execute(select(func.count()).select_from(Expenditure)).scalar(),
            db.session.execute(select(func.count()).select_from(AuditEvent)).scalar())


def test_booking_in_usd(ctx):
    booking = services.book_expenditure(ctx, data())
    e = booking.expenditure
    assert (e.amount_cents, e.status, e.voucher, e.payee) == (1_250_50, "committed", "V-2016-100", "Đại học Huế")
    assert e.original_amount is None and e.original_currency == "" and e.exchange_rate is None
    assert booking.warnings == [] and not booking.computed_usd
    bl2 = next(t for t in services.line_totals(ctx.id) if t.line.code == "BL2")
    assert bl2.committed_cents == 1_250_50


def test_usd_is_computed_from_the_original_amount_and_rate(ctx):
    booking = services.book_expenditure(ctx, data(amount="", original_amount="212,325,000", original_currency="vnd",
                                                  exchange_rate="22350"))
    e = booking.expenditure
    assert booking.computed_usd and e.amount_cents == 9_500_00
    assert (e.original_amount, e.original_currency, e.exchange_rate) == (Decimal(212325000), "VND", Decimal(22350))


def test_a_typed_usd_amount_within_a_cent_of_the_conversion_is_kept(ctx):
    # 1,000,000 VND at 22,345 = 44.7527... -> 44.75; the bank said 44.76.
    e = services.book_expenditure(ctx, data(amount="44.76", original_amount="1000000", original_currency="VND",
                                            exchange_rate="22345")).expenditure
    assert e.amount_cents == 44_76


def test_a_usd_amount_that_does_not_match_the_conversion_is_refused(ctx):
    before = counts()
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(amount="9600", original_amount="212325000", original_currency="VND",
                                            exchange_rate="22350"))
    assert "does not match 212,325,000 VND at 22350 VND per USD, which is USD 9,500.00" in caught.value.errors["amount"]
    db.session.rollback()
    assert counts() == before


@pytest.mark.parametrize("changes, field, message", [
    ({"amount": "0"}, "amount", "more than zero"),
    ({"amount": "-10"}, "amount", "more than zero"),
    ({"amount": "10.005"}, "amount", "at most two decimals"),
    ({"amount": "abc"}, "amount", "must be a number"),
    ({"amount": "1e20"}, "amount", "too large"),
    ({"amount": ""}, "amount", "amount in USD is required"),
    ({"original_amount": "100", "original_currency": "XYZ", "exchange_rate": "1"}, "original_currency",
     "not an ISO 4217 currency code"),
    ({"original_amount": "1000000", "original_currency": "VND"}, "exchange_rate", "needs the exchange rate"),
    ({"original_amount": "1000000"}, "original_currency", "Say which currency"),
    ({"original_currency": "EUR", "exchange_rate": "0.9"}, "original_amount", "Give the amount paid in EUR"),
    ({"exchange_rate": "22350"}, "original_amount", "needs the original amount"),
    ({"original_amount": "1000000.5", "original_currency": "VND", "exchange_rate": "22350"}, "original_amount",
     "has no decimals"),
    ({"original_amount": "100", "original_currency": "EUR", "exchange_rate": "0"}, "exchange_rate",
     "more than zero"),
    ({"original_amount": "100", "original_currency": "EUR", "exchange_rate": "0.1234567"}, "exchange_rate",
     "at most 6 decimals"),
    ({"original_amount": "100", "original_currency": "USD", "exchange_rate": "1"}, "original_currency",
     "Leave the original currency empty"),
    ({"spent_on": "2016-13-40"}, "spent_on", "The date must be a date such as 2016-11-24."),
    ({"spent_on": "1850-01-01"}, "spent_on", "between 1900 and 2100"),
    ({"spent_on": ""}, "spent_on", "The date is required"),
    ({"line_id": "99999"}, "line_id", "Choose the budget line"),
    ({"line_id": "abc"}, "line_id", "Choose the budget line"),
    ({"status": "paid"}, "status", "committed or disbursed"),
    ({"voucher": "  "}, "voucher", "voucher or reference number is required"),
    ({"voucher": "V-2016-003"}, "voucher", "Voucher V-2016-003 is already booked"),
])
def test_bad_input_is_refused_next_to_its_field_and_changes_nothing(ctx, changes, field, message):
    before = counts()
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(**changes))
    assert message in caught.value.errors[field], caught.value.errors
    db.session.rollback()
    assert counts() == before


def test_every_problem_is_reported_at_once(ctx):
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(amount="-1", voucher="", status="x", spent_on="yesterday"))
    assert {"amount", "voucher", "status", "spent_on"} <= set(caught.value.errors)


def test_a_date_outside_the_project_period_is_booked_with_a_warning(ctx):
    booking = services.book_expenditure(ctx, data(spent_on="2018-01-15"))
    assert booking.expenditure.id is not None
    assert booking.warnings == ["The date 2018-01-15 is outside the project period (2016-01-01 to 2017-12-31). "
                                "It was booked; check the date if that was not intended."]


def test_spending_past_the_line_needs_a_justification(ctx):
    # BL3: 25,000 budget, 14,250 disbursed; 10,750 left.
    services.book_expenditure(ctx, data(line_id=str(line_id("BL3")), amount="10750", voucher="V-fit"))
    db.session.commit()
    before = counts()
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(line_id=str(line_id("BL3")), amount="0.01", voucher="V-over"))
    assert caught.value.errors["overspend_justification"] == (
        "This takes BL3 to USD 25,000.01, USD 0.01 over its budget of USD 25,000.00. "
        "Write a justification to book it anyway.")
    db.session.rollback()
    assert counts() == before
    booking = services.book_expenditure(ctx, data(line_id=str(line_id("BL3")), amount="500", voucher="V-over",
                                                  overspend_justification="Interpretation ran two hours over."))
    assert booking.expenditure.overspend_justification == "Interpretation ran two hours over."
    bl3 = next(t for t in services.line_totals(ctx.id) if t.line.code == "BL3")
    assert bl3.overspent and bl3.balance_cents == -500_00
    assert [e.voucher for e in services.justified_overspends(ctx.id)] == ["V-over"]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.table_name == "expenditure")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert "Interpretation ran two hours over." in event.changes  # the justification is in the trail


def test_editing_an_expenditure_does_not_count_its_own_amount_twice(ctx):
    e = db.session.execute(select(Expenditure).where(Expenditure.voucher == "V-2016-003")).scalar_one()
    values = data(line_id=str(e.line_id), amount="25000", voucher=e.voucher, spent_on="2016-11-25",
                  status="disbursed")
    booking = services.update_expenditure(ctx, e, values, e.version)
    assert booking.expenditure.amount_cents == 25_000_00  # exactly the budget: no justification needed


def test_editing_keeps_the_voucher_and_checks_the_version(ctx):
    e = db.session.execute(select(Expenditure).where(Expenditure.voucher == "V-2016-006")).scalar_one()
    opened = e.version
    values = data(line_id=str(e.line_id), amount="4500", voucher="V-2016-006", status="disbursed",
                  spent_on="2016-12-15")
    services.update_expenditure(ctx, e, values, opened)
    db.session.flush()
    assert e.status == "disbursed" and e.version == opened + 1
    with pytest.raises(ConflictError) as caught:
        services.update_expenditure(ctx, e, values, opened)
    assert "Expenditure V-2016-006 was changed by" in str(caught.value)
    with pytest.raises(ConflictError):
        services.update_expenditure(ctx, e, values, "not-a-number")


def test_another_projects_line_cannot_be_used(ctx):
    other = add_bare_project()
    with pytest.raises(InputError) as caught:
        services.book_expenditure(other, data())  # BL2 belongs to the demo project
    assert "line_id" in caught.value.errors


def test_the_currency_list_is_iso_4217_with_minor_units():
    assert {"VND", "USD", "EUR", "KRW", "JPY", "LAK", "KHR"} <= currencies.CURRENCIES
    assert "XYZ" not in currencies.CURRENCIES and "HRK" not in currencies.CURRENCIES
    assert currencies.minor_units("VND") == 0 and currencies.minor_units("KWD") == 3
    assert currencies.minor_units("EUR") == 2
    codes = [code for code, _ in currencies.choices()]
    assert codes[:2] == ["", "VND"] and "USD" not in codes and len(codes) == len(set(codes))


def test_control_characters_are_dropped_and_absurd_conversions_refused(ctx):
    e = services.book_expenditure(ctx, data(payee="Nhà\x00 hàng\x07 Huế", voucher="V-\x00NUL",
                                            description="line one\r\nline two")).expenditure
    assert (e.payee, e.voucher, e.description) == ("Nhà hàng Huế", "V-NUL", "line one\nline two")
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(amount="", voucher="V-big", original_amount="9000000000000",
                                            original_currency="EUR", exchange_rate="0.000001"))
    assert "too large" in caught.value.errors["amount"]
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(voucher="V-big", original_amount="100", original_currency="EUR",
                                            exchange_rate="100000000000"))
    assert "too large" in caught.value.errors["exchange_rate"]
    with pytest.raises(InputError):
        services.book_expenditure(ctx, data(line_id=str(10**30)))


def stored(expenditure_id: int) -> Expenditure:
    """The expenditure as the database holds it (not the object in the session)."""
    db.session.expire_all()
    return db.session.get(Expenditure, expenditure_id)


def test_a_foreign_amount_keeps_its_currencys_minor_units_and_the_usd_comes_from_what_is_stored(ctx):
    # KWD has three decimals (ISO 4217): 1.234 KWD at 0.307 KWD per USD = 4.01954... -> USD 4.02.
    booking = services.book_expenditure(ctx, data(amount="", voucher="V-KWD", original_amount="1.234",
                                                  original_currency="kwd", exchange_rate="0.307"))
    db.session.commit()
    e = stored(booking.expenditure.id)
    assert (e.original_amount, e.original_currency, e.exchange_rate) == (Decimal("1.234"), "KWD", Decimal("0.307"))
    assert e.amount_cents == services.usd_from_original(e.original_amount, e.exchange_rate) == 4_02
    assert booking.computed_usd
    # Trailing zeros are not extra precision: 1.2340 is the same 1.234.
    booking = services.book_expenditure(ctx, data(amount="", voucher="V-KWD-2", original_amount="1.2340",
                                                  original_currency="KWD", exchange_rate="0.307"))
    assert stored(booking.expenditure.id).original_amount == Decimal("1.234")
    db.session.commit()
    before = counts()
    with pytest.raises(InputError) as caught:  # a fourth decimal is more than a fils
        services.book_expenditure(ctx, data(amount="", voucher="V-KWD-3", original_amount="1.2345",
                                            original_currency="KWD", exchange_rate="0.307"))
    assert "at most 3 decimals" in caught.value.errors["original_amount"]
    with pytest.raises(InputError) as caught:  # the đồng has no minor unit
        services.book_expenditure(ctx, data(amount="", voucher="V-VND", original_amount="44700000.5",
                                            original_currency="VND", exchange_rate="22350"))
    assert "has no decimals" in caught.value.errors["original_amount"]
    with pytest.raises(InputError) as caught:  # "1,5" could be 1.5 or 15: refused, never read as 15
        services.book_expenditure(ctx, data(amount="", voucher="V-EUR", original_amount="1,5",
                                            original_currency="EUR", exchange_rate="0.9"))
    assert "could be read two ways" in caught.value.errors["original_amount"]
    db.session.rollback()
    assert counts() == before
    # A typed USD figure is checked against the stored original amount, to the cent (and one cent of bank rounding).
    booking = services.book_expenditure(ctx, data(amount="4.03", voucher="V-KWD-4", original_amount="1.234",
                                                  original_currency="KWD", exchange_rate="0.307"))
    assert stored(booking.expenditure.id).amount_cents == 4_03
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(amount="4.05", voucher="V-KWD-5", original_amount="1.234",
                                            original_currency="KWD", exchange_rate="0.307"))
    assert "does not match 1.234 KWD at 0.307 KWD per USD, which is USD 4.02" in caught.value.errors["amount"]


def test_a_voucher_booked_by_someone_else_at_the_same_moment_is_the_vouchers_error(ctx, monkeypatch):
    # The check for a booked voucher ran before the other person's booking was committed: the
    # database's unique key refuses the row, and the service says so on the voucher field.
    monkeypatch.setattr(services, "_voucher_booked", lambda project_id, voucher: None)
    before = counts()
    with pytest.raises(InputError) as caught:
        services.book_expenditure(ctx, data(voucher="V-2016-003"))
    assert caught.value.errors == {"voucher": "Voucher V-2016-003 is already booked in this project; "
                                              "each voucher is booked once."}
    # Only the savepoint was rolled back: the session still works and nothing was added.
    assert counts() == before
    e = services.book_expenditure(ctx, data(voucher="V-2016-777")).expenditure
    assert e.id is not None
    db.session.rollback()
    assert counts() == before
