"""The keyed chain: every event carries an HMAC under a key kept outside the database, so an
event appended, rewritten and re-chained, removed or changed behind the app's back is found
and named; databases from before the key are covered by a keyed checkpoint."""

import json
import os
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import close_app, make_app
from tests.test_audit import drop_append_only_triggers, last_id, middle_event_id
from tracker.audit import trail
from tracker.extensions import db
from tracker.models import AuditEvent


def verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def anchor_of(result):
    return result.output.split("anchor ")[1].split()[0]


def forged_row(prev_hash, **overrides):
    row = {"created_at": datetime.now(UTC), "actor_id": None, "actor_label": "forger", "action": "update",
           "table_name": "expenditure", "row_id": 1, "project_id": 1,
           "changes": json.dumps({"amount_cents": [100, 1]}), "address": ""}
    row.update(overrides)
    row["prev_hash"] = prev_hash
    row["hash"] = trail.event_hash(row, prev_hash)
    return row


def test_every_event_the_app_writes_is_signed(app):
    with app.app_context():
        events = db.session.execute(select(AuditEvent)).scalars().all()
        assert events and all(e.hmac == trail.event_hmac(e.hash) for e in events)


def test_an_appended_event_with_a_correct_sha256_but_no_key_is_named_forged(app, runner):
    with app.app_context():
        last_hash = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc())).scalars().first()
        db.session.execute(insert(AuditEvent).values(**forged_row(last_hash)))
        db.session.commit()
        forged = last_id()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"BROKEN at event {forged}" in result.output and "forged" in result.output
    assert "without the key" in result.output


def test_an_appended_event_with_a_made_up_signature_is_refused(app, runner):
    with app.app_context():
        last_hash = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc())).scalars().first()
        db.session.execute(insert(AuditEvent).values(hmac="a" * 64, **forged_row(last_hash)))
        db.session.commit()
        forged = last_id()
    result = verify(runner)
    assert result.exit_code == 1 and f"BROKEN at event {forged}" in result.output
    assert "signature does not match the audit key" in result.output


def _rewrite_and_rechain(app):
    """Change the middle event and recompute every SHA-256 after it, as a forger would."""
    with app.app_context():
        drop_append_only_triggers()
        target, ids = middle_event_id()
        rows = db.session.execute(select(*AuditEvent.__table__.columns).where(AuditEvent.id >= target)
                                  .order_by(AuditEvent.id)).mappings().all()
        prev = rows[0]["prev_hash"]
        for index, row in enumerate(rows):
            row = dict(row)
            if index == 0:
                row["changes"] = json.dumps({"title": [None, "A different past"]})
            row["hash"] = trail.event_hash(row, prev)
            db.session.execute(text("UPDATE audit_event SET changes = :changes, prev_hash = :prev, hash = :hash "
                                    "WHERE id = :id"),
                               {"changes": row["changes"], "prev": prev, "hash": "x" + row["hash"][1:],
                                "id": row["id"]})  # a temporary hash first: the column is unique
            db.session.execute(text("UPDATE audit_event SET hash = :hash WHERE id = :id"),
                               {"hash": row["hash"], "id": row["id"]})
            prev = row["hash"]
        db.session.commit()
    return target


def test_a_rewritten_and_rechained_tail_is_named_rewritten_with_or_without_the_anchor(app, runner):
    anchor = anchor_of(verify(runner))
    target = _rewrite_and_rechain(app)
    for args in ((), ("--anchor", anchor)):
        result = verify(runner, *args)
        assert result.exit_code == 1, result.output
        assert f"BROKEN at event {target}" in result.output and "rewritten" in result.output
        assert "newest events were removed" not in result.output


def test_a_removed_middle_event_is_named_removed(app, runner):
    with app.app_context():
        drop_append_only_triggers()
        target, ids = middle_event_id()
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": target})
        db.session.commit()
    result = verify(runner)
    following = ids[ids.index(target) + 1]
    assert result.exit_code == 1 and f"BROKEN at event {following}" in result.output
    assert "removed" in result.output and "forged" not in result.output


def test_a_changed_event_is_named_changed(app, runner):
    with app.app_context():
        drop_append_only_triggers()
        target, _ids = middle_event_id()
        db.session.execute(text("UPDATE audit_event SET actor_label = 'someone else' WHERE id = :id"),
                           {"id": target})
        db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1 and f"BROKEN at event {target}" in result.output and "changed" in result.output


