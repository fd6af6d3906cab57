"""Logging in and out: one generic error, throttling, a fresh session, safe cookies,
members, and the admin's user pages."""

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_PASSWORDS, close_app, make_app, running_app
from tracker.accounts.services import GENERIC_LOGIN_ERROR
from tracker.extensions import db
from tracker.models import AuditEvent, LoginAttempt, Membership, User


def login(client, email, password, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def events(app, action):
    with app.app_context():
        return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).scalars().all()


@pytest.fixture
def strict_app(databases, tmp_path):
    """The demo app with throttling after 3 failures (instead of 10)."""
    with running_app(databases, tmp_path, LOGIN_MAX_FAILURES=3) as application:
        yield application


def test_login_page_and_successful_login(client, app):
    page = client.get("/login")
    assert page.status_code == 200
    assert b'<label for="email">Email</label>' in page.data and b'autocomplete="current-password"' in page.data
    response = login(client, *DEMO_PASSWORDS["officer"])
    assert response.status_code == 303 and response.location == "/"
    portfolio = client.get("/")
    assert "Trần Văn Hùng".encode() in portfolio.data
    [event] = events(app, "login")
    assert event.actor_label == "officer@demo.test" and event.table_name == "user"


def test_wrong_password_and_unknown_user_get_the_same_generic_message(client, app):
    wrong = login(client, "officer@demo.test", "not-the-password")
    unknown = login(client, "nobody@demo.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 422
    assert GENERIC_LOGIN_ERROR.encode() in wrong.data and GENERIC_LOGIN_ERROR.encode() in unknown.data
    # Nothing on the page says which of the two was wrong.
    for response in (wrong, unknown):
        text = response.get_data(as_text=True).lower()
        assert "no user" not in text and "unknown" not in text and "does not exist" not in text
    # The typed email stays in the form; the password does not.
    assert b'value="officer@demo.test"' in wrong.data and b"not-the-password" not in wrong.data
    # The first failure of the window from this address is in the trail; the second (an
    # unknown email from the same address) is only counted.
    import json

    failed = events(app, "login_failed")
    assert [json.loads(e.changes)["email"] for e in failed] == ["officer@demo.test"]
    assert json.loads(failed[0].changes)["window_minutes"] == 15
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(LoginAttempt)
                                  .where(LoginAttempt.success.is_(False))).scalar() == 2
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, app):
    assert login(client, *DEMO_PASSWORDS["liaison"]).status_code == 303
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "liaison@demo.test")).scalar_one()
        user.active = False
        db.session.commit()
    # The open session ends at the next request.
    assert client.get("/").status_code == 302
    response = login(client, *DEMO_PASSWORDS["liaison"])
    assert response.status_code == 422 and GENERIC_LOGIN_ERROR.encode() in response.data


