"""Choosing the interface language (issue 12): the header's switch on every page (the login page
too), the account page's choice, Accept-Language before any choice, ``<html lang>``; the
formatting helpers per locale; and numbers typed as text in a workbook read in its language."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.test_import import _cell, exported, saved, upload
from tracker import formatting
from tracker.extensions import db
from tracker.models import User


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def user_locale(app, email):
    with app.app_context():
        return db.session.execute(select(User.locale).where(User.email == email)).scalar()


def test_the_browser_decides_before_any_choice_and_english_is_the_fallback(client):
    assert html_lang(client.get("/login")) == "en"
    page = client.get("/login", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert html_lang(page) == "vi" and "<h1>Đăng nhập</h1>" in page.get_data(as_text=True)
    assert html_lang(client.get("/login", headers={"Accept-Language": "fr-FR,fr"})) == "en"


def test_the_login_page_has_the_switch_and_an_anonymous_choice_lasts_into_the_session(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'action="/language"' in page and ">Tiếng Việt</button>" in page and 'name="next" value="/login"' in page
    response = client.post("/language", data={"locale": "vi", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"})
    assert html_lang(page) == "vi" and "Mật khẩu" in page.get_data(as_text=True)
    # Logging in keeps the language chosen on the login page (the session is renewed, the choice kept).
    response = client.post("/login", data={"email": "officer@demo.test", "password": "demo-officer-pass"},
                           follow_redirects=True)
    assert html_lang(response) == "vi" and "Đăng xuất" in response.get_data(as_text=True)


def test_a_logged_in_choice_is_stored_on_the_person_and_follows_them(app, client, auth, demo):
    auth.login("officer")
    response = client.post("/language", data={"locale": "vi", "next": f"/projects/{demo}/budget"})
    assert response.status_code == 303 and response.headers["Location"] == f"/projects/{demo}/budget"
    assert user_locale(app, "officer@demo.test") == "vi"
    page = client.get(f"/projects/{demo}/budget")
    text = page.get_data(as_text=True)
    assert html_lang(page) == "vi" and ">Khung logic</a>" in text and ">Ngân sách</a>" in text
    assert 'aria-pressed="true">Tiếng Việt</button>' in text
    # Another browser, logged in as the same person, speaks Vietnamese whatever it asks for.
    other = app.test_client()
    other.post("/login", data={"email": "officer@demo.test", "password": "demo-officer-pass"})
    assert html_lang(other.get("/", headers={"Accept-Language": "en"})) == "vi"
    # Logging out keeps the language for the login page that follows.
    response = client.post("/logout", follow_redirects=True)
    assert html_lang(response) == "vi" and "Bạn đã đăng xuất." in response.get_data(as_text=True)


def test_the_account_page_can_go_back_to_following_the_browser(app, client, auth):
    auth.login("liaison")
    page = client.get("/account").get_data(as_text=True)
    assert "As my browser asks" in page and '<option value="vi" lang="vi">Tiếng Việt</option>' in page
    client.post("/language", data={"locale": "vi", "next": "/account"})
    page = client.get("/account").get_data(as_text=True)
    assert '<option value="vi" lang="vi" selected>' in page and "1.234,5" in page
    response = client.post("/language", data={"locale": "", "next": "/account"})
    assert response.headers["Location"] == "/account"
    assert user_locale(app, "liaison@demo.test") is None
    assert html_lang(client.get("/account", headers={"Accept-Language": "en"})) == "en"
    assert html_lang(client.get("/account", headers={"Accept-Language": "vi"})) == "vi"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", ""])
def test_the_switch_goes_back_only_to_a_page_of_this_site(client, target):
    response = client.post("/language", data={"locale": "vi", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_language_is_refused_and_changes_nothing(app, client, auth):
    auth.login("officer")
    response = client.post("/language", data={"locale": "xx", "next": "/account"}, follow_redirects=True)
    assert "Choose one of the languages offered." in response.get_data(as_text=True)
    assert user_locale(app, "officer@demo.test") is None


def test_the_switch_needs_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    assert client.post("/language", data={"locale": "vi"}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'action="/language".*?name="csrf_token" value="([^"]+)"', page, re.S).group(1)
    assert client.post("/language", data={"locale": "vi", "csrf_token": token}).status_code == 303
    assert html_lang(client.get("/login")) == "vi"


def test_formatting_per_locale(app):
    cases = {
        "en": ("USD 120,000.00", "-USD 1,234.50", "1,234.50", "1,234.5", "12.50%", "2016-11-24", "1234.5", ".", ","),
        "vi": ("120.000,00\xa0US$", "-1.234,50\xa0US$", "1.234,50", "1.234,5", "12,50%", "24 thg 11, 2016",
               "1234,5", ",", "."),
    }
    for locale, expected in cases.items():
        with app.test_request_context(headers={"Accept-Language": locale}):
            got = (formatting.money(12_000_000), formatting.money(-123450), formatting.amount(123450),
                   formatting.number(Decimal("1234.5000")), formatting.percent(Decimal("12.5"), 2),
                   formatting.day(date(2016, 11, 24)), formatting.input_number(Decimal("1234.50")),
                   formatting.decimal_symbol(), formatting.group_symbol())
            assert got == expected, locale
    with app.app_context():  # outside a request: English
        assert formatting.money(150) == "USD 1.50" and formatting.day(date(2016, 11, 24)) == "2016-11-24"


# --- numbers typed as text in a workbook: read in the workbook's language ---------------------


@pytest.fixture
def manager(client, auth):
    auth.login("manager")
    return client


def _with_language(language, edit):
    def both(book):
        book.properties.language = language
        edit(book)
    return both


def _dry_run(manager, demo, language, value, workbook=None):
    book = load_workbook(io.BytesIO(workbook or exported(manager, demo)))
    _with_language(language, _cell("1.1.a", date(2017, 1, 1), 7, value))(book)
    response = upload(manager, f"/projects/{demo}/import", saved(book))
    return response.status_code, response.get_data(as_text=True).replace("&#34;", '"')


@pytest.mark.parametrize(("language", "typed", "shown"), [
    ("vi", "1.250", "actual: (blank) → 1250"),
    ("vi", "1,5", "actual: (blank) → 1.5"),
    ("vi-VN", "1.250", "actual: (blank) → 1250"),
    ("en", "1.250", "actual: (blank) → 1.25"),
    ("en", "1,250", "actual: (blank) → 1250"),
    ("vi", 3.5, "actual: (blank) → 3.5"),  # a number cell is a number whatever the language
    (None, "1,250", "actual: (blank) → 1250"),  # no language: the person's (English here)
])
def test_the_import_reads_text_numbers_in_the_workbooks_language(app, manager, demo, language, typed, shown):
    status, page = _dry_run(manager, demo, language, typed)
    assert status == 200 and shown in page


def test_a_text_number_that_does_not_fit_the_workbooks_language_is_refused(app, manager, demo):
    status, page = _dry_run(manager, demo, "vi", "12.5")
    assert status == 422 and "“12.5” could be read two ways. Did you mean 12,5 or 125?" in page


def test_without_a_language_the_import_reads_in_the_persons_locale(app, manager, demo):
    english_workbook = exported(manager, demo)
    manager.post("/language", data={"locale": "vi", "next": "/"})
    status, page = _dry_run(manager, demo, None, "1.250", english_workbook)
    assert status == 200 and "→ 1250" in page
