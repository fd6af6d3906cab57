"""Behind a reverse proxy (nginx for HTTPS), the client's own address must still count.

Without ``TRACKER_PROXY_COUNT`` every request would come from the proxy's 127.0.0.1: ten
failed logins by anyone would lock everybody out, and the audit trail would show one
address. With it, the proxy's X-Forwarded-* headers are trusted for that many hops; without
it they are ignored (a client cannot forge its address by sending the header itself).
"""

from sqlalchemy import select

from tests.conftest import close_app, make_app
from tracker import create_app
from tracker.extensions import db
from tracker.models import AuditEvent, LoginAttempt


def failed_login(client, address):
    return client.post("/login", data={"email": "officer@demo.test", "password": "wrong password"},
                       headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"})


def test_behind_one_proxy_each_client_keeps_its_own_address(databases, tmp_path):
    app = make_app(databases, tmp_path, PROXY_COUNT=1, LOGIN_MAX_FAILURES=3)
    try:
        check_addresses(app)
    finally:
        close_app(databases, app)


def check_addresses(app):
    client = app.test_client()
    for _ in range(3):
        assert failed_login(client, "203.0.113.5").status_code == 422
    assert failed_login(client, "203.0.113.5").status_code == 429  # that address is paused
    # Someone else behind the same proxy is not locked out by it.
    response = client.post("/login", data={"email": "manager@demo.test", "password": "demo-manager-pass"},
                           headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    with app.app_context():
        addresses = set(db.session.execute(select(LoginAttempt.address)).scalars())
        assert addresses == {"203.0.113.5", "198.51.100.7"}
        login = db.session.execute(select(AuditEvent).where(AuditEvent.action == "login")
                                   .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert login.address == "198.51.100.7"
        db.session.remove()


def test_without_a_proxy_the_forwarded_headers_are_ignored(app):
    client = app.test_client()
    assert failed_login(client, "203.0.113.5").status_code == 422
    with app.app_context():
        assert set(db.session.execute(select(LoginAttempt.address)).scalars()) == {"127.0.0.1"}


def test_the_proxy_count_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_PROXY_COUNT", "1")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert app.config["PROXY_COUNT"] == 1
    assert type(app.wsgi_app).__name__ == "ProxyFix"
