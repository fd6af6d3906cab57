""""Needs your action" a page of projects at a time: the landing page lists the first five
projects with items and links to the inbox for the rest; the inbox lists 25 a page with
previous / next links that work without JavaScript; the counts stay true for everything."""

import re
from datetime import date

from sqlalchemy import select

from tests.helpers import warm_queries
from tracker.extensions import db
from tracker.inbox.routes import INBOX_PROJECTS_PER_PAGE, PORTFOLIO_INBOX_PROJECTS
from tracker.models import Indicator, IndicatorPeriod, Membership, Project, ResultNode, User


def _add_projects(app, first, count):
    """Projects PG-<n> where the demo's manager is a member, each with one period waiting for approval."""
    with app.app_context():
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        for n in range(first, first + count):
            project = Project(code=f"PG-{n:02d}", title=f"Paged {n}", grant_cents=100_000_00,
                              start_date=date(2016, 1, 1), end_date=date(2017, 12, 31))
            db.session.add(project)
            db.session.flush()
            db.session.add(Membership(user_id=manager.id, project_id=project.id, role="manager"))
            result = ResultNode(project_id=project.id, level="objective", code="1", statement="Objective")
            db.session.add(result)
            db.session.flush()
            indicator = Indicator(project_id=project.id, result_id=result.id, code="1.1", title="Trained", position=0)
            db.session.add(indicator)
            db.session.flush()
            db.session.add(IndicatorPeriod(project_id=project.id, indicator_id=indicator.id, start_date=date(2016, 1, 1),
                                           end_date=date(2016, 6, 30), target=10, actual=12, state="submitted"))
        db.session.commit()


def _listed(html: str) -> list[str]:
    return re.findall(r'id="inbox-project-(\d+)"', html)


def test_the_landing_page_lists_five_projects_and_links_to_the_inbox_for_the_rest(app, client, auth, demo):
    _add_projects(app, 0, 27)  # 28 projects with items, the demo's among them
    auth.login("manager")
    page = client.get("/").get_data(as_text=True)
    assert len(_listed(page)) == PORTFOLIO_INBOX_PROJECTS == 5
    assert "23 more projects need your action: see them all in the inbox" in page
    assert 'href="/inbox"' in page
    assert "33 items in 28 projects." in page  # 27 single periods and the demo's 6, counted in full


def test_the_inbox_pages_through_every_project_once(app, client, auth, demo):
    _add_projects(app, 0, 27)
    auth.login("manager")
    first = client.get("/inbox").get_data(as_text=True)
    assert len(_listed(first)) == INBOX_PROJECTS_PER_PAGE == 25
    assert 'href="/inbox?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert "Page 1 of 2" in first
    second = client.get("/inbox?page=2").get_data(as_text=True)
    assert len(_listed(second)) == 3
    assert 'href="/inbox?page=1" rel="prev"' in second and 'rel="next"' not in second
    assert set(_listed(first)).isdisjoint(_listed(second))
    assert str(demo) in _listed(first) + _listed(second)
    # The demo's group keeps its true count (6 waiting) though it lists the first five.
    demo_html = (first + second).split(f'id="inbox-project-{demo}"')[1].split("</section>")[0]
    assert re.search(r'data-kind="period_submitted">[^<]*<span class="count">6</span>', demo_html)
    assert "and 1 more" in demo_html
    # A page past the end shows the last page rather than nothing.
    assert _listed(client.get("/inbox?page=99").get_data(as_text=True)) == _listed(second)


def test_one_project_has_no_pager_and_no_more_link(client, auth):
    auth.login("manager")
    page = client.get("/").get_data(as_text=True)
    assert len(_listed(page)) == 1
    assert "more project" not in page and "items in" not in page
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Next projects" not in inbox and "Page 1 of" not in inbox


def test_the_inbox_sends_as_many_queries_for_30_projects_as_for_4(app, client, auth):
    _add_projects(app, 0, 3)
    auth.login("manager")
    few = len(warm_queries(app, client, "/inbox"))
    _add_projects(app, 3, 27)
    many = len(warm_queries(app, client, "/inbox"))
    assert few == many
