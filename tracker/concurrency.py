"""Optimistic concurrency: refuse a save made from an out-of-date form.

A form for a versioned record carries a hidden ``version`` field with the record's version
when the form was opened. Services call ``check_version`` before changing the record; a
mismatch raises ``ConflictError`` whose message says who changed it and when, and the route
answers 409 with the form (what the user typed kept) and a link to reload. SQLAlchemy's
``version_id_col`` catches the last race (two saves between check and flush): the app turns
its ``StaleDataError`` into the same 409.
"""

from sqlalchemy import select

from .extensions import db


class ConflictError(Exception):
    """The record changed since the form was opened."""


def _who(user_id) -> str:
    from .models import User

    if user_id is None:
        return "someone else"
    name = db.session.execute(select(User.name).where(User.id == user_id)).scalar()
    return name or "someone else"


def check_version(record, submitted_version, what: str = "This record") -> None:
    """Raise ConflictError unless ``submitted_version`` is the record's current version."""
    try:
        submitted = int(submitted_version)
    except (TypeError, ValueError):
        raise ConflictError(f"{what} could not be matched to the version you opened; reload and try again.") \
            from None
    if submitted != record.version:
        when = record.updated_at.strftime("%Y-%m-%d %H:%M UTC") if record.updated_at else "just now"
        raise ConflictError(
            f"{what} was changed by {_who(record.updated_by_id)} on {when}, after you opened it. "
            "Your changes were not saved; reload to see the current version, then make them again.")


def stamp(record, user) -> None:
    """Note who changed a versioned record (the version itself grows on flush)."""
    record.updated_by_id = getattr(user, "id", None)
