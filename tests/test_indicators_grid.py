"""The indicator grid, the period page and its steps, and the overview's charts, over HTTP."""

import re
from datetime import date

import pytest
from sqlalchemy import insert, select

from tests.helpers import HX, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import AuditEvent, Indicator, IndicatorPeriod, Project, ResultNode


def period_of(app, code, index):
    """(id, version) of an indicator's period, by position."""
    with app.app_context():
        rows = db.session.execute(
            select(IndicatorPeriod.id, IndicatorPeriod.version).join(Indicator)
            .where(Indicator.code == code).order_by(IndicatorPeriod.start_date)).all()
        return tuple(rows[index])


def stored(app, period_id):
    with app.app_context():
        p = db.session.get(IndicatorPeriod, period_id)
        return p.target, p.actual, p.actual_text, p.state, p.version



def save_cell(client, demo, pid, kind, value, version, **extra):
    """Save one cell of the grid (a period's ``actual`` or ``target``) with htmx, as the grid does."""
    return client.post(f"/projects/{demo}/indicators/periods/{pid}/{kind}", headers=HX,
                       data={"value": value, "version": version, **extra})

def test_the_grid_has_labelled_inputs_for_what_the_role_may_edit(client, auth, demo, app):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    pid, _ = period_of(app, "1.1.b", 2)
    assert '<table class="indicator-grid" id="indicator-grid" hx-target="closest td"' in page and "<caption>" in page
    assert f'id="i{pid}a"' in page and f'id="i{pid}t"' not in page
    assert f'data-periods-url="/projects/{demo}/indicators/periods/"' in page  # grid.js posts to <url><id>/actual
    assert (f'<label class="vh" for="i{pid}a">Actual of 1.1.b Press articles published '
            "on the project, 2017 H1 (a number)</label>") in page
    locked, _ = period_of(app, "1.1.b", 0)
    assert f'id="i{locked}a"' not in page and "Approved · locked" in page  # approved: read-only
    assert f'href="/projects/{demo}/indicators/periods/{pid}">Draft</a>' in page  # the no-JS way to edit it
    assert '/static/js/grid.js' in page and "Enter</kbd> saves and moves down" in page
    assert "yes or no)</label>" in page and "(text)</label>" in page
    assert "Save thresholds" not in page  # only managers change them


def test_managers_get_target_inputs_and_readers_get_none(client, auth, demo, app):
    pid, _ = period_of(app, "1.1.b", 2)
    auth.login("manager")
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    assert f'id="i{pid}t"' in page and f'id="i{pid}a"' in page
    assert "Save thresholds" in page
    auth.logout()
    for role in ("liaison", "auditor"):
        auth.login(role)
        page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
        assert 'class="cell-input' not in page and re.search(r'<td id="cell-\d+-actual" class="cell">9<a', page)
        auth.logout()


def test_saving_an_actual_with_htmx_swaps_the_cell_and_the_summary(client, auth, demo, app):
    pid, version = period_of(app, "1.1.b", 2)
    auth.login("officer")
    response = save_cell(client, demo, pid, "actual", "2", version)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith(f'<td id="cell-{pid}-actual"') and 'value="2"' in html
    assert re.search(r'<td id="summary-\d+" class="grid-summary" rowspan="2" hx-swap-oob="true">', html)
    assert '<span class="to-date">11</span>' in html  # cumulative: 0 + 9 + 2
    assert response.headers["HX-Trigger"] == f'{{"periodSaved": {{"id": {pid}, "version": {version + 1}}}}}'
    assert stored(app, pid)[1] == 2


def grid_cells_bytes(page: str) -> tuple[int, int]:
    """(bytes, cells) of the grid's period cells: in each row, from its first period cell to the
    row's end (whitespace between cells included), in UTF-8."""
    total = cells = 0
    for row in re.findall(r"<tr data-grid-row=.*?</tr>", page, re.S):
        start = re.search(r'<td (?:id="cell-[^"]+" )?class="cell', row)
        if start:
            total += len(row[start.start():].encode("utf-8"))
            cells += len(re.findall(r'<td (?:id="cell-[^"]+" )?class="cell', row))
    return total, cells


