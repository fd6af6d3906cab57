"""The browser can log in and open the logframe (proves the browser set-up itself)."""

from playwright.sync_api import expect


def test_officer_logs_in_and_opens_the_logframe(login_as, page, base_url):
    login_as("officer")
    page.get_by_role("link", name="Supporting the Implementation of the National Strategy for Cultural "
                                   "Industries in Viet Nam").click()
    page.get_by_role("link", name="Logframe").click()
    expect(page.get_by_role("table")).to_contain_text("Intervention logic")
    expect(page.get_by_role("table")).to_contain_text("Huế")
    # The vendored htmx loaded (CSP allows only our own scripts). Deferred scripts run just
    # before DOMContentLoaded, which can come after the table shows on a busy machine.
    page.wait_for_load_state("domcontentloaded")
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version") == "2.0.11"
