"""Every route, for every kind of visitor: the status a GET and a POST get, and that a
forbidden POST changes nothing.

The expected status is computed from what the view declares (``view.access``, set by the
decorators in tracker/permissions.py) and the PERMISSIONS table:

- anonymous: 302 to /login (public views: answered normally);
- a logged-in user without a membership: 404 on project URLs (the project's existence does
  not leak), 403 on admin pages;
- a member whose role lacks the action: 403;
- a member whose role has it, and admins: answered (not 401/403/404/405/500);
- a method the rule does not accept: 405.

The routes are read from ``app.url_map``, so a route added later is covered without touching
this file. A view without a declared access, or a URL argument that tests/route_args.py does
not know, fails with a message saying what to add.

Logging in goes through the session (the same keys Flask-Login writes) rather than the
login form, so the matrix does not pay for password hashing hundreds of times; the login
form itself is tested in tests/test_accounts.py.
"""

import hashlib
import os
import tempfile

import pytest
from flask_login.utils import _create_identifier
from sqlalchemy import select, text

from tests.conftest import close_app, make_app
from tests.route_args import ARGS, ENDPOINT_ARGS, value_for
from tracker import create_app
from tracker.accounts.routes import AUTH_HASH_KEY, auth_hash
from tracker.extensions import db
from tracker.models import Project, User
from tracker.permissions import PERMISSIONS

ROLES = ("manager", "officer", "liaison", "auditor")
VISITORS = ("anonymous", "outsider", *ROLES, "admin")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ANSWERED_BADLY = {401, 403, 404, 405, 500}
OUTSIDER_EMAIL = "outsider@example.test"


def _rules():
    """The app's rules, read once at collection time from an app without a database."""
    with tempfile.TemporaryDirectory() as instance:
        os.environ["TRACKER_INSTANCE_PATH"] = instance
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "matrix", "TESTING": True})
        finally:
            os.environ.pop("TRACKER_INSTANCE_PATH", None)
        return sorted(((rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                       if rule.endpoint != "static"))


RULES = _rules()


def expected_status(access: tuple, visitor: str) -> str:
    """'login' (302 to /login), 'answered', or an error status as text."""
    kind = access[0]
    if kind == "public":
        return "answered"
    if visitor == "anonymous":
        return "login"
    if kind == "login" or visitor == "admin":
        return "answered"
    if kind == "admin":
        return "403"
    if kind == "project":
        if visitor == "outsider":
            return "404"
        return "answered" if visitor in PERMISSIONS[access[1]] else "403"
    raise AssertionError(f"unknown access declaration {access!r}")


def snapshot() -> str:
    """A digest of every table's content: any insert, update or delete changes it."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        order = [column for column in table.primary_key.columns] or list(table.columns)
        for row in db.session.execute(select(table).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|" + table.name.encode())
    db.session.rollback()
    return digest.hexdigest()


class Visitors:
    """Clients logged in as each kind of visitor on one app (the session keys the login
    view writes: Flask-Login's and the password fingerprint)."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            users = dict(db.session.execute(select(User.email, User.id)).all())
            if OUTSIDER_EMAIL not in users:
                outsider = User(email=OUTSIDER_EMAIL, name="Someone from elsewhere", password_hash="!unusable")
                db.session.add(outsider)
                db.session.commit()
                users[OUTSIDER_EMAIL] = outsider.id
            self.project_id = db.session.execute(select(Project.id).order_by(Project.id)).scalars().first()
        self.user_ids = {"anonymous": None, "outsider": users[OUTSIDER_EMAIL], "admin": users["admin@demo.test"]}
        for role in ROLES:
            self.user_ids[role] = users[f"{role}@demo.test"]
        self.clients = {}

    def client(self, visitor: str):
        if visitor not in self.clients:
            client = self.app.test_client()
            user_id = self.user_ids[visitor]
            if user_id is not None:
                with self.app.test_request_context(environ_base=client.environ_base):
                    identifier = _create_identifier()
                    fingerprint = auth_hash(db.session.get(User, user_id))
                    db.session.rollback()
                with client.session_transaction() as session:
                    session.update({"_user_id": str(user_id), "_fresh": True, "_id": identifier,
                                    AUTH_HASH_KEY: fingerprint})
            self.clients[visitor] = client
        return self.clients[visitor]

    def url(self, endpoint: str, rule_text: str) -> str:
        rule = find_rule(self.app, endpoint, rule_text)
        with self.app.app_context():
            values = {}
            for name in sorted(rule.arguments):
                try:
                    values[name] = value_for(endpoint, name, db.session, self.project_id)
                except KeyError:
                    pytest.fail(
                        f"The route {rule.rule} ({endpoint}) has the URL argument {name!r}, which "
                        f"tests/route_args.py does not know. Add ARGS[{name!r}] = a function "
                        f"(session, project_id) -> a demo value (or an ENDPOINT_ARGS[{endpoint!r}] entry).")
            db.session.rollback()
        _domain, path = rule.build(values, append_unknown=False)
        return path

    def snapshot(self) -> str:
        with self.app.app_context():
            return snapshot()


def find_rule(app, endpoint: str, rule_text: str):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)


def check(response, expected: str, where: str) -> None:
    status = response.status_code
    if expected == "login":
        assert status == 302 and response.location.split("?")[0].endswith("/login"), (
            f"{where}: expected a redirect to /login, got {status} {response.location}")
    elif expected == "answered":
        assert status not in ANSWERED_BADLY, f"{where}: expected an answer, got {status}"
        assert not (status == 302 and "/login" in (response.location or "")), (
            f"{where}: expected an answer, got sent to the login page")
    else:
        assert status == int(expected), f"{where}: expected {expected}, got {status}"


def test_every_view_declares_its_access(app):
    missing = [f"{endpoint} ({rule})" for endpoint, rule in RULES
               if getattr(app.view_functions[endpoint], "access", None) is None]
    assert not missing, (
        "These views declare no access; decorate each with one of @requires('action'), @logged_in, "
        "@admin_only or @public from tracker.permissions: " + ", ".join(missing))


def test_every_url_argument_has_a_demo_value(app):
    known = set(ARGS)
    missing = sorted({f"{name} (in {rule.rule})" for rule in app.url_map.iter_rules()
                      if rule.endpoint != "static" for name in rule.arguments
                      if name not in known and name not in ENDPOINT_ARGS.get(rule.endpoint, {})})
    assert not missing, ("Add these URL arguments to ARGS in tests/route_args.py (a function returning a "
                         "demo value): " + ", ".join(missing))


def test_project_actions_are_known():
    for action, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), f"{action} names an unknown role"