@pytest.mark.parametrize("role", ["manager", "officer", "auditor"])
def test_the_grid_sends_at_most_250_bytes_of_html_per_cell(client, auth, demo, app, role):
    """One labelled input per cell and nothing else: no form, URL or CSRF token per cell (the
    token travels once, in the hx-headers of <body>)."""
    auth.login(role)
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    total, cells = grid_cells_bytes(page)
    assert cells >= 40  # the demo's 12 indicators × 2 rows × their periods
    assert total / cells <= 250, f"{total / cells:.0f} bytes per cell"
    # The thresholds form's (managers) and the header's language switch: none per cell.
    assert page.count('name="csrf_token"') <= 2
    assert "<form" not in page.split('id="indicator-grid"', 1)[1].split("</table>", 1)[0]


def test_a_grid_cell_saved_from_the_grid_comes_back_compact(client, auth, demo, app):
    pid, version = period_of(app, "1.1.b", 2)
    auth.login("officer")
    response = save_cell(client, demo, pid, "actual", "4", version, layout="grid")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and stored(app, pid)[1] == 4
    assert html.lstrip().startswith(f'<td id="cell-{pid}-actual" class="cell">')
    assert f'id="i{pid}a"' in html and 'value="4"' in html and f'data-v="{version + 1}"' in html
    assert "<form" not in html
    refused = save_cell(client, demo, pid, "actual", "bốn", version + 1, layout="grid")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="bốn"' in html and 'data-saved="4"' in html
    assert f'aria-describedby="i{pid}ae"' in html and f'id="i{pid}ae" role="alert"' in html


def test_the_period_page_keeps_plain_forms_for_use_without_javascript(client, auth, demo, app):
    pid, _ = period_of(app, "1.1.b", 2)
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators/periods/{pid}").get_data(as_text=True)
    assert f'<form method="post" action="/projects/{demo}/indicators/periods/{pid}/actual"' in page
    assert 'name="csrf_token"' in page and f'id="cell-{pid}-actual-input" name="value"' in page


def test_saving_a_cell_without_javascript_redirects_back_to_the_grid_page(client, auth, demo, app):
    pid, version = period_of(app, "1.2.a", 2)
    auth.login("manager")
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/target", data={"value": "3", "version": version},
                           headers={"Referer": f"http://localhost/projects/{demo}/indicators?page=1"})
    assert response.status_code == 303
    assert response.location.endswith(f"/projects/{demo}/indicators?page=1#cell-{pid}-target")
    assert stored(app, pid)[0] == 3
    elsewhere = client.post(f"/projects/{demo}/indicators/periods/{pid}/target", data={"value": "4", "version": "2"},
                            headers={"Referer": "http://evil.example/projects/1/indicators?x"})
    with app.app_context():  # from anywhere else: the grid showing the period's year, at the cell
        year = db.session.get(IndicatorPeriod, pid).start_date.year
    assert elsewhere.location.endswith(f"/projects/{demo}/indicators?year={year}#cell-{pid}-target")


@pytest.mark.parametrize(("code", "kind", "raw", "message"), [
    ("1.1.b", "actual", "mười", "The actual must be a number, for example 12 or 3.5."),
    ("1.1.a", "target", "-1", "cannot be negative"),
    ("1.a", "actual", "perhaps", "must be yes or no"),
    ("1.1.b", "actual", "5", "breakdown by Language adds up to 9"),
])
def test_a_bad_value_comes_back_422_with_the_typed_text_and_changes_nothing(client, auth, demo, app, code, kind,
                                                                             raw, message):
    index = 1 if message.startswith("breakdown") else 2
    pid, version = period_of(app, code, index)
    before = stored(app, pid)
    auth.login("manager")
    response = save_cell(client, demo, pid, kind, raw, version)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert f'value="{raw}"' in html and 'aria-invalid="true"' in html and 'role="alert"' in html
    assert stored(app, pid) == before
    page = client.post(f"/projects/{demo}/indicators/periods/{pid}/{kind}", data={"value": raw, "version": version})
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)
    assert message in page.get_data(as_text=True) and "Nothing was saved." in page.get_data(as_text=True)


