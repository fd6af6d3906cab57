"""Fixtures: an app with a fresh database per test, a client, a CLI runner, logins.

The database is built once per session through the real migrations (and once more with
the demo loaded), then copied for each test: a file copy on SQLite, ``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL. Set ``TRACKER_TEST_DATABASE_URL`` to a PostgreSQL server URL
(``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``) to run the suite there.

Under pytest-xdist (``make test``) each worker is one process with its own template
databases. Every test gets its own app, built as in production; what the apps of a process
share is only what is slow to build again and the same for all of them: compiled templates,
URL builders and SQL statements. Passwords are hashed with one PBKDF2 round.
"""

import itertools
import os
import shutil
import uuid
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.util import LRUCache

from tracker import create_app, models
from tracker.extensions import db

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, tests marked ``once`` (the catalogue, the layout, the formatting shortcut,
    the Vary headers, escaping, the Vietnamese pages: nothing in them depends on the database) are
    skipped with their reason: the SQLite pass ran them, and make test stays under 10 minutes."""
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="does not depend on the database: checked once, in the SQLite pass")
    for item in items:
        if item.get_closest_marker("once"):
            item.add_marker(skip)


DEMO_PASSWORDS = {
    "admin": ("admin@demo.test", "demo-admin-pass"),
    "manager": ("manager@demo.test", "demo-manager-pass"),
    "officer": ("officer@demo.test", "demo-officer-pass"),
    "liaison": ("liaison@demo.test", "demo-liaison-pass"),
    "auditor": ("auditor@demo.test", "demo-auditor-pass"),
}
# The other_project fixture's own members (not members of the demo project).
OTHER_PROJECT_ACCOUNTS = {
    "other-manager": ("manager@other.test", "other-manager-pass"),
    "other-officer": ("officer@other.test", "other-officer-pass"),
}
ROLES = ("manager", "officer", "liaison", "auditor")
# One PBKDF2 round instead of scrypt: a login costs microseconds, not a tenth of a second.
# The template databases' demo accounts are hashed with it too (see _build); production
# keeps the strong default (tests/test_password_hash.py checks that).
FAST_PASSWORD_HASH = "pbkdf2:sha256:1"
_counter = itertools.count()


class SharedTemplateBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the whole test process.

    Each test builds its own app, and each app its own Jinja environment, which would compile
    every template it renders again from source. Shared bytecode makes that a ``marshal.loads``.
    Jinja checks each entry against the template source's checksum, so an edited template is
    compiled afresh.
    """

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = SharedTemplateBytecode()


def _share_url_builders() -> None:
    """Compile each URL rule's builder once per test process instead of once per test app.

    Werkzeug turns every rule into a small Python function (an AST, then ``compile()``) when
    an app registers it: two per rule, about 30 ms per app, most of the cost of building one.
    The function depends only on the rule's text, its static and dynamic parts and its
    defaults, and reaches the rule's converters through the ``self`` it is bound to, so rules
    that are alike (the same rule in the next test's app) can share it. Test-only: the app
    itself is unchanged.
    """
    from werkzeug.routing.rules import Rule

    original = Rule._compile_builder
    builders = {}

    def compile_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        parts = tuple((False, self._converters[data].to_url(defaults[data]))
                      if dynamic and data in defaults else (dynamic, data) for dynamic, data in self._trace)
        key = (append_unknown, self.rule, parts, tuple(str(name) for name in defaults))
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = original(self, append_unknown)
        return builder

    Rule._compile_builder = compile_builder


_share_url_builders()


class SharedCompiledSQL(LRUCache):
    """One cache of compiled SQL statements for every test app of the process.

    SQLAlchemy keeps compiled statements per engine, keyed by the engine's dialect object, and
    each test's app has a new engine: every test would compile the same SELECTs again (a
    fifth of a page test's time). Here dialects alike (same class, same settings after
    connecting: server version, paramstyle...) count as one, so a statement is compiled once
    per process; it is then run through each engine's own connection and dialect as usual.
    """

    def __init__(self):
        super().__init__(capacity=5000)
        self._alike: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._representatives: dict = {}

    def _key(self, key):
        dialect = key[0]
        representative = self._alike.get(dialect)
        if representative is None:
            settings = tuple(sorted((name, repr(value)) for name, value in vars(dialect).items()
                                    if isinstance(value, bool | int | float | str | tuple | type(None))))
            representative = self._representatives.setdefault((type(dialect), settings), dialect)
            self._alike[dialect] = representative
        return (representative, *key[1:])

    def get(self, key, default=None):
        return super().get(self._key(key), default)

    def __getitem__(self, key):
        return super().__getitem__(self._key(key))

    def __setitem__(self, key, value):
        super().__setitem__(self._key(key), value)


COMPILED_SQL = SharedCompiledSQL()


def _build(url: str, instance: Path, with_demo: bool) -> None:
    from flask_migrate import upgrade

    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "build",
                          "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH})
    finally:
        os.environ.pop("TRACKER_INSTANCE_PATH", None)
    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "tracker" / "migrations"))
        if with_demo:
            from tracker.demo.loader import load_demo

            load_demo()
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