def test_throttled_per_account_even_from_new_addresses(strict_app):
    client = strict_app.test_client()
    for n in range(3):
        response = login(client, "manager@demo.test", "wrong-password",
                         environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
        assert response.status_code == 422
    # The right password, from yet another address: refused while throttled, clearly.
    response = login(client, *DEMO_PASSWORDS["manager"], environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.data and b"15 minutes" in response.data
    assert client.get("/").status_code == 302
    # Another account from a fresh address is not affected.
    other = strict_app.test_client()
    assert login(other, *DEMO_PASSWORDS["officer"], environ_base={"REMOTE_ADDR": "10.0.0.10"}).status_code == 303
    assert len(events(strict_app, "login_throttled")) == 1


def test_throttled_per_address_across_accounts(strict_app):
    client = strict_app.test_client()
    for email in ("a@demo.test", "b@demo.test", "manager@demo.test"):
        assert login(client, email, "wrong-password").status_code == 422
    response = login(client, *DEMO_PASSWORDS["officer"])
    assert response.status_code == 429 and b"from this address" in response.data
    # The same account from another address still works: the address is what is throttled.
    other = strict_app.test_client()
    assert login(other, *DEMO_PASSWORDS["officer"], environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 303


def test_failures_older_than_the_window_do_not_count(strict_app):
    from datetime import UTC, datetime, timedelta

    from tracker.models import LoginAttempt

    with strict_app.app_context():
        old = datetime.now(UTC) - timedelta(minutes=16)
        for _ in range(5):
            db.session.add(LoginAttempt(email="manager@demo.test", address="127.0.0.1", success=False, created_at=old))
        db.session.commit()
    assert login(strict_app.test_client(), *DEMO_PASSWORDS["manager"]).status_code == 303


def test_fifty_failed_logins_for_one_account_make_at_most_two_events(app):
    """Failures are counted, not each written forever: the first of the window and the pause."""
    client = app.test_client()
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    for n in range(50):
        response = login(client, "manager@demo.test", f"wrong-{n}", environ_base={"REMOTE_ADDR": "192.0.2.1"})
        assert response.status_code in (422, 429)
    with app.app_context():
        new = db.session.execute(select(AuditEvent).order_by(AuditEvent.id).offset(before)).scalars().all()
        assert len(new) <= 2 and [e.action for e in new] == ["login_failed", "login_throttled"]
        import json

        assert json.loads(new[1].changes)["failures"] == app.config["LOGIN_MAX_FAILURES"]
        # The count is kept in the login attempts (refusals while paused check no password).
        assert db.session.execute(select(func.count()).select_from(LoginAttempt)).scalar() == 10


def test_failures_from_many_addresses_and_unknown_emails_stay_bounded(strict_app):
    client = strict_app.test_client()
    for n in range(20):
        login(client, f"nobody-{n}@example.test", "wrong", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    # One address, unknown emails: its first failure and its pause.
    assert len(events(strict_app, "login_failed")) == 1 and len(events(strict_app, "login_throttled")) == 1


def test_old_login_attempts_are_pruned_at_the_next_login(app):
    from datetime import UTC, datetime, timedelta

    from tracker.accounts.services import KEEP_ATTEMPTS_WINDOWS

    window = app.config["LOGIN_WINDOW_MINUTES"]
    with app.app_context():
        for minutes in (window * KEEP_ATTEMPTS_WINDOWS + 5, window * 2):
            db.session.add(LoginAttempt(email="x@demo.test", address="192.0.2.9", success=False,
                                        created_at=datetime.now(UTC) - timedelta(minutes=minutes)))
        db.session.commit()
    assert login(app.test_client(), *DEMO_PASSWORDS["officer"]).status_code == 303
    with app.app_context():
        left = db.session.execute(select(LoginAttempt.email).order_by(LoginAttempt.id)).scalars().all()
        assert left == ["x@demo.test", "officer@demo.test"]  # the recent one stays, the old one went


def test_session_is_renewed_at_login(client):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone before login"
    before = client.get_cookie("session").value
    assert login(client, *DEMO_PASSWORDS["officer"]).status_code == 303
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"]


def test_session_cookie_flags(client):
    response = login(client, *DEMO_PASSWORDS["officer"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_secure_when_configured(databases, tmp_path):
    app = make_app(databases, tmp_path, SESSION_COOKIE_SECURE=True)
    try:
        client = app.test_client()
        response = login(client, *DEMO_PASSWORDS["officer"], base_url="https://localhost")
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        close_app(databases, app)


def test_logout_is_a_post_and_ends_the_session(client, auth, app):
    auth.login("officer")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303 and response.location == "/login"
    assert client.get("/").status_code == 302
    assert len(events(app, "logout")) == 1


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(client, target):
    response = client.post(f"/login?next={target}", data=dict(zip(("email", "password"),
                                                                    DEMO_PASSWORDS["officer"], strict=True)))
    assert response.status_code == 303 and response.location == "/"


def test_login_follows_a_local_next(client, demo):
    response = client.get(f"/projects/{demo}/logframe")
    assert response.status_code == 302 and "/login?next=" in response.location
    response = client.post(response.location, data=dict(zip(("email", "password"), DEMO_PASSWORDS["officer"],
                                                             strict=True)))
    assert response.location == f"/projects/{demo}/logframe"


# ---------------------------------------------------------------------------------------
# Members of a project


def test_manager_adds_a_member_and_changes_a_role(client, auth, app, demo):
    with app.app_context():
        db.session.add(User(email="newcomer@demo.test", name="Hoàng Minh Châu", password_hash="!"))
        db.session.commit()
    auth.login("manager")
    page = client.get(f"/projects/{demo}/members")
    assert page.status_code == 200 and "Lê Thu Hà".encode() in page.data
    response = client.post(f"/projects/{demo}/members", data={"email": "Newcomer@demo.test", "role": "auditor"})
    assert response.status_code == 303
    assert "Hoàng Minh Châu".encode() in client.get(f"/projects/{demo}/members").data
    response = client.post(f"/projects/{demo}/members", data={"email": "nobody@demo.test", "role": "auditor"})
    assert response.status_code == 422 and b"No user with the email nobody@demo.test" in response.data
    with app.app_context():
        membership = db.session.execute(
            select(Membership).join(User).where(User.email == "newcomer@demo.test")).scalar_one()
        assert membership.role == "auditor"


def test_manager_removes_a_member_but_not_themselves(client, auth, app, demo):
    with app.app_context():
        rows = dict(db.session.execute(select(User.email, Membership.id).join(Membership)).all())
    auth.login("manager")
    client.post(f"/projects/{demo}/members/{rows['manager@demo.test']}/remove")
    client.post(f"/projects/{demo}/members/{rows['liaison@demo.test']}/remove")
    with app.app_context():
        left = set(db.session.execute(select(User.email).join(Membership)).scalars())
    assert "manager@demo.test" in left and "liaison@demo.test" not in left
    assert client.post(f"/projects/{demo}/members/999999/remove").status_code == 404


def _membership_id(app, email):
    with app.app_context():
        return db.session.execute(select(Membership.id).join(User).where(User.email == email)).scalar_one()


def _roles(app):
    with app.app_context():
        return dict(db.session.execute(select(User.email, Membership.role).join(Membership)).all())


def test_the_last_manager_is_neither_demoted_nor_removed_by_a_manager(client, auth, app, demo):
    assert [email for email, role in _roles(app).items() if role == "manager"] == ["manager@demo.test"]
    auth.login("manager")
    response = client.post(f"/projects/{demo}/members", data={"email": "manager@demo.test", "role": "officer"})
    assert response.status_code == 422 and b"the project&#39;s only manager" in response.data
    assert _roles(app)["manager@demo.test"] == "manager"
    # With a second manager, the first may step down.
    assert client.post(f"/projects/{demo}/members",
                       data={"email": "officer@demo.test", "role": "manager"}).status_code == 303
    assert client.post(f"/projects/{demo}/members",
                       data={"email": "manager@demo.test", "role": "officer"}).status_code == 303
    assert _roles(app)["manager@demo.test"] == "officer"


def test_the_last_manager_is_not_removed_by_an_admin(client, auth, app, demo):
    auth.login("admin")
    response = client.post(f"/projects/{demo}/members/{_membership_id(app, 'manager@demo.test')}/remove",
                           follow_redirects=True)
    assert b"only manager" in response.data and _roles(app)["manager@demo.test"] == "manager"
    response = client.post(f"/projects/{demo}/members", data={"email": "manager@demo.test", "role": "auditor"})
    assert response.status_code == 422 and _roles(app)["manager@demo.test"] == "manager"


def test_the_last_manager_is_not_demoted_by_the_cli(app, runner):
    from tracker.models import Project

    with app.app_context():
        code = db.session.execute(select(Project.code)).scalar()
    result = runner.invoke(args=["user", "grant", "manager@demo.test", code, "liaison"])
    assert result.exit_code != 0 and "only manager" in result.output
    assert _roles(app)["manager@demo.test"] == "manager"


def test_a_member_removed_from_the_project_gets_404(client, auth, app, demo):
    auth.login("liaison")
    assert client.get(f"/projects/{demo}").status_code == 200
    with app.app_context():
        membership = db.session.execute(select(Membership).join(User)
                                        .where(User.email == "liaison@demo.test")).scalar_one()
        db.session.delete(membership)
        db.session.commit()
    assert client.get(f"/projects/{demo}").status_code == 404


# ---------------------------------------------------------------------------------------
# Administration: users


def test_admin_creates_a_user_who_can_then_log_in(client, auth, app):
    auth.login("admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and b"manager@demo.test" in page.data
    data = {"email": "Thu.Trang@example.test", "name": "Đỗ Thu Trang", "password": "a-long-secret",
            "confirm": "a-long-secret"}
    response = client.post("/admin/users", data=data)
    assert response.status_code == 303
    assert "Đỗ Thu Trang".encode() in client.get("/admin/users").data
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "thu.trang@example.test")).scalar_one()
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:")) and "a-long-secret" not in user.password_hash
        created = db.session.execute(select(AuditEvent).where(AuditEvent.action == "insert",
                                                               AuditEvent.table_name == "user",
                                                               AuditEvent.row_id == user.id)).scalar_one()
        assert "password" not in created.changes and user.password_hash not in created.changes
    auth.logout()
    assert login(client, "thu.trang@example.test", "a-long-secret").status_code == 303


def test_admin_user_form_errors_next_to_fields_and_typing_kept(client, auth, app):
    auth.login("admin")
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(User)).scalar()
    response = client.post("/admin/users", data={"email": "officer@demo.test", "name": "Again",
                                                 "password": "a-long-secret", "confirm": "a-long-secret"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert b'id="user-admin"' in response.data and b"<html" not in response.data
    assert b"exists already" in response.data and b'value="Again"' in response.data
    response = client.post("/admin/users", data={"email": "x@demo.test", "name": "X", "password": "short",
                                                 "confirm": "other"})
    assert response.status_code == 422
    assert b"at least 8" in response.data and b"The passwords differ." in response.data
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == before


def test_admin_creates_a_user_with_htmx(client, auth):
    auth.login("admin")
    response = client.post("/admin/users", data={"email": "hx@example.test", "name": "Hà Nội user",
                                                 "password": "a-long-secret", "confirm": "a-long-secret"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.data
    assert b"Created hx@example.test" in response.data and "Hà Nội user".encode() in response.data
    assert "HX-Request" in response.headers["Vary"]


def test_admin_deactivates_and_reactivates_a_user(client, auth, app):
    with app.app_context():
        ids = dict(db.session.execute(select(User.email, User.id)).all())
    officer = app.test_client()
    assert login(officer, *DEMO_PASSWORDS["officer"]).status_code == 303
    auth.login("admin")
    response = client.post(f"/admin/users/{ids['officer@demo.test']}/deactivate", headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"officer@demo.test is deactivated" in response.data
    assert officer.get("/").status_code == 302  # logged out at once
    assert login(officer, *DEMO_PASSWORDS["officer"]).status_code == 422
    # An admin cannot lock themselves out.
    response = client.post(f"/admin/users/{ids['admin@demo.test']}/deactivate")
    assert response.status_code == 303
    assert b"cannot deactivate your own account" in client.get("/admin/users").data
    client.post(f"/admin/users/{ids['officer@demo.test']}/activate")
    assert login(app.test_client(), *DEMO_PASSWORDS["officer"]).status_code == 303
    assert client.post("/admin/users/999999/deactivate").status_code == 404


def test_admin_sets_a_password(client, auth, app):
    with app.app_context():
        officer_id = db.session.execute(select(User.id).where(User.email == "officer@demo.test")).scalar_one()
    auth.login("admin")
    assert client.get(f"/admin/users/{officer_id}/password").status_code == 200
    response = client.post(f"/admin/users/{officer_id}/password", data={"password": "brand-new-pass",
                                                                         "confirm": "brand-new-pass"})
    assert response.status_code == 303
    auth.logout()
    assert login(client, *DEMO_PASSWORDS["officer"]).status_code == 422
    assert login(client, "officer@demo.test", "brand-new-pass").status_code == 303
    with app.app_context():
        change = db.session.execute(select(AuditEvent).where(AuditEvent.table_name == "user",
                                                              AuditEvent.action == "update")).scalars().all()[-1]
        assert change.changes == '{"password_hash": ["(hidden)", "(changed)"]}'


def test_admin_projects_page(client, auth, demo):
    auth.login("admin")
    page = client.get("/admin/projects")
    assert page.status_code == 200 and b"KFIT-VNM-CI" in page.data
    assert f"/projects/{demo}/members".encode() in page.data


def test_only_admins_see_the_administration_link(client, auth):
    auth.login("manager")
    assert b"/admin/users" not in client.get("/").data
    assert client.get("/admin/users").status_code == 403
    auth.logout()
    auth.login("admin")
    assert b"/admin/users" in client.get("/").data


def test_a_new_password_ends_other_sessions(client, auth, app):
    other_device = app.test_client()
    assert login(other_device, *DEMO_PASSWORDS["officer"]).status_code == 303
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "officer@demo.test")).scalar_one()
        user.set_password("changed-elsewhere")
        db.session.commit()
    assert other_device.get("/").status_code == 302
    assert login(other_device, "officer@demo.test", "changed-elsewhere").status_code == 303
    assert other_device.get("/").status_code == 200
