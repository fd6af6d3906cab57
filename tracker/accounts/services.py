"""Accounts: creating users, granting roles, and logging in with throttling."""

from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import trail
from ..extensions import db
from ..validation import InputError
from ..models import ROLES, LoginAttempt, Membership, Project, User

GENERIC_LOGIN_ERROR = "Email or password is not right."


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(email: str, name: str, password: str, *, is_admin: bool = False) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InputError(f"{email!r} is not an email address.")
    if not name.strip():
        raise InputError("A name is required.")
    check_password_rules(password)
    if db.session.execute(select(User.id).where(User.email == email)).first():
        raise InputError(f"A user with the email {email} exists already.")
    user = User(email=email, name=name.strip(), is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


MIN_PASSWORD_LENGTH = 8


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (stored hashed; the trail notes only that it changed)."""
    check_password_rules(password)
    user.set_password(password)
    db.session.flush()


def set_active(user: User, active: bool, *, acting_user: User | None = None) -> None:
    """Deactivate (no more logins, open sessions end) or reactivate a user; history stays."""
    if not active and acting_user is not None and acting_user.id == user.id:
        raise InputError("You cannot deactivate your own account.")
    user.active = active
    db.session.flush()


def find_user(email: str) -> User:
    user = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar()
    if user is None:
        raise InputError(f"No user with the email {email}.")
    return user


def find_project(code_or_id: str) -> Project:
    project = db.session.execute(select(Project).where(Project.code == code_or_id)).scalar()
    if project is None and str(code_or_id).isdigit():
        project = db.session.get(Project, int(code_or_id))
    if project is None:
        raise InputError(f"No project with the code or id {code_or_id}.")
    return project


def grant(user: User, project: Project, role: str) -> Membership:
    """Give ``user`` the ``role`` on ``project`` (replacing any role they had there)."""
    if role not in ROLES:
        raise InputError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.project_id == project.id)
    ).scalar()
    if membership is None:
        membership = Membership(user_id=user.id, project_id=project.id, role=role)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    return membership


def revoke(membership: Membership) -> None:
    db.session.delete(membership)
    db.session.flush()


def _recent_failures(column, value, since) -> int:
    return db.session.execute(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.success.is_(False), LoginAttempt.created_at >= since, column == value)
    ).scalar()


def is_throttled(email: str, address: str) -> bool:
    """True when the account or the address has had too many failures in the window."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = datetime.now(UTC) - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    return (_recent_failures(LoginAttempt.email, email, since) >= limit
            or _recent_failures(LoginAttempt.address, address, since) >= limit)


class Throttled(Exception):
    pass


def _dummy_hash() -> str:
    """A hash of nobody's password made with the configured method, so that checking it costs
    what checking a real user's password costs (no telling unknown emails apart by timing)."""
    return _dummy_hash_for(current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt")


@cache
def _dummy_hash_for(method: str) -> str:
    return generate_password_hash("not a password of anyone", method=method)


def authenticate(email: str, password: str, address: str) -> User:
    """The user for these credentials; InputError with one generic message otherwise.

    Every attempt is recorded for throttling and in the audit trail.
    """
    email = normalise_email(email)[:254]
    if is_throttled(email, address):
        trail.record(db.session, "login_throttled", changes={"email": email})
        raise Throttled(
            "Too many failed logins for this account or from this address. "
            f"Wait {current_app.config['LOGIN_WINDOW_MINUTES']} minutes and try again.")
    user = db.session.execute(select(User).where(User.email == email)).scalar()
    stored_hash, active = (user.password_hash, user.active) if user is not None else (None, False)
    # End the (read-only) transaction before the deliberately slow hash, so SQLite's write
    # lock is not held while it runs: a burst of logins would otherwise queue every save.
    db.session.rollback()
    # Hash anyway, so an unknown email takes as long as a wrong password (no enumeration).
    password_ok = check_password_hash(stored_hash or _dummy_hash(), password)
    ok = user is not None and password_ok and active
    db.session.add(LoginAttempt(email=email, address=address[:64], success=ok))
    if not ok:
        trail.record(db.session, "login_failed", changes={"email": email})
        raise InputError(GENERIC_LOGIN_ERROR)
    trail.set_actor(user.id, user.email)
    trail.record(db.session, "login", table_name="user", row_id=user.id)
    return user
