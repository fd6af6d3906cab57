"""Default configuration.

Order of precedence (last wins): these defaults, ``instance/config.py``, ``TRACKER_*``
environment variables, then the ``test_config`` mapping given to ``create_app``.
"""

import os

# Environment variables read by ``load_environment``; each maps TRACKER_<NAME> -> <NAME>.
ENV_KEYS = {
    "TRACKER_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "TRACKER_SECRET_KEY": "SECRET_KEY",
    "TRACKER_MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "TRACKER_UPLOAD_DIR": "UPLOAD_DIR",
    "TRACKER_DEMO_ACCOUNTS": "DEMO_ACCOUNTS",
    "TRACKER_SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "TRACKER_LOGIN_MAX_FAILURES": "LOGIN_MAX_FAILURES",
    "TRACKER_PROXY_COUNT": "PROXY_COUNT",
}

BOOLEAN_KEYS = {"DEMO_ACCOUNTS", "SESSION_COOKIE_SECURE"}
INTEGER_KEYS = {"MAX_UPLOAD_MB", "LOGIN_MAX_FAILURES", "PROXY_COUNT"}


class Defaults:
    # The database: SQLite in instance/ unless TRACKER_DATABASE_URL says otherwise.
    SQLALCHEMY_DATABASE_URI = None  # filled in by create_app from the instance path
    # pool_pre_ping: a pooled connection that died (database server restarted) is replaced
    # before use instead of failing the request.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Uploaded evidence: size limit in megabytes and where files live (under instance/).
    MAX_UPLOAD_MB = 20
    UPLOAD_DIR = None  # default: instance/evidence
    # Demo accounts (one per role) are created by `flask demo`; turn off for real use.
    DEMO_ACCOUNTS = True
    # Cookies: HttpOnly and SameSite=Lax always; Secure when served over HTTPS.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # How passwords are hashed (werkzeug's generate_password_hash method). Keep the strong
    # default; the tests set a cheap one ("pbkdf2:sha256:1") so that logging in costs nothing.
    # Stored hashes carry their method, so changing this never invalidates a password.
    PASSWORD_HASH_METHOD = "scrypt"
    # Login throttling: this many failures per account or per address in the window.
    LOGIN_MAX_FAILURES = 10
    LOGIN_WINDOW_MINUTES = 15
    # Forms: the CSRF token does not expire while a page stays open for a long edit.
    WTF_CSRF_TIME_LIMIT = None
    # Reverse proxies in front of the app (nginx for HTTPS: 1). Their X-Forwarded-For/-Proto/
    # -Host headers are then trusted, so the client's address (login throttling, the audit
    # trail) and the https scheme are right. 0: no proxy, the headers are ignored.
    PROXY_COUNT = 0
    # Paging of long lists.
    PAGE_SIZE = 50


def parse_env_value(key: str, raw: str):
    if key in BOOLEAN_KEYS:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if key in INTEGER_KEYS:
        return int(raw)
    return raw


def load_environment(config) -> None:
    for env_name, key in ENV_KEYS.items():
        raw = os.environ.get(env_name)
        if raw is not None and raw != "":
            config[key] = parse_env_value(key, raw)
