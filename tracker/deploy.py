"""What running the tracker for real needs beyond the pages (docs/deployment.md).

- Private files: everything the app writes under ``instance/`` is for its own user only,
  whatever the umask it was started with (``restrict_umask``, ``make_private_folder``).
- ``flask --app tracker copy-database TARGET_URL``: the supported move from SQLite to
  PostgreSQL. Every row of the configured database is copied into a freshly migrated, empty
  database (same schema revision), its sequences are moved past the copied ids, and the audit
  chain is verified on the target before the copy is committed.
- ``flask --app tracker grant-app-role ROLE``: run as the database's owner after each
  ``db upgrade``; gives the app's own role what it needs and no more: it may read and write
  the tables, but only SELECT and INSERT the audit trail (no UPDATE, DELETE, TRUNCATE,
  TRIGGER, and not owning it, so it cannot disable the append-only trigger).
- ``audit verify`` also says when the role it connected as could tamper with the trail
  (``audit_tamper_risks``).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

PRIVATE_UMASK = 0o077
AUDIT_TABLE = "audit_event"
MIGRATIONS_TABLE = "alembic_version"


# --- Private files ----------------------------------------------------------------------------

def restrict_umask() -> None:
    """Make files this process creates private (0600, folders 0700): add 077 to the umask.

    The umask is per process: under gunicorn and the CLI the process is the app. Bits the
    service manager already masks stay masked.
    """
    current = os.umask(PRIVATE_UMASK)
    os.umask(current | PRIVATE_UMASK)


def make_private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; a folder that exists is left as it is."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


# --- copy-database ----------------------------------------------------------------------------

class CopyRefused(click.ClickException):
    """The copy did not start (or was rolled back); the message says why."""


def _revision(connection) -> str | None:
    if not inspect(connection).has_table(MIGRATIONS_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {MIGRATIONS_TABLE}")).scalar()


def _parents_first(rows: list, table) -> list:
    """Rows of a table that points at itself (result_node.parent_id), parents before children."""
    self_columns = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    if not self_columns:
        return rows
    column = self_columns[0]
    key = [c.name for c in table.primary_key.columns][0]
    placed: set = set()
    ordered, waiting = [], list(rows)
    while waiting:
        still = [row for row in waiting if row[column] is not None and row[column] not in placed]
        ready = [row for row in waiting if not (row[column] is not None and row[column] not in placed)]
        if not ready:  # a cycle or a dangling parent: keep the rest in id order (the FK will say)
            ordered.extend(still)
            break
        ordered.extend(ready)
        placed.update(row[key] for row in ready)
        waiting = still
    return ordered


def copy_database(source_engine, target_url: str, *, batch: int = 1000, echo=print) -> dict[str, int]:
    """Copy every row of ``source_engine``'s database into the database at ``target_url``.

    The target must be migrated to the source's revision and hold no rows. Everything is
    copied in one transaction on the target, then sequences are reset and the audit chain is
    verified there; any failure rolls the target back to empty. Returns rows copied per table.
    """
    from .audit.trail import verify_chain
    from .database import DEFERRED_READ
    from .extensions import db

    target_engine = create_engine(target_url, connect_args=(
        {"connect_timeout": 10} if make_url(target_url).get_backend_name() == "postgresql" else {}))
    try:
        with source_engine.connect() as source, target_engine.connect() as target:
            source = source.execution_options(**{DEFERRED_READ: True})  # SQLite: read a snapshot, lock nothing
            if source_engine.url.render_as_string(hide_password=False) == target_engine.url.render_as_string(
                    hide_password=False):
                raise CopyRefused("The target is the configured database itself.")
            source_revision, target_revision = _revision(source), _revision(target)
            if source_revision is None:
                raise CopyRefused("The configured database has no schema yet (run `db upgrade` on it first).")
            if target_revision is None:
                raise CopyRefused("The target database has not been migrated. Run, as its owner, "
                                  "`TRACKER_DATABASE_URL=<target> flask --app tracker db upgrade` first.")
            if source_revision != target_revision:
                raise CopyRefused(f"The configured database is at revision {source_revision} and the target at "
                                  f"{target_revision}: migrate both to the same one (`db upgrade`) first.")
            tables = db.metadata.sorted_tables
            known = {table.name for table in tables} | {MIGRATIONS_TABLE}
            unknown = sorted(set(inspect(source).get_table_names()) - known)
            if unknown:
                raise CopyRefused(f"The configured database has tables this version does not know: {unknown}.")
            busy = [table.name for table in tables
                    if target.execute(select(func.count()).select_from(table)).scalar()]
            if busy:
                raise CopyRefused(f"The target database is not empty (rows in {', '.join(busy)}). "
                                  "copy-database only fills a freshly migrated, empty database.")
            target.rollback()  # end the checks' transaction; the copy is one transaction of its own
            copied: dict[str, int] = {}
            with target.begin():
                for table in tables:
                    rows = [dict(row) for row in source.execute(select(table).order_by(
                        *table.primary_key.columns)).mappings()]
                    rows = _parents_first(rows, table)
                    for start in range(0, len(rows), batch):
                        target.execute(table.insert(), rows[start:start + batch])
                    copied[table.name] = len(rows)
                    echo(f"  {table.name:22} {len(rows):>8} rows")
                if target.dialect.name == "postgresql":
                    _reset_sequences(target, tables)
                for table in tables:  # every row arrived
                    count = target.execute(select(func.count()).select_from(table)).scalar()
                    if count != copied[table.name]:
                        raise CopyRefused(f"{table.name}: {copied[table.name]} rows read, {count} in the target.")
                from sqlalchemy.orm import Session

                with Session(bind=target) as session:
                    report = verify_chain(session)
                if not report.ok:
                    raise CopyRefused(f"The audit trail does not verify on the target ({report.reason}, event "
                                      f"{report.broken_id}); nothing was copied.")
            return copied
    finally:
        target_engine.dispose()


def _reset_sequences(connection, tables) -> None:
    """Move each serial/identity sequence past the largest copied id (the next insert must not
    collide with a copied row)."""
    for table in tables:
        for column in table.primary_key.columns:
            if not column.autoincrement or column.type.python_type is not int:
                continue
            sequence = connection.execute(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                          {"table": f'"{table.name}"', "column": column.name}).scalar()
            if sequence is None:
                continue
            connection.execute(text(
                f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'),
                {"sequence": sequence})


@click.command("copy-database")
@click.argument("target_url")
@with_appcontext
def copy_database_command(target_url: str):
    """Copy every row of the configured database into TARGET_URL (a freshly migrated, empty
    database, normally PostgreSQL), reset its sequences and verify its audit chain.

    Stop the app first, so nothing is saved meanwhile. Percent-encode @ / : # in the password.
    """
    from .config import ConfigError, check_database_url
    from .extensions import db

    try:
        check_database_url(target_url)
    except ConfigError as error:
        raise click.ClickException(str(error).replace("TRACKER_DATABASE_URL", "TARGET_URL")) from None
    shown = make_url(target_url).render_as_string(hide_password=True)
    click.echo(f"Copying {db.engine.url.render_as_string(hide_password=True)} into {shown}")
    copied = copy_database(db.engine, target_url, echo=click.echo)
    click.echo(f"Copied {sum(copied.values())} rows in {len(copied)} tables; sequences reset; "
               f"audit trail verified on the target ({copied.get(AUDIT_TABLE, 0)} events).")
    click.echo("Next: point TRACKER_DATABASE_URL at the target and start the app.")


# --- Two roles: the owner migrates, the app's role cannot tamper with the audit trail ---------

def grant_app_role(connection, role: str) -> None:
    """Give ``role`` (the app's own database role) what the app needs on every table, and on
    the audit trail only SELECT and INSERT. Run as the owner of the tables, after each
    ``db upgrade`` (new tables get the grants too)."""
    quoted = connection.dialect.identifier_preparer.quote(role)
    tables = inspect(connection).get_table_names()
    schema_tables = [t for t in tables if t not in (AUDIT_TABLE, MIGRATIONS_TABLE)]
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    for table in schema_tables:
        connection.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {quoted}'))
    connection.execute(text(f'REVOKE ALL ON "{AUDIT_TABLE}" FROM {quoted}'))
    connection.execute(text(f'GRANT SELECT, INSERT ON "{AUDIT_TABLE}" TO {quoted}'))
    connection.execute(text(f'REVOKE ALL ON "{MIGRATIONS_TABLE}" FROM {quoted}'))
    connection.execute(text(f'GRANT SELECT ON "{MIGRATIONS_TABLE}" TO {quoted}'))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role_command(role: str):
    """PostgreSQL: give the app's ROLE read/write on the tables but only SELECT and INSERT on
    the audit trail. Run with the owner's TRACKER_DATABASE_URL, after every `db upgrade`."""
    from .extensions import db

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("grant-app-role is for PostgreSQL; on SQLite the file's owner is the only role.")
    with db.engine.begin() as connection:
        owner = connection.execute(text("SELECT current_user")).scalar()
        if owner == role:
            raise click.ClickException(f"{role} is the role this command connects as (the owner): give the app a "
                                       "role of its own (docs/deployment.md, 'The database and its two roles').")
        grant_app_role(connection, role)
        risks = audit_tamper_risks(connection, role)
    if risks:
        raise click.ClickException(f"{role} could still tamper with the audit trail: {'; '.join(risks)}.")
    click.echo(f"{role} may read and write the tables, and only read and add to {AUDIT_TABLE}.")


def audit_tamper_risks(connection, role: str | None = None) -> list[str]:
    """What ``role`` (default: the connected role) could do to the audit trail beyond reading
    and adding events. Empty on SQLite (the file's owner can always rewrite it: keep the
    ``--anchor`` hash elsewhere) and when the role is as it should be."""
    if connection.dialect.name != "postgresql":
        return []
    role = role or connection.execute(text("SELECT current_user")).scalar()
    row = connection.execute(text("""
        SELECT r.rolsuper,
               pg_has_role(:role, c.relowner, 'USAGE') AS owns,
               pg_get_userbyid(c.relowner) AS owner,
               has_table_privilege(:role, c.oid, 'UPDATE') AS can_update,
               has_table_privilege(:role, c.oid, 'DELETE') AS can_delete,
               has_table_privilege(:role, c.oid, 'TRUNCATE') AS can_truncate,
               has_table_privilege(:role, c.oid, 'TRIGGER') AS can_trigger
        FROM pg_class c JOIN pg_roles r ON r.rolname = :role
        WHERE c.oid = to_regclass(:table)
    """), {"role": role, "table": AUDIT_TABLE}).mappings().first()
    if row is None:
        return []
    risks = []
    if row["rolsuper"]:
        risks.append(f"{role} is a superuser")
    if row["owns"]:
        risks.append(f"{role} owns {AUDIT_TABLE} (as {row['owner']}) and can disable its append-only trigger")
    grants = [name for name in ("update", "delete", "truncate", "trigger") if row[f"can_{name}"]]
    if grants and not row["rolsuper"]:
        risks.append(f"{role} has {', '.join(g.upper() for g in grants)} on {AUDIT_TABLE}")
    return risks


def _extend_audit_verify() -> None:
    """Make ``flask audit verify`` also report whether the role it connected as could tamper
    with the trail (the chain shows changes after the fact; this says whether they could be
    made). Wraps the command defined in tracker/cli.py once."""
    from .cli import audit_cli

    command = audit_cli.commands.get("verify")
    if command is None or getattr(command.callback, "_checks_roles", False):
        return
    original = command.callback

    def verify_with_role_check(*args, **kwargs):
        from .extensions import db

        try:
            with db.engine.connect() as connection:
                risks = audit_tamper_risks(connection)
        except Exception as error:  # the chain check below reports an unreachable database
            risks = []
            click.echo(f"(Could not check the database role's privileges: {error.__class__.__name__}.)", err=True)
        if risks:
            click.echo("WARNING: the database role the app connects as could tamper with the audit trail: "
                       f"{'; '.join(risks)}. Run the app as a role with only SELECT and INSERT on "
                       f"{AUDIT_TABLE} (flask grant-app-role; docs/deployment.md).", err=True)
        else:
            if db.engine.dialect.name == "postgresql":
                click.echo("Database role: may only read and add audit events.")
        return original(*args, **kwargs)

    verify_with_role_check._checks_roles = True
    command.callback = with_appcontext(verify_with_role_check)
    command.callback._checks_roles = True


_extend_audit_verify()

# Added to the CLI by tracker/cli.py (AREA_COMMANDS).
commands = [copy_database_command, grant_app_role_command]
