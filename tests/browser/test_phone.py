"""Phones (issue 14): the officer's week walked at 390×844 and at 360 px wide, and every page of
the demo project, for every role, at 360 px.

At each step of the walk the page body must not scroll sideways
(``document.scrollingElement.scrollWidth <= innerWidth``) and each control the officer uses must
lie inside the viewport once scrolled to (its bounding box within 0..innerWidth). The layout
is CSS alone (static/css/app.css, below 40rem): the same fragment templates as on the desktop,
tables as cards, the indicator grid as one card per indicator.
"""

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from tests.route_args import value_for
from tracker.extensions import db
from tracker.models import Activity, BudgetLine, Expenditure, Indicator, IndicatorPeriod, ProgressLog

PHONES = {"390x844": {"width": 390, "height": 844}, "360x740": {"width": 360, "height": 740}}
NARROWEST = {"width": 360, "height": 740}
TITLE_11B = "1.1.b Press articles published on the project"

# Controls a thumb presses: buttons, links styled as buttons, and the labels of checkboxes and
# radio buttons. Each visible one must be at least 44 px high on a phone.
TOUCH_TARGETS_JS = """() => {
  const seen = [], small = [];
  const visible = el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return box.width > 2 && box.height > 2 && style.visibility !== 'hidden' && !el.closest('[hidden], .vh, .visually-hidden');
  };
  const name = el => (el.innerText || el.value || el.getAttribute('aria-label') || el.id || el.tagName).trim().slice(0, 40);
  for (const el of document.querySelectorAll(
      'button, input[type=submit], input[type=button], input[type=reset], a.button, .link-button, [role=button], summary')) {
    if (visible(el)) seen.push([el, name(el)]);
  }
  for (const box of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    for (const label of box.labels || []) if (visible(label)) seen.push([label, 'label of ' + name(label)]);
  }
  for (const [el, text] of seen) {
    const height = el.getBoundingClientRect().height;
    if (height < 44) small.push(`${text} (${Math.round(height)} px high)`);
  }
  return {count: seen.length, small};
}"""


def body_fits(page) -> None:
    """The page body does not scroll sideways."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width} px of content in a {inner} px window"


def in_view(page, control):
    """Scroll to ``control`` and check that it lies within the viewport's width; gives it back."""
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    inner = page.evaluate("innerWidth")
    assert box is not None, f"{control} is not displayed"
    assert 0 <= box["x"] and box["x"] + box["width"] <= inner + 0.5, \
        f"{control} lies at x = {box['x']:.0f}..{box['x'] + box['width']:.0f}, outside 0..{inner}"
    return control


def one(app, query):
    with app.app_context():
        return db.session.execute(query).scalar_one()


