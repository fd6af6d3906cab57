"""Mail (tracker/mail.py, tracker/notices.py): the settings, the outbox without a server, a real
SMTP server on 127.0.0.1, and the immediate notices when a manager returns a period or the
auditor queries an evidence item: sent after the commit, never for a change that failed, and a
mail failure never loses the change."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from tests.conftest import running_app
from tests.helpers import HX
from tests.smtp_server import SmtpServer, free_port, parts
from tracker import create_app, mail
from tracker.config import ConfigError
from tracker.extensions import db
from tracker.models import EvidenceItem, Indicator, IndicatorPeriod, User

OFFICER = "officer@demo.test"
MANAGER = "manager@demo.test"
AUDITOR = "auditor@demo.test"
NOTE = "Thêm đường dẫn bài báo, please."
# The test server asks for a login over plain SMTP (to prove the URL's login is used); aiosmtpd warns.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_app(databases, tmp_path, smtp):
    with running_app(databases, tmp_path, MAIL_URL=smtp.url, MAIL_FROM="Tracker <tracker@example.org>",
                     BASE_URL="https://tracker.example.org") as application:
        yield application


def outbox(app) -> list[email.message.EmailMessage]:
    folder = app.instance_path + "/outbox"
    import os

    if not os.path.isdir(folder):
        return []
    names = sorted(os.listdir(folder))
    assert all(name.endswith(".eml") for name in names)
    result = []
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            result.append(email.message_from_binary_file(handle, policy=email.policy.default))
    return result


def submitted_period(app) -> tuple[int, int]:
    """(id, version) of the demo's submitted period of 1.1.b."""
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).join(Indicator).where(
            Indicator.code == "1.1.b", IndicatorPeriod.state == "submitted")).scalars().first()
        return period.id, period.version


def clipping(app) -> int:
    with app.app_context():
        return db.session.execute(select(EvidenceItem.id).where(EvidenceItem.title.contains("spotlight"))).scalar()


def officers(app) -> set[str]:
    """The demo project's officers' addresses (the people a notice goes to)."""
    from tracker.models import Membership

    with app.app_context():
        return set(db.session.execute(select(User.email).join(Membership).where(Membership.role == "officer"))
                   .scalars())


# --------------------------------------------------------------------------------------------- settings


def _app_with(tmp_path, monkeypatch, **environment):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test-secret-key", "TESTING": True})


@pytest.mark.parametrize("url, problem", [
    ("http://mail.example.org", "does not start with smtp:// or smtps://"),
    ("smtp://tracker:s3cret/x@mail.example.org:587", "does not parse into a host and a port"),
    ("smtp://tracker:s3cret@mail.example.org:5x7", "port that is not a number"),
    ("smtps://tracker:s3cret@mail.example.org?tls=1", "choose one"),
    ("smtp://tracker:s3cret@mail.example.org?tls=maybe", "not a yes/no value"),
    ("smtp://tracker:s3cret@mail.example.org?starttls=1", "unknown option 'starttls'"),
])
def test_a_bad_mail_url_stops_the_start_with_the_problem_and_never_the_password(tmp_path, monkeypatch, capsys,
                                                                                   url, problem):
    with pytest.raises(ConfigError) as caught:
        _app_with(tmp_path, monkeypatch, TRACKER_MAIL_URL=url)
    message = str(caught.value)
    assert "TRACKER_MAIL_URL" in message and problem in message
    assert "s3cret" not in message and "s3cret" not in capsys.readouterr().err
    assert "percent-encode" in message


def test_mail_settings_are_read_from_the_environment(tmp_path, monkeypatch):
    app = _app_with(tmp_path, monkeypatch, TRACKER_MAIL_URL="smtp://me%40example.org:p%2Fw@mail.example.org?tls=1",
                    TRACKER_MAIL_FROM="Tracker <tracker@example.org>", TRACKER_BASE_URL="https://t.example.org")
    state = app.extensions["mailman"]
    assert (state.server, state.port, state.username, state.password) == ("mail.example.org", 587,
                                                                          "me@example.org", "p/w")
    assert state.use_tls and not state.use_ssl and state.default_sender == "Tracker <tracker@example.org>"
    smtps = _app_with(tmp_path, monkeypatch, TRACKER_MAIL_URL="smtps://mail.example.org").extensions["mailman"]
    assert (smtps.port, smtps.use_ssl, smtps.use_tls) == (465, True, False)


