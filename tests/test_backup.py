"""Backups and restores: `flask backup PATH` and `flask restore PATH` on SQLite.

These always run on SQLite files (even in the PostgreSQL run of the suite), because the
commands are about SQLite's online backup API; on PostgreSQL they refuse and point to pg_dump.
"""

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import SqliteDatabases, close_app, make_app
from tracker import create_app
from tracker.extensions import db
from tracker.models import Activity, AuditEvent, Project, User


@pytest.fixture(scope="module")
def sqlite_databases(request, tmp_path_factory):
    """The suite's SQLite databases, or a SQLite set of our own in the PostgreSQL run."""
    databases = request.getfixturevalue("databases")
    if databases.dialect == "sqlite":
        return databases
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite-databases"))


@pytest.fixture
def sqlite_app(sqlite_databases, tmp_path):
    application = make_app(sqlite_databases, tmp_path)
    yield application
    close_app(sqlite_databases, application)


def live_path(app) -> Path:
    return Path(app.test_database_url.removeprefix("sqlite:///"))


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def rows(path: Path, sql: str):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def counts(app) -> dict:
    with app.app_context():
        result = {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar()
                  for model in (Project, User, Activity, AuditEvent)}
        db.session.remove()
        return result


def add_user(app, email: str) -> None:
    result = cli(app, "user", "create", email, "--name", "Nguyễn Thị Hà", "--password-stdin",
                 input="a-long-password\n")
    assert result.exit_code == 0, result.output


def test_backup_writes_a_checked_single_file_copy_readable_only_by_its_owner(sqlite_app, tmp_path):
    target = tmp_path / "copy.sqlite3"
    result = cli(sqlite_app, "backup", str(target))
    assert result.exit_code == 0, result.output
    assert f"to {target}" in result.output and "Integrity check: ok" in result.output
    assert "evidence" in result.output  # reminds that uploads live outside the database
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert rows(target, "PRAGMA journal_mode") == [("delete",)]  # no -wal file needed beside it
    assert not Path(f"{target}-wal").exists()
    assert rows(target, "SELECT title FROM project")[0][0].startswith("Supporting the Implementation")
    assert rows(target, "SELECT count(*) FROM audit_event") == [(counts(sqlite_app)["AuditEvent"],)]
    assert target.stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


def test_backup_into_a_folder_names_the_file_by_time(sqlite_app, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    result = cli(sqlite_app, "backup", str(folder))
    assert result.exit_code == 0, result.output
    [made] = list(folder.iterdir())
    assert made.name.startswith("tracker-") and made.name.endswith("Z.sqlite3")


def test_backup_refuses_to_overwrite_or_to_write_into_a_missing_folder(sqlite_app, tmp_path):
    target = tmp_path / "copy.sqlite3"
    target.write_text("keep me")
    result = cli(sqlite_app, "backup", str(target))
    assert result.exit_code != 0 and "exists already" in result.output and "--overwrite" in result.output
    assert target.read_text() == "keep me"
    assert cli(sqlite_app, "backup", str(target), "--overwrite").exit_code == 0
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]

    result = cli(sqlite_app, "backup", str(tmp_path / "nowhere" / "copy.sqlite3"))
    assert result.exit_code != 0 and "does not exist" in result.output
    result = cli(sqlite_app, "backup", str(live_path(sqlite_app)))
    assert result.exit_code != 0 and "live database itself" in result.output


def test_a_backup_taken_while_writes_go_on_is_one_consistent_snapshot(sqlite_app, tmp_path):
    """A writer keeps changing activities (each change adds audit events) during the backups."""
    from tracker.maintenance import check_backup_file

    stop = threading.Event()
    written = []

    def writer():
        with sqlite_app.app_context():
            step = 0
            while not stop.is_set() and step < 2000:
                step += 1
                activity = db.session.execute(select(Activity).order_by(Activity.id).limit(1)).scalar_one()
                activity.percent_complete = step % 101
                activity.description = f"Bản ghi số {step}"
                db.session.commit()
                written.append(step)
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        found = []
        for number in range(4):
            target = tmp_path / f"during-{number}.sqlite3"
            result = cli(sqlite_app, "backup", str(target))
            assert result.exit_code == 0, result.output
            with sqlite_app.app_context():
                found.append(check_backup_file(target)["events"])
    finally:
        stop.set()
        thread.join()
    assert written, "the writer never committed: the test proved nothing"
    assert found == sorted(found)  # each copy is a later snapshot, never a torn one