def test_a_percent_above_100_is_refused(client, auth, demo, app):
    with app.app_context():
        indicator = db.session.execute(select(Indicator).where(Indicator.code == "1.1.a")).scalar_one()
        indicator.unit = "percent"
        db.session.commit()
    pid, version = period_of(app, "1.1.a", 2)
    auth.login("officer")
    response = save_cell(client, demo, pid, "actual", "120%", version)
    assert response.status_code == 422 and "must be from 0 to 100" in response.get_data(as_text=True)
    assert stored(app, pid)[1] is None


def test_a_locked_period_refuses_a_change_with_a_clear_message(client, auth, demo, app):
    pid, version = period_of(app, "1.1.b", 0)
    auth.login("manager")
    response = save_cell(client, demo, pid, "target", "7", version)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "is approved and locked; a manager must unlock it before it can change. Nothing was saved." in html
    assert stored(app, pid)[0] == 0


def test_a_stale_cell_gets_409_with_who_and_a_link_to_the_current_version(client, auth, demo, app):
    pid, version = period_of(app, "1.1.a", 2)
    auth.login("manager")
    save_cell(client, demo, pid, "target", "2", version)
    response = save_cell(client, demo, pid, "actual", "1", version)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "was changed by Nguyễn Thị Mai" in html
    assert 'value="1"' in html and "Open the current version" in html
    assert stored(app, pid)[:2] == (2, None)


@pytest.mark.parametrize(("role", "kind", "status"), [
    ("officer", "target", 403), ("liaison", "actual", 403), ("auditor", "actual", 403), ("liaison", "target", 403),
])
def test_cell_permissions(client, auth, demo, app, role, kind, status):
    pid, version = period_of(app, "1.1.a", 2)
    auth.login(role)
    response = save_cell(client, demo, pid, kind, "1", version)
    assert response.status_code == status and stored(app, pid)[:2] == (1, None)


def test_unknown_and_foreign_period_ids_are_404(client, auth, demo, other_project):
    auth.login("manager")
    for period_id in (999_999, other_project.period_id):
        assert client.post(f"/projects/{demo}/indicators/periods/{period_id}/actual", headers=HX,
                           data={"value": "1", "version": "1"}).status_code == 404
        assert client.get(f"/projects/{demo}/indicators/periods/{period_id}").status_code == 404
        assert client.post(f"/projects/{demo}/indicators/periods/{period_id}/approve").status_code == 404
    assert client.get(f"/projects/{demo}/indicators/{other_project.indicator_id}").status_code == 404


def test_the_grid_filters_by_result_and_pages(client, auth, demo, app):
    with app.app_context():
        result = db.session.execute(select(ResultNode).where(ResultNode.code == "1.2")).scalar_one()
        rid = result.id
    auth.login("liaison")
    page = client.get(f"/projects/{demo}/indicators?result={rid}").get_data(as_text=True)
    assert "Cities covered" in page and "Press articles" not in page and "result 1.2" in page
    assert f'<option value="{rid}" selected>' in page


