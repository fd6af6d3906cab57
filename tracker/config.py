"""Default configuration.

Order of precedence (last wins): these defaults, ``instance/config.py``, ``TRACKER_*``
environment variables, then the ``test_config`` mapping given to ``create_app``.

Values are checked when the app starts (``validate``): one that cannot be read stops the app
with a ``ConfigError`` naming the variable and what is wrong with it, instead of a worker that
crashes on the first request or, worse, a setting silently read as something else (an inline
``# comment`` kept in the value by systemd's ``EnvironmentFile``, ``TRACKER_SECURE_COOKIES=ture``
read as false, a placeholder secret key).
"""

import os
import re

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
    "TRACKER_SESSION_PROTECTION": "SESSION_PROTECTION",
    "TRACKER_DB_CONNECT_TIMEOUT": "DB_CONNECT_TIMEOUT",
    "TRACKER_DB_STATEMENT_TIMEOUT_MS": "DB_STATEMENT_TIMEOUT_MS",
    "TRACKER_MAIL_URL": "MAIL_URL",
    "TRACKER_MAIL_FROM": "MAIL_FROM",
    "TRACKER_BASE_URL": "BASE_URL",
}
# Settings whose value may hold a password: shown with it masked in every message.
SECRET_URL_KEYS = {"MAIL_URL"}

BOOLEAN_KEYS = {"DEMO_ACCOUNTS", "SESSION_COOKIE_SECURE"}
INTEGER_KEYS = {"MAX_UPLOAD_MB", "LOGIN_MAX_FAILURES", "PROXY_COUNT", "DB_CONNECT_TIMEOUT",
                "DB_STATEMENT_TIMEOUT_MS"}
# The smallest value each integer setting may take (0 turns a timeout off).
INTEGER_MINIMUM = {"MAX_UPLOAD_MB": 0, "LOGIN_MAX_FAILURES": 1, "PROXY_COUNT": 0, "DB_CONNECT_TIMEOUT": 0,
                   "DB_STATEMENT_TIMEOUT_MS": 0}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
