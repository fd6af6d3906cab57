"""Helpers shared by test modules."""

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, insert, select

from tracker.extensions import db
from tracker.models import Activity, Project, ResultNode

HX = {"HX-Request": "true"}


@contextmanager
def count_queries(app):
    """Collect the SQL statements sent while the block runs; ``len()`` of it is the count."""
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def warm_queries(app, client, url, **kwargs) -> list[str]:
    """The SQL statements of a GET of ``url`` made a second time (the first one warms the
    caches), for "the query count does not grow with the data" tests."""
    client.get(url, **kwargs)
    with count_queries(app) as statements:
        client.get(url, **kwargs)
    return statements


def add_activities(project_id: int, count: int, *, status: str) -> tuple[int, list[int]]:
    """Bulk-insert ``count`` activities B0, B1, ... ("Hoạt động i", 10 % complete) under result
    1.2.2, inside an app context, for query-count tests; (the result's id, the new ids)."""
    result = db.session.execute(select(ResultNode.id).where(ResultNode.code == "1.2.2")).scalar_one()
    db.session.execute(insert(Activity), [
        {"project_id": project_id, "result_id": result, "code": f"B{i}", "title": f"Hoạt động {i}",
         "status": status, "percent_complete": 10, "position": 100 + i, "version": 1} for i in range(count)])
    return result, db.session.execute(select(Activity.id).where(Activity.code.like("B%"))).scalars().all()


def add_bare_project() -> Project:
    """A second project "OTHER" with nothing in it (added and flushed in the current session):
    what a row of another project is refused against. The ``other_project`` fixture (conftest)
    is the one with members, results and a budget line."""
    project = Project(code="OTHER", title="Other", grant_cents=1_000_00, start_date=date(2016, 1, 1),
                      end_date=date(2016, 12, 31))
    db.session.add(project)
    db.session.flush()
    return project
