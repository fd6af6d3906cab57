"""Login, logout and a project's members."""

import hashlib
import hmac

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..audit import trail
from ..extensions import db, login_manager
from ..validation import InputError
from ..models import Membership, User
from ..permissions import logged_in, public, requires
from . import services
from .forms import EmptyForm, LoginForm, MemberForm

bp = Blueprint("accounts", __name__)


AUTH_HASH_KEY = "_auth_hash"


def auth_hash(user: User) -> str:
    """A digest of the user's password hash kept in the session: a new password (set by
    the person, an admin or the CLI) ends every session opened with the old one."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


@bp.before_app_request
def end_sessions_of_changed_passwords():
    if current_user.is_authenticated and not hmac.compare_digest(
            str(session.get(AUTH_HASH_KEY, "")), auth_hash(current_user)):
        logout_user()
        session.clear()


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("projects.portfolio")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log in with email and password; one generic error, throttled after repeated failures."""
    if current_user.is_authenticated:
        return redirect(url_for("projects.portfolio"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except services.Throttled as error:
            db.session.commit()
            form.form_errors.append(str(error))
            status = 429
        except InputError as error:
            db.session.commit()  # keep the failed attempt and its audit event
            form.form_errors.append(str(error))
            status = 422
        else:
            db.session.commit()
            session.clear()  # a fresh session at login (no fixation)
            login_user(user)
            session[AUTH_HASH_KEY] = auth_hash(user)
            return redirect(_safe_next(request.args.get("next")), 303)
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@logged_in
def logout():
    """Log out (POST only, with CSRF); the trail notes it."""
    trail.record(db.session, "logout", table_name="user", row_id=current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"), 303)


@bp.route("/projects/<int:project_id>/members", methods=["GET", "POST"])
@requires("members.manage")
def members(project_id):
    """List the project's members; a manager adds one or changes a role."""
    form = MemberForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.find_user(form.email.data)
            services.grant(user, g.project, form.role.data)
        except InputError as error:
            form.email.errors.append(str(error))
            status = 422
        else:
            db.session.commit()
            flash(f"{user.name} is now {form.role.data} on this project.", "success")
            return redirect(url_for("accounts.members", project_id=project_id), 303)
    elif request.method == "POST":
        status = 422
    rows = db.session.execute(
        select(Membership, User).join(User).where(Membership.project_id == project_id).order_by(User.name)
    ).all()
    return render_template("accounts/members.html", form=form, rows=rows, remove_form=EmptyForm()), status


@bp.route("/projects/<int:project_id>/members/<int:membership_id>/remove", methods=["POST"])
@requires("members.manage")
def remove_member(project_id, membership_id):
    """Take a member off the project."""
    form = EmptyForm()
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.project_id != project_id:
        abort(404)
    if form.validate_on_submit():
        if membership.user_id == current_user.id:
            flash("You cannot remove yourself; ask another manager.", "error")
        else:
            services.revoke(membership)
            db.session.commit()
            flash("Member removed.", "success")
    return redirect(url_for("accounts.members", project_id=project_id), 303)


@bp.app_context_processor
def logout_form():
    # Not bound to the request's data: an error page (413 for a too-large body) renders
    # the layout without reading the body again.
    return {"logout_form": EmptyForm(formdata=None)}


def load_user(user_id: str):
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


login_manager.user_loader(load_user)
