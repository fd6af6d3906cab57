"""The activities page and the week's due list a page at a time: the first 25 rows, the rest a
click (or an htmx "load more" that appends the next rows in place) away; the counters are the
true totals; query counts stay flat; the inline log form still swaps its row and the counters;
the week's summary comes when revealed (htmx), the printable summary has every log."""

import re
from datetime import date

from sqlalchemy import insert, select

from tests.helpers import HX, add_activities, count_queries, warm_queries
from tracker.extensions import db
from tracker.models import Activity, ProgressLog
from tracker.progress.services import ACTIVITY_PAGE_SIZE

WEEK = "2016-W47"
PAGE = ACTIVITY_PAGE_SIZE


def last_page(total: int) -> int:
    return -(-total // PAGE)


def shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"Hoạt động (\d+)<", page)]


def add_many(app, demo, count=120, logged=30):
    with app.app_context():
        _, ids = add_activities(demo, count, status="on_track")
        db.session.execute(insert(ProgressLog), [
            {"project_id": demo, "activity_id": aid, "iso_week": WEEK, "week_start": date(2016, 11, 21),
             "status": "on_track", "percent_complete": 10, "version": 1} for aid in ids[:logged]])
        db.session.commit()
        total = db.session.execute(select(Activity.id)).scalars().all()
        return len(total), sorted(ids[logged:])  # the ids without a log for WEEK


def test_the_activities_page_shows_a_page_of_rows_and_loads_the_rest(client, auth, demo, app):
    auth.login("officer")
    total, _ = add_many(app, demo)
    first = client.get(f"/projects/{demo}/activities?week={WEEK}").get_data(as_text=True)
    assert first.count('class="activity-row') == PAGE
    assert f"({total - PAGE} more of {total})" in first
    assert f'href="/projects/{demo}/activities?week={WEEK}&amp;page=2"' in first
    assert 'hx-target="closest tbody"' in first
    # The counters are the true totals, not the page's.
    assert f"{total} in all" in first
    seen = set(shown(first))
    # htmx "load more": the next rows only (no layout), and the next "load more".
    more = client.get(f"/projects/{demo}/activities?week={WEEK}&page=2", headers=HX)
    text = more.get_data(as_text=True)
    assert "HX-Request" in more.vary and "<html" not in text and text.lstrip().startswith("<tbody")
    assert text.count('class="activity-row') == PAGE and 'id="activities-more-3"' in text
    assert "(continued)" in text  # result 1.2.2 runs on from page 1
    seen |= set(shown(text))
    # Without JavaScript the link opens the page's rows in the full page, with a way back.
    last = last_page(total)
    for page in range(3, last + 1):
        plain = client.get(f"/projects/{demo}/activities?week={WEEK}&page={page}").get_data(as_text=True)
        assert f"Previous {PAGE} activities" in plain and f"{total} in all" in plain
        seen |= set(shown(plain))
    assert plain.count('class="activity-row') == total - (last - 1) * PAGE and "load-more" not in plain
    assert seen == set(range(120))
    # Past the end or malformed: the last or the first page, never an error.
    assert client.get(f"/projects/{demo}/activities?page=999").status_code == 200
    assert client.get(f"/projects/{demo}/activities?page=x").status_code == 200


def test_the_weeks_due_list_is_paged_and_its_counter_is_the_total(client, auth, demo, app):
    auth.login("officer")
    before = client.get(f"/projects/{demo}/week/{WEEK}").get_data(as_text=True)
    due_before = int(re.search(r'id="due-count" class="due-count">(\d+)<', before).group(1))
    add_many(app, demo)
    page = client.get(f"/projects/{demo}/week/{WEEK}").get_data(as_text=True)
    due = due_before + 90  # 120 on track, 30 of them logged
    assert f'id="due-count" class="due-count">{due}<' in page
    table = page[page.index('id="due-table"'):page.index("</table>", page.index('id="due-table"'))]
    assert table.count('class="activity-row') == PAGE
    assert f"({due - PAGE} more of {due})" in table
    more = client.get(f"/projects/{demo}/week/{WEEK}?page=2", headers=HX).get_data(as_text=True)
    assert "<html" not in more and more.count('class="activity-row') == PAGE and 'id="due-more-3"' in more
    last = last_page(due)
    more = client.get(f"/projects/{demo}/week/{WEEK}?page={last}", headers=HX).get_data(as_text=True)
    assert more.count('class="activity-row') == due - (last - 1) * PAGE and "load-more" not in more
    plain = client.get(f"/projects/{demo}/week/{WEEK}?page=2").get_data(as_text=True)
    assert f"Back to the first {PAGE}" in plain and "Summary of week" in plain


