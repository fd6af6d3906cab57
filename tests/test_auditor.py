"""The auditor's workspace and the review of evidence over HTTP: rows and coverage swapped in place."""

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers import HX, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import AuditEvent, EvidenceItem, EvidenceLink, Expenditure


def clipping(app):
    with app.app_context():
        return db.session.execute(select(EvidenceItem.id).where(EvidenceItem.title.contains("spotlight"))).scalar()


def add_receipt(app, voucher="V-2016-003"):
    """A receipt linked to a disbursed expenditure, so verifying it moves the money coverage."""
    with app.app_context():
        spend = db.session.execute(select(Expenditure).where(Expenditure.voucher == voucher)).scalar_one()
        item = EvidenceItem(project_id=spend.project_id, kind="receipt", title=f"Receipt for {voucher}",
                            dated=spend.spent_on)
        item.links = [EvidenceLink(project_id=spend.project_id, expenditure_id=spend.id)]
        db.session.add(item)
        db.session.commit()
        return item.id


def state(app, item_id):
    with app.app_context():
        row = db.session.get(EvidenceItem, item_id)
        return row.review_state, row.review_note


def test_workspace_shows_coverage_queue_and_unbacked_spending(client, auth, demo):
    auth.login("auditor")
    response = client.get(f"/projects/{demo}/auditor")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The coverage figures load right after the page (htmx), or inline with ?coverage=1 (no JavaScript).
    slot = re.search(r'<section id="coverage"[^>]*hx-get="([^"]+)" hx-trigger="load" hx-swap="outerHTML">', page)
    assert slot and 'id="coverage-money"' not in page
    assert f'href="/projects/{demo}/auditor?coverage=1"' in page
    for figures in (client.get(slot.group(1), headers=HX).get_data(as_text=True),
                    client.get(f"/projects/{demo}/auditor?coverage=1").get_data(as_text=True)):
        assert "Disbursed dollars backed by verified evidence" in figures
        assert "Reported indicator actuals backed by evidence" in figures
        assert "USD 0.00 of USD 40,450.00 disbursed" in figures and "1 of 8 reported actuals" in figures
    assert "Evidence waiting for review <span class=\"muted\" id=\"pending-count\">(12)</span>" in page
    assert page.count('<tr id="review-') == 12 and page.count('name="decision" value="verified"') == 12
    # Spending without evidence is below the fold: it loads when revealed (its own URL).
    slot = re.search(r'<section id="auditor-unbacked" aria-labelledby="unbacked-h" hx-get="([^"]+)" '
                     r'hx-trigger="revealed" hx-swap="outerHTML">', page)
    assert slot and "V-2016-003" not in page
    unbacked = client.get(slot.group(1), headers=HX).get_data(as_text=True)
    assert "<html" not in unbacked
    assert "Expenditures without evidence <span class=\"muted\">(6)</span>" in unbacked
    assert "V-2016-003" in unbacked and "Century Riverside Hotel, Huế" in unbacked
    assert ' style="' not in page and "hx-on" not in page
    assert re.search(r'<a href="/projects/\d+/auditor" aria-current="page">Auditor</a>', page)


def test_verify_inline_swaps_the_row_and_the_coverage(app, client, auth, demo):
    receipt = add_receipt(app)
    auth.login("auditor")
    response = client.post(f"/projects/{demo}/evidence/{receipt}/review",
                           data={"decision": "verified", "note": "Matches the voucher.", "context": "auditor"},
                           headers=HX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert "<html" not in body
    row = re.search(rf'<tr id="review-{receipt}".*?</tr>', body, re.S).group(0)
    assert "Verified" in row and "Matches the voucher." in row and "Phạm Quốc Bảo (auditor)" in row
    assert re.search(r'<section id="coverage"[^>]*hx-swap-oob="true"', body)
    assert 'id="coverage-money">35.2%' in body  # 14,250 of 40,450 disbursed
    assert '<span id="coverage-verified">1</span> verified' in body
    assert state(app, receipt) == ("verified", "Matches the voucher.")


def test_review_from_the_register_answers_with_the_register_row(app, client, auth, demo):
    item = clipping(app)
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    assert 'name="context" value="register"' in page and 'hx-target="closest tr"' in page
    body = client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                       data={"decision": "verified", "context": "register"}).get_data(as_text=True)
    assert re.search(rf'<tr id="evidence-{item}" class="evidence-row state-verified', body)
    assert 'id="coverage-actuals-verified">1</span>' in body  # the press period is now backed by verified evidence


