"""Numbers typed as people type them, per locale, through the real pages (issue 12).

One table of (locale, field, what was typed, the value stored or the refusal shown). The
person's locale is chosen the way a person chooses it, with the header's language switch
(stored on the user), and every case goes through the page that saves the field: the booking
form (money, original amount and exchange rate), the indicator grid (an actual) and a budget
line's allocation form (a percentage). A refusal changes nothing and says how the text could
be read, in the person's way of writing numbers.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import HX
from tracker.extensions import db
from tracker.models import BudgetAllocation, BudgetLine, Expenditure, Indicator, IndicatorPeriod, User

# (locale, field, typed, stored value | None, words of the refusal | None)
CASES = [
    # money: the booking's USD amount, stored in cents
    ("vi", "money", "1.500,50", 150050, None),
    ("vi", "money", "1,5", 150, None),
    ("vi", "money", "1,50", 150, None),
    ("vi", "money", "5,00", 500, None),
    ("vi", "money", "2500", 250000, None),
    ("vi", "money", "1.5", None, "“1.5” could be read two ways. Did you mean 1,5 or 15?"),
    ("vi", "money", "1,234.50", None, "Did you mean 1.234,50"),
    ("en", "money", "1,234.50", 123450, None),
    ("en", "money", "1.5", 150, None),
    ("en", "money", "2500", 250000, None),
    ("en", "money", "1,5", None, "“1,5” could be read two ways. Did you mean 1.5 or 15?"),
    ("en", "money", "1,50", None, "Did you mean 1.50 or 150?"),
    ("en", "money", "1.500,50", None, "Did you mean 1,500.50"),
    ("en", "money", "1,234.567", None, "at most two decimals"),
    # an amount paid in đồng and its rate: the USD figure booked is stored in cents
    ("vi", "rate", ("150.000.000", "22.350"), 671141, None),
    ("vi", "rate", ("150000000", "22350"), 671141, None),
    ("en", "rate", ("150,000,000", "22,350"), 671141, None),
    ("en", "rate", ("150000000", "22350"), 671141, None),
    ("en", "rate", ("150.000.000", "22350"), None, "“150.000.000” is not written the way numbers are written "
                                                   "here (1,234.5). Did you mean 150,000,000?"),
    ("vi", "rate", ("150000000", "22.35"), None, "“22.35” could be read two ways. Did you mean 22,35 or 2.235?"),
    # an indicator's actual, typed in the grid
    ("vi", "actual", "1.250", Decimal("1250"), None),
    ("vi", "actual", "12,5", Decimal("12.5"), None),
    ("vi", "actual", "12.5", None, "could be read two ways. Did you mean 12,5 or 125?"),
    ("vi", "actual", "mười", None, "must be a number, for example 12 hoặc 3,5"),
    ("en", "actual", "1,250", Decimal("1250"), None),
    ("en", "actual", "12.5", Decimal("12.5"), None),
    ("en", "actual", "12,5", None, "could be read two ways. Did you mean 12.5 or 125?"),
    # a percentage: a budget line's share of an activity
    ("vi", "percent", "70,5", Decimal("70.5"), None),
    ("vi", "percent", "70,5%", Decimal("70.5"), None),
    ("vi", "percent", "70.5", None, "could be read two ways. Did you mean 70,5 or 705?"),
    ("en", "percent", "70.5", Decimal("70.5"), None),
    ("en", "percent", "70,5", None, "could be read two ways. Did you mean 70.5 or 705?"),
]

TRANSLATED = {"could be read two ways. Did you mean": "có thể hiểu theo hai cách. Ý bạn là",
              "Did you mean": "Ý bạn là",
              " or ": " hay ",
              "is not written the way numbers are written here": "không được viết theo cách viết số ở đây",
              "must be a number, for example": "phải là một con số, ví dụ",
              "at most two decimals": "tối đa hai chữ số thập phân"}


def in_locale(locale: str, words: str) -> str:
    """The refusal's words as the person reads them (the app's Vietnamese catalogue for vi)."""
    if locale == "en":
        return words
    for english, vietnamese in TRANSLATED.items():
        words = words.replace(english, vietnamese)
    return words


def choose_language(client, locale: str) -> None:
    response = client.post("/language", data={"locale": locale, "next": "/"})
    assert response.status_code == 303


def book(client, app, demo, **fields):
    with app.app_context():
        line_id = db.session.execute(select(BudgetLine.id).where(BudgetLine.code == "BL3")).scalar_one()
    values = {"spent_on": "2016-12-20", "line_id": str(line_id), "status": "committed", "voucher": "V-LOCALE-1",
              "payee": "Taxi Mai Linh", "description": "Taxi", "amount": "",
              "overspend_justification": "Within the workshop's agreed costs."}
    values.update(fields)
    return client.post(f"/projects/{demo}/expenditures/new", data=values)


def booked_cents(app):
    with app.app_context():
        return db.session.execute(select(Expenditure.amount_cents).where(
            Expenditure.voucher == "V-LOCALE-1")).scalar()


def expenditures(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Expenditure)).scalar()


def draft_period(app):
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).join(Indicator).where(Indicator.code == "1.1.b")
                                    .order_by(IndicatorPeriod.start_date)).scalars().all()[2]
        return period.id, period.version


def stored_actual(app, period_id):
    with app.app_context():
        return db.session.get(IndicatorPeriod, period_id).actual


def bl4(app):
    with app.app_context():
        line_id = db.session.execute(select(BudgetLine.id).where(BudgetLine.code == "BL4")).scalar_one()
        activity_id = db.session.execute(select(BudgetAllocation.activity_id).where(
            BudgetAllocation.line_id == line_id)).scalars().first()
        return line_id, activity_id


def stored_share(app, line_id, activity_id):
    with app.app_context():
        return db.session.execute(select(BudgetAllocation.percent).where(
            BudgetAllocation.line_id == line_id, BudgetAllocation.activity_id == activity_id)).scalar()


@pytest.mark.parametrize(("locale", "field", "typed", "stored", "refusal"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_typed_numbers_per_locale(app, client, auth, demo, locale, field, typed, stored, refusal):
    if field in ("money", "rate"):
        auth.login("officer")
        choose_language(client, locale)
        before = expenditures(app)
        if field == "money":
            response = book(client, app, demo, amount=typed)
        else:
            response = book(client, app, demo, original_amount=typed[0], original_currency="VND",
                            exchange_rate=typed[1])
        if refusal is None:
            assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
            assert booked_cents(app) == stored
        else:
            assert expenditures(app) == before
            page = response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
            assert response.status_code == 422 and in_locale(locale, refusal) in page
    elif field == "actual":
        auth.login("officer")
        choose_language(client, locale)
        period_id, version = draft_period(app)
        before = stored_actual(app, period_id)
        response = client.post(f"/projects/{demo}/indicators/periods/{period_id}/actual", headers=HX,
                               data={"value": typed, "version": version})
        if refusal is None:
            assert response.status_code == 200
            assert stored_actual(app, period_id) == stored
        else:
            assert response.status_code == 422 and in_locale(locale, refusal) in response.get_data(as_text=True)
            assert stored_actual(app, period_id) == before
    else:
        auth.login("manager")
        choose_language(client, locale)
        line_id, activity_id = bl4(app)
        before = stored_share(app, line_id, activity_id)
        response = client.post(f"/projects/{demo}/budget/lines/{line_id}/allocations",
                               data={f"share-{activity_id}": typed})
        if refusal is None:
            assert response.status_code == 303
            assert stored_share(app, line_id, activity_id) == stored
        else:
            assert response.status_code == 422 and in_locale(locale, refusal) in response.get_data(as_text=True)
            assert stored_share(app, line_id, activity_id) == before


def test_a_number_put_back_in_an_input_reads_back_unchanged_in_vietnamese(app, client, auth, demo):
    """The allocation form shows 70,5 to a Vietnamese manager (not 70.5, which would be refused),
    and the grid's cell shows 12,5: submitting a form unchanged keeps the value."""
    auth.login("manager")
    choose_language(client, "vi")
    line_id, activity_id = bl4(app)
    assert client.post(f"/projects/{demo}/budget/lines/{line_id}/allocations",
                       data={f"share-{activity_id}": "70,5"}).status_code == 303
    page = client.get(f"/projects/{demo}/budget/lines/{line_id}/allocations").get_data(as_text=True)
    assert 'value="70,5"' in page
    assert client.post(f"/projects/{demo}/budget/lines/{line_id}/allocations",
                       data={f"share-{activity_id}": "70,5"}).status_code == 303
    assert stored_share(app, line_id, activity_id) == Decimal("70.5")
    period_id, version = draft_period(app)
    response = client.post(f"/projects/{demo}/indicators/periods/{period_id}/actual", headers=HX,
                           data={"value": "12,5", "version": version})
    assert response.status_code == 200 and 'value="12,5"' in response.get_data(as_text=True)


