"""The activities page, the inline weekly log and activity editing, over HTTP.

Each htmx endpoint is called as a full page and with ``HX-Request: true``.
"""

import re
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from tests.helpers import HX, add_activities, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import Activity, ProgressLog, ResultNode


def ids(app):
    with app.app_context():
        rows = db.session.execute(select(Activity.code, Activity.id)).all()
        return dict(rows)


def log_form(activity_id, **values):
    data = {"week": "2016-W47", "status": "on_track", "percent_complete": "85", "done": "", "problems": "",
            "next_steps": "", "version": "", "context": "activities"}
    data.update(values)
    return {f"log-{activity_id}-{key}": value for key, value in data.items()} | {"page_week": "2016-W47"}


def saved_logs(app):
    with app.app_context():
        return db.session.execute(select(ProgressLog).order_by(ProgressLog.id)).scalars().all()


def test_activities_page_lists_activities_under_their_results_with_the_weeks_state(client, auth, demo, app):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/activities?week=2016-W47").get_data(as_text=True)
    assert 'id="activity-counters"' in page and 'id="activity-table"' in page
    assert "Output 1.1.1" in page and "Field missions to Hà Nội, Huế and Hồ Chí Minh City" in page
    assert re.search(r'id="due-count"[^>]*>2<', page)
    assert page.count(">Log week<span") == 7  # the officer may log every activity
    assert "Edit<span" not in page and "Add an activity" not in page  # but not edit them
    assert "Due</span>" in page


def test_activities_page_defaults_to_the_current_week_clamped_into_the_project(client, auth, demo):
    auth.login("liaison")
    page = client.get(f"/projects/{demo}/activities").get_data(as_text=True)
    assert "Week 2017-W52" in page  # the demo finished in 2017
    assert ">Log week<span" not in page  # a liaison reads only


