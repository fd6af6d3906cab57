"""The evidence register over HTTP: active search (page and fragment), items, links, soft delete, permissions."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers import HX, add_bare_project, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import Activity, EvidenceItem, EvidenceLink, Expenditure


def first_item(app, fragment="spotlight"):
    with app.app_context():
        return db.session.execute(select(EvidenceItem.id).where(EvidenceItem.title.contains(fragment))).scalar()


def activity_id(app, code):
    with app.app_context():
        return db.session.execute(select(Activity.id).where(Activity.code == code)).scalar_one()


def test_register_page_lists_the_demo_evidence(client, auth, demo):
    auth.login("liaison")
    response = client.get(f"/projects/{demo}/evidence")
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    assert "12 items" in page and page.count('<tr id="evidence-') == 12
    for text in ("Song Huong Magazine", "Creative hubs in Viet Nam receive spotlight during National policy dialogue",
                 "Decision No. 1755/QĐ-TTg", "Workshop agenda", "Situation analysis report",
                 "Indicator 1.1.b 2016-07-01 – 2016-12-31", "Activity A1.4", "Waiting for review"):
        assert text in page, text
    assert 'href="http://www.un.org.vn/en/unesco-agencypresscenter1-100/4285' in page
    assert 'id="coverage"' in page
    # The active search: the filter form updates the results in place and pushes the URL.
    form = re.search(r'<form id="evidence-filters"[^>]*>', page).group(0)
    assert 'hx-get="/projects/' in form and 'hx-target="#evidence-results"' in form and 'hx-push-url="true"' in form
    assert "input delay:300ms" in form
    assert "Add evidence" not in page  # liaisons read only
    assert "Verify or query" not in page


def test_active_search_answers_with_the_results_fragment(client, auth, demo):
    auth.login("officer")
    response = client.get(f"/projects/{demo}/evidence?q=take+place+hue&kind=press_clipping", headers=HX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith("{#") is False
    assert body.lstrip().startswith('<div id="evidence-results"')
    assert "1 item" in body and "A policy dialogue on creative hubs in Viet Nam to take place in Hue" in body
    assert 'id="evidence-filters"' not in body and 'id="coverage"' not in body
    assert response.headers["HX-Push-Url"] == f"/projects/{demo}/evidence?q=take+place+hue&kind=press_clipping"
    # The same URL without htmx is the whole page with the filters filled in (bookmarkable).
    page = client.get(f"/projects/{demo}/evidence?q=take+place+hue&kind=press_clipping").get_data(as_text=True)
    assert '<html' in page and 'value="take place hue"' in page and '<option value="press_clipping" selected>' in page
    assert "1 item" in page


def test_filters_by_link_and_state_and_nothing_found(app, client, auth, demo):
    auth.login("officer")
    a1 = activity_id(app, "A1")
    body = client.get(f"/projects/{demo}/evidence?link=activity:{a1}", headers=HX).get_data(as_text=True)
    assert "4 items" in body
    page = client.get(f"/projects/{demo}/evidence?link=activity:{a1}").get_data(as_text=True)
    assert f'<option value="activity:{a1}" selected>' in page
    body = client.get(f"/projects/{demo}/evidence?state=verified", headers=HX).get_data(as_text=True)
    assert "No evidence matches these filters." in body and "Clear the filters" in body
    body = client.get(f"/projects/{demo}/evidence?q=%3Cscript%3E", headers=HX).get_data(as_text=True)
    assert "<script>" not in body


def test_register_pages_with_links_that_keep_the_filters(app, client, auth, demo):
    app.config["PAGE_SIZE"] = 5
    auth.login("officer")
    body = client.get(f"/projects/{demo}/evidence?kind=press_clipping&page=2", headers=HX).get_data(as_text=True)
    assert "9 items, showing 6–9" in body and body.count('<tr id="evidence-') == 4
    assert f'href="/projects/{demo}/evidence?kind=press_clipping"' in body  # previous = page 1
    assert "Page 2 of 2" in body and 'hx-push-url="true"' in body


def test_adding_an_item_with_links_shows_it_on_each_linked_thing(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        spend = db.session.execute(select(Expenditure.id).where(Expenditure.voucher == "V-2016-003")).scalar_one()
    a14 = activity_id(app, "A1.4")
    form = client.get(f"/projects/{demo}/evidence/new?expenditure={spend}&activity={a14}").get_data(as_text=True)
    assert re.search(rf'name="expenditure_ids" value="{spend}" checked>\s*<label[^>]*>V-2016-003', form)
    assert 'enctype="multipart/form-data"' in form and 'type="checkbox"' in form
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "receipt", "title": "Hoá đơn khách sạn Century, Huế", "dated": "2016-11-25",
        "source": "Century Riverside Hotel", "language": "vi", "url": "https://example.org/invoice",
        "expenditure_ids": [str(spend)], "activity_ids": [str(a14)]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hoá đơn khách sạn Century, Huế" in page and "Expenditure V-2016-003" in page and "Activity A1.4" in page
    expenditure_page = client.get(f"/projects/{demo}/expenditures/{spend}").get_data(as_text=True)
    assert "Hoá đơn khách sạn Century, Huế" in expenditure_page and "Receipt or invoice" in expenditure_page
    listing = client.get(f"/projects/{demo}/expenditures").get_data(as_text=True)
    assert re.search(r"V-2016-003</a>.*?1 item", listing, re.S)


def test_invalid_item_comes_back_with_errors_and_typed_values(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(EvidenceItem)).scalar()
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "report", "title": "", "dated": "2016-02-30", "url": "javascript:alert(1)", "source": "Sở VHTT Huế",
        "activity_ids": ["999999"]})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for message in ("A title is required.", "must be a date such as 2016-11-24", "starts with http:// or https://",
                    "not in this project"):
        assert message in body, message
    assert "Sở VHTT Huế" in body and 'value="2016-02-30"' in body
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(EvidenceItem)).scalar() == before


def test_editing_a_verified_item_warns_and_sends_it_back(app, client, auth, demo):
    item = first_item(app)
    auth.login("auditor")
    client.post(f"/projects/{demo}/evidence/{item}/review", data={"decision": "verified", "context": "item"})
    auth.logout()
    auth.login("officer")
    edit = f"/projects/{demo}/evidence/{item}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "Saving a change sends it back to the auditor for review" in page
    assert re.search(r'name="activity_ids" value="\d+" checked>\s*<label[^>]*>A1.4', page)  # current links ticked
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page) or re.search(
        r'name="version" value="(\d+)"', page)
    response = client.post(edit, data={"kind": "press_clipping", "title": "Creative hubs spotlight (UN)",
                                       "source": "UN Website", "dated": "2016-11-24", "version": version[1]})
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(EvidenceItem, item)
        assert row.review_state == "pending" and row.title == "Creative hubs spotlight (UN)"
        assert db.session.execute(select(func.count()).select_from(EvidenceLink)
                                  .where(EvidenceLink.evidence_id == item)).scalar() == 0


def test_soft_delete_and_restore(app, client, auth, demo):
    item = first_item(app)
    auth.login("officer")
    response = client.post(f"/projects/{demo}/evidence/{item}/delete")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "11 items" in page and "can be restored" in page
    deleted = client.get(f"/projects/{demo}/evidence?state=deleted", headers=HX).get_data(as_text=True)
    assert "1 item" in deleted and "deleted 20" in deleted
    item_page = client.get(f"/projects/{demo}/evidence/{item}").get_data(as_text=True)
    assert "Restore this item" in item_page and "counts for nothing" in item_page
    assert client.get(f"/projects/{demo}/evidence/{item}/edit").status_code == 404
    assert client.post(f"/projects/{demo}/evidence/{item}/restore").status_code == 303
    assert "12 items" in client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(EvidenceItem, item).deleted_at is None


def test_ids_of_another_project_are_404(app, client, auth, demo):
    with app.app_context():
        other = add_bare_project()
        foreign = EvidenceItem(project_id=other.id, kind="other", title="Secret")
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    auth.login("manager")
    for path in ("", "/edit", "/file"):
        assert client.get(f"/projects/{demo}/evidence/{foreign_id}{path}").status_code == 404
    for path in ("/delete", "/restore"):
        assert client.post(f"/projects/{demo}/evidence/{foreign_id}{path}").status_code == 404


ALLOWED_EDIT = {"manager", "officer"}


@pytest.mark.parametrize("role", ["manager", "officer", "liaison", "auditor"])
def test_each_role_gets_what_the_permission_table_says(app, client, auth, demo, role):
    item = first_item(app)
    auth.login(role)
    for path in (f"/projects/{demo}/evidence", f"/projects/{demo}/evidence/{item}"):
        assert client.get(path).status_code == 200
    assert client.get(f"/projects/{demo}/evidence?q=x", headers=HX).status_code == 200
    expected = 200 if role in ALLOWED_EDIT else 403
    assert client.get(f"/projects/{demo}/evidence/new").status_code == expected
    assert client.get(f"/projects/{demo}/evidence/{item}/edit").status_code == expected
    posted = client.post(f"/projects/{demo}/evidence/new", data={"kind": "other", "title": "By " + role})
    assert posted.status_code == (303 if role in ALLOWED_EDIT else 403)
    assert client.post(f"/projects/{demo}/evidence/{item}/delete").status_code == (
        303 if role in ALLOWED_EDIT else 403)


def test_non_members_get_404(app, client, demo):
    from tracker.accounts.services import create_user

    item = first_item(app)
    with app.app_context():
        create_user("stranger@demo.test", "Stranger", "stranger-pass-1")
        db.session.commit()
    assert client.get(f"/projects/{demo}/evidence").status_code == 302
    client.post("/login", data={"email": "stranger@demo.test", "password": "stranger-pass-1"})
    for path in ("evidence", f"evidence/{item}", "evidence/new", f"evidence/{item}/edit", "auditor"):
        assert client.get(f"/projects/{demo}/{path}").status_code == 404, path


def _add_items(app, demo, number):
    with app.app_context():
        activities = db.session.execute(select(Activity.id)).scalars().all()
        spend = db.session.execute(select(Expenditure.id)).scalars().all()
        for index in range(number):
            item = EvidenceItem(project_id=demo, kind="photo", title=f"Photo {index}", dated=date(2016, 8, 1))
            item.links = [EvidenceLink(project_id=demo, activity_id=activities[index % len(activities)]),
                          EvidenceLink(project_id=demo, expenditure_id=spend[index % len(spend)])]
            db.session.add(item)
        db.session.commit()


@pytest.mark.parametrize("headers", [{}, HX])
def test_register_query_count_does_not_grow_with_rows(app, client, auth, demo, headers):
    auth.login("auditor")
    few = warm_queries(app, client, f"/projects/{demo}/evidence", headers=headers)
    _add_items(app, demo, 30)
    client.get(f"/projects/{demo}/evidence", headers=headers)  # the header's badges are counted again after a change
    with count_queries(app) as many:
        page = client.get(f"/projects/{demo}/evidence", headers=headers).get_data(as_text=True)
    assert "42 items" in page
    assert len(many) == len(few), (len(few), len(many))


def test_item_page_query_count_does_not_grow_with_links(app, client, auth, demo):
    auth.login("officer")
    item = first_item(app)
    few = warm_queries(app, client, f"/projects/{demo}/evidence/{item}")
    with app.app_context():
        for spend in db.session.execute(select(Expenditure.id)).scalars():
            db.session.add(EvidenceLink(project_id=demo, evidence_id=item, expenditure_id=spend))
        db.session.commit()
    client.get(f"/projects/{demo}/evidence/{item}")  # the header's badges are counted again after a change
    with count_queries(app) as many:
        page = client.get(f"/projects/{demo}/evidence/{item}").get_data(as_text=True)
    assert "Expenditure V-2016-006" in page
    assert len(many) == len(few)


def test_absurd_ids_are_404_or_field_errors_never_500(app, client, auth, demo):
    auth.login("officer")
    huge = "9" * 30
    for path in (f"evidence/{huge}", f"evidence/{huge}/edit", f"evidence/{huge}/file", f"expenditures/{huge}",
                 f"expenditures/{huge}/edit", f"budget/lines/{huge}"):
        assert client.get(f"/projects/{demo}/{path}").status_code == 404, path
    assert client.get(f"/projects/{demo}/expenditures?line={huge}").status_code == 200
    assert client.get(f"/projects/{demo}/evidence?link=activity:{huge}", headers=HX).status_code == 200
    response = client.post(f"/projects/{demo}/evidence/new", data={"kind": "other", "title": "x",
                                                                   "activity_ids": [huge]})
    assert response.status_code == 422 and "not in this project" in response.get_data(as_text=True)
    response = client.post(f"/projects/{demo}/expenditures/new", data={"line_id": huge, "amount": "1",
                                                                       "voucher": "x", "status": "committed",
                                                                       "spent_on": "2016-05-05"})
    assert response.status_code == 422