@pytest.mark.parametrize("screen", PHONES.values(), ids=PHONES.keys())
def test_the_officers_week_on_a_phone(screen, live_app, login_as, page, base_url):
    page.set_viewport_size(screen)
    login_as("officer")
    body_fits(page)

    # 1. Log a week from the week page: the form opens in the activity's card, and saving swaps
    #    the card in place (no page load) with the counters.
    page.goto(f"{base_url}/projects/1/week/2016-W47")
    page.evaluate("window.pageMarker = 'same page'")
    body_fits(page)
    card = page.locator(f"#activity-{one(live_app, select(Activity.id).where(Activity.code == 'A1.3'))}")
    in_view(page, card.get_by_role("link", name="Log week 2016-W47 for A1.3")).click()
    in_view(page, card.get_by_label("Status"))
    in_view(page, card.get_by_role("textbox", name="% complete")).fill("90")
    in_view(page, card.get_by_label("What was done")).fill("Hoàn thiện bản thảo báo cáo phân tích tình hình")
    body_fits(page)
    in_view(page, card.get_by_role("button", name="Save log for A1.3")).click()
    expect(card.locator(".week-state")).to_contain_text("Logged")
    expect(page.locator("#due-count")).to_have_text("1")
    in_view(page, card.get_by_role("link", name="Edit log 2016-W47 for A1.3"))
    body_fits(page)
    assert page.evaluate("window.pageMarker") == "same page"
    log = one(live_app, select(ProgressLog))
    assert (log.iso_week, log.percent_complete) == ("2016-W47", 90)

    # 2. Enter an indicator actual in the grid, on its indicator's card: Enter saves it and moves
    #    down the card to the next period's actual.
    page.goto(f"{base_url}/projects/1/indicators")
    body_fits(page)
    actual = in_view(page, page.get_by_label(f"Actual of {TITLE_11B}, 2017 H1 (a number)"))
    following = page.get_by_label(f"Actual of {TITLE_11B}, 2017 H2 (a number)")
    actual.click()
    actual.fill("3")
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        actual.press("Enter")
    assert saved.value.status == 200
    expect(following).to_be_focused()
    here, below = actual.bounding_box(), in_view(page, following).bounding_box()
    assert below["y"] > here["y"] and abs(below["x"] - here["x"]) < 1, "the next period's actual is below this one"
    body_fits(page)
    period = one(live_app, select(IndicatorPeriod).join(Indicator).where(
        Indicator.code == "1.1.b", IndicatorPeriod.start_date == "2017-01-01"))
    assert period.actual == 3

    # 3. Book an expenditure on the budget page (inline form, swapped by htmx).
    page.goto(f"{base_url}/projects/1/budget")
    body_fits(page)
    # The form loads when revealed (htmx swaps the placeholder, which has the form's id).
    page.evaluate("document.getElementById('expenditure-form').scrollIntoView()")
    form = page.locator("form#expenditure-form")
    in_view(page, form.get_by_label("Date")).fill("2016-11-30")
    line = one(live_app, select(BudgetLine.id).where(BudgetLine.code == "BL2"))
    in_view(page, form.get_by_label("Budget line")).select_option(value=str(line))
    in_view(page, form.get_by_label("Amount (USD)")).fill("125.50")
    in_view(page, form.get_by_label("Voucher or reference number")).fill("V-PHONE-1")
    in_view(page, form.get_by_label("Payee")).fill("Quán cà phê Huế")
    body_fits(page)
    in_view(page, form.get_by_role("button", name="Book the expenditure")).click()
    expect(page.locator("#expenditure-form .flash-success")).to_contain_text("Booked V-PHONE-1")
    body_fits(page)
    assert one(live_app, select(Expenditure.amount_cents).where(Expenditure.voucher == "V-PHONE-1")) == 12550

    # 4. (Issue 14, part 2, adds its step here: photograph a receipt as evidence for V-PHONE-1
    #    and link it, with the same body_fits / in_view checks.)

    # 5. Submit the period whose actual was entered: its state link under the actual opens it.
    page.goto(f"{base_url}/projects/1/indicators")
    in_view(page, page.locator(f"#cell-{period.id}-actual a")).click()
    page.wait_for_url(f"**/indicators/periods/{period.id}")
    body_fits(page)
    in_view(page, page.get_by_role("button", name="Submit for approval")).click()
    expect(page.locator("#workflow .badge")).to_have_text("Submitted")
    body_fits(page)
    assert one(live_app, select(IndicatorPeriod.state).where(IndicatorPeriod.id == period.id)) == "submitted"


def test_the_grid_on_a_phone_is_one_card_per_indicator_with_locked_cells_read_only(live_app, login_as, page, base_url):
    """Each indicator's periods run down its card as target / actual pairs, each input still
    labelled with its indicator, kind and period; an approved (locked) period offers no input."""
    page.set_viewport_size(PHONES["390x844"])
    login_as("manager")
    page.goto(f"{base_url}/projects/1/indicators")
    body_fits(page)
    indicator = one(live_app, select(Indicator).where(Indicator.code == "1.1.b"))
    card = page.locator(f"#indicator-{indicator.id}")
    targets = [page.get_by_label(f"Target of {TITLE_11B}, {p} (a number)") for p in ("2016 H2", "2017 H1", "2017 H2")]
    actuals = [page.get_by_label(f"Actual of {TITLE_11B}, {p} (a number)") for p in ("2016 H2", "2017 H1", "2017 H2")]
    boxes = [(in_view(page, t).bounding_box(), in_view(page, a).bounding_box()) for t, a in zip(targets, actuals, strict=True)]
    for (target, actual), (next_target, _next_actual) in zip(boxes, boxes[1:], strict=False):
        assert abs(target["y"] - actual["y"]) < 4 and target["x"] < actual["x"], "a period's target and actual side by side"
        assert next_target["y"] > target["y"] + target["height"], "the next period below"
    card_box = card.bounding_box()
    assert card_box["x"] >= 0 and card_box["x"] + card_box["width"] <= 390
    # The first period (2016 H1) is approved, so locked: shown, not editable.
    first = one(live_app, select(IndicatorPeriod).where(IndicatorPeriod.indicator_id == indicator.id)
                .order_by(IndicatorPeriod.start_date).limit(1))
    assert first.state == "approved"
    for kind in ("target", "actual"):
        cell = page.locator(f"#cell-{first.id}-{kind}")
        expect(cell).to_be_visible()
        expect(cell.locator("input")).to_have_count(0)
    shown = page.locator(f"#cell-{first.id}-target").evaluate("cell => getComputedStyle(cell, '::before').content")
    assert shown == '"2016 H1"', "the target cell shows its period's name (data-p)"
    # Keyboard on the card: Tab goes target -> actual of the same period, Enter down to the next period.
    targets[1].click()
    targets[1].press("Tab")
    expect(actuals[1]).to_be_focused()
    actuals[1].press("Shift+Enter")
    expect(actuals[0]).to_be_focused()