def test_query_count_of_the_grid_and_overview_does_not_grow_with_indicators(client, auth, demo, app):
    auth.login("manager")
    grid_small = warm_queries(app, client, f"/projects/{demo}/indicators")
    overview_small = warm_queries(app, client, f"/projects/{demo}?page=1")
    with app.app_context():
        result = db.session.execute(select(ResultNode.id).where(ResultNode.code == "1.1.2")).scalar_one()
        db.session.execute(insert(Indicator), [
            {"project_id": demo, "result_id": result, "code": f"X{i}", "title": f"Chỉ số {i}", "unit": "number",
             "ascending": True, "cumulative": bool(i % 2), "illustrative": False, "position": 50 + i,
             "target_value": 10} for i in range(60)])
        new_ids = db.session.execute(select(Indicator.id).where(Indicator.code.like("X%"))).scalars().all()
        db.session.execute(insert(IndicatorPeriod), [
            {"project_id": demo, "indicator_id": iid, "start_date": date(2016 + y, 1, 1),
             "end_date": date(2016 + y, 6, 30), "target": 2, "actual": 1, "state": "draft", "version": 1}
            for iid in new_ids for y in (0, 1)] + [
            {"project_id": demo, "indicator_id": iid, "start_date": date(2016 + y, 7, 1),
             "end_date": date(2016 + y, 12, 31), "target": 2, "actual": None, "state": "draft", "version": 1}
            for iid in new_ids for y in (0, 1)])
        db.session.commit()
    with count_queries(app) as grid_large:
        page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    overview_large = warm_queries(app, client, f"/projects/{demo}?page=1")
    overview = client.get(f"/projects/{demo}?page=1").get_data(as_text=True)
    assert "Page 1 of 3" in page and "Chỉ số 21<" in page and "Chỉ số 22<" not in page
    assert "Chỉ số 59" not in overview and "Show the next 25 indicators" in overview  # paged, see test_paging.py
    assert "Chỉ số 59" in client.get(f"/projects/{demo}?page=4").get_data(as_text=True)
    assert len(grid_large) == len(grid_small)
    assert len(overview_large) == len(overview_small)


def test_the_period_page_shows_values_breakdown_and_the_steps_the_role_may_take(client, auth, demo, app):
    pid, _ = period_of(app, "1.2.a", 1)
    auth.login("manager")
    page = client.get(f"/projects/{demo}/indicators/periods/{pid}").get_data(as_text=True)
    assert "Actual by category" in page and 'for="breakdown-total"' in page
    assert "Hà Nội</label>" in page and "Hồ Chí Minh City</label>" in page
    assert "Approve and lock" in page and "Return to the officer" in page and "Submit for approval" not in page
    auth.logout()
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/indicators/periods/{pid}").get_data(as_text=True)
    assert "Approve and lock" not in page and 'name="total"' not in page and "Hồ Chí Minh City</td>" in page


def test_submitting_and_approving_with_htmx_and_without(client, auth, demo, app):
    pid, version = period_of(app, "1.1.a", 2)
    auth.login("officer")
    save_cell(client, demo, pid, "actual", "1", version)
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/submit", headers=HX,
                           data={"version": version + 1})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="workflow"')
    assert "Submitted for approval." in html and "periodSaved" in response.headers["HX-Trigger"]
    assert client.post(f"/projects/{demo}/indicators/periods/{pid}/approve",
                       data={"version": version + 2}).status_code == 403
    auth.logout()
    auth.login("manager")
    missing_note = client.post(f"/projects/{demo}/indicators/periods/{pid}/return", headers=HX,
                               data={"version": version + 2, "note": ""})
    assert missing_note.status_code == 422 and "Say what needs changing" in missing_note.get_data(as_text=True)
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/approve", data={"version": version + 2})
    assert response.status_code == 303 and response.location.endswith(f"/indicators/periods/{pid}#workflow")
    assert stored(app, pid)[3] == "approved"
    page = client.get(response.location).get_data(as_text=True)
    assert "Approved: the period is locked." in page and "Unlock" in page
    stale = client.post(f"/projects/{demo}/indicators/periods/{pid}/unlock", headers=HX, data={"version": version})
    assert stale.status_code == 409 and "Reload the period" in stale.get_data(as_text=True)
    unlocked = client.post(f"/projects/{demo}/indicators/periods/{pid}/unlock", headers=HX,
                           data={"version": version + 3})
    assert unlocked.status_code == 200 and stored(app, pid)[3] == "draft"
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.row_id == pid,
                                                                     AuditEvent.action.like("indicator.%"))
                                     ).scalars().all()
    assert actions == ["indicator.submit", "indicator.approve", "indicator.unlock"]


