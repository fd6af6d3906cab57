"""The week page: what is due, periods without actuals, queried evidence, and the week's summary."""

import re
from datetime import date, timedelta

from sqlalchemy import insert, select

from tests.helpers import HX, add_activities, count_queries, warm_queries
from tracker.extensions import db
from tracker.formatting import iso_week
from tracker.models import Activity, EvidenceItem, Indicator, IndicatorPeriod, ProgressLog, User
from tracker.progress import services


def activity_id(app, code):
    with app.app_context():
        return db.session.execute(select(Activity.id).where(Activity.code == code)).scalar_one()


def test_the_week_page_opens_on_this_week_clamped_into_the_project(client, auth, demo, app):
    auth.login("officer")
    with app.app_context():
        from tracker.models import Project

        expected = services.default_week(db.session.get(Project, demo))
    page = client.get(f"/projects/{demo}/week").get_data(as_text=True)
    assert f"<h1>Week {expected}" in page and expected == "2017-W52"
    # The demo's last week has content: activities still in progress, periods without actuals.
    assert "Activities due a log" in page and 'id="due-table"' in page
    assert "Indicator periods ended without an actual" in page and 'id="missing-actuals"' in page
    assert page.count("Enter the actual<span") == 12
    assert 'rel="prev" href="/projects/1/week/2017-W51"' in page and 'rel="next"' not in page
    assert 'aria-current="page"' in page and ">This week<" in page


def test_a_week_shows_its_due_activities_and_links_to_log_them(client, auth, demo, app):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/week/2016-W47").get_data(as_text=True)
    assert "Week 2016-W47 <span class=\"muted\">2016-11-21 to 2016-11-27</span>" in page
    due = page[page.index('id="due-table"'):page.index("</table>", page.index('id="due-table"'))]
    assert "Raise awareness for policy makers" in due and "Situation analysis report" in due
    assert "Policy dialogue on creative hubs" not in due  # completed
    a1 = activity_id(app, "A1")
    assert f'href="/projects/{demo}/activities/{a1}/log?week=2016-W47&amp;context=week"' in page
    assert "Every indicator period that has ended has its actual." in page
    assert "No evidence is queried." in page
    # The summary at the foot of the page comes when scrolled to (htmx), its links without JavaScript.
    summary = page[page.index('id="week-summary"'):]
    assert 'hx-get="/projects/1/week/2016-W47/summary" hx-trigger="revealed"' in summary
    assert 'href="/projects/1/week/2016-W47/summary"' in summary and "log-summary" not in summary
    fragment = client.get(f"/projects/{demo}/week/2016-W47/summary", headers=HX)
    text = fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.vary and "<html" not in text and text.lstrip().startswith('<section id="week-summary"')
    assert "No activity was logged for week 2016-W47 yet." in text and "hx-trigger" not in text
    assert 'rel="prev" href="/projects/1/week/2016-W46"' in page and 'rel="next" href="/projects/1/week/2016-W48"' in page


def test_a_logged_week_leaves_the_due_list_and_fills_the_summary(client, auth, demo, app):
    a1 = activity_id(app, "A1")
    auth.login("officer")
    data = {f"log-{a1}-{k}": v for k, v in {"week": "2016-W47", "status": "on_track", "percent_complete": "65",
                                            "done": "Đối thoại chính sách ở Huế, 24/11", "problems": "",
                                            "next_steps": "Báo cáo cho Bộ", "version": "", "context": "week"}.items()}
    client.post(f"/projects/{demo}/activities/{a1}/log", data=data)
    page = client.get(f"/projects/{demo}/week/2016-W47").get_data(as_text=True)
    due = page[page.index('id="due-table"'):page.index("</table>", page.index('id="due-table"'))]
    assert "Raise awareness" not in due and "Situation analysis report" in due
    summary = client.get(f"/projects/{demo}/week/2016-W47/summary", headers=HX).get_data(as_text=True)
    assert "Đối thoại chính sách ở Huế, 24/11" in summary and "Báo cáo cho Bộ" in summary
    assert "logged by Trần Văn Hùng" in summary and "On track, 65% complete" in summary
    printable = client.get(f"/projects/{demo}/week/2016-W47/summary").get_data(as_text=True)
    assert "KFIT-VNM-CI: progress in week 2016-W47" in printable and "Đối thoại chính sách ở Huế" in printable
    text = client.get(f"/projects/{demo}/week/2016-W47/summary.txt")
    assert text.mimetype == "text/plain" and "charset=utf-8" in text.content_type
    assert "Done: Đối thoại chính sách ở Huế, 24/11" in text.get_data(as_text=True)


def test_the_week_page_lists_evidence_the_auditor_queried(client, auth, demo, app):
    with app.app_context():
        auditor = db.session.execute(select(User).where(User.email == "auditor@demo.test")).scalar_one()
        item = db.session.execute(select(EvidenceItem).where(EvidenceItem.source == "UN Website")).scalar_one()
        item.review_state, item.review_note, item.reviewed_by_id = "queried", "Liên kết không mở được.", auditor.id
        db.session.commit()
    auth.login("officer")
    page = client.get(f"/projects/{demo}/week/2016-W47").get_data(as_text=True)
    section = page[page.index("Evidence queried by the auditor"):page.index('id="week-summary"')]
    assert "Creative hubs in Viet Nam receive spotlight" in section
    assert "Query from Phạm Quốc Bảo" in section and "Liên kết không mở được." in section


