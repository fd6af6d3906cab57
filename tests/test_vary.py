"""A URL that answers htmx with a fragment and a browser with a page says so: ``Vary: HX-Request``.

Without it a cache (the browser's back button included) may hand the fragment to a visitor
who asked for the page, or the page to htmx. The walk covers every GET route of the route
matrix (tests/route_args.py gives the URL arguments), as a manager and as an admin: where the
htmx answer differs from the plain one, both must carry ``Vary: HX-Request``. Answers that
change by themselves from one request to the next (a download with a time stamp) are judged
by their shape instead: a whole page for one, a fragment for the other.
"""

import pytest

from tests.helpers import HX
from tests.test_route_matrix import RULES, Visitors, find_rule

pytestmark = pytest.mark.once  # nothing here depends on the database (tests/conftest.py)


def _is_page(response) -> bool:
    return b"<html" in response.data[:2000].lower()


def _answers_differ(client, url) -> tuple:
    plain = client.get(url)
    fragment = client.get(url, headers=HX)
    again = client.get(url)
    if plain.data == again.data:
        return plain, fragment, plain.data != fragment.data
    return plain, fragment, _is_page(plain) != _is_page(fragment)


def test_every_get_answering_htmx_differently_sends_vary(app):
    visitors = Visitors(app)
    missing, two_shaped = [], []
    for visitor in ("manager", "admin"):
        client = visitors.client(visitor)
        for endpoint, rule_text in RULES:
            if "GET" not in find_rule(app, endpoint, rule_text).methods:
                continue
            url = visitors.url(endpoint, rule_text)
            plain, fragment, differ = _answers_differ(client, url)
            if not differ:
                continue
            two_shaped.append(endpoint)
            for name, response in (("page", plain), ("htmx", fragment)):
                if "HX-Request" not in response.vary:
                    missing.append(f"{endpoint} as {visitor}: {url} ({name} answer {response.status_code}, "
                                   f"Vary: {response.headers.get('Vary', '(none)')})")
    assert not missing, ("These answer htmx and plain requests differently without Vary: HX-Request "
                         "(use htmx.render, htmx.fragment_response or htmx.vary):\n  " + "\n  ".join(missing))
    assert two_shaped, "no route answered htmx with a fragment: the walk checked nothing"


def test_vary_is_checked_on_a_fragment_url(client, auth, demo):
    """The audit trail answers both ways: the walk above must see it as two-shaped."""
    auth.login("manager")
    plain, fragment, differ = _answers_differ(client, f"/projects/{demo}/audit")
    assert differ and _is_page(plain) and not _is_page(fragment)
    assert "HX-Request" in plain.vary and "HX-Request" in fragment.vary
