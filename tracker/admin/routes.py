"""Administrators manage users (create, deactivate, reactivate, set a password) and see
every project with a way to its members. Roles per project are given on the project's
Members page, which admins may open on every project.

Saving goes through the one write path (``tracker.htmx.write``); the rules are in
``tracker.accounts.services``, the same functions the CLI calls.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import htmx
from ..accounts import services as accounts
from ..audit import routes as audit_routes
from ..audit import services as audit_services
from ..extensions import db
from ..forms import EmptyForm
from ..models import User
from ..permissions import admin_only
from .forms import PasswordForm, UserCreateForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _users_page(form: UserCreateForm, message: str = "", status: int = 200):
    """The user list and the create form: the page, or its fragment for htmx."""
    return htmx.render("admin/users.html", "admin/_users.html", status=status, users=accounts.all_users(),
                       roles=accounts.roles_by_user(), form=form, button_form=EmptyForm(), message=message)


def _answer(message: str, status: int = 200, category: str = "info"):
    """After a button on the user list: the list again for htmx, a message and a redirect otherwise."""
    if htmx.is_htmx():
        return _users_page(UserCreateForm(formdata=None), message, status)
    if message:
        flash(message, category)
    return redirect(url_for("admin.users"), 303)


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users():
    """Every user, and a form to create one (the admin sets the first password)."""
    form = UserCreateForm()
    if request.method == "GET":
        return _users_page(form)
    return htmx.write(
        lambda: accounts.create_user(form.email.data, form.name.data, form.password.data,
                                     is_admin=form.is_admin.data),
        form=form,
        done=lambda user: _answer(_("Created %(email)s. Give them a role on a project's Members page.", email=user.email),
                                  category="success"),
        again=lambda status: _users_page(form, status=status))


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    return htmx.write(lambda: accounts.set_active(user, active, acting_user=current_user), form=EmptyForm(),
                      done=lambda _result: _answer(_("%(email)s is active again.", email=user.email) if active
                                                   else _("%(email)s is deactivated.", email=user.email)),
                      again=lambda status: _answer(" ".join(htmx.last_errors()), status))


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

    def page(status=200):
        return render_template("admin/password.html", form=form, user=user), status

    def done(_result):
        flash(_("Password changed for %(email)s.", email=user.email), "success")
        return redirect(url_for("admin.users"), 303)

    if request.method == "GET":
        return page()
    return htmx.write(lambda: accounts.set_password(user, form.password.data), form=form, done=done, again=page)


@bp.route("/projects")
@admin_only
def projects():
    """Every project with its number of members and a link to its Members page."""
    return render_template("admin/projects.html", rows=accounts.projects_with_member_counts())


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
