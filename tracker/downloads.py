"""Every download's ``Content-Disposition``, built one way (RFC 6266 with RFC 5987's ``filename*``).

A download's name comes from data people type: a project's code, an uploaded file's own name.
Put raw into the header, a quote ends the name early, a line break either breaks the
response (Werkzeug refuses it: a 500) or, in a server that allows it, starts a new header,
and non-ASCII letters are read differently by each browser. So each download says

    attachment; filename="Bao-cao_Hue.pdf"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o_Hu%E1%BA%BF.pdf

``filename*`` (UTF-8, percent-encoded) carries the real name to every current browser; the
plain ``filename`` is an ASCII fallback for older clients: accents dropped (NFKD), and no
quote, backslash, percent sign or control character left in it. Control and format characters
(line breaks, NUL, right-to-left overrides that disguise ``gpj.exe`` as ``exe.jpg``) and path
separators leave both forms; a name left empty, or one only of dots, becomes ``fallback``.
Names longer than ``MAX_NAME`` characters are cut, keeping the extension.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME = 150
# RFC 5987 attr-char, less what quote() always keeps (letters, digits, "_.-~").
_ATTR_SAFE = "!#$&+^`|"
_ASCII_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%;]')


def _clean(name) -> str:
    text = "" if name is None else str(name)
    text = "".join(" " if unicodedata.category(ch) in ("Zl", "Zp") or ch in "\t\r\n" else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # Cc, Cf, Cs, Co, Cn
    text = text.replace("/", "_").replace("\\", "_")
    text = " ".join(text.split()).strip(" .")
    if len(text) > MAX_NAME:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            text = stem[:MAX_NAME - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            text = text[:MAX_NAME].rstrip(" .")
    return text


def download_name(name, fallback: str = "download") -> str:
    """The name as it will be offered: cleaned of what no file name should carry."""
    return _clean(name) or fallback


def ascii_fallback(name: str, fallback: str = "download") -> str:
    """The ``filename="..."`` form: ASCII only, nothing a quoted string could trip on."""
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    text = _ASCII_UNSAFE.sub("", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    text = " ".join(text.split()).strip(" .")
    if not text or text.startswith(".") or not text.strip("_ -."):
        extension = name.rpartition(".")[2] if "." in name else ""
        extension = _ASCII_UNSAFE.sub("", extension)[:10]
        return f"{fallback}.{extension}" if extension and extension.isalnum() else fallback
    return text


def content_disposition(name, *, inline: bool = False, fallback: str = "download") -> str:
    """The header's value for a download of ``name`` (attachment unless ``inline``)."""
    clean = download_name(name, fallback)
    value = f'{"inline" if inline else "attachment"}; filename="{ascii_fallback(clean, fallback)}"'
    return value + f"; filename*=UTF-8''{quote(clean, safe=_ATTR_SAFE)}"


def name_download(response, name, *, inline: bool = False, fallback: str = "download"):
    """Set ``response``'s Content-Disposition for ``name``; returns the response."""
    response.headers["Content-Disposition"] = content_disposition(name, inline=inline, fallback=fallback)
    return response