def test_a_query_needs_a_note_and_changes_nothing_without_one(app, client, auth, demo):
    item = clipping(app)
    auth.login("auditor")
    response = client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                           data={"decision": "queried", "note": "  ", "context": "auditor"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Say what is missing or wrong" in body and 'aria-invalid="true"' in body
    assert 'id="coverage"' not in body
    assert state(app, item) == ("pending", "")
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "evidence.review")).first() is None
    # Without JavaScript: the item page with the error, 422.
    response = client.post(f"/projects/{demo}/evidence/{item}/review",
                           data={"decision": "queried", "note": "", "context": "item"})
    assert response.status_code == 422 and "<html" in response.get_data(as_text=True)
    assert "Say what is missing or wrong" in response.get_data(as_text=True)


def test_query_with_a_note_and_the_officer_sees_it(app, client, auth, demo):
    item = clipping(app)
    auth.login("auditor")
    response = client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                           data={"decision": "queried", "note": "Which page of the UN site?", "context": "auditor"})
    assert response.status_code == 200 and "Queried" in response.get_data(as_text=True)
    assert '<span id="coverage-queried">1</span> queried' in response.get_data(as_text=True)
    page = client.get(f"/projects/{demo}/auditor").get_data(as_text=True)
    assert "Queried, waiting for an answer <span class=\"muted\" id=\"queried-count\">(1)</span>" in page
    auth.logout()
    auth.login("officer")
    register = client.get(f"/projects/{demo}/evidence?state=queried").get_data(as_text=True)
    assert "Which page of the UN site?" in register and "1 item" in register


def test_review_without_javascript_redirects_back(app, client, auth, demo):
    item = clipping(app)
    auth.login("auditor")
    for context, target in (("auditor", "/auditor"), ("register", "/evidence"), ("item", f"/evidence/{item}")):
        response = client.post(f"/projects/{demo}/evidence/{item}/review",
                               data={"decision": "verified", "context": context})
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{demo}{target}")
    page = client.get(f"/projects/{demo}/evidence/{item}").get_data(as_text=True)
    assert "is verified" in page and "Review history" in page
    assert page.count("<td>Verified</td>") == 3


def test_every_review_is_in_the_audit_trail(app, client, auth, demo):
    item = clipping(app)
    auth.login("auditor")
    client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                data={"decision": "queried", "note": "Date?", "context": "auditor"})
    client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                data={"decision": "verified", "note": "Date confirmed.", "context": "auditor"})
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "evidence.review")
                                    .order_by(AuditEvent.id)).scalars().all()
        assert [json.loads(e.changes)["review_state"] for e in events] == [["pending", "queried"],
                                                                         ["queried", "verified"]]
        assert {e.actor_label for e in events} == {"auditor@demo.test"} and {e.row_id for e in events} == {item}
        row_changes = db.session.execute(select(AuditEvent).where(AuditEvent.table_name == "evidence_item",
                                                                  AuditEvent.action == "update")).scalars().all()
        assert len(row_changes) == 2  # the row change itself, written by the session hook
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0


def test_a_deleted_item_cannot_be_reviewed(app, client, auth, demo):
    item = clipping(app)
    with app.app_context():
        from tracker.evidence.services import soft_delete

        soft_delete(db.session.get(EvidenceItem, item))
        db.session.commit()
    auth.login("auditor")
    response = client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                           data={"decision": "verified", "context": "auditor"})
    assert response.status_code == 422 and "restore it before reviewing" in response.get_data(as_text=True)


