"""Engine set-up: SQLite pragmas and ``BEGIN IMMEDIATE`` writes; health check.

SQLite allows one writer at a time. A deferred ``BEGIN`` that later writes fails with
"database is locked" when another writer got there first, so every transaction is opened
with ``BEGIN IMMEDIATE`` and waits up to ``busy_timeout`` for the lock instead. WAL lets
readers go on while a writer works.
"""

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def configure_engine(engine: Engine) -> None:
    """Attach the SQLite pragmas and transaction handling to ``engine`` (once)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_tracker_configured", False):
        return
    engine._tracker_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def database_answers(session) -> bool:
    """True when a trivial query succeeds; used by /healthz."""
    try:
        session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means the database is not usable
        session.rollback()
        return False