SESSION_PROTECTION_CHOICES = {"basic", "strong", "none"}


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
    # Flask-Login's session protection. "basic" (the default) keeps a person logged in when
    # their address changes (mobile data, Wi-Fi to 4G, a proxy in between): the session is
    # only marked as not fresh. "strong" logs them out on any change of address or browser;
    # "none" turns the check off.
    SESSION_PROTECTION = "basic"
    # Database timeouts, so a database that hangs costs a quick 503, not a hung worker.
    # Seconds to wait for a PostgreSQL connection (libpq's connect_timeout; 0: wait forever)
    # and milliseconds a PostgreSQL statement may run (statement_timeout; 0: no limit).
    # SQLite waits for its write lock per tracker/database.py's busy_timeout instead.
    DB_CONNECT_TIMEOUT = 5
    DB_STATEMENT_TIMEOUT_MS = 30000
    # Mail (tracker/mail.py). MAIL_URL: smtp://user:password@host:587?tls=1 (STARTTLS), ?ssl=1 or
    # smtps://host:465 (TLS from the start); empty: every message is written to instance/outbox/
    # as an .eml file instead of sent. MAIL_FROM: the sender ("Results tracker <tracker@example.org>");
    # empty: tracker@ the host of BASE_URL. BASE_URL: where people open the app, for the links in
    # mail (which has no request to take the host from).
    MAIL_URL = ""
    MAIL_FROM = ""
    MAIL_TIMEOUT_SECONDS = 10
    BASE_URL = "http://127.0.0.1:5000"


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it and says what is wrong."""


# An inline comment: systemd's EnvironmentFile, docker's --env-file and most .env loaders keep
# "  # ..." after a value as part of the value.
INLINE_COMMENT = re.compile(r"(^|\s)#")
# Secret keys copied from an example and never replaced.
PLACEHOLDER_KEYS = {"changeme", "change-me", "change_me", "change-this", "changethis", "secret", "secret-key",
                    "secret_key", "secretkey", "your-secret-key", "your_secret_key", "mysecret", "replace-me",
                    "replaceme", "todo", "xxx", "none", "null", "default", "dev", "development", "example"}
MIN_SECRET_KEY_LENGTH = 32


def _name_of(key: str) -> str:
    """The environment variable that sets ``key`` (for messages), or the key itself."""
    for env_name, config_key in ENV_KEYS.items():
        if config_key == key:
            return env_name
    return key


def parse_env_value(key: str, raw: str, env_name: str | None = None):
    """The value of one TRACKER_* variable, or ConfigError naming it and the problem."""
    name = env_name or _name_of(key)
    shown = mask_url_password(raw) if key in SECRET_URL_KEYS else raw
    if INLINE_COMMENT.search(raw):
        raise ConfigError(f"{name}={shown!r} holds an inline comment. The environment file keeps everything "
                          "after '=' as the value; put comments on their own line (starting with #).")
    if raw != raw.strip():
        raise ConfigError(f"{name}={shown!r} has spaces around the value; remove them.")
    if key in BOOLEAN_KEYS:
        word = raw.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigError(f"{name}={raw!r} is not a yes/no value; use one of 1/0, true/false, yes/no, on/off.")
    if key in INTEGER_KEYS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a whole number.") from None
    return raw


def load_environment(config, environ=None) -> None:
    environ = os.environ if environ is None else environ
    for env_name, key in ENV_KEYS.items():
        raw = environ.get(env_name)
        if raw is not None and raw != "":
            config[key] = parse_env_value(key, raw, env_name)


def looks_like_placeholder(key: str) -> bool:
    """True for a secret key that was obviously never chosen: "...", "changeme", "<secret>"..."""
    text = key.strip().lower()
    if not text or set(text) <= set(".…*-_ ") or re.fullmatch(r"x{2,}", text) or text in PLACEHOLDER_KEYS:
        return True
    if re.search(r"change[-_ ]?(it|me|this)", text):
        return True
    return (text.startswith("<") and text.endswith(">")) or text.startswith("${")


def is_production(config) -> bool:
    """Configured as a real server: secure cookies on or demo accounts off, and neither
    testing nor debugging. Only then is a short secret key refused (tests use short ones)."""
    if config.get("TESTING") or config.get("DEBUG"):
        return False
    return bool(config.get("SESSION_COOKIE_SECURE")) or not config.get("DEMO_ACCOUNTS", True)


def validate(config) -> None:
    """Check the settings after every source was applied; raise ConfigError on the first problem.

    Catches what the environment parser cannot (values from instance/config.py or the test
    configuration) and what makes no sense together.
    """
    for key in sorted(BOOLEAN_KEYS):
        if not isinstance(config.get(key), bool):
            raise ConfigError(f"{_name_of(key)} must be true or false, not {config.get(key)!r}.")
    for key in sorted(INTEGER_KEYS):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{_name_of(key)} must be a whole number, not {value!r}.")
        if value < INTEGER_MINIMUM[key]:
            raise ConfigError(f"{_name_of(key)}={value} is too small: the smallest allowed is {INTEGER_MINIMUM[key]}.")
    protection = config.get("SESSION_PROTECTION")
    if protection is not None and str(protection).lower() not in SESSION_PROTECTION_CHOICES:
        raise ConfigError(f"TRACKER_SESSION_PROTECTION={protection!r} is not one of basic, strong, none.")
    key = config.get("SECRET_KEY")
    if key is not None:
        if not isinstance(key, (str, bytes)):
            raise ConfigError("TRACKER_SECRET_KEY must be text.")
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        if looks_like_placeholder(text):
            raise ConfigError(f"TRACKER_SECRET_KEY={text!r} is a placeholder, not a secret. Make one with: "
                              "python3 -c 'import secrets; print(secrets.token_hex(32))'")
        if is_production(config) and len(text) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(f"TRACKER_SECRET_KEY is {len(text)} characters long; a real server needs at least "
                              f"{MIN_SECRET_KEY_LENGTH}. Make one with: "
                              "python3 -c 'import secrets; print(secrets.token_hex(32))'")
    url = config.get("SQLALCHEMY_DATABASE_URI")
    if url:
        check_database_url(url)
    if config.get("MAIL_URL"):
        parse_mail_url(config["MAIL_URL"])
    check_mail_from(config.get("MAIL_FROM") or "")
    check_base_url(config.get("BASE_URL") or "")


def check_database_url(url: str) -> None:
    """Refuse a database URL that cannot mean what was intended (most often a password with
    an unencoded ``@``, ``/``, ``:`` or ``#``)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    name = "TRACKER_DATABASE_URL"
    hint = ("If the password holds @ / : # ? or %, percent-encode it: "
            "python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=\"\"))' 'the password'")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(f"{name} cannot be read as a database URL ({error}). {hint}") from None
    if parsed.get_backend_name() == "sqlite":
        return
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"{name} names a {parsed.get_backend_name()!r} database; the tracker runs on "
                          "SQLite or PostgreSQL (postgresql+psycopg://...).")
    host = parsed.host or ""
    if "@" in host or "/" in host or "#" in host or "@" in (parsed.database or "") or "#" in (parsed.database or ""):
        raise ConfigError(f"{name} does not parse into a host and a database name (host {host!r}, "
                          f"database {parsed.database!r}). {hint}")
    try:
        parsed.port  # noqa: B018  (a non-numeric port raises here)
    except ValueError:
        raise ConfigError(f"{name} has a port that is not a number. {hint}") from None


