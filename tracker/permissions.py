"""Who may do what: one table, one decorator.

Every view declares what it needs with one of the decorators below; the decorator records
it on the view (``view.access``) so the route-matrix test can walk ``app.url_map`` and check
each rule for each role.

Project URLs answer 404 to a logged-in user without a membership, so a project's existence
does not leak; a member whose role lacks the action gets 403.
"""

from functools import cache, wraps

from flask import abort, g, request
from flask_login import current_user

from .extensions import db, login_manager

# action -> roles that may do it. Admins may do everything on every project.
PERMISSIONS: dict[str, frozenset[str]] = {
    "project.view": frozenset({"manager", "officer", "liaison", "auditor"}),
    "project.edit": frozenset({"manager"}),            # project facts, thresholds
    "framework.edit": frozenset({"manager"}),          # results, indicators, activities, targets
    "members.manage": frozenset({"manager"}),
    "progress.log": frozenset({"manager", "officer"}),  # weekly logs, activity status
    "indicator.actual": frozenset({"manager", "officer"}),
    "indicator.submit": frozenset({"manager", "officer"}),
    "indicator.approve": frozenset({"manager"}),
    "budget.edit": frozenset({"manager"}),
    "expenditure.edit": frozenset({"manager", "officer"}),
    "evidence.edit": frozenset({"manager", "officer"}),
    "evidence.review": frozenset({"auditor"}),
    "audit.view": frozenset({"manager", "auditor"}),
    "export": frozenset({"manager", "liaison", "auditor"}),
    "import": frozenset({"manager"}),
}


def role_may(role: str | None, action: str, *, is_admin: bool = False) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}: add it to PERMISSIONS")
    return is_admin or (role is not None and role in PERMISSIONS[action])


def role_in(user, project_id: int) -> str | None:
    from .models import Membership

    if not user.is_authenticated:
        return None
    return db.session.execute(
        db.select(Membership.role).where(Membership.user_id == user.id, Membership.project_id == project_id)
    ).scalar()


def can(action: str, project=None) -> bool:
    """For templates: may the current user do ``action`` on ``project`` (default: g.project)?"""
    project = project or g.get("project")
    if not current_user.is_authenticated or project is None:
        return False
    if current_user.is_admin:
        return True
    role = g.get("role") if g.get("project") is project else role_in(current_user, project.id)
    return role_may(role, action)


def _mark(view, access):
    view.access = access
    return view


def public(view):
    """Anyone, logged in or not (login page, health check)."""
    return _mark(view, ("public",))


def _logged_in_first(view, check=None):
    """Wrap ``view``: anonymous visitors go to the login page, then ``check(kwargs)`` may abort."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if check is not None:
            check(kwargs)
        return view(*args, **kwargs)

    return wrapper


def logged_in(view):
    """Any logged-in user (portfolio, logout)."""
    return _mark(_logged_in_first(view), ("login",))


def _only_admins(_kwargs):
    if not current_user.is_admin:
        abort(403)


def admin_only(view):
    """Administrators only (users, every project, the system trail); others get 403."""
    return _mark(_logged_in_first(view, _only_admins), ("admin",))


def requires(action: str):
    """The view works on ``project_id`` and needs ``action`` there.

    Loads the project (404 when missing or when the user is not a member), checks the
    action (403), and leaves ``g.project`` and ``g.role`` for the view and templates.
    """
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}: add it to PERMISSIONS")

    def load_and_check(kwargs):
        # The project and the person's role in it, in one query (every project page asks both).
        row = db.session.execute(_project_and_role(), {"project_id": kwargs.get("project_id"),
                                                       "user_id": current_user.id}).first()
        if row is None:
            abort(404)
        project, role = row
        if role is None and not current_user.is_admin:
            abort(404)
        if not role_may(role, action, is_admin=current_user.is_admin):
            abort(403)
        g.project, g.role = project, role

    def decorator(view):
        return _mark(_logged_in_first(view, load_and_check), ("project", action))

    return decorator


@cache
def _project_and_role():
    """The statement of ``requires``, built once (the models import this module's package)."""
    from sqlalchemy import bindparam

    from .models import Membership, Project

    return (db.select(Project, Membership.role)
            .outerjoin(Membership, (Membership.project_id == Project.id) & (Membership.user_id == bindparam("user_id")))
            .where(Project.id == bindparam("project_id")))


def is_write_request() -> bool:
    return request.method in {"POST", "PUT", "PATCH", "DELETE"}