@pytest.mark.parametrize("role, page_status, review_status", [
    ("manager", 403, 403), ("officer", 403, 403), ("liaison", 403, 403), ("auditor", 200, 200), ("admin", 200, 200),
])
def test_only_auditors_review(app, client, auth, demo, role, page_status, review_status):
    item = clipping(app)
    auth.login(role)
    assert client.get(f"/projects/{demo}/auditor").status_code == page_status
    assert client.get(f"/projects/{demo}/auditor", headers=HX).status_code == page_status
    response = client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                           data={"decision": "verified", "context": "register"})
    assert response.status_code == review_status
    assert state(app, item)[0] == ("verified" if review_status == 200 else "pending")
    nav = client.get(f"/projects/{demo}").get_data(as_text=True)
    assert (f'href="/projects/{demo}/auditor"' in nav) == (page_status == 200)
    register = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    assert ('name="decision" value="verified"' in register) == (review_status == 200 and role != "admin" or
                                                                 role == "admin")


def test_an_item_of_another_project_cannot_be_reviewed(app, client, auth, demo, other_project):
    with app.app_context():
        foreign = EvidenceItem(project_id=other_project.id, kind="other", title="Elsewhere")
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    auth.login("auditor")
    assert client.post(f"/projects/{demo}/evidence/{foreign_id}/review",
                       data={"decision": "verified"}).status_code == 404
    assert state(app, foreign_id)[0] == "pending"


def test_review_requires_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    login_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                            client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "auditor@demo.test", "password": "demo-auditor-pass",
                                "csrf_token": login_token})
    item = clipping(csrf_app)
    response = client.post(f"/projects/1/evidence/{item}/review", data={"decision": "verified"}, headers=HX)
    assert response.status_code == 400
    assert state(csrf_app, item)[0] == "pending"
    page = client.get("/projects/1/auditor").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/projects/1/evidence/{item}/review",
                           data={"decision": "verified", "csrf_token": token, "context": "auditor"}, headers=HX)
    assert response.status_code == 200 and state(csrf_app, item)[0] == "verified"


def test_workspace_query_count_does_not_grow_with_rows(app, client, auth, demo):
    auth.login("auditor")
    sections = [f"/projects/{demo}/auditor/{name}" for name in ("queried", "unbacked", "overspends", "rates")]
    few = warm_queries(app, client, f"/projects/{demo}/auditor")
    few_sections = [len(warm_queries(app, client, url)) for url in sections]  # the whole page (no JavaScript)
    with app.app_context():
        line_id = db.session.execute(select(Expenditure.line_id)).scalars().first()
        for index in range(40):
            spend = Expenditure(project_id=demo, line_id=line_id, voucher=f"N-{index}", amount_cents=100,
                                spent_on=date(2017, 2, 1), status="disbursed")
            db.session.add(spend)
            item = EvidenceItem(project_id=demo, kind="receipt", title=f"Receipt {index}")
            db.session.add(item)
            db.session.flush()
            if index % 2:
                db.session.add(EvidenceLink(project_id=demo, evidence_id=item.id, expenditure_id=spend.id))
        db.session.commit()
    client.get(f"/projects/{demo}/auditor")  # the header's badges are counted again after a change
    with count_queries(app) as many:
        page = client.get(f"/projects/{demo}/auditor").get_data(as_text=True)
    assert page.count('<tr id="review-') == 25 and "Receipt 12" in page and "Receipt 13" not in page
    assert len(many) == len(few), (len(few), len(many))
    for url, before in zip(sections, few_sections, strict=True):
        assert len(warm_queries(app, client, url)) == before, url
    assert "N-38" in client.get(sections[1], headers=HX).get_data(as_text=True)


def test_review_query_count_does_not_grow_with_links(app, client, auth, demo):
    item = clipping(app)
    auth.login("auditor")
    with count_queries(app) as few:  # a query both times: each tells the officers by e-mail (one query)
        client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                    data={"decision": "queried", "note": "first", "context": "auditor"})
    with app.app_context():
        for spend in db.session.execute(select(Expenditure.id)).scalars():
            db.session.add(EvidenceLink(project_id=demo, evidence_id=item, expenditure_id=spend))
        db.session.commit()
    with count_queries(app) as many:
        client.post(f"/projects/{demo}/evidence/{item}/review", headers=HX,
                    data={"decision": "queried", "note": "x", "context": "auditor"})
    assert len(many) == len(few), (len(few), len(many))