# Environment variables that show a PostgreSQL set-up was meant (libpq's own, and the
# DATABASE_URL many hosts set).
POSTGRES_HINTS = ("PGHOST", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPORT", "PGSERVICE")


def database_notice(url: str, environ=None) -> tuple[str, str | None]:
    """(what to print about the database in use, a loud warning or None).

    The URL is shown without its password. The warning appears when the environment looks
    meant for PostgreSQL yet the app is about to use SQLite: the usual cause is a CLI run
    without the environment file loaded, which would quietly write to a stray SQLite file.
    """
    from sqlalchemy.engine import make_url

    environ = os.environ if environ is None else environ
    parsed = make_url(url)
    line = f"Results tracker: database {parsed.render_as_string(hide_password=True)}"
    if parsed.get_backend_name() != "sqlite":
        return line, None
    reasons = []
    raw = environ.get("TRACKER_DATABASE_URL")
    if raw is not None and not raw.strip():
        reasons.append("TRACKER_DATABASE_URL is set but empty")
    hints = [name for name in POSTGRES_HINTS if environ.get(name)]
    if hints:
        reasons.append(f"{', '.join(hints)} {'is' if len(hints) == 1 else 'are'} set")
    if str(environ.get("DATABASE_URL", "")).startswith("postgres"):
        reasons.append("DATABASE_URL names a PostgreSQL database")
    if not reasons:
        return line, None
    banner = "!" * 78
    warning = (f"{banner}\nWARNING: this environment looks meant for PostgreSQL ({'; '.join(reasons)}),\n"
               f"but the tracker is using SQLite: {parsed.render_as_string(hide_password=True)}\n"
               "Set TRACKER_DATABASE_URL=postgresql+psycopg://... (load the environment file first,\n"
               f"see docs/deployment.md) or unset those variables to mean SQLite.\n{banner}")
    return line, warning


# --- mail -----------------------------------------------------------------------------------------

MAIL_URL_HINT = ("Write it as smtp://user:password@host:587?tls=1 (STARTTLS), smtp://host:25, or "
                 "smtps://user:password@host:465 (TLS from the start; also smtp://...?ssl=1). If the user or "
                 "password holds @ / : # ? or %, percent-encode it: python3 -c 'import sys, urllib.parse; "
                 "print(urllib.parse.quote(sys.argv[1], safe=\"\"))' 'the password'")


def mask_url_password(url: str) -> str:
    """``url`` with the password between ``:`` and ``@`` replaced by ``***`` (for messages and logs)."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*):.*@", r"\1:***@", str(url))  # to the last @


def parse_mail_url(url: str) -> dict:
    """The SMTP settings of ``TRACKER_MAIL_URL``, or ConfigError saying what is wrong (the
    password never shown): host, port, username, password, use_tls, use_ssl."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    shown = mask_url_password(url)

    def refuse(problem: str):
        raise ConfigError(f"TRACKER_MAIL_URL={shown!r} {problem}. {MAIL_URL_HINT}")

    parts = urlsplit(str(url))
    if parts.scheme not in ("smtp", "smtps"):
        refuse("does not start with smtp:// or smtps://")
    if parts.fragment or parts.path not in ("", "/"):
        refuse("does not parse into a host and a port (an unencoded / or # in the password?)")
    if not parts.hostname:
        refuse("names no host")
    try:
        port = parts.port
    except ValueError:
        refuse("has a port that is not a number (an unencoded : or / in the password?)")
    options = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in ("tls", "ssl"):
            refuse(f"has an unknown option {name!r} (known: tls=1, ssl=1)")
        if value.lower() not in TRUE_WORDS | FALSE_WORDS:
            refuse(f"has {name}={value!r}, which is not a yes/no value")
        options[name] = value.lower() in TRUE_WORDS
    use_ssl = parts.scheme == "smtps" or options.get("ssl", False)
    use_tls = options.get("tls", False)
    if use_ssl and use_tls:
        refuse("asks for both STARTTLS (tls=1) and TLS from the start (ssl=1 or smtps://); choose one")
    if port is None:
        port = 465 if use_ssl else 587 if use_tls else 25
    return {"host": parts.hostname, "port": port, "username": unquote(parts.username or "") or None,
            "password": unquote(parts.password or "") or None, "use_tls": use_tls, "use_ssl": use_ssl}


def check_mail_from(sender: str) -> None:
    """The sender, when set, is an address ("tracker@example.org" or "Name <tracker@example.org>")."""
    from email.utils import parseaddr

    if sender and "@" not in parseaddr(sender)[1]:
        raise ConfigError(f"TRACKER_MAIL_FROM={sender!r} is not an e-mail address; write it as "
                          "tracker@example.org or 'Results tracker <tracker@example.org>'.")


def check_base_url(url: str) -> None:
    """BASE_URL is an http(s) address with a host (the links in mail start with it)."""
    from urllib.parse import urlsplit

    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"TRACKER_BASE_URL={url!r} is not the app's address; write it as "
                          "https://tracker.example.org (the links in e-mails start with it).")
