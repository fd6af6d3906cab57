"""Engine set-up: SQLite pragmas and ``BEGIN IMMEDIATE`` writes; health check.

SQLite allows one writer at a time. A deferred ``BEGIN`` that later writes fails with
"database is locked" when another writer got there first, so every transaction that may
write is opened with ``BEGIN IMMEDIATE`` and waits up to ``busy_timeout`` for the lock
instead. WAL lets readers go on while a writer works.

Reading pages (GET, HEAD, OPTIONS requests) opens a deferred ``BEGIN``: it reads a snapshot
and never takes the write lock, so readers neither wait for writers nor hold them up (with
every transaction immediate, each page view queued behind every save, and under load the
queue outgrew ``busy_timeout``). Should such a transaction write after all (an export that
records itself in the audit trail), it is switched to a fresh ``BEGIN IMMEDIATE`` before its
first write, while it has written nothing: see ``prepare_write``.

PostgreSQL connections get a connect timeout and a statement timeout (``engine_options``), so
a database that accepts connections and never answers costs a request a few seconds and a
clear 503, not a worker hung until gunicorn kills it.
"""

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

# Execution option for a read-only transaction that must not take SQLite's write lock.
DEFERRED_READ = "tracker_deferred_read"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # A writer waits this long for the lock before the request fails (503). Under a burst of
    # saves on a busy machine 5 s was too short (bench/load.py); it stays below gunicorn's
    # --timeout (docs/deployment.md) so a wait ends in a clear answer, not a killed worker.
    "PRAGMA busy_timeout=20000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def engine_options(config) -> dict:
    """SQLAlchemy engine options for the configured database, with the timeouts.

    PostgreSQL: ``connect_timeout`` (seconds, ``DB_CONNECT_TIMEOUT``) bounds the whole
    connection set-up, including a server that accepts the TCP connection and never answers;
    ``statement_timeout`` (``DB_STATEMENT_TIMEOUT_MS``) is sent as a connection option, so
    the server cancels a statement that runs longer. Either is left out when 0, and a value
    given in the URL's query (``?connect_timeout=10``) wins. SQLite keeps its busy_timeout.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return options
    connect_args = dict(options.get("connect_args") or {})
    connect_timeout = int(config.get("DB_CONNECT_TIMEOUT") or 0)
    if connect_timeout and "connect_timeout" not in url.query:
        connect_args.setdefault("connect_timeout", connect_timeout)
    statement_timeout = int(config.get("DB_STATEMENT_TIMEOUT_MS") or 0)
    if statement_timeout:
        setting = f"-c statement_timeout={statement_timeout}"
        given = connect_args.get("options") or url.query.get("options") or ""
        if "statement_timeout" not in given:
            connect_args["options"] = f"{given} {setting}".strip()
    options["connect_args"] = connect_args
    return options


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
        # A long read-only export (tracker.exports.services.read_snapshot) asks for a deferred
        # BEGIN: in WAL mode it reads a snapshot without holding the write lock, so writers
        # are not kept waiting while a large workbook is written. Page reads do the same.
        deferred = bool(connection.get_execution_options().get(DEFERRED_READ)) or _reading_request()
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
        connection.info[_DEFERRED] = deferred
        connection.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:7].upper().startswith(WRITE_STATEMENTS):
            if connection.info.get(_DEFERRED) and not connection.info.get(_WROTE):
                prepare_write(connection)
            connection.info[_WROTE] = True


# Requests whose transactions begin deferred; statements that make a transaction a writer.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_DEFERRED = "tracker_deferred"
_WROTE = "tracker_wrote"


def _reading_request() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method in READING_METHODS


def prepare_write(connection) -> None:
    """Make the connection's deferred (read) transaction a ``BEGIN IMMEDIATE`` one before it writes.

    Upgrading a read snapshot in place fails at once ("database is locked") when anyone
    committed since it began; so a transaction that has written nothing is ended and a
    fresh immediate one begun, which waits for the lock and reads the latest data. Callers
    that read before they write (the audit chain reads the last hash) call this first; the
    engine calls it before any first write statement. No-op on other databases, on
    transactions that began immediate or have written already.
    """
    if connection.dialect.name != "sqlite" or not connection.info.get(_DEFERRED) or connection.info.get(_WROTE):
        return
    if connection.in_nested_transaction():  # a SAVEPOINT would not survive the COMMIT
        return
    raw = connection.connection.dbapi_connection
    try:
        raw.execute("COMMIT")  # it only read: nothing is lost
    except Exception:  # a statement still running: leave it; the write tries to upgrade
        return
    try:
        raw.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout for the write lock
    except Exception as error:
        raw.execute("BEGIN")  # never go on outside a transaction; the request fails, nothing written
        raise OperationalError("BEGIN IMMEDIATE", None, error) from error
    connection.info[_DEFERRED] = False


def database_answers(session) -> bool:
    """True when a trivial query succeeds; used by /healthz."""
    try:
        session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means the database is not usable
        session.rollback()
        return False


# --- Reading many rows without the ORM's per-value conversion ------------------------------------

def raw(column):
    """``column`` as the driver gives it, without SQLAlchemy's result processing (labelled with
    its name): for a page reading hundreds of rows whose values repeat (dates of the periods,
    figures); ``converter(column)`` then makes each distinct value what the ORM would give."""
    from sqlalchemy import type_coerce
    from sqlalchemy.types import NullType

    return type_coerce(column, NullType()).label(column.key)


def converter(column, dialect):
    """A function turning a raw value of ``column`` into what the ORM would give, converting each
    distinct value once. SQLite gives numbers as int/float and dates as ISO text: the column
    type's own processor converts them. Other drivers (psycopg) give Decimal and date already."""
    if dialect.name != "sqlite":
        return lambda value: value
    process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if process is None:
        return lambda value: value
    seen: dict = {None: None}

    def convert(value):
        try:
            return seen[value]
        except KeyError:
            converted = seen[value] = process(value)
            return converted

    return convert
