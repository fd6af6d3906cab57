"""Real Chromium: the manager approves a whole column of the indicator grid at once; the grid's
cells and the inbox count in the navigation change from the same response, without a reload.

One browser context (the manager's): the count that drops is the manager's own ("periods waiting
for your approval"), visible in the navigation of the page where the action is done.
"""

from playwright.sync_api import expect


def test_manager_approves_a_column_and_the_inbox_count_drops_in_place(live_app, login_as, page, base_url):
    login_as("manager")
    page.goto(f"{base_url}/projects/1/indicators")
    expect(page.locator("#inbox-count")).to_contain_text("6")
    page.evaluate("window.__sameDocument = 'yes'")

    page.locator("#col-2016-07-01 a[data-bulk='approve']").click()
    panel = page.locator("#bulk-panel")
    expect(panel).to_contain_text("Approve all submitted of 2016 H2")
    panel.get_by_label("Note for all of them (optional)").fill("Checked against the H2 report")
    with page.expect_response(lambda r: "/bulk/approve" in r.url and r.request.method == "POST") as answer:
        panel.get_by_role("button", name="Approve the ticked periods").click()
    assert answer.value.status == 200

    expect(panel).to_contain_text("6 periods of 2016 H2 approved and locked.")
    expect(page.locator("#inbox-count")).to_contain_text("0")
    expect(page.locator("#indicator-grid .st-approved").first).to_be_visible()
    assert page.locator("#indicator-grid .st-submitted").count() == 0
    assert page.evaluate("window.__sameDocument") == "yes"  # no page load happened
