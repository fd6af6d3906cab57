"""The one mechanism that writes the audit trail.

A SQLAlchemy ``after_flush`` hook turns every insert, update and delete of a model marked
``__audit__ = True`` into one ``AuditEvent`` row with the changed fields (old and new).
``record()`` adds events that are not row changes (login, failed login, export, review).

Each event's ``hash`` is SHA-256 over its canonical JSON content and the previous event's
hash, so the events form a chain; ``verify_chain()`` recomputes it. Writers are serialised
(SQLite's ``BEGIN IMMEDIATE``; a transaction-scoped advisory lock on PostgreSQL) so two
transactions never chain onto the same predecessor.

**Every way a row goes.** Inserts, updates and deletes the ORM flushes are read in
``after_flush``; deletions come from the flush itself (``flush_context``), so rows removed as
orphans of a collection are there as well as explicit deletes. Rows the *database* removes
(``ON DELETE CASCADE``) or changes (``ON DELETE SET NULL``) when a parent goes are read just
before the parent's DELETE runs (a ``before_delete`` mapper hook for ORM deletes, a
``do_orm_execute`` hook for bulk ``delete()`` statements) by following the schema's foreign
keys, and written with their old values. A bulk ``delete()`` statement's own rows are read the
same way first.

**The key.** Anyone who can write to the database could append an event with a correct
SHA-256, or rewrite an event and re-chain everything after it. So each event also carries
``hmac``: HMAC-SHA256 of its hash under a key that lives outside the database
(``TRACKER_AUDIT_KEY``, else ``instance/audit_key``, generated once with mode 600, like the
secret key; keep it with the backups). Events written before the key existed have no
``hmac``; a keyed *checkpoint* event (written by migration 0005, or by the first write after
it) chains onto the last of them, so its HMAC covers all of them. After the first keyed event,
an event without a valid HMAC is a forgery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Mapper, Session, object_session

from ..database import prepare_write
from ..models import AuditEvent

GENESIS_HASH = "0" * 64
# Columns that change on every update and would only add noise to the trail.
NOISE_COLUMNS = {"version", "updated_at", "updated_by_id"}
PG_CHAIN_LOCK = 7_241_116  # any constant; names the advisory lock that serialises the chain


def _plain(value):
    """A JSON-friendly form of a column value."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _utc_text(moment: datetime) -> str:
    """UTC time as text, the same whether the driver returns aware or naive datetimes."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def canonical_content(row: dict) -> str:
    content = {
        "created_at": _utc_text(row["created_at"]),
        "actor_id": row["actor_id"],
        "actor_label": row["actor_label"],
        "action": row["action"],
        "table_name": row["table_name"],
        "row_id": row["row_id"],
        "project_id": row["project_id"],
        "changes": json.loads(row["changes"]),
        "address": row["address"],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(row: dict, prev_hash: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical_content(row)).encode("utf-8")).hexdigest()


def current_actor() -> tuple[int | None, str]:
    """Who is acting: the logged-in user in a request, else what the CLI set, else 'system'."""
    if has_app_context():
        actor = g.get("audit_actor")
        if actor:
            return actor
    return (None, "system")


def set_actor(user_id: int | None, label: str) -> None:
    g.audit_actor = (user_id, label)


def _address() -> str:
    return (request.remote_addr or "")[:64] if has_request_context() else ""


# ----------------------------------------------------------------------------------------
# The key

TEST_KEY = b"results-tracker tests: not a secret"
CHECKPOINT = "audit.checkpoint"


def _key_file(instance_path: str) -> Path:
    return Path(instance_path) / "audit_key"


def audit_key() -> bytes:
    """The HMAC key: ``AUDIT_KEY`` in the configuration (``TRACKER_AUDIT_KEY``), else the one
    kept in ``instance/audit_key``, generated on first use (mode 600, never in the database).

    Test apps (``TESTING``) without a key share a fixed one, so databases copied from a
    template verify in every test's own instance folder.
    """
    app = current_app._get_current_object()
    cached = app.extensions.get("tracker.audit_key")
    if cached:
        return cached
    configured = app.config.get("AUDIT_KEY") or os.environ.get("TRACKER_AUDIT_KEY")
    if configured:
        key = str(configured).strip().encode("utf-8")
    elif app.testing:
        key = TEST_KEY
    else:
        key_file = _key_file(app.instance_path)
        if not key_file.exists():
            # Written whole under a private name, then linked into place: a worker starting at
            # the same moment sees no file or the whole key, never half of it; the first wins.
            partial = key_file.with_name(f".audit_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
                os.link(partial, key_file)
            except FileExistsError:  # another worker made it first: use theirs
                pass
            finally:
                partial.unlink(missing_ok=True)
        key = key_file.read_text().strip().encode("utf-8")
    if not key:
        raise RuntimeError("The audit key (TRACKER_AUDIT_KEY or instance/audit_key) is empty.")
    app.extensions["tracker.audit_key"] = key
    return key


def event_hmac(event_hash_hex: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of an event's hash: the hash covers its content and its predecessor."""
    return hmac.new(key or audit_key(), event_hash_hex.encode("ascii"), hashlib.sha256).hexdigest()


