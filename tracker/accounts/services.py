"""Accounts: creating users, granting roles, and logging in with throttling.

The pages (tracker/accounts/routes.py, tracker/admin/routes.py) and the CLI (tracker/cli.py)
call these same functions, so a rule (password length, one role per project, no removing or
deactivating yourself) holds whichever way a change comes in. Nothing here commits.
"""

from dataclasses import dataclass
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
        raise InputError(f"{email!r} is not an email address.", field="email")
    if not name.strip():
        raise InputError("A name is required.", field="name")
    check_password_rules(password)
    if db.session.execute(select(User.id).where(User.email == email)).first():
        raise InputError(f"A user with the email {email} exists already.", field="email")
    user = User(email=email, name=name.strip(), is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


MIN_PASSWORD_LENGTH = 8


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password")


def set_password(user: User, password: str) -> User:
    """Give ``user`` a new password (stored hashed; the trail notes only that it changed)."""
    check_password_rules(password)
    user.set_password(password)
    db.session.flush()
    return user


def set_active(user: User, active: bool, *, acting_user: User | None = None) -> User:
    """Deactivate (no more logins, open sessions end) or reactivate a user; history stays."""
    if not active and acting_user is not None and acting_user.id == user.id:
        raise InputError("You cannot deactivate your own account.")
    user.active = active
    db.session.flush()
    return user


def find_user(email: str) -> User:
    user = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar()
    if user is None:
        raise InputError(f"No user with the email {email}.", field="email")
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
        raise InputError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", field="role")
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


def revoke(membership: Membership, *, acting_user: User | None = None) -> None:
    """Take a member off a project; nobody removes themselves (another manager does)."""
    if acting_user is not None and membership.user_id == acting_user.id:
        raise InputError("You cannot remove yourself; ask another manager.")
    db.session.delete(membership)
    db.session.flush()


def members_of(project_id: int) -> list[tuple[Membership, User]]:
    """A project's memberships with their users, by name (one query)."""
    return db.session.execute(
        select(Membership, User).join(User).where(Membership.project_id == project_id).order_by(User.name)
    ).all()


def all_users() -> list[User]:
    return db.session.execute(select(User).order_by(User.email)).scalars().all()


def roles_by_user() -> dict[int, list[tuple[str, str]]]:
    """user id -> [(project code, role)], by project code (one query, whatever the number of users)."""
    roles: dict[int, list[tuple[str, str]]] = {}
    for user_id, code, role in db.session.execute(
            select(Membership.user_id, Project.code, Membership.role).join(Project).order_by(Project.code)).all():
        roles.setdefault(user_id, []).append((code, role))
    return roles


def projects_with_member_counts() -> list[tuple[Project, int]]:
    """Every project with its number of members, by code (one query)."""
    return db.session.execute(
        select(Project, func.count(Membership.id)).outerjoin(Membership).group_by(Project.id).order_by(Project.code)
    ).all()


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
    """Too many failed logins for the account or the address."""


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


@dataclass
class LoginOutcome:
    """The result of a login attempt: the user, or the refusal and its HTTP status."""

    user: User | None
    error: str = ""
    status: int = 200


def log_in(email: str, password: str, address: str) -> LoginOutcome:
    """Check the credentials and record the attempt, whatever its result.

    A refused attempt must be kept (throttling counts it, the trail shows it), so it is
    returned rather than raised: the caller commits either way.
    """
    try:
        return LoginOutcome(authenticate(email, password, address))
    except Throttled as error:
        return LoginOutcome(None, str(error), 429)
    except InputError as error:
        return LoginOutcome(None, str(error), 422)


def record_logout(user: User) -> None:
    """A logout is an event in the trail."""
    trail.record(db.session, "logout", table_name="user", row_id=user.id)
