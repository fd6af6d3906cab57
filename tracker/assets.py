"""Static files with versioned names and long cache lifetimes.

Templates link static files with ``static_url('css/app.css')``, which adds ``?v=<the first 12
hex digits of the file's SHA-256>``. A versioned URL names one content for ever, so its
response may be cached for a year (``immutable``); when the file changes, its URL changes and
browsers fetch the new one on the next page. So does a file whose name carries its version
(``js/vendor/htmx-2.0.11.min.js``). A static URL without the current version (typed by hand,
or an old page's) gets ``no-cache``: the browser revalidates it with its ETag each time.

Hashes are computed once per file and process (again when the file's modification time
changes, so editing CSS during development shows at once).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading

from flask import Flask, current_app, has_request_context, request, url_for

ONE_YEAR = 365 * 24 * 3600
VERSIONED_NAME = re.compile(r"-\d+(\.\d+)+(\.min)?\.(js|css)$")
_hashes: dict[str, tuple[float, str]] = {}
_urls: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def content_version(filename: str, app: Flask | None = None) -> str | None:
    """The version of a static file (a hash of its content), or None when it does not exist."""
    app = app or current_app
    path = os.path.join(app.static_folder, filename)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    cached = _hashes.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    with open(path, "rb") as handle:
        version = hashlib.sha256(handle.read()).hexdigest()[:12]
    with _lock:
        _hashes[path] = (mtime, version)
    return version


def static_url(filename: str) -> str:
    """The URL of a static file with its content version (``/static/css/app.css?v=3f2a...``).

    Outside debug mode the URL is remembered per process (every page links the same few
    files; a deployment restarts the server); in debug mode an edited file shows at once."""
    key = (filename, request.script_root if has_request_context() else "")
    if not current_app.debug and key in _urls:
        return _urls[key]
    version = None if VERSIONED_NAME.search(filename) else content_version(filename)
    url = url_for("static", filename=filename) if version is None else url_for("static", filename=filename, v=version)
    if not current_app.debug and (version is not None or VERSIONED_NAME.search(filename)):
        _urls[key] = url
    return url


def _cache_static(response):
    """A year for a static file asked for by its current version (or a versioned name)."""
    if request.endpoint != "static" or response.status_code not in (200, 206, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    asked = request.args.get("v")
    if VERSIONED_NAME.search(filename) or (asked and asked == content_version(filename)):
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    else:
        response.cache_control.max_age = None
        response.cache_control.public = True
        response.cache_control.no_cache = True
    return response


def init_assets(app: Flask) -> None:
    app.add_template_global(static_url, "static_url")
    app.after_request(_cache_static)
