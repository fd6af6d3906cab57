"""Running it for real (docs/deployment.md): what only shows in production.

- sessions survive a change of address; forms work behind a proxy on any port; a login over
  plain HTTP with secure cookies on says why it cannot work;
- a database that hangs costs /healthz a quick 503, not a hung worker;
- files under instance/ are private whatever the umask;
- export files: direct downloads leave nothing behind, a background job whose worker died is
  marked failed and the page stops polling;
- copy-database, the two database roles and the deployment guide itself, on PostgreSQL
  (``TRACKER_TEST_DATABASE_URL``, else a throwaway cluster started here).
"""

import contextlib
import io
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import DEMO_PASSWORDS, close_app, make_app, running_app
from tracker import create_app
from tracker.extensions import db

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(response) -> str:
    match = TOKEN.search(response.get_data(as_text=True))
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def proxied_app(databases, tmp_path):
    """As behind nginx: one trusted proxy, CSRF on, secure cookies on."""
    with running_app(databases, tmp_path, WTF_CSRF_ENABLED=True, PROXY_COUNT=1,
                     SESSION_COOKIE_SECURE=True) as application:
        yield application


# --- Sessions and forms behind a proxy --------------------------------------------------------

def test_session_protection_is_basic_by_default(app):
    assert app.config["SESSION_PROTECTION"] == "basic"


def test_a_new_address_does_not_log_a_field_officer_out(client, auth):
    auth.login("officer")
    on_wifi = client.get("/", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert on_wifi.status_code == 200
    on_4g = client.get("/", environ_base={"REMOTE_ADDR": "198.51.100.77"})
    assert on_4g.status_code == 200  # still logged in (a visitor is sent to /login)
    assert client.get("/", environ_base={"REMOTE_ADDR": "198.51.100.77"}).status_code == 200


def test_strong_session_protection_can_still_be_chosen(databases, tmp_path):
    app = make_app(databases, tmp_path, SESSION_PROTECTION="strong")
    try:
        client = app.test_client()
        email, password = DEMO_PASSWORDS["officer"]
        client.post("/login", data={"email": email, "password": password},
                    environ_base={"REMOTE_ADDR": "192.0.2.10"})
        assert client.get("/", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 200
        moved = client.get("/", environ_base={"REMOTE_ADDR": "198.51.100.77"})
        assert moved.status_code in (302, 303) and "/login" in moved.headers["Location"]
    finally:
        close_app(databases, app)


@pytest.mark.parametrize("forwarded", [
    {"X-Forwarded-Host": "tracker.example.org:8443"},
    {"X-Forwarded-Host": "tracker.example.org", "X-Forwarded-Port": "8443"},
], ids=["host-with-port", "x-forwarded-port"])
def test_login_works_behind_a_proxy_on_another_port(proxied_app, forwarded):
    client = proxied_app.test_client()
    headers = {"X-Forwarded-For": "203.0.113.20", "X-Forwarded-Proto": "https", **forwarded}
    page = client.get("/login", base_url="http://127.0.0.1:8000", headers=headers)
    assert page.status_code == 200
    email, password = DEMO_PASSWORDS["officer"]
    response = client.post("/login", base_url="http://127.0.0.1:8000",
                           data={"email": email, "password": password, "csrf_token": csrf_token(page)},
                           headers={**headers, "Referer": "https://tracker.example.org:8443/login"})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(("/", "https://tracker.example.org:8443/"))


def test_login_behind_a_proxy_on_443_with_the_default_port_spelled_out(proxied_app):
    client = proxied_app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tracker.example.org", "X-Forwarded-Port": "443"}
    page = client.get("/login", base_url="http://127.0.0.1:8000", headers=headers)
    email, password = DEMO_PASSWORDS["officer"]
    response = client.post("/login", base_url="http://127.0.0.1:8000",
                           data={"email": email, "password": password, "csrf_token": csrf_token(page)},
                           headers={**headers, "Referer": "https://tracker.example.org/login"})
    assert response.status_code == 303


def test_a_login_over_plain_http_with_secure_cookies_says_https_is_needed(proxied_app):
    # The browser does not send a Secure cookie back over http://, so the form's session is gone.
    client = proxied_app.test_client()
    page = client.get("/login", base_url="http://tracker.example.org")
    client.delete_cookie("session", domain="tracker.example.org")
    client.delete_cookie("session")
    email, password = DEMO_PASSWORDS["officer"]
    response = client.post("/login", base_url="http://tracker.example.org",
                           data={"email": email, "password": password, "csrf_token": csrf_token(page)})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "HTTPS needed" in body and "TRACKER_SECURE_COOKIES" in body and "Form expired" not in body


# --- A database that hangs --------------------------------------------------------------------

class SilentDatabase:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.sock.close()
        for connection in self.held:
            connection.close()


def test_the_postgresql_engine_gets_connect_and_statement_timeouts(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tracker@127.0.0.1:9/tracker",
                      "TESTING": True, "SECRET_KEY": "x"})
    connect_args = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert connect_args["connect_timeout"] == 5
    assert connect_args["options"] == "-c statement_timeout=30000"
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_healthz_answers_503_quickly_when_the_database_hangs(tmp_path, monkeypatch):
    silent = SilentDatabase()
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_DB_CONNECT_TIMEOUT", "3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://tracker@127.0.0.1:{silent.port}/tracker",
                      "TESTING": True, "SECRET_KEY": "x"})
    answers = []
    probe = threading.Thread(target=lambda: answers.append(app.test_client().get("/healthz")), daemon=True)
    try:
        probe.start()
        probe.join(timeout=60)  # generous: a hang fails the test instead of blocking the suite
        assert not probe.is_alive(), "/healthz still hanging after 60 s"
        assert answers and answers[0].status_code == 503
        assert answers[0].get_json()["database"] == "not answering"
        assert silent.held, "the app never reached the silent server"
    finally:
        silent.close()
        with app.app_context():
            db.engine.dispose()