class SharedApp:
    """One demo app shared by the matrix's tests, replaced whenever a request changed its
    database (a permitted removal, say), so each test starts from the demo as loaded."""

    def __init__(self, databases, root):
        self.databases, self.root, self.app, self.visitors = databases, root, None, None

    def fresh(self) -> Visitors:
        self.close()
        self.app = make_app(self.databases, self.root)
        self.visitors = Visitors(self.app)
        self.baseline = self.visitors.snapshot()
        return self.visitors

    def current(self) -> Visitors:
        """The shared app, with new clients (a previous test may have logged one out)."""
        if self.app is None or self.visitors.snapshot() != self.baseline:
            return self.fresh()
        self.visitors.clients = {}
        return self.visitors

    def close(self):
        if self.app is not None:
            close_app(self.databases, self.app)
            self.app = None


@pytest.fixture(scope="module")
def shared_app(databases, tmp_path_factory):
    holder = SharedApp(databases, tmp_path_factory.mktemp("matrix"))
    yield holder
    holder.close()


@pytest.mark.parametrize(("endpoint", "rule"), RULES, ids=[f"{endpoint}:{rule}" for endpoint, rule in RULES])
def test_route_matrix(shared_app, endpoint, rule):
    """GET and POST (and any other method the rule takes) for each visitor."""
    visitors = shared_app.current()
    app = visitors.app
    view = app.view_functions[endpoint]
    access = getattr(view, "access", None)
    assert access is not None, (
        f"The view {endpoint} ({rule}) declares no access: decorate it with @requires('action'), "
        "@logged_in, @admin_only or @public (tracker/permissions.py).")
    if access[0] == "project":
        assert access[1] in PERMISSIONS, f"{endpoint} needs {access[1]!r}, which PERMISSIONS does not list"
    url_rule = find_rule(app, endpoint, rule)
    url = visitors.url(endpoint, rule)
    before = visitors.snapshot()

    # Visitors who may not use the route go first: nothing they send may change anything.
    refused = [v for v in VISITORS if expected_status(access, v) != "answered"]
    permitted = [v for v in VISITORS if expected_status(access, v) == "answered"]
    for visitor in refused:
        expected = expected_status(access, visitor)
        for method in METHODS:
            if method not in url_rule.methods and method not in ("GET", "POST"):
                continue
            response = visitors.client(visitor).open(url, method=method)
            where = f"{method} {url} as {visitor}"
            if method not in url_rule.methods:
                assert response.status_code == 405, f"{where}: expected 405, got {response.status_code}"
            else:
                check(response, expected, where)
            if method != "GET":
                assert visitors.snapshot() == before, f"{where} was refused but changed the database"

    # Visitors who may: GET, then the other methods. A POST that changed something
    # (a removal, say) gets the next visitor a fresh database to act on.
    for visitor in permitted:
        for method in METHODS:
            if method not in url_rule.methods and method not in ("GET", "POST"):
                continue
            if method != "GET":
                before = visitors.snapshot()
            response = visitors.client(visitor).open(url, method=method)
            where = f"{method} {url} as {visitor}"
            if method not in url_rule.methods:
                assert response.status_code == 405, f"{where}: expected 405, got {response.status_code}"
                continue
            check(response, "answered", where)
            if method != "GET" and visitors.snapshot() != before:
                visitors = shared_app.fresh()
                url = visitors.url(endpoint, rule)


def test_matrix_sees_a_forbidden_change(app):
    """The snapshot notices a change (so 'nothing changed' above means something)."""
    with app.app_context():
        before = snapshot()
        db.session.execute(text("UPDATE activity SET title = title || '!' WHERE id = (SELECT MIN(id) FROM activity)"))
        db.session.commit()
        assert snapshot() != before


def test_matrix_visitors_are_who_they_claim(app):
    """The session-based login of the matrix really logs each visitor in, with their role."""
    visitors = Visitors(app)
    assert visitors.client("anonymous").get("/").status_code == 302
    for visitor in ("outsider", *ROLES, "admin"):
        assert visitors.client(visitor).get("/").status_code == 200, visitor
    members = f"/projects/{visitors.project_id}/members"
    assert visitors.client("manager").get(members).status_code == 200
    assert visitors.client("officer").get(members).status_code == 403
    assert visitors.client("outsider").get(members).status_code == 404
