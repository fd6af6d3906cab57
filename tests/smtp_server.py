"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, a free port, in a thread.

It accepts a login (``USER`` / ``PASSWORD``, over plain SMTP: a test server only) and keeps
every message it receives, parsed back with the standard ``email`` package.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USER = "tracker"
PASSWORD = "p@ss:w/rd#1"  # needs percent-encoding in the URL


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


class SmtpServer:
    """``with SmtpServer() as smtp:``; ``smtp.url`` for TRACKER_MAIL_URL, ``smtp.messages()``."""

    def __init__(self):
        self.handler = _Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     authenticator=_authenticate, auth_require_tls=False, auth_required=True)

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"smtp://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def envelopes(self) -> list[tuple[list[str], bytes]]:
        with self.handler.lock:
            return list(self.handler.received)

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        """(envelope recipients, the parsed message) of each message received, in order."""
        return [(rcpts, email.message_from_bytes(data, policy=email.policy.default))
                for rcpts, data in self.envelopes()]


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and the HTML body of a parsed message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else ""), (html.get_content() if html else "")