def test_the_statement_timeout_is_in_force_on_the_connection(app):
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert db.session.execute(text("SHOW statement_timeout")).scalar() == "30s"
        else:  # SQLite waits for its write lock instead (tracker/database.py)
            assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 20000


# --- Private files ----------------------------------------------------------------------------

def test_files_the_app_creates_under_instance_are_private_whatever_the_umask(tmp_path, monkeypatch):
    from flask_migrate import upgrade
    from werkzeug.datastructures import FileStorage

    from tracker.evidence import storage
    from tracker.exports import jobs

    instance = tmp_path / "srv" / "instance"
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(instance))
    previous = os.umask(0o022)
    try:
        app = create_app({"TESTING": True})  # default SQLite file, generated key, default folders
        with app.app_context():
            upgrade(directory=str(Path(__file__).parent.parent / "tracker" / "migrations"))
            with app.test_request_context():
                storage.store_upload(FileStorage(io.BytesIO(b"Workshop notes\n"), filename="notes.txt"))
                db.session.commit()
            jobs.save(jobs.jobs_dir(app), jobs.Job(id="j" * 20, project_id=1, user_id=None))
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(previous)

    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "tracker.sqlite3") == 0o600
    assert mode(instance / "evidence") == 0o700
    assert mode(instance / "exports") == 0o700
    assert mode(instance / "exports" / f"{'j' * 20}.json") == 0o600
    created = list(instance.rglob("*"))
    assert len(created) > 5
    for path in created:
        assert mode(path) & 0o007 == 0, f"{path} is open to others ({oct(mode(path))})"
        if path.is_dir():
            assert mode(path) == 0o700, f"{path} is {oct(mode(path))}"


# --- Export files -----------------------------------------------------------------------------