def test_money_and_dates_are_shown_in_the_persons_locale(app, client, auth, demo):
    """The same booking reads USD 1,500.50 / 2016-12-20 in English and 1.500,50 US$ / 20 thg 12, 2016
    in Vietnamese."""
    auth.login("officer")
    assert book(client, app, demo, amount="1500.50").status_code == 303
    with app.app_context():
        expenditure_id = db.session.execute(select(Expenditure.id).where(
            Expenditure.voucher == "V-LOCALE-1")).scalar_one()
    english = client.get(f"/projects/{demo}/expenditures/{expenditure_id}").get_data(as_text=True)
    assert "1,500.50" in english and "2016-12-20" in english
    choose_language(client, "vi")
    vietnamese = client.get(f"/projects/{demo}/expenditures/{expenditure_id}").get_data(as_text=True)
    assert "1.500,50" in vietnamese and "20 thg 12, 2016" in vietnamese
    assert "1,500.50" not in vietnamese
    with app.app_context():
        assert db.session.execute(select(User.locale).where(User.email == "officer@demo.test")).scalar() == "vi"


def test_the_grid_refuses_in_the_persons_words_and_keeps_what_was_typed(app, client, auth, demo):
    auth.login("officer")
    choose_language(client, "vi")
    period_id, version = draft_period(app)
    response = client.post(f"/projects/{demo}/indicators/periods/{period_id}/actual", headers=HX,
                           data={"value": "12.5", "version": version})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="12.5"' in page
    assert "Ý bạn là 12,5 hay 125?" in page
