"""One safe-redirect rule (tracker.redirects) for every ``next`` / back parameter: only same-site
paths are followed, whatever a browser, Werkzeug or a proxy would make of the string; never a
500. Checked on the helper, on a real login with each ``next``, and on the budget's "back to"."""

import pytest
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import BudgetLine
from tracker.redirects import MAX_LENGTH, is_safe_target, safe_target

HOSTILE = [
    "//evil.example", "///evil.example", "////evil.example/x", "/\\evil.example", "\\\\evil.example",
    "/\\/evil.example", "\\/evil.example", "https://evil.example", "http:evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
    "/%2F%2Fevil.example", "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5cevil.example",
    "/%252F%252Fevil.example", "/%25252F%25252Fevil.example", "/%09/evil.example", "/%0a/evil.example",
    "/%0d%0aSet-Cookie:x=1", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "\t//evil.example",
    " //evil.example", "/ /evil.example", "/\x00/evil.example", "/\x7f/evil.example", "/\u3000/evil.example",
    "/\u2028/evil.example", "/\uff0f\uff0fevil.example", "／／evil.example", "/é", "evil.example", "", " ",
    "/" + "a" * MAX_LENGTH, "/%", "/%zz", "/%2", "//", "/\\", "?next=/", "#/", "/.%2e/%2e%2e//evil.example",
    "/@evil.example/../..//evil.example/%2F", "/%E0%A4%A", "/a/b/../c", "/projects//1",
]
SAFE = ["/", "/projects/1", "/projects/1/budget?line=2#expenditures", "/projects/1/evidence?q=H%C3%A0%20N%E1%BB%99i",
        "/projects/1/week/2016-W47"]


@pytest.mark.parametrize("target", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_targets_are_refused(target):
    assert is_safe_target(target) is False
    assert safe_target(target, "/home") == "/home"


@pytest.mark.parametrize("target", SAFE)
def test_same_site_paths_are_followed(target):
    assert is_safe_target(target) is True


@pytest.mark.parametrize("target", [None, 5, b"/x", ["/x"], object(), "\ud800", "/\udfff"])
def test_anything_but_text_is_refused(target):
    assert safe_target(target, "/home") == "/home"


def _followed(location: str) -> bool:
    """Whether a Location leaves the site, read as a browser reads it."""
    from urllib.parse import urljoin, urlsplit

    resolved = urlsplit(urljoin("http://localhost/login", location.replace("\\", "/")))
    return resolved.netloc == "localhost"


@pytest.mark.parametrize("target", HOSTILE + SAFE, ids=range(len(HOSTILE + SAFE)))
def test_a_real_login_with_each_next_stays_on_the_site(app, client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "officer@demo.test", "password": "demo-officer-pass"})
    if "\x00" in target:  # a NUL in any input is refused before anything else (tests/test_fuzz.py)
        assert response.status_code == 400
        return
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert _followed(location), location
    if target in SAFE:
        assert location == target
    else:
        assert location == "/"
    assert client.get(location).status_code < 500


def test_the_budget_back_to_is_the_same_rule(app, auth, client, demo):
    with app.app_context():
        line = db.session.execute(select(BudgetLine.id).where(BudgetLine.project_id == demo)).scalars().first()
    auth.login("officer")
    for target, expected in (("//evil.example", f"/projects/{demo}/budget"), ("/%5Cevil.example", f"/projects/{demo}/budget"),
                             (f"/projects/{demo}/expenditures", f"/projects/{demo}/expenditures")):
        response = client.post(f"/projects/{demo}/expenditures/new", data={
            "spent_on": "2016-11-24", "line_id": str(line), "amount": "1.00", "voucher": f"R-{len(target)}-{target[-3:]}",
            "status": "committed", "next": target})
        assert response.status_code == 303
        assert response.headers["Location"] == expected