def test_a_direct_workbook_download_leaves_nothing_in_instance_exports(app, client, auth, demo):
    from tracker.exports import jobs

    auth.login("liaison")
    response = client.get(f"/projects/{demo}/export.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    response.close()
    with app.app_context():
        left = [path.name for path in jobs.jobs_dir(app).iterdir()]
    assert left == []


def test_a_background_export_carries_a_heartbeat(app, client, auth, demo):
    from tracker.exports import jobs

    auth.login("liaison")
    page = client.post(f"/projects/{demo}/export/jobs")
    assert page.status_code == 303
    job_id = page.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    with app.app_context():
        job = jobs.wait(job_id)
    assert job.state == "done" and job.heartbeat > time.time() - 120


def _stuck_job(app, demo, heartbeat_age: float):
    from tracker.exports import jobs

    with app.app_context():
        job = jobs.Job(id="stuck-job-" + "x" * 12, project_id=demo, user_id=None, state="running", done=10,
                       total=100, heartbeat=time.time() - heartbeat_age)
        jobs.save(jobs.jobs_dir(app), job)
        (jobs.jobs_dir(app) / f"{job.id}.xlsx.part").write_bytes(b"half a workbook")
    return job


def test_a_job_whose_worker_died_is_marked_failed_and_the_page_stops_polling(app, client, auth, demo):
    from tracker.exports import jobs

    job = _stuck_job(app, demo, heartbeat_age=3600)  # "running 10%" for an hour: its process is gone
    auth.login("liaison")
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get(f"/projects/{demo}/export/jobs/{job.id}", headers=headers)
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "the server stopped while preparing it" in body and "start the export again" in body
        job_part = body[body.index('id="export-job"'):]  # the header's inbox badge polls on its own
        assert "hx-trigger" not in job_part
    with app.app_context():
        assert jobs.load(job.id).state == "failed"
        assert not (jobs.jobs_dir(app) / f"{job.id}.xlsx.part").exists()
    full_page = client.get(f"/projects/{demo}/export/jobs/{job.id}").get_data(as_text=True)
    assert f'href="/projects/{demo}/exports"' in full_page  # back to where the export starts again
    assert "Prepare the workbook again" in full_page  # or a retry in place
    retried = client.post(f"/projects/{demo}/export/jobs", headers={"HX-Request": "true"})
    assert retried.status_code == 200 and 'id="export-job"' in retried.get_data(as_text=True)


def test_a_job_with_a_recent_heartbeat_keeps_polling(app, client, auth, demo):
    job = _stuck_job(app, demo, heartbeat_age=2)
    auth.login("liaison")
    body = client.get(f"/projects/{demo}/export/jobs/{job.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in body


# --- PostgreSQL: copy-database and the two roles ----------------------------------------------

FAST_HASH = "pbkdf2:sha256:1"


@pytest.fixture(scope="module")
def pg_server():
    """A PostgreSQL server URL: the suite's (TRACKER_TEST_DATABASE_URL) or a throwaway cluster
    started here. Without either this fails, never skips: these tests are the proof that the
    move to PostgreSQL and the two roles work."""
    from scripts.deployment_check import postgres_server

    try:
        with postgres_server() as url:
            yield url
    except RuntimeError as error:
        pytest.fail(str(error))


class Server:
    def __init__(self, url: str):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def run(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql))

    def database(self, name: str, owner: str | None = None, user: str | None = None) -> str:
        self.run(f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else ""))
        url = self.url.set(database=name)
        if user:
            url = url.set(username=user, password=None)
        return url.render_as_string(hide_password=False)

    def close(self, names=()):
        for name in names:
            self.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def _app_on(url: str, tmp_path: Path, **config):
    instance = tmp_path / f"instance-{abs(hash(url)) % 10**8}"
    instance.mkdir(exist_ok=True)
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    try:
        return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test-secret",
                           "PASSWORD_HASH_METHOD": FAST_HASH, "UPLOAD_DIR": str(instance / "evidence"), **config})
    finally:
        os.environ.pop("TRACKER_INSTANCE_PATH", None)


def _migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "tracker" / "migrations"))
        db.session.remove()


def _counts(app) -> dict[str, int]:
    from sqlalchemy import func, select

    with app.app_context():
        counts = {table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
                  for table in db.metadata.sorted_tables}
        db.session.remove()
    return counts


def _add_user(app, email: str) -> int:
    from tracker.models import User

    with app.app_context():
        user = User(email=email, name="Added after the move")
        user.set_password("a-long-password-for-the-test")
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        db.session.remove()
    return user_id


