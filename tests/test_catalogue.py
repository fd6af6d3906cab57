"""The Vietnamese catalogue (issue 12): complete, placeholders intact, compiled and used.

- every message of tracker/translations/vi/LC_MESSAGES/messages.po has a translation, none
  empty or fuzzy, with the same named placeholders (``%(name)s``, ``{name}``) as its msgid;
- the messages of the header, the navigation, the login and account pages and the number
  parsers, extracted from the code as ``make catalogue`` does, are all in it;
- the .mo that ``make translations`` compiles is the one the app reads: a page rendered in
  Vietnamese shows the catalogue's words.
"""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

pytestmark = pytest.mark.once  # nothing here depends on the database (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "tracker" / "translations"
VI_PO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs]|\{(\w+)\}")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# What issue 12's first part wrapped: the layout, the login and account pages, the navigation
# and the messages of the number and date parsers.
OWN_FILES = ["templates/base.html", "templates/_language_switch.html", "templates/accounts/login.html",
             "templates/accounts/account.html", "tracker/__init__.py", "tracker/validation.py",
             "tracker/accounts/routes.py", "tracker/accounts/forms.py", "tracker/accounts/services.py"]


def catalogue(path=VI_PO):
    with open(path, "rb") as handle:
        return read_po(handle)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_every_message_has_a_vietnamese_translation_with_the_same_placeholders():
    messages = [m for m in catalogue() if m.id]
    assert len(messages) > 100  # the catalogue is there, not an empty file
    problems = []
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        for text in strings:
            if not text or not text.strip():
                problems.append(f"untranslated: {ids[0]!r}")
            elif placeholders(text) != placeholders(ids[-1]) | placeholders(ids[0]):
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_the_english_catalogue_holds_the_same_messages():
    vietnamese = {m.id for m in catalogue() if m.id}
    english = {m.id for m in catalogue(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po") if m.id}
    assert english == vietnamese


def _extracted(relative: str) -> set[str]:
    path = ROOT / relative
    method = "jinja2.ext:babel_extract" if path.suffix == ".html" else "python"
    options = {"extensions": "jinja2.ext.i18n"} if path.suffix == ".html" else {}
    return {found[1] if isinstance(found[1], str) else found[1][0]
            for found in extract_from_file(method, str(path), keywords=KEYWORDS, options=options)}


@pytest.mark.parametrize("relative", OWN_FILES)
def test_the_messages_of_the_header_pages_and_parsers_are_in_the_catalogue(relative):
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue() if m.id}
    found = _extracted(relative)
    assert found, f"nothing extracted from {relative}: the extraction itself is broken"
    missing = sorted(found - known)
    assert not missing, f"{relative}: not in the catalogue (run make catalogue and translate): {missing}"


def test_the_compiled_catalogue_is_current_and_is_the_one_the_app_reads(client, auth, demo):
    compiled = VI_PO.with_suffix(".mo")
    assert compiled.exists() and compiled.stat().st_mtime >= VI_PO.stat().st_mtime, \
        "tracker/translations/vi/LC_MESSAGES/messages.mo is missing or older than its .po: run `make translations`"
    auth.login("officer")
    client.post("/language", data={"locale": "vi", "next": "/"})
    page = client.get(f"/projects/{demo}/logframe").get_data(as_text=True)
    for words in ('<html lang="vi">', ">Khung logic</a>", ">Tổng quan</a>", ">Đăng xuất</button>",
                  "Chuyển đến nội dung"):
        assert words in page, words


def _extract_everything() -> set[str]:
    """Every msgid of the code and templates, read with babel.cfg as ``make catalogue`` does."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):  # .venv and dot folders are skipped
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_of_the_code_and_templates_is_in_the_catalogue():
    """What `make catalogue` would extract is all in the Vietnamese catalogue (and so, by the
    first test, translated): a string wrapped in _() without a translation fails here."""
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue() if m.id}
    found = _extract_everything()
    assert len(found) > 1000, "the extraction found too little: babel.cfg or the walk is broken"
    missing = sorted(found - known)
    assert not missing, f"{len(missing)} messages not in the catalogue (make catalogue, translate): {missing[:20]}"
