"""Shared column helpers for the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    """Now, in UTC, as a timezone-aware datetime (stored as UTC)."""
    return datetime.now(UTC)


class ProjectScoped:
    """A row that belongs to one project.

    Every audited table carries ``project_id`` itself so the audit hook and the permission
    checks never need to walk relationships during a flush.
    """

    @declared_attr
    def project_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True, nullable=False)


class Versioned:
    """Optimistic concurrency: ``version`` grows on each update; who and when are kept.

    A form carries the version it was opened with; the service refuses a save whose version
    is no longer current (see ``tracker.concurrency``) instead of overwriting silently.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user.id", ondelete="SET NULL"), nullable=True)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}
