"""Shared column helpers for the models, and the CHECK constraints they declare."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer
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


# --- CHECK constraints -------------------------------------------------------------------------
# The database states the rules it can: each enum column holds one of its map's keys, percents
# stay within 0-100, an end is never before its start, money is never negative. Services still
# check first (with a message next to the field); these catch whatever gets past them (a bug, a
# script, a hand-written SQL statement). Names follow the metadata's naming convention: the
# ``name`` given here is the ``<what>`` in ``ck_<table>_<what>``.

_ENUM_VALUE = re.compile(r"[a-z][a-z0-9_]*")


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """``column`` holds one of ``values``: the keys of the enum's one value -> label map."""
    values = list(values)
    if not values or not all(_ENUM_VALUE.fullmatch(value) for value in values):
        raise ValueError(f"enum values for {column} must be lower-case identifiers: {values!r}")
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def percent_range(column: str) -> CheckConstraint:
    """``column`` is a percentage from 0 to 100, both included."""
    return CheckConstraint(f"{column} >= 0 AND {column} <= 100", name=column)


def not_negative(column: str) -> CheckConstraint:
    """``column`` (money) is zero or more; NULL, where allowed, passes."""
    return CheckConstraint(f"{column} >= 0", name=column)


def ends_after_start(start: str, end: str, name: str) -> CheckConstraint:
    """``end`` is not before ``start``. Where either is NULL (allowed) the test is unknown, which
    a CHECK lets pass: an activity with no planned end yet is fine."""
    return CheckConstraint(f"{end} >= {start}", name=name)


def flag(column: str) -> Boolean:
    """A Boolean column's type that is 0 or 1 on SQLite too (PostgreSQL's boolean is already)."""
    return Boolean(create_constraint=True, name=column)