def test_weeks_outside_the_project_say_so_and_malformed_weeks_are_404(client, auth, demo):
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/week/2019-W10").get_data(as_text=True)
    assert "is outside the project period" in page and ">Log week<span" not in page
    assert client.get(f"/projects/{demo}/week/next-week").status_code == 404
    assert client.get(f"/projects/{demo}/week/2016-W60").status_code == 404
    picked = client.get(f"/projects/{demo}/week?week=2016-w47")  # the week picker
    assert picked.status_code == 302 and picked.location.endswith(f"/projects/{demo}/week/2016-W47")
    assert client.get(f"/projects/{demo}/week?week=someday").status_code == 404


def test_the_week_picker_and_readers(client, auth, demo):
    for role in ("liaison", "auditor", "manager"):
        auth.login(role)
        response = client.get(f"/projects/{demo}/week/2016-W47")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert ('>Log week<span' in page) == (role == "manager")
        assert 'type="week" id="week-picker"' in page
        auth.logout()


def test_week_pages_need_a_membership(client, demo, app):
    with app.app_context():
        from tracker.accounts.services import create_user

        create_user("stranger@example.test", "Người lạ", "a-long-password-1")
        db.session.commit()
    client.post("/login", data={"email": "stranger@example.test", "password": "a-long-password-1"})
    assert client.get(f"/projects/{demo}/week").status_code == 404
    assert client.get(f"/projects/{demo}/week/2016-W47/summary.txt").status_code == 404


def test_query_count_of_the_week_page_does_not_grow_with_data(client, auth, demo, app):
    auth.login("officer")
    small = warm_queries(app, client, f"/projects/{demo}/week/2017-W27")
    with app.app_context():
        result, activity_ids = add_activities(demo, 50, status="delayed")
        monday = date(2017, 7, 3)
        db.session.execute(insert(ProgressLog), [
            {"project_id": demo, "activity_id": aid, "iso_week": iso_week(monday - timedelta(weeks=w)),
             "week_start": monday - timedelta(weeks=w), "status": "delayed", "percent_complete": 10, "version": 1,
             "done": f"Tuần {w}"} for aid in activity_ids for w in range(4)])
        db.session.execute(insert(Indicator), [
            {"project_id": demo, "result_id": result, "code": f"X{i}", "title": f"Chỉ số {i}", "unit": "number",
             "ascending": True, "cumulative": True, "illustrative": False, "position": 50 + i} for i in range(40)])
        indicator_ids = db.session.execute(select(Indicator.id).where(Indicator.code.like("X%"))).scalars().all()
        db.session.execute(insert(IndicatorPeriod), [
            {"project_id": demo, "indicator_id": iid, "start_date": date(2017, 1, 1), "end_date": date(2017, 6, 30),
             "state": "draft", "version": 1} for iid in indicator_ids])
        db.session.commit()
    with count_queries(app) as large:
        page = client.get(f"/projects/{demo}/week/2017-W27").get_data(as_text=True)
    assert page.count("Enter the actual<span") == 25 and 'id="missing-actuals-more"' in page
    assert "The 25 that ended last of 46;" in page  # the 40 new periods and 6 of the demo's
    assert re.search(r'id="due-count"[^>]*>2<', page)  # A1, A1.3; the new ones were all logged
    assert len(large) == len(small)
    summary = client.get(f"/projects/{demo}/week/2017-W27/summary", headers=HX).get_data(as_text=True)
    assert summary.count('id="log-summary-') == 50 and "Showing the first 50 of 50 logs" not in summary


def test_the_weekly_log_links_evidence_with_ticked_boxes_not_a_ctrl_click_list(client, auth, demo, app):
    """Phones have no Ctrl key (issue 14): the log form's evidence is a searchable checkbox list."""
    from tracker.models import EvidenceItem, EvidenceLink

    a1 = activity_id(app, "A1")
    auth.login("officer")
    form = client.get(f"/projects/{demo}/activities/{a1}/log?week=2016-W47&context=week",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<select multiple" not in form and "Ctrl" not in form
    assert f'data-filter-list="log-{a1}-evidence-options"' in form  # the search box filters the list
    with app.app_context():
        items = db.session.execute(select(EvidenceItem.id).where(EvidenceItem.project_id == demo)
                                   .order_by(EvidenceItem.id).limit(2)).scalars().all()
    for item in items:
        assert f'type="checkbox" value="{item}"' in form
    data = {f"log-{a1}-{k}": v for k, v in {"week": "2016-W47", "status": "on_track", "percent_complete": "65",
                                            "done": "", "problems": "", "next_steps": "", "version": "",
                                            "context": "week"}.items()}
    data[f"log-{a1}-evidence"] = [str(item) for item in items]
    assert client.post(f"/projects/{demo}/activities/{a1}/log", data=data).status_code == 303
    with app.app_context():
        linked = set(db.session.execute(select(EvidenceLink.evidence_id).where(
            EvidenceLink.activity_id == a1, EvidenceLink.evidence_id.in_(items))).scalars())
    assert linked == set(items)
