"""The overview's and the portfolio's dashboard strip is counted once per change, not on every
load (tracker/inbox/dashboard.py, ``_BoardMemo``), and never shown stale after a change; its
texts follow each request's language though the figures are remembered."""

import re

from sqlalchemy import select, update

from tests.conftest import DEMO_PASSWORDS
from tests.helpers import count_queries
from tracker.extensions import db
from tracker.models import IndicatorPeriod, User


def _waiting(html: str, project_id: int) -> int:
    strip = re.search(rf'<dl class="dashboard-strip" id="dashboard-{project_id}">.*?</dl>', html, re.S)
    assert strip, "no dashboard strip in the page"
    return int(re.search(r'<dd class="waiting-approval">(\d+)</dd>', strip.group(0)).group(1))


def _status_sums(statements) -> int:
    """Statements that add up every indicator's periods (the strip's status counts)."""
    return sum("target_before" in s for s in statements)


def _client(app, role):
    client = app.test_client()
    email, password = DEMO_PASSWORDS[role]
    assert client.post("/login", data={"email": email, "password": password}).status_code == 303
    return client


def test_the_strip_is_counted_once_and_again_after_a_change(app, demo):
    manager, officer = _client(app, "manager"), _client(app, "officer")
    first = manager.get(f"/projects/{demo}").get_data(as_text=True)
    with count_queries(app) as statements:
        again = manager.get(f"/projects/{demo}").get_data(as_text=True)
    assert _waiting(again, demo) == _waiting(first, demo) == 6
    assert _status_sums(statements) == 0, "the periods were added up again though nothing changed"
    with count_queries(app) as statements:
        portfolio = manager.get("/").get_data(as_text=True)  # the same project's card: remembered too
    assert _waiting(portfolio, demo) == 6 and _status_sums(statements) == 0

    # A period goes back to draft (an audited change made outside any page): the next page shows it.
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.project_id == demo,
                                                                  IndicatorPeriod.state == "submitted")
                                    .order_by(IndicatorPeriod.id)).scalars().first()
        period.state = "draft"
        db.session.commit()
        period_id, version = period.id, period.version
    with count_queries(app) as statements:
        after = manager.get(f"/projects/{demo}").get_data(as_text=True)
    assert _waiting(after, demo) == 5 and _status_sums(statements) == 1
    assert _waiting(manager.get("/").get_data(as_text=True), demo) == 5

    # The officer submits it again: the manager's next page counts afresh and shows it.
    response = officer.post(f"/projects/{demo}/indicators/periods/{period_id}/submit", data={"version": version})
    assert response.status_code == 303, response.status_code
    assert _waiting(manager.get(f"/projects/{demo}").get_data(as_text=True), demo) == 6

def test_the_remembered_strip_is_shown_in_each_persons_language(app, demo):
    with app.app_context():
        db.session.execute(update(User).where(User.email == "officer@demo.test").values(locale="vi"))
        db.session.commit()
    manager, officer = _client(app, "manager"), _client(app, "officer")
    english = manager.get("/").get_data(as_text=True)
    vietnamese = officer.get("/").get_data(as_text=True)
    assert "<dt>Budget used</dt>" in english and "on track</span>" in english
    assert "<dt>Ngân sách đã dùng</dt>" in vietnamese and "đúng tiến độ</span>" in vietnamese
    assert "<dt>Vai trò của bạn</dt>" in vietnamese and "Budget used" not in vietnamese
    overview = officer.get(f"/projects/{demo}").get_data(as_text=True)
    assert "<dt>Ngân sách đã dùng</dt>" in overview and _waiting(overview, demo) == 6


def test_a_change_in_another_project_keeps_this_projects_strip(app, demo, other_project):
    """Each strip is remembered under its own project's newest audit event: saving in another
    project (of another team) does not make this overview add up its periods again."""
    from tracker.models import Activity

    manager = _client(app, "manager")
    manager.get(f"/projects/{demo}")
    with app.app_context():  # an audited change in the other project
        activity = db.session.execute(select(Activity).where(Activity.project_id != demo)
                                      .order_by(Activity.id)).scalars().first()
        assert activity is not None, "the other project has no activity"
        activity.title = activity.title + " (revised)"
        db.session.commit()
    with count_queries(app) as statements:
        page = manager.get(f"/projects/{demo}").get_data(as_text=True)
    assert _waiting(page, demo) == 6
    assert _status_sums(statements) == 0, "a change elsewhere made this project's strip count again"