class SqliteDatabases:
    dialect = "sqlite"

    def __init__(self, root: Path):
        self.root = root
        self.templates = {}
        for name, demo in (("empty", False), ("demo", True)):
            path = root / f"template-{name}.sqlite3"
            _build(f"sqlite:///{path}", root, demo)
            self.templates[name] = path

    def new(self, kind: str) -> str:
        path = self.root / f"test-{next(_counter)}.sqlite3"
        shutil.copyfile(self.templates[kind], path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


class PostgresDatabases:
    dialect = "postgresql"

    def __init__(self, server_url: str, root: Path):
        self.server = make_url(server_url)
        self.admin = create_engine(self.server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.prefix = f"t{uuid.uuid4().hex[:8]}"
        self.templates = {}
        for name, demo in (("empty", False), ("demo", True)):
            database = f"{self.prefix}_template_{name}"
            self._execute(f'CREATE DATABASE "{database}"')
            _build(self.server.set(database=database).render_as_string(hide_password=False), root, demo)
            self.templates[name] = database

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql))

    def new(self, kind: str) -> str:
        database = f"{self.prefix}_{next(_counter)}"
        self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{self.templates[kind]}"')
        return self.server.set(database=database).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        for database in self.templates.values():
            self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    root = tmp_path_factory.mktemp("databases")
    if PG_URL:
        store = PostgresDatabases(PG_URL, root)
        yield store
        store.close()
    else:
        yield SqliteDatabases(root)


def make_app(databases, tmp_path, kind="demo", **overrides):
    url = databases.new(kind)
    instance = tmp_path / f"instance-{next(_counter)}"
    instance.mkdir()
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test-secret",
        "UPLOAD_DIR": str(instance / "evidence"),
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,
    }
    config.update(overrides)
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app(config)
    finally:
        os.environ.pop("TRACKER_INSTANCE_PATH", None)
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE
    with app.app_context():
        db.engine._compiled_cache = COMPILED_SQL
    app.test_database_url = url
    return app


def close_app(databases, app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(app.test_database_url)


@contextmanager
def running_app(databases, tmp_path, kind="demo", **overrides):
    """``make_app`` for the length of a block (a fixture's body), closed at its end."""
    app = make_app(databases, tmp_path, kind, **overrides)
    try:
        yield app
    finally:
        close_app(databases, app)


@pytest.fixture
def app(databases, tmp_path):
    """The app on a fresh database holding the demo project and its accounts."""
    with running_app(databases, tmp_path) as application:
        yield application


@pytest.fixture
def empty_app(databases, tmp_path):
    """The app on a fresh, migrated database with no data at all."""
    with running_app(databases, tmp_path, kind="empty") as application:
        yield application


@pytest.fixture
def csrf_app(databases, tmp_path):
    """The demo app with CSRF protection on, as in production."""
    with running_app(databases, tmp_path, WTF_CSRF_ENABLED=True) as application:
        yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, role: str = "manager"):
        """Log in as a demo role, or as "other-manager"/"other-officer" (see other_project)."""
        email, password = DEMO_PASSWORDS.get(role) or OTHER_PROJECT_ACCOUNTS[role]
        response = self.client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 303, f"login as {role} failed: {response.status_code}"
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def demo(app):
    """The demo project's id and a few of its rows' ids, for building URLs."""
    from tracker.demo.loader import demo_project

    with app.app_context():
        return demo_project().id


@dataclass(frozen=True)
class OtherProject:
    """Ids of the other_project fixture's rows."""

    id: int
    manager_id: int
    officer_id: int
    result_id: int
    indicator_id: int
    period_id: int
    activity_id: int
    line_id: int


@pytest.fixture
def other_project(app) -> OtherProject:
    """A second project beside the demo, for "another project's row" checks (404s).

    None of the demo accounts is a member of it (admins see every project all the same). It
    has its own manager and officer (``auth.login("other-manager")``), one result, an indicator
    with one period, an activity and a budget line.
    """
    with app.app_context():
        project = models.Project(code="OTHER", title="Another project", donor="Another donor",
                                 grant_cents=10_000_00, currency="USD", start_date=date(2016, 1, 1),
                                 end_date=date(2017, 12, 31))
        db.session.add(project)
        db.session.flush()
        members = {}
        for role in ("manager", "officer"):
            email, password = OTHER_PROJECT_ACCOUNTS[f"other-{role}"]
            user = models.User(email=email, name=f"The other project's {role}")
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
            db.session.add(models.Membership(user_id=user.id, project_id=project.id, role=role))
            members[role] = user.id
        result = models.ResultNode(project_id=project.id, level="objective", code="1",
                                   statement="Another objective")
        db.session.add(result)
        db.session.flush()
        indicator = models.Indicator(project_id=project.id, result_id=result.id, code="Z",
                                     title="Another indicator")
        activity = models.Activity(project_id=project.id, result_id=result.id, code="X1",
                                   title="Another activity", planned_start=date(2016, 1, 1),
                                   planned_end=date(2016, 12, 31))
        line = models.BudgetLine(project_id=project.id, code="OL1", description="Another budget line",
                                 original_cents=5_000_00)
        db.session.add_all([indicator, activity, line])
        db.session.flush()
        period = models.IndicatorPeriod(project_id=project.id, indicator_id=indicator.id,
                                        start_date=date(2016, 1, 1), end_date=date(2016, 6, 30))
        db.session.add(period)
        db.session.commit()
        return OtherProject(id=project.id, manager_id=members["manager"], officer_id=members["officer"],
                            result_id=result.id, indicator_id=indicator.id, period_id=period.id,
                            activity_id=activity.id, line_id=line.id)
