"""The audit trail: one append-only row per change, chained by SHA-256 and signed by an HMAC."""

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class AuditEvent(db.Model):
    """An append-only record of one change or one notable act (login, export, review).

    ``hash`` is the SHA-256 of the event's canonical content together with ``prev_hash``,
    the hash of the event before it, so changing or removing any event breaks the chain
    (``flask audit verify``). The database refuses UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_event"
    # A member's recent events in a project: the inbox's "member idle" count (migration 0012).
    __table_args__ = (Index("ix_audit_event_project_actor_created", "project_id", "actor_id", "created_at"),
                      # the trail filter's people and actions, one index seek each (migration 0013)
                      Index("ix_audit_event_project_actor_label", "project_id", "actor_label"),
                      Index("ix_audit_event_project_action", "project_id", "action"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: history outlives users
    actor_label: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    table_name: Mapped[str] = mapped_column(String(60), nullable=False, default="", index=True)
    row_id: Mapped[int | None] = mapped_column(Integer, index=True)
    project_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changes: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    address: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # HMAC-SHA256 of ``hash`` under the audit key, which is kept outside the database
    # (tracker/audit/trail.py); NULL only on events written before the key existed (0005).
    hmac: Mapped[str | None] = mapped_column(String(64))