def test_log_form_opens_inline_for_htmx_and_as_a_page_without(client, auth, demo, app):
    a13 = ids(app)["A1.3"]
    auth.login("officer")
    fragment = client.get(f"/projects/{demo}/activities/{a13}/log?week=2016-W47", headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert html.lstrip().startswith("{#") is False and f'<tbody id="activity-{a13}"' in html
    assert "<html" not in html and 'name="log-%d-percent_complete"' % a13 in html
    assert f'for="log-{a13}-done"' in html and "autofocus" in html
    page = client.get(f"/projects/{demo}/activities/{a13}/log?week=2016-W47")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "Weekly log of A1.3" in page.get_data(as_text=True)


def test_saving_a_log_with_htmx_swaps_the_row_and_updates_the_counters_out_of_band(client, auth, demo, app):
    a13 = ids(app)["A1.3"]
    auth.login("officer")
    response = client.post(f"/projects/{demo}/activities/{a13}/log", headers=HX,
                           data=log_form(a13, done="Gửi bản thảo báo cáo cho Bộ"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count(f'<tbody id="activity-{a13}"') == 1 and "Logged</span>" in html
    assert 'id="activity-counters" class="counters" aria-labelledby="activity-counters-h" hx-swap-oob="true"' in html
    assert re.search(r'id="due-count"[^>]*>1<', html) and re.search(r'id="logged-count">1<', html)
    assert 'id="week-summary"' not in html  # only the week page shows the summary
    [log] = saved_logs(app)
    assert (log.iso_week, log.percent_complete, log.done) == ("2016-W47", 85, "Gửi bản thảo báo cáo cho Bộ")


def test_saving_a_log_on_the_week_page_also_refreshes_the_weeks_summary(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("officer")
    html = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX,
                       data=log_form(a1, context="week", done="Chuẩn bị đối thoại ở Huế")).get_data(as_text=True)
    assert 'id="week-summary" class="week-summary" aria-labelledby="week-summary-h" hx-swap-oob="true"' in html
    assert "Chuẩn bị đối thoại ở Huế" in html


def test_saving_a_log_without_javascript_redirects_back_to_the_page(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("manager")
    response = client.post(f"/projects/{demo}/activities/{a1}/log", data=log_form(a1, context="week"))
    assert response.status_code == 303
    assert response.location.endswith(f"/projects/{demo}/week/2016-W47")
    page = client.get(response.location).get_data(as_text=True)
    assert "Saved the log of A1 for week 2016-W47." in page
    # The week's summary: a link to the printable one without JavaScript (htmx fetches it when revealed).
    assert 'href="/projects/1/week/2016-W47/summary"' in page
    assert 'id="log-summary-' in client.get(f"/projects/{demo}/week/2016-W47/summary").get_data(as_text=True)


def test_saving_the_same_week_again_updates_its_log(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("officer")
    client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX, data=log_form(a1))
    form = client.get(f"/projects/{demo}/activities/{a1}/log?week=2016-W47", headers=HX).get_data(as_text=True)
    version = re.search(rf'name="log-{a1}-version" type="hidden" value="(\d+)"', form).group(1)
    assert 'value="85"' in form  # opened with the saved log
    response = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX,
                           data=log_form(a1, percent_complete="90", version=version))
    assert response.status_code == 200
    [log] = saved_logs(app)
    assert log.percent_complete == 90


@pytest.mark.parametrize("hx", [True, False])
def test_an_invalid_log_comes_back_422_with_errors_and_the_typed_text(client, auth, demo, app, hx):
    a1 = ids(app)["A1"]
    auth.login("officer")
    response = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX if hx else {},
                           data=log_form(a1, percent_complete="chín mươi", done="Đã họp với Bộ Văn hóa",
                                         problems="<b>không</b>"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "% complete must be a whole number from 0 to 100." in html
    assert 'value="chín mươi"' in html and "Đã họp với Bộ Văn hóa</textarea>" in html
    assert "&lt;b&gt;không&lt;/b&gt;" in html  # kept, and escaped
    assert ('aria-invalid="true"' in html) and (("<html" in html) != hx)
    assert saved_logs(app) == []


@pytest.mark.parametrize(("week", "message"), [
    ("2018-W05", "outside the project period"),
    ("2015-W20", "outside the project period"),
    ("soon", "is not an ISO week"),
])
def test_a_log_for_a_week_outside_the_project_is_refused(client, auth, demo, app, week, message):
    a1 = ids(app)["A1"]
    auth.login("officer")
    response = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX, data=log_form(a1, week=week))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert saved_logs(app) == []


def test_a_stale_log_form_gets_409_with_who_and_a_reload_link(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("manager")
    client.post(f"/projects/{demo}/activities/{a1}/log", data=log_form(a1))
    client.post(f"/projects/{demo}/activities/{a1}/log", data=log_form(a1, percent_complete="88", version="1"))
    response = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX,
                           data=log_form(a1, percent_complete="95", done="Mine", version="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "was changed by Nguyễn Thị Mai" in html and "Reload the current log" in html
    assert 'value="95"' in html and "Mine</textarea>" in html
    assert saved_logs(app)[0].percent_complete == 88


def test_a_log_posted_twice_at_once_is_saved_once_not_a_500(client, auth, demo, app, monkeypatch):
    """Two requests that both found no log: the second insert hits the unique week and is retried."""
    from tracker.progress import services

    a1 = ids(app)["A1"]
    auth.login("officer")
    client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX, data=log_form(a1))
    real = services._existing_log
    calls = {"n": 0}

    def blind_once(activity_id, week):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(activity_id, week)

    monkeypatch.setattr(services, "_existing_log", blind_once)
    response = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX, data=log_form(a1))
    assert response.status_code == 200 and calls["n"] == 2
    assert len(saved_logs(app)) == 1
    calls["n"] = 0
    response = client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX,
                           data=log_form(a1, done="different"))
    assert response.status_code == 409 and "saved a log for A1" in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "status"), [("liaison", 403), ("auditor", 403)])