def test_returning_a_period_with_a_note_shows_the_note_to_the_officer(client, auth, demo, app):
    pid, version = period_of(app, "1.1.b", 1)  # submitted in the demo
    auth.login("manager")
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/return",
                           data={"version": version, "note": "Thêm đường dẫn bài báo."})
    assert response.status_code == 303
    auth.logout()
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators/periods/{pid}").get_data(as_text=True)
    assert "Returned with this note" in page and "Thêm đường dẫn bài báo." in page
    assert "Submit for approval" in page


def test_the_breakdown_form_checks_the_total_and_keeps_what_was_typed(client, auth, demo, app):
    pid, version = period_of(app, "1.2.a", 2)
    with app.app_context():
        categories = db.session.execute(select(Indicator).where(Indicator.code == "1.2.a")).scalar_one() \
            .dimensions[0].categories
        ids = [c.id for c in categories]
    auth.login("officer")
    data = {f"category-{ids[0]}": "1", f"category-{ids[1]}": "1", f"category-{ids[2]}": "1", "total": "5",
            "version": version}
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/breakdown", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The values by City add up to 3, but the total is 5." in html and 'value="5"' in html
    data["total"] = ""
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/breakdown", data=data)
    assert response.status_code == 303 and stored(app, pid)[1] == 3


def test_thresholds_form_for_managers(client, auth, demo, app):
    auth.login("officer")
    assert client.post(f"/projects/{demo}/indicators/thresholds",
                       data={"on_track_pct": "80", "at_risk_pct": "50"}).status_code == 403
    auth.logout()
    auth.login("manager")
    with app.app_context():
        version = str(db.session.get(Project, demo).version)  # the form's hidden field
    bad = client.post(f"/projects/{demo}/indicators/thresholds",
                      data={"on_track_pct": "50", "at_risk_pct": "70", "version": version})
    assert bad.status_code == 422 and "must be below" in bad.get_data(as_text=True)
    assert 'value="70"' in bad.get_data(as_text=True)
    good = client.post(f"/projects/{demo}/indicators/thresholds",
                       data={"on_track_pct": "80", "at_risk_pct": "50", "version": version})
    assert good.status_code == 303
    assert "at least 80% of its target" in client.get(good.location).get_data(as_text=True)


def test_the_indicator_page_adds_periods_and_dimensions(client, auth, demo, app):
    with app.app_context():
        iid = db.session.execute(select(Indicator.id).where(Indicator.code == "1.1.a")).scalar_one()
    auth.login("manager")
    assert "Reporting periods" in client.get(f"/projects/{demo}/indicators/{iid}").get_data(as_text=True)
    overlap = client.post(f"/projects/{demo}/indicators/{iid}/periods",
                          data={"start_date": "2017-06-01", "end_date": "2017-08-31"})
    assert overlap.status_code == 422 and "overlaps the period 2017-01-01 – 2017-06-30" in overlap.get_data(as_text=True)
    backwards = client.post(f"/projects/{demo}/indicators/{iid}/periods",
                            data={"start_date": "2017-08-31", "end_date": "2017-06-01"})
    assert backwards.status_code == 422 and "before it starts" in backwards.get_data(as_text=True)
    added = client.post(f"/projects/{demo}/indicators/{iid}/dimensions",
                        data={"name": "Thành phố", "categories": "Hà Nội; Huế; Đà Nẵng"})
    assert added.status_code == 303
    page = client.get(f"/projects/{demo}/indicators/{iid}").get_data(as_text=True)
    assert "Thành phố</strong>: Hà Nội; Huế; Đà Nẵng" in page