def _dispose(*apps):
    for application in apps:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_copy_database_moves_everything_from_sqlite_to_postgresql(pg_server, tmp_path):
    from tracker.demo.loader import load_demo

    server = Server(pg_server)
    name = f"copy_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    source = _app_on(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path)
    target_url = server.database(name)
    target = _app_on(target_url, tmp_path)
    try:
        _migrate(source)
        with source.app_context():
            load_demo()
            db.session.commit()
            db.session.remove()
        _add_user(source, "before-the-move@example.org")
        _migrate(target)
        before = _counts(source)
        assert before["audit_event"] > 50 and before["project"] == 1

        result = source.test_cli_runner().invoke(args=["copy-database", target_url])
        assert result.exit_code == 0, result.output
        assert "sequences reset" in result.output and "audit trail verified" in result.output
        assert _counts(target) == before

        verify = target.test_cli_runner().invoke(args=["audit", "verify"])
        assert verify.exit_code == 0 and f"{before['audit_event']} events checked" in verify.output
        # The sequences moved on: the first save after the move gets a new id and chains on.
        new_id = _add_user(target, "after-the-move@example.org")
        assert new_id == before["user"] + 1 if before["user"] else new_id >= 1
        again = target.test_cli_runner().invoke(args=["audit", "verify"])
        assert again.exit_code == 0 and f"{before['audit_event'] + 1} events checked" in again.output

        refused = source.test_cli_runner().invoke(args=["copy-database", target_url])
        assert refused.exit_code != 0 and "not empty" in refused.output
    finally:
        _dispose(source, target)
        server.close([name])


def test_copy_database_refuses_a_target_that_was_not_migrated(pg_server, tmp_path):
    server = Server(pg_server)
    name = f"bare_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    source = _app_on(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path)
    try:
        _migrate(source)
        target_url = server.database(name)
        result = source.test_cli_runner().invoke(args=["copy-database", target_url])
        assert result.exit_code != 0 and "has not been migrated" in result.output
    finally:
        _dispose(source)
        server.close([name])


def test_the_apps_role_may_add_audit_events_but_not_tamper_with_them(pg_server, tmp_path):
    from sqlalchemy.exc import ProgrammingError

    server = Server(pg_server)
    suffix = f"{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    owner, role, name = f"owner_{suffix}", f"app_{suffix}", f"roles_{suffix}"
    server.run(f'CREATE ROLE "{owner}" LOGIN')
    server.run(f'CREATE ROLE "{role}" LOGIN')
    owner_app = _app_on(server.database(name, owner=owner, user=owner), tmp_path)
    app_url = server.url.set(database=name, username=role, password=None).render_as_string(hide_password=False)
    app = _app_on(app_url, tmp_path)
    try:
        _migrate(owner_app)  # the owner runs the migrations...
        granted = owner_app.test_cli_runner().invoke(args=["grant-app-role", role])
        assert granted.exit_code == 0, granted.output  # ...and gives the app's role what it needs
        _add_user(app, "saved-by-the-app@example.org")  # the app writes rows and their audit events
        verify = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert verify.exit_code == 0 and "intact" in verify.output
        assert "may only read and add audit events" in verify.output and "WARNING" not in verify.output
        for statement in ("UPDATE audit_event SET actor_label = 'someone else'", "DELETE FROM audit_event",
                          "TRUNCATE audit_event", "ALTER TABLE audit_event DISABLE TRIGGER ALL",
                          "DROP TRIGGER audit_event_no_update ON audit_event"):
            with app.app_context():
                with pytest.raises(ProgrammingError):
                    db.session.execute(text(statement))
                db.session.rollback()
                db.session.remove()
        # The owner could; audit verify says so when run with the owner's credentials.
        as_owner = owner_app.test_cli_runner().invoke(args=["audit", "verify"])
        assert as_owner.exit_code == 0 and "WARNING" in as_owner.output
        assert f"{owner} owns audit_event" in as_owner.output
    finally:
        _dispose(owner_app, app)
        server.close([name])
        server = Server(pg_server)
        server.run(f'DROP ROLE IF EXISTS "{role}"')
        server.run(f'DROP ROLE IF EXISTS "{owner}"')
        server.close()


# --- The deployment guide, pasted in order ----------------------------------------------------

@pytest.mark.skipif(not os.environ.get("TRACKER_TEST_DATABASE_URL"),
                    reason="the deployment guide is checked once, in the PostgreSQL pass (make test-postgres): "
                           "python scripts/deployment_check.py runs it alone")
