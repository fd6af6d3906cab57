"""An officer whose interface is Vietnamese books an amount paid in đồng, typed the Vietnamese way.

150.000.000 VND at 22.350 shows the USD figure it will book (150,000,000 / 22,350 = 6,711.41,
written 6.711,41 in Vietnamese) before anything is booked; a rate typed 22,35 (twenty-two
point three five in Vietnamese) brings up the confirmation warning, still before anything is
saved. All in real Chromium, with the htmx preview as the person types.
"""

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from tracker.demo.loader import demo_project
from tracker.extensions import db
from tracker.models import Expenditure, User


def test_a_vietnamese_officer_sees_the_usd_figure_and_the_rate_warning(page, base_url, live_app, login_as):
    with live_app.app_context():
        officer = db.session.execute(select(User).where(User.email == "officer@demo.test")).scalar_one()
        officer.locale = "vi"
        db.session.commit()
        project_id = demo_project().id
        booked_before = db.session.execute(select(func.count()).select_from(Expenditure)).scalar()
    login_as("officer")
    page.goto(f"{base_url}/projects/{project_id}/expenditures/new")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    preview = page.locator("#rate-preview")
    page.locator("[name=original_amount]").fill("150.000.000")
    page.locator("[name=original_currency]").select_option("VND")
    page.locator("[name=exchange_rate]").fill("22.350")
    expect(preview).to_contain_text(re.compile(r"6\.711,41\s*US\$"))
    expect(preview.locator(".rate-warning")).to_have_count(0)

    page.locator("[name=exchange_rate]").fill("22,35")
    warning = preview.locator(".rate-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("22.350")  # the last rate of the project, the Vietnamese way
    expect(warning).to_contain_text(re.compile(r"6\.711\.409,40\s*US\$"))  # what 22,35 would book
    expect(warning.locator("[name=rate_confirmed]")).to_be_visible()
    expect(warning.locator("[name=rate_reason]")).to_be_visible()

    with live_app.app_context():  # typing saved nothing
        assert db.session.execute(select(func.count()).select_from(Expenditure)).scalar() == booked_before
