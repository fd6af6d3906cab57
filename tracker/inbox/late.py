"""Late work: one definition, used by the badges, the counts, the inbox and the dashboard.

- An **activity is late** when its planned start has passed (before today) and it is still
  *not started*, or its planned end has passed and it is neither *completed* nor *cancelled*.
- A **reporting period is late** when it ended more than the project's ``late_after_days``
  (default 14, 0 to 365) days before today and still has no actual. An approved period is
  never late (it cannot be without an actual and be approved).

"Today" is ``tracker.progress.weeks.current_date()``: the real date, or the app's ``TODAY``
setting when one is pinned (tests, demos).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, or_

from ..models import Activity, IndicatorPeriod
from ..progress.weeks import current_date

FINISHED_STATUSES = ("completed", "cancelled")
LATE_AFTER_DAYS_DEFAULT = 14
LATE_AFTER_DAYS_MAX = 365


def activity_is_late(activity, today: date | None = None) -> bool:
    """The Python twin of ``activity_late_condition`` (for a row already loaded)."""
    today = today or current_date()
    if activity.planned_start is not None and activity.planned_start < today and activity.status == "not_started":
        return True
    return (activity.planned_end is not None and activity.planned_end < today
            and activity.status not in FINISHED_STATUSES)


def activity_late_condition(today: date):
    """SQL: the activity is late on ``today``."""
    return or_(
        and_(Activity.planned_start.is_not(None), Activity.planned_start < today, Activity.status == "not_started"),
        and_(Activity.planned_end.is_not(None), Activity.planned_end < today,
             Activity.status.not_in(FINISHED_STATUSES)),
    )


def period_missing_condition(today: date):
    """SQL: the period has ended before ``today`` without an actual and is not approved."""
    return and_(IndicatorPeriod.end_date < today, IndicatorPeriod.actual.is_(None),
                IndicatorPeriod.actual_text == "", IndicatorPeriod.state != "approved")


def period_is_late(end_date: date, late_after_days: int | None, today: date | None = None) -> bool:
    """A period without an actual is late once it ended more than ``late_after_days`` days ago."""
    today = today or current_date()
    days = LATE_AFTER_DAYS_DEFAULT if late_after_days is None else late_after_days
    return end_date < today - timedelta(days=days)