@pytest.mark.parametrize("name, value", [("TRACKER_MAIL_FROM", "the tracker"), ("TRACKER_BASE_URL", "tracker.org")])
def test_a_bad_sender_or_base_url_is_refused(tmp_path, monkeypatch, name, value):
    with pytest.raises(ConfigError, match=name):
        _app_with(tmp_path, monkeypatch, **{name: value})


def test_an_inline_comment_in_the_mail_url_is_refused_without_showing_the_password(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as caught:
        _app_with(tmp_path, monkeypatch, TRACKER_MAIL_URL="smtp://u:s3cret@mail.example.org  # the relay")
    assert "inline comment" in str(caught.value) and "s3cret" not in str(caught.value)


# --------------------------------------------------------------------------------------------- one function


def test_send_writes_an_eml_file_to_the_outbox_without_a_mail_url(app):
    with app.test_request_context():
        first = mail.send("Ann <ann@example.org>", "Hello", "Plain words", "<p>Rich <b>words</b></p>", locale="vi")
        second = mail.send("bob@example.org", "Again", "Only text")
    assert (first.status, second.status) == ("written", "written")
    assert first.path.parent == second.path.parent and first.path.parent.name == "outbox"
    assert sorted([first.path.name, second.path.name]) == [first.path.name, second.path.name]  # names sort by time
    parsed = outbox(app)
    assert [m["Subject"] for m in parsed] == ["Hello", "Again"]
    assert parsed[0]["To"] == "Ann <ann@example.org>" and parsed[0]["Content-Language"] == "vi"
    assert parsed[0]["From"] == "Results tracker <tracker@127.0.0.1>"
    text, html = parts(parsed[0])
    assert text.strip() == "Plain words" and "<b>words</b>" in html
    assert parts(parsed[1]) == ("Only text\n", "") or parts(parsed[1])[0].strip() == "Only text"


def test_send_goes_to_a_real_smtp_server_with_the_login_of_the_url(smtp_app, smtp):
    with smtp_app.test_request_context():
        outcome = mail.send(["Ann <ann@example.org>", "bob@example.org"], "Xin chào", "Chữ", "<p>Chữ</p>")
    assert outcome.status == "sent"
    (recipients, message), = smtp.messages()
    assert recipients == ["ann@example.org", "bob@example.org"]
    assert message["Subject"] == "Xin chào" and message["From"] == "Tracker <tracker@example.org>"
    assert parts(message)[0].strip() == "Chữ" and "<p>Chữ</p>" in parts(message)[1]
    assert not (smtp_app.instance_path and outbox(smtp_app))


def test_a_server_that_is_down_is_a_failed_outcome_not_an_exception(databases, tmp_path):
    with running_app(databases, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{free_port()}") as app:
        with app.test_request_context():
            outcome = mail.send("ann@example.org", "Hello", "Words")
    assert outcome.status == "failed" and outcome.error


def test_a_queued_message_goes_after_the_commit_and_never_after_a_rollback(app):
    message = mail.Message(to=("ann@example.org",), subject="Queued", text="Words")
    with app.test_request_context():
        mail.queue(message)
        db.session.rollback()
        db.session.commit()
        assert outbox(app) == []
        mail.queue(message)
        assert outbox(app) == []  # not before the commit
        db.session.commit()
    assert [m["Subject"] for m in outbox(app)] == ["Queued"]


# --------------------------------------------------------------------------------------------- notices


def test_returning_a_period_tells_the_officers_in_the_outbox_and_the_page_says_so(app, client, auth, demo):
    pid, version = submitted_period(app)
    auth.login("manager")
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/return", data={"version": version, "note": NOTE})
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Mail is not configured" in page and "instance/outbox/" in page
    messages = outbox(app)
    assert {m["To"].addresses[0].addr_spec for m in messages} == officers(app)
    assert MANAGER not in {m["To"].addresses[0].addr_spec for m in messages}
    message = messages[0]
    assert "1.1.b" in message["Subject"] and "Returned" in message["Subject"]
    text, html = parts(message)
    link = f"http://127.0.0.1:5000/projects/{demo}/indicators/periods/{pid}"
    assert NOTE in text and link in text and "Trần Văn Hùng" in text
    assert NOTE in html and f'href="{link}"' in html
    assert "http://127.0.0.1:5000/account" in text  # why they get it, and where their account is


def test_returning_a_period_over_smtp_with_htmx_says_sent_in_the_same_answer(smtp_app, smtp):
    client = smtp_app.test_client()
    client.post("/login", data={"email": MANAGER, "password": "demo-manager-pass"})
    pid, version = submitted_period(smtp_app)
    with smtp_app.app_context():
        demo = db.session.get(IndicatorPeriod, pid).project_id
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/return", headers=HX,
                           data={"version": version, "note": NOTE})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="workflow"')
    assert re.search(r'<div hx-swap-oob="beforeend:#flash-area"><p class="flash flash-info" role="status">'
                     r"Notice sent by e-mail to [^<]*Trần Văn Hùng", body)
    received = smtp.messages()
    assert {r for rcpts, _m in received for r in rcpts} == officers(smtp_app)
    text, html = parts(received[0][1])
    assert f"https://tracker.example.org/projects/{demo}/indicators/periods/{pid}" in text
    assert NOTE in html and received[0][1]["Content-Language"] == "en"
    assert outbox(smtp_app) == []
    # the flash was not kept for the next page as well
    assert "Notice sent by e-mail" not in client.get(f"/projects/{demo}").get_data(as_text=True)


def test_querying_evidence_tells_the_officers_and_who_added_it(app, client, auth, demo):
    item = clipping(app)
    with app.app_context():  # added by the liaison: they hear of the query too
        liaison = db.session.execute(select(User).where(User.email == "liaison@demo.test")).scalar_one()
        db.session.get(EvidenceItem, item).created_by_id = liaison.id
        db.session.commit()
    auth.login("auditor")
    response = client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                           data={"decision": "queried", "note": "Which page of the UN site?", "context": "auditor"})
    assert response.status_code == 200 and "Mail is not configured" in response.get_data(as_text=True)
    messages = outbox(app)
    assert {m["To"].addresses[0].addr_spec for m in messages} == officers(app) | {"liaison@demo.test"}
    text, html = parts(messages[0])
    assert "Which page of the UN site?" in text and f"http://127.0.0.1:5000/projects/{demo}/evidence/{item}" in text
    assert "queried" in messages[0]["Subject"].lower() and "spotlight" in messages[0]["Subject"]
    assert f'href="http://127.0.0.1:5000/projects/{demo}/evidence/{item}"' in html


