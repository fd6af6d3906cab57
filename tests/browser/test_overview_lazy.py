"""The overview's results and their charts load when they scroll into view (htmx "revealed")."""

from playwright.sync_api import expect


def test_the_overview_loads_its_results_and_charts_when_scrolled_to(login_as, page, base_url):
    login_as("liaison")
    page.locator("ul.cards h2 a").first.click()
    page.wait_for_load_state()
    page.get_by_role("heading", name="Results and indicators").scroll_into_view_if_needed()
    # The placeholder below the heading may already be revealed and swapped: scroll to it only if
    # it is still there (a locator's scroll would fail on an element htmx just replaced).
    page.evaluate("document.querySelector('#results-more-1')?.scrollIntoView()")
    indicators = page.locator("li[id^=indicator-progress-]")
    expect(indicators.first).to_be_visible()
    assert indicators.count() == 6 and page.locator("#results-more-1").count() == 0  # the demo's six, in place
    page.evaluate("document.querySelector('div.chart-slot, figure.target-chart')?.scrollIntoView()")
    expect(page.locator("figure.target-chart svg").first).to_be_visible()
