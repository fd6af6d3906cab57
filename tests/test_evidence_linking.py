"""Linking evidence without Ctrl-click: the form's searchable checkbox lists (full page, htmx
search fragment, the Search button without JavaScript), their limit, their query count, and
"Add evidence" in place from an expenditure, a period and the weekly log form."""

import re
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from tests.helpers import HX, count_queries
from tracker.extensions import db
from tracker.models import Activity, BudgetLine, EvidenceItem, EvidenceLink, Expenditure, IndicatorPeriod


def one(app, query):
    with app.app_context():
        return db.session.execute(query).scalar_one()


def activity(app, code):
    return one(app, select(Activity.id).where(Activity.code == code))


def expenditure(app, voucher):
    return one(app, select(Expenditure.id).where(Expenditure.voucher == voucher))


def links_of(app, title):
    with app.app_context():
        item = db.session.execute(select(EvidenceItem).where(EvidenceItem.title == title)).scalar_one()
        return {(name, getattr(link, f"{name}_id")) for link in item.links
                for name in ("activity", "period", "result", "expenditure") if getattr(link, f"{name}_id")}


def item_count(app):
    return one(app, select(func.count()).select_from(EvidenceItem))


def checkbox(html, name, value):
    """The checkbox of ``name``=``value`` and its label text, or None."""
    found = re.search(rf'<input type="checkbox" id="([^"]+)" name="{name}" value="{value}"( checked)?>\s*'
                      rf'<label for="\1">([^<]*)</label>', html)
    return None if found is None else {"checked": bool(found.group(2)), "label": found.group(3)}


def add_expenditures(app, project_id, count):
    """``count`` disbursed expenditures BULK-0... on the first line (one bulk insert)."""
    with app.app_context():
        line = db.session.execute(select(BudgetLine.id).where(BudgetLine.project_id == project_id)
                                  .order_by(BudgetLine.id)).scalars().first()
        db.session.execute(insert(Expenditure), [
            {"project_id": project_id, "line_id": line, "spent_on": date(2016, 10, 1 + i % 28),
             "amount_cents": 100 + i, "voucher": f"BULK-{i:03d}", "payee": "Nhà in Huế", "status": "disbursed",
             "version": 1} for i in range(count)])
        db.session.commit()


# --------------------------------------------------------------------------------------------- the form


def test_the_form_offers_checkbox_lists_in_fieldsets_not_multi_selects(app, client, auth, demo):
    auth.login("officer")
    html = client.get(f"/projects/{demo}/evidence/new").get_data(as_text=True)
    assert "<select multiple" not in html and "multiple" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)
    for name, legend in (("activity", "Activities"), ("period", "Indicator periods"), ("result", "Results"),
                         ("expenditure", "Expenditures")):
        fieldset = re.search(rf'<fieldset class="link-picker" id="picker-{name}">\s*<legend>{legend}</legend>'
                             rf'(.*?)</fieldset>', html, re.S)
        assert fieldset, name
        body = fieldset.group(1)
        assert f'<label for="{name}-q">Search {legend.lower()}</label>' in body
        assert 'hx-trigger="input changed delay:300ms, search"' in body and f'name="{name}_q"' in body
        assert f'<button type="submit" name="refine" value="{name}"' in body  # the search without JavaScript
        assert f'id="link-status-{name}" role="status"' in body
    assert checkbox(html, "activity_ids", activity(app, "A1.4"))["label"].startswith("A1.4 Policy dialogue")


def test_saving_the_ticked_boxes_links_the_item(app, client, auth, demo):
    auth.login("officer")
    a14, spend = activity(app, "A1.4"), expenditure(app, "V-2016-003")
    period = one(app, select(IndicatorPeriod.id).where(IndicatorPeriod.state != "approved")
                 .order_by(IndicatorPeriod.id).limit(1))
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "photo", "title": "Ảnh đối thoại chính sách", "language": "vi", "dated": "2016-11-24",
        "activity_ids": [str(a14)], "period_ids": [str(period)], "expenditure_ids": [str(spend)]})
    assert response.status_code == 303
    assert links_of(app, "Ảnh đối thoại chính sách") == {("activity", a14), ("period", period),
                                                        ("expenditure", spend)}
    edit = client.get(response.headers["Location"] + "/edit").get_data(as_text=True)
    assert checkbox(edit, "activity_ids", a14)["checked"] and checkbox(edit, "expenditure_ids", spend)["checked"]
    assert checkbox(edit, "activity_ids", activity(app, "A1.3"))["checked"] is False


# --------------------------------------------------------------------------------------------- active search