def test_restore_puts_a_backup_back_and_keeps_the_previous_database_as_bak(sqlite_app, tmp_path):
    target = tmp_path / "before.sqlite3"
    assert cli(sqlite_app, "backup", str(target)).exit_code == 0
    before = counts(sqlite_app)
    add_user(sqlite_app, "later@demo.test")
    assert counts(sqlite_app)["User"] == before["User"] + 1

    result = cli(sqlite_app, "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "passed the checks" in result.output and "audit trail of" in result.output
    assert "kept as" in result.output
    after = counts(sqlite_app)
    assert after["User"] == before["User"]
    assert after["AuditEvent"] == before["AuditEvent"] + 1  # the restore itself is in the trail
    bak = Path(f"{live_path(sqlite_app)}.bak")
    assert rows(bak, "SELECT count(*) FROM user WHERE email = 'later@demo.test'") == [(1,)]
    assert rows(bak, "PRAGMA integrity_check") == [("ok",)]
    with sqlite_app.app_context():
        last = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert last.action == "restore" and last.actor_label == "cli" and str(target) in last.changes
    verify = cli(sqlite_app, "audit", "verify")
    assert verify.exit_code == 0 and "intact" in verify.output
    # The app serves the restored data straight away.
    client = sqlite_app.test_client()
    assert client.post("/login", data={"email": "officer@demo.test",
                                       "password": "demo-officer-pass"}).status_code == 303
    assert client.get("/").status_code == 200


def test_restore_asks_before_replacing_and_no_changes_nothing(sqlite_app, tmp_path):
    target = tmp_path / "before.sqlite3"
    assert cli(sqlite_app, "backup", str(target)).exit_code == 0
    add_user(sqlite_app, "later@demo.test")
    before = counts(sqlite_app)
    result = cli(sqlite_app, "restore", str(target), input="n\n")
    assert result.exit_code == 0 and "Replace the database" in result.output and "Nothing was changed" in result.output
    assert counts(sqlite_app) == before
    assert not Path(f"{live_path(sqlite_app)}.bak").exists()


def _break_schema(path: Path):
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")


def _break_audit_chain(path: Path):
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TRIGGER audit_event_no_update")
        connection.execute("UPDATE audit_event SET actor_label = 'someone else' WHERE id = 3")


def _damage_pages(path: Path):
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 3, min(len(data), 4096 * 40), 97):
        data[offset] = (data[offset] + 1) % 256
    path.write_bytes(bytes(data))


def _not_sqlite(path: Path):
    path.write_text("Quyết định 1755 — not a database\n", encoding="utf-8")


def _foreign_sqlite(path: Path):
    path.unlink()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")


@pytest.mark.parametrize("spoil, message", [
    (_not_sqlite, "is not a SQLite database"),
    (_foreign_sqlite, "no alembic_version table"),
    (_break_schema, "has the schema at migration 0001"),
    (_break_audit_chain, "broken audit trail: event 3"),
    (_damage_pages, "damaged"),
])
def test_restore_refuses_a_file_that_fails_a_check_and_touches_nothing(sqlite_app, tmp_path, spoil, message):
    target = tmp_path / "spoilt.sqlite3"
    assert cli(sqlite_app, "backup", str(target)).exit_code == 0
    spoil(target)
    add_user(sqlite_app, "later@demo.test")
    before = counts(sqlite_app)
    result = cli(sqlite_app, "restore", str(target), "--yes")
    assert result.exit_code != 0
    assert "Not restored" in result.output and "not touched" in result.output
    if spoil is _damage_pages:  # the exact words depend on which page SQLite trips over first
        assert "damaged" in result.output or "cannot be read" in result.output
    else:
        assert message in result.output
    assert counts(sqlite_app) == before
    assert not Path(f"{live_path(sqlite_app)}.bak").exists()
    assert [p.name for p in live_path(sqlite_app).parent.iterdir() if ".restore-" in p.name] == []


def test_restore_over_a_damaged_database_moves_the_damaged_files_aside(sqlite_app, tmp_path):
    target = tmp_path / "good.sqlite3"
    assert cli(sqlite_app, "backup", str(target)).exit_code == 0
    before = counts(sqlite_app)
    live = live_path(sqlite_app)
    with sqlite_app.app_context():
        db.session.remove()
        db.engine.dispose()
    with sqlite3.connect(live) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    live.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)

    result = cli(sqlite_app, "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "damaged" in result.output and "moved aside" in result.output
    assert counts(sqlite_app)["User"] == before["User"]
    assert Path(f"{live}.bak").read_bytes().startswith(b"SQLite format 3\x00\xff\xff")
    assert cli(sqlite_app, "audit", "verify").exit_code == 0


def test_restore_onto_a_new_machine_creates_the_database(sqlite_app, tmp_path):
    target = tmp_path / "backup.sqlite3"
    assert cli(sqlite_app, "backup", str(target)).exit_code == 0
    fresh = tmp_path / "fresh-instance"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{fresh / 'tracker.sqlite3'}", "TESTING": True,
                      "SECRET_KEY": "x", "UPLOAD_DIR": str(fresh / "evidence")})
    result = cli(app, "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "kept as" not in result.output
    assert counts(app)["Project"] == 1
    with app.app_context():
        db.engine.dispose()


def test_backup_and_restore_point_to_pg_dump_on_postgresql(tmp_path):
    # No connection is made: the commands look at the configured URL and stop.
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tracker@127.0.0.1:9/tracker",
                      "TESTING": True, "SECRET_KEY": "x", "UPLOAD_DIR": str(tmp_path / "evidence")})
    for command in ("backup", "restore"):
        result = cli(app, command, str(tmp_path / "x.sqlite3"))
        assert result.exit_code != 0
        assert "SQLite databases only" in result.output and "pg_dump" in result.output
    assert not (tmp_path / "x.sqlite3").exists()


def test_a_backup_holds_vietnamese_text_unchanged(sqlite_app, tmp_path):
    with sqlite_app.app_context():
        db.session.execute(update(Activity).where(Activity.code == "A1").values(locations="Hà Nội; Huế"))
        db.session.commit()
    target = tmp_path / "vi.sqlite3"
    assert cli(sqlite_app, "backup", str(target)).exit_code == 0
    assert rows(target, "SELECT locations FROM activity WHERE code = 'A1'") == [("Hà Nội; Huế",)]
