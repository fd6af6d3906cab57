"""the audit trail is keyed (an HMAC per event); server-side sessions

Revision ID: 0005
Revises: 0004

* ``audit_event.hmac``: HMAC-SHA256 of the event's hash under the audit key, which lives
  outside the database (``TRACKER_AUDIT_KEY`` or ``instance/audit_key``; see
  tracker/audit/trail.py). Added with ``ALTER TABLE ... ADD COLUMN`` on both databases: the
  table is never rebuilt, so 0002's append-only triggers stay (tests/test_audit_keys.py checks
  they still refuse UPDATE and DELETE). Existing events keep ``hmac`` NULL; when the upgrade
  runs inside the app (``flask db upgrade``) it appends one keyed *checkpoint* event chained
  onto the last of them, so the key covers every earlier event from now on. Run without the
  app, the first audit event written afterwards adds the checkpoint instead.
* ``user_session``: one row per logged-in browser session (the SHA-256 of a random token kept
  in the signed session cookie). Logging out deletes the row, "log out everywhere" deletes
  all of the user's rows, and a cookie whose row is gone no longer logs anyone in.
* ``user.session_epoch`` (ALTER TABLE ADD COLUMN, default 0): part of every session's
  fingerprint; "log out everywhere" increases it, so every session of the user ends, even one
  opened before this revision (whose cookie carries no token).

The downgrade drops both (and with them the signatures: ``audit verify`` of the downgraded
app checks the SHA-256 chain only).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("audit_event", sa.Column("hmac", sa.String(length=64), nullable=True))
    op.add_column("user", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)
    op.create_index(op.f("ix_user_session_created_at"), "user_session", ["created_at"], unique=False)
    _checkpoint()


def _checkpoint():
    """Cover the events written before the key with one keyed event (needs the app for the key)."""
    from flask import has_app_context

    if not has_app_context():
        return
    from tracker.audit import trail

    trail.write_checkpoint(op.get_bind())


def downgrade():
    op.drop_index(op.f("ix_user_session_created_at"), table_name="user_session")
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
    with op.batch_alter_table("user", recreate="never") as batch:
        batch.drop_column("session_epoch")
    with op.batch_alter_table("audit_event", recreate="never") as batch:
        batch.drop_column("hmac")
