"""Request security: CSRF on every write (htmx included), security headers on every response,
error pages that reveal nothing, templates that the strict CSP can serve."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORDS, close_app, make_app
from tests.test_route_matrix import snapshot
from tracker.extensions import db
from tracker.models import LoginAttempt, Membership, User

ROOT = Path(__file__).resolve().parent.parent
TOKEN_FIELD = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
HX_HEADERS = re.compile(rb'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')


def form_token(page) -> str:
    match = TOKEN_FIELD.search(page.data)
    assert match, "the page has no CSRF token field"
    return match.group(1).decode()


def csrf_login(client, role="manager"):
    email, password = DEMO_PASSWORDS[role]
    token = form_token(client.get("/login"))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303
    return response


def db_snapshot(app):
    with app.app_context():
        return snapshot()


# ---------------------------------------------------------------------------------------
# CSRF


def test_login_without_a_token_is_refused_and_records_nothing(csrf_app):
    client = csrf_app.test_client()
    before = db_snapshot(csrf_app)
    response = client.post("/login", data=dict(zip(("email", "password"), DEMO_PASSWORDS["manager"], strict=True)))
    assert response.status_code == 400
    assert b"security token is missing" in response.data and b"Nothing was changed" in response.data
    assert db_snapshot(csrf_app) == before
    assert client.get("/").status_code == 302  # not logged in
    with csrf_app.app_context():
        assert db.session.execute(select(LoginAttempt)).first() is None
    csrf_login(client)
    assert client.get("/").status_code == 200


def test_write_without_a_token_is_refused_and_changes_nothing(csrf_app):
    client = csrf_app.test_client()
    csrf_login(client)
    project_id = 1
    with csrf_app.app_context():
        project_id = db.session.execute(select(Membership.project_id)).scalars().first()
        db.session.add(User(email="new@demo.test", name="New", password_hash="!"))
        db.session.commit()
    before = db_snapshot(csrf_app)
    data = {"email": "new@demo.test", "role": "liaison"}
    for headers in ({}, {"HX-Request": "true"}, {"HX-Request": "true", "X-CSRFToken": "forged"}):
        response = client.post(f"/projects/{project_id}/members", data=data, headers=headers)
        assert response.status_code == 400, headers
        assert db_snapshot(csrf_app) == before
    # htmx: the token from <body hx-headers> travels as X-CSRFToken.
    page = client.get(f"/projects/{project_id}/members")
    header_token = HX_HEADERS.search(page.data).group(1).decode()
    response = client.post(f"/projects/{project_id}/members", data=data,
                           headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert response.status_code == 303
    assert db_snapshot(csrf_app) != before
    # A plain form: the token from the form's hidden field.
    response = client.post(f"/projects/{project_id}/members",
                           data={**data, "role": "auditor", "csrf_token": form_token(page)})
    assert response.status_code == 303
    with csrf_app.app_context():
        role = db.session.execute(select(Membership.role).join(User).where(User.email == "new@demo.test")).scalar()
    assert role == "auditor"


def test_logout_needs_a_token(csrf_app):
    client = csrf_app.test_client()
    csrf_login(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    page = client.get("/")
    client.post("/logout", data={"csrf_token": form_token(page)})
    assert client.get("/").status_code == 302


def test_a_refused_htmx_request_gets_a_fragment(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and b"<html" not in response.data and b'id="error-400"' in response.data


# ---------------------------------------------------------------------------------------
# Security headers


def assert_security_headers(response, where):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("script-src") == ["'self'"], f"{where}: script-src {directives.get('script-src')}"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("style-src") == ["'self'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}


def test_security_headers_on_every_kind_of_response(client, auth, demo):
    responses = {
        "login page": client.get("/login"),
        "redirect to login": client.get("/"),
        "static file": client.get("/static/css/app.css"),
        "health check": client.get("/healthz"),
        "404": client.get("/no/such/page"),
        "405": client.get("/logout"),
        "failed login": client.post("/login", data={"email": "x@y.z", "password": "wrong-password"}),
    }
    auth.login("officer")
    responses.update({
        "portfolio": client.get("/"),
        "project page": client.get(f"/projects/{demo}"),
        "htmx fragment": client.get(f"/projects/{demo}/logframe", headers={"HX-Request": "true"}),
        "403": client.get(f"/projects/{demo}/members"),
        "404 project": client.get("/projects/999999"),
    })
    for where, response in responses.items():
        assert_security_headers(response, where)
    assert "no-store" in responses["portfolio"].headers["Cache-Control"]


def test_every_route_of_the_matrix_sends_the_headers(client, auth, app, demo):
    """Every GET route the app has, as the admin (who may see all), carries the headers."""
    from tests.test_route_matrix import RULES, Visitors

    visitors = Visitors(app)
    admin = visitors.client("admin")
    for endpoint, rule in RULES:
        url = visitors.url(endpoint, rule)
        response = admin.get(url)
        assert_security_headers(response, f"GET {url}")


# ---------------------------------------------------------------------------------------
# Error pages


SECRET = "internal detail /srv/secret.py line 42"


@pytest.fixture
def failing_app(databases, tmp_path):
    """The demo app with a route that crashes, and a 64 KB request limit."""
    application = make_app(databases, tmp_path, MAX_UPLOAD_MB=0, PROPAGATE_EXCEPTIONS=False)

    def crash():
        raise RuntimeError(SECRET)

    crash.access = ("public",)
    application.add_url_rule("/crash-for-test", "crash_for_test", crash)
    yield application
    close_app(databases, application)


def assert_error_page(response, status, title):
    text = response.get_data(as_text=True)
    assert response.status_code == status
    assert f'id="error-{status}"' in text and title in text
    assert 'class="site-header"' in text and "<main" in text  # in the app's layout
    for internal in ("Traceback", "RuntimeError", SECRET, "werkzeug", "sqlalchemy", "jinja2", ".py"):
        assert internal not in text, f"the {status} page reveals {internal!r}"
    assert_security_headers(response, f"{status} page")


def test_error_pages_in_the_layout_reveal_nothing(failing_app, databases, tmp_path):
    client = failing_app.test_client()
    assert_error_page(client.get("/crash-for-test"), 500, "Something went wrong")
    assert_error_page(client.get("/nothing-here"), 404, "Not found")
    assert_error_page(client.post("/login", data={"email": "a@b.c", "password": "x" * 100_000}), 413,
                      "File too large")
    assert client.post("/login", data={"email": "a@b.c", "password": "x" * 1000}).status_code == 422
    email, password = DEMO_PASSWORDS["officer"]
    client.post("/login", data={"email": email, "password": password})
    with failing_app.app_context():
        project_id = db.session.execute(select(Membership.project_id)).scalars().first()
    assert_error_page(client.get(f"/projects/{project_id}/members"), 403, "Not allowed")
    assert_error_page(client.get("/projects/999999"), 404, "Not found")
    # htmx asks: the same message as a fragment, without the layout.
    fragment = client.get("/crash-for-test", headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and b"<html" not in fragment.data and SECRET.encode() not in fragment.data

    csrf = make_app(databases, tmp_path, WTF_CSRF_ENABLED=True)
    try:
        assert_error_page(csrf.test_client().post("/login", data={}), 400, "Form expired")
    finally:
        close_app(databases, csrf)


def test_bad_request_page(client):
    from werkzeug.exceptions import BadRequest

    app = client.application

    def bad():
        raise BadRequest("secret parser state")

    bad.access = ("public",)
    app.add_url_rule("/bad-for-test", "bad_for_test", bad)
    response = client.get("/bad-for-test")
    assert_error_page(response, 400, "Bad request")
    assert b"secret parser state" not in response.data


# ---------------------------------------------------------------------------------------
# Templates the strict CSP can serve


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def test_no_template_needs_inline_script_or_style():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if path.parent.name == "mail":
            # E-mails are read in mail clients, not served under the app's CSP; most clients
            # drop <style> and linked sheets, so their HTML carries inline styles (and no script:
            # checked below).
            if INLINE_SCRIPT.search(path.read_text(encoding="utf-8")):
                problems.append(f"{path.relative_to(ROOT)}: a script in an e-mail")
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in (("inline <script>", INLINE_SCRIPT), ("style attribute", STYLE_ATTRIBUTE),
                              ("event-handler attribute", EVENT_ATTRIBUTE), ("<style> element", STYLE_ELEMENT)):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {name} (blocked by the CSP)")
    assert not problems, "\n".join(problems)
