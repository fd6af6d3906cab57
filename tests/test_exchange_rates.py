"""Exchange rates that make sense: the live USD figure, the 20% rule, the first-time band, the
confirmation with a reason kept with the expenditure and shown to the auditor.

The demo books V-2016-002 (212,325,000 VND at 22,350 on 2016-09-30) and no other currency.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import HX
from tracker.budget import rates, services
from tracker.extensions import db
from tracker.models import BudgetLine, Expenditure, Project
from tracker.validation import InputError


@pytest.fixture
def project(app):
    with app.app_context():
        yield db.session.execute(select(Project)).scalar_one()


def line_id(code: str = "BL2") -> int:
    return db.session.execute(select(BudgetLine.id).where(BudgetLine.code == code)).scalar_one()


def data(**changes) -> dict:
    values = {"spent_on": "2016-12-20", "line_id": str(line_id()), "amount": "", "status": "committed",
              "voucher": "V-RATE-1", "payee": "Taxi Mai Linh", "description": "Taxi in Huế",
              "original_amount": "100000", "original_currency": "VND", "exchange_rate": "22350"}
    values.update(changes)
    return values


def expenditures() -> int:
    return db.session.execute(select(func.count()).select_from(Expenditure)).scalar()


# --------------------------------------------------------------------------------------------- services


def test_a_rate_near_the_last_one_books_without_confirmation(project):
    booking = services.book_expenditure(project, data(exchange_rate="22800"))  # 2% from 22,350
    assert booking.expenditure.amount_cents == 4_39  # 100,000 / 22,800 = 4.386 -> 4.39
    assert booking.expenditure.rate_confirmation == ""


@pytest.mark.parametrize("rate, needs", [("26820", False), ("26821", True), ("17880", False), ("17879", True),
                                         ("22.35", True), ("223500", True)])
def test_more_than_twenty_percent_from_the_last_rate_needs_confirmation(project, rate, needs):
    before = expenditures()
    if not needs:
        services.book_expenditure(project, data(exchange_rate=rate))
        assert expenditures() == before + 1
        return
    with pytest.raises(InputError) as caught:
        services.book_expenditure(project, data(exchange_rate=rate))
    message = caught.value.errors["rate_confirmed"]
    assert "22,350 on 2016-09-30 (voucher V-2016-002)" in message
    assert "rate_reason" in caught.value.errors
    assert expenditures() == before


def test_the_warning_says_what_the_wrong_rate_would_book(project):
    with pytest.raises(InputError) as caught:
        services.book_expenditure(project, data(exchange_rate="22.35"))
    assert "USD 4,474.27" in caught.value.errors["rate_confirmed"]  # the taxi of the issue


def test_a_confirmed_rate_with_a_reason_is_booked_and_keeps_the_reason(project):
    with pytest.raises(InputError) as caught:  # ticked, but no reason
        services.book_expenditure(project, data(exchange_rate="30000", rate_confirmed=True))
    assert set(caught.value.errors) == {"rate_reason"}
    booking = services.book_expenditure(project, data(exchange_rate="30000", rate_confirmed="y",
                                                      rate_reason="Airport kiosk rate, receipt attached"))
    assert booking.expenditure.rate_confirmation == "Airport kiosk rate, receipt attached"
    assert booking.expenditure.amount_cents == 3_33


def test_the_reference_is_the_last_rate_on_or_before_the_date(project):
    services.book_expenditure(project, data(voucher="V-2017", spent_on="2017-06-01", exchange_rate="27000",
                                            rate_confirmed=True, rate_reason="Devaluation in 2017 (test)"))
    # A booking dated after it is compared with 27,000; one dated before it with 22,350.
    services.book_expenditure(project, data(voucher="V-late", spent_on="2017-07-01", exchange_rate="28000"))
    with pytest.raises(InputError):
        services.book_expenditure(project, data(voucher="V-early", spent_on="2016-12-01", exchange_rate="28000"))
    found = rates.previous_rate(project.id, "VND", None)
    assert (found.rate, found.voucher) == (Decimal(28000), "V-late")


def test_the_first_rate_of_a_currency_is_checked_against_its_band(project):
    with pytest.raises(InputError) as caught:  # 1,100 won per USD typed as 1.1
        services.book_expenditure(project, data(original_amount="50000", original_currency="KRW",
                                                exchange_rate="1.1"))
    assert "outside the usual range for KRW (850 to 1,700 per USD)" in caught.value.errors["rate_confirmed"]
    booked = services.book_expenditure(project, data(original_amount="50000", original_currency="KRW",
                                                     exchange_rate="1150")).expenditure
    assert booked.amount_cents == 43_48
    # A currency without a band: its first rate is not checked, the second is checked against it.
    services.book_expenditure(project, data(voucher="V-KWD", original_amount="10", original_currency="KWD",
                                            exchange_rate="0.307"))
    with pytest.raises(InputError):
        services.book_expenditure(project, data(voucher="V-KWD-2", original_amount="10", original_currency="KWD",
                                                exchange_rate="307"))


def test_editing_without_changing_the_rate_asks_nothing_again(project):
    booked = services.book_expenditure(project, data(exchange_rate="30000", rate_confirmed=True,
                                                     rate_reason="Kiosk rate")).expenditure
    db.session.commit()
    changed = dict(data(exchange_rate="30000", payee="Taxi Vinasun"), rate_reason="Kiosk rate")
    services.update_expenditure(project, booked, changed, booked.version)
    assert (booked.payee, booked.rate_confirmation) == ("Taxi Vinasun", "Kiosk rate")
    db.session.commit()
    # Back to a plausible rate: the reason no longer explains anything and goes.
    services.update_expenditure(project, booked, data(exchange_rate="22400"), booked.version)
    assert booked.rate_confirmation == ""


def test_the_preview_is_the_booking_computation(project):
    preview = services.rate_preview(project, data(original_amount="150000000", exchange_rate="22350"))
    assert preview.usd_cents == 6_711_41 and preview.check is None
    booked = services.book_expenditure(project, data(original_amount="150000000", exchange_rate="22350"))
    assert booked.expenditure.amount_cents == preview.usd_cents
    wrong = services.rate_preview(project, data(exchange_rate="22.35"))
    assert wrong.check is not None and wrong.usd_cents == 4_474_27
    half_typed = services.rate_preview(project, data(exchange_rate=""))
    assert half_typed.usd_cents is None and half_typed.errors == {}


# --------------------------------------------------------------------------------------------- pages


def test_the_preview_fragment_for_htmx_and_as_a_page(client, auth, demo):
    auth.login("officer")
    query = {"original_amount": "150000000", "original_currency": "VND", "exchange_rate": "22350",
             "spent_on": "2016-12-20"}
    fragment = client.get(f"/projects/{demo}/expenditures/preview", query_string=query, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers.get("Vary", "")
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="rate-preview"') and "<html" not in html
    assert "Books USD 6,711.41" in html and "rate-warning" not in html
    page = client.get(f"/projects/{demo}/expenditures/preview", query_string=query)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<html" in text and "Books USD 6,711.41" in text
    warned = client.get(f"/projects/{demo}/expenditures/preview", query_string={**query, "exchange_rate": "22.35"},
                        headers=HX).get_data(as_text=True)
    assert "rate-warning" in warned and "22,350 on 2016-09-30" in warned and 'name="rate_reason"' in warned


def test_the_preview_is_for_those_who_book(client, auth, demo):
    auth.login("liaison")
    assert client.get(f"/projects/{demo}/expenditures/preview").status_code == 403


def test_the_form_asks_for_the_preview_as_the_person_types(client, auth, demo):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/expenditures/new").get_data(as_text=True)
    assert page.count('hx-trigger="input changed delay:300ms, change"') == 3
    assert f'hx-get="/projects/{demo}/expenditures/preview"' in page and 'id="rate-preview"' in page


def test_an_unconfirmed_rate_is_refused_and_a_confirmed_one_shown_to_the_auditor(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        form = data(exchange_rate="22.35")
    with app.app_context():
        before = expenditures()
    refused = client.post(f"/projects/{demo}/expenditures/new", data=form, headers=HX)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "USD 4,474.27" in html and 'name="rate_confirmed"' in html and 'value="22.35"' in html
    with app.app_context():
        assert db.session.execute(select(Expenditure).where(Expenditure.voucher == "V-RATE-1")).first() is None
        assert expenditures() == before
    saved = client.post(f"/projects/{demo}/expenditures/new",
                        data={**form, "rate_confirmed": "y", "rate_reason": "Hotel rate, per its invoice"})
    assert saved.status_code == 303
    with app.app_context():
        booked = db.session.execute(select(Expenditure).where(Expenditure.voucher == "V-RATE-1")).scalar_one()
        assert booked.rate_confirmation == "Hotel rate, per its invoice"
    page = client.get(f"/projects/{demo}/expenditures/{booked.id}").get_data(as_text=True)
    assert "Hotel rate, per its invoice" in page
    auth.logout()
    auth.login("auditor")
    workspace = client.get(f"/projects/{demo}/auditor").get_data(as_text=True)
    assert "Exchange rates confirmed by hand" in workspace  # the section's heading; its rows load when revealed
    section_url = f"/projects/{demo}/auditor/rates"
    assert section_url in workspace
    rates = client.get(section_url).get_data(as_text=True)
    assert "Hotel rate, per its invoice" in rates and "V-RATE-1" in rates
