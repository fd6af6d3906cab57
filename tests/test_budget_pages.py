"""The budget pages over HTTP: full pages and htmx fragments, bad input, conflicts, permissions, query counts."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers import HX, add_bare_project, warm_queries
from tracker.extensions import db
from tracker.models import AuditEvent, BudgetAllocation, BudgetLine, Expenditure


def ids(app):
    with app.app_context():
        lines = dict(db.session.execute(select(BudgetLine.code, BudgetLine.id)).all())
        spent = dict(db.session.execute(select(Expenditure.voucher, Expenditure.id)).all())
    return lines, spent


def expenditure_count(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Expenditure)).scalar()


def booking(app, **changes):
    lines, _ = ids(app)
    values = {"spent_on": "2016-12-20", "line_id": str(lines["BL3"]), "amount": "1,000.00", "status": "disbursed",
              "voucher": "V-2016-200", "payee": "Century Riverside Hotel, Huế", "description": "Coffee breaks"}
    values.update(changes)
    return values


# --------------------------------------------------------------------------------------------- the page


def test_budget_page_shows_lines_totals_rollups_and_chart(client, auth, demo):
    auth.login("liaison")
    response = client.get(f"/projects/{demo}/budget")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Illustrative figures" in page
    for text in ("BL1", "Research and field missions", "Policy dialogue in Huế", "30,000.00", "15,500.00",
                 "Total of the lines", "120,000.00", "40,450.00", "USD 75,050.00", "37.5%"):
        assert text in page, text
    assert ' style="' not in page  # the CSP forbids inline styles
    assert 'id="expenditure-form"' not in page  # a liaison books nothing
    # The chart and the roll-up load when revealed: placeholders that are links without JavaScript.
    for fragment, path in (("burn-chart", "budget/chart"), ("budget-rollup", "budget/rollup")):
        assert re.search(rf'id="{fragment}"[^>]* hx-get="/projects/{demo}/{path}" hx-trigger="revealed"', page)
        assert f'<a href="/projects/{demo}/{path}">' in page
    chart = client.get(f"/projects/{demo}/budget/chart", headers=HX).get_data(as_text=True)
    assert chart.lstrip().startswith('<figure id="burn-chart"') and "<polyline class=\"burn-disbursed\"" in chart
    rollup = client.get(f"/projects/{demo}/budget/rollup", headers=HX).get_data(as_text=True)
    assert rollup.lstrip().startswith('<section id="budget-rollup"') and "Not allocated to an activity" in rollup
    assert "A1.4" in rollup and "38,200.00" in rollup  # the policy dialogue's share of the lines


def test_officer_sees_the_inline_booking_form(client, auth, demo):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/budget").get_data(as_text=True)
    assert "Add a budget line" not in page  # managers only
    # The form loads when it scrolls into view (htmx), a link to its own page without JavaScript.
    slot = page.split('id="expenditure-form"')[1].split("</div>")[0]
    new_url = f"/projects/{demo}/expenditures/new"
    assert f'hx-get="{new_url}"' in slot and 'hx-trigger="revealed"' in slot and f'href="{new_url}"' in slot
    form = client.get(new_url, headers=HX).get_data(as_text=True)
    assert form.lstrip().startswith('<form id="expenditure-form"') and f'hx-post="{new_url}"' in form
    assert "<html" not in form
    assert "<html" in client.get(new_url).get_data(as_text=True)  # without JavaScript: a page of its own


def test_inline_booking_updates_the_row_and_totals_out_of_band(app, client, auth, demo):
    auth.login("officer")
    lines, _ = ids(app)
    response = client.post(f"/projects/{demo}/expenditures/new", data=booking(app), headers=HX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "Booked V-2016-200: USD 1,000.00 (disbursed) on BL3." in body
    assert re.search(rf'<tr id="line-{lines["BL3"]}"[^>]*hx-swap-oob="true"', body)
    assert "15,250.00" in body  # BL3 disbursed: 14,250 + 1,000
    for fragment in ("budget-lines-total", "budget-summary", "burn-chart", "budget-rollup", "overspends"):
        assert re.search(rf'id="{fragment}"[^>]*hx-swap-oob="true"', body), fragment
    assert "USD 41,450.00" in body  # disbursed in total
    assert f'id="line-{lines["BL1"]}"' not in body  # only the booked line's row
    # A fresh form for the next voucher: same date, line and status, no voucher.
    assert 'value="2016-12-20"' in body and f'<option selected value="{lines["BL3"]}">' in body
    assert 'name="voucher" type="text" value=""' in body
    assert expenditure_count(app) == 7


def test_booking_without_javascript_redirects_with_a_message(app, client, auth, demo):
    auth.login("manager")
    response = client.post(f"/projects/{demo}/expenditures/new", data=booking(app, spent_on="2018-02-01"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/projects/{demo}/budget")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Booked V-2016-200" in page
    assert "outside the project period" in page  # a warning, not a block
    assert expenditure_count(app) == 7


def test_inline_booking_shows_the_date_warning_in_the_fragment(app, client, auth, demo):
    auth.login("officer")
    body = client.post(f"/projects/{demo}/expenditures/new", data=booking(app, spent_on="2015-12-31"),
                       headers=HX).get_data(as_text=True)
    assert "flash-warning" in body and "2015-12-31 is outside the project period" in body


@pytest.mark.parametrize("changes, message", [
    ({"amount": "0"}, "The USD amount must be more than zero."),
    ({"amount": "-3"}, "The USD amount must be more than zero."),
    ({"amount": "12.345"}, "The USD amount can have at most two decimals."),
    ({"original_amount": "100", "original_currency": "ABC", "exchange_rate": "2"}, "ABC is not an ISO 4217"),
    ({"original_amount": "2000000", "original_currency": "VND", "amount": ""}, "needs the exchange rate"),
    ({"voucher": "V-2016-003"}, "Voucher V-2016-003 is already booked in this project"),
    ({"amount": "20000"}, "over its budget of USD 25,000.00"),
])
def test_bad_booking_comes_back_with_the_error_and_the_typed_values(app, client, auth, demo, changes, message):
    auth.login("officer")
    before = expenditure_count(app)
    for headers in (HX, {}):
        response = client.post(f"/projects/{demo}/expenditures/new", data=booking(app, **changes), headers=headers)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert message in body
        assert 'class="field-error"' in body
        assert "Century Riverside Hotel, Huế" in body and "Coffee breaks" in body  # typed values kept
        assert ("<html" in body) == (headers == {})
    assert expenditure_count(app) == before


def test_new_expenditure_page_and_fragment(app, client, auth, demo):
    auth.login("officer")
    lines, _ = ids(app)
    page = client.get(f"/projects/{demo}/expenditures/new?line={lines['BL5']}")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert f'<option selected value="{lines["BL5"]}">' in page.get_data(as_text=True)
    fragment = client.get(f"/projects/{demo}/expenditures/new", headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="expenditure-form"' in fragment.get_data(as_text=True)


def test_foreign_currency_booking_computes_usd(app, client, auth, demo):
    auth.login("officer")
    body = client.post(f"/projects/{demo}/expenditures/new", headers=HX, data=booking(
        app, amount="", original_amount="44700000", original_currency="VND", exchange_rate="22350")
    ).get_data(as_text=True)
    assert "Booked V-2016-200: USD 2,000.00" in body and "computed from 44,700,000 VND at 22,350." in body


# --------------------------------------------------------------------------------------------- other pages


def test_line_expenditure_and_list_pages(app, client, auth, demo):
    auth.login("auditor")
    lines, spent = ids(app)
    page = client.get(f"/projects/{demo}/budget/lines/{lines['BL1']}").get_data(as_text=True)
    assert "Allocation to activities" in page and "A1.2" in page and "50.00%" in page and "15,000.00" in page
    assert "V-2016-001" in page and "V-2016-006" in page and "V-2016-003" not in page
    page = client.get(f"/projects/{demo}/expenditures/{spent['V-2016-002']}").get_data(as_text=True)
    assert "212,325,000 VND at 22,350 VND per USD" in page
    assert "Field missions to Hà Nội, Huế and Hồ Chí Minh City" in page
    assert "No evidence linked yet." in page
    page = client.get(f"/projects/{demo}/expenditures").get_data(as_text=True)
    assert page.count('<tr id="expenditure-') == 6
    filtered = client.get(f"/projects/{demo}/expenditures?line={lines['BL1']}").get_data(as_text=True)
    assert filtered.count('<tr id="expenditure-') == 3


def test_ids_from_another_project_are_404(app, client, auth, demo):
    with app.app_context():
        other = add_bare_project()
        foreign_line = BudgetLine(project_id=other.id, code="X1", description="x", original_cents=100)
        db.session.add(foreign_line)
        db.session.flush()
        foreign_spend = Expenditure(project_id=other.id, line_id=foreign_line.id, voucher="X", amount_cents=1,
                                    spent_on=date(2016, 2, 2))
        db.session.add(foreign_spend)
        db.session.commit()
        line_id, spend_id = foreign_line.id, foreign_spend.id
    auth.login("manager")
    for path in (f"budget/lines/{line_id}", f"budget/lines/{line_id}/edit", f"budget/lines/{line_id}/allocations",
                 f"expenditures/{spend_id}", f"expenditures/{spend_id}/edit"):
        assert client.get(f"/projects/{demo}/{path}").status_code == 404, path
    assert client.post(f"/projects/{demo}/budget/lines/{line_id}/delete").status_code == 404


def test_manager_adds_edits_and_allocates_a_line(app, client, auth, demo):
    auth.login("manager")
    lines, _ = ids(app)
    # Make room: BL4 revised down by 5,000.
    form = client.get(f"/projects/{demo}/budget/lines/{lines['BL4']}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    response = client.post(f"/projects/{demo}/budget/lines/{lines['BL4']}/edit", data={
        "code": "BL4", "category": "contracts_research", "account_code": "5000",
        "description": "Pilot policy work in one sector", "original": "25000", "revised": "20000",
        "notes": "Revised in 2017", "version": version})
    assert response.status_code == 303
    response = client.post(f"/projects/{demo}/budget/lines/new", data={
        "code": "BL7", "category": "travel", "account_code": "5400", "description": "Study tour to Seoul",
        "original": "6000"})
    assert response.status_code == 422
    assert "Budget lines would total USD 121,000.00, USD 1,000.00 above the grant of USD 120,000.00." in \
        response.get_data(as_text=True)
    response = client.post(f"/projects/{demo}/budget/lines/new", data={
        "code": "BL7", "category": "travel", "account_code": "5400", "description": "Study tour to Seoul",
        "original": "5000"})
    assert response.status_code == 303
    with app.app_context():
        bl7 = db.session.execute(select(BudgetLine).where(BudgetLine.code == "BL7")).scalar_one()
        a2 = db.session.execute(select(BudgetAllocation.activity_id).where(
            BudgetAllocation.line_id == lines["BL4"])).scalar_one()
    response = client.post(f"/projects/{demo}/budget/lines/{bl7.id}/allocations",
                           data={f"share-{a2}": "70.5"})
    assert response.status_code == 303
    response = client.post(f"/projects/{demo}/budget/lines/{bl7.id}/allocations", data={f"share-{a2}": "170"})
    assert response.status_code == 422 and "must be from 0 to 100" in response.get_data(as_text=True)
    assert 'value="170"' in response.get_data(as_text=True)
    page = client.get(f"/projects/{demo}/budget").get_data(as_text=True)
    assert "Study tour to Seoul" in page and "20,000.00" in page
    response = client.post(f"/projects/{demo}/budget/lines/{bl7.id}/delete")
    assert response.status_code == 303
    response = client.post(f"/projects/{demo}/budget/lines/{lines['BL1']}/delete", follow_redirects=True)
    assert "a line with spending cannot be removed" in response.get_data(as_text=True)


def test_an_out_of_date_line_form_answers_409_with_who_and_when(app, client, auth, demo):
    auth.login("manager")
    lines, _ = ids(app)
    url = f"/projects/{demo}/budget/lines/{lines['BL2']}/edit"
    version = re.search(r'name="version" type="hidden" value="(\d+)"', client.get(url).get_data(as_text=True)).group(1)
    values = {"code": "BL2", "category": "personnel", "description": "International expertise", "original": "20000",
              "version": version}
    assert client.post(url, data=values).status_code == 303
    values["description"] = "My typed description"
    response = client.post(url, data=values)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Budget line BL2 was changed by Nguyễn Thị Mai (manager) on" in body
    assert "My typed description" in body and "Reload the current version" in body


def test_an_out_of_date_expenditure_form_answers_409(app, client, auth, demo):
    _, spent = ids(app)
    auth.login("officer")
    url = f"/projects/{demo}/expenditures/{spent['V-2016-006']}/edit"
    form = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    assert 'value="4500.00"' in form
    values = booking(app, voucher="V-2016-006", amount="4500", status="disbursed", version=version)
    values["line_id"] = str(ids(app)[0]["BL1"])
    response = client.post(url, data=values)
    assert response.status_code == 303
    values["payee"] = "Typed by a second person"
    response = client.post(url, data=values)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Expenditure V-2016-006 was changed by Trần Văn Hùng (project officer)" in body
    assert "Typed by a second person" in body
    with app.app_context():
        e = db.session.get(Expenditure, spent["V-2016-006"])
        assert e.status == "disbursed" and e.payee == "Century Riverside Hotel, Huế"


def test_editing_an_expenditure_to_a_taken_voucher_is_refused(app, client, auth, demo):
    _, spent = ids(app)
    auth.login("officer")
    url = f"/projects/{demo}/expenditures/{spent['V-2016-006']}/edit"
    version = re.search(r'name="version" type="hidden" value="(\d+)"', client.get(url).get_data(as_text=True)).group(1)
    response = client.post(url, data=booking(app, voucher="V-2016-001", version=version))
    assert response.status_code == 422 and "Voucher V-2016-001 is already booked" in response.get_data(as_text=True)


def test_csrf_is_required_for_a_booking(csrf_app):
    client = csrf_app.test_client()
    login_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                            client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "officer@demo.test", "password": "demo-officer-pass",
                                "csrf_token": login_token})
    assert client.get("/projects/1/budget").status_code == 200  # logged in
    response = client.post("/projects/1/expenditures/new", data=booking(csrf_app), headers=HX)
    assert response.status_code == 400
    assert expenditure_count(csrf_app) == 6


# --------------------------------------------------------------------------------------------- permissions


def _paths(app, demo):
    lines, spent = ids(app)
    line, spend = lines["BL2"], spent["V-2016-001"]
    return {
        "read": [f"/projects/{demo}/budget", f"/projects/{demo}/expenditures", f"/projects/{demo}/budget/lines/{line}",
                 f"/projects/{demo}/expenditures/{spend}"],
        "expenditure.edit": [f"/projects/{demo}/expenditures/new", f"/projects/{demo}/expenditures/{spend}/edit"],
        "budget.edit": [f"/projects/{demo}/budget/lines/new", f"/projects/{demo}/budget/lines/{line}/edit",
                        f"/projects/{demo}/budget/lines/{line}/allocations"],
    }


ALLOWED = {"read": {"manager", "officer", "liaison", "auditor"}, "expenditure.edit": {"manager", "officer"},
           "budget.edit": {"manager"}}


@pytest.mark.parametrize("role", ["manager", "officer", "liaison", "auditor"])
def test_each_role_gets_what_the_permission_table_says(app, client, auth, demo, role):
    auth.login(role)
    for action, paths in _paths(app, demo).items():
        for path in paths:
            expected = 200 if role in ALLOWED[action] else 403
            assert client.get(path).status_code == expected, (role, path)
            if action != "read":
                assert client.get(path, headers=HX).status_code == expected, (role, path)
    lines, _ = ids(app)
    posted = client.post(f"/projects/{demo}/expenditures/new", data=booking(app), headers=HX)
    assert posted.status_code == (200 if role in ALLOWED["expenditure.edit"] else 403)
    deleted = client.post(f"/projects/{demo}/budget/lines/{lines['BL4']}/delete")
    assert deleted.status_code == (303 if role == "manager" else 403)


def test_non_members_get_404_and_anonymous_users_the_login(app, client, auth, demo):
    from tracker.accounts.services import create_user

    with app.app_context():
        create_user("stranger@demo.test", "Stranger", "stranger-pass-1")
        db.session.commit()
    for path in _paths(app, demo)["read"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    client.post("/login", data={"email": "stranger@demo.test", "password": "stranger-pass-1"})
    for paths in _paths(app, demo).values():
        for path in paths:
            assert client.get(path).status_code == 404, path


# --------------------------------------------------------------------------------------------- query counts


def _add_rows(app, demo, number):
    with app.app_context():
        for index in range(number):
            line = BudgetLine(project_id=demo, code=f"Z{index}", description=f"Line {index}", original_cents=1,
                              position=100 + index)
            db.session.add(line)
            db.session.flush()
            db.session.add(Expenditure(project_id=demo, line_id=line.id, voucher=f"Z-{index}", amount_cents=1,
                                       spent_on=date(2017, 3, 1 + index % 27), status="committed"))
        db.session.commit()


@pytest.mark.parametrize("path", ["budget", "expenditures"])
def test_budget_pages_query_count_does_not_grow_with_rows(app, client, auth, demo, path):
    auth.login("officer")
    few = warm_queries(app, client, f"/projects/{demo}/{path}")
    _add_rows(app, demo, 30)
    many = warm_queries(app, client, f"/projects/{demo}/{path}")
    page = client.get(f"/projects/{demo}/{path}")
    assert page.status_code == 200 and ("Z-29" if path == "expenditures" else "Line 29") in page.get_data(as_text=True)
    assert len(many) == len(few), (len(few), len(many))


def test_a_booking_is_in_the_audit_trail(app, client, auth, demo):
    auth.login("officer")
    client.post(f"/projects/{demo}/expenditures/new", data=booking(app), headers=HX)
    with app.app_context():
        event_row = db.session.execute(select(AuditEvent).where(AuditEvent.table_name == "expenditure")
                                       .order_by(AuditEvent.id.desc())).scalars().first()
        assert event_row.action == "insert" and "V-2016-200" in event_row.changes
        assert event_row.actor_label == "officer@demo.test"


def test_pages_of_a_new_project_without_lines_or_evidence(app, client, auth):
    from tracker.models import Project

    with app.app_context():
        project = Project(code="NEW", title="Dự án mới", grant_cents=50_000_00, start_date=date(2024, 1, 1),
                          end_date=date(2025, 6, 30))
        db.session.add(project)
        db.session.commit()
        project_id = project.id
    auth.login("admin")
    page = client.get(f"/projects/{project_id}/budget").get_data(as_text=True)
    assert "No budget lines yet." in page and "USD 50,000.00" in page
    assert "No spending booked yet." in client.get(f"/projects/{project_id}/budget/chart").get_data(as_text=True)
    assert client.get(f"/projects/{project_id}/evidence").status_code == 200
    auditor = client.get(f"/projects/{project_id}/auditor?coverage=1").get_data(as_text=True)  # figures inline
    assert "Nothing is waiting for review." in auditor and "–" in auditor  # no disbursed dollars: no percentage
    response = client.post(f"/projects/{project_id}/expenditures/new", headers=HX, data={
        "spent_on": "2024-02-01", "line_id": "", "amount": "10", "voucher": "A-1", "status": "committed"})
    assert response.status_code == 422 and "Choose the budget line" in response.get_data(as_text=True)
