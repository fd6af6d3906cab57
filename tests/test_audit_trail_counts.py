"""The audit trail on a long history (issue 15): its events are counted only up to a cap (the
first pages of a long trail say "more than N" and keep the older/newer links), a page beyond
the cap is counted exactly, and the filter's people and actions are the distinct values of the
project's trail (read by skipping through the index, not by reading every event)."""

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import close_app, make_app
from tracker.audit import services, trail
from tracker.extensions import db
from tracker.models import AuditEvent, Project

CAP = 12  # the test's COUNT_CAP (a multiple of the page size, as the real one is)


@pytest.fixture
def long_trail(databases, tmp_path, monkeypatch):
    """The demo app, page size 4, with 30 export events by two people after the demo's own."""
    monkeypatch.setattr(services, "COUNT_CAP", CAP)
    app = make_app(databases, tmp_path, PAGE_SIZE=4)
    with app.app_context():
        project_id = db.session.execute(select(Project.id)).scalar_one()
        for n in range(30):
            trail.set_actor(None, "zoe@example.test" if n % 3 else "adam@example.test")
            trail.record(db.session, "export", table_name="audit_event", project_id=project_id,
                         changes={"what": f"export {n}"})
        db.session.commit()
        app.test_project = project_id
    client = app.test_client()
    client.post("/login", data={"email": "auditor@demo.test", "password": "demo-auditor-pass"})
    app.test_auditor = client
    yield app
    close_app(databases, app)


def _summary(body: str) -> str:
    return re.sub(r"\s+", " ", re.search(r'id="trail-count">(.*?)<a ', body, re.S).group(1)).strip()


def test_a_long_trail_says_more_than_the_cap_and_still_pages(long_trail):
    client, base = long_trail.test_auditor, f"/projects/{long_trail.test_project}/audit"
    first = client.get(base).get_data(as_text=True)
    assert _summary(first) == f"Events 1–4 of more than {CAP}. Export all events:"
    assert "<span>Page 1</span>" in first and "Page 1 of" not in first
    assert "export 29" in first and "export 25" not in first  # newest first
    older = re.search(r'<a href="([^"]+)" hx-get="[^"]+" hx-target="#audit-trail"[^>]*rel="next">', first)
    assert older and older.group(1) == f"{base}?page=2"
    # The older page, as htmx asks for it and as a plain link.
    fragment = client.get(older.group(1), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="audit-trail"') and "export 25" in fragment
    assert _summary(fragment).startswith(f"Events 5–8 of more than {CAP}.") and 'rel="prev"' in fragment
    assert "export 25" in client.get(older.group(1)).get_data(as_text=True)


def test_a_page_beyond_the_cap_is_counted_exactly(long_trail):
    client, base = long_trail.test_auditor, f"/projects/{long_trail.test_project}/audit"
    with long_trail.app_context():
        total = db.session.execute(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.project_id == long_trail.test_project)).scalar()
    assert total > 30
    pages = -(-total // 4)
    deep = client.get(f"{base}?page={CAP // 4 + 1}").get_data(as_text=True)
    assert f"of {total}." in _summary(deep) and f"Page {CAP // 4 + 1} of {pages}" in deep
    last = client.get(f"{base}?page=999999").get_data(as_text=True)  # clamped to the last page
    assert f"Page {pages} of {pages}" in last and 'rel="next"' not in last


def test_a_short_filtered_trail_is_counted_exactly(long_trail):
    client, base = long_trail.test_auditor, f"/projects/{long_trail.test_project}/audit"
    by_adam = client.get(f"{base}?actor=adam@example.test").get_data(as_text=True)
    assert _summary(by_adam) == "Events 1–4 of 10 matching the filter. Export these events:"
    assert "Page 1 of 3" in by_adam and "zoe@example.test</td>" not in by_adam


def test_the_filter_offers_each_person_and_action_of_the_scope_once(long_trail):
    with long_trail.app_context():
        choices = services.filter_choices(long_trail.test_project)
        assert choices["actors"] == sorted(set(choices["actors"]))
        assert {"adam@example.test", "zoe@example.test"} <= set(choices["actors"])
        assert choices["actions"] == sorted(set(choices["actions"])) and "export" in choices["actions"]
        other = services.filter_choices(None)  # the system scope: none of the project's exports
        assert "zoe@example.test" not in other["actors"]
    page = long_trail.test_auditor.get(f"/projects/{long_trail.test_project}/audit").get_data(as_text=True)
    assert page.count('<option value="zoe@example.test">') == 1
