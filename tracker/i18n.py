"""Languages: Flask-Babel bound to the app, and the choice of the person's locale.

Every string a person reads goes through ``gettext`` (``_`` in Python and in templates);
strings defined at import time (form labels, enum labels, column headers) use
``lazy_gettext`` so they are translated when shown, in the locale of the request.

The catalogues live in ``tracker/translations/<locale>/LC_MESSAGES/messages.po`` and are
compiled by the Makefile (``make translations``).
"""

from flask import Flask
from flask_babel import Babel

LANGUAGES = ("en", "vi")
DEFAULT_LOCALE = "en"

babel = Babel()


def select_locale() -> str:
    """The request's locale: the person's stored choice, then the browser's Accept-Language,
    then English."""
    from flask import request
    from flask_login import current_user

    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    if request:
        return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def init_i18n(app: Flask) -> None:
    from pathlib import Path

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
