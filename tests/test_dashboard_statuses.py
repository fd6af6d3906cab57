"""The dashboard strip's indicator statuses (summed in SQL, tracker/inbox/dashboard.py) are the
statuses the indicator pages show (the one rule, results.values.indicator_progress, over every
period), for every kind of indicator: cumulative or not, ascending or descending, gaps in the
targets or actuals, zero targets, qualitative, no actual at all."""

from datetime import date
from decimal import Decimal
from itertools import product

from sqlalchemy import select

from tracker.extensions import db
from tracker.inbox import dashboard
from tracker.models import Indicator, IndicatorPeriod, Project, ResultNode
from tracker.results.values import indicator_progress

SERIES = (  # (target, actual) per period, None where empty
    [(10, 4), (10, 6), (10, None)],          # on track when cumulative: 10 of 20
    [(10, 4), (None, 3), (20, None)],        # a period without a target
    [(None, None), (None, 2)],               # no target at all: no data
    [(0, 0), (None, 1)],                     # a zero target before a period without one
    [(5, None), (5, None)],                  # no actual: no data
    [(3, 1), (3, None), (3, 3)],             # a gap in the actuals
    [(Decimal("33.3333"), Decimal("26.6666")), (Decimal("33.3333"), Decimal("0.0001"))],  # near a threshold
    [(100, 80), (100, 79)],
    [(0, 5)],                                 # a zero target
)


def _add(project_id, result_id, n, series, unit, cumulative, ascending):
    indicator = Indicator(project_id=project_id, result_id=result_id, code=f"1.{n}", title=f"I {n}", position=n,
                          unit=unit, cumulative=cumulative, ascending=ascending, target_value=Decimal(40))
    db.session.add(indicator)
    db.session.flush()
    for month, (target, actual) in enumerate(series, 1):
        db.session.add(IndicatorPeriod(
            project_id=project_id, indicator_id=indicator.id, start_date=date(2016, month, 1),
            end_date=date(2016, month, 28), target=target, actual=actual,
            actual_text="done" if unit == "qualitative" and actual is not None else ""))
    return indicator


def test_the_strip_counts_each_indicator_under_the_status_its_page_shows(app, demo):
    with app.app_context():
        project = db.session.get(Project, demo)
        result = db.session.execute(select(ResultNode).where(ResultNode.project_id == demo)).scalars().first()
        n = 100
        for series, unit, cumulative, ascending in product(SERIES, ("number", "percent", "qualitative"),
                                                          (True, False), (True, False)):
            _add(demo, result.id, n, series, unit, cumulative, ascending)
            n += 1
        db.session.commit()
        indicators = db.session.execute(select(Indicator).where(Indicator.project_id == demo)).scalars().all()
        expected = sorted(indicator_progress(i, project).status for i in indicators)
        got = sorted(status for _pid, status in dashboard.indicator_statuses([demo], {demo: project}))
        assert got == expected
        # every status is represented, so the comparison means something
        assert {"on_track", "at_risk", "off_track", "no_data", "qualitative"} <= set(expected)
