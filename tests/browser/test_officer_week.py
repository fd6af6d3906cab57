"""The officer's week in Chromium: logging from the activity row updates the row and the counters
in place (no page load), an invalid log keeps what was typed, and the week page's summary follows."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Activity, ProgressLog


def activity_id(app, code):
    with app.app_context():
        return db.session.execute(select(Activity.id).where(Activity.code == code)).scalar_one()


def logs(app):
    with app.app_context():
        return db.session.execute(select(ProgressLog)).scalars().all()


def open_row(page, base_url, live_app, path, code):
    """Open ``path`` of the demo project, mark the page (a reload would lose the mark) and give
    the row of activity ``code``."""
    page.goto(f"{base_url}/projects/1/{path}")
    page.evaluate("window.pageMarker = 'same page'")
    return page.locator(f"#activity-{activity_id(live_app, code)}")


def test_logging_a_week_from_the_row_swaps_the_row_and_the_counters_without_a_page_load(
        login_as, page, base_url, live_app):
    login_as("officer")
    row = open_row(page, base_url, live_app, "activities?week=2016-W47", "A1.3")
    expect(page.locator("#due-count")).to_have_text("2")
    row.get_by_role("link", name="Log week 2016-W47 for A1.3").click()
    expect(row.get_by_label("Status")).to_be_focused()  # autofocus in the swapped-in form
    row.get_by_role("textbox", name="% complete").fill("90")
    row.get_by_label("What was done").fill("Hoàn thiện bản thảo báo cáo phân tích tình hình")
    row.get_by_role("button", name="Save log for A1.3").click()
    expect(row.locator(".week-state")).to_contain_text("Logged")
    expect(row).to_contain_text("90%")
    expect(page.locator("#due-count")).to_have_text("1")
    expect(page.locator("#logged-count")).to_have_text("1")
    expect(row.get_by_role("link", name="Edit log 2016-W47 for A1.3")).to_be_focused()
    assert page.evaluate("window.pageMarker") == "same page"  # no page load happened
    [log] = logs(live_app)
    assert (log.percent_complete, log.done) == (90, "Hoàn thiện bản thảo báo cáo phân tích tình hình")


def test_an_invalid_log_shows_its_error_and_keeps_the_typed_text(login_as, page, base_url, live_app):
    login_as("officer")
    row = open_row(page, base_url, live_app, "activities?week=2016-W47", "A1")
    row.get_by_role("link", name="Log week 2016-W47 for A1").click()
    row.get_by_role("textbox", name="% complete").fill("chín mươi")
    row.get_by_label("Problems").fill("Chưa có lịch họp với Bộ")
    row.get_by_role("button", name="Save log for A1").click()
    expect(row.locator(".field-error")).to_have_text("% complete must be a whole number from 0 to 100.")
    expect(row.get_by_role("textbox", name="% complete")).to_have_value("chín mươi")
    expect(row.get_by_role("textbox", name="% complete")).to_have_attribute("aria-invalid", "true")
    expect(row.get_by_label("Problems")).to_have_value("Chưa có lịch họp với Bộ")
    assert logs(live_app) == []
    row.get_by_role("textbox", name="% complete").fill("65")
    row.get_by_role("button", name="Save log for A1").click()
    expect(row.locator(".week-state")).to_contain_text("Logged")
    assert page.evaluate("window.pageMarker") == "same page"
    assert logs(live_app)[0].problems == "Chưa có lịch họp với Bộ"


def test_cancel_puts_the_row_back(login_as, page, base_url, live_app):
    login_as("manager")
    row = open_row(page, base_url, live_app, "activities?week=2016-W47", "A1")
    row.get_by_role("link", name="Edit A1").click()
    expect(row.get_by_label("Title")).to_be_visible()
    row.get_by_role("link", name="Cancel").click()
    expect(row.get_by_label("Title")).to_have_count(0)
    expect(row.get_by_role("link", name="Log week 2016-W47 for A1")).to_be_visible()


def test_logging_on_the_week_page_updates_the_summary_out_of_band(login_as, page, base_url, live_app):
    login_as("officer")
    row = open_row(page, base_url, live_app, "week/2016-W47", "A1")
    row.get_by_role("link", name="Log week 2016-W47 for A1").click()
    row.get_by_label("Next steps").fill("Chuẩn bị hội thảo ở Huế")
    row.get_by_role("button", name="Save log for A1").click()
    summary = page.locator("#week-summary")
    expect(summary).to_contain_text("Chuẩn bị hội thảo ở Huế")
    expect(summary).to_contain_text(re.compile(r"logged by Trần Văn Hùng"))
    expect(page.locator("#due-count")).to_have_text("1")
    assert page.evaluate("window.pageMarker") == "same page"


def test_move_buttons_and_the_revealed_summary_work_in_place(login_as, page, base_url, live_app):
    """The ↑ ↓ buttons submit the page's one move form (form= and formaction=) through htmx, and
    the week's summary at the foot of the week page arrives when scrolled into view."""
    login_as("manager")
    open_row(page, base_url, live_app, "activities?week=2016-W47", "A1")
    page.get_by_role("button", name="Move A1 down").click()
    codes = page.locator("#activity-table th[scope=row] .code")
    expect(codes.nth(0)).to_have_text("A1.5")
    expect(codes.nth(1)).to_have_text("A1")
    expect(page.get_by_role("button", name="Move A1 down")).to_be_focused()  # the same button after the swap
    assert page.evaluate("window.pageMarker") == "same page"
    page.goto(f"{base_url}/projects/1/week/2016-W47")
    summary = page.locator("#week-summary")
    page.evaluate("document.getElementById('week-summary').scrollIntoView()")  # htmx may swap it meanwhile
    expect(summary).to_contain_text("No activity was logged for week 2016-W47 yet.")
    expect(summary).not_to_have_attribute("hx-trigger", "revealed")
