"""axe-core on every main page, in real Chromium: no serious or critical violations.

Pages are found the way a user finds them: each role logs in and follows every link in the
project navigation, so an area's page is checked as soon as it appears in the nav. The login
page (empty and with errors), the portfolio, error pages and a few states that only appear
after an action are checked as well.

Every check runs twice: at the browser's desktop size (1280×720) and at phone width (390×844),
where tables become cards and the indicator grid one card per indicator (issue 14).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

BLOCKING = {"serious", "critical"}
axe = Axe()
SCREENS = {"desktop": None, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True, params=list(SCREENS))
def screen(request, page):
    """Each test at desktop width (the browser's default size) and at phone width."""
    if SCREENS[request.param]:
        page.set_viewport_size(SCREENS[request.param])
    return request.param


def blocking_violations(page) -> list[str]:
    """Serious and critical axe violations on the current page, one readable line each."""
    results = axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        found.append(f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return found


def nav_pages(page) -> list[tuple[str, str]]:
    """(label, url) of each link in the project navigation."""
    links = page.locator("nav.project-nav a")
    return [(links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href")) for i in range(links.count())]


def open_demo_project(page, base_url):
    page.goto(f"{base_url}/")
    page.locator("ul.cards h2 a").first.click()
    page.wait_for_load_state()


def test_the_login_page_empty_and_with_errors(page, base_url):
    page.goto(f"{base_url}/login")
    problems = blocking_violations(page)
    page.get_by_label("Email").fill("nobody@demo.test")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "Log in" in page.content()
    problems += blocking_violations(page)
    assert problems == [], "\n".join(problems)


# The liaison's pages are a subset of the manager's, with fewer controls.
@pytest.mark.parametrize("role", ["manager", "officer", "auditor"])
def test_every_page_in_the_project_navigation(role, login_as, page, base_url, screen):
    if screen == "phone" and role == "auditor":
        # The auditor's pages are the manager's templates with review forms instead of edit
        # forms: at phone width the manager's and the officer's navigation cover them, and the
        # auditor's review controls are checked at desktop width (keeps make test under 10 min).
        pytest.skip("phone width is checked for the manager and the officer; the auditor at desktop width")
    login_as(role)
    problems = blocking_violations(page)  # the portfolio
    open_demo_project(page, base_url)
    pages = nav_pages(page)
    assert len(pages) >= 2, f"the {role} sees no project navigation"
    for label, href in pages:
        response = page.goto(f"{base_url}{href}" if href.startswith("/") else href)
        if response.status != 200:
            problems.append(f"{label} ({href}) answered {response.status} to the {role}")
            continue
        problems += blocking_violations(page)
    assert problems == [], "\n".join(problems)


def test_error_pages(login_as, page, base_url):
    login_as("officer")
    response = page.goto(f"{base_url}/projects/999999")
    assert response.status == 404
    problems = blocking_violations(page)
    assert problems == [], "\n".join(problems)


def test_the_members_page_with_a_form_error(login_as, page, base_url):
    login_as("manager")
    open_demo_project(page, base_url)
    page.locator("nav.project-nav").get_by_role("link", name="Members").click()
    page.get_by_label("Email of an existing user").fill("nobody-here@demo.test")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").count() == 1
    problems = blocking_violations(page)
    assert problems == [], "\n".join(problems)


def test_detail_pages(live_app, login_as, page, base_url):
    """Pages reached from the lists: one activity, period, indicator, line, expenditure, evidence item."""
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Activity, BudgetLine, EvidenceItem, Expenditure, IndicatorPeriod

    with live_app.app_context():
        def first(model):
            return db.session.execute(select(model).order_by(model.id).limit(1)).scalar_one()

        activity, period, line = first(Activity), first(IndicatorPeriod), first(BudgetLine)
        expenditure, item = first(Expenditure), first(EvidenceItem)
        project = activity.project_id
        paths = [f"/projects/{project}/activities/{activity.id}",
                 f"/projects/{project}/activities/{activity.id}/log",
                 f"/projects/{project}/indicators/periods/{period.id}",
                 f"/projects/{project}/indicators/{period.indicator_id}",
                 f"/projects/{project}/budget/lines/{line.id}",
                 f"/projects/{project}/expenditures/{expenditure.id}",
                 f"/projects/{project}/expenditures/new",
                 f"/projects/{project}/evidence/{item.id}",
                 f"/projects/{project}/evidence/new",
                 f"/projects/{project}/history/activity/{activity.id}",
                 f"/projects/{project}/import"]
    login_as("manager")
    problems = []
    for path in paths:
        response = page.goto(f"{base_url}{path}")
        if response.status != 200:
            problems.append(f"{path} answered {response.status}")
            continue
        problems += blocking_violations(page)
    assert problems == [], "\n".join(problems)


def test_inline_forms_and_errors_swapped_in_by_htmx(live_app, login_as, page, base_url):
    """States that exist only after a click: an open log form, a grid cell with an error."""
    login_as("officer")
    open_demo_project(page, base_url)
    page.locator("nav.project-nav").get_by_role("link", name="Activities", exact=True).click()
    page.locator("a[id^=log-toggle-]").first.click()
    page.locator("form [name$=percent_complete]").first.wait_for()
    problems = blocking_violations(page)
    page.locator("form [name$=percent_complete]").first.fill("một trăm mười")
    page.locator("tbody.is-open button[type=submit]").first.click()
    page.locator("tbody.is-open .field-error").first.wait_for()
    problems += blocking_violations(page)
    page.locator("nav.project-nav").get_by_role("link", name="Indicators", exact=True).click()
    cell = page.locator("input.cell-input").first
    cell.fill("không rõ")
    cell.press("Enter")
    page.locator(".cell-error").first.wait_for()
    problems += blocking_violations(page)
    assert problems == [], "\n".join(problems)


def test_the_check_itself_catches_a_missing_label(page, base_url):
    """Proves the checker is not vacuous: remove the login form's labels and it complains."""
    page.goto(f"{base_url}/login")
    page.evaluate("document.querySelectorAll('label').forEach(label => label.remove())")
    problems = blocking_violations(page)
    assert any(" label (critical)" in line for line in problems), problems
