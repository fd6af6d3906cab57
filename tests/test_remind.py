"""The weekly digest (`flask --app tracker remind`, tracker/reminders): delivered to a real SMTP
server on 127.0.0.1 and parsed back, one per person with something to do, in their language;
the outbox without a mail URL; the account page's choice; once per ISO week."""

from __future__ import annotations

import email
import email.policy
import os
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import running_app
from tests.helpers import HX
from tests.smtp_server import SmtpServer, free_port, parts
from tracker import mail
from tracker.extensions import db
from tracker.inbox.services import counts_for, items_for
from tracker.models import User

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

TODAY = "2016-12-14"  # a Wednesday of ISO week 2016-W50, inside the demo project
BASE = "https://tracker.example.org"


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_app(databases, tmp_path, smtp):
    with running_app(databases, tmp_path, MAIL_URL=smtp.url, BASE_URL=BASE) as application:
        yield application


def remind(app, *args):
    return app.test_cli_runner().invoke(args=["remind", "--today", TODAY, *args])


def expected(app, today=TODAY) -> dict[str, list]:
    """email -> the items the inbox lists for that person (the digest must name exactly these)."""
    with app.test_request_context():
        people = db.session.execute(select(User).where(User.active.is_(True))).scalars().all()
        found = {user.email: items_for(user, today=date.fromisoformat(today)) for user in people}
    return {address: items for address, items in found.items() if items}


def set_user(app, address, **values):
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == address)).scalar_one()
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def sent_week(app, address):
    with app.app_context():
        return db.session.execute(select(User.digest_sent_week).where(User.email == address)).scalar_one()


def by_recipient(smtp) -> dict[str, email.message.EmailMessage]:
    received = {}
    for rcpts, message in smtp.messages():
        assert len(rcpts) == 1
        assert rcpts[0] not in received, f"{rcpts[0]} got two digests"
        received[rcpts[0]] = message
    return received


def test_the_digest_reaches_a_real_smtp_server_and_names_each_persons_items(smtp_app, smtp):
    wanted = expected(smtp_app)
    assert {"officer@demo.test", "manager@demo.test", "auditor@demo.test"} <= set(wanted)
    result = remind(smtp_app)
    assert result.exit_code == 0, result.output
    assert f"Digests for 2016-W50: {len(wanted)} sent, 0 failed" in result.output
    received = by_recipient(smtp)
    assert set(received) == set(wanted)  # people with nothing to do get nothing
    for address, items in wanted.items():
        message = received[address]
        assert message["To"].addresses[0].addr_spec == address
        assert message["Subject"].startswith("Needs your action:") and "Dec 12, 2016" in message["Subject"]
        assert message["Content-Language"] == "en"
        text, html = parts(message)
        assert "week of Monday, December 12, 2016" in text
        assert "== KFIT-VNM-CI" in text and f'<a href="{BASE}/projects/' in html
        for item in items:
            assert item.text in text and f"{BASE}{item.url}" in text
            assert f'href="{BASE}{item.url}"' in html
        assert f"{BASE}/account" in text and f"{BASE}/inbox" in text
    officer_text = parts(received["officer@demo.test"])[0]
    assert not any(item.text in officer_text for item in wanted["auditor@demo.test"])


def test_the_digest_is_in_the_persons_language(smtp_app, smtp):
    set_user(smtp_app, "officer@demo.test", locale="vi")
    assert remind(smtp_app).exit_code == 0
    message = by_recipient(smtp)["officer@demo.test"]
    text, html = parts(message)
    assert message["Content-Language"] == "vi" and '<html lang="vi">' in html
    assert "tháng 12" in text and "December" not in text  # the week's date, written the Vietnamese way
    assert by_recipient(smtp)["manager@demo.test"]["Content-Language"] == "en"


def test_without_a_mail_url_the_digests_land_in_the_outbox(app):
    wanted = expected(app)
    result = remind(app)
    assert result.exit_code == 0 and "(mail is not configured)" in result.output
    folder = os.path.join(app.instance_path, "outbox")
    names = sorted(os.listdir(folder))
    assert len(names) == len(wanted) and all(name.endswith(".eml") for name in names)
    recipients = set()
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        address = message["To"].addresses[0].addr_spec
        recipients.add(address)
        text, html = parts(message)
        assert all(f"http://127.0.0.1:5000{item.url}" in text for item in wanted[address]) and "<html" in html
    assert recipients == set(wanted)


