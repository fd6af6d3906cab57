"""Rules of the results framework: loading the tree and computing indicator progress.

Progress conventions (also in the README):

* A **cumulative** indicator's period values are what was achieved *in* that period; its
  value to date is the sum of the actuals so far and its target to date the sum of the
  period targets so far. A **non-cumulative** indicator's value to date is its latest actual.
* **% of target** is actual ÷ target for an ascending indicator (more is better) and
  target ÷ actual for a descending one; yes/no counts yes as 1. Qualitative indicators have
  no percentage.
* **Status** compares the value to date with the target to date of the latest period that
  has an actual: at or above the project's ``on_track_pct`` (default 90) is *on track*, at
  or above ``at_risk_pct`` (default 60) is *at risk*, below is *off track*.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Indicator, IndicatorPeriod, Project, ResultNode

STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track",
                 "no_data": "No data yet", "qualitative": "Qualitative"}


def percent_of_target(actual: Decimal | None, target: Decimal | None, ascending: bool = True) -> Decimal | None:
    if actual is None or target is None:
        return None
    actual, target = Decimal(actual), Decimal(target)
    if ascending:
        return None if target == 0 else (actual / target * 100)
    if actual == 0:
        return Decimal(100) if target >= 0 else None
    return target / actual * 100


def status_for(pct: Decimal | None, project: Project) -> str:
    if pct is None:
        return "no_data"
    if pct >= Decimal(project.on_track_pct):
        return "on_track"
    if pct >= Decimal(project.at_risk_pct):
        return "at_risk"
    return "off_track"


@dataclass
class IndicatorProgress:
    indicator: Indicator
    value_to_date: Decimal | None = None
    text_to_date: str = ""
    target_to_date: Decimal | None = None
    pct_of_target_to_date: Decimal | None = None
    pct_of_end_target: Decimal | None = None
    status: str = "no_data"
    latest_period: IndicatorPeriod | None = None
    series: list = field(default_factory=list)  # (period, target_to_date, actual_to_date)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def bar_pct(self) -> int:
        """The end-target percentage clamped to 0..100, for progress bars."""
        if self.pct_of_end_target is None:
            return 0
        return int(max(0, min(100, self.pct_of_end_target)))


def indicator_progress(indicator: Indicator, project: Project) -> IndicatorProgress:
    """Progress of one indicator from its (already loaded) periods."""
    progress = IndicatorProgress(indicator)
    periods = sorted(indicator.periods, key=lambda p: p.start_date)
    if indicator.unit == "qualitative":
        reported = [p for p in periods if p.actual_text]
        if reported:
            progress.latest_period = reported[-1]
            progress.text_to_date = reported[-1].actual_text
        progress.status = "qualitative"
        return progress
    target_sum = actual_sum = Decimal(0)
    latest_value = latest_target = None
    for period in periods:
        if period.target is not None:
            target_sum += period.target
        if period.actual is not None:
            actual_sum += period.actual
        if indicator.cumulative:
            target_to_date = target_sum if period.target is not None or target_sum else None
            actual_to_date = actual_sum if period.actual is not None else None
        else:
            target_to_date, actual_to_date = period.target, period.actual
        progress.series.append((period, target_to_date, actual_to_date))
        if period.actual is not None:
            progress.latest_period = period
            latest_value = actual_sum if indicator.cumulative else period.actual
            latest_target = target_to_date
    if progress.latest_period is None:
        return progress
    progress.value_to_date = latest_value
    progress.target_to_date = latest_target
    progress.pct_of_target_to_date = percent_of_target(latest_value, latest_target, indicator.ascending)
    progress.pct_of_end_target = percent_of_target(latest_value, indicator.target_value, indicator.ascending)
    progress.status = status_for(progress.pct_of_target_to_date, project)
    return progress


def load_framework(project: Project):
    """Results (ordered by code) with their indicators and periods, in a fixed number of queries."""
    results = db.session.execute(
        select(ResultNode).where(ResultNode.project_id == project.id)
        .options(selectinload(ResultNode.indicators).selectinload(Indicator.periods),
                 selectinload(ResultNode.activities))
        .order_by(ResultNode.position, ResultNode.id)
    ).scalars().all()
    return sorted(results, key=lambda r: [int(part) if part.isdigit() else part for part in r.code.split(".")])
