"""The indicators × periods grid: one page of rows (an indicator, its progress, one period or
None per column), filtered by result and paged by indicator, in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Indicator, Project, ResultNode
from ..validation import code_key
from .values import IndicatorProgress, indicator_progress, period_label

GRID_PAGE_SIZE = 25


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


@dataclass
class GridRow:
    indicator: Indicator
    progress: IndicatorProgress
    cells: list  # one IndicatorPeriod or None per column


@dataclass
class Grid:
    results: list  # every result of the project, for the filter
    result: ResultNode | None
    columns: list[GridColumn]
    rows: list[GridRow]
    page: int
    pages: int
    total: int
    per_page: int


def indicator_order(project: Project, result: ResultNode | None = None,
                    results: list | None = None) -> tuple[list, list[int]]:
    """The project's results (code order) and its indicator ids in logframe order.

    Two narrow queries: the order is natural (1.2 before 1.10), so it is computed here rather
    than in SQL; only ids and codes travel, whatever the number of periods.
    """
    if results is None:
        results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
        results.sort(key=lambda r: code_key(r.code))
    by_id = {r.id: r for r in results}
    rows = db.session.execute(
        select(Indicator.id, Indicator.result_id, Indicator.position).where(Indicator.project_id == project.id)
    ).all()
    if result is not None:
        prefix = result.code + "."
        rows = [r for r in rows if by_id[r.result_id].code == result.code or by_id[r.result_id].code.startswith(prefix)]
    rank = {r.id: n for n, r in enumerate(results)}  # results are already in code order
    rows.sort(key=lambda r: (rank[r.result_id], r.position, r.id))
    return results, [r.id for r in rows]


def load_grid(project: Project, result_id: int | None = None, page: int = 1,
              per_page: int = GRID_PAGE_SIZE) -> Grid:
    """One page of the indicators × periods grid, in a fixed number of queries.

    Paged by indicator (``per_page`` rows) and filtered by result (with its sub-results), so
    a framework of hundreds of indicators with dozens of periods stays quick to load and use.
    """
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    result = next((r for r in results if r.id == result_id), None) if result_id else None
    _, ids = indicator_order(project, result, results)
    total = len(ids)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    page_ids = ids[(page - 1) * per_page: page * per_page]
    indicators = db.session.execute(
        select(Indicator).where(Indicator.id.in_(page_ids))
        .options(selectinload(Indicator.periods), selectinload(Indicator.dimensions))
    ).scalars().all() if page_ids else []
    position = {indicator_id: i for i, indicator_id in enumerate(page_ids)}
    indicators.sort(key=lambda i: position[i.id])
    spans = sorted({(p.start_date, p.end_date) for i in indicators for p in i.periods})
    columns = [GridColumn(start, end) for start, end in spans]
    index = {(c.start, c.end): n for n, c in enumerate(columns)}
    rows = []
    for indicator in indicators:
        cells = [None] * len(columns)
        for period in indicator.periods:
            cells[index[(period.start_date, period.end_date)]] = period
        rows.append(GridRow(indicator, indicator_progress(indicator, project), cells))
    return Grid(results, result, columns, rows, page, pages, total, per_page)
