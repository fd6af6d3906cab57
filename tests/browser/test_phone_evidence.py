"""On a phone (390 × 844, touch): from an expenditure, add a photo taken with the camera input as
evidence, link it to an activity through the searchable checkbox list, save, and find its
thumbnail in the register. At each step the page does not scroll sideways and each control
used lies inside the viewport once scrolled to."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORDS
from tracker.extensions import db
from tracker.models import Activity, EvidenceItem, Expenditure

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def no_sideways_scroll(page, where):
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page scrolls sideways ({widths[0]} > {widths[1]} px)"


def inside_viewport(locator, what):
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    width, height = locator.page.evaluate("[window.innerWidth, window.innerHeight]")
    assert box is not None, f"{what} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, f"{what} is cut off sideways: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5, f"{what} is not in view: {box}"
    return locator


def photo() -> bytes:
    picture = Image.new("RGB", (1600, 1200), (30, 120, 60))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes(), quality=85)
    return out.getvalue()


def test_a_photo_added_from_an_expenditure_and_linked_on_a_phone(phone, base_url, live_app):
    page = phone
    with live_app.app_context():
        spend = db.session.execute(select(Expenditure).where(Expenditure.voucher == "V-2016-003")).scalar_one()
        spend_id, spent_on = spend.id, spend.spent_on.isoformat()
        a14 = db.session.execute(select(Activity.id).where(Activity.code == "A1.4")).scalar_one()
    email, password = DEMO_PASSWORDS["officer"]
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")

    page.goto(f"{base_url}/projects/1/expenditures/{spend_id}")
    no_sideways_scroll(page, "expenditure")
    inside_viewport(page.get_by_role("link", name="Add evidence for this expenditure"), "Add evidence").click()

    page.wait_for_url(re.compile(r"/evidence/new\?"))
    no_sideways_scroll(page, "evidence form")
    expect(page.get_by_label("Kind")).to_have_value("receipt")
    expect(page.get_by_label("Date", exact=True)).to_have_value(spent_on)
    camera = inside_viewport(page.get_by_label("Take a photo"), "Take a photo")
    assert camera.get_attribute("capture") == "environment"
    camera.set_input_files(files=[{"name": "IMG_0412.jpg", "mimeType": "image/jpeg", "buffer": photo()}])
    inside_viewport(page.get_by_label("Kind"), "Kind").select_option("photo")
    inside_viewport(page.get_by_label("Title"), "Title").fill("Ảnh hoá đơn và hội thảo Huế")

    search = inside_viewport(page.get_by_label("Search activities"), "activity search")
    search.fill("Huế")
    box = page.get_by_role("checkbox", name=re.compile(r"^A1\.4 Policy dialogue"))
    expect(page.locator("#link-status-activity")).to_contain_text("“Huế”")
    expect(page.get_by_role("checkbox", name=re.compile(r"^A1\.3 "))).to_have_count(0)  # the list was searched
    inside_viewport(box, "A1.4's checkbox").check()
    no_sideways_scroll(page, "evidence form after the search")
    expect(page.get_by_role("checkbox", name=re.compile(r"^V-2016-003"))).to_be_checked()  # from the expenditure
    inside_viewport(page.get_by_role("button", name="Add to the register"), "the save button").click()

    page.wait_for_url(f"{base_url}/projects/1/expenditures/{spend_id}")
    expect(page.get_by_role("link", name="Ảnh hoá đơn và hội thảo Huế")).to_be_visible()
    with live_app.app_context():
        item = db.session.execute(select(EvidenceItem).where(EvidenceItem.title == "Ảnh hoá đơn và hội thảo Huế")
                                  ).scalar_one()
        assert {(link.activity_id, link.expenditure_id) for link in item.links} == {(a14, None), (None, spend_id)}
        item_id = item.id

    page.goto(f"{base_url}/projects/1/evidence/{item_id}")
    no_sideways_scroll(page, "evidence item")
    thumb = inside_viewport(page.locator("img.evidence-thumb"), "the thumbnail")
    expect(thumb).to_have_js_property("complete", True)
    size = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [120, 160]  # 1600 × 1200 turned upright by its EXIF orientation, 160 px at most

    page.goto(f"{base_url}/projects/1/evidence")
    no_sideways_scroll(page, "evidence register")
    row_thumb = page.locator(f"#evidence-{item_id} img.evidence-thumb")
    inside_viewport(row_thumb, "the register's thumbnail")
    expect(row_thumb).to_have_js_property("complete", True)
    assert row_thumb.evaluate("img => img.naturalWidth") == 120
