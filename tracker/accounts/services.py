"""Accounts: creating users, granting roles, and logging in with throttling.

The pages (tracker/accounts/routes.py, tracker/admin/routes.py) and the CLI (tracker/cli.py)
call these same functions, so a rule (password length, one role per project, no removing or
deactivating yourself) holds whichever way a change comes in. Nothing here commits.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import trail
from ..concurrency import check_version, check_versions, stamp
from ..extensions import db
from ..i18n import N_
from ..models import ROLES, LoginAttempt, Membership, Project, User
from ..validation import InputError
from . import sessions

GENERIC_LOGIN_ERROR = N_("Email or password is not right.")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(email: str, name: str, password: str, *, is_admin: bool = False) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InputError(_("%(email)s is not an email address.", email=repr(email)), field="email")
    if not name.strip():
        raise InputError(_("A name is required."), field="name")
    check_password_rules(password)
    if db.session.execute(select(User.id).where(User.email == email)).first():
        raise InputError(_("A user with the email %(email)s exists already.", email=email), field="email")
    user = User(email=email, name=name.strip(), is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


MIN_PASSWORD_LENGTH = 8


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(_("A password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH), field="password")


def set_password(user: User, password: str) -> User:
    """Give ``user`` a new password (stored hashed; the trail notes only that it changed)."""
    check_password_rules(password)
    user.set_password(password)
    db.session.flush()
    return user


def set_active(user: User, active: bool, *, acting_user: User | None = None) -> User:
    """Deactivate (no more logins, open sessions end) or reactivate a user; history stays."""
    if not active and acting_user is not None and acting_user.id == user.id:
        raise InputError(_("You cannot deactivate your own account."))
    user.active = active
    db.session.flush()
    return user


def set_locale(user: User | None, code: str | None) -> str | None:
    """The interface language ``code`` (one of tracker.i18n.LANGUAGES, or empty: follow the
    browser), stored on ``user`` when someone is logged in; returns the code (None: the browser's)."""
    from ..i18n import LANGUAGES

    code = (code or "").strip() or None
    if code is not None and code not in LANGUAGES:
        raise InputError(_("Choose one of the languages offered."), field="locale")
    if user is not None and user.locale != code:
        user.locale = code
        db.session.flush()
    return code


def set_digest(user: User, enabled: bool) -> bool:
    """Turn the person's weekly digest on or off (``flask remind`` skips it when off)."""
    enabled = bool(enabled)
    if user.digest_enabled != enabled:
        user.digest_enabled = enabled
        db.session.flush()
    return enabled


def find_user(email: str) -> User:
    user = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar()
    if user is None:
        raise InputError(_("No user with the email %(email)s.", email=email), field="email")
    return user


def find_project(code_or_id: str) -> Project:
    project = db.session.execute(select(Project).where(Project.code == code_or_id)).scalar()
    if project is None and str(code_or_id).isdigit():
        project = db.session.get(Project, int(code_or_id))
    if project is None:
        raise InputError(_("No project with the code or id %(code)s.", code=code_or_id))
    return project


def grant(user: User, project: Project, role: str, *, versions: str | None = None,
          acting_user: User | None = None) -> Membership:
    """Give ``user`` the ``role`` on ``project`` (replacing any role they had there).

    ``versions``: the project's memberships as the form showed them (``versions_of``); a
    member added, removed or given another role since is refused (409) with who and when.
    None: a caller without a form (the CLI, a script posting without the page's field).
    """
    if role not in ROLES:
        raise InputError(_("Unknown role %(role)s; choose one of %(roles)s.", role=repr(role), roles=", ".join(ROLES)),
                         field="role")
    if versions is not None:
        current = db.session.execute(select(Membership).where(Membership.project_id == project.id)).scalars().all()
        check_versions(current, versions, _("The project's members"))
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.project_id == project.id)
    ).scalar()
    if membership is None:
        membership = Membership(user_id=user.id, project_id=project.id, role=role,
                                updated_by_id=getattr(acting_user, "id", None))
        db.session.add(membership)
    else:
        if role != "manager":
            check_not_last_manager(membership, DEMOTED)
        if membership.role != role:
            membership.role = role
            stamp(membership, acting_user)
    db.session.flush()
    return membership


# What would happen to a project's last manager (check_not_last_manager): one whole sentence each.
DEMOTED = N_("%(name)s is the project's only manager and cannot be demoted: make someone else manager first. "
             "Nothing was changed.")
REMOVED = N_("%(name)s is the project's only manager and cannot be removed: make someone else manager first. "
             "Nothing was changed.")


def check_not_last_manager(membership: Membership, what: str) -> None:
    """A project always keeps a manager (someone must approve periods and manage members):
    its only manager is neither demoted nor removed, by a manager, an admin or the CLI."""
    if membership.role != "manager":
        return
    others = db.session.execute(select(func.count()).select_from(Membership).where(
        Membership.project_id == membership.project_id, Membership.role == "manager",
        Membership.id != membership.id)).scalar()
    if not others:
        user = db.session.get(User, membership.user_id)
        raise InputError(_(what, name=user.name if user else _("This member")), field="role")


