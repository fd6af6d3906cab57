"""Every page of the project, for each role, in Vietnamese (issue 12).

For each visitor (the four project roles and an admin, each with ``user.locale = "vi"``),
every GET route the visitor may open (read from ``app.url_map``, with the demo values of
tests/route_args.py) is rendered, and its text is checked:

- a full page says ``<html lang="vi">``;
- no English phrase of the catalogue is left in it: every msgid of two words or more
  whose Vietnamese translation differs from it (its literal parts between placeholders, when
  it has some) must not appear in the page's visible text, attribute texts included
  (``title``, ``aria-label``, ``placeholder``, ``alt``).

The demo project's own data is English (the report it comes from is), so the check looks for
the catalogue's sentences, not for English words in general. A phrase of the catalogue that is
also a phrase of the demo's data would be a false alarm; ``DATA_PHRASES`` lists any such,
with the reason.
"""

import html
import re

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import update

from tests.test_catalogue import VI_PO
from tests.test_route_matrix import RULES, SharedApp, expected_status
from tracker.extensions import db
from tracker.models import User

pytestmark = pytest.mark.once  # nothing here depends on the database (tests/conftest.py)

VISITORS = ("manager", "officer", "liaison", "auditor", "admin")
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs]|%[sd]|\{\w*\}")
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
ATTRIBUTE_TEXT = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')
TAG = re.compile(r"<[^>]+>")
# Catalogue phrases that the demo project's own (English) data also contains.
DATA_PHRASES: set[str] = {
    "Project support costs",  # the budget category's label, and also the description of line BL6
    "Illustrative figures",  # the project's own note on its illustrative figures starts so
    "budget line",  # ... and speaks of budget lines
    "budget lines",  # (the same note; a phrase since the budget page's "Show the next %(count)s budget lines")
    "Press clipping",  # the demo's press clippings are described "Press clipping, <agency>, <date>"
    "Members of",  # an assumption of the demo: "Members of the Steering Committee take part..."
}
# Routes whose answer is not a page a person reads in the interface language.
NOT_PAGES = {"static"}


def english_sentences() -> list[str]:
    """The literal parts (two words or more) of every msgid whose Vietnamese differs."""
    with open(VI_PO, "rb") as handle:
        catalogue = read_po(handle)
    found = set()
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, vietnamese in zip(ids, strings[:1] * len(ids), strict=True):
            if not vietnamese or vietnamese.strip() == english.strip():
                continue
            for part in PLACEHOLDER.split(english):
                part = " ".join(TAG.sub(" ", html.unescape(part)).split()).strip(" .,:;·()–-")
                if len(part.split()) >= 2 and part not in DATA_PHRASES:
                    found.add(part)
    return sorted(found, key=len, reverse=True)


SENTENCES = english_sentences()


def visible_text(page: str) -> str:
    page = SCRIPT_OR_STYLE.sub(" ", page)
    attributes = " ".join(ATTRIBUTE_TEXT.findall(page))
    return " ".join(html.unescape(TAG.sub(" ", page) + " " + attributes).split())


@pytest.fixture(scope="module")
def vietnamese_app(databases, tmp_path_factory):
    holder = SharedApp(databases, tmp_path_factory.mktemp("vietnamese"))
    yield holder
    holder.close()


def _in_vietnamese(visitors):
    with visitors.app.app_context():
        db.session.execute(update(User).values(locale="vi"))
        db.session.commit()
    visitors.baseline = visitors.snapshot()
    return visitors


def test_the_check_finds_an_english_sentence():
    """The sentences list is not empty, and a page holding one of them is caught."""
    assert len(SENTENCES) > 200
    sentence = SENTENCES[-1]
    assert sentence in visible_text(f"<p>{html.escape(sentence)}</p>")
    assert sentence in visible_text(f'<button aria-label="{html.escape(sentence)}">x</button>')


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_page_is_vietnamese_for(vietnamese_app, visitor):
    visitors = vietnamese_app.current()
    if visitors.app.config.get("_vietnamese") is not True:
        visitors = _in_vietnamese(visitors)
        visitors.app.config["_vietnamese"] = True
    app = visitors.app
    client = visitors.client(visitor)
    problems, pages = [], 0
    for endpoint, rule_text in RULES:
        if endpoint in NOT_PAGES:
            continue
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)
        if "GET" not in rule.methods:
            continue
        access = getattr(app.view_functions[endpoint], "access", None)
        if expected_status(access, visitor) != "answered":
            continue
        url = visitors.url(endpoint, rule_text)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            page = response.get_data(as_text=True)
            pages += 1
            where = f"GET {url}{' (htmx)' if headers else ''} as {visitor}"
            if "<html" in page[:500] and '<html lang="vi"' not in page[:500]:
                problems.append(f"{where}: not <html lang=\"vi\">")
            text = visible_text(page)
            left = [s for s in SENTENCES if s in text]
            if left:
                problems.append(f"{where}: English left: {left[:5]}")
    assert pages > 40, f"only {pages} pages rendered: the route walk is broken"
    assert not problems, f"{len(problems)} pages with English:\n" + "\n".join(problems)
