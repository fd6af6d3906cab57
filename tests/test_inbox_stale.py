"""What was stale after a swap (issue 13): each answer now carries what it changed elsewhere."""

import re

from sqlalchemy import select

from tests.helpers import HX
from tracker.extensions import db
from tracker.models import Activity, EvidenceItem, IndicatorPeriod


def test_the_week_summary_keeps_its_week_after_a_log_is_saved(client, auth, demo, app):
    with app.app_context():
        a1 = db.session.execute(select(Activity.id).where(Activity.code == "A1")).scalar_one()
    auth.login("officer")
    data = {f"log-{a1}-{k}": v for k, v in {"week": "2016-W47", "status": "on_track", "percent_complete": "65",
                                            "done": "Policy dialogue in Hue", "problems": "", "next_steps": "",
                                            "version": "", "context": "week"}.items()}
    data["page_week"] = "2016-W47"
    response = client.post(f"/projects/{demo}/activities/{a1}/log", data=data, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="week-summary"' in html and "/week//summary" not in html
    assert f'href="/projects/{demo}/week/2016-W47/summary"' in html
    assert f'href="/projects/{demo}/week/2016-W47/summary.txt"' in html
    assert client.get(f"/projects/{demo}/week/2016-W47/summary").status_code == 200


def test_the_period_state_in_the_cell_follows_a_submit(client, auth, demo, app):
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.state == "submitted")
                                    .order_by(IndicatorPeriod.id)).scalars().first()
        period.state = "draft"  # a filled draft, as an officer leaves it before submitting
        db.session.commit()
        period_id, version = period.id, period.version
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators/periods/{period_id}").get_data(as_text=True)
    assert re.search(rf'id="cell-{period_id}-actual".*?>Draft<', page, re.S)
    response = client.post(f"/projects/{demo}/indicators/periods/{period_id}/submit", data={"version": version},
                           headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    cell = re.search(rf'<td id="cell-{period_id}-actual"[^>]*hx-swap-oob="true".*?</td>', html, re.S)
    assert cell, "the actual cell does not follow the submit"
    assert "Submitted" in cell.group(0) and "Draft" not in cell.group(0)


def test_the_auditor_section_counts_follow_a_review(client, auth, demo, app):
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/auditor").get_data(as_text=True)
    pending = int(re.search(r'id="pending-count">\((\d+)\)', page).group(1))
    queried = int(re.search(r'id="queried-count">\((\d+)\)', page).group(1))
    with app.app_context():
        item_id = db.session.execute(select(EvidenceItem.id).where(EvidenceItem.review_state == "pending")
                                     .order_by(EvidenceItem.id)).scalars().first()
    response = client.post(f"/projects/{demo}/evidence/{item_id}/review",
                           data={"decision": "queried", "note": "Which page?", "context": "auditor"}, headers=HX)
    html = response.get_data(as_text=True)
    assert re.search(rf'id="pending-count" hx-swap-oob="true">\({pending - 1}\)', html)
    assert re.search(rf'id="queried-count" hx-swap-oob="true">\({queried + 1}\)', html)
    page = client.get(f"/projects/{demo}/auditor").get_data(as_text=True)
    assert f'id="pending-count">({pending - 1})' in page