def test_the_overview_draws_a_chart_per_indicator_and_keeps_its_counts(client, auth, demo):
    """Charts load when they scroll into view: the page holds a placeholder per chart (with a
    link for use without JavaScript), htmx fetches each when it is revealed."""
    auth.login("liaison")
    page = client.get(f"/projects/{demo}?page=1").get_data(as_text=True)  # the results inline (lazy on the bare page)
    assert 'id="status-counts"' in page and "of end target" in page
    slots = re.findall(r'<div class="chart-slot" hx-get="([^"]+)" hx-trigger="revealed" hx-swap="outerHTML">', page)
    assert len(slots) == 5  # every indicator but the qualitative one
    assert '<figure class="target-chart">' not in page
    charts = "".join(client.get(url, headers=HX).get_data(as_text=True) for url in slots)
    assert charts.count('<figure class="target-chart">') == 5
    assert '<polyline class="chart-actual"' in charts and "<title id=" in charts
    assert "2016 H2: target 6, actual 9" in charts


def _put_in_state(app, period_id, state):
    with app.app_context():
        period = db.session.get(IndicatorPeriod, period_id)
        period.state = state
        if period.actual is None:
            period.actual = 1
        db.session.commit()
        return period.version


@pytest.mark.parametrize(("step", "role", "state_before", "state_after"), [
    ("submit", "officer", "draft", "submitted"),
    ("approve", "manager", "submitted", "approved"),
    ("return", "manager", "submitted", "returned"),
    ("unlock", "manager", "approved", "draft"),
])
@pytest.mark.parametrize("hx", [True, False])
def test_each_step_answers_htmx_with_the_panel_and_a_page_with_a_redirect(client, auth, demo, app, step, role,
                                                                          state_before, state_after, hx):
    pid, _ = period_of(app, "1.2.b", 2)
    version = _put_in_state(app, pid, state_before)
    auth.login(role)
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/{step}", headers=HX if hx else {},
                           data={"version": version, "note": "Cần bổ sung bằng chứng."})
    if hx:
        assert response.status_code == 200 and response.get_data(as_text=True).lstrip().startswith(
            '<section id="workflow"')
    else:
        assert response.status_code == 303 and response.location.endswith(f"/indicators/periods/{pid}#workflow")
    assert stored(app, pid)[3] == state_after


@pytest.mark.parametrize("role", ["liaison", "auditor"])
@pytest.mark.parametrize("step", ["submit", "approve", "return", "unlock", "breakdown"])
def test_readers_cannot_take_steps(client, auth, demo, app, role, step):
    pid, version = period_of(app, "1.1.b", 1)
    before = stored(app, pid)
    auth.login(role)
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/{step}", headers=HX,
                           data={"version": version, "note": "x", "total": "1"})
    assert response.status_code == 403 and stored(app, pid) == before


def test_a_step_that_does_not_fit_the_state_says_why(client, auth, demo, app):
    pid, version = period_of(app, "1.2.b", 2)  # draft, no actual
    auth.login("officer")
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/submit", headers=HX, data={"version": version})
    assert response.status_code == 422 and "Enter the actual before submitting" in response.get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/approve", data={"version": version})
    assert response.status_code == 422 and "Only a submitted period can be approved" in response.get_data(as_text=True)
    assert stored(app, pid)[3] == "draft"


def test_the_manager_sets_when_a_period_without_an_actual_is_late(client, auth, demo, app):
    """The inbox's "late after N days" (issue 13) is a project setting beside the thresholds."""
    auth.login("manager")
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    assert 'name="late_after_days"' in page and 'value="14"' in page  # the default
    with app.app_context():
        version = str(db.session.get(Project, demo).version)
    for bad in ("366", "-1", "two weeks", "1.5", "9" * 5000):
        refused = client.post(f"/projects/{demo}/indicators/thresholds",
                              data={"on_track_pct": "90", "at_risk_pct": "60", "late_after_days": bad,
                                    "version": version})
        assert refused.status_code == 422 and "from 0 to 365" in refused.get_data(as_text=True), bad
        with app.app_context():
            assert db.session.get(Project, demo).late_after_days == 14
    saved = client.post(f"/projects/{demo}/indicators/thresholds",
                        data={"on_track_pct": "90", "at_risk_pct": "60", "late_after_days": "30",
                              "version": version})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Project, demo).late_after_days == 30
    assert 'value="30"' in client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
