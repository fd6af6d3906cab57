"""The donor-reporting journey in real Chromium: the officer writes a variance explanation in
place on an off-target period and submits it, the manager approves it, and the liaison opens the
period's progress report, downloads it as .docx and downloads the workbook; both files are opened
and hold the explanation and the approval."""

import io
from datetime import date
from decimal import Decimal

from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod

EXPLANATION = "Hai chuyến công tác thực địa dời sang tháng 1/2017 (two field missions moved to January 2017)."


def _off_target_period(app) -> tuple[int, str]:
    """A draft 2016 H2 period of a number indicator at 30% of its target (below the 60% at-risk line)."""
    with app.app_context():
        period = db.session.execute(
            select(IndicatorPeriod).join(Indicator).where(
                Indicator.unit == "number", Indicator.ascending.is_(True),
                IndicatorPeriod.start_date == date(2016, 7, 1), IndicatorPeriod.end_date == date(2016, 12, 31))
            .order_by(Indicator.code)).scalars().first()
        period.target, period.actual, period.state = Decimal(10), Decimal(3), "draft"
        period.variance_explanation = ""
        db.session.commit()
        result = period.id, period.indicator.code
        db.session.remove()
        return result


def test_explain_submit_approve_then_the_liaison_downloads_the_report_and_workbook(
        live_app, login_as, page, base_url, tmp_path):
    period_id, code = _off_target_period(live_app)
    project_url = f"{base_url}/projects/1"
    period_url = f"{project_url}/indicators/periods/{period_id}"

    # The officer explains the variance in place, then submits.
    login_as("officer")
    page.goto(period_url)
    page.get_by_label("Variance explanation").first.fill(EXPLANATION)
    with page.expect_response(lambda r: r.url.endswith("/narrative") and r.request.method == "POST") as saved:
        page.get_by_role("button", name="Save narrative").click()
    assert saved.value.status == 200
    with page.expect_response(lambda r: r.url.endswith("/submit")) as submitted:
        page.get_by_role("button", name="Submit for approval").click()
    assert submitted.value.status == 200
    expect(page.locator("#workflow")).to_contain_text("Submitted")
    page.get_by_role("button", name="Log out").click()

    # The manager approves.
    login_as("manager")
    page.goto(period_url)
    with page.expect_response(lambda r: r.url.endswith("/approve")):
        page.get_by_role("button", name="Approve and lock").click()
    expect(page.locator("#workflow")).to_contain_text("Approved")
    page.get_by_role("button", name="Log out").click()

    # The liaison opens the period's report from the navigation and downloads it and the workbook.
    login_as("liaison")
    page.goto(project_url)
    page.locator("nav.project-nav").get_by_role("link", name="Reports", exact=True).click()
    page.get_by_label("Reporting period").select_option("2016-07-01..2016-12-31")
    page.get_by_role("button", name="Open the report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Progress report, 2016 H2")
    expect(page.locator("#report-iptt")).to_contain_text(EXPLANATION)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as Word (.docx)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "KFIT-VNM-CI_progress-report_2016-07-01_2016-12-31.docx"
    text = "\n".join([p.text for p in Document(io.BytesIO(path.read_bytes())).paragraphs])
    assert EXPLANATION in text
    assert "indicator values of the period are approved" in text

    page.locator("nav.project-nav").get_by_role("link", name="Exports", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the workbook (.xlsx)").click()
    workbook = tmp_path / download.value.suggested_filename
    download.value.save_as(workbook)
    book = load_workbook(workbook)
    assert {"Logframe matrix", "IPTT"} <= set(book.sheetnames)
    iptt = book["IPTT"]
    row = next(r for r in iptt.iter_rows(min_row=3) if r[0].value == code)
    assert EXPLANATION in row[-1].value