def test_only_officers_and_managers_log(client, auth, demo, app, role, status):
    a1 = ids(app)["A1"]
    auth.login(role)
    assert client.get(f"/projects/{demo}/activities/{a1}/log", headers=HX).status_code == status
    assert client.post(f"/projects/{demo}/activities/{a1}/log", headers=HX, data=log_form(a1)).status_code == status
    assert saved_logs(app) == []


def test_unknown_or_foreign_activity_ids_are_404(client, auth, demo, other_project):
    auth.login("manager")
    for activity_id in (999_999, other_project.activity_id):
        assert client.get(f"/projects/{demo}/activities/{activity_id}/log").status_code == 404
        assert client.post(f"/projects/{demo}/activities/{activity_id}/log", headers=HX,
                           data=log_form(activity_id)).status_code == 404
        assert client.get(f"/projects/{demo}/activities/{activity_id}", headers=HX).status_code == 404
        assert client.post(f"/projects/{demo}/activities/{activity_id}/edit").status_code == 404
    assert client.get(f"/projects/{demo}/activities?week=2016-47").status_code == 404


def test_cancel_returns_the_row_for_htmx_and_the_activity_page_without(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("auditor")
    fragment = client.get(f"/projects/{demo}/activities/{a1}?week=2016-W47", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tbody id="activity-{a1}"') and "hx-swap-oob" not in fragment
    page = client.get(f"/projects/{demo}/activities/{a1}").get_data(as_text=True)
    assert "<html" in page and "Weekly logs" in page and "No week logged yet." in page


def activity_form(activity_id, **values):
    data = {"result_id": "", "code": "A1", "title": "Raise awareness", "description": "", "planned_start": "2016-07-01",
            "planned_end": "2017-06-30", "actual_start": "", "actual_end": "", "status": "on_track",
            "percent_complete": "60", "responsible": "", "locations": "Hà Nội; Huế", "version": "1"}
    data.update(values)
    prefix = f"activity-{activity_id}-" if activity_id else ""
    return {prefix + key: value for key, value in data.items()} | {"context": "activities", "page_week": "2016-W47"}


def result_id(app, code):
    with app.app_context():
        return db.session.execute(select(ResultNode.id).where(ResultNode.code == code)).scalar_one()


def test_a_manager_edits_an_activity_inline_and_the_row_is_swapped(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("manager")
    fragment = client.get(f"/projects/{demo}/activities/{a1}/edit?page_week=2016-W47", headers=HX)
    assert fragment.status_code == 200 and f'name="activity-{a1}-title"' in fragment.get_data(as_text=True)
    assert f'hx-post="/projects/{demo}/activities/{a1}/edit" hx-target="#activity-{a1}"' in fragment.get_data(as_text=True)
    page = client.get(f"/projects/{demo}/activities/{a1}/edit")
    assert "<html" in page.get_data(as_text=True) and "Edit activity A1" in page.get_data(as_text=True)
    data = activity_form(a1, result_id=str(result_id(app, "1.1.1")), title="Nâng cao nhận thức", status="at_risk")
    response = client.post(f"/projects/{demo}/activities/{a1}/edit", headers=HX, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Nâng cao nhận thức" in html and "At risk" in html
    assert 'hx-swap-oob="true"' in html  # the status counts changed too
    with app.app_context():
        assert db.session.get(Activity, a1).status == "at_risk"


def test_editing_an_activity_without_javascript_and_with_bad_dates(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("manager")
    rid = str(result_id(app, "1.1.1"))
    bad = client.post(f"/projects/{demo}/activities/{a1}/edit", data=activity_form(a1, result_id=rid,
                                                                                  planned_end="2016-06-01"))
    assert bad.status_code == 422 and "The planned end is before the planned start." in bad.get_data(as_text=True)
    typo = client.post(f"/projects/{demo}/activities/{a1}/edit", headers=HX,
                       data=activity_form(a1, result_id=rid, planned_end="30/06/2017"))
    assert typo.status_code == 422 and "must be a date such as 2016-11-24" in typo.get_data(as_text=True)
    assert 'value="30/06/2017"' in typo.get_data(as_text=True)
    good = client.post(f"/projects/{demo}/activities/{a1}/edit", data=activity_form(a1, result_id=rid))
    assert good.status_code == 303 and good.location.endswith(f"#activity-{a1}")
    stale = client.post(f"/projects/{demo}/activities/{a1}/edit", headers=HX,
                        data=activity_form(a1, result_id=rid, title="Old form"))
    assert stale.status_code == 409 and "was changed by Nguyễn Thị Mai" in stale.get_data(as_text=True)
    assert "Reload the current version" in stale.get_data(as_text=True)


def test_a_manager_adds_an_activity_and_a_duplicate_code_is_refused(client, auth, demo, app):
    auth.login("manager")
    assert client.get(f"/projects/{demo}/activities/new").status_code == 200
    data = activity_form(None, result_id=str(result_id(app, "1.2.2")), code="A2.1", title="Thí điểm ở Huế",
                         status="not_started", percent_complete="0", version="")
    response = client.post(f"/projects/{demo}/activities/new", data=data)
    assert response.status_code == 303
    again = client.post(f"/projects/{demo}/activities/new", data=data)
    assert again.status_code == 422 and "already has the code A2.1" in again.get_data(as_text=True)
    assert "A2.1" in ids(app)


def test_officers_cannot_add_edit_or_move_activities(client, auth, demo, app):
    a1 = ids(app)["A1"]
    auth.login("officer")
    assert client.get(f"/projects/{demo}/activities/new").status_code == 403
    assert client.get(f"/projects/{demo}/activities/{a1}/edit", headers=HX).status_code == 403
    assert client.post(f"/projects/{demo}/activities/{a1}/move", data={"direction": "up"}).status_code == 403


def test_moving_an_activity_answers_the_table_for_htmx_and_redirects_without(client, auth, demo, app):
    a15 = ids(app)["A1.5"]
    auth.login("manager")
    html = client.post(f"/projects/{demo}/activities/{a15}/move", headers=HX,
                       data={"direction": "up", "page_week": "2016-W47"}).get_data(as_text=True)
    assert html.lstrip().startswith('<table id="activity-table"')
    assert html.index(f'id="activity-{a15}"') < html.index(f'id="activity-{ids(app)["A1"]}"')
    response = client.post(f"/projects/{demo}/activities/{a15}/move", data={"direction": "down"})
    assert response.status_code == 303
    assert client.post(f"/projects/{demo}/activities/{a15}/move", data={"direction": "sideways"}).status_code == 400


def test_query_counts_of_the_activities_page_do_not_grow_with_activities_and_logs(client, auth, demo, app):
    auth.login("officer")
    small = warm_queries(app, client, f"/projects/{demo}/activities?week=2016-W47")
    with app.app_context():
        _, new_ids = add_activities(demo, 60, status="on_track")
        db.session.execute(insert(ProgressLog), [
            {"project_id": demo, "activity_id": aid, "iso_week": "2016-W47", "week_start": date(2016, 11, 21),
             "status": "on_track", "percent_complete": 10, "version": 1} for aid in new_ids[:30]])
        db.session.commit()
        assert db.session.execute(select(func.count()).select_from(Activity)).scalar() == 67
    with count_queries(app) as large:
        page = client.get(f"/projects/{demo}/activities?week=2016-W47").get_data(as_text=True)
    assert "Hoạt động 1<" in page and "(42 more of 67)" in page  # a page of 25; the rest a click away
    assert len(large) == len(small)
    with count_queries(app) as second:
        page = client.get(f"/projects/{demo}/activities?week=2016-W47&page=3").get_data(as_text=True)
    assert "Hoạt động 59" in page
    assert len(second) == len(small)
