"""Backups and restores of a SQLite database: ``flask --app tracker backup|restore PATH``.

backup PATH     a consistent copy of the database, taken with SQLite's online backup API
                while the app keeps serving (readers and writers go on; the copy is one
                snapshot). PATH is a file, or a folder that gets ``tracker-<UTC time>.sqlite3``.
                The copy is a single self-contained file (rollback journal, not WAL) and is
                checked (``PRAGMA integrity_check``) before the command says it is done.
restore PATH    puts a backup back after checking it: it must be a SQLite file, pass
                ``PRAGMA integrity_check``, carry the schema at the current migration head and
                hold an audit trail whose hash chain verifies. The current database is first
                copied to ``<database>.bak``; the backup is then written into the database in
                ONE SQLite transaction (the backup API again), so a crash half-way leaves the
                previous database, and a running server sees either the old or the new data,
                never a mix. A current database too damaged to copy is moved aside instead
                and the checked file renamed into place (an atomic rename).

PostgreSQL deployments use ``pg_dump`` / ``pg_restore`` instead (docs/deployment.md); both
commands say so and stop.

Uploaded evidence files live outside the database (UPLOAD_DIR); they are stored under their
SHA-256 and never changed, so copying that folder alongside the database backup is enough.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_HINT = ("This database is PostgreSQL: use pg_dump and pg_restore instead, for example\n"
           "  pg_dump --format=custom --file=tracker.dump \"$DATABASE_URL\"\n"
           "  pg_restore --clean --if-exists --no-owner --dbname=\"$DATABASE_URL\" tracker.dump\n"
           "(see docs/deployment.md).")


class CheckFailed(Exception):
    """A backup file did not pass one of the checks; the message says which and why."""


# --- helpers -------------------------------------------------------------------------------

def live_database_path() -> Path:
    """The file of the app's SQLite database; a ClickException on anything else."""
    url = make_url(str(db.engine.url))
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(f"backup and restore work on SQLite databases only.\n{PG_HINT}")
    if not url.database or url.database == ":memory:" or url.database.startswith("file::memory:"):
        raise click.ClickException("The app's database is in memory; there is no file to back up or restore.")
    return Path(url.database).resolve()


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` without changing it (no journal recovery written, no file created)."""
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)


def _copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Copy ``source`` into a new file ``target`` as one snapshot, self-contained (no WAL).

    The file is created readable by its owner only: it holds password hashes.
    """
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    destination = sqlite3.connect(str(target))
    try:
        source.backup(destination)  # all pages in one step: one consistent snapshot
        destination.execute("PRAGMA journal_mode=DELETE")
        destination.commit()
    finally:
        destination.close()


def _integrity(connection: sqlite3.Connection) -> str:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows[:5])


def migration_heads() -> set[str]:
    """The revision(s) at the head of the app's migrations."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    directory = current_app.extensions["migrate"].directory
    config = Config()
    config.set_main_option("script_location", str(directory))
    return set(ScriptDirectory.from_config(config).get_heads())


def require_sqlite_header(path: Path) -> None:
    """CheckFailed unless the file starts with SQLite's header (read before anything opens it)."""
    with open(path, "rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            raise CheckFailed(f"{path} is not a SQLite database (its first bytes are not the SQLite header).")


def check_backup_file(path: Path) -> dict:
    """Check a database file; return what was found, or raise CheckFailed with a clear reason."""
    from .audit.trail import verify_chain
    from .models import AuditEvent

    if not path.is_file():
        raise CheckFailed(f"{path} is not a file.")
    require_sqlite_header(path)
    connection = _open_read_only(path)
    try:
        try:
            integrity = _integrity(connection)
        except sqlite3.DatabaseError as error:
            raise CheckFailed(f"{path} cannot be read as a database: {error}.") from None
        if integrity != "ok":
            raise CheckFailed(f"{path} is damaged: PRAGMA integrity_check says: {integrity}.")
        try:
            versions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
        except sqlite3.DatabaseError:
            raise CheckFailed(f"{path} is not a results-tracker database (it has no alembic_version table).") \
                from None
    finally:
        connection.close()
    heads = migration_heads()
    if versions != heads:
        raise CheckFailed(
            f"{path} has the schema at migration {', '.join(sorted(versions)) or '(none)'}, but this version of "
            f"the app expects {', '.join(sorted(heads))}. Restore it with the app version that made it, or "
            "upgrade a copy with `flask db upgrade` first.")
    engine = create_engine("sqlite://", creator=lambda: _open_read_only(path))
    try:
        with Session(engine) as session:
            report = verify_chain(session)
            events = session.execute(select(db.func.count()).select_from(AuditEvent)).scalar()
    finally:
        engine.dispose()
    if not report.ok:
        raise CheckFailed(f"{path} has a broken audit trail: event {report.broken_id}: {report.reason}.")
    return {"schema": ", ".join(sorted(versions)), "events": events}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024:.0f} KB" if size < 10 * 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


# --- commands ------------------------------------------------------------------------------

@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace PATH if it is an existing file.")
@with_appcontext
def backup_command(path: Path, overwrite: bool):
    """Copy the running SQLite database to PATH (a file, or a folder for a dated file)."""
    live = live_database_path()
    if not live.exists():
        raise click.ClickException(f"There is no database at {live} yet; nothing to back up.")
    if path.is_dir():
        path = path / f"tracker-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.sqlite3"
    path = path.resolve()
    if path == live:
        raise click.ClickException("PATH is the live database itself; choose another file.")
    if not path.parent.is_dir():
        raise click.ClickException(f"The folder {path.parent} does not exist.")
    if path.exists() and not overwrite:
        raise click.ClickException(f"{path} exists already; choose another name or add --overwrite.")

    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    _remove(partial)
    source = sqlite3.connect(str(live))  # a normal connection: it sees what the WAL holds
    try:
        source.execute("PRAGMA busy_timeout=5000")
        _copy_database(source, partial)
        check = sqlite3.connect(str(partial))
        try:
            integrity = _integrity(check)
        finally:
            check.close()
        if integrity != "ok":
            raise click.ClickException(f"The copy failed its integrity check ({integrity}); "
                                       "the live database may be damaged. Nothing was written to PATH.")
        os.replace(partial, path)  # PATH appears complete or not at all
    except sqlite3.Error as error:
        raise click.ClickException(f"The backup failed: {error}. Nothing was written to {path}.") from None
    finally:
        source.close()
        _remove(partial)
    click.echo(f"Backed up {live} to {path} ({_size(path)}, sha256 {_sha256(path)[:16]}...).")
    click.echo("Integrity check: ok. Uploaded evidence files are not in the database: copy "
               f"{current_app.config['UPLOAD_DIR']} with it.")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool):
    """Check the backup at PATH, keep the current database as .bak, then put PATH in its place."""
    from .audit import trail

    live = live_database_path()
    path = path.resolve()
    if path == live:
        raise click.ClickException("PATH is the live database itself; choose a backup file.")
    if not path.exists():
        raise click.ClickException(f"There is no file at {path}.")

    # The checks run on a private copy, which is then exactly what goes into place.
    live.parent.mkdir(parents=True, exist_ok=True)
    candidate = live.with_name(f".{live.name}.restore-{os.getpid()}")
    _remove(candidate)
    try:
        try:
            require_sqlite_header(path)
            source = _open_read_only(path)
            try:
                _copy_database(source, candidate)
            finally:
                source.close()
            found = check_backup_file(candidate)
        except CheckFailed as error:
            raise click.ClickException(f"Not restored: {error} The current database was not touched.") from None
        except sqlite3.Error as error:
            raise click.ClickException(f"Not restored: {path} cannot be read as a database ({error}). "
                                       "The current database was not touched.") from None
        click.echo(f"{path} passed the checks: integrity ok, schema {found['schema']}, "
                   f"audit trail of {found['events']} events intact.")
        if not yes and not click.confirm(f"Replace the database at {live} with it?", default=False):
            click.echo("Nothing was changed.")
            return

        db.session.remove()
        db.engine.dispose()  # the app's own pooled connections hold no stale pages
        kept = _put_in_place(candidate, live)
    finally:
        _remove(candidate)

    db.engine.dispose()
    trail.set_actor(None, "cli")
    trail.record(db.session, "restore", changes={"from": str(path), "sha256": _sha256(path),
                                                 "previous_kept_as": str(kept) if kept else ""})
    db.session.commit()
    report = trail.verify_chain(db.session)
    if not report.ok:  # cannot happen after the checks above, but say so loudly if it does
        click.echo(f"WARNING: the restored audit trail does not verify at event {report.broken_id}.", err=True)
        sys.exit(1)
    click.echo(f"Restored {path} into {live}." + (f" The previous database is kept as {kept}." if kept else ""))
    click.echo("Restart the server if it was running, so no page shows data cached before the restore.")


def _put_in_place(candidate: Path, live: Path) -> Path | None:
    """Write ``candidate`` into ``live`` in one transaction; return where the old one was kept."""
    if not live.exists():
        os.replace(candidate, live)
        return None
    kept = live.with_name(live.name + ".bak")
    current = None
    try:
        current = sqlite3.connect(str(live))
        current.execute("PRAGMA busy_timeout=5000")
        integrity = _integrity(current)
    except sqlite3.OperationalError as error:  # busy, locked, cannot open: change nothing
        if current is not None:
            current.close()
        raise click.ClickException(f"Not restored: the current database cannot be used just now ({error}). "
                                   "Nothing was changed; stop the server and try again.") from None
    except sqlite3.DatabaseError as error:  # not a database any more, malformed
        integrity = str(error)
    if integrity != "ok":
        current.close()
        # Too damaged to copy page by page: move its files aside as they are, rename the new one in.
        _remove(kept)
        for suffix in ("-wal", "-shm", "-journal"):
            if Path(str(live) + suffix).exists():
                os.replace(str(live) + suffix, str(kept) + suffix)
        os.replace(live, kept)
        os.replace(candidate, live)
        click.echo(f"The current database is damaged ({integrity}); its files were moved aside to {kept}.")
        return kept
    try:
        partial = kept.with_name(f".{kept.name}.partial-{os.getpid()}")
        _remove(partial)
        try:
            _copy_database(current, partial)
            _remove(kept)
            os.replace(partial, kept)
        finally:
            _remove(partial)
        source = sqlite3.connect(str(candidate))
        try:
            source.backup(current)  # one write transaction on the live database: all or nothing
        finally:
            source.close()
    except sqlite3.Error as error:
        raise click.ClickException(f"Not restored: {error}. The current database was not changed.") from None
    finally:
        current.close()
    return kept


commands = [backup_command, restore_command]
