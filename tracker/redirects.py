"""The one check for every ``next`` / "back to" parameter: only same-site paths are followed.

A redirect target comes from the person's browser (a query string, a hidden field), so it is
whatever an attacker put in a link. Browsers and Werkzeug normalise what they are given before
they follow it: tabs and line breaks are dropped (``/\\t/evil.example`` becomes
``//evil.example``), a backslash is read as a slash (``/\\evil.example``), and percent-encoded
forms are decoded by some servers and proxies (``/%2F%2Fevil.example``, ``/%5Cevil.example``).
So the raw string is not judged as it reads: ``safe_target`` refuses

* anything that is not a string, is empty or longer than ``MAX_LENGTH``;
* any character outside the URL characters of RFC 3986 (so no whitespace, control character,
  backslash, quote or non-ASCII letter, which a Location header could not carry either);
* a percent sign not followed by two hex digits;
* anything that does not start with a single ``/``, or has a scheme or a host;
* and, on the path (before any ``?`` or ``#``), the same tests again on each percent-decoded
  form (up to three rounds), so an encoded ``//``, ``\\``, whitespace or control character is
  refused too, as are an empty segment (``//``) or a dot segment (``.``, ``..``, ``%2e``)
  anywhere in it: a browser resolves those, and no page of this app has one.

A refused target gives the caller's default (a page of this app), never an error: the check
itself cannot raise.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 1000

# RFC 3986: unreserved, reserved (less the brackets, only for IPv6 hosts) and '%'.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DECODED_DANGER = re.compile(r"[\x00-\x20\x7f\\]")


def _same_site_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def is_safe_target(target) -> bool:
    """True when ``target`` is a path on this site that every browser reads the same way."""
    try:
        if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
            return False
        if not _URL_CHARACTERS.fullmatch(target) or _BAD_PERCENT.search(target):
            return False
        if not _same_site_path(target):
            return False
        # The path is what a server or proxy may decode; the query string and fragment stay
        # the browser's business on this site's page.
        decoded = re.split(r"[?#]", target, maxsplit=1)[0]
        for _round in range(3):
            once = unquote(decoded)
            if once == decoded:
                break
            decoded = once
            if _DECODED_DANGER.search(decoded) or not _same_site_path(decoded):
                return False
        else:
            return False  # still changing after three rounds: nobody writes that by hand
        # Browsers resolve dot segments (also "%2e") and may then meet "//": no page of ours has either.
        if "//" in decoded or any(segment in (".", "..") for segment in decoded.split("/")):
            return False
        return True
    except Exception:  # noqa: BLE001 - a redirect check must never be a 500
        return False


def safe_target(target, default: str) -> str:
    """``target`` when it is a safe same-site path, else ``default``."""
    return target if is_safe_target(target) else default
