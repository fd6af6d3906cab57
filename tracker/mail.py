"""Mail: one way to send, a queue sent after the commit, and the outbox when no server is set.

* ``send(to, subject, text, html)`` sends one message now; ``deliver(messages)`` sends several
  over one SMTP connection. Both go through Flask-Mailman's SMTP backend, configured by
  ``TRACKER_MAIL_URL`` (read and checked in tracker/config.py: ``smtp://user:pass@host:587?tls=1``,
  ``?ssl=1`` or ``smtps://``). With no URL (the default) each message is written to
  ``instance/outbox/`` as one ``.eml`` file whose name sorts by time, and nothing is sent.
* ``compose(user, template, subject, **context)`` renders ``templates/mail/<template>.txt`` and
  ``.html`` in the person's language (``user.locale``, else English) into a ``Message``; links in
  mail are absolute (``absolute_url``, from ``TRACKER_BASE_URL``).
* ``queue(message)`` keeps a message on the database session; it is sent right after that
  session's commit and dropped on a rollback, so nobody is told of a change that was not saved.
  A failure to send is logged and never undoes the change. During a request the outcome is told
  to the person who made the change: a flash (plain requests) or an out-of-band notice appended
  to the htmx answer ("mail is not configured: written to instance/outbox/", "could not be sent").

Nothing here commits.
"""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formataddr
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMultiAlternatives, Mail
from sqlalchemy import event
from sqlalchemy.orm import Session

from .config import parse_mail_url

log = logging.getLogger(__name__)

QUEUE_KEY = "tracker.mail_queue"
OUTCOMES_KEY = "mail_outcomes"
LANGUAGES = ("en", "vi")
_mail = Mail()  # bound to no app: uses current_app's settings (init_mail)


@dataclass
class Message:
    """One message to one or more addresses ("Name <address>"), text plus an HTML alternative."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    locale: str = "en"
    names: tuple[str, ...] = ()  # who it is for, as the sender's page names them


@dataclass
class Outcome:
    message: Message
    status: str  # "sent", "written" (to the outbox) or "failed"
    path: Path | None = None
    error: str = ""
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- settings


def init_mail(app: Flask) -> None:
    """Bind Flask-Mailman to the app from MAIL_URL (already checked by config.validate), and
    install the after-commit sending and the request's notice once."""
    settings = parse_mail_url(app.config["MAIL_URL"]) if app.config.get("MAIL_URL") else {}
    app.extensions["mailman"] = Mail.init_mail({
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": settings.get("host", "localhost"),
        "MAIL_PORT": settings.get("port", 25),
        "MAIL_USERNAME": settings.get("username"),
        "MAIL_PASSWORD": settings.get("password"),
        "MAIL_USE_TLS": settings.get("use_tls", False),
        "MAIL_USE_SSL": settings.get("use_ssl", False),
        "MAIL_TIMEOUT": app.config.get("MAIL_TIMEOUT_SECONDS") or None,
        "MAIL_DEFAULT_SENDER": sender(app),
    })
    app.after_request(_tell_the_sender)
    _install_session_hooks()


def is_configured() -> bool:
    return bool(current_app.config.get("MAIL_URL"))


def sender(app: Flask | None = None) -> str:
    """MAIL_FROM, else "Results tracker <tracker@host of BASE_URL>"."""
    config = (app or current_app).config
    if config.get("MAIL_FROM"):
        return config["MAIL_FROM"]
    host = urlsplit(config.get("BASE_URL") or "").hostname or "localhost"
    return formataddr(("Results tracker", f"tracker@{host}"))


def outbox_dir() -> Path:
    return Path(current_app.instance_path) / "outbox"


def absolute_url(url: str) -> str:
    """A link for mail: ``url`` (a path from ``url_for``, or already absolute) under BASE_URL.

    When BASE_URL has a path (the app under /tracker) and the path already starts with it (the
    request's script root), it is not doubled.
    """
    if urlsplit(url).scheme:
        return url
    base = current_app.config["BASE_URL"].rstrip("/")
    prefix = urlsplit(base).path.rstrip("/")
    if prefix and (url == prefix or url.startswith(prefix + "/")):
        url = url[len(prefix):]
    return f"{base}/{url.lstrip('/')}"


def link(endpoint: str, **values) -> str:
    """The absolute address of a page for mail (``url_for`` under BASE_URL), in a request or not."""
    with request_context():
        return absolute_url(url_for(endpoint, **values))


def request_context():
    """The current request, or (CLI, scripts) one made up for BASE_URL: templates and ``url_for``
    need one."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context("/", base_url=current_app.config["BASE_URL"])


def person_locale(user) -> str:
    """The person's language for mail: their choice (``user.locale``), else English."""
    chosen = getattr(user, "locale", None)
    return chosen if chosen in LANGUAGES else "en"


# --------------------------------------------------------------------------------------------- building


