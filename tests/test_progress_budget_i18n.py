"""The progress and budget areas in either language (issue 12): activity statuses and budget
categories are read in English or Vietnamese whatever the interface speaks (a workbook may be
in the other language), English messages keep their words, and the week, activities, budget
and expenditure pages and the plain-text week summary follow the person's language.

The Vietnamese words are taken from the catalogue (``force_locale("vi")``) rather than written
here, so the tests follow the translators' choices."""

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tracker.extensions import db
from tracker.imports.create import _category_of
from tracker.models import Activity
from tracker.models.budget import CATEGORY_LABELS, EXPENDITURE_STATUS_LABELS
from tracker.models.progress import STATUS_LABELS
from tracker.progress.services import parse_status
from tracker.validation import InputError


def in_vietnamese(message) -> str:
    with force_locale("vi"):
        return str(message) if not isinstance(message, str) else gettext(message)


@pytest.mark.parametrize("locale", ["en", "vi"])
def test_statuses_and_categories_are_read_in_either_language(app, locale):
    with app.test_request_context("/"):
        vi_delayed, vi_travel = in_vietnamese(STATUS_LABELS["delayed"]), in_vietnamese(CATEGORY_LABELS["travel"])
        with force_locale(locale):
            assert parse_status("on_track") == "on_track"
            assert parse_status("AT RISK") == "at_risk"
            assert parse_status(vi_delayed.upper()) == "delayed"
            assert _category_of("Travel") == "travel"
            assert _category_of(vi_travel.lower()) == "travel"
            assert _category_of("Meetings and workshops") == "meetings_workshops"
            assert _category_of("Catering") == "Catering"  # passed on for create_line to refuse
            with pytest.raises(InputError):
                parse_status("Paused")


def test_english_messages_name_the_english_labels(app):
    with app.test_request_context("/"), pytest.raises(InputError) as refused:
        parse_status("Paused")
    assert str(refused.value) == ("Choose a status from the list (Not started, On track, At risk, Delayed, "
                                  "Completed, Cancelled).")
    with app.test_request_context("/"):
        assert [str(label) for label in EXPENDITURE_STATUS_LABELS.values()] == ["Committed", "Disbursed"]


def test_the_activities_and_week_pages_speak_the_persons_language(app, client, auth, demo):
    auth.login("officer")
    english = client.get(f"/projects/{demo}/week/2016-W47").get_data(as_text=True)
    assert '<h2 id="due-h">Activities due a log</h2>' in english and ">Go to week</label>" in english
    client.post("/language", data={"locale": "vi", "next": "/"})
    with app.app_context():
        a1 = db.session.execute(select(Activity.id).where(Activity.code == "A1")).scalar_one()
    log = {"week": "2016-W47", "status": "on_track", "percent_complete": "65", "done": "Đối thoại chính sách ở Huế, 24/11",
           "problems": "", "next_steps": "", "version": "", "context": "week"}
    saved = client.post(f"/projects/{demo}/activities/{a1}/log", data={f"log-{a1}-{k}": v for k, v in log.items()})
    assert saved.status_code == 303
    week = client.get(f"/projects/{demo}/week/2016-W47").get_data(as_text=True)
    activities = client.get(f"/projects/{demo}/activities").get_data(as_text=True)
    text = client.get(f"/projects/{demo}/week/2016-W47/summary.txt").get_data(as_text=True)
    with app.test_request_context("/"):
        due, go = in_vietnamese("Activities due a log"), in_vietnamese("Go to week")
        on_track, heading = in_vietnamese(STATUS_LABELS["on_track"]), in_vietnamese("Activities")
        done, status_line = in_vietnamese("Done"), in_vietnamese("Status: %(status)s, %(pct)s%% complete")
    assert '<html lang="vi"' in week
    assert f'<h2 id="due-h">{due}</h2>' in week and f">{go}</label>" in week
    assert f"<h1>{heading}</h1>" in activities and f">{on_track}</span>" in activities
    assert f"  {done}: Đối thoại chính sách ở Huế, 24/11" in text  # the officer's words stay as typed
    assert status_line % {"status": on_track, "pct": 65} in text


def test_the_budget_pages_speak_the_persons_language(app, client, auth, demo):
    auth.login("manager")
    english = client.get(f"/projects/{demo}/budget").get_data(as_text=True)
    assert '<h2 id="lines-h">Budget lines</h2>' in english and "<dt>Not yet in a line</dt>" in english
    client.post("/language", data={"locale": "vi", "next": "/"})
    budget = client.get(f"/projects/{demo}/budget").get_data(as_text=True)
    spending = client.get(f"/projects/{demo}/expenditures").get_data(as_text=True)
    # The booking form loads into the budget page when it scrolls into view (htmx).
    booking = client.get(f"/projects/{demo}/expenditures/new", headers={"HX-Request": "true"}).get_data(as_text=True)
    with app.test_request_context("/"):
        lines, unbudgeted = in_vietnamese("Budget lines"), in_vietnamese("Not yet in a line")
        book, disbursed = in_vietnamese("Book the expenditure"), in_vietnamese(EXPENDITURE_STATUS_LABELS["disbursed"])
        vnd = in_vietnamese("Vietnamese đồng")
    assert f'<h2 id="lines-h">{lines}</h2>' in budget and f"<dt>{unbudgeted}</dt>" in budget
    assert f">{book}</button>" in booking and f"VND – {vnd}</option>" in booking
    assert f">{disbursed}</td>" in spending
