"""The indicators × periods grid: one page of rows (an indicator, its progress, one period or
None per column), filtered by result, paged by indicator and, when there are more than
``GRID_MAX_COLUMNS`` reporting periods, shown one calendar year of periods at a time, in a fixed
number of queries.

Speed (issue 15): a page is 25 indicators × up to 12 periods × target and actual. Everything
is read as plain rows (no ORM objects: the ids and columns the page shows, plus a yes/no for
"has a narrative" rather than the narrative itself), and each cell's HTML is built in one pass
in Python (``grid_cells.py``), not by a template loop per cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, func, or_, select

from ..database import converter, raw
from ..extensions import db
from ..models import Dimension, Indicator, IndicatorPeriod, Project, ResultNode
from ..models.results import UNIT_LABELS
from ..validation import code_key
from .values import IndicatorProgress, indicator_progress, period_label

GRID_PAGE_SIZE = 25
# More reporting periods than this (24 months, say) and the grid shows one calendar year at a
# time, with links to the other years: a year of monthly periods fits a screen, two do not.
GRID_MAX_COLUMNS = 12


@dataclass
class GridColumn:
    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @property
    def label(self) -> str:
        return period_label(self.start, self.end)


@dataclass(eq=False)
class GridIndicator:
    """What the grid shows of an indicator (read as a row, not an ORM object); ``periods`` are
    all its periods (``GridPeriod``, in no order: its progress sorts them), for its progress to date."""

    id: int
    code: str
    title: str
    unit: str
    cumulative: bool
    ascending: bool
    target_value: Decimal | None
    periods: list = field(default_factory=list)
    dimension_names: list = field(default_factory=list)

    @property
    def unit_label(self) -> str:
        return str(UNIT_LABELS.get(self.unit, self.unit))


@dataclass
class GridRow:
    indicator: GridIndicator
    progress: IndicatorProgress
    cells: list  # one period row or None per shown column


@dataclass
class Grid:
    results: list  # every result of the project (id, code, statement), for the filter
    result: object | None
    columns: list[GridColumn]  # the shown columns
    rows: list[GridRow]
    page: int
    pages: int
    total: int
    per_page: int
    year: int | None = None  # the calendar year shown, when the periods are shown a year at a time
    years: list[int] = field(default_factory=list)  # every year with a period (then), for its links


class GridPeriod(NamedTuple):
    """What the grid reads of a period (``PERIOD_COLUMNS``, in that order): a plain tuple, as
    a page reads its attributes thousands of times (a database row's are slower)."""

    id: int
    indicator_id: int
    start_date: date
    end_date: date
    target: Decimal | None
    actual: Decimal | None
    target_text: str
    actual_text: str
    state: str
    version: int
    noted: bool  # has a narrative or a variance explanation


# The period columns a grid cell reads (``grid_cells.py``); ``noted``: has a narrative or a
# variance explanation (a yes/no computed in SQL: the texts themselves stay in the database).
PERIOD_COLUMNS = (IndicatorPeriod.id, IndicatorPeriod.indicator_id, IndicatorPeriod.start_date,
                  IndicatorPeriod.end_date, IndicatorPeriod.target, IndicatorPeriod.actual,
                  IndicatorPeriod.target_text, IndicatorPeriod.actual_text, IndicatorPeriod.state,
                  IndicatorPeriod.version,
                  or_(IndicatorPeriod.narrative != "", IndicatorPeriod.variance_explanation != "").label("noted"))

# The grid's statements, built once (building a statement costs more than running these small
# ones); ``project`` and ``ids`` are bound per request.
_PROJECT, _IDS = bindparam("project"), bindparam("ids", expanding=True)
RESULTS = select(ResultNode.id, ResultNode.code, ResultNode.statement).where(ResultNode.project_id == _PROJECT)
COUNTS = (select(Indicator.result_id, func.count()).where(Indicator.project_id == _PROJECT)
          .group_by(Indicator.result_id))
IN_RESULTS = select(Indicator.id, Indicator.result_id, Indicator.position).where(
    Indicator.project_id == _PROJECT, Indicator.result_id.in_(_IDS))
INDICATORS = select(Indicator.id, Indicator.code, Indicator.title, Indicator.unit, Indicator.cumulative,
                    Indicator.ascending, Indicator.target_value).where(Indicator.id.in_(_IDS))
DIMENSIONS = (select(Dimension.indicator_id, Dimension.name).where(Dimension.indicator_id.in_(_IDS))
              .order_by(Dimension.position, Dimension.id))
# The periods' dates and figures come as the driver gives them and are converted once per
# distinct value (``_read_periods``): a page reads 600 periods whose 24 dates and few figures repeat.
_RAW = (IndicatorPeriod.start_date, IndicatorPeriod.end_date, IndicatorPeriod.target, IndicatorPeriod.actual)
PERIODS = select(*(raw(c) if any(c is r for r in _RAW) else c for c in PERIOD_COLUMNS)).where(
    IndicatorPeriod.indicator_id.in_(_IDS))


def _read_periods(ids: list[int]):
    """The periods of the indicators ``ids`` as ``GridPeriod`` tuples (``PERIOD_COLUMNS``)."""
    connection = db.session.connection()
    dialect = connection.dialect
    to_date = converter(IndicatorPeriod.start_date, dialect)
    to_number = converter(IndicatorPeriod.target, dialect)
    make = GridPeriod._make
    return [make((id_, indicator_id, to_date(start), to_date(end), to_number(target), to_number(actual),
                  target_text, actual_text, state, version, noted))
            for (id_, indicator_id, start, end, target, actual, target_text, actual_text, state, version, noted)
            in connection.execute(PERIODS, {"ids": ids}).all()]


def _results(project: Project) -> list:
    rows = db.session.connection().execute(RESULTS, {"project": project.id}).all()
    rows.sort(key=lambda r: code_key(r.code))
    return rows


def indicator_order(project: Project, result=None, results: list | None = None) -> tuple[list, list[int]]:
    """The project's results (code order) and its indicator ids in logframe order.

    Two narrow queries: the order is natural (1.2 before 1.10), so it is computed here rather
    than in SQL; only ids and codes travel, whatever the number of periods.
    """
    if results is None:
        results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
        results.sort(key=lambda r: code_key(r.code))
    rows = db.session.execute(
        select(Indicator.id, Indicator.result_id, Indicator.position).where(Indicator.project_id == project.id)
    ).all()
    if result is not None:
        prefix = result.code + "."
        inside = {r.id for r in results if r.code == result.code or r.code.startswith(prefix)}
        rows = [r for r in rows if r.result_id in inside]
    rank = {r.id: n for n, r in enumerate(results)}  # results are already in code order
    rows.sort(key=lambda r: (rank[r.result_id], r.position, r.id))
    return results, [r.id for r in rows]


def indicator_page(project: Project, results: list, result=None, page: int = 1,
                   per_page: int = GRID_PAGE_SIZE) -> tuple[int, int, list[int]]:
    """(total, page, ids of the page) of the project's indicators in logframe order (under
    ``result`` and its sub-results when given), ``results`` in code order.

    Two narrow queries whatever the size of the framework: the number of indicators per result,
    then the rows of only the results the page covers (the order is natural, 1.2 before 1.10,
    so results are ranked here rather than in SQL).
    """
    if result is not None:
        prefix = result.code + "."
        results = [r for r in results if r.code == result.code or r.code.startswith(prefix)]
    read = db.session.connection().execute
    counts = dict(read(COUNTS, {"project": project.id}).all())
    total = sum(counts.get(r.id, 0) for r in results)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    first, last = (page - 1) * per_page, page * per_page  # the page's slice of the whole order
    covered, seen, skipped = [], 0, None
    for r in results:
        count = counts.get(r.id, 0)
        if count and seen + count > first and seen < last:
            covered.append(r.id)
            skipped = seen if skipped is None else skipped
        seen += count
    if not covered:
        return total, page, []
    rank = {result_id: n for n, result_id in enumerate(covered)}
    rows = read(IN_RESULTS, {"project": project.id, "ids": covered}).all()
    rows.sort(key=lambda r: (rank[r.result_id], r.position, r.id))
    return total, page, [r.id for r in rows[first - skipped: last - skipped]]


def default_year(years: list[int], columns: list[GridColumn], today: date | None = None) -> int:
    """The year a grid opens on: that of the latest period already begun (where actuals are
    being entered), else the first year."""
    today = today or date.today()
    begun = [c.start.year for c in columns if c.start <= today]
    return max(begun) if begun else years[0]


def load_grid(project: Project, result_id: int | None = None, page: int = 1,
              per_page: int = GRID_PAGE_SIZE, year: int | None = None) -> Grid:
    """One page of the indicators × periods grid, in a fixed number of queries.

    Paged by indicator (``per_page`` rows) and filtered by result (with its sub-results), so
    a framework of hundreds of indicators with dozens of periods stays quick to load and use.
    With more than ``GRID_MAX_COLUMNS`` periods, one calendar year of them is shown (``year``,
    else ``default_year``); progress to date still counts every period.
    """
    results = _results(project)
    result = next((r for r in results if r.id == result_id), None) if result_id else None
    total, page, page_ids = indicator_page(project, results, result, page, per_page)
    pages = max(1, -(-total // per_page))
    indicators = []
    if page_ids:
        read = db.session.connection().execute  # plain rows: the ORM session adds nothing here
        found = {row.id: GridIndicator(*row) for row in read(INDICATORS, {"ids": page_ids}).all()}
        indicators = [found[i] for i in page_ids if i in found]
        for indicator_id, name in read(DIMENSIONS, {"ids": page_ids}).all():
            found[indicator_id].dimension_names.append(name)
        for period in _read_periods(page_ids):
            found[period.indicator_id].periods.append(period)
    columns = [GridColumn(start, end) for start, end in
               sorted({(p.start_date, p.end_date) for i in indicators for p in i.periods})]
    years = []
    if len(columns) > GRID_MAX_COLUMNS:
        years = sorted({c.start.year for c in columns})
        if year not in years:
            year = default_year(years, columns)
        columns = [c for c in columns if c.start.year == year]
    else:
        year = None
    index = {(c.start, c.end): n for n, c in enumerate(columns)}
    rows = []
    for indicator in indicators:
        cells = [None] * len(columns)
        for period in indicator.periods:
            n = index.get((period.start_date, period.end_date))
            if n is not None:
                cells[n] = period
        rows.append(GridRow(indicator, indicator_progress(indicator, project), cells))
    return Grid(results, result, columns, rows, page, pages, total, per_page, year, years)