def test_verifying_evidence_sends_nothing(app, client, auth, demo):
    auth.login("auditor")
    response = client.post(f"/projects/{demo}/evidence/{clipping(app)}/review", headers=HX,
                           data={"decision": "verified", "context": "auditor"})
    assert response.status_code == 200 and "e-mail" not in response.get_data(as_text=True)
    assert outbox(app) == []


def test_nothing_is_sent_when_the_change_fails(smtp_app, smtp):
    client = smtp_app.test_client()
    client.post("/login", data={"email": MANAGER, "password": "demo-manager-pass"})
    pid, version = submitted_period(smtp_app)
    with smtp_app.app_context():
        demo = db.session.get(IndicatorPeriod, pid).project_id
    no_note = client.post(f"/projects/{demo}/indicators/periods/{pid}/return", headers=HX,
                          data={"version": version, "note": " "})
    stale = client.post(f"/projects/{demo}/indicators/periods/{pid}/return", headers=HX,
                        data={"version": version - 1, "note": NOTE})
    assert (no_note.status_code, stale.status_code) == (422, 409)
    assert "e-mail" not in no_note.get_data(as_text=True) + stale.get_data(as_text=True)
    client.post("/logout")
    client.post("/login", data={"email": AUDITOR, "password": "demo-auditor-pass"})
    refused = client.post(f"/projects/{demo}/evidence/{clipping(smtp_app)}/review", headers=HX,
                          data={"decision": "queried", "note": "", "context": "auditor"})
    assert refused.status_code == 422
    assert smtp.envelopes() == [] and outbox(smtp_app) == []


def test_a_mail_failure_keeps_the_change_and_the_page_says_the_notice_was_not_sent(databases, tmp_path):
    with running_app(databases, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{free_port()}") as app:
        client = app.test_client()
        client.post("/login", data={"email": MANAGER, "password": "demo-manager-pass"})
        pid, version = submitted_period(app)
        with app.app_context():
            demo = db.session.get(IndicatorPeriod, pid).project_id
        response = client.post(f"/projects/{demo}/indicators/periods/{pid}/return",
                               data={"version": version, "note": NOTE})
        assert response.status_code == 303
        page = client.get(response.location).get_data(as_text=True)
        assert "could not be sent; your change is saved" in page
        with app.app_context():
            period = db.session.get(IndicatorPeriod, pid)
            assert (period.state, period.return_note) == ("returned", NOTE)
        assert outbox(app) == []