def _checkpoint_row(last_id, last_hash: str) -> dict:
    row = _new_row(CHECKPOINT, "audit_event", last_id, None,
                   {"covers_up_to_event": last_id, "covers_hash": last_hash,
                    "why": "events before this one were written before the audit key existed"})
    row["actor_id"], row["actor_label"] = None, "system"
    return row


def _append(connection, rows: list[dict]) -> None:
    """Chain ``rows`` onto the last event, sign them with the key and insert them, in order."""
    forget_stamp()
    if not rows:
        return
    prepare_write(connection)  # SQLite: a page read's snapshot becomes a writer before reading the last hash
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_CHAIN_LOCK})
    last = connection.execute(
        select(AuditEvent.id, AuditEvent.hash, AuditEvent.hmac).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    prev = last.hash if last is not None else GENESIS_HASH
    if last is not None and last.hmac is None:  # events from before the key: a checkpoint covers them
        rows = [_checkpoint_row(last.id, last.hash)] + list(rows)
    key = audit_key()
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(row, prev)
        row["hmac"] = event_hmac(row["hash"], key)
    connection.execute(insert(AuditEvent), rows)


def write_checkpoint(connection) -> bool:
    """Cover events written before the key existed (migration 0005 calls this): True if written."""
    last = connection.execute(
        select(AuditEvent.id, AuditEvent.hash, AuditEvent.hmac).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is None or last.hmac is not None:
        return False
    prepare_write(connection)
    key = audit_key()
    row = _checkpoint_row(last.id, last.hash)
    row["prev_hash"] = last.hash
    row["hash"] = event_hash(row, last.hash)
    row["hmac"] = event_hmac(row["hash"], key)
    connection.execute(insert(AuditEvent), [row])
    return True


def _new_row(action: str, table_name: str, row_id, project_id, changes: dict) -> dict:
    actor_id, actor_label = current_actor()
    return {
        "created_at": datetime.now(UTC),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "table_name": table_name,
        "row_id": row_id,
        "project_id": project_id,
        "changes": json.dumps(changes, sort_keys=True, ensure_ascii=False, default=str),
        "address": _address(),
    }


def record(session: Session, action: str, *, table_name: str = "", row_id=None, project_id=None,
           changes: dict | None = None) -> None:
    """Write one audit event that is not a row change (login, export, review...)."""
    _append(session.connection(), [_new_row(action, table_name, row_id, project_id, changes or {})])


def _project_id_of(obj):
    if hasattr(obj, "audit_project_id"):
        return obj.audit_project_id
    return getattr(obj, "project_id", None)


def _row_id_of(obj):
    """The row's primary key. During ``after_flush`` a new row has its id but no identity
    key yet (that is set when the flush finishes), so read the key from the instance."""
    state = inspect(obj)
    if state.identity:
        return state.identity[0]
    key = state.mapper.primary_key_from_instance(obj)
    return key[0] if key else None


def _column_changes(obj, kind: str) -> dict:
    state = inspect(obj)
    excluded = NOISE_COLUMNS | set(getattr(obj, "__audit_exclude__", ()))
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in excluded:
            if key in getattr(obj, "__audit_exclude__", ()) and kind == "update":
                if state.attrs[key].history.has_changes():
                    changes[key] = ["(hidden)", "(changed)"]
            continue
        if kind == "insert":
            value = getattr(obj, key)
            if value is not None and key != "id":
                changes[key] = [None, _plain(value)]
        elif kind == "delete":
            value = state.dict.get(key)  # what was loaded; a deleted row is not reloaded
            if value is not None and key != "id":
                changes[key] = [_plain(value), None]
        else:
            history = state.attrs[key].history
            if history.has_changes():
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
                if _plain(old) != _plain(new):
                    changes[key] = [_plain(old), _plain(new)]
    return changes


def _flushed_deletes(session: Session, flush_context) -> list:
    """Every object this flush deleted: explicit deletes and orphans removed from collections
    (``session.deleted`` holds only the first; the flush context knows both)."""
    deleted, seen = [], set()
    for obj in session.deleted:
        seen.add(id(obj))
        deleted.append(obj)
    for state, (is_delete, list_only) in getattr(flush_context, "states", {}).items():
        obj = state.obj()
        if is_delete and not list_only and obj is not None and id(obj) not in seen:
            seen.add(id(obj))
            deleted.append(obj)
    return deleted


def _after_flush(session: Session, flush_context) -> None:
    rows = []
    for kind, objects in (("insert", session.new), ("update", session.dirty),
                          ("delete", _flushed_deletes(session, flush_context))):
        for obj in objects:
            if not getattr(type(obj), "__audit__", False):
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _column_changes(obj, kind)
            if kind == "update" and not changes:
                continue
            rows.append(_new_row(kind, type(obj).__tablename__, _row_id_of(obj), _project_id_of(obj), changes))
    if rows:
        _append(session.connection(), rows)


# ----------------------------------------------------------------------------------------
# What the database removes or changes by itself (ON DELETE CASCADE / SET NULL)


@cache
def _mapper_of_table(name: str):
    from ..extensions import db

    for mapper in db.Model.registry.mappers:
        if mapper.local_table.name == name:
            return mapper
    return None


@cache
def _referring_keys(name: str) -> tuple:
    """(child table, its column, ON DELETE action) for each foreign key pointing at table ``name``."""
    from ..extensions import db

    found = []
    for other in db.Model.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table.name == name and (fk.ondelete or "").upper() in ("CASCADE", "SET NULL"):
                found.append((other, fk.parent, fk.ondelete.upper()))
    return tuple(found)


def _row_changes(mapper, row, kind: str, only: set | None = None) -> dict:
    cls = mapper.class_
    excluded = NOISE_COLUMNS | set(getattr(cls, "__audit_exclude__", ()))
    changes = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if attr.key in excluded or attr.key == "id" or column.name not in row:
            continue
        if only is not None and column.name not in only:
            continue
        value = row[column.name]
        if kind == "delete" and value is not None:
            changes[attr.key] = [_plain(value), None]
        elif kind == "update":
            changes[attr.key] = [_plain(value), None]
    return changes


def _row_event(table, row, kind: str, only: set | None = None) -> dict | None:
    mapper = _mapper_of_table(table.name)
    if mapper is None or not getattr(mapper.class_, "__audit__", False):
        return None
    project_id = row["id"] if table.name == "project" else row.get("project_id")
    return _new_row(kind, table.name, row.get("id"), project_id, _row_changes(mapper, row, kind, only))


def _database_cascades(connection, table, ids: list, seen: set) -> list[dict]:
    """Events for the rows the database will delete (or set to NULL) when rows ``ids`` of
    ``table`` are deleted, read before the DELETE runs, recursively."""
    events = []
    if not ids:
        return events
    for child, column, action in _referring_keys(table.name):
        pk = list(child.primary_key.columns)
        if len(pk) != 1:
            continue
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = [dict(r) for r in connection.execute(select(child).where(column.in_(chunk))).mappings()]
            rows = [r for r in rows if (child.name, r[pk[0].name]) not in seen]
            if not rows:
                continue
            if action == "CASCADE":
                for row in rows:
                    seen.add((child.name, row[pk[0].name]))
                    event_row = _row_event(child, row, "delete")
                    if event_row is not None:
                        events.append(event_row)
                events.extend(_database_cascades(connection, child, [r[pk[0].name] for r in rows], seen))
            else:  # SET NULL: the row stays, one column loses its value
                for row in rows:
                    event_row = _row_event(child, row, "update", only={column.name})
                    if event_row is not None and event_row["changes"] != "{}":
                        events.append(event_row)
    return events


def _before_orm_delete(mapper, connection, target) -> None:
    """Just before the ORM deletes ``target``: what the database cascades from it. Children the
    ORM deletes itself were deleted first (the flush orders them), so they are not found here."""
    if len(mapper.primary_key) != 1:
        return
    session = object_session(target)
    seen = session.info.setdefault("audit_cascade_seen", set()) if session is not None else set()
    pk = mapper.primary_key_from_instance(target)[0]
    seen.add((mapper.local_table.name, pk))
    rows = _database_cascades(connection, mapper.local_table, [pk], seen)
    if rows:
        _append(connection, rows)


def _before_bulk_delete(orm_execute_state) -> None:
    """A ``delete()`` statement run through the session: its rows and their cascades, first."""
    if not orm_execute_state.is_delete:
        return
    statement = orm_execute_state.statement
    table = getattr(statement, "table", None)
    if table is None or getattr(table, "name", None) == "audit_event":
        return
    from ..extensions import db

    table = db.Model.metadata.tables.get(table.name)
    if table is None:
        return
    mapper = _mapper_of_table(table.name)
    if not (mapper is not None and getattr(mapper.class_, "__audit__", False)) and not _referring_keys(table.name):
        return  # nothing audited goes with it (login attempts, sessions)
    pk = list(table.primary_key.columns)
    query = select(table)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    connection = orm_execute_state.session.connection()
    found = [dict(r) for r in connection.execute(query).mappings()]
    if not found:
        return
    rows = [e for e in (_row_event(table, r, "delete") for r in found) if e is not None]
    if len(pk) == 1:
        rows += _database_cascades(connection, table, [r[pk[0].name] for r in found],
                                   {(table.name, r[pk[0].name]) for r in found})
    if rows:
        _append(connection, rows)


def _forget_cascades(session: Session, *_args) -> None:
    session.info.pop("audit_cascade_seen", None)


_STAMP = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)


def stamp() -> tuple:
    """The newest event's (id, hash): every change the app makes appends an event, so a new
    stamp means anything computed from the data may have moved (the inbox counts and the
    dashboard strip are remembered under it). The hash guards against SQLite handing a
    rolled-back event's id to a later one. Read once per request: appending an event, or a
    rollback, forgets it."""
    from ..extensions import db

    if has_request_context() and "audit_stamp" in g:
        return g.audit_stamp
    row = db.session.connection().execute(_STAMP).first()  # plain SQL, cached: every page asks
    value = tuple(row) if row is not None else ()
    if has_request_context():
        g.audit_stamp = value
    return value


class StampedMemo:
    """Values computed from the data, remembered per process until the trail gains an event
    (any change the app makes), ``seconds`` pass (a change made outside the app, by SQL) or the
    memo holds ``size`` entries (then it starts afresh). Keys should name everything else the
    value depends on (project, language, the page's filters)."""

    def __init__(self, seconds: float = 60, size: int = 512):
        import threading

        self.seconds, self.size = seconds, size
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key, compute):
        from time import monotonic

        from ..extensions import db

        full = (key, stamp(), str(db.engine.url), id(db.engine))
        entry = self._entries.get(full)
        if entry is not None and monotonic() - entry[0] <= self.seconds:
            return entry[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[full] = (monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def forget_stamp(*_args) -> None:
    if has_request_context():
        g.pop("audit_stamp", None)


def install() -> None:
    """Listen to every ORM session's flushes and deletes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_flush_postexec", _forget_cascades)
        event.listen(Session, "do_orm_execute", _before_bulk_delete)
        event.listen(Mapper, "before_delete", _before_orm_delete)
        event.listen(Session, "after_soft_rollback", forget_stamp)


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str = ""
    last_id: int | None = None
    last_hash: str = GENESIS_HASH
    anchor_missing: bool = False
    unkeyed: int = 0  # events from before the key, covered by a checkpoint

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.anchor_missing

    @property
    def anchor(self) -> str:
        """What to note outside the database and pass as ``--anchor`` next time."""
        return f"{self.last_id}:{self.last_hash}" if self.last_id is not None else self.last_hash


def _event_fault(row: dict, prev: str, keyed_seen: bool, key: bytes) -> str | None:
    """What is wrong with one event read in chain order (None: nothing)."""
    try:
        recomputed = event_hash(row, row["prev_hash"])
    except (ValueError, TypeError, KeyError, AttributeError):  # content no longer readable
        recomputed = None
    if recomputed != row["hash"]:
        return "its content does not match its hash (the event was changed)"
    if row["prev_hash"] != prev:
        return ("it does not point at the event before it (an event before it was removed, "
                "or events were reordered)")
    if row["hmac"] is None:
        if keyed_seen:
            return ("it carries no signature of the audit key although the events before it do "
                    "(it was added by someone without the key: a forged event)")
    elif not hmac.compare_digest(str(row["hmac"]), event_hmac(row["hash"], key)):
        return ("its hash is consistent but its signature does not match the audit key (it was "
                "rewritten and the chain recomputed, or forged, by someone without the key; or the "
                "app runs with another key than the one that wrote it)")
    return None


def _parse_anchor(anchor: str | None) -> tuple[int | None, str | None]:
    """``ID:HASH`` (what a clean run prints) or a bare hash (older runs printed only that)."""
    if not anchor:
        return None, None
    anchor = anchor.strip()
    if ":" in anchor:
        noted_id, noted_hash = anchor.split(":", 1)
        if noted_id.strip().isdigit():
            return int(noted_id), noted_hash.strip().lower()
    return None, anchor.lower()


def verify_chain(session: Session, anchor: str | None = None) -> ChainReport:
    """Recompute every event's hash and key signature in order; report the first bad event.

    What it tells apart (the reason names it):

    - an event whose content no longer matches its hash: it was **changed**;
    - an event that does not point at the one before it: events were **removed** (or reordered);
    - an event whose hash is right but which has no HMAC after keyed events began: it was
      **added without the key** (forged);
    - an event whose hash is right but whose HMAC is wrong: it was **rewritten and re-chained**
      (or forged) by someone without the key;
    - events from before the key that no keyed event follows: not covered.

    Removing the newest events leaves a shorter chain that is still whole, so ``anchor``
    (``ID:HASH`` noted from an earlier clean run, kept outside the database) must still be
    there: a missing id means the newest events were removed; the id with another hash means
    that event was rewritten.
    """
    key = audit_key()
    prev = GENESIS_HASH
    checked = 0
    last_id = None
    keyed_seen = False
    unkeyed = 0
    anchor_id, anchor_hash = _parse_anchor(anchor)
    anchor_seen = anchor_hash is None
    anchor_other_hash = None
    # A database not yet at migration 0005 has no signatures: its SHA-256 chain is all there is.
    present = {c["name"] for c in inspect(session.connection()).get_columns("audit_event")}
    signed_schema = "hmac" in present
    columns = [c for c in AuditEvent.__table__.columns if c.name in present]
    result = session.execute(select(*columns).order_by(AuditEvent.id).execution_options(yield_per=2000))
    for row in result.mappings():
        row = dict(row)
        row.setdefault("hmac", None)

        fault = _event_fault(row, prev, keyed_seen, key)
        if fault is not None:
            return ChainReport(checked, row["id"], fault, last_id, prev, unkeyed=unkeyed)
        if row["hmac"] is None:
            unkeyed += 1
        else:
            keyed_seen = True
        prev = row["hash"]
        last_id = row["id"]
        if anchor_hash is not None and not anchor_seen:
            if prev == anchor_hash and (anchor_id is None or anchor_id == last_id):
                anchor_seen = True
            elif anchor_id is not None and anchor_id == last_id:
                anchor_other_hash = prev
        checked += 1
    if unkeyed and not keyed_seen and signed_schema:
        return ChainReport(checked, last_id, f"the {unkeyed} events are not signed with the audit key and no keyed "
                           "checkpoint follows them (run `flask db upgrade`, or any change, to write one)",
                           last_id, prev, unkeyed=unkeyed)
    if not anchor_seen:
        if anchor_other_hash is not None:
            reason = (f"event {anchor_id} no longer has the noted hash (it was rewritten, with the events "
                      "after it re-chained)")
        elif anchor_id is not None and (last_id is None or anchor_id > last_id):
            reason = (f"the noted event {anchor_id} is no longer there: the newest events were removed "
                      f"(the chain now ends at event {last_id})")
        elif anchor_id is not None:
            reason = f"the noted event {anchor_id} is missing from the chain (it was removed)"
        else:
            reason = ("the event with the noted hash is no longer in the chain (the newest events were removed, "
                      "or rewritten)")
        return ChainReport(checked, None, reason, last_id, prev, anchor_missing=True, unkeyed=unkeyed)
    return ChainReport(checked, last_id=last_id, last_hash=prev, unkeyed=unkeyed)
