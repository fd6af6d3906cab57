"""Server-side session revocation: logging out ends the session on the server, so a copy of
the cookie taken before stops working at once; "log out everywhere" ends every session."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.conftest import DEMO_PASSWORDS
from tracker.accounts.routes import AUTH_HASH_KEY, auth_hash
from tracker.extensions import db
from tracker.models import AuditEvent, User
from tracker.models.accounts import UserSession


def logged_in_client(app, role="officer"):
    client = app.test_client()
    response = client.post("/login", data=dict(zip(("email", "password"), DEMO_PASSWORDS[role], strict=True)))
    assert response.status_code == 303
    return client


def copy_of(app, client):
    """Another browser holding the same session cookie (stolen, or left on a shared computer)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def sessions_of(app, email):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(UserSession).join(User)
                                  .where(User.email == email)).scalar()


def test_a_copied_cookie_stops_working_at_logout(app):
    client = logged_in_client(app)
    thief = copy_of(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session is open
    assert sessions_of(app, "officer@demo.test") == 1
    assert client.post("/logout").status_code == 303
    page = thief.get("/", follow_redirects=True)
    assert page.request.path == "/login" and b"Log in" in page.data
    assert thief.get("/account").status_code == 302
    assert sessions_of(app, "officer@demo.test") == 0


def test_logging_out_one_session_leaves_the_others_open(app):
    laptop = logged_in_client(app)
    phone = logged_in_client(app)
    assert sessions_of(app, "officer@demo.test") == 2
    laptop.post("/logout")
    assert phone.get("/").status_code == 200 and laptop.get("/").status_code == 302


def test_log_out_everywhere_from_the_account_page(app):
    laptop = logged_in_client(app)
    phone = logged_in_client(app)
    page = laptop.get("/account")
    assert page.status_code == 200 and b"Log out everywhere" in page.data
    assert b'id="open-sessions">2<' in page.data
    response = laptop.post("/account/logout-everywhere")
    assert response.status_code == 303 and response.location == "/login"
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    assert sessions_of(app, "officer@demo.test") == 0
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "logout")
                                   .order_by(AuditEvent.id.desc())).scalars().first()
        assert '"everywhere": true' in event.changes
    # Logging in again works as before.
    assert logged_in_client(app).get("/").status_code == 200


def test_log_out_everywhere_also_ends_a_session_without_a_token(app):
    """A cookie from before server-side sessions (no token) ends when the epoch grows."""
    old = app.test_client()
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "officer@demo.test")).scalar_one()
        user_id, fingerprint = user.id, auth_hash(user)
    with old.session_transaction() as session:
        session.update({"_user_id": str(user_id), "_fresh": True, AUTH_HASH_KEY: fingerprint})
    assert old.get("/").status_code == 200
    logged_in_client(app).post("/account/logout-everywhere")
    assert old.get("/").status_code == 302


def test_log_out_everywhere_needs_a_post_with_a_csrf_token(csrf_app):
    client = csrf_app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    import re

    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1).decode()
    assert client.post("/login", data={"csrf_token": token, "email": "officer@demo.test",
                                       "password": DEMO_PASSWORDS["officer"][1]}).status_code == 303
    assert client.get("/account/logout-everywhere").status_code == 405
    assert client.post("/account/logout-everywhere").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_sessions_older_than_a_cookie_lives_are_pruned_at_login(app):
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.email == "manager@demo.test")).scalar()
        db.session.add(UserSession(user_id=user_id, token_hash="f" * 64,
                                   created_at=datetime.now(UTC) - app.permanent_session_lifetime
                                   - timedelta(minutes=1)))
        db.session.commit()
    logged_in_client(app, "officer")
    assert sessions_of(app, "manager@demo.test") == 0


def test_every_page_links_to_the_account_page_where_sessions_end(client, auth, demo):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/week").get_data(as_text=True)
    assert 'href="/account"' in page
    account = client.get("/account")
    assert account.status_code == 200 and "everywhere" in account.get_data(as_text=True).lower()
