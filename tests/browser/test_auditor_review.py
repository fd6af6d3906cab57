"""Real Chromium: the auditor verifies and queries evidence inline; the coverage figures change without a page load."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import EvidenceItem, EvidenceLink, Expenditure


def add_receipt(app, voucher="V-2016-003") -> int:
    with app.app_context():
        spend = db.session.execute(select(Expenditure).where(Expenditure.voucher == voucher)).scalar_one()
        item = EvidenceItem(project_id=spend.project_id, kind="receipt", title="Hoá đơn Century Riverside Hotel, Huế",
                            dated=spend.spent_on, source="Century Riverside Hotel")
        item.links = [EvidenceLink(project_id=spend.project_id, expenditure_id=spend.id)]
        db.session.add(item)
        db.session.commit()
        return item.id


def mark_the_page(page):
    """A value that survives htmx swaps but not a page load."""
    page.evaluate("window.__sameDocument = 'yes'")


def still_the_same_page(page) -> bool:
    return page.evaluate("window.__sameDocument") == "yes"


def test_auditor_verifies_in_the_workspace_and_coverage_changes_in_place(live_app, login_as, page, base_url):
    receipt = add_receipt(live_app)
    login_as("auditor")
    page.goto(f"{base_url}/projects/1/auditor")
    expect(page.locator("#coverage-money")).to_have_text("0.0%")
    mark_the_page(page)

    row = page.locator(f"#review-{receipt}")
    row.get_by_label("Note").fill("Khớp với chứng từ V-2016-003.")
    row.get_by_role("button", name=re.compile("^Verify")).click()

    expect(page.locator("#coverage-money")).to_have_text("35.2%")  # 14,250 of 40,450 disbursed
    expect(page.locator("#coverage-verified")).to_have_text("1")
    expect(page.locator(f"#review-{receipt}")).to_contain_text("Verified")
    expect(page.locator(f"#review-{receipt}")).to_contain_text("Khớp với chứng từ V-2016-003.")
    assert still_the_same_page(page)
    with live_app.app_context():
        assert db.session.get(EvidenceItem, receipt).review_state == "verified"


def test_auditor_queries_from_the_register_without_a_page_load(live_app, login_as, page, base_url):
    login_as("auditor")
    page.goto(f"{base_url}/projects/1/evidence")
    expect(page.locator("#coverage-queried")).to_have_text("0")
    mark_the_page(page)
    row = page.locator("tr", has_text="Creative hubs in Viet Nam receive spotlight")

    # A query without a note is refused next to the field; nothing changes.
    row.get_by_role("button", name=re.compile("^Query")).click()
    row = page.locator("tr", has_text="Creative hubs in Viet Nam receive spotlight")
    expect(row.locator(".field-error")).to_contain_text("Say what is missing or wrong")
    expect(page.locator("#coverage-queried")).to_have_text("0")

    row.get_by_label("Note").fill("Which page of the UN site?")
    row.get_by_role("button", name=re.compile("^Query")).click()
    expect(page.locator("#coverage-queried")).to_have_text("1")
    expect(page.locator("tr", has_text="Creative hubs in Viet Nam receive spotlight")).to_contain_text(
        "Which page of the UN site?")

    # Then verifying another clipping backs the press-coverage actual with verified evidence.
    expect(page.locator("#coverage-actuals-verified")).to_have_text("0")
    other = page.locator("tr", has_text="A policy dialogue on creative hubs in Viet Nam to take place in Hue")
    other.get_by_role("button", name=re.compile("^Verify")).click()
    expect(page.locator("#coverage-actuals-verified")).to_have_text("1")
    assert still_the_same_page(page)


def test_active_search_filters_in_place_and_keeps_the_url(live_app, login_as, page, base_url):
    login_as("auditor")
    page.goto(f"{base_url}/projects/1/evidence")
    mark_the_page(page)
    page.get_by_label("Search").fill("Song Huong")
    expect(page.locator(".result-count")).to_contain_text("2 items")
    expect(page).to_have_url(re.compile(r"/projects/1/evidence\?q=Song\+Huong"))
    page.get_by_label("Kind").select_option("agenda")
    expect(page.locator(".result-count")).to_contain_text("No evidence matches")
    assert still_the_same_page(page)
    page.reload()  # the filter is in the URL: a bookmark shows the same
    expect(page.get_by_label("Search")).to_have_value("Song Huong")
    expect(page.locator(".result-count")).to_contain_text("No evidence matches")


def test_an_inline_booking_updates_the_budget_and_reaches_the_auditor(live_app, login_as, page, base_url):
    login_as("officer")
    page.goto(f"{base_url}/projects/1/budget")
    mark_the_page(page)
    # The form loads when revealed (htmx swaps the placeholder, which has the form's id).
    page.evaluate("document.getElementById('expenditure-form').scrollIntoView()")
    form = page.locator("form#expenditure-form")
    form.get_by_label("Date").fill("2016-12-20")
    form.get_by_label("Budget line").select_option(label="BL3 Policy dialogue in Huế")
    form.get_by_label("Amount (USD)").fill("750.00")
    form.get_by_label("Status").select_option("disbursed")
    form.get_by_label("Voucher or reference number").fill("V-2016-777")
    form.get_by_label("Payee").fill("Nhà hàng Huế")
    form.get_by_role("button", name="Book the expenditure").click()
    expect(page.locator("#expenditure-form")).to_contain_text("Booked V-2016-777: USD 750.00 (disbursed) on BL3.")
    expect(page.locator("tr", has_text="Policy dialogue in Huế").first).to_contain_text("15,000.00")
    expect(page.locator("#budget-lines-total")).to_contain_text("41,200.00")
    expect(page.locator("#budget-summary")).to_contain_text("USD 41,200.00")
    # An invalid booking keeps what was typed and shows the error next to the field.
    form = page.locator("#expenditure-form")
    form.get_by_label("Voucher or reference number").fill("V-2016-777")
    form.get_by_label("Amount (USD)").fill("12.345")
    form.get_by_role("button", name="Book the expenditure").click()
    expect(page.locator("#expenditure-form")).to_contain_text("at most two decimals")
    expect(page.locator("#expenditure-form")).to_contain_text("Voucher V-2016-777 is already booked")
    expect(page.locator("#expenditure-form").get_by_label("Amount (USD)")).to_have_value("12.345")
    assert still_the_same_page(page)

    page.get_by_role("button", name="Log out").click()
    login_as("auditor")
    page.goto(f"{base_url}/projects/1/auditor")
    # The list loads when it comes into view (htmx may swap the heading's section meanwhile).
    page.evaluate("document.getElementById('unbacked-h').scrollIntoView()")
    expect(page.locator("#unbacked-h")).to_contain_text("(7)")
    expect(page.get_by_role("link", name="V-2016-777")).to_be_visible()
