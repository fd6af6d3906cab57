"""Server-side sessions: a copied cookie stops working the moment its session ends.

Flask keeps the session in a signed cookie, which alone cannot be revoked: a copy taken
before logout would work until it expires. So each login also writes a ``UserSession`` row
(the SHA-256 of a random token; the token itself travels in the signed cookie), and every
request checks the row is still there (``tracker.accounts.routes``):

- **logout** deletes this session's row: the same cookie, or any copy of it, is refused;
- **log out everywhere** (the account page) deletes all the user's rows and increases
  ``user.session_epoch``, which is part of each session's fingerprint (``auth_hash``), so
  sessions opened before this mechanism (their cookie has no token) end too;
- a new password changes the fingerprint as before, ending every session.

Rows of sessions nobody logged out of are pruned at each login once older than the longest a
session cookie lives (``PERMANENT_SESSION_LIFETIME``). Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import bindparam, delete, select

from ..extensions import db
from ..models.accounts import User, UserSession

SESSION_KEY = "_sid"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(user: User) -> str:
    """A new session for ``user``; returns the token to keep in the signed cookie."""
    prune()
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_digest(token), created_at=datetime.now(UTC)))
    db.session.flush()
    return token


def is_open(user_id: int, token: str) -> bool:
    return db.session.execute(select(UserSession.id).where(
        UserSession.user_id == user_id, UserSession.token_hash == _digest(str(token)))).first() is not None


def user_and_session(user_id: int, token: str | None) -> tuple[User | None, bool | None]:
    """The user and whether the session of ``token`` is still open, in one query (every request
    asks both); None for the second when the cookie carries no token."""
    if token is None:
        return db.session.get(User, user_id), None
    row = db.session.execute(_USER_AND_SESSION, {"user_id": user_id, "token_hash": _digest(str(token))}).first()
    return (None, None) if row is None else (row[0], row[1] is not None)


# Built once: every request asks it.
_USER_AND_SESSION = (
    select(User, UserSession.id)
    .outerjoin(UserSession, (UserSession.user_id == User.id) & (UserSession.token_hash == bindparam("token_hash")))
    .where(User.id == bindparam("user_id")))


def count_open(user_id: int) -> int:
    from sqlalchemy import func

    return db.session.execute(select(func.count()).select_from(UserSession)
                              .where(UserSession.user_id == user_id)).scalar()


def end_session(token: str | None) -> None:
    """End one session (logout): its cookie, and every copy of it, no longer logs anyone in."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(str(token))))


def end_all_sessions(user: User) -> None:
    """End every session of ``user`` (log out everywhere), older ones without a token included."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    user.session_epoch = (user.session_epoch or 0) + 1
    db.session.flush()


def prune() -> None:
    """Forget sessions older than any session cookie can live."""
    oldest = datetime.now(UTC) - current_app.permanent_session_lifetime
    db.session.execute(delete(UserSession).where(UserSession.created_at < oldest))