def test_search_fragment_keeps_the_ticked_ones_first_and_checked(app, client, auth, demo):
    auth.login("officer")
    a11, a14 = activity(app, "A1.1"), activity(app, "A1.4")
    url = (f"/projects/{demo}/evidence/link-options?target=activity&activity_q=Hu%E1%BA%BF"
           f"&activity_ids={a11}")
    response = client.get(url, headers=HX)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    # A1.1 does not match "Huế" but is ticked: it stays, first and checked; A1.4 matches.
    assert html.index(f'value="{a11}"') < html.index(f'value="{a14}"')
    assert checkbox(html, "activity_ids", a11)["checked"] and not checkbox(html, "activity_ids", a14)["checked"]
    assert checkbox(html, "activity_ids", activity(app, "A1.3")) is None  # no Huế in its title
    assert re.search(r'id="link-status-activity" role="status" hx-swap-oob="innerHTML">[^<]*“Huế”', html)
    # The same list without htmx (a plain GET): no out-of-band attribute.
    plain = client.get(url).get_data(as_text=True)
    assert checkbox(plain, "activity_ids", a11)["checked"] and "hx-swap-oob" not in plain


def test_search_matches_every_word_in_codes_titles_dates_and_payees(app, client, auth, demo):
    auth.login("officer")
    spend = expenditure(app, "V-2016-003")
    with app.app_context():
        row = db.session.get(Expenditure, spend)
        day, payee_word = row.spent_on.isoformat(), row.payee.split()[0]
    html = client.get(f"/projects/{demo}/evidence/link-options?target=expenditure"
                      f"&expenditure_q={day}+{payee_word}").get_data(as_text=True)
    assert checkbox(html, "expenditure_ids", spend) is not None
    html = client.get(f"/projects/{demo}/evidence/link-options?target=period&period_q=1.1.b+2016-07").get_data(
        as_text=True)
    labels = re.findall(r"<label for=\"link-period-\d+\">([^<]*)</label>", html)
    assert labels and all(label.startswith("1.1.b 2016-07") for label in labels)
    nothing = client.get(f"/projects/{demo}/evidence/link-options?target=result&result_q=zzzz%25").get_data(
        as_text=True)
    assert "Nothing matches “zzzz%”." in nothing and 'type="checkbox"' not in nothing


def test_a_long_list_shows_fifty_and_asks_to_refine(app, client, auth, demo):
    auth.login("officer")
    add_expenditures(app, demo, 80)
    ticked = expenditure(app, "BULK-079")
    html = client.get(f"/projects/{demo}/evidence/link-options?target=expenditure&expenditure_q=BULK"
                      f"&expenditure_ids={ticked}", headers=HX).get_data(as_text=True)
    boxes = re.findall(r'name="expenditure_ids" value="(\d+)"( checked)?', html)
    assert len(boxes) == 51 and boxes[0] == (str(ticked), " checked")  # the ticked one and 50 more
    assert "51 of 80 shown. Refine your search to find the others." in html
    # The full form is limited the same way (every expenditure of the project would not fit).
    form = client.get(f"/projects/{demo}/evidence/new").get_data(as_text=True)
    assert len(re.findall(r'name="expenditure_ids"', form)) == 50 and "Refine your search" in form


def test_one_query_per_search_whatever_the_number_of_rows(app, client, auth, demo):
    auth.login("officer")
    url = f"/projects/{demo}/evidence/link-options?target=expenditure&expenditure_q=2016"
    client.get(url, headers=HX)
    with count_queries(app) as few:
        client.get(url, headers=HX)
    add_expenditures(app, demo, 120)
    with count_queries(app) as many:
        client.get(url, headers=HX)
    listing = [s for s in many if "FROM expenditure" in s]
    assert len(many) == len(few) and len(listing) == 1, many


def test_another_projects_rows_never_appear_and_outsiders_get_404(app, client, auth, demo, other_project):
    auth.login("officer")
    html = client.get(f"/projects/{demo}/evidence/link-options?target=activity"
                      f"&activity_ids={other_project.activity_id}&activity_q=Another").get_data(as_text=True)
    assert "Another activity" not in html and 'type="checkbox"' not in html
    assert client.get(f"/projects/{demo}/evidence/link-options?target=nonsense").status_code == 400
    auth.logout()
    auth.login("other-officer")
    assert client.get(f"/projects/{demo}/evidence/link-options?target=activity").status_code == 404
    auth.logout()
    auth.login("auditor")  # reads the project, may not add evidence
    assert client.get(f"/projects/{demo}/evidence/link-options?target=activity").status_code == 403


# --------------------------------------------------------------------------------------------- without JavaScript


def test_the_search_button_draws_the_form_again_with_what_was_typed_and_saves_nothing(app, client, auth, demo):
    auth.login("officer")
    a14 = activity(app, "A1.4")
    before = item_count(app)
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "photo", "title": "Ảnh triển lãm", "activity_ids": [str(a14)], "activity_q": "Whisper",
        "refine": "activity"})
    assert response.status_code == 200 and item_count(app) == before
    html = response.get_data(as_text=True)
    assert 'value="Ảnh triển lãm"' in html and 'value="Whisper"' in html
    assert checkbox(html, "activity_ids", a14)["checked"]  # ticked before the search: still ticked
    assert checkbox(html, "activity_ids", activity(app, "A1.5"))["label"].startswith("A1.5 Exhibition")
    assert checkbox(html, "activity_ids", activity(app, "A1.3")) is None