def test_running_twice_in_a_week_sends_once_and_the_next_week_again(smtp_app, smtp):
    wanted = expected(smtp_app)
    assert remind(smtp_app).exit_code == 0
    again = remind(smtp_app)
    assert again.exit_code == 0 and "0 sent" in again.output
    assert f"{len(wanted)} already sent for 2016-W50" in again.output
    assert len(smtp.envelopes()) == len(wanted) and sent_week(smtp_app, "officer@demo.test") == "2016-W50"
    next_week = smtp_app.test_cli_runner().invoke(args=["remind", "--today", "2016-12-19"])
    assert next_week.exit_code == 0 and "Digests for 2016-W51" in next_week.output
    assert len(smtp.envelopes()) > len(wanted)


def test_a_dry_run_lists_who_would_get_what_and_sends_nothing(smtp_app, smtp):
    wanted = expected(smtp_app)
    result = remind(smtp_app, "--dry-run")
    assert result.exit_code == 0
    with smtp_app.test_request_context():  # the count is every item, the listed ones and the "more"
        totals = {user.email: counts_for(user, today=date(2016, 12, 14))["total"]
                  for user in db.session.execute(select(User)).scalars()}
    for address in wanted:
        assert f"would send to {address} (en): {totals[address]} items" in result.output
    assert f"{len(wanted)} digests would be sent" in result.output
    assert smtp.envelopes() == [] and sent_week(smtp_app, "officer@demo.test") is None
    assert remind(smtp_app).exit_code == 0 and len(smtp.envelopes()) == len(wanted)


def test_a_digest_that_could_not_be_sent_is_not_recorded_and_goes_next_run(databases, tmp_path):
    with running_app(databases, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{free_port()}") as app:
        result = remind(app)
        assert result.exit_code == 1 and f"{len(expected(app))} failed" in result.output
        assert sent_week(app, "officer@demo.test") is None


def test_turning_the_digest_off_on_the_account_page(smtp_app, smtp):
    client = smtp_app.test_client()
    client.post("/login", data={"email": "manager@demo.test", "password": "demo-manager-pass"})
    page = client.get("/account").get_data(as_text=True)
    assert 'id="digest-choice"' in page and 'name="digest" value="y" checked' in page
    response = client.post("/account/digest", data={})  # the box unticked, without JavaScript
    assert response.status_code == 303 and response.location.endswith("/account")
    page = client.get(response.location).get_data(as_text=True)
    assert "you no longer get the weekly digest" in page and 'name="digest" value="y" checked' not in page
    result = remind(smtp_app)
    assert result.exit_code == 0 and "1 turned off" in result.output
    assert "manager@demo.test" not in by_recipient(smtp)
    # on again, with htmx: the section comes back saying so
    response = client.post("/account/digest", data={"digest": "y"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="digest-choice"')
    assert "you get the weekly digest" in body and 'value="y" checked' in body and "<html" not in body
    assert remind(smtp_app).exit_code == 0 and "manager@demo.test" in by_recipient(smtp)


def test_the_digest_choice_needs_a_login(client):
    response = client.post("/account/digest", data={"digest": "y"})
    assert response.status_code == 302 and "/login" in response.location


def test_iso_week_uses_the_iso_year():
    from tracker.reminders.digest import iso_week

    assert iso_week(date(2016, 1, 1)) == "2015-W53" and iso_week(date(2016, 12, 14)) == "2016-W50"


def test_links_in_mail_keep_a_base_urls_path(databases, tmp_path):
    with running_app(databases, tmp_path, BASE_URL="https://example.org/tracker/") as app:
        with app.test_request_context():
            assert mail.absolute_url("/projects/1") == "https://example.org/tracker/projects/1"
            assert mail.absolute_url("/tracker/projects/1") == "https://example.org/tracker/projects/1"
            assert mail.absolute_url("https://elsewhere.org/x") == "https://elsewhere.org/x"
