"""The navigation badges are remembered between pages, and never shown stale after a change.

Every page carries the badges, so their counts are remembered per person until the audit
trail gains an event (every change the app makes appends one), the day changes or a minute
passes (tracker/inbox/services.py, ``_TOTALS_MEMO``)."""

import re
from datetime import date

from sqlalchemy import select

from tests.conftest import DEMO_PASSWORDS
from tests.helpers import count_queries
from tracker.extensions import db
from tracker.inbox import services
from tracker.models import IndicatorPeriod, User


def _nav_count(html: str) -> int:
    match = re.search(r'id="inbox-count"[^>]*>(\d+)', html)
    assert match, "no inbox count in the page"
    return int(match.group(1))


def _count_statements(statements) -> int:
    return sum("UNION ALL" in s for s in statements)


def test_a_second_page_reuses_the_counts_and_another_persons_change_shows_at_once(app, demo):
    manager, officer = app.test_client(), app.test_client()
    for client, role in ((manager, "manager"), (officer, "officer")):
        email, password = DEMO_PASSWORDS[role]
        assert client.post("/login", data={"email": email, "password": password}).status_code == 303
    first = manager.get("/").get_data(as_text=True)
    assert _nav_count(first) == 6
    with count_queries(app) as statements:
        again = manager.get("/account").get_data(as_text=True)
    assert _nav_count(again) == 6
    assert _count_statements(statements) == 0, "the badge was counted again though nothing changed"

    # A period goes back to draft (an audited change made outside any page): the next page shows it.
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.state == "submitted")
                                    .order_by(IndicatorPeriod.id)).scalars().first()
        period.state = "draft"
        db.session.commit()
        period_id, version = period.id, period.version
    assert _nav_count(manager.get("/account").get_data(as_text=True)) == 5

    # The officer submits it again: the manager's next page counts afresh and shows it.
    response = officer.post(f"/projects/{demo}/indicators/periods/{period_id}/submit", data={"version": version})
    assert response.status_code == 303, response.status_code
    with count_queries(app) as statements:
        after = manager.get("/account").get_data(as_text=True)
    assert _count_statements(statements) == 1
    assert _nav_count(after) == 6


def test_the_memo_never_crosses_people_or_days(app, demo):
    with app.app_context(), app.test_request_context():
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        auditor = db.session.execute(select(User).where(User.email == "auditor@demo.test")).scalar_one()
        assert services.totals_by_project(manager) == {demo: 6}
        assert services.totals_by_project(auditor) == {demo: services.counts_for(auditor)["total"]}
        assert services.totals_by_project(manager) == {demo: 6}
        # Another day counts afresh (late work moves with the date), and matches an uncached count.
        app.config["TODAY"] = date(2030, 1, 1)
        assert services.totals_by_project(manager) == services.totals_by_project(manager, today=date(2030, 1, 1))
        assert services.totals_by_project(auditor) == {demo: services.counts_for(auditor)["total"]}
