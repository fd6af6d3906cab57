"""The one mechanism that writes the audit trail.

A SQLAlchemy ``after_flush`` hook turns every insert, update and delete of a model marked
``__audit__ = True`` into one ``AuditEvent`` row with the changed fields (old and new).
``record()`` adds events that are not row changes (login, failed login, export, review).

Each event's ``hash`` is SHA-256 over its canonical JSON content and the previous event's
hash, so the events form a chain; ``verify_chain()`` recomputes it. Writers are serialised
(SQLite's ``BEGIN IMMEDIATE``; a transaction-scoped advisory lock on PostgreSQL) so two
transactions never chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session

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


def _append(connection, rows: list[dict]) -> None:
    """Chain ``rows`` onto the last event and insert them, in order."""
    if not rows:
        return
    prepare_write(connection)  # SQLite: a page read's snapshot becomes a writer before reading the last hash
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_CHAIN_LOCK})
    prev = connection.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar() or GENESIS_HASH
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(row, prev)
    connection.execute(insert(AuditEvent), rows)


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


def _after_flush(session: Session, _flush_context) -> None:
    rows = []
    for kind, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
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


def install() -> None:
    """Listen to every ORM session's flushes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str = ""
    last_id: int | None = None
    last_hash: str = GENESIS_HASH
    anchor_missing: bool = False

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.anchor_missing


def verify_chain(session: Session, anchor: str | None = None) -> ChainReport:
    """Recompute every event's hash in order; report the first event that does not match.

    The chain shows any change to an event and any removal before the newest one. Removing
    the newest events leaves a shorter chain that is still whole, so ``anchor`` (a hash
    noted earlier from this report's ``last_hash``, kept outside the database) must still be
    found in the chain.
    """
    prev = GENESIS_HASH
    checked = 0
    last_id = None
    anchor_seen = anchor is None
    columns = [c for c in AuditEvent.__table__.columns]
    result = session.execute(select(*columns).order_by(AuditEvent.id).execution_options(yield_per=2000))
    for row in result.mappings():
        row = dict(row)
        if row["prev_hash"] != prev:
            return ChainReport(checked, row["id"], "it does not point at the event before it "
                                                  "(an event was removed or reordered)", last_id, prev)
        try:
            recomputed = event_hash(row, prev)
        except (ValueError, TypeError, KeyError, AttributeError):  # content no longer readable
            recomputed = None
        if recomputed != row["hash"]:
            return ChainReport(checked, row["id"], "its content does not match its hash (it was changed)",
                               last_id, prev)
        prev = row["hash"]
        last_id = row["id"]
        anchor_seen = anchor_seen or prev == anchor
        checked += 1
    if not anchor_seen:
        return ChainReport(checked, None, "the event with the noted hash is no longer in the chain "
                                          "(the newest events were removed)", last_id, prev, anchor_missing=True)
    return ChainReport(checked, last_id=last_id, last_hash=prev)
