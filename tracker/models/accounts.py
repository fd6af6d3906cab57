"""People: users, their memberships (a role per project) and login attempts."""

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ._base import Versioned, flag, one_of, utcnow

# A member's role in a project (what each may do: tracker.permissions). One ordered
# value -> label map; the tuple and the database's CHECK constraint derive from it.
ROLE_LABELS = {"manager": _l("Manager"), "officer": _l("Officer"), "liaison": _l("Liaison"), "auditor": _l("Auditor")}
ROLES = tuple(ROLE_LABELS)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __audit__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(300), nullable=False)
    is_admin: Mapped[bool] = mapped_column(flag("is_admin"), nullable=False, default=False)
    active: Mapped[bool] = mapped_column(flag("active"), nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Grows with "log out everywhere": part of every session's fingerprint, so all the user's
    # sessions end at once, those opened before server-side sessions existed included.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The interface language the person chose (tracker.i18n.LANGUAGES); NULL follows the browser.
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)

    # The weekly digest of "Needs your action" (`flask remind`, tracker/reminders): sent unless the
    # person turned it off on their account page; the ISO week it was last sent for ("2017-W05"),
    # so a second run in the same week sends nothing again (migration 0010).
    digest_enabled: Mapped[bool] = mapped_column(flag("digest_enabled"), nullable=False, default=True,
                                                 server_default=true())
    digest_sent_week: Mapped[str | None] = mapped_column(String(8), nullable=True)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Never written to the audit trail in clear or hashed form.
    __audit_exclude__ = {"password_hash"}

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot log in
        return self.active

    def set_password(self, password: str) -> None:
        # The method comes from the PASSWORD_HASH_METHOD setting (werkzeug's scrypt unless
        # configured; the tests use a cheap one). Checking reads the method from the stored
        # hash, so changing the setting never locks anyone out.
        method = current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(Versioned, db.Model):
    __tablename__ = "membership"
    __audit__ = True
    __table_args__ = (UniqueConstraint("user_id", "project_id"), one_of("role", ROLES))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    # Who changed the role last, by id only: a second foreign key to ``user`` would make every
    # join between user and membership ambiguous. A user who is gone reads as "someone else".
    updated_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    project = relationship("Project", back_populates="memberships")


class LoginAttempt(db.Model):
    """One login attempt, kept for throttling (per account and per address)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    address: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    success: Mapped[bool] = mapped_column(flag("success"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SubmittedForm(db.Model):
    """A create form's one-time token, kept once the form has created its row.

    A create form carries a fresh ``form_token``; the first submission that succeeds records it
    with where its result lives, and a second submission of the same form (a double click, a
    resent request) is answered with a redirect to that result instead of making a second row
    (tracker.forms.idempotent_create).
    """

    __tablename__ = "submitted_form"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    result_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class UserSession(db.Model):
    """One logged-in browser session, so the server can end it (tracker/accounts/sessions.py).

    The signed session cookie carries a random token; only its SHA-256 is stored here.
    Logging out deletes the row; "log out everywhere" deletes all of a user's rows.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
