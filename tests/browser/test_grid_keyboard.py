"""Editing the indicator grid by keyboard in Chromium: Enter saves and moves down, Tab saves and
moves right, Escape puts the saved value back; a bad value keeps the typed text and its error."""

from playwright.sync_api import expect
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod

TITLE_11A = "1.1.a Policy dialogues held between creative hubs and government agencies"


def periods(app, code):
    with app.app_context():
        return db.session.execute(
            select(IndicatorPeriod).join(Indicator).where(Indicator.code == code)
            .order_by(IndicatorPeriod.start_date)).scalars().all()


def test_enter_saves_and_moves_down_tab_moves_right_escape_cancels(login_as, page, base_url, live_app):
    login_as("manager")
    page.goto(f"{base_url}/projects/1/indicators")
    page.evaluate("window.pageMarker = 'same page'")
    target = page.get_by_label(f"Target of {TITLE_11A}, 2017 H1 (a number)")
    actual = page.get_by_label(f"Actual of {TITLE_11A}, 2017 H1 (a number)")
    target.click()
    target.fill("2")
    target.press("Enter")
    expect(actual).to_be_focused()  # moved down once the save succeeded
    assert periods(live_app, "1.1.a")[2].target == 2
    actual.fill("1")
    actual.press("Tab")  # saves and moves right; the version from the target's save is current
    expect(page.get_by_label(f"Actual of {TITLE_11A}, 2017 H2 (a number)")).to_be_focused()
    assert periods(live_app, "1.1.a")[2].actual == 1
    summary = page.locator(f"#summary-{periods(live_app, '1.1.a')[0].indicator_id}")
    expect(summary.locator(".to-date")).to_have_text("2")  # cumulative: 0 + 1 + 1, swapped out of band
    right = page.get_by_label(f"Actual of {TITLE_11A}, 2017 H2 (a number)")
    right.fill("7")
    right.press("Escape")
    expect(right).to_have_value("")
    expect(right).to_be_focused()
    right.press("Shift+Tab")  # unchanged: moves left without saving
    expect(actual).to_be_focused()
    assert periods(live_app, "1.1.a")[3].actual is None
    assert page.evaluate("window.pageMarker") == "same page"


def test_an_invalid_value_keeps_the_typed_text_and_shows_the_error(login_as, page, base_url, live_app):
    login_as("officer")
    page.goto(f"{base_url}/projects/1/indicators")
    cell = page.get_by_label("Actual of 1.1.b Press articles published on the project, 2017 H1 (a number)")
    cell.click()
    cell.fill("mười hai")
    cell.press("Enter")
    error = page.locator(".cell-error")
    expect(error).to_contain_text("must be a number, for example 12 or 3.5")
    expect(cell).to_have_value("mười hai")
    expect(cell).to_have_attribute("aria-invalid", "true")
    expect(cell).to_be_focused()  # focus stays on the cell to correct it
    assert periods(live_app, "1.1.b")[2].actual is None
    cell.press("Escape")  # back to the saved (empty) value, error gone
    expect(cell).to_have_value("")
    expect(error).to_have_count(0)
    cell.fill("3")
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        cell.press("Enter")  # wait for the save itself: the error is already gone before it answers
    assert saved.value.ok
    expect(page.locator(".cell-error")).to_have_count(0)
    assert periods(live_app, "1.1.b")[2].actual == 3


def test_a_cell_left_with_the_mouse_is_saved_in_place(login_as, page, base_url, live_app):
    login_as("officer")
    page.goto(f"{base_url}/projects/1/indicators")
    cell = page.get_by_label("Actual of 1.2.c Progress of the policy framework for the pilot sector, 2017 H1 (text)")
    cell.click()
    cell.fill("Đã chọn ngành thí điểm: thủ công mỹ nghệ")
    page.locator("h1").click()
    summary = page.locator(f"#summary-{periods(live_app, '1.2.c')[0].indicator_id}")
    expect(summary).to_contain_text("Đã chọn ngành thí điểm")  # saved: the summary was swapped
    expect(cell).to_have_value("Đã chọn ngành thí điểm: thủ công mỹ nghệ")
    expect(cell).not_to_be_focused()  # focus stays where the mouse put it
    assert periods(live_app, "1.2.c")[2].actual_text == "Đã chọn ngành thí điểm: thủ công mỹ nghệ"
