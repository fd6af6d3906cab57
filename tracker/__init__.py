"""The results tracker: a Flask app for a donor-funded project's results framework."""

import os
import secrets
import sys
from pathlib import Path

from flask import Flask, abort, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InternalError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import IntegerConverter

from . import config as config_module
from .extensions import csrf, db, login_manager, migrate
from .i18n import N_

ROOT = Path(__file__).resolve().parent.parent

# Content-Security-Policy: only the app's own scripts, styles and images; no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _secret_key(instance_path: Path) -> str:
    """The secret key kept in instance/secret_key, generated on first use (never committed)."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI commands and error pages."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_module.Defaults)
    try:
        app.config.from_pyfile("config.py", silent=True)
        config_module.load_environment(app.config)
        if test_config:
            app.config.update(test_config)
        config_module.validate(app.config)
    except config_module.ConfigError as error:
        # Stop here, before any worker serves a request, with the variable and the problem.
        print(f"Results tracker: configuration error: {error}", file=sys.stderr, flush=True)
        raise

    # Everything the app writes (secret key, SQLite database and its -wal, evidence, exports,
    # imports, mail written to files) is for its own user only, whatever umask the shell or
    # service manager gave the process (docs/deployment.md also sets UMask=0027 in the unit).
    from .deploy import make_private_folder, restrict_umask

    restrict_umask()
    instance_path = Path(app.instance_path)
    make_private_folder(instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'tracker.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = str(instance_path / "evidence")
    try:  # made at start so backups and the guide's `chmod` find it; private like the rest
        make_private_folder(Path(app.config["UPLOAD_DIR"]))
    except OSError:  # not mounted yet, say: the first upload reports it
        pass
    # Werkzeug answers 413 above this; a little room is left for the form's other fields.
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024 + 64 * 1024
    if int(app.config.get("PROXY_COUNT") or 0) > 0:  # behind nginx (docs/deployment.md)
        from werkzeug.middleware.proxy_fix import ProxyFix

        # x_host and x_port: the host the browser used, with its port (nginx on :8443), so
        # the HTTPS referrer check of every form compares like with like.
        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from .database import engine_options

    config_module.check_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if not app.testing:  # the server and every CLI command say where the data goes
        line, warning = config_module.database_notice(app.config["SQLALCHEMY_DATABASE_URI"])
        print(line if warning is None else f"{line}\n{warning}", file=sys.stderr, flush=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    from .assets import init_assets
    from .extensions import init_compress

    init_assets(app)  # static_url(): versioned static URLs, cached for a year
    from .i18n import init_i18n

    init_i18n(app)  # Flask-Babel: _() in Python and templates, the person's locale
    init_compress(app)  # gzip / brotli responses (Flask-Compress)
    from .mail import init_mail

    init_mail(app)  # Flask-Mailman from TRACKER_MAIL_URL, or .eml files in instance/outbox/
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    from flask_babel import gettext

    login_manager.login_message = N_("Please log in to see that page.")
    login_manager.localize_callback = gettext  # translated when flashed, in the request's locale
    login_manager.login_message_category = "info"
    # "basic" by default: a new address (Wi-Fi to 4G) must not log field staff out.
    protection = str(app.config.get("SESSION_PROTECTION") or "none").lower()
    login_manager.session_protection = None if protection == "none" else protection

    from .database import configure_engine

    with app.app_context():
        configure_engine(db.engine)

    from .audit import trail

    trail.install()
    _register_blueprints(app)
    _register_cli(app)
    _register_errors(app)
    _register_request_hooks(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in URLs, capped at the largest id an INTEGER column holds on every database
    we run on (PostgreSQL's is 32-bit): a larger number is simply not a match (404) instead
    of an overflow inside the database driver (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    from .accounts.routes import bp as accounts_bp
    from .audit.routes import bp as audit_bp
    from .budget.routes import bp as budget_bp
    from .evidence.routes import bp as evidence_bp
    from .exports.routes import bp as exports_bp
    from .imports.routes import bp as imports_bp
    from .inbox.routes import bp as inbox_bp
    from .progress.routes import bp as progress_bp
    from .projects.routes import bp as projects_bp
    from .results.routes import bp as results_bp

    for blueprint in (projects_bp, accounts_bp, results_bp, progress_bp, budget_bp, evidence_bp,
                      exports_bp, imports_bp, audit_bp, inbox_bp):
        app.register_blueprint(blueprint)
    from .admin.routes import bp as admin_bp

    app.register_blueprint(admin_bp)
    from .reports.routes import bp as reports_bp

    app.register_blueprint(reports_bp)


def _register_cli(app: Flask) -> None:
    from .cli import register

    register(app)


def _register_errors(app: Flask) -> None:
    from .htmx import is_htmx, vary

    def error_page(status: int, title: str, message: str):
        """The error as a page, or as a fragment for htmx (one URL, two shapes: ``Vary: HX-Request``)."""
        template = "errors/_error.html" if is_htmx() else "errors/error.html"
        return vary((render_template(template, status=status, title=title, message=message), status))

    @app.errorhandler(400)
    def bad_request(_error):
        return error_page(400, _("Bad request"), _("The request could not be understood. Nothing was changed."))

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        if app.config.get("SESSION_COOKIE_SECURE") and not request.is_secure:
            # The browser keeps Secure cookies for HTTPS only, so the form's session never came
            # back: say so instead of "Form expired", which no reload would fix.
            if request.headers.get("X-Forwarded-Proto") and not app.config.get("PROXY_COUNT"):
                cause = _("A proxy in front of the app says the page was opened over HTTPS, but the app "
                          "does not trust proxies: set %(setting)s.", setting="TRACKER_PROXY_COUNT=1")
            else:
                cause = _("Open the site with https://, or, while HTTPS is not set up yet, set %(setting)s.",
                          setting="TRACKER_SECURE_COOKIES=0")
            return error_page(400, _("HTTPS needed"),
                              _("This site sends its login cookie over HTTPS only (TRACKER_SECURE_COOKIES is on), "
                                "and this page came over plain HTTP, so you cannot log in here. %(cause)s "
                                "Nothing was changed.", cause=cause))
        return error_page(400, _("Form expired"),
                          _("The form's security token is missing or out of date. Reload the page and "
                            "try again. Nothing was changed."))

    @app.errorhandler(403)
    def forbidden(_error):
        return error_page(403, _("Not allowed"), _("Your role on this project does not allow this. Nothing was changed."))

    @app.errorhandler(404)
    def not_found(_error):
        return error_page(404, _("Not found"), _("There is nothing at this address, or you do not have access to it."))

    @app.errorhandler(405)
    def not_allowed(_error):
        return error_page(405, _("Method not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def too_large(_error):
        limit = app.config["MAX_UPLOAD_MB"]
        return error_page(413, _("File too large"),
                          _("The upload is larger than the limit of %(limit)s MB. Nothing was saved.", limit=limit))

    def out_of_range(_error):
        # A number typed or sent that no database column can hold (an id of 2**31 or more on
        # PostgreSQL, 2**63 on SQLite). Forms check their own fields; this is the last guard.
        db.session.rollback()
        return error_page(400, _("Value out of range"),
                          _("A number in the request is too large to be stored. Nothing was changed."))

    app.register_error_handler(DataError, out_of_range)
    app.register_error_handler(OverflowError, out_of_range)

    @app.errorhandler(StaleDataError)
    def saved_meanwhile(_error):
        db.session.rollback()
        return error_page(409, _("Changed meanwhile"),
                          _("Someone else saved this record at the same moment. Nothing of yours was saved; "
                            "reload the page to see their version."))

    @app.errorhandler(OperationalError)
    def database_unavailable(_error):
        db.session.rollback()
        # The page must render without the database: rolled-back rows (the user, the project)
        # would reload themselves from it and fail again. Answer as to a visitor instead.
        g._login_user = login_manager.anonymous_user()
        g.project = g.role = None
        if request.endpoint == "projects.healthz":  # probes read JSON, whatever failed first
            return {"status": "unavailable", "database": "not answering"}, 503
        response = error_page(503, _("Database unavailable"),
                              _("The database cannot be reached or written just now. Nothing was saved; "
                                "try again in a moment."))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(InternalError)
    def database_internal_error(error):
        # PostgreSQL reports a read-only database (SQLSTATE 25006) as an InternalError.
        if getattr(error.orig, "sqlstate", None) == "25006":
            return database_unavailable(error)
        raise error

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return error_page(500, _("Something went wrong"),
                          _("The server could not finish this request. Nothing was saved."))


def _register_request_hooks(app: Flask) -> None:
    from .audit.trail import set_actor
    from .permissions import can

    @app.before_request
    def remember_actor():
        if current_user.is_authenticated:
            set_actor(current_user.id, current_user.email)

    @app.before_request
    def refuse_nul_characters():
        # No one types U+0000, and PostgreSQL cannot store it in text (the save would end in a
        # 500): such a request is refused before anything reads it. Found by tests/test_fuzz.py.
        for values in (request.args, request.form):
            if any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
                abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def template_helpers():
        from . import formatting

        return {"can": can, "project": g.get("project"), "role": g.get("role"), "fmt": formatting,
                "nav_sections": _nav_sections(app)}


# The project navigation: (label, endpoint, action needed). Shown when the endpoint exists. The
# labels are msgids (N_): base.html translates them with the request's translations, once each.
PROJECT_NAV = (
    (N_("Overview"), "projects.overview", "project.view"),
    (N_("Logframe"), "projects.logframe", "project.view"),
    (N_("This week"), "progress.week", "project.view"),
    (N_("Activities"), "progress.activities", "project.view"),
    (N_("Indicators"), "results.grid", "project.view"),
    (N_("Budget"), "budget.overview", "project.view"),
    (N_("Evidence"), "evidence.register", "project.view"),
    (N_("Auditor"), "evidence.auditor", "evidence.review"),
    (N_("Reports"), "reports.index", "project.view"),
    (N_("Exports"), "exports.index", "export"),
    (N_("Audit trail"), "audit.trail", "audit.view"),
    (N_("Members"), "accounts.members", "members.manage"),
)


def _nav_sections(app: Flask):
    return [item for item in PROJECT_NAV if item[1] in app.view_functions]
