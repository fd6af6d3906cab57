"""Administrators manage users (create, deactivate, reactivate, set a password) and see
every project with a way to its members. Roles per project are given on the project's
Members page, which admins may open on every project.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts import services as accounts
from ..accounts.forms import EmptyForm
from ..audit import routes as audit_routes
from ..audit import services as audit_services
from ..extensions import db
from ..validation import InputError
from ..htmx import is_htmx, render
from ..models import Membership, Project, User
from ..permissions import admin_only
from .forms import PasswordForm, UserCreateForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _users_context(form: UserCreateForm, message: str = "") -> dict:
    """Every user with their roles (two queries, whatever the number of users)."""
    users = db.session.execute(select(User).order_by(User.email)).scalars().all()
    roles: dict[int, list[tuple[str, str]]] = {}
    for user_id, code, role in db.session.execute(
            select(Membership.user_id, Project.code, Membership.role).join(Project)
            .order_by(Project.code)).all():
        roles.setdefault(user_id, []).append((code, role))
    return {"users": users, "roles": roles, "form": form, "button_form": EmptyForm(), "message": message}


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users():
    """Every user, and a form to create one (the admin sets the first password)."""
    form = UserCreateForm()
    status = 200
    message = ""
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.password.data,
                                        is_admin=form.is_admin.data)
        except InputError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
            status = 422
        else:
            db.session.commit()
            message = f"Created {user.email}. Give them a role on a project's Members page."
            if not is_htmx():
                flash(message, "success")
                return redirect(url_for("admin.users"), 303)
            form = UserCreateForm(formdata=None)
    elif request.method == "POST":
        status = 422
    return render("admin/users.html", "admin/_users.html", status=status, **_users_context(form, message))


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    message = ""
    if EmptyForm().validate_on_submit():
        try:
            accounts.set_active(user, active, acting_user=current_user)
        except InputError as error:
            db.session.rollback()
            message = str(error)
        else:
            db.session.commit()
            message = f"{user.email} is {'active again' if active else 'deactivated'}."
    if is_htmx():
        return render("admin/users.html", "admin/_users.html", **_users_context(UserCreateForm(formdata=None), message))
    flash(message, "info")
    return redirect(url_for("admin.users"), 303)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@admin_only
def deactivate(user_id):
    """Stop a user from logging in; their open sessions end and their history stays."""
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@admin_only
def activate(user_id):
    """Let a deactivated user log in again."""
    return _set_active(user_id, True)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_only
def password(user_id):
    """Set a user's password (for a forgotten one); stored hashed."""
    user = _user_or_404(user_id)
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data)
        except InputError as error:
            db.session.rollback()
            form.password.errors.append(str(error))
            status = 422
        else:
            db.session.commit()
            flash(f"Password changed for {user.email}.", "success")
            return redirect(url_for("admin.users"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/password.html", form=form, user=user), status


@bp.route("/projects")
@admin_only
def projects():
    """Every project with its number of members and a link to its Members page."""
    rows = db.session.execute(
        select(Project, func.count(Membership.id)).outerjoin(Membership).group_by(Project.id).order_by(Project.code)
    ).all()
    return render_template("admin/projects.html", rows=rows)


# ---------------------------------------------------------------------------------------
# The system audit trail: events tied to no project (logins, failed logins, users).


def _system_links() -> dict:
    return {"trail": url_for("admin.audit"), "csv": url_for("admin.audit_csv"),
            "xlsx": url_for("admin.audit_xlsx")}


@bp.route("/audit")
@admin_only
def audit():
    """Logins, failed and throttled logins, logouts and changes to users, filtered and paged."""
    return audit_routes.trail_response(audit_services.SYSTEM, "admin/audit.html", _system_links())


@bp.route("/audit/export.csv")
@admin_only
def audit_csv():
    """The filtered system trail as CSV."""
    return audit_routes.export_response(audit_services.SYSTEM, "csv", "system")


@bp.route("/audit/export.xlsx")
@admin_only
def audit_xlsx():
    """The filtered system trail as an Excel workbook."""
    return audit_routes.export_response(audit_services.SYSTEM, "xlsx", "system")
