"""The logframe's rows, read lean: a page of indicators at a time, or every row streamed for print.

A logframe row is a result (objective, expected result, output) with its activities, its
indicators (baseline · target · latest actual, means of verification), the evidence linked to it
and its assumptions. Results are few (dozens); indicators and activities are what grows (3,000
indicators of 24 periods each on the benchmark's 10× project), so per indicator:

* its columns are read as a plain row, never an ORM object;
* its latest actual comes from one aggregate over its periods in SQL (the last reported
  period's dates and figures, and the sum of the actuals for a cumulative indicator), not from
  loading its two dozen periods; the rule is ``results.values.indicator_progress``'s: the
  latest period with an actual (with a text for a qualitative indicator), the value to date the
  sum of every actual when cumulative, else that period's actual;
* its figures are formatted once here (``formatting.number`` and ``day``) into the strings the
  row shows, so the template only writes them out.

Paging: a page holds ``PAGE_SIZE`` indicators in logframe order (results by code, then each
result's indicators by position), with every result whose place falls in the page; a result
without indicators goes with the page of the indicators after it (the last page takes the
trailing ones). The printable logframe reads the same rows a batch of results at a time and
yields each result as soon as its batch is read (the response streams).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select

from .. import formatting
from ..extensions import db
from ..models import Activity, Indicator, IndicatorPeriod, Project, ResultNode
from ..validation import code_key

PAGE_SIZE = 25
STREAM_BATCH = 200  # indicators (about) per batch of the printable logframe
DASH = "–"

INDICATOR_COLUMNS = (Indicator.id, Indicator.result_id, Indicator.code, Indicator.title, Indicator.unit,
                     Indicator.cumulative, Indicator.illustrative, Indicator.baseline_value,
                     Indicator.baseline_text, Indicator.baseline_date, Indicator.target_value,
                     Indicator.target_text, Indicator.means_of_verification)
ACTIVITY_COLUMNS = (Activity.id, Activity.result_id, Activity.code, Activity.title, Activity.status,
                    Activity.planned_start, Activity.planned_end)


@dataclass(slots=True)
class LogframeIndicator:
    """One indicator of a logframe row, its figures as the row shows them."""

    id: int
    result_id: int
    code: str
    title: str
    illustrative: bool
    baseline: str  # the figure or text, "–" when none
    baseline_day: str  # "" when the baseline has no date
    target: str
    latest: str  # the latest actual (to date), "–" when nothing is reported
    latest_day: str  # the end of its period, "" when nothing is reported
    means_of_verification: str


@dataclass
class LogframePage:
    rows: list  # (result, [LogframeIndicator]) in logframe order
    page: int
    pages: int
    total: int  # indicators in the whole framework
    per_page: int
    first: int = 0  # position (1-based) of the page's first indicator
    last: int = 0
    activities: dict = field(default_factory=dict)  # result id -> its activities (plain rows)

    @property
    def remaining(self) -> int:
        return self.total - self.last


def _results(project_id: int) -> list:
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project_id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    return results


def _indicator_counts(project_id: int) -> dict[int, int]:
    return dict(db.session.execute(select(Indicator.result_id, func.count()).where(Indicator.project_id == project_id)
                                   .group_by(Indicator.result_id)).all())


def _latest_figures(indicator_ids: list[int]) -> dict[int, tuple]:
    """Indicator id -> (sum of its actuals, [its latest periods' (start, end, actual, actual_text)])
    for the indicators that reported anything: one aggregate and one join, whatever the periods."""
    if not indicator_ids:
        return {}
    period = IndicatorPeriod
    summary = (select(period.indicator_id.label("indicator_id"), func.sum(period.actual).label("total"),
                      func.max(case((period.actual.is_not(None), period.start_date))).label("number_start"),
                      func.max(case((period.actual_text != "", period.start_date))).label("text_start"))
               .where(period.indicator_id.in_(indicator_ids)).group_by(period.indicator_id).subquery())
    rows = db.session.execute(
        select(summary.c.indicator_id, summary.c.total, period.start_date, period.end_date, period.actual,
               period.actual_text, summary.c.number_start, summary.c.text_start)
        .join(period, and_(period.indicator_id == summary.c.indicator_id,
                           period.start_date.in_([summary.c.number_start, summary.c.text_start])))
        .order_by(period.id))
    found: dict[int, tuple] = {}
    for row in rows:
        found.setdefault(row.indicator_id, (row.total, []))[1].append(row)
    return found


def _indicators(rows, figures: dict) -> list[LogframeIndicator]:
    """The indicators' rows with their figures formatted for the request's language (each distinct
    figure and date once: a framework repeats the same baselines, targets and period ends)."""
    numbers: dict = {}
    days: dict = {}

    def number(value) -> str:
        if value not in numbers:
            numbers[value] = formatting.number(value)
        return numbers[value]

    def day(value) -> str:
        if value not in days:
            days[value] = formatting.day(value)
        return days[value]

    shown = []
    for row in rows:
        total, periods = figures.get(row.id, (None, ()))
        latest = latest_day = None
        if row.unit == "qualitative":
            baseline, target = row.baseline_text or DASH, row.target_text or DASH
            for period in periods:  # ordered by id: the last of equal dates wins, as in indicator_progress
                if period.start_date == period.text_start and period.actual_text:
                    latest, latest_day = period.actual_text, period.end_date
        else:
            baseline, target = number(row.baseline_value) or DASH, number(row.target_value) or DASH
            for period in periods:
                if period.start_date == period.number_start and period.actual is not None:
                    latest, latest_day = (total if row.cumulative else period.actual), period.end_date
            if latest is not None:
                latest = number(latest)
        shown.append(LogframeIndicator(
            row.id, row.result_id, row.code, row.title, row.illustrative, baseline,
            day(row.baseline_date) if row.baseline_date else "", target, DASH if latest is None else latest,
            day(latest_day) if latest_day else "", row.means_of_verification))
    return shown


def _activities(result_ids: list[int]) -> dict[int, list]:
    found = defaultdict(list)
    if result_ids:
        for row in db.session.execute(select(*ACTIVITY_COLUMNS).where(Activity.result_id.in_(result_ids))
                                      .order_by(Activity.position, Activity.id)):
            found[row.result_id].append(row)
    return found


def logframe_page(project: Project, page: int = 1, per_page: int = PAGE_SIZE) -> LogframePage:
    """One page of the logframe: its results (with their activities) and indicators, in a fixed
    number of queries whatever the framework's size."""
    results = _results(project.id)
    counts = _indicator_counts(project.id)
    total = sum(counts.values())
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    offset, end = (page - 1) * per_page, page * per_page
    shown, start = [], 0
    first_start = None  # where the first result with indicators of the page starts
    for result in results:
        count = counts.get(result.id, 0)
        if count:
            if start < end and start + count > offset:
                shown.append(result)
                if first_start is None:
                    first_start = start
        elif offset <= start < end or (page == pages and start >= offset):
            shown.append(result)
        start += count
    with_indicators = [result.id for result in shown if counts.get(result.id)]
    rows = []
    if with_indicators:
        rank = {result_id: n for n, result_id in enumerate(with_indicators)}
        rows = db.session.execute(
            select(*INDICATOR_COLUMNS).where(Indicator.result_id.in_(with_indicators))
            .order_by(case(rank, value=Indicator.result_id), Indicator.position, Indicator.id)
            .offset(offset - first_start).limit(per_page)).all()
    by_result = defaultdict(list)
    for indicator in _indicators(rows, _latest_figures([row.id for row in rows])):
        by_result[indicator.result_id].append(indicator)
    return LogframePage([(result, by_result.get(result.id, [])) for result in shown], page, pages, total, per_page,
                        offset + 1 if rows else 0, offset + len(rows), _activities([r.id for r in shown]))


def logframe_stream(project: Project, batch: int = STREAM_BATCH) -> Iterator[tuple]:
    """Every result of the logframe with its indicators and activities, for the printable page:
    (result, [LogframeIndicator], [activity rows]). Read a batch of results (about ``batch``
    indicators) at a time, so the first rows leave before the last are read."""
    results = _results(project.id)
    counts = _indicator_counts(project.id)
    group, size = [], 0
    for n, result in enumerate(results):
        group.append(result)
        size += counts.get(result.id, 0)
        if size >= batch or n == len(results) - 1:
            yield from _stream_group(group)
            group, size = [], 0


def _stream_group(results: list) -> Iterator[tuple]:
    ids = [result.id for result in results]
    rows = db.session.execute(select(*INDICATOR_COLUMNS).where(Indicator.result_id.in_(ids))
                              .order_by(Indicator.position, Indicator.id)).all()
    by_result = defaultdict(list)
    for indicator in _indicators(rows, _latest_figures([row.id for row in rows])):
        by_result[indicator.result_id].append(indicator)
    activities = _activities(ids)
    for result in results:
        yield result, by_result.get(result.id, []), activities.get(result.id, [])
