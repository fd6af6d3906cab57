"""The activities and week pages kept light (issue 15): a row carries no form and no CSRF token
(its ↑ ↓ buttons submit the page's one move form), the week's summary is fetched when revealed
through a route that checks what the week page checks, and the week page shows the first 25
queried evidence items with a link to the rest."""

import re
from datetime import datetime

from sqlalchemy import insert, select, update

from tests.helpers import HX, add_activities
from tracker.extensions import db
from tracker.models import Activity, EvidenceItem, User

WEEK = "2016-W47"


def activity_ids(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(Activity.code, Activity.id)).all())


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tbody id="activity-\d+".*?</tbody>', page, flags=re.S)


def test_a_row_carries_no_form_and_its_move_buttons_submit_the_pages_one_form(client, auth, demo, app):
    auth.login("manager")
    page = client.get(f"/projects/{demo}/activities?week={WEEK}").get_data(as_text=True)
    rows = rows_of(page)
    assert rows and all("<form" not in row and "csrf_token" not in row for row in rows)
    a1 = activity_ids(app)["A1"]
    [row] = [row for row in rows if f'id="activity-{a1}"' in row]
    assert (f'<button type="submit" form="activity-move" formaction="/projects/{demo}/activities/{a1}/move" '
            f'name="direction" value="up"') in row
    assert 'title="Move A1 down"' in row and 'hx-target="this"' in row
    # The one form: the page's CSRF token and week, posting to the moved row's own address.
    form = re.search(r'<form id="activity-move".*?</form>', page, flags=re.S).group(0)
    assert 'name="csrf_token"' in form and f'name="page_week" value="{WEEK}"' in form
    assert 'hx-target="#activity-table"' in form
    # What the buttons send, without JavaScript: the row's move, then back to the page.
    response = client.post(f"/projects/{demo}/activities/{a1}/move", data={"direction": "down", "page_week": WEEK})
    assert response.status_code == 303 and response.location.endswith(f"?week={WEEK}#activity-{a1}")
    page = client.get(f"/projects/{demo}/activities?week={WEEK}").get_data(as_text=True)
    codes = re.findall(r'<span class="code">(A[\d.]+)</span>', page)
    assert codes[:3] == ["A1.5", "A1", "A1.4"]  # A1 went down past A1.5, its next sibling


def test_readers_get_no_move_form_and_no_buttons(client, auth, demo):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/activities?week={WEEK}").get_data(as_text=True)
    assert 'id="activity-move"' not in page and 'form="activity-move"' not in page
    assert ">Log week<span" in page and ">Edit<span" not in page


def test_the_move_form_needs_its_csrf_token(csrf_app):
    client = csrf_app.test_client()
    login_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                            client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "manager@demo.test", "password": "demo-manager-pass",
                                "csrf_token": login_token})
    a1 = activity_ids(csrf_app)["A1"]
    assert client.post(f"/projects/1/activities/{a1}/move", data={"direction": "down"}).status_code == 400
    page = client.get(f"/projects/1/activities?week={WEEK}").get_data(as_text=True)
    token = re.search(r'<form id="activity-move".*?name="csrf_token" value="([^"]+)"', page, flags=re.S).group(1)
    response = client.post(f"/projects/1/activities/{a1}/move",
                           data={"direction": "down", "page_week": WEEK, "csrf_token": token})
    assert response.status_code == 303


def test_a_row_is_light(client, auth, demo, app):
    """Labels, badges and addresses are worked out once per page: a row is its own text plus a
    fixed amount of markup (it was ~3 KB with two forms of its own)."""
    auth.login("manager")
    with app.app_context():
        add_activities(demo, 30, status="on_track")
        db.session.commit()
    page = client.get(f"/projects/{demo}/activities?week={WEEK}").get_data(as_text=True)
    rows = rows_of(page)
    assert len(rows) == 25
    assert max(len(row.encode()) for row in rows) < 2200


def test_rows_follow_the_persons_language(client, auth, demo, app):
    with app.app_context():
        db.session.execute(update(User).where(User.email == "officer@demo.test").values(locale="vi"))
        db.session.commit()
    auth.login("officer")
    page = client.get(f"/projects/{demo}/activities?week={WEEK}").get_data(as_text=True)
    assert '<html lang="vi"' in page
    row = rows_of(page)[0]
    assert 'data-label="Status"' not in row and ">Log week<" not in row and ">Edit log<" not in row
    english = [label for label in ("On track", "Delayed", "Completed", "Not started", "At risk") if label in row]
    assert not english


def test_the_week_summary_fragment_checks_membership_and_answers_both_ways(client, auth, demo, app):
    with app.app_context():
        from tracker.accounts.services import create_user

        create_user("stranger@example.test", "Người lạ", "a-long-password-1")
        db.session.commit()
    client.post("/login", data={"email": "stranger@example.test", "password": "a-long-password-1"})
    assert client.get(f"/projects/{demo}/week/{WEEK}/summary", headers=HX).status_code == 404
    client.post("/logout")
    assert client.get(f"/projects/{demo}/week/{WEEK}/summary", headers=HX).status_code in (302, 303, 401)
    auth.login("auditor")
    fragment = client.get(f"/projects/{demo}/week/{WEEK}/summary", headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    full = client.get(f"/projects/{demo}/week/{WEEK}/summary")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.vary
    assert client.get(f"/projects/{demo}/week/2016-W99/summary", headers=HX).status_code == 404


def test_the_week_page_shows_the_first_25_queried_items_and_links_to_the_rest(client, auth, demo, app):
    with app.app_context():
        auditor = db.session.execute(select(User).where(User.email == "auditor@demo.test")).scalar_one()
        db.session.execute(insert(EvidenceItem), [
            {"project_id": demo, "kind": "report", "title": f"Báo cáo {i}", "review_state": "queried",
             "review_note": f"Thiếu trang {i}", "reviewed_by_id": auditor.id,
             "reviewed_at": datetime(2016, 11, 1, 8, i), "version": 1} for i in range(40)])
        db.session.commit()
    auth.login("officer")
    page = client.get(f"/projects/{demo}/week/{WEEK}").get_data(as_text=True)
    section = page[page.index('aria-labelledby="queried-h"'):page.index('id="week-summary"')]
    assert section.count('<li id="queried-') == 25
    assert "Báo cáo 0<" in section and "Báo cáo 24<" in section and "Báo cáo 25<" not in section  # oldest first
    assert "The 25 queried longest ago of 40." in section
    assert f'href="/projects/{demo}/evidence?state=queried"' in section