def compose(user, template: str, subject: Callable[[], str] | str, **context) -> Message:
    """The message ``mail/<template>.txt`` + ``.html`` for ``user``, in their language.

    ``subject`` is a callable (``lambda: _("...")``) so it is translated in that language too.
    """
    locale = person_locale(user)
    with request_context(), force_locale(locale):
        title = subject() if callable(subject) else subject
        values = {"user": user, "locale": locale, "subject": title,
                  "account_url": absolute_url("/account"), **context}
        text = render_template(f"mail/{template}.txt", **values)
        html = render_template(f"mail/{template}.html", **values)
    return Message(to=(formataddr((user.name, user.email)),), subject=title, text=text, html=html, locale=locale,
                   names=(user.name,))


def _email(message: Message, connection=None) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(message.subject, message.text, sender(), list(message.to), connection=connection,
                                   headers={"Content-Language": message.locale})
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


# --------------------------------------------------------------------------------------------- sending


def send(to, subject: str, text: str, html: str | None = None, *, locale: str | None = None) -> Outcome:
    """Send one message now (or write it to the outbox); never raises for a mail failure."""
    addresses = (to,) if isinstance(to, str) else tuple(to)
    return deliver([Message(to=addresses, subject=subject, text=text, html=html, locale=locale or "en")])[0]


def deliver(messages: list[Message]) -> list[Outcome]:
    """Send ``messages`` over one SMTP connection, or write them to the outbox when no server is
    configured. Each has its outcome; a failure is logged (never the password) and not raised."""
    if not messages:
        return []
    if not is_configured():
        return [_write(message) for message in messages]
    outcomes = []
    connection = _mail.get_connection()
    try:
        connection.open()
    except Exception as error:  # the server is down, refuses the login...: nothing goes out
        log.warning("mail server could not be reached: %s", error)
        return [Outcome(message, "failed", error=str(error)) for message in messages]
    try:
        for message in messages:
            try:
                connection.send_messages([_email(message, connection)])
                outcomes.append(Outcome(message, "sent"))
            except Exception as error:  # one refused recipient does not stop the others
                log.warning("mail %r to %s could not be sent: %s", message.subject, ", ".join(message.to), error)
                outcomes.append(Outcome(message, "failed", error=str(error)))
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection: nothing left to do
            pass
    return outcomes


def _write(message: Message) -> Outcome:
    """One .eml file in instance/outbox/, named by the UTC time (so names sort by time)."""
    try:
        folder = outbox_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = folder / f"{stamp}-{secrets.token_hex(3)}.eml"
        data = _email(message).message().as_bytes()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except Exception as error:
        log.warning("mail %r could not be written to the outbox: %s", message.subject, error)
        return Outcome(message, "failed", error=str(error))
    return Outcome(message, "written", path=path)


# --------------------------------------------------------------------------------------------- after the commit


def queue(message: Message, session=None) -> None:
    """Send ``message`` after the session's commit (never if it rolls back)."""
    from .extensions import db

    session = session if session is not None else db.session()
    if not session.in_transaction():  # so that a rollback before anything was flushed drops it too
        session.begin()
    session.info.setdefault(QUEUE_KEY, []).append(message)


def queued(session=None) -> list[Message]:
    from .extensions import db

    session = session if session is not None else db.session()
    return list(session.info.get(QUEUE_KEY, []))


_hooks_installed = False


def _install_session_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    event.listen(Session, "after_commit", _send_queued)
    event.listen(Session, "after_soft_rollback", _drop_queued)
    _hooks_installed = True


def _send_queued(session) -> None:
    messages = session.info.pop(QUEUE_KEY, None)
    if not messages:
        return
    try:
        outcomes = deliver(messages)
    except Exception as error:  # the change is committed: a mail problem must not turn it into a 500
        log.exception("queued mail could not be delivered")
        outcomes = [Outcome(message, "failed", error=str(error)) for message in messages]
    if has_request_context():
        g.setdefault(OUTCOMES_KEY, []).extend(outcomes)


def _drop_queued(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(QUEUE_KEY, None)


# --------------------------------------------------------------------------------------------- telling the sender


def notices_for(outcomes: list[Outcome]) -> list[tuple[str, str]]:
    """(category, text) lines saying what became of the request's mail."""
    lines = []
    by_status: dict[str, list[str]] = {}
    for outcome in outcomes:
        by_status.setdefault(outcome.status, []).extend(outcome.message.names or outcome.message.to)
    if by_status.get("sent"):
        lines.append(("info", _("Notice sent by e-mail to %(names)s.", names=", ".join(by_status["sent"]))))
    if by_status.get("written"):
        lines.append(("info", _("Mail is not configured: the notice to %(names)s was written to instance/outbox/ "
                                "instead of being sent.", names=", ".join(by_status["written"]))))
    if by_status.get("failed"):
        lines.append(("error", _("The e-mail notice to %(names)s could not be sent; your change is saved.",
                                 names=", ".join(by_status["failed"]))))
    return lines


def _tell_the_sender(response):
    """After a request whose commit sent mail: a flash, or for htmx an out-of-band notice."""
    outcomes = g.pop(OUTCOMES_KEY, None)
    if not outcomes:
        return response
    from .htmx import is_htmx

    lines = notices_for(outcomes)
    if (is_htmx() and response.status_code == 200 and response.mimetype == "text/html"
            and not response.direct_passthrough and not response.is_streamed):
        response.set_data(response.get_data() + render_template("mail/_notice_oob.html", lines=lines).encode())
        return response
    for category, text in lines:
        flash(text, category)
    return response
