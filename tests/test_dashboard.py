"""The dashboard strip (overview and portfolio cards), late badges, and query counts that do not
grow with the number of projects or indicators."""

from datetime import date

from sqlalchemy import select

from tests.helpers import count_queries
from tracker.extensions import db
from tracker.inbox import dashboard, services
from tracker.models import Indicator, IndicatorPeriod, Membership, Project, User


def test_the_overview_shows_the_strip_with_the_demo_figures(client, auth, demo, app):
    auth.login("officer")
    page = client.get(f"/projects/{demo}").get_data(as_text=True)
    assert 'id="dashboard-' in page and "Waiting for approval" in page and "Late activities" in page
    with app.app_context():
        board = dashboard.dashboards([db.session.get(Project, demo)], today=date(2018, 1, 1))[demo]
    assert board.waiting_approval == 6
    assert board.late_activities == 3  # A1 and A1.3 past their end, A2 never started
    assert board.elapsed_pct == 100
    assert sum(board.statuses.values()) == 6
    assert board.coverage_pct is not None and board.used_pct is not None


def test_portfolio_cards_carry_the_strip(client, auth, demo):
    auth.login("manager")
    page = client.get("/").get_data(as_text=True)
    assert f'id="dashboard-{demo}"' in page and "Verified evidence" in page


def test_late_badges_on_the_activity_rows_and_the_logframe(client, auth, demo):
    auth.login("officer")
    for url in (f"/projects/{demo}/activities", f"/projects/{demo}/logframe"):
        page = client.get(url).get_data(as_text=True)
        assert page.count('class="badge badge-late"') >= 3, url


def _add_projects(app, count, indicators_each):
    """``count`` projects where the demo's manager is a member, each with indicators and periods."""
    with app.app_context():
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        result_owner = db.session.execute(select(Project).where(Project.code == "KFIT-VNM-CI")).scalar_one()
        from tracker.models import ResultNode
        for n in range(count):
            project = Project(code=f"BENCH-{n}", title=f"Bench {n}", grant_cents=100_000_00,
                              start_date=date(2016, 1, 1), end_date=date(2017, 12, 31))
            db.session.add(project)
            db.session.flush()
            db.session.add(Membership(user_id=manager.id, project_id=project.id, role="manager"))
            result = ResultNode(project_id=project.id, level="objective", code="1", statement="Objective")
            db.session.add(result)
            db.session.flush()
            for i in range(indicators_each):
                indicator = Indicator(project_id=project.id, result_id=result.id, code=f"1.{i}", title=f"I {i}",
                                      position=i)
                db.session.add(indicator)
                db.session.flush()
                db.session.add(IndicatorPeriod(project_id=project.id, indicator_id=indicator.id,
                                               start_date=date(2016, 1, 1), end_date=date(2016, 6, 30),
                                               target=10, actual=9, state="submitted"))
        db.session.commit()
        assert result_owner.id


def _inbox_and_dashboard_queries(app):
    with app.app_context():
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        db.session.expire_all()
        projects = db.session.execute(select(Project)).scalars().all()  # loaded, as a page has them
        with count_queries(app) as inbox_statements:
            services.items_for(manager)
            services.counts_for(manager)
        with count_queries(app) as board_statements:
            dashboard.dashboards(projects)
        return len(inbox_statements), len(board_statements)


def test_query_counts_do_not_grow_with_projects_or_indicators(app):
    one = _inbox_and_dashboard_queries(app)
    _add_projects(app, 6, 8)
    many = _inbox_and_dashboard_queries(app)
    assert one == many
    with app.app_context():
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        counts = services.counts_for(manager)
    assert counts["period_submitted"] == 6 + 6 * 8  # every project's items are found
