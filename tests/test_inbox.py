"""Needs your action: items per role appear when their condition arises, disappear when the
action is done, and the navigation's counts change in the same response (out of band)."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers import HX
from tracker.extensions import db
from tracker.inbox import services
from tracker.models import Activity, EvidenceItem, IndicatorPeriod, User


def _user(email):
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _counts(app, role):
    with app.app_context():
        return services.counts_for(_user(f"{role}@demo.test"))


def _nav_count(html: str) -> int:
    match = re.search(r'id="inbox-count"[^>]*>(\d+)', html)
    assert match, "no inbox count in the page"
    return int(match.group(1))


def _oob_count(html: str) -> int:
    match = re.search(r'<span id="inbox-count"[^>]*hx-swap-oob="true"[^>]*>(\d+)', html)
    assert match, "the response carries no out-of-band inbox count"
    return int(match.group(1))


def test_each_role_sees_its_own_kinds(app):
    officer, manager, auditor, liaison = (_counts(app, r) for r in ("officer", "manager", "auditor", "liaison"))
    assert officer["period_missing"] > 0 and officer["activity_due"] > 0 and officer["period_submitted"] == 0
    assert manager["period_submitted"] == 6 and manager["period_missing"] == 0
    assert auditor["evidence_waiting"] > 0 and auditor["expenditure_unbacked"] > 0 and auditor["period_submitted"] == 0
    assert liaison["export_due"] == 1 and liaison["total"] == 1
    for counts in (officer, manager, auditor, liaison):
        assert counts["total"] == sum(v for k, v in counts.items() if k != "total")


def test_items_are_grouped_by_project_and_link_to_the_action(app, demo):
    with app.app_context():
        items = services.items_for(_user("manager@demo.test"))
    assert {i.kind for i in items} == {"period_submitted"}
    assert len(items) == services.PER_PROJECT  # 6 waiting, the first 5 listed
    assert all(i.url.startswith(f"/projects/{demo}/indicators/periods/") for i in items)
    assert all(i.project_code == "KFIT-VNM-CI" for i in items)


def test_the_landing_page_and_the_overview_show_needs_your_action(client, auth, demo):
    auth.login("manager")
    page = client.get("/").get_data(as_text=True)
    assert "Needs your action" in page and "Periods waiting for your approval" in page
    assert "submitted, waiting for approval" in page
    assert _nav_count(page) == 6
    overview = client.get(f"/projects/{demo}").get_data(as_text=True)
    assert "Needs your action" in overview and f'id="inbox-count-project-{demo}"' in overview
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "1.a, 2016 H2: submitted, waiting for approval" in inbox


def test_approving_a_period_removes_its_item_and_the_count_drops_in_the_same_response(app, client, auth, demo):
    auth.login("manager")
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.state == "submitted")
                                    .order_by(IndicatorPeriod.id)).scalars().first()
        period_id, version = period.id, period.version
    response = client.post(f"/projects/{demo}/indicators/periods/{period_id}/approve", data={"version": version},
                           headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _oob_count(html) == 5
    assert f'id="inbox-count-project-{demo}"' in html
    assert _counts(app, "manager")["period_submitted"] == 5


def test_a_returned_period_reaches_the_officer_and_leaves_when_resubmitted(app, client, auth, demo):
    auth.login("manager")
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.state == "submitted")
                                    .order_by(IndicatorPeriod.id)).scalars().first()
        period_id, version = period.id, period.version
    client.post(f"/projects/{demo}/indicators/periods/{period_id}/return",
                data={"version": version, "note": "Check the count of participants"}, headers=HX)
    with app.app_context():
        items = services.items_for(_user("officer@demo.test"))
        version = db.session.get(IndicatorPeriod, period_id).version
    returned = [i for i in items if i.kind == "period_returned"]
    assert len(returned) == 1 and "Check the count of participants" in returned[0].text
    assert returned[0].url == f"/projects/{demo}/indicators/periods/{period_id}"
    client.post("/logout")
    auth.login("officer")
    before = _counts(app, "officer")["total"]
    response = client.post(f"/projects/{demo}/indicators/periods/{period_id}/submit", data={"version": version},
                           headers=HX)
    assert response.status_code == 200
    assert _oob_count(response.get_data(as_text=True)) == before - 1
    assert _counts(app, "officer")["period_returned"] == 0


def test_queried_evidence_goes_to_the_officer_and_an_edit_answers_it(app, client, auth, demo):
    with app.app_context():
        item = db.session.execute(select(EvidenceItem).order_by(EvidenceItem.id)).scalars().first()
        item_id = item.id
    auth.login("auditor")
    before = _counts(app, "auditor")["evidence_waiting"]
    response = client.post(f"/projects/{demo}/evidence/{item_id}/review",
                           data={"decision": "queried", "note": "Which page?", "context": "auditor"}, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert _counts(app, "auditor")["evidence_waiting"] == before - 1
    assert _oob_count(response.get_data(as_text=True)) == _counts(app, "auditor")["total"]
    officer = [i for i in services_items(app, "officer") if i.kind == "evidence_queried"]
    assert len(officer) == 1 and "Which page?" in officer[0].text
    assert officer[0].url == f"/projects/{demo}/evidence/{item_id}/edit"


def services_items(app, role):
    with app.app_context():
        return services.items_for(_user(f"{role}@demo.test"))


def test_late_periods_follow_the_project_setting(app, demo):
    with app.app_context():
        officer = _user("officer@demo.test")
        # 2017 H1 ended on 2017-06-30: ten days later it is missing but not late (14 days)...
        items = services.items_for(officer, today=date(2017, 7, 10))
        h1 = [i for i in items if i.kind == "period_missing" and "2017 H1" in i.text]
        assert h1 and not any(i.late for i in h1)
        # ... twenty days later it is late.
        items = services.items_for(officer, today=date(2017, 7, 20))
        assert all(i.late for i in items if i.kind == "period_missing" and "2017 H1" in i.text)


def test_late_activities_are_flagged(app, demo):
    with app.app_context():
        officer = _user("officer@demo.test")
        late_items = [i for i in services.items_for(officer, today=date(2018, 1, 1)) if i.kind == "activity_late"]
        texts = " ".join(i.text for i in late_items)
        assert "A2 " in texts and "not started" in texts  # planned for 2017, never started
        assert "A1.3 " in texts and "2016-12-31" in texts  # due by 2016-12-31, still on track
        assert all(i.late for i in late_items)
        a13 = db.session.execute(select(Activity).where(Activity.code == "A1.3")).scalar_one()
        a13.status = "completed"
        db.session.flush()
        texts = " ".join(i.text for i in services.items_for(officer, today=date(2018, 1, 1))
                         if i.kind == "activity_late")
        assert "A1.3 " not in texts
        db.session.rollback()


@pytest.mark.parametrize("role", ["officer", "manager", "auditor", "liaison", "admin"])
def test_the_inbox_page_answers_every_role(client, auth, role):
    auth.login(role)
    response = client.get("/inbox")
    assert response.status_code == 200
    assert "Needs your action" in response.get_data(as_text=True)
    fragment = client.get("/inbox", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section id=\"needs-action\"")
    badge = client.get("/inbox/count").get_data(as_text=True)
    assert 'id="inbox-count"' in badge


def test_the_inbox_needs_a_login(client):
    assert client.get("/inbox").status_code in (302, 303)