def test_removed_newest_events_are_named_with_the_anchor(app, runner):
    anchor = anchor_of(verify(runner))
    with app.app_context():
        drop_append_only_triggers()
        db.session.execute(text("DELETE FROM audit_event WHERE id = (SELECT MAX(id) FROM audit_event)"))
        db.session.commit()
    result = verify(runner, "--anchor", anchor)
    assert result.exit_code == 1 and "the newest events were removed" in result.output


def test_another_key_does_not_verify(databases, tmp_path):
    app = make_app(databases, tmp_path, AUDIT_KEY="a different key altogether")
    try:
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 1 and "signature does not match the audit key" in result.output
    finally:
        close_app(databases, app)


def test_the_key_is_generated_once_into_the_instance_folder_private(databases, tmp_path):
    app = make_app(databases, tmp_path, TESTING=False, DEBUG=True)
    try:
        with app.app_context():
            key = trail.audit_key()
            key_file = trail._key_file(app.instance_path)
            assert key_file.read_text().strip().encode() == key and len(key) >= 32
            assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
            app.extensions.pop("tracker.audit_key")
            assert trail.audit_key() == key  # read again, not made again
    finally:
        close_app(databases, app)


def test_the_key_comes_from_the_environment(databases, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_AUDIT_KEY", "from the environment, 32 characters at least")
    app = make_app(databases, tmp_path, "empty", TESTING=False, DEBUG=True)
    try:
        with app.app_context():
            assert trail.audit_key() == b"from the environment, 32 characters at least"
            assert not trail._key_file(app.instance_path).exists()
    finally:
        close_app(databases, app)


def test_a_database_from_before_the_key_is_covered_by_a_checkpoint(databases, tmp_path, runner):
    """Events written at 0004 have no signature; upgrading writes one keyed checkpoint on them."""
    from flask_migrate import downgrade, upgrade

    app = make_app(databases, tmp_path, "empty")
    try:
        with app.app_context():
            downgrade(revision="0004")
            prev = trail.GENESIS_HASH
            for number in range(3):
                row = forged_row(prev, actor_label="before the key", row_id=number)
                db.session.execute(text(
                    "INSERT INTO audit_event (created_at, actor_id, actor_label, action, table_name, row_id, "
                    "project_id, changes, address, prev_hash, hash) VALUES (:created_at, :actor_id, :actor_label, "
                    ":action, :table_name, :row_id, :project_id, :changes, :address, :prev_hash, :hash)"), row)
                prev = row["hash"]
            db.session.commit()
            db.session.remove()
            upgrade()
            events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
            assert [e.hmac is None for e in events] == [True, True, True, False]
            checkpoint = events[-1]
            assert checkpoint.action == trail.CHECKPOINT and checkpoint.prev_hash == events[2].hash
            assert json.loads(checkpoint.changes)["covers_hash"] == events[2].hash
            db.session.remove()
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0 and "3 from before the audit key" in result.output, result.output
        # Rewriting a pre-key event and re-chaining them breaks at the checkpoint's signature.
        with app.app_context():
            drop_append_only_triggers()
            db.session.execute(text("UPDATE audit_event SET actor_label = 'rewritten' WHERE id = 1"))
            db.session.commit()
        assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 1
    finally:
        close_app(databases, app)


def test_unsigned_events_with_no_keyed_event_after_them_do_not_verify(databases, tmp_path):
    app = make_app(databases, tmp_path, "empty")
    try:
        with app.app_context():
            prev = trail.GENESIS_HASH
            row = forged_row(prev)
            db.session.execute(insert(AuditEvent).values(**row))
            db.session.commit()
            report = trail.verify_chain(db.session)
            assert not report.ok and "not signed with the audit key" in report.reason
            # The next event the app writes covers it with a checkpoint.
            trail.record(db.session, "export")
            db.session.commit()
            actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
            assert actions == ["update", trail.CHECKPOINT, "export"] and trail.verify_chain(db.session).ok
    finally:
        close_app(databases, app)


def test_the_append_only_triggers_survive_the_migration(app):
    with app.app_context():
        target = db.session.execute(select(func.min(AuditEvent.id))).scalar()
        for sql in ("UPDATE audit_event SET hmac = NULL WHERE id = :id", "DELETE FROM audit_event WHERE id = :id"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(sql), {"id": target})
                db.session.flush()
            db.session.rollback()