def revoke(membership: Membership, *, acting_user: User | None = None, version=None) -> None:
    """Take a member off a project; nobody removes themselves (another manager does), and
    the last manager stays. ``version``: the membership's as the page showed it (None: no form)."""
    if version is not None:
        check_version(membership, version, _("This membership"))
    if acting_user is not None and membership.user_id == acting_user.id:
        raise InputError(_("You cannot remove yourself; ask another manager."))
    check_not_last_manager(membership, REMOVED)
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


def _window_start() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def is_throttled(email: str, address: str) -> bool:
    """True when the account or the address has had too many failures in the window."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = _window_start()
    return (_recent_failures(LoginAttempt.email, email, since) >= limit
            or _recent_failures(LoginAttempt.address, address, since) >= limit)


# Login attempts are kept this many throttling windows, then pruned (at each login attempt).
KEEP_ATTEMPTS_WINDOWS = 4


def prune_login_attempts() -> int:
    """Delete login attempts older than ``KEEP_ATTEMPTS_WINDOWS`` windows: throttling reads one
    window, the trail keeps what matters (see ``_record_failure``). Returns how many went."""
    keep = timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"] * KEEP_ATTEMPTS_WINDOWS)
    return db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.created_at < datetime.now(UTC) - keep)
        .execution_options(synchronize_session=False)
    ).rowcount or 0


def _record_failure(email: str, address: str, user: User | None) -> None:
    """Count a failed login; write to the trail only what a person needs to see.

    Failed logins come from anyone, without logging in, and audit events can never be
    deleted, so each failure is *counted* (a ``LoginAttempt`` row, pruned after a few windows)
    and the trail gets at most:

    - one ``login_failed`` event per address per window (its first failure there), and one
      per existing account per window (its first failure), with the window's length: so the
      owner of an account sees it was tried, and unknown emails cannot grow the trail;
    - one ``login_throttled`` event when the account's or the address's failures reach the
      limit, carrying the count.

    Refusals while throttled write nothing (they are refused before any password is checked).
    So 50 failures for one account from one address make 2 events: the first, and the pause.
    """
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
    since = _window_start()
    db.session.add(LoginAttempt(email=email, address=address[:64], success=False))
    db.session.flush()
    by_account = _recent_failures(LoginAttempt.email, email, since)
    by_address = _recent_failures(LoginAttempt.address, address[:64], since)
    if by_address == 1 or (user is not None and by_account == 1):
        trail.record(db.session, "login_failed",
                     changes={"email": email, "failures": 1, "window_minutes": minutes,
                              "note": "the first failure in this window; further ones are counted, not written"})
    if by_account == limit or by_address == limit:
        which = "account" if by_account == limit else "address"
        trail.record(db.session, "login_throttled",
                     changes={"email": email, "failures": limit, "of": which, "window_minutes": minutes})


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

    Every attempt is counted for throttling; the trail gets each login and a summary of the
    failures (``_record_failure``). Old attempts are pruned here.
    """
    email = normalise_email(email)[:254]
    if is_throttled(email, address):
        raise Throttled(_(
            "Too many failed logins for this account or from this address. "
            "Wait %(minutes)s minutes and try again.", minutes=current_app.config['LOGIN_WINDOW_MINUTES']))
    user = db.session.execute(select(User).where(User.email == email)).scalar()
    stored_hash, active = (user.password_hash, user.active) if user is not None else (None, False)
    # End the (read-only) transaction before the deliberately slow hash, so SQLite's write
    # lock is not held while it runs: a burst of logins would otherwise queue every save.
    db.session.rollback()
    # Hash anyway, so an unknown email takes as long as a wrong password (no enumeration).
    password_ok = check_password_hash(stored_hash or _dummy_hash(), password)
    ok = user is not None and password_ok and active
    prune_login_attempts()
    if not ok:
        _record_failure(email, address, user)
        raise InputError(_(GENERIC_LOGIN_ERROR))
    db.session.add(LoginAttempt(email=email, address=address[:64], success=True))
    trail.set_actor(user.id, user.email)
    trail.record(db.session, "login", table_name="user", row_id=user.id)
    return user


@dataclass
class LoginOutcome:
    """The result of a login attempt: the user and their new session's token, or the refusal
    and its HTTP status."""

    user: User | None
    error: str = ""
    status: int = 200
    session_token: str = ""


def log_in(email: str, password: str, address: str) -> LoginOutcome:
    """Check the credentials and record the attempt, whatever its result.

    A refused attempt must be kept (throttling counts it, the trail shows it), so it is
    returned rather than raised: the caller commits either way.
    """
    try:
        user = authenticate(email, password, address)
        return LoginOutcome(user, session_token=sessions.open_session(user))
    except Throttled as error:
        return LoginOutcome(None, str(error), 429)
    except InputError as error:
        return LoginOutcome(None, str(error), 422)


def log_out(user: User, session_token: str | None = None) -> None:
    """End this session on the server (copies of its cookie stop working); the trail notes it."""
    sessions.end_session(session_token)
    trail.record(db.session, "logout", table_name="user", row_id=user.id)


def log_out_everywhere(user: User) -> None:
    """End every session of ``user``, on every device; the trail notes it."""
    sessions.end_all_sessions(user)
    trail.record(db.session, "logout", table_name="user", row_id=user.id, changes={"everywhere": True})


record_logout = log_out  # the older name
