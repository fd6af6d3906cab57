"""Login, logout and a project's members.

Every view that saves goes through the one write path (``tracker.htmx.write``, or
``commit_once`` for a login or logout event); the rules are in ``services``.
"""

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
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from .. import htmx, i18n
from ..concurrency import versions_of
from ..extensions import db, login_manager
from ..forms import EmptyForm
from ..models import Membership, User
from ..models.accounts import ROLE_LABELS
from ..permissions import logged_in, public, requires
from ..redirects import safe_target
from . import services, sessions
from .forms import DigestForm, LanguageForm, LoginForm, MemberForm

bp = Blueprint("accounts", __name__)


AUTH_HASH_KEY = "_auth_hash"


def auth_hash(user: User) -> str:
    """A digest of the user's password hash and session epoch kept in the session: a new
    password (set by the person, an admin or the CLI) or "log out everywhere" ends every
    session opened before it."""
    key = str(current_app.secret_key).encode()
    fingerprint = f"{user.password_hash}|sessions:{user.session_epoch or 0}"
    return hmac.new(key, fingerprint.encode(), hashlib.sha256).hexdigest()[:32]


@bp.before_app_request
def end_ended_sessions():
    """A session ends when its password or epoch changed, or when its server-side row is gone
    (logged out, here or with a copy of the cookie: tracker/accounts/sessions.py).

    A cookie without a session token can only have been signed with the secret key before
    server-side sessions existed, and then ``auth_hash`` ends it at "log out everywhere".
    """
    if not current_user.is_authenticated:
        return
    token = session.get(sessions.SESSION_KEY)
    if token is not None:
        # ``load_user`` asked with the user (one query); asked again if it ran for another token.
        known = g.pop("session_open", None)
        still_open = known[1] if known is not None and known[0] == token else sessions.is_open(current_user.id, token)
    if not hmac.compare_digest(str(session.get(AUTH_HASH_KEY, "")), auth_hash(current_user)) or (
            token is not None and not still_open):
        logout_user()
        session.clear()


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log in with email and password; one generic error, throttled after repeated failures.

    Every attempt is committed, refused ones too: throttling counts them and the trail shows them.
    """
    if current_user.is_authenticated:
        return redirect(url_for("projects.portfolio"))
    form = LoginForm()

    def page(status=200):
        return render_template("accounts/login.html", form=form), status

    def answer(outcome: services.LoginOutcome):
        if outcome.user is None:
            form.form_errors.append(outcome.error)
            return page(outcome.status)
        i18n.carry_choice(session.clear)  # a fresh session at login (no fixation), in the same language
        login_user(outcome.user)
        session[AUTH_HASH_KEY] = auth_hash(outcome.user)
        session[sessions.SESSION_KEY] = outcome.session_token
        # Only a same-site path is followed after login (the one rule: tracker.redirects).
        return redirect(safe_target(request.args.get("next"), url_for("projects.portfolio")), 303)

    if request.method == "GET":
        return page()
    return htmx.write(lambda: services.log_in(form.email.data, form.password.data, request.remote_addr or ""),
                      form=form, done=answer, again=page)


@bp.route("/logout", methods=["POST"])
@logged_in
def logout():
    """Log out (POST only, with CSRF): the session ends on the server too, so a copy of the
    cookie stops working at once; the trail notes it."""
    htmx.commit_once(lambda: services.log_out(current_user, session.get(sessions.SESSION_KEY)))
    i18n.carry_choice(lambda: (logout_user(), session.clear()))
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"), 303)


@bp.route("/account", methods=["GET"])
@logged_in
def account():
    """The person's own account: who they are, their open sessions, "log out everywhere"."""
    return render_template("accounts/account.html", form=EmptyForm(),
                           open_sessions=sessions.count_open(current_user.id))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    """Choose the interface language (the header's switch, the account page): stored on the
    person when logged in, in the browser session otherwise (and in both when logged in, so the
    login page after logging out keeps it); then back to the page it came from (same-site only)."""
    form = LanguageForm()
    back = safe_target(form.next.data, url_for("projects.portfolio"))
    user = current_user if current_user.is_authenticated else None

    def done(code):
        i18n.remember_in_session(code)
        return redirect(back, 303)

    def again(_status):
        flash(" ".join(htmx.last_errors()) or _("Choose one of the languages offered."), "error")
        return redirect(back, 303)

    return htmx.write(lambda: services.set_locale(user, form.locale.data), form=form, done=done, again=again)