def test_enter_searches_when_search_words_changed_and_saves_otherwise(app, client, auth, demo):
    auth.login("officer")
    before = item_count(app)
    data = {"kind": "photo", "title": "Ảnh hội thảo", "refine": "enter", "period_q": "1.1.b", "period_q_shown": ""}
    assert client.post(f"/projects/{demo}/evidence/new", data=data).status_code == 200
    assert item_count(app) == before
    data["period_q_shown"] = "1.1.b"
    assert client.post(f"/projects/{demo}/evidence/new", data=data).status_code == 303
    assert item_count(app) == before + 1


# --------------------------------------------------------------------------------------------- adding in place


def test_add_evidence_from_an_expenditure_fills_in_a_receipt_of_its_date(app, client, auth, demo):
    auth.login("officer")
    spend = expenditure(app, "V-2016-003")
    with app.app_context():
        row = db.session.get(Expenditure, spend)
        spent_on, voucher = row.spent_on.isoformat(), row.voucher
    page = client.get(f"/projects/{demo}/expenditures/{spend}").get_data(as_text=True)
    link = re.search(r'href="([^"]*/evidence/new\?[^"]*)"', page).group(1).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert '<option selected value="receipt">' in form
    assert f'id="dated" name="dated" type="date" value="{spent_on}"' in form
    assert f"Receipt for {voucher}" in form
    assert checkbox(form, "expenditure_ids", spend)["checked"]
    next_url = re.search(r'id="next" name="next" type="hidden" value="([^"]*)"', form).group(1)
    assert next_url == f"/projects/{demo}/expenditures/{spend}"
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "receipt", "title": f"Receipt for {voucher}", "dated": spent_on, "next": next_url,
        "expenditure_ids": [str(spend)]})
    assert response.status_code == 303 and response.headers["Location"] == next_url  # back where they were
    assert links_of(app, f"Receipt for {voucher}") == {("expenditure", spend)}
    assert f"Receipt for {voucher}" in client.get(next_url).get_data(as_text=True)


def test_add_evidence_in_place_from_a_period_returns_to_the_period(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.state != "approved")
                                    .order_by(IndicatorPeriod.id)).scalars().first().id
    period_url = f"/projects/{demo}/indicators/periods/{period}"
    page = client.get(period_url)
    assert page.status_code == 200, "the period page moved"
    link = re.search(r'href="([^"]*/evidence/new\?[^"]*)"[^>]*>Add evidence', page.get_data(as_text=True))
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert checkbox(form, "period_ids", period)["checked"]
    assert f'<a href="{period_url}#evidence-h">Back</a>' in form
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "attendance_list", "title": "Danh sách tham dự", "period_ids": [str(period)],
        "next": f"{period_url}#evidence-h"})
    assert response.status_code == 303 and response.headers["Location"] == f"{period_url}#evidence-h"
    assert "Danh sách tham dự" in client.get(period_url).get_data(as_text=True)


def test_an_unsafe_next_is_ignored(app, client, auth, demo):
    auth.login("officer")
    form = client.get(f"/projects/{demo}/evidence/new?next=//evil.example/x").get_data(as_text=True)
    assert 'id="next" name="next" type="hidden" value=""' in form and "Back to the register" in form
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "other", "title": "Ghi chú", "next": "https://evil.example/"})
    assert response.status_code == 303 and re.search(rf"^/projects/{demo}/evidence/\d+$", response.headers["Location"])


@pytest.mark.parametrize("context", ["activities", "week"])
def test_the_weekly_log_form_offers_add_evidence_linked_to_its_activity(app, client, auth, demo, context):
    auth.login("officer")
    a13 = activity(app, "A1.3")
    html = client.get(f"/projects/{demo}/activities/{a13}/log?week=2016-W47&context={context}",
                      headers=HX).get_data(as_text=True)
    link = re.search(r'<a href="([^"]*/evidence/new\?[^"]*)">Add new evidence', html)
    assert link, html
    target = link.group(1).replace("&amp;", "&")
    assert f"activity={a13}" in target
    page = "week/2016-W47" if context == "week" else "activities?week=2016-W47"
    form = client.get(target).get_data(as_text=True)
    assert checkbox(form, "activity_ids", a13)["checked"]
    back = re.search(r'<a href="([^"]*)">Back</a>', form).group(1).replace("&amp;", "&")
    assert back.startswith(f"/projects/{demo}/{page}") and back.endswith(f"#activity-{a13}")


def test_a_link_to_an_approved_period_is_still_refused(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).order_by(IndicatorPeriod.id)).scalars().first()
        period.state = "approved"
        db.session.commit()
        period_id = period.id
    response = client.post(f"/projects/{demo}/evidence/new", data={
        "kind": "report", "title": "Báo cáo", "period_ids": [str(period_id)]})
    assert response.status_code == 422 and "approved and locked" in response.get_data(as_text=True)
    assert one(app, select(func.count()).select_from(EvidenceLink).where(EvidenceLink.period_id == period_id)) == 0