def test_query_counts_stay_flat_on_every_page(client, auth, demo, app):
    auth.login("officer")
    small_activities = warm_queries(app, client, f"/projects/{demo}/activities?week={WEEK}")
    small_week = warm_queries(app, client, f"/projects/{demo}/week/{WEEK}")
    add_many(app, demo, count=200, logged=50)
    for url, small in ((f"/projects/{demo}/activities?week={WEEK}", small_activities),
                       (f"/projects/{demo}/activities?week={WEEK}&page=3", small_activities),
                       (f"/projects/{demo}/week/{WEEK}", small_week),
                       (f"/projects/{demo}/week/{WEEK}?page=2", small_week)):
        with count_queries(app) as large:
            assert client.get(url).status_code == 200
        assert len(large) == len(small), url


def test_logging_a_row_of_a_later_page_swaps_the_row_and_the_true_counters(client, auth, demo, app):
    auth.login("officer")
    total, ids = add_many(app, demo)
    target = ids[-1]  # not logged yet, on a later page
    form = client.get(f"/projects/{demo}/activities/{target}/log?week={WEEK}&context=activities", headers=HX)
    assert form.status_code == 200 and f'id="activity-{target}"' in form.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.get_data(as_text=True))
    data = {f"log-{target}-{k}": v for k, v in {"week": WEEK, "status": "on_track", "percent_complete": "20",
                                                 "done": "Xong", "context": "activities", "version": ""}.items()}
    if token:
        data["csrf_token"] = token.group(1)
    answer = client.post(f"/projects/{demo}/activities/{target}/log", data=data, headers=HX)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200, text[:500]
    assert f'id="activity-{target}"' in text and 'id="activity-counters"' in text and "hx-swap-oob" in text
    assert f"{total} in all" in text and 'id="logged-count">31<' in text


def test_the_week_page_shows_the_first_logs_and_links_to_the_full_summary(client, auth, demo, app):
    auth.login("officer")
    add_many(app, demo, count=120, logged=60)
    page = client.get(f"/projects/{demo}/week/{WEEK}").get_data(as_text=True)
    placeholder = page[page.index('id="week-summary"'):]
    assert 'hx-trigger="revealed"' in placeholder and 'class="log-summary"' not in placeholder
    summary = client.get(f"/projects/{demo}/week/{WEEK}/summary", headers=HX).get_data(as_text=True)
    assert summary.count('class="log-summary"') == 50 and 'id="week-summary-more"' in summary
    assert re.search(r"Showing the first 50 of (\d+) logs", summary)
    full = client.get(f"/projects/{demo}/week/{WEEK}/summary").get_data(as_text=True)
    assert full.count('class="log-summary"') >= 60


def test_the_week_page_lists_the_last_ended_periods_without_actual_and_their_total(client, auth, demo, app):
    from tracker.progress import weeks

    auth.login("officer")
    with app.app_context():
        from tracker.models import Project

        project = db.session.get(Project, demo)
        every = weeks.periods_without_actual(project, "2017-W52")
        first, total = weeks.periods_without_actual_page(project, "2017-W52", limit=5)
        assert total == len(every) == 12 and [p.id for p in first] == [p.id for p in every[:5]]
    page = client.get(f"/projects/{demo}/week/2017-W52").get_data(as_text=True)
    assert page.count("Enter the actual<span") == 12 and 'id="missing-actuals-more"' not in page