@bp.route("/account/digest", methods=["POST"])
@logged_in
def set_digest():
    """Turn the weekly digest by e-mail on or off: back to the account page, or for htmx the
    digest's section with what was saved."""
    form = DigestForm()

    def done(enabled):
        message = (_("Saved: you get the weekly digest by e-mail.") if enabled
                   else _("Saved: you no longer get the weekly digest."))
        if htmx.is_htmx():
            return htmx.fragment_response("accounts/_digest.html", form=EmptyForm(formdata=None), saved=message)
        flash(message, "success")
        return redirect(url_for("accounts.account"), 303)

    def again(_status):
        flash(" ".join(htmx.last_errors()) or _("The form expired; nothing was changed. Try again."), "error")
        return redirect(url_for("accounts.account"), 303)

    return htmx.write(lambda: services.set_digest(current_user, form.digest.data), form=form, done=done, again=again)


@bp.route("/account/logout-everywhere", methods=["POST"])
@logged_in
def logout_everywhere():
    """End every session of this person on every device (this one too); the trail notes it."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    htmx.commit_once(lambda: services.log_out_everywhere(current_user))
    logout_user()
    session.clear()
    flash(_("You are logged out everywhere: every session of your account has ended."), "info")
    return redirect(url_for("accounts.login"), 303)


@bp.route("/projects/<int:project_id>/members", methods=["GET", "POST"])
@requires("members.manage")
def members(project_id):
    """List the project's members; a manager adds one or changes a role."""
    form = MemberForm()
    if request.method == "GET":
        form.versions.data = versions_of(db.session.execute(
            select(Membership).where(Membership.project_id == project_id)).scalars())

    def page(status=200):
        return render_template("accounts/members.html", form=form, rows=services.members_of(project_id),
                               remove_form=EmptyForm(), role_labels=ROLE_LABELS), status

    def done(membership):
        flash(_("%(name)s is now %(role)s on this project.", name=membership.user.name,
                role=str(ROLE_LABELS[membership.role]).lower()), "success")
        return redirect(url_for("accounts.members", project_id=project_id), 303)

    if request.method == "GET":
        return page()
    return htmx.write(lambda: services.grant(services.find_user(form.email.data), g.project, form.role.data,
                                             versions=request.form.get("versions"), acting_user=current_user),
                      form=form, done=done, again=page)


@bp.route("/projects/<int:project_id>/members/<int:membership_id>/remove", methods=["POST"])
@requires("members.manage")
def remove_member(project_id, membership_id):
    """Take a member off the project (not yourself: ask another manager)."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.project_id != project_id:
        abort(404)

    def back(message=None, category="success"):
        message = _("Member removed.") if message is None else message
        if message:
            flash(message, category)
        return redirect(url_for("accounts.members", project_id=project_id), 303)

    return htmx.write(lambda: services.revoke(membership, acting_user=current_user,
                                              version=request.form.get("version")), form=EmptyForm(),
                      done=lambda _result: back(),
                      again=lambda _status: back(" ".join(htmx.last_errors()), "error"))


@bp.app_context_processor
def logout_form():
    # Not bound to the request's data: an error page (413 for a too-large body) renders
    # the layout without reading the body again.
    return {"logout_form": EmptyForm(formdata=None)}


def load_user(user_id: str):
    if not user_id.isdigit():
        return None
    token = session.get(sessions.SESSION_KEY)
    user, still_open = sessions.user_and_session(int(user_id), token)
    if token is not None:
        g.session_open = (token, still_open)  # for end_ended_sessions, which runs next
    return user if user is not None and user.active else None


login_manager.user_loader(load_user)
