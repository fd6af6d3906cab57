"""Languages: Flask-Babel bound to the app, and the choice of the person's locale.

Every string a person reads goes through ``gettext`` (``_`` in Python and in templates);
strings defined at import time (form labels, enum labels, column headers) use
``lazy_gettext`` so they are translated when shown, in the locale of the request.

The locale of a request (``select_locale``), first that applies:

1. the logged-in person's stored choice (``user.locale``; NULL follows the browser);
2. the choice made in this browser session (the header's switch, also before logging in;
   kept across logging in and out, see ``carry_choice``);
3. the browser's ``Accept-Language``;
4. English.

The catalogues live in ``tracker/translations/<locale>/LC_MESSAGES/messages.po`` and are
compiled by the Makefile (``make translations``).
"""

from functools import lru_cache

from babel import support
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale, get_translations
from wtforms.i18n import messages_path

LANGUAGES = ("en", "vi")
DEFAULT_LOCALE = "en"
# Each language named in itself, as the switch shows it (never translated: a person looking
# for their language must recognise it whatever the page's language).
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt"}
SESSION_KEY = "locale"

babel = Babel()


def N_(text: str) -> str:
    """Mark ``text`` for the catalogue without translating it now (pybabel extracts ``N_``);
    whoever shows it translates it with ``gettext`` in the request's locale."""
    return text


def select_locale() -> str:
    """The request's locale: the person's stored choice, the session's, the browser's
    Accept-Language, then English (also outside a request)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    from flask_login import current_user

    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    if session.get(SESSION_KEY) in LANGUAGES:
        return session[SESSION_KEY]
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LOCALE


def current_language() -> str:
    """The request's language code ('en', 'vi'), for ``<html lang>`` and the switch."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def session_choice() -> str | None:
    """The language chosen in this browser session, if any."""
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in LANGUAGES else None


def remember_in_session(code: str | None) -> None:
    """Keep ``code`` as this browser session's choice (None forgets it)."""
    if code in LANGUAGES:
        session[SESSION_KEY] = code
    else:
        session.pop(SESSION_KEY, None)


def carry_choice(clear) -> None:
    """Run ``clear`` (a session.clear at login or logout) and keep the language chosen before,
    so the page after it speaks the same language."""
    from flask_login import current_user

    chosen = getattr(current_user, "locale", None) if has_request_context() else None
    chosen = chosen if chosen in LANGUAGES else session_choice()
    clear()
    remember_in_session(chosen)


def init_i18n(app: Flask) -> None:
    from pathlib import Path

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    # The templates' gettext: the request's translations looked up once, not on every string
    # (Flask-Babel resolves the domain, the locale and its name for each one; a page has hundreds).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def languages():
        return {"current_language": current_language, "language_names": LANGUAGE_NAMES}

    @app.before_request
    def share_wtforms_messages():
        # Flask-WTF reads this request attribute before loading WTForms' catalogue itself,
        # which it would do on every request (every page has a form: the header's log out).
        request.wtforms_translations = WTFORMS_MESSAGES


@lru_cache(maxsize=8)
def _wtforms_catalogue(locale_name: str):
    return support.Translations.load(messages_path(), [locale_name], domain="wtforms")


class _WtformsMessages:
    """WTForms' own messages ("Not a valid choice." and the like) in the request's language,
    each catalogue read once per process (issue 15: it cost about a millisecond a request)."""

    def ugettext(self, string):
        return _wtforms_catalogue(str(get_locale() or DEFAULT_LOCALE)).ugettext(string)

    def ungettext(self, singular, plural, n):
        return _wtforms_catalogue(str(get_locale() or DEFAULT_LOCALE)).ungettext(singular, plural, n)


WTFORMS_MESSAGES = _WtformsMessages()


def _translations():
    """Flask-Babel's translations for the current locale, kept on its own per-request namespace
    with the locale object they were found for: ``force_locale`` and ``refresh`` replace or
    drop that object, and the next string looks them up again."""
    space = g.get("_flask_babel") if g else None
    if space is not None:
        kept = getattr(space, "tracker_translations", None)
        if kept is not None and kept[0] is getattr(space, "babel_locale", None):
            return kept[1]
    found = get_translations()
    space = g.get("_flask_babel") if g else None
    if space is not None and getattr(space, "babel_locale", None) is not None:
        space.tracker_translations = (space.babel_locale, found)
    return found
