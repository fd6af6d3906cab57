"""The donor liaison's and the manager's journeys in a real browser: a large workbook is
prepared with visible progress, and a workbook is imported through the dry run (htmx
uploads with CSRF on, nothing blocked by the content security policy)."""

import io
from datetime import date

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_accessibility import blocking_violations
from tracker.demo.loader import demo_project
from tracker.extensions import db
from tracker.models import Indicator


def _console_errors(page):
    """Script errors and content-security-policy refusals (a 422 answer is logged too, and is fine)."""
    errors = []

    def note(message):
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_liaison_prepares_a_large_workbook_and_watches_its_progress(login_as, page, base_url, live_app, tmp_path):
    live_app.config["EXPORT_BACKGROUND_ROWS"] = 0  # treat the demo as large
    errors = _console_errors(page)
    login_as("liaison")
    with live_app.app_context():
        demo = demo_project().id
    page.goto(f"{base_url}/projects/{demo}/exports")
    page.get_by_role("button", name="Prepare the workbook").click()
    job = page.locator("#export-job")
    expect(job).to_contain_text("The workbook is ready.", timeout=30_000)
    assert blocking_violations(page) == []
    with page.expect_download() as download:
        job.get_by_role("link", name="Download the workbook (.xlsx)").click()
    path = tmp_path / "workbook.xlsx"
    download.value.save_as(path)
    names = load_workbook(path).sheetnames
    assert names[0] == "Summary" and {"Logframe", "Logframe matrix", "Indicators", "IPTT"} <= set(names)
    assert not errors, errors


def test_manager_imports_new_actuals_through_the_dry_run(login_as, page, base_url, live_app, tmp_path):
    errors = _console_errors(page)
    login_as("manager")
    with live_app.app_context():
        demo = demo_project().id
    page.goto(f"{base_url}/projects/{demo}/exports")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the workbook (.xlsx)").click()
    exported = tmp_path / "exported.xlsx"
    download.value.save_as(exported)
    book = load_workbook(exported)
    for row in book["Indicators"].iter_rows(min_row=2):
        if row[0].value == "1.1.b" and row[4].value.date() == date(2017, 1, 1):
            row[7].value = 4
    edited = tmp_path / "edited.xlsx"
    book.save(edited)

    page.goto(f"{base_url}/projects/{demo}/import")
    page.get_by_label("Workbook (.xlsx)").set_input_files(str(edited))
    page.get_by_role("button", name="Check the workbook (dry run)").click()
    expect(page.locator("#import")).to_contain_text("actual: (blank) → 4")
    assert blocking_violations(page) == []
    with live_app.app_context():
        press = db.session.execute(select(Indicator).where(Indicator.code == "1.1.b")).scalar_one()
        assert next(p for p in press.periods if p.start_date == date(2017, 1, 1)).actual is None
        db.session.remove()
    page.get_by_role("button", name="Apply these 1 change").click()
    expect(page.locator(".flash-success")).to_contain_text("Imported")
    with live_app.app_context():
        press = db.session.execute(select(Indicator).where(Indicator.code == "1.1.b")).scalar_one()
        assert next(p for p in press.periods if p.start_date == date(2017, 1, 1)).actual == 4
        db.session.remove()

    # a junk file gets its message next to the field, in place
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(io.BytesIO(b"not a workbook at all" * 100).getvalue())
    page.get_by_label("Workbook (.xlsx)").set_input_files(str(junk))
    page.get_by_role("button", name="Check the workbook (dry run)").click()
    expect(page.locator(".field-error")).to_contain_text("not an Excel workbook (.xlsx)")
    assert blocking_violations(page) == []
    assert not errors, errors
