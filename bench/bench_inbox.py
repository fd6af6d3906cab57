"""Query counts and CPU time of "Needs your action" and the dashboard strip (issue 13).

For 1, 10 and 50 projects, each small (5 indicators, 10 activities, 10 expenditures) or large
(100 indicators x 4 periods, 200 activities, 200 expenditures), one person is the manager of
every project (the officer's kinds are measured as well by a second person, the officer of
every project). Prints, per case: the SQL statements of ``items_for`` + ``counts_for`` (the
inbox), of ``totals_by_project`` (the navigation's badges) and of ``dashboards`` for all the
projects (plus the one query that loads them), with the median CPU milliseconds of 5 runs.
The figures are printed, never asserted.

    .venv/bin/python bench/bench_inbox.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.inbox import dashboard, services  # noqa: E402
from tracker.models import (  # noqa: E402
    Activity,
    BudgetLine,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Membership,
    Project,
    ResultNode,
    User,
)

SIZES = {"small": (5, 1, 10, 10), "large": (100, 4, 200, 200)}  # indicators, periods each, activities, spending


def _person(email: str, name: str) -> User:
    user = User(email=email, name=name, password_hash="x")
    db.session.add(user)
    db.session.flush()
    return user


def populate(projects: int, size: str) -> tuple[User, User]:
    indicators, periods, activities, spending = SIZES[size]
    manager, officer = _person("m@bench.test", "Manager"), _person("o@bench.test", "Officer")
    for n in range(projects):
        project = Project(code=f"B{n:03d}", title=f"Bench {n}", grant_cents=10_000_000_00,
                          start_date=date(2016, 1, 1), end_date=date(2017, 12, 31))
        db.session.add(project)
        db.session.flush()
        db.session.add_all([Membership(user_id=manager.id, project_id=project.id, role="manager"),
                            Membership(user_id=officer.id, project_id=project.id, role="officer")])
        result = ResultNode(project_id=project.id, level="objective", code="1", statement="Objective")
        line = BudgetLine(project_id=project.id, code="L1", description="Line", original_cents=1_000_000_00)
        db.session.add_all([result, line])
        db.session.flush()
        db.session.execute(insert(Indicator), [
            {"project_id": project.id, "result_id": result.id, "code": f"1.{i}", "title": f"Indicator {i}",
             "unit": "number", "ascending": True, "cumulative": True, "illustrative": False, "position": i}
            for i in range(indicators)])
        ids = db.session.execute(select(Indicator.id).where(Indicator.project_id == project.id)).scalars().all()
        db.session.execute(insert(IndicatorPeriod), [
            {"project_id": project.id, "indicator_id": iid, "start_date": date(2016 + p // 2, 1 + 6 * (p % 2), 1),
             "end_date": date(2016 + p // 2, 6 + 6 * (p % 2), 30 if p % 2 == 0 else 31), "target": 10,
             "actual": None if p == periods - 1 else 8, "state": "submitted" if p == 0 else "draft", "version": 1}
            for iid in ids for p in range(periods)])
        db.session.execute(insert(Activity), [
            {"project_id": project.id, "result_id": result.id, "code": f"A{i}", "title": f"Activity {i}",
             "status": ("on_track", "not_started", "completed")[i % 3], "percent_complete": 10,
             "planned_start": date(2016, 3, 1), "planned_end": date(2017, 6, 30), "position": i, "version": 1}
            for i in range(activities)])
        db.session.execute(insert(Expenditure), [
            {"project_id": project.id, "line_id": line.id, "spent_on": date(2016, 5, 1), "amount_cents": 100_00,
             "voucher": f"V{i}", "status": "disbursed", "version": 1} for i in range(spending)])
    db.session.commit()
    return manager, officer


def measure(action) -> tuple[int, float]:
    statements = []

    def listener(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    times = []
    for _ in range(5):
        db.session.expire_all()
        started = time.process_time()
        action()
        times.append((time.process_time() - started) * 1000)
    return len(statements), statistics.median(times)


def run_case(projects: int, size: str, folder: Path) -> dict:
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'inbox-{projects}-{size}.sqlite3'}",
                      "SECRET_KEY": "bench", "TESTING": False, "TODAY": date(2018, 1, 15)})
    with app.app_context(), app.test_request_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "tracker" / "migrations"))
        manager, officer = populate(projects, size)
        figures = {}
        for who in (manager, officer):
            figures[f"inbox ({'manager' if who is manager else 'officer'})"] = measure(
                lambda who=who: (services.items_for(who), services.counts_for(who)))
        figures["nav badges"] = measure(lambda: services.totals_by_project(manager))
        # The page has its projects loaded already; here one more query loads them (counted).
        figures["dashboard, all cards"] = measure(
            lambda: dashboard.dashboards(db.session.execute(select(Project)).scalars().all()))
        items = services.counts_for(manager)["total"] + services.counts_for(officer)["total"]
        db.session.remove()
        db.engine.dispose()
    return {"figures": figures, "items": items}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'case':<18} {'what':<22} {'queries':>7} {'CPU ms':>8}")
        for size in SIZES:
            for projects in (1, 10, 50):
                result = run_case(projects, size, folder)
                for what, (queries, ms) in result["figures"].items():
                    print(f"{projects:>3} x {size:<12} {what:<22} {queries:>7} {ms:>8.1f}")
                print(f"{'':<18} ({result['items']} items in all)")


if __name__ == "__main__":
    main()
