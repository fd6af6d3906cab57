"""The indicator grid with more reporting periods than fit a screen (issue 15): one calendar year
of periods at a time, links to the other years, progress to date over every period, and the
cells the page writes are the cells a save sends back."""

import re
from datetime import date

import pytest
from sqlalchemy import insert, select

from tests.helpers import HX, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod, ResultNode


def _months(year):
    for month in range(1, 13):
        end = date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)
        yield date(year, month, 1), date.fromordinal(end.toordinal() - 1)


@pytest.fixture
def monthly(app, demo):
    """An indicator reported monthly over 2016-2017 (24 periods; the demo's are half-years), with
    an actual of 1 in each month of 2016: the grid then has 28 period columns."""
    with app.app_context():
        result = db.session.execute(select(ResultNode.id).where(ResultNode.project_id == demo,
                                                                ResultNode.code == "1.1.2")).scalar_one()
        iid = db.session.execute(insert(Indicator).returning(Indicator.id), [
            {"project_id": demo, "result_id": result, "code": "1.1.2.m", "title": "Tin bài hằng tháng",
             "unit": "number", "ascending": True, "cumulative": True, "illustrative": False, "position": 99,
             "target_value": 24}]).scalar_one()
        db.session.execute(insert(IndicatorPeriod), [
            {"project_id": demo, "indicator_id": iid, "start_date": start, "end_date": end, "target": 1,
             "actual": 1 if year == 2016 else None, "state": "draft", "version": 1}
            for year in (2016, 2017) for start, end in _months(year)])
        db.session.commit()
        return iid


def _column_labels(page: str) -> list[str]:
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return re.findall(r'<th scope="col" class="period-col"[^>]*><abbr title="[^"]*">([^<]+)</abbr>', head)


def test_a_grid_with_few_periods_shows_them_all_without_year_links(client, auth, demo):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    assert _column_labels(page) == ["2016 H1", "2016 H2", "2017 H1", "2017 H2"]
    assert "grid-years" not in page


def test_many_periods_are_shown_a_year_at_a_time_with_links_to_the_other_years(client, auth, demo, app, monthly):
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    # The latest year already begun opens (the project ran 2016-2017).
    assert sorted(_column_labels(page)) == ["2017 H1", "2017 H2"] + [f"2017-{m:02d}" for m in range(1, 13)]
    assert '<strong aria-current="page">2017</strong>' in page
    assert f'<a href="/projects/{demo}/indicators?year=2016" rel="prev">2016</a>' in page
    assert "Targets and actuals by reporting period, 2017" in page  # the table's caption says which
    assert 'name="year" value="2017"' in page  # the result filter keeps the year
    # Progress to date counts every period, not only the year shown: 12 monthly actuals of 1.
    summary = re.search(rf'<td id="summary-{monthly}" [^>]*>(.*?)</td>', page, re.S).group(1)
    assert '<span class="to-date">12</span>' in summary

    earlier = client.get(f"/projects/{demo}/indicators?year=2016").get_data(as_text=True)
    assert sorted(_column_labels(earlier)) == ["2016 H1", "2016 H2"] + [f"2016-{m:02d}" for m in range(1, 13)]
    assert f'<a href="/projects/{demo}/indicators?year=2017" rel="next">2017</a>' in earlier
    with app.app_context():
        january = db.session.execute(select(IndicatorPeriod.id).where(IndicatorPeriod.indicator_id == monthly)
                                  .order_by(IndicatorPeriod.start_date)).scalars().first()
    assert f'id="i{january}a"' in earlier and f'id="i{january}a"' not in page
    assert "Actual of 1.1.2.m Tin bài hằng tháng, 2016-01 (a number)</label>" in earlier


@pytest.mark.parametrize("year", ["1999", "abc", ""])
def test_a_year_without_periods_opens_the_default_year(client, auth, demo, monthly, year):
    auth.login("liaison")
    page = client.get(f"/projects/{demo}/indicators?year={year}").get_data(as_text=True)
    assert '<strong aria-current="page">2017</strong>' in page and "2016-01" not in _column_labels(page)


def test_the_query_count_does_not_grow_with_the_periods(client, auth, demo, app, monthly):
    auth.login("manager")
    url = f"/projects/{demo}/indicators"
    one_year = warm_queries(app, client, url + "?year=2016")
    with count_queries(app) as other_year:
        client.get(url + "?year=2017")
    with count_queries(app) as filtered:
        client.get(url + "?year=2017&result=1")
    assert len(other_year) == len(one_year) and len(filtered) <= len(one_year) + 1


def test_the_cells_a_save_sends_back_are_the_cells_the_grid_wrote(client, auth, demo, app):
    """The grid page writes its cells a row at a time and a save sends one back (grid_cells.py
    for both): saving the value a cell already holds returns the same HTML, with the new version."""
    auth.login("officer")
    page = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    for match in re.finditer(r'<td id="cell-(\d+)-actual" class="cell">(.*?)</td>', page):
        if "<input" in match.group(2):
            break
    pid, cell = match.group(1), match.group(0)
    value = re.search(r'value="([^"]*)"', cell).group(1)
    version = int(re.search(r'data-v="(\d+)"', cell).group(1))
    response = client.post(f"/projects/{demo}/indicators/periods/{pid}/actual", headers=HX,
                           data={"value": value, "version": version, "layout": "grid"})
    sent = response.get_data(as_text=True).lstrip()
    assert response.status_code == 200
    assert sent.split("</td>", 1)[0] + "</td>" == cell.replace(f'data-v="{version}"', f'data-v="{version + 1}"')
    summary = re.search(r'<td id="summary-\d+" class="grid-summary" rowspan="2">.*?</td>', page, re.S).group(0)
    assert 'rowspan="2" hx-swap-oob="true">' in sent and "</span></td>" in summary


def test_the_period_page_and_a_save_without_javascript_lead_back_to_the_periods_year(client, auth, demo, app, monthly):
    """The grid opens on 2017; a 2016 period's page links back to 2016, and a save made there
    (no JavaScript, its referrer the period page) returns to 2016 too, at the cell."""
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.indicator_id == monthly)
                                    .order_by(IndicatorPeriod.start_date)).scalars().first()
        period_id, version = period.id, period.version
    auth.login("officer")
    page_url = f"/projects/{demo}/indicators/periods/{period_id}"
    page = client.get(page_url).get_data(as_text=True)
    assert f'href="/projects/{demo}/indicators?year=2016#cell-{period_id}-actual"' in page
    saved = client.post(f"{page_url}/actual", data={"value": "3", "version": version},
                        headers={"Referer": f"http://localhost{page_url}"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"/projects/{demo}/indicators?year=2016#cell-{period_id}-actual")
    assert "2016-01" in client.get(saved.headers["Location"]).get_data(as_text=True)