def test_the_deployment_guide_works_when_pasted_in_order():
    """docs/deployment.md's checked blocks, in order, on a throwaway cluster of their own with
    gunicorn on loopback; then a login and a save over HTTP, a backup, a restore and an
    upgrade (scripts/deployment_check.py says what it redirects)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "scripts" / "deployment_check.py")], cwd=root,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert "Deployment check passed" in result.stdout
    for step in ("database and roles", "environment file", "first start", "start the server", "backup", "restore",
                 "upgrade"):
        assert step in result.stdout


def test_every_shell_block_of_the_guide_is_checked_or_says_why_not():
    from scripts.deployment_check import guide_blocks

    blocks = guide_blocks()
    run = [block.name for block in blocks if not block.skipped]
    assert {"database and roles", "environment file", "first start", "administrator", "start the server",
            "backup", "restore", "upgrade"} <= set(run)
    for block in blocks:
        if block.skipped:
            assert re.match(r"skip \(.+\)$", block.name), f"a skipped block must say why: {block.name}"


def test_the_guide_has_no_inline_comment_in_its_environment_file_and_sets_the_umask():
    from scripts.deployment_check import guide_blocks

    environment = next(block.text for block in guide_blocks() if block.name == "environment file")
    files = [part.split("\nEOF", 1)[0] for part in environment.split("<<EOF")[1:]]
    assert len(files) == 2  # /etc/tracker/env and /etc/tracker/owner.env
    for settings in files:
        for line in settings.strip().splitlines():
            assert line.startswith("#") or ("#" not in line and "=" in line), line
    unit = next(block.text for block in guide_blocks() if block.name == "start the server")
    assert "UMask=0027" in unit and "EnvironmentFile=/etc/tracker/env" in unit


# --- Reproducible installs --------------------------------------------------------------------

def test_the_lock_file_pins_every_dependency_within_pyproject_ranges():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    root = Path(__file__).resolve().parent.parent
    pins = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = version.strip()
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("postgres", "server", "test"):
        wanted += project["optional-dependencies"][extra]
    for text_ in wanted:
        requirement = Requirement(text_)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {requirement.name}=={pins[name]}, outside pyproject's {requirement.specifier}")


class SwitchableProxy:
    """A TCP proxy on 127.0.0.1 to a real PostgreSQL server that can hang: while ``hanging``
    it accepts new connections and never answers (nor forwards); afterwards it forwards."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.hanging = True
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.open = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(client)
            if self.hanging:
                continue  # held open, never answered
            server = socket.create_connection(self.target)
            self.open.append(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.sock.close()
        for end in self.open:
            with contextlib.suppress(OSError):
                end.close()


def test_a_hung_database_costs_a_quick_503_then_the_same_app_recovers(pg_server, tmp_path, monkeypatch):
    """No restart of the app between the hang and the recovery: the pool tries again."""
    server = Server(pg_server)
    name = f"hang_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    proxy = SwitchableProxy(server.url.host, server.url.port)
    url = server.database(name)
    monkeypatch.setenv("TRACKER_DB_CONNECT_TIMEOUT", "2")
    app = _app_on(server.url.set(database=name, host="127.0.0.1", port=proxy.port)
                  .render_as_string(hide_password=False), tmp_path)

    def healthz():
        answers = []
        probe = threading.Thread(target=lambda: answers.append(app.test_client().get("/healthz")), daemon=True)
        probe.start()
        probe.join(timeout=60)
        assert not probe.is_alive(), "/healthz still hanging after 60 s"
        return answers[0].status_code

    try:
        assert url
        assert healthz() == 503
        proxy.hanging = False
        assert healthz() == 200
    finally:
        _dispose(app)
        proxy.close()
        server.close([name])


def test_a_statement_running_too_long_is_cancelled_by_the_server(pg_server, tmp_path):
    from sqlalchemy.exc import OperationalError

    server = Server(pg_server)
    name = f"slow_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    app = _app_on(server.database(name), tmp_path, DB_STATEMENT_TIMEOUT_MS=300)
    try:
        with app.app_context():
            with pytest.raises(OperationalError, match="statement timeout"):
                db.session.execute(text("SELECT pg_sleep(20)"))
            db.session.rollback()
            assert db.session.execute(text("SELECT 1")).scalar() == 1  # the connection is still usable
            db.session.remove()
    finally:
        _dispose(app)
        server.close([name])