PAGE_SKIP_SUFFIXES = (".csv", ".xlsx", ".xml", ".txt", ".docx", ".pdf", "/file", "/chart")
# The liaison's pages are the manager's with fewer controls (the manager's sweep covers them).
ROLES = ("manager", "officer", "auditor", "admin")


def demo_pages(app) -> list[str]:
    """Every page of the app that answers GET with HTML, for the demo project: the rules of the
    URL map with tests/route_args.py's values (as tests/test_route_matrix.py builds them), less
    downloads (CSV, Excel, XML, text, files, charts) and the health probe. A route with an
    argument route_args does not know yet is left to tests/test_route_matrix.py, which fails
    and says what to add."""
    paths = []
    with app.app_context():
        adapter = app.url_map.bind("localhost")
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in ("static", "projects.healthz"):
                continue
            if rule.rule.endswith(PAGE_SKIP_SUFFIXES):
                continue
            try:
                values = {name: value_for(rule.endpoint, name, db.session, 1) for name in rule.arguments}
            except KeyError:
                continue
            paths.append(adapter.build(rule.endpoint, values))
    return sorted(set(paths))


@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_at_360_px_and_buttons_are_thumb_sized(role, live_app, login_as, page, base_url):
    page.set_viewport_size(NARROWEST)
    login_as(role)
    paths = demo_pages(live_app)
    if role == "admin":  # the project's pages as the manager sees them are the manager's sweep
        paths = [path for path in paths if not path.startswith("/projects/")]
    problems, checked = [], 0
    for path in paths:
        try:
            # The stylesheet comes before the deferred scripts, so the layout is final here.
            response = page.goto(f"{base_url}{path}", wait_until="domcontentloaded")
        except PlaywrightError as error:  # a download under a name without a telling suffix
            if "Download is starting" in str(error):
                continue
            raise
        if 400 <= response.status < 500 or not response.headers.get("content-type", "").startswith("text/html"):
            continue  # not this role's page, or a fragment that needs its query (tests/test_route_matrix.py)
        if response.status != 200:
            problems.append(f"{path} answered {response.status}")
            continue
        checked += 1
        width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        if width > inner:
            problems.append(f"{path} scrolls sideways: {width} px in {inner} px")
        targets = page.evaluate(TOUCH_TARGETS_JS)
        problems += [f"{path}: {small}" for small in targets["small"]]
    assert checked >= (4 if role == "admin" else 12), f"only {checked} of {len(paths)} pages opened for the {role}"
    assert problems == [], "\n".join(problems)


def test_the_checks_themselves_catch_a_wide_page_and_a_small_button(live_app, login_as, page, base_url):
    """Proves the checks are not vacuous: a 600 px wide block and a 20 px button are reported."""
    page.set_viewport_size(NARROWEST)
    login_as("officer")
    page.evaluate("""() => {
      const wide = document.createElement('div'); wide.style.width = '600px'; wide.textContent = 'wide';
      const small = document.createElement('button'); small.style.minHeight = '0'; small.style.height = '20px'; small.textContent = 'tiny';
      document.querySelector('main').append(wide, small);
    }""")
    with pytest.raises(AssertionError, match="scrolls sideways"):
        body_fits(page)
    assert "tiny (20 px high)" in page.evaluate(TOUCH_TARGETS_JS)["small"]
