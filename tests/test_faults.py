"""The database goes away or turns read-only while the app runs.

Pages answer 503 with a clear message (full pages and htmx fragments, reads and writes,
and /healthz), nothing is half-written, and the app serves again once the database is back.

The faults are real driver conditions, not mocks:
- SQLite read-only: new connections open the same file with ``?mode=ro`` (reads work, every
  write fails with "attempt to write a readonly database"); unreachable: new connections open
  a path in a folder that does not exist ("unable to open database file"). The pool is
  emptied so no old connection hides the fault. (Tests run as root, where chmod would not
  stop a write.)
- PostgreSQL read-only: ``ALTER DATABASE ... SET default_transaction_read_only = on`` and the
  app's sessions are ended so new ones pick it up; unreachable: ``ALLOW_CONNECTIONS false``
  and every session on the database terminated.
"""

import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import DEMO_PASSWORDS
from tracker.extensions import db
from tracker.models import AuditEvent, LoginAttempt, Membership, User

UNAVAILABLE = "Database unavailable"


class Faults:
    """Switch the app's database between normal, read-only and unreachable."""

    def __init__(self, app, databases):
        self.app = app
        self.databases = databases
        self.mode = "normal"
        with app.app_context():
            self.engine = db.engine
        self.url = make_url(app.test_database_url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "do_connect", self._sqlite_connect)

    # SQLite: decide how each new DBAPI connection is opened.
    def _sqlite_connect(self, _dialect, _record, cargs, cparams):
        if self.mode == "read-only":
            return sqlite3.connect(f"file:{self.url.database}?mode=ro", uri=True, **cparams)
        if self.mode == "unreachable":
            missing = Path(self.url.database).parent / "unmounted-volume" / "tracker.sqlite3"
            return sqlite3.connect(str(missing), **cparams)
        return None  # the normal connect

    def _pg(self, sql: str) -> None:
        with self.databases.admin.connect() as connection:
            connection.execute(text(sql))

    def _end_pg_sessions(self) -> None:
        self._pg(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 f"WHERE datname = '{self.url.database}' AND pid <> pg_backend_pid()")

    def set(self, mode: str) -> None:
        name = self.url.database
        if self.engine.dialect.name == "postgresql":
            read_only = "on" if mode == "read-only" else "off"
            allow = "false" if mode == "unreachable" else "true"
            self._pg(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {read_only}')
            self._pg(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allow}')
            self._end_pg_sessions()
        self.mode = mode
        self.engine.pool.dispose()  # an old pooled connection would hide the fault

    @contextlib.contextmanager
    def __call__(self, mode: str):
        self.set(mode)
        try:
            yield
        finally:
            self.set("normal")


@pytest.fixture
def faults(app, databases):
    return Faults(app, databases)


def logged_in_client(app, role="officer"):
    client = app.test_client()
    email, password = DEMO_PASSWORDS[role]
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 303
    return client


def snapshot(app) -> dict:
    with app.app_context():
        result = {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar()
                  for model in (User, Membership, LoginAttempt, AuditEvent)}
        db.session.remove()
        return result


def assert_unavailable(response, htmx=False):
    assert response.status_code == 503, response.status_code
    body = response.get_data(as_text=True)
    assert UNAVAILABLE in body and "Nothing was saved" in body
    if htmx:
        assert "<html" not in body  # a fragment, not a whole page
    else:
        assert "<html" in body


@pytest.mark.parametrize("mode", ["read-only", "unreachable"])
def test_a_failed_write_answers_503_and_changes_nothing(app, demo, faults, mode):
    client = logged_in_client(app, "manager")
    before = snapshot(app)
    with faults(mode):
        response = client.post(f"/projects/{demo}/members", data={"email": "admin@demo.test", "role": "auditor"})
        assert_unavailable(response)
        response = client.post(f"/projects/{demo}/members", data={"email": "admin@demo.test", "role": "auditor"},
                               headers={"HX-Request": "true"})
        assert_unavailable(response, htmx=True)
    assert snapshot(app) == before
    # The database is back: the same request now works.
    response = client.post(f"/projects/{demo}/members", data={"email": "admin@demo.test", "role": "auditor"})
    assert response.status_code == 303
    assert snapshot(app)["Membership"] == before["Membership"] + 1


def test_pages_read_fine_while_the_database_is_read_only(app, demo, faults):
    client = logged_in_client(app)
    with faults("read-only"):
        for path in ("/", f"/projects/{demo}", f"/projects/{demo}/logframe"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        assert client.get("/healthz").status_code == 200


def test_pages_answer_503_while_the_database_is_unreachable_and_recover(app, demo, faults):
    client = logged_in_client(app)
    paths = ("/", f"/projects/{demo}", f"/projects/{demo}/logframe")
    with faults("unreachable"):
        for path in paths:
            assert_unavailable(client.get(path))
            assert_unavailable(client.get(path, headers={"HX-Request": "true"}), htmx=True)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "not answering"
        # The login form needs no database to show; sending it gets the clear 503.
        visitor = app.test_client()
        assert visitor.get("/login").status_code == 200
        email, password = DEMO_PASSWORDS["officer"]
        assert_unavailable(visitor.post("/login", data={"email": email, "password": password}))
    for path in paths:
        assert client.get(path).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("mode", ["read-only", "unreachable"])
def test_logging_in_during_a_fault_answers_503_and_records_nothing(app, faults, mode):
    before = snapshot(app)
    client = app.test_client()
    email, password = DEMO_PASSWORDS["officer"]
    with faults(mode):
        assert_unavailable(client.post("/login", data={"email": email, "password": password}))
    assert snapshot(app) == before
    assert client.post("/login", data={"email": email, "password": password}).status_code == 303


def test_the_audit_chain_is_whole_after_writes_failed_half_way(app, demo, faults, runner):
    client = logged_in_client(app, "manager")
    with faults("read-only"):
        for role in ("auditor", "liaison", "officer"):
            client.post(f"/projects/{demo}/members", data={"email": "admin@demo.test", "role": role})
    assert client.post(f"/projects/{demo}/members",
                       data={"email": "admin@demo.test", "role": "liaison"}).status_code == 303
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def test_the_app_reconnects_by_itself_after_the_database_server_restarts(app, demo, faults):
    """PostgreSQL: every session is ended (as by a server restart); pooled connections are dead."""
    if faults.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite file has no server whose restart could end a connection")
    client = logged_in_client(app)
    assert client.get(f"/projects/{demo}").status_code == 200  # a connection sits in the pool
    faults._end_pg_sessions()
    assert client.get(f"/projects/{demo}").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_fault_between_two_statements_of_one_save_leaves_neither(app, demo):
    """The membership row is inserted, then the disk fails as its audit event is written."""
    client = logged_in_client(app, "manager")
    before = snapshot(app)
    with app.app_context():
        engine = db.engine
    driver_error = engine.dialect.loaded_dbapi.OperationalError
    seen = []

    def fail_on_audit_insert(_conn, _cursor, statement, _parameters, _context, _many):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            seen.append(statement)
            raise driver_error("disk I/O error")

    event.listen(engine, "before_cursor_execute", fail_on_audit_insert)
    try:
        response = client.post(f"/projects/{demo}/members", data={"email": "admin@demo.test", "role": "auditor"})
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_audit_insert)
    assert seen, "the audit insert never ran: the test proved nothing"
    assert_unavailable(response)
    assert snapshot(app) == before
    assert client.post(f"/projects/{demo}/members",
                       data={"email": "admin@demo.test", "role": "auditor"}).status_code == 303


# The main saves of each area, through their real forms: (role, page, form action end, changes).
AREA_SAVES = {
    "weekly log": ("officer", "/projects/{p}/activities/{a}/log?week=2016-W48", "/activities/{a}/log",
                   {"status": "on_track", "percent_complete": "55", "done": "Hội thảo ở Huế"}),
    "indicator actual": ("officer", "/projects/{p}/indicators/periods/{period}", "/periods/{period}/actual", {"value": "yes"}),
    "expenditure": ("officer", "/projects/{p}/expenditures/new", "/expenditures/new",
                    {"line_id": "1", "spent_on": "2016-11-24", "amount": "10.00", "voucher": "FAULT-1",
                     "payee": "Khách sạn Huế"}),
    "evidence review": ("auditor", "/projects/{p}/evidence/{e}", "/evidence/{e}/review",
                        {"decision": "queried", "note": "Thiếu chữ ký"}),
}


@pytest.mark.parametrize("mode", ["read-only", "unreachable"])
@pytest.mark.parametrize("save", sorted(AREA_SAVES))
def test_each_areas_save_answers_503_during_a_fault_and_works_after(app, demo, faults, save, mode):
    from bench.html_forms import find_form, set_field
    from tracker.models import Activity, EvidenceItem, IndicatorPeriod

    role, page, action, changes = AREA_SAVES[save]
    with app.app_context():
        ids = {"p": demo,
               "a": db.session.execute(select(Activity.id).where(Activity.code == "A1.1")).scalar(),
               "period": db.session.execute(select(IndicatorPeriod.id).where(IndicatorPeriod.state == "draft")
                                            .order_by(IndicatorPeriod.id)).scalars().first(),
               "e": db.session.execute(select(EvidenceItem.id).order_by(EvidenceItem.id)).scalars().first()}
        db.session.remove()
    client = logged_in_client(app, role)
    response = client.get(page.format(**ids))
    assert response.status_code == 200
    form = find_form(response.get_data(as_text=True), action.format(**ids))
    assert form is not None, f"no form posting to {action.format(**ids)}"
    for name, value in changes.items():
        set_field(form, name, value)
    data = form["fields"]
    before = full_snapshot(app)
    with faults(mode):
        assert_unavailable(client.post(form["action"], data=data))
        assert_unavailable(client.post(form["action"], data=data, headers={"HX-Request": "true"}), htmx=True)
    assert full_snapshot(app) == before, f"{save}: the failed save left something behind"
    assert client.post(form["action"], data=data).status_code == 303, f"{save}: not saved once the database was back"
    assert full_snapshot(app) != before


def full_snapshot(app) -> dict:
    """Row counts of every table (the audit trail's count catches every change to tracked rows)."""
    with app.app_context():
        counts = {table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
                  for table in db.metadata.sorted_tables}
        db.session.remove()
        return counts


def test_a_number_too_large_for_any_column_is_a_clear_400_and_changes_nothing(app, client, auth, demo):
    """The last guard behind the forms' own checks: no 500 for an id of 2**31 or 2**63."""
    from sqlalchemy import func, select

    from tracker.extensions import db
    from tracker.models import Activity, AuditEvent

    auth.login("manager")  # (the login itself is an audit event)
    with app.app_context():
        before = (db.session.execute(select(func.count()).select_from(Activity)).scalar(),
                  db.session.execute(select(func.max(AuditEvent.id))).scalar())
    response = client.post(f"/projects/{demo}/activities/new",
                           data={"result_id": str(2**63), "code": "A9", "title": "Too large"})
    assert response.status_code in (400, 404, 422)
    assert response.status_code != 500
    with app.app_context():
        after = (db.session.execute(select(func.count()).select_from(Activity)).scalar(),
                 db.session.execute(select(func.max(AuditEvent.id))).scalar())
    assert after == before
