"""The three users' main journeys, end to end, in real Chromium, as they would click.

- The officer logs in, opens the project, logs a week of an activity from the week page and
  enters an indicator actual in the grid.
- The auditor verifies one evidence item and queries another from the workspace, reads both
  reviews in the audit trail; the officer then finds the query on the week page.
- The donor liaison downloads the workbook; the file is opened with openpyxl and checked.
- The indicator grid used with the keyboard only, from the login form to a saved actual.

Every step goes through the real pages (CSRF on, the content security policy on), and the
database is checked after the clicks: what the user saw is what was stored.
"""

import re

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORDS
from tracker.extensions import db
from tracker.models import Activity, AuditEvent, EvidenceItem, Indicator, IndicatorPeriod, ProgressLog

PROJECT_TITLE = "Supporting the Implementation of the National Strategy for Cultural Industries in Viet Nam"
ACTUAL_11B_2017_H1 = "Actual of 1.1.b Press articles published on the project, 2017 H1 (a number)"


def script_errors(page) -> list[str]:
    """Script errors and refusals by the content security policy seen by the page."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


def open_project(page):
    page.get_by_role("link", name=PROJECT_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def nav(page, label: str):
    page.locator("nav.project-nav").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def stored(app, query):
    with app.app_context():
        result = db.session.execute(query).scalars().all()
        db.session.remove()
        return result


def period_of(app, code: str, index: int) -> IndicatorPeriod:
    return stored(app, select(IndicatorPeriod).join(Indicator).where(Indicator.code == code)
                  .order_by(IndicatorPeriod.start_date))[index]


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_officer_logs_a_week_and_enters_an_indicator_actual(live_app, login_as, page, base_url):
    errors = script_errors(page)
    login_as("officer")
    open_project(page)
    nav(page, "This week")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week")
    # The week of the policy dialogue in Huế (a bookmark, as an officer catching up would use).
    page.goto(page.url.split("/week")[0] + "/week/2016-W47")
    a13 = stored(live_app, select(Activity).where(Activity.code == "A1.3"))[0]
    row = page.locator(f"#activity-{a13.id}")
    due_before = int(page.locator("#due-count").inner_text())
    row.get_by_role("link", name="Log week 2016-W47 for A1.3").click()
    row.get_by_label("Status").select_option("on_track")
    row.get_by_role("textbox", name="% complete").fill("80")
    row.get_by_label("What was done").fill("Đối thoại chính sách ở Huế, 24/11/2016: 120 đại biểu")
    row.get_by_label("Problems").fill("Chưa có bản dịch tiếng Anh của kỷ yếu")
    row.get_by_role("button", name="Save log for A1.3").click()
    expect(row.locator(".week-state")).to_contain_text("Logged")
    expect(page.locator("#due-count")).to_have_text(str(due_before - 1))

    nav(page, "Indicators")
    cell = page.get_by_label(ACTUAL_11B_2017_H1)
    cell.click()
    cell.fill("6")
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        cell.press("Enter")  # wait for the save's answer before reading the database below
    assert saved.value.ok
    expect(page.locator(".cell-error")).to_have_count(0)
    expect(cell).to_have_value("6")

    [log] = stored(live_app, select(ProgressLog).where(ProgressLog.activity_id == a13.id,
                                                       ProgressLog.iso_week == "2016-W47"))
    assert (log.status, log.percent_complete) == ("on_track", 80)
    assert log.done == "Đối thoại chính sách ở Huế, 24/11/2016: 120 đại biểu"
    assert period_of(live_app, "1.1.b", 2).actual == 6
    officer_events = stored(live_app, select(AuditEvent.table_name).where(
        AuditEvent.actor_label == DEMO_PASSWORDS["officer"][0]))
    assert {"progress_log", "indicator_period"} <= set(officer_events)  # both saves are in the trail
    assert errors == [], errors


def test_auditor_verifies_and_queries_evidence_and_reads_the_trail(live_app, login_as, page, base_url):
    errors = script_errors(page)
    login_as("auditor")
    open_project(page)
    nav(page, "Auditor")
    queue = page.locator("table.review-queue").first
    rows = queue.locator("tbody tr")
    assert rows.count() >= 2, "the demo should leave evidence waiting for review"
    second_row_id = rows.nth(1).get_attribute("id")
    first_row_id = rows.nth(0).get_attribute("id")
    first, second = (int(re.sub(r"\D", "", i)) for i in (first_row_id, second_row_id))

    row = page.locator(f"#{first_row_id}")
    row.get_by_label("Note").fill("Khớp với bản gốc đã lưu.")
    row.get_by_role("button", name=re.compile("^Verify")).click()
    expect(page.locator(f"#{first_row_id}")).to_contain_text("Verified")

    row = page.locator(f"#{second_row_id}")
    row.get_by_label("Note").fill("Thiếu ngày đăng bài; xin bổ sung.")
    row.get_by_role("button", name=re.compile("^Query")).click()
    expect(page.locator(f"#{second_row_id}")).to_contain_text("Thiếu ngày đăng bài")

    items = {item.id: item for item in stored(live_app, select(EvidenceItem).where(EvidenceItem.id.in_([first, second])))}
    assert items[first].review_state == "verified" and items[second].review_state == "queried"
    assert items[second].review_note == "Thiếu ngày đăng bài; xin bổ sung."

    nav(page, "Audit trail")
    trail = page.locator("#audit-trail")
    expect(trail).to_contain_text("Thiếu ngày đăng bài; xin bổ sung.")
    expect(trail).to_contain_text("Khớp với bản gốc đã lưu.")
    expect(trail.locator("tbody tr").first).to_contain_text("auditor")

    # The officer sees the query on the week page, with the auditor's note.
    log_out(page)
    login_as("officer")
    open_project(page)
    nav(page, "This week")
    expect(page.locator(f"#queried-{second}")).to_contain_text("Thiếu ngày đăng bài; xin bổ sung.")
    assert errors == [], errors


def test_liaison_downloads_the_workbook_and_it_opens(live_app, login_as, page, base_url, tmp_path):
    errors = script_errors(page)
    login_as("liaison")
    open_project(page)
    nav(page, "Exports")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the workbook (.xlsx)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"

    book = load_workbook(path)  # formulas as written
    assert {"Summary", "Logframe", "Indicators"} <= set(book.sheetnames)
    texts = [str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
             if cell.value is not None]
    assert any(PROJECT_TITLE in text for text in texts)
    assert any("Korean Funds-in-Trust" in text for text in texts)
    assert any("Huế" in text for text in texts), "Vietnamese text did not survive"
    assert any(text.lower().startswith("=") for text in texts), "no live formula in the workbook"
    assert any("illustrative" in text.lower() for text in texts), "illustrative figures are not marked"
    values = load_workbook(path, data_only=True)  # opens a second way (cached values) without error
    assert values.sheetnames == book.sheetnames

    exports = stored(live_app, select(AuditEvent).where(AuditEvent.action == "export"))
    assert exports and exports[-1].actor_label == DEMO_PASSWORDS["liaison"][0]
    assert errors == [], errors


def tab_to(page, description: str, predicate: str, limit: int = 250, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``predicate`` (JS on document.activeElement as `el`) holds."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!(el && ({predicate})); }})()"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {description}")


def focus_is_visible(page) -> bool:
    return page.evaluate("""(() => {
        const style = getComputedStyle(document.activeElement);
        return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    })()""")


def test_the_indicator_grid_by_keyboard_only(live_app, page, base_url):
    errors = script_errors(page)
    email, password = DEMO_PASSWORDS["officer"]
    page.goto(f"{base_url}/login")
    tab_to(page, "the email field", "el.name === 'email'")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/")

    tab_to(page, "the project", f"el.tagName === 'A' && el.textContent.includes({PROJECT_TITLE[:40]!r})")
    assert focus_is_visible(page), "the focused link shows no focus indicator"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    tab_to(page, "the Indicators link", "el.closest('nav.project-nav') && el.textContent.trim() === 'Indicators'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/indicators$"))

    tab_to(page, "the 2017 H1 actual of 1.1.b", f"el.getAttribute('aria-label') === {ACTUAL_11B_2017_H1!r} || "
           f"(el.labels && el.labels[0] && el.labels[0].textContent.trim() === {ACTUAL_11B_2017_H1!r})")
    assert focus_is_visible(page), "the focused cell shows no focus indicator"
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    cell = page.get_by_label(ACTUAL_11B_2017_H1)
    expect(cell).to_have_value("5")
    expect(cell).not_to_be_focused()  # Enter saved and moved on
    assert period_of(live_app, "1.1.b", 2).actual == 5

    # A wrong value by keyboard: the error is announced, the typed text kept, Escape restores.
    tab_to(page, "the 2017 H1 actual of 1.1.b again",
           f"el.labels && el.labels[0] && el.labels[0].textContent.trim() === {ACTUAL_11B_2017_H1!r}", backwards=True)
    page.keyboard.press("Control+a")
    page.keyboard.type("năm")
    page.keyboard.press("Enter")
    expect(page.locator(".cell-error")).to_contain_text("must be a number")
    expect(page.locator(".cell-error")).to_have_attribute("role", "alert")
    expect(cell).to_have_value("năm")
    page.keyboard.press("Escape")
    expect(cell).to_have_value("5")
    assert period_of(live_app, "1.1.b", 2).actual == 5
    assert errors == [], errors
