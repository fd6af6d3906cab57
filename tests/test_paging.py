"""Large frameworks a page at a time: the overview and the logframe show a page of indicators
with the rest a click (or an htmx "load more") away; charts load when revealed; the printable
logframe streams every row."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select

from tests.helpers import HX, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod, ResultNode
from tracker.projects.services import FRAMEWORK_PAGE_SIZE, PORTFOLIO_PAGE_SIZE


@pytest.fixture
def big(app, demo):
    """The demo plus 70 indicators under result 1.1.2 (each with two periods): 82 in all."""
    with app.app_context():
        result = db.session.execute(select(ResultNode.id).where(ResultNode.code == "1.1.2")).scalar_one()
        db.session.execute(insert(Indicator), [
            {"project_id": demo, "result_id": result, "code": f"1.1.2.{i}", "title": f"Chỉ số {i:02d}", "unit": "number",
             "ascending": True, "cumulative": True, "illustrative": False, "position": 50 + i,
             "target_value": 10, "means_of_verification": f"Báo cáo {i:02d}"} for i in range(70)])
        ids = db.session.execute(select(Indicator.id).where(Indicator.title.like("Chỉ số %"))).scalars().all()
        db.session.execute(insert(IndicatorPeriod), [
            {"project_id": demo, "indicator_id": iid, "start_date": date(2016, 1 + 6 * h, 1),
             "end_date": date(2016, 6 + 6 * h, 30 if h == 0 else 31), "target": 2, "actual": 1, "state": "draft",
             "version": 1} for iid in ids for h in (0, 1)])
        db.session.commit()
    return demo


def shown(page: str) -> list[str]:
    return re.findall(r"Chỉ số (\d\d)", page)


def test_the_overview_loads_its_results_when_they_scroll_into_view(client, auth, big):
    """The results are below the fold: the page holds a placeholder htmx fills when revealed,
    with a plain link to the page that has them for use without JavaScript."""
    auth.login("officer")
    page = client.get(f"/projects/{big}").get_data(as_text=True)
    assert int(re.search(r"(\d+) indicators, 25 at a time", page).group(1)) == 70 + 6  # the demo has 6
    assert 'id="status-counts"' in page and 'id="dashboard-' in page
    assert '<li id="indicator-progress-' not in page and not shown(page)
    slot = re.search(r'<div class="load-more" id="results-more-1" hx-get="([^"]+)" hx-trigger="revealed" '
                     r'hx-swap="outerHTML"><p><a href="([^"#]+)#results-h">Show the results and indicators</a>', page)
    assert slot and slot.group(1) == slot.group(2) == f"/projects/{big}?page=1"
    fragment = client.get(slot.group(1), headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"] and "<html" not in html
    assert html.lstrip().startswith('<article class="result level-objective"')
    assert html.count('<li id="indicator-progress-') == 25 and 'id="status-counts"' not in html
    plain = client.get(slot.group(2)).get_data(as_text=True)  # without JavaScript
    assert "<html" in plain and 'id="status-counts"' in plain and plain.count('<li id="indicator-progress-') == 25
    assert "results-more-1" not in plain and shown(plain) == shown(html)


def test_a_visitor_without_a_role_gets_no_results_fragment(client, auth, demo, other_project):
    auth.login("manager")  # of the demo only
    assert client.get(f"/projects/{other_project.id}?page=1", headers=HX).status_code == 404
    assert client.get(f"/projects/{other_project.id}?page=1").status_code == 404
    anonymous = client.application.test_client()
    assert anonymous.get(f"/projects/{demo}?page=1", headers=HX).status_code in (302, 401)


def test_the_overview_shows_one_page_of_indicators_and_loads_more_with_htmx(client, auth, big):
    auth.login("officer")
    page = client.get(f"/projects/{big}?page=1").get_data(as_text=True)
    total = int(re.search(r"(\d+) indicators, 25 at a time", page).group(1))
    assert total == 70 + 6 and FRAMEWORK_PAGE_SIZE == 25  # the demo has 6
    first = shown(page)
    assert page.count('<li id="indicator-progress-') == 25 and "Chỉ số 69" not in page
    more = re.search(r'<a href="([^"#]+)#results-h" hx-get="([^"]+)" hx-target="closest p" hx-swap="outerHTML">'
                     r"Show the next 25 indicators</a>", page)
    assert more and more.group(1) == more.group(2) == f"/projects/{big}?page=2"
    fragment = client.get(more.group(2), headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in html and "(continued)" in html  # result 1.1.2 goes on from page 1
    second = shown(html)
    assert html.count('<li id="indicator-progress-') == 25 and not set(first) & set(second)
    assert f'hx-get="/projects/{big}?page=3"' in html
    rest = [client.get(f"/projects/{big}?page={n}", headers=HX).get_data(as_text=True) for n in (3, 4)]
    assert "Show the next" in rest[0] and "Show the next" not in rest[-1]  # page 4 is the last
    assert sorted(first + second + shown(rest[0]) + shown(rest[1])) == [f"{i:02d}" for i in range(70)]
    # Without JavaScript the same link is a page of its own, with a way back.
    plain = client.get(f"/projects/{big}?page=2").get_data(as_text=True)
    assert "<html" in plain and shown(plain) == second and "← Indicators before 26" in plain


def test_the_overview_page_costs_the_same_queries_whatever_the_page(client, auth, big, app):
    auth.login("manager")
    first = warm_queries(app, client, f"/projects/{big}?page=1")
    with count_queries(app) as middle:
        client.get(f"/projects/{big}?page=2")
    assert len(middle) <= len(first) + 1  # + the question "does page 2 continue a result?"


def test_overview_charts_load_when_revealed(client, auth, big):
    auth.login("liaison")
    page = client.get(f"/projects/{big}?page=1", headers=HX).get_data(as_text=True)
    slots = re.findall(r'hx-get="(/projects/\d+/indicators/\d+/chart)" hx-trigger="revealed"', page)
    assert slots and "target-chart" not in page
    chart = client.get(slots[-1], headers=HX).get_data(as_text=True)
    assert '<figure class="target-chart">' in chart and "<svg" in chart


def test_a_chart_of_another_projects_indicator_is_404(client, auth, demo, other_project):
    auth.login("manager")
    with client.application.app_context():
        other = db.session.execute(select(IndicatorPeriod.indicator_id)
                                   .where(IndicatorPeriod.id == other_project.period_id)).scalar()
    assert client.get(f"/projects/{demo}/indicators/{other}/chart").status_code == 404


def test_the_logframe_is_paged_and_its_rows_load_more_with_htmx(client, auth, big):
    auth.login("liaison")
    page = client.get(f"/projects/{big}/logframe").get_data(as_text=True)
    assert "Chỉ số 69" not in page and "Báo cáo 69" not in page
    more = re.search(r'<tr class="load-more" id="logframe-more-2"><td colspan="4"><a href="([^"]+)" '
                     r'hx-get="([^"]+)" hx-target="closest tr" hx-swap="outerHTML">', page)
    assert more and more.group(2) == f"/projects/{big}/logframe?page=2"
    rows = client.get(more.group(2), headers=HX).get_data(as_text=True)
    assert rows.lstrip().startswith("<tr") and "<html" not in rows
    rest = "".join(client.get(f"/projects/{big}/logframe?page={n}", headers=HX).get_data(as_text=True) for n in (2, 3, 4))
    assert "Báo cáo 69" in rest and "logframe-more-5" not in rest and "logframe-more-4" in rest
    assert f'href="/projects/{big}/logframe?all=1"' in page


def test_the_printable_logframe_streams_every_row(client, auth, big):
    auth.login("liaison")
    response = client.get(f"/projects/{big}/logframe?all=1")
    assert response.status_code == 200 and response.is_streamed
    chunks = iter(response.response)
    head = next(chunks)
    assert b"<html" in head and "Chỉ số 69".encode() not in head  # the first bytes leave before the last row
    page = (head + b"".join(chunks)).decode("utf-8")
    assert page.rstrip().endswith("</html>")
    assert sorted(set(shown(page))) == [f"{i:02d}" for i in range(70)]
    assert "Decision No. 1755/QĐ-TTg" in page and "Evidence on file" in page  # the demo's rows too
    assert "Show the next" not in page


def test_the_printable_logframe_is_compressed_as_it_streams(client, auth, big):
    import gzip

    auth.login("liaison")
    response = client.get(f"/projects/{big}/logframe?all=1", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip" and "Content-Length" not in response.headers
    assert "Chỉ số 69" in gzip.decompress(response.get_data()).decode("utf-8")


def test_the_portfolio_lists_25_projects_at_a_time_and_loads_more_with_htmx(client, auth, app, demo):
    from tracker.models import Project

    with app.app_context():
        db.session.execute(insert(Project), [
            {"code": f"PF-{n:03d}", "title": f"Dự án {n:03d}", "grant_cents": 100_00, "currency": "USD",
             "start_date": date(2015, 1, 1), "end_date": date(2015, 12, 31)} for n in range(40)])
        db.session.commit()
    auth.login("admin")  # sees every project: the demo, the 40 and any other
    page = client.get("/").get_data(as_text=True)
    assert PORTFOLIO_PAGE_SIZE == 25 and page.count('<li class="card"') == 25
    more = re.search(r'<li class="load-more" id="projects-more-2"><a href="/\?page=2" hx-get="/\?page=2" '
                     r'hx-target="closest li" hx-swap="outerHTML">Show the next (\d+) projects</a>', page)
    assert more
    fragment = client.get("/?page=2", headers=HX)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "HX-Request" in fragment.headers["Vary"]
    assert html.count('<li class="card"') == int(more.group(1)) and "load-more" not in html
    ids = set(re.findall(r'<li class="card" id="project-(\d+)"', page + html))
    assert len(ids) == 25 + int(more.group(1)) >= 41
    assert "Dự án 039" in page + html and "Dự án 000" in page + html
    with count_queries(app) as first:
        client.get("/")
    with count_queries(app) as second:
        client.get("/?page=2")
    assert len(first) == len(second)


def test_the_registers_coverage_loads_after_the_page(client, auth, demo):
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    slot = re.search(r'<section id="coverage"[^>]*hx-get="([^"]+)" hx-trigger="load" hx-swap="outerHTML">', page)
    assert slot and 'id="coverage-money"' not in page
    figures = client.get(slot.group(1), headers=HX).get_data(as_text=True)
    assert figures.lstrip().startswith('<section id="coverage"') and 'id="coverage-money"' in figures
    inline = client.get(f"/projects/{demo}/evidence?coverage=1").get_data(as_text=True)  # without JavaScript
    assert 'id="coverage-money"' in inline and f'href="/projects/{demo}/evidence?coverage=1"' in page


def test_the_register_filters_spending_by_budget_line_not_expenditure_by_expenditure(client, auth, demo, app):
    from tracker.models import EvidenceItem, EvidenceLink, Expenditure

    with app.app_context():
        items = db.session.execute(select(EvidenceItem.id).where(EvidenceItem.project_id == demo)
                                   .order_by(EvidenceItem.id).limit(3)).scalars().all()
        spent = db.session.execute(select(Expenditure.id, Expenditure.line_id).where(Expenditure.project_id == demo)
                                   .order_by(Expenditure.line_id, Expenditure.id)).all()
        other = next(row for row in spent if row.line_id != spent[0].line_id)
        db.session.execute(insert(EvidenceLink), [
            {"project_id": demo, "evidence_id": items[0], "expenditure_id": spent[0].id},
            {"project_id": demo, "evidence_id": items[1], "expenditure_id": spent[0].id},
            {"project_id": demo, "evidence_id": items[2], "expenditure_id": other.id}])
        db.session.commit()
        linked = db.session.execute(select(EvidenceLink.evidence_id, Expenditure.id, Expenditure.line_id)
                                    .join(Expenditure, EvidenceLink.expenditure_id == Expenditure.id)
                                    .where(EvidenceLink.project_id == demo)).all()
    assert linked, "the demo links evidence to expenditures"
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    assert 'value="expenditure:' not in page
    line = linked[0].line_id
    assert f'<option value="line:{line}">Spending on budget line ' in page
    results = client.get(f"/projects/{demo}/evidence?link=line:{line}", headers=HX).get_data(as_text=True)
    shown_ids = {int(i) for i in re.findall(r'<tr id="evidence-(\d+)"', results)}
    assert shown_ids == {row.evidence_id for row in linked if row.line_id == line}
    # A bookmarked filter on one expenditure still works and shows as chosen.
    chosen = client.get(f"/projects/{demo}/evidence?link=expenditure:{linked[0][1]}").get_data(as_text=True)
    assert f'<option value="expenditure:{linked[0][1]}" selected>' in chosen


# --------------------------------------------------------------------------------------------- expenditures, auditor


@pytest.fixture
def spending(app, demo):
    """The demo plus 120 expenditures (vouchers P-00..P-119, newest the highest) on one line, without
    evidence, and 60 pending evidence items (Hồ sơ 00..59)."""
    from tracker.models import EvidenceItem, Expenditure
    with app.app_context():
        line_id = db.session.execute(select(Expenditure.line_id)).scalars().first()
        db.session.execute(insert(Expenditure), [
            {"project_id": demo, "line_id": line_id, "voucher": f"P-{i:02d}", "amount_cents": 100 + i,
             "spent_on": date(2016, 1, 1) + timedelta(days=i), "status": "disbursed", "version": 1}
            for i in range(120)])
        for i in range(60):
            db.session.add(EvidenceItem(project_id=demo, kind="receipt", title=f"Hồ sơ {i:02d}"))
        db.session.commit()
        counts = {
            "expenditures": db.session.execute(select(func.count()).select_from(Expenditure)
                                               .where(Expenditure.project_id == demo)).scalar(),
            "line": db.session.execute(select(func.count()).select_from(Expenditure)
                                       .where(Expenditure.project_id == demo, Expenditure.line_id == line_id)).scalar(),
            "pending": db.session.execute(select(func.count()).select_from(EvidenceItem).where(
                EvidenceItem.project_id == demo, EvidenceItem.review_state == "pending",
                EvidenceItem.deleted_at.is_(None))).scalar(),
            "line_id": line_id}
    return demo, counts


def files(html: str) -> set[str]:
    return set(re.findall(r"Hồ sơ (\d\d)", html))


def more_link(html: str, row_id: str) -> str:
    found = re.search(rf'<tr class="load-more" id="{row_id}-more-\d+"><td colspan="\d"><a href="[^"]+" '
                      r'hx-get="([^"]+)" hx-target="closest tr" hx-swap="outerHTML">', html)
    return found and found.group(1).replace("&amp;", "&")


def test_expenditures_show_50_newest_first_and_load_the_rest_with_htmx(client, auth, spending):
    project, counts = spending
    auth.login("manager")
    page = client.get(f"/projects/{project}/expenditures").get_data(as_text=True)
    total = counts["expenditures"]
    assert total > 100
    assert f"{total} expenditures, newest first, 50 at a time" in page
    first = re.findall(r'<tr id="expenditure-(\d+)">', page)
    assert len(first) == 50
    assert "P-119" in page and "P-00" not in page  # newest first
    url = more_link(page, "expenditures")
    assert url == f"/projects/{project}/expenditures?page=2"
    seen = list(first)
    while url:
        fragment = client.get(url, headers=HX)
        html = fragment.get_data(as_text=True)
        assert fragment.status_code == 200 and "<html" not in html and "HX-Request" in fragment.headers["Vary"]
        rows = re.findall(r'<tr id="expenditure-(\d+)">', html)
        assert 0 < len(rows) <= 50
        seen += rows
        url = more_link(html, "expenditures")
    assert len(seen) == len(set(seen)) == total and "P-00" in html
    # Without JavaScript: a page of its own, with the pager.
    plain = client.get(f"/projects/{project}/expenditures?page=2").get_data(as_text=True)
    assert "<html" in plain and re.findall(r'<tr id="expenditure-(\d+)">', plain) == seen[50:100]
    assert "Page 2 of" in plain and "Newer" in plain


def test_the_expenditures_line_filter_keeps_working_with_paging(client, auth, spending):
    project, counts = spending
    auth.login("manager")
    line = counts["line_id"]
    page = client.get(f"/projects/{project}/expenditures?line={line}").get_data(as_text=True)
    assert f"{counts['line']} expenditures" in page
    assert len(re.findall(r'<tr id="expenditure-', page)) == min(50, counts["line"])
    url = more_link(page, "expenditures")
    assert f"line={line}" in url and "page=2" in url
    html = client.get(url, headers=HX).get_data(as_text=True)
    assert len(re.findall(r'<tr id="expenditure-', html)) == min(50, counts["line"] - 50)


def test_the_expenditures_query_count_does_not_grow_with_rows(app, client, auth, demo, spending):
    project, _counts = spending
    auth.login("manager")
    first = warm_queries(app, client, f"/projects/{project}/expenditures")
    with count_queries(app) as second:
        client.get(f"/projects/{project}/expenditures?page=2")
    assert len(second) == len(first)


def test_the_auditor_workspace_pages_its_lists_and_counts_them_all(client, auth, spending):
    project, counts = spending
    auth.login("auditor")
    page = client.get(f"/projects/{project}/auditor").get_data(as_text=True)
    assert f'Evidence waiting for review <span class="muted" id="pending-count">({counts["pending"]})</span>' in page
    pending_first = len(files(page))
    assert pending_first == 25 - (counts["pending"] - 60)  # the demo's pending items come first (oldest)
    # Spending without evidence is below the fold: a placeholder that loads it when revealed, with a
    # plain link to the list's own page without JavaScript.
    slot = re.search(r'<section id="auditor-unbacked" aria-labelledby="unbacked-h" hx-get="([^"]+)" '
                     r'hx-trigger="revealed" hx-swap="outerHTML">\s*<h2 id="unbacked-h">[^<]+</h2>\s*'
                     r'<p><a href="([^"]+)">', page)
    assert slot and slot.group(1) == slot.group(2) == f"/projects/{project}/auditor/unbacked"
    assert '<tr id="unbacked-' not in page
    section = client.get(slot.group(1), headers=HX).get_data(as_text=True)
    assert "<html" not in section and section.lstrip().startswith('<section id="auditor-unbacked"')
    unbacked_total = int(re.search(r'Expenditures without evidence <span class="muted">\((\d+)\)', section).group(1))
    assert unbacked_total >= 120
    assert len(re.findall(r'<tr id="unbacked-', section)) == 25
    assert "P-119" in section and "P-00" not in section  # newest first
    # "Load more": the next rows of that list only, to the last.
    url = more_link(section, "unbacked")
    assert url == f"/projects/{project}/auditor/unbacked?page=2&rows=1"
    seen = re.findall(r'<tr id="unbacked-(\d+)"', section)
    while url:
        html = client.get(url, headers=HX).get_data(as_text=True)
        assert "<html" not in html and "<section" not in html and "Hồ sơ" not in html
        seen += re.findall(r'<tr id="unbacked-(\d+)"', html)
        url = more_link(html, "unbacked")
    assert "P-00" in html and len(seen) == len(set(seen)) == unbacked_total
    # Without JavaScript the "load more" link is the list's own page, the next rows in a whole page.
    plain = client.get(f"/projects/{project}/auditor/unbacked?page=2").get_data(as_text=True)
    assert "<html" in plain and "Back to the auditor" in plain
    assert set(re.findall(r'<tr id="unbacked-(\d+)"', plain)) == set(seen[25:50])
    url = more_link(page, "pending")
    html = client.get(url, headers=HX).get_data(as_text=True)
    assert "<html" not in html and len(files(html)) == 25 and not files(html) & files(page)
    # Without JavaScript, ?pending=2 is the workspace with the queue's second page; counts unchanged.
    plain = client.get(f"/projects/{project}/auditor?pending=2").get_data(as_text=True)
    assert "<html" in plain and files(plain) == files(html)
    assert f'Evidence waiting for review <span class="muted" id="pending-count">({counts["pending"]})</span>' in plain


def test_the_auditor_workspace_lists_load_only_for_the_auditor(client, auth, spending):
    project, _counts = spending
    for role, status in (("auditor", 200), ("manager", 403), ("officer", 403)):
        auth.login(role)
        for name in ("queried", "unbacked", "overspends", "rates"):
            assert client.get(f"/projects/{project}/auditor/{name}", headers=HX).status_code == status, (role, name)
        auth.logout()
    auth.login("auditor")
    assert client.get(f"/projects/{project}/auditor/nothing", headers=HX).status_code == 404
    assert client.get(f"/projects/{project + 1000}/auditor/unbacked", headers=HX).status_code == 404


def test_the_queried_list_loads_when_revealed_and_pages(app, client, auth, spending):
    from tracker.models import EvidenceItem
    project, _counts = spending
    with app.app_context():  # 30 queried items: a page of 25 and 5 more
        for item in db.session.execute(select(EvidenceItem).where(EvidenceItem.title.like("Hồ sơ %"))
                                       .order_by(EvidenceItem.title).limit(30)).scalars():
            item.review_state, item.review_note = "queried", f"Which {item.title}?"
        db.session.commit()
    auth.login("auditor")
    page = client.get(f"/projects/{project}/auditor").get_data(as_text=True)
    assert 'Queried, waiting for an answer <span class="muted" id="queried-count">(30)</span>' in page
    slot = re.search(r'<div id="queried-list" hx-get="([^"]+)" hx-trigger="revealed" hx-swap="outerHTML">\s*'
                     r'<p><a href="([^"]+)">Show the queried items</a>', page)
    assert slot and slot.group(1) == slot.group(2) == f"/projects/{project}/auditor/queried"
    html = client.get(slot.group(1), headers=HX).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="queried-list">') and "Which Hồ sơ" in html
    first = re.findall(r'<tr id="review-(\d+)"', html)
    assert len(first) == 25 and html.count('name="context" value="auditor"') == 25
    more = client.get(more_link(html, "queried"), headers=HX).get_data(as_text=True)
    rest = re.findall(r'<tr id="review-(\d+)"', more)
    assert len(rest) == 5 and not set(rest) & set(first) and "load-more" not in more
    plain = client.get(f"/projects/{project}/auditor/queried").get_data(as_text=True)  # without JavaScript
    assert "<html" in plain and 'id="queried-count">(30)</span>' in plain
    assert re.findall(r'<tr id="review-(\d+)"', plain) == first
