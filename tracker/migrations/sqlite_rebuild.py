"""The SQLite table rebuild that revisions 0003 and 0004 share (one rule, written once).

SQLite cannot add a constraint or a referencing column in place, so ``batch_alter_table``
rebuilds the table: create a copy, move the rows, drop the old table, rename. Dropping the old
``project`` with foreign keys enforced would delete everything that cascades from it, so the
rebuild runs with enforcement switched off, and ``PRAGMA foreign_key_check`` must find nothing
new afterwards. On any other database the context does nothing (the changes are made in place).

Imported by the revisions as ``tracker.migrations.sqlite_rebuild``: they always run inside the
app (tracker/migrations/env.py reads ``current_app``), so the package is importable; the file is
shipped with the migrations (``package-data`` in pyproject.toml). Do not change what it does:
applied revisions depend on it.
"""

from contextlib import contextmanager

import sqlalchemy as sa

# The connection-record flag that has the pool switch foreign keys back on.
_FOREIGN_KEYS_OFF = "tracker_migration_foreign_keys_off"


def _foreign_key_problems(bind) -> set:
    return {tuple(row) for row in bind.exec_driver_sql("PRAGMA foreign_key_check")}


@contextmanager
def table_rebuild(bind, revision: str):
    """Foreign keys off while SQLite tables are rebuilt; fail if the rebuild broke a reference.

    ``revision`` names the migration in the error. Not SQLite: nothing to do.
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    before = _foreign_key_problems(bind)
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raw = bind.connection.dbapi_connection
        # The pragma is a no-op inside a transaction: end this run's transaction (what earlier
        # revisions did, with their alembic_version), switch enforcement off, begin anew.
        if raw.in_transaction:
            raw.execute("COMMIT")
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("BEGIN IMMEDIATE")
        bind.connection.info[_FOREIGN_KEYS_OFF] = True
        pool = bind.engine.pool
        if not sa.event.contains(pool, "checkin", _foreign_keys_back_on):
            sa.event.listen(pool, "checkin", _foreign_keys_back_on)
    yield
    broken = _foreign_key_problems(bind) - before
    if broken:
        raise RuntimeError(f"Migration {revision}: the table rebuild left broken references {sorted(broken)}; "
                           "rolled back.")


def _foreign_keys_back_on(dbapi_connection, connection_record):
    """Pool check-in: the transaction is over, so the pragma takes effect again."""
    if dbapi_connection is not None and connection_record is not None \
            and connection_record.info.pop(_FOREIGN_KEYS_OFF, False):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
