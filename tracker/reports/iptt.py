"""The Indicator Performance Tracking Table (IPTT): indicators grouped by result, with the
baseline, then per reporting period the target, the actual and the % of target, then the
life-of-project (LoP) target, the actual to date and its % of the LoP target, with each
period's narrative and variance explanation alongside.

The figures are the app's own rules, nothing new: ``values.percent_of_target`` (actual ÷ target,
target ÷ actual where less is better), ``values.indicator_progress`` (a cumulative indicator's
value to date is the sum of its actuals, a non-cumulative one's its latest actual) and
``values.status_for`` (the project's *on track* / *at risk* thresholds) colour every %.

The columns are the project's reporting periods (``narratives.reporting_periods``: the distinct
date ranges of its indicator periods); an indicator without a period of that range has an
empty cell there. ``as_of`` (the progress report of a period) counts the value to date up to
that period's end only.

The rows come from the framework's own paging (``projects.services.framework_page`` and
``framework_stream``), so the page reads a page of indicators in a fixed number of queries and
the printable page and the workbook stream every indicator in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..models import Project, ResultNode
from ..projects.services import FrameworkPage, framework_page, framework_stream
from ..results.narratives import period_narratives, reporting_periods
from ..results.values import IndicatorProgress, percent_of_target, period_label, status_for


@dataclass(frozen=True)
class ReportingPeriod:
    start: date
    end: date

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)

    @property
    def slug(self) -> str:
        """How a period is written in a URL's query: 2016-07-01..2016-12-31."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass
class IpttCell:
    """One indicator in one reporting period."""

    period_id: int
    target: object = None  # Decimal (number units) or text (qualitative)
    actual: object = None
    pct: Decimal | None = None
    status: str = "no_data"
    state: str = "draft"
    narrative: str = ""
    variance: str = ""


@dataclass
class IpttRow:
    """One indicator: its baseline, a cell per reporting period (None where it has no period of
    that range), and its life-of-project figures."""

    progress: IndicatorProgress
    cells: list[IpttCell | None]
    baseline: object = None
    lop_target: object = None
    to_date: object = None
    lop_pct: Decimal | None = None
    lop_status: str = "no_data"

    @property
    def indicator(self):
        return self.progress.indicator

    @property
    def qualitative(self) -> bool:
        return self.indicator.unit == "qualitative"

    def notes(self, periods: list[ReportingPeriod]) -> list[tuple[ReportingPeriod, str, str]]:
        """(period, narrative, variance explanation) of the periods that have either text."""
        return [(period, cell.narrative, cell.variance) for period, cell in zip(periods, self.cells, strict=True)
                if cell is not None and (cell.narrative or cell.variance)]


@dataclass
class IpttGroup:
    result: ResultNode
    rows: list[IpttRow] = field(default_factory=list)


def periods_of(project: Project, within: tuple[date, date] | None = None) -> list[ReportingPeriod]:
    """The project's reporting periods (those inside ``within`` when given), in date order."""
    periods = [ReportingPeriod(start, end) for start, end in reporting_periods(project.id)]
    if within is not None:
        periods = [p for p in periods if p.start >= within[0] and p.end <= within[1]]
    return periods


def iptt_row(progress: IndicatorProgress, periods: list[ReportingPeriod], project: Project,
             notes: dict[int, tuple[str, str]], as_of: date | None = None) -> IpttRow:
    """The IPTT row of one indicator from its progress (its periods already read)."""
    indicator = progress.indicator
    qualitative = indicator.unit == "qualitative"
    ascending = indicator.ascending
    by_range = {}
    to_date = None
    series = progress.series if not qualitative else [(p, None, None) for p in
                                                       sorted(indicator.periods, key=lambda p: p.start_date)]
    for period, _target_td, actual_td in series:
        by_range[(period.start_date, period.end_date)] = period
        if as_of is not None and period.end_date > as_of:
            continue
        if qualitative:
            if period.actual_text:
                to_date = period.actual_text
        elif period.actual is not None:
            to_date = actual_td
    cells: list[IpttCell | None] = []
    for reporting in periods:
        period = by_range.get((reporting.start, reporting.end))
        if period is None:
            cells.append(None)
            continue
        narrative, variance = notes.get(period.id, ("", ""))
        cell = IpttCell(period.id, state=period.state, narrative=narrative, variance=variance)
        if qualitative:
            cell.target, cell.actual, cell.status = period.target_text, period.actual_text, "qualitative"
        else:
            cell.target, cell.actual = period.target, period.actual
            cell.pct = percent_of_target(period.actual, period.target, ascending)
            cell.status = status_for(cell.pct, project)
        cells.append(cell)
    row = IpttRow(progress, cells)
    if qualitative:
        row.baseline, row.lop_target, row.to_date, row.lop_status = (
            indicator.baseline_text, indicator.target_text, to_date or "", "qualitative")
    else:
        row.baseline, row.lop_target, row.to_date = indicator.baseline_value, indicator.target_value, to_date
        row.lop_pct = percent_of_target(to_date, indicator.target_value, ascending)
        row.lop_status = status_for(row.lop_pct, project)
    return row


def _groups(items: Iterable, periods, project, notes, as_of) -> Iterator[IpttGroup]:
    for item in items:
        result, progress_list = item[0], item[1]
        yield IpttGroup(result, [iptt_row(progress, periods, project, notes, as_of) for progress in progress_list])


@dataclass
class IpttPage:
    periods: list[ReportingPeriod]
    groups: list[IpttGroup]
    framework: FrameworkPage


def iptt_page(project: Project, page: int = 1) -> IpttPage:
    """One page of the IPTT (the framework's page of indicators), in a fixed number of queries."""
    framework = framework_page(project, page)
    periods = periods_of(project)
    notes = period_narratives(project.id)
    return IpttPage(periods, list(_groups(framework.rows, periods, project, notes, None)), framework)


def iptt_stream(project: Project, periods: list[ReportingPeriod] | None = None,
                as_of: date | None = None) -> tuple[list[ReportingPeriod], Iterator[IpttGroup]]:
    """Every result's IPTT rows, read a batch of indicators at a time (the printable page, the
    progress report, the workbook's IPTT sheet). Returns (periods, groups)."""
    periods = periods_of(project) if periods is None else periods
    notes = period_narratives(project.id)
    return periods, _groups(framework_stream(project), periods, project, notes, as_of)
