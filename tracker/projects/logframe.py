"""The logframe's rows, read lean: a page of indicators at a time, or every row streamed for print.

A logframe row is a result (objective, expected result, output) with its activities, its
indicators (baseline · target · latest actual, means of verification), the evidence linked to it
and its assumptions. Results are few (dozens); indicators and activities are what grows (3,000
indicators of 24 periods each on the benchmark's 10× project), so per indicator:

* its columns and its latest actual come in ONE query per batch of results, as plain rows (never
  an ORM object): the latest actual from correlated subqueries over the indicator's own periods
  (the last reported period, read newest first and stopping at the first reported one, and the
  sum of the actuals for a cumulative indicator), which the index ``indicator_period
  (indicator_id, start_date, actual, actual_text, end_date)`` answers without reading the
  periods' rows. The rule is ``results.values.indicator_progress``'s: the latest period with an
  actual (with a text for a qualitative indicator; of equal start dates the later id), the value
  to date the sum of every actual when cumulative, else that period's actual;
* its numbers and dates come raw from the driver and are converted (by the column's own type,
  so exactly as the ORM would) and formatted (``formatting.number`` and ``day``) once per
  distinct value: a framework repeats the same baselines, targets and period ends;
* its list item and its means of verification are written here, in ``_Writer``, as one
  pre-escaped string each (every value through ``markupsafe.escape``); the row template writes
  a result's items in one piece, so the paged logframe and the printable one show the same HTML.

Paging: a page holds ``PAGE_SIZE`` indicators in logframe order (results by code, then each
result's indicators by position), with every result whose place falls in the page; a result
without indicators goes with the page of the indicators after it (the last page takes the
trailing ones). The printable logframe reads the same rows a batch of results at a time and
yields each result as soon as its batch is read (the response streams).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.types import NullType

from .. import formatting
from ..extensions import db
from ..models import Activity, Indicator, IndicatorPeriod, Project, ResultNode
from ..validation import code_key
from .services import FrameworkPage

PAGE_SIZE = 25
STREAM_BATCH = 500  # indicators (about) per batch of the printable logframe (fewer batches, fewer queries)
DASH = "–"

_RAW = NullType()  # no result processing: the driver's value, converted once per distinct value


def _raw(expression, name: str):
    return type_coerce(expression, _RAW).label(name)


def _latest(column, reported):
    """The column of the indicator's last reported period (newest start first, then the later id)."""
    period = IndicatorPeriod
    return (select(column).where(period.indicator_id == Indicator.id, reported)
            .order_by(period.start_date.desc(), period.id.desc()).limit(1).scalar_subquery())


_QUALITATIVE = Indicator.unit == "qualitative"
_NUMBER_REPORTED = IndicatorPeriod.actual.is_not(None)
_TEXT_REPORTED = IndicatorPeriod.actual_text != ""

INDICATOR_COLUMNS = (
    Indicator.id, Indicator.result_id, Indicator.code, Indicator.title, Indicator.unit, Indicator.cumulative,
    Indicator.illustrative, _raw(Indicator.baseline_value, "baseline_value"), Indicator.baseline_text,
    _raw(Indicator.baseline_date, "baseline_date"), _raw(Indicator.target_value, "target_value"),
    Indicator.target_text, Indicator.means_of_verification,
    # The latest actual, in the same query (see the module's docstring).
    _raw(case((and_(Indicator.cumulative, ~_QUALITATIVE),
               select(func.sum(IndicatorPeriod.actual)).where(IndicatorPeriod.indicator_id == Indicator.id)
               .scalar_subquery())), "total"),
    _raw(case((~_QUALITATIVE, _latest(IndicatorPeriod.actual, _NUMBER_REPORTED))), "latest_value"),
    _raw(case((_QUALITATIVE, _latest(IndicatorPeriod.actual_text, _TEXT_REPORTED))), "latest_text"),
    _raw(case((_QUALITATIVE, _latest(IndicatorPeriod.end_date, _TEXT_REPORTED)),
              else_=_latest(IndicatorPeriod.end_date, _NUMBER_REPORTED)), "latest_end"),
)
ACTIVITY_COLUMNS = (Activity.id, Activity.result_id, Activity.code, Activity.title, Activity.status,
                    Activity.planned_start, Activity.planned_end)


class LogframeIndicator(NamedTuple):
    """One indicator of a logframe row, its figures as the row shows them and its HTML (a tuple of
    strings and numbers: thousands of them are made per request, and tuples are the cheapest)."""

    id: int
    result_id: int
    code: str
    title: str
    illustrative: bool
    # The figures as shown, already escaped (markupsafe.Markup, or "–"):
    baseline: str  # the figure or text, "–" when none
    baseline_day: str  # "" when the baseline has no date
    target: str
    latest: str  # the latest actual (to date), "–" when nothing is reported
    latest_day: str  # the end of its period, "" when nothing is reported
    means_of_verification: str  # as stored
    item: str  # its <li> in the indicators' cell, escaped
    verification: str  # its <p> in the means of verification's cell ("" when it has none), escaped


class LogframeIndicators(list):
    """A result's indicators (``LogframeIndicator``), with its two cells' HTML joined once."""

    __slots__ = ()

    @property
    def items_html(self) -> Markup:
        return Markup("".join([indicator.item for indicator in self]))

    @property
    def verification_html(self) -> Markup:
        return Markup("".join([indicator.verification for indicator in self]))


def row_words() -> dict[str, str]:
    """The words every row of the logframe repeats, translated once per request (the row template's
    ``lf_words``)."""
    return {"activities": _("Activities"), "late": _("Late"), "indicators": _("Indicators"),
            "verification": _("Means of verification"), "evidence": _("Evidence on file"),
            "assumptions": _("Assumptions and risks")}


class _Writer:
    """Writes indicators' rows as the logframe shows them, for one request: its language's words
    and illustrative mark read once, each distinct number and date converted and formatted once."""

    def __init__(self):
        dialect = db.session.get_bind().dialect
        # SQLite gives numbers as int/float and dates as ISO text: the column types' own
        # conversions make them Decimal and date exactly as the ORM would. PostgreSQL's driver
        # gives Decimal and date already.
        self.to_number = self.to_date = None
        if dialect.name == "sqlite":
            self.to_number = Indicator.target_value.type.dialect_impl(dialect).result_processor(dialect, None)
            self.to_date = IndicatorPeriod.end_date.type.dialect_impl(dialect).result_processor(dialect, None)
        self.numbers: dict = {None: DASH}
        self.days: dict = {None: ""}
        macros = current_app.jinja_env.get_template("_macros.html").module
        self.mark = f" {macros.illustrative_mark(True)}"
        self.figures = (f'<dl class="lf-figures"><div><dt>{escape(_("Baseline"))}</dt><dd>',
                        f'</dd></div><div><dt>{escape(_("Target"))}</dt><dd>',
                        f'</dd></div><div><dt>{escape(_("Latest actual"))}</dt><dd>')

    def number(self, raw) -> str:
        """The raw figure formatted and escaped ("–" when none)."""
        shown = self.numbers.get(raw)
        if shown is None:
            value = self.to_number(raw) if self.to_number else raw
            shown = self.numbers[raw] = escape(formatting.number(value)) or DASH
        return shown

    def day(self, raw) -> str:
        """The raw date formatted and escaped ("" when none)."""
        shown = self.days.get(raw)
        if shown is None:
            value = self.to_date(raw) if self.to_date and isinstance(raw, str) else raw
            shown = self.days[raw] = escape(formatting.day(value))
        return shown

    def indicators(self, rows) -> list[LogframeIndicator]:
        """The rows (``INDICATOR_COLUMNS``) as the logframe shows them, each with its HTML."""
        number, day, mark = self.number, self.day, self.mark
        open_baseline, open_target, open_latest = self.figures
        shown = []
        for (id_, result_id, code, title, unit, cumulative, illustrative, baseline_value, baseline_text, baseline_date,
             target_value, target_text, verification, total, latest_value, latest_text, latest_end) in rows:
            if unit == "qualitative":
                baseline = escape(baseline_text) if baseline_text else DASH
                target = escape(target_text) if target_text else DASH
                latest = escape(latest_text) if latest_text else DASH
                latest_day = day(latest_end) if latest_text else ""
            else:
                baseline, target = number(baseline_value), number(target_value)
                if latest_value is None:
                    latest, latest_day = DASH, ""
                else:
                    latest, latest_day = number(total if cumulative else latest_value), day(latest_end)
            baseline_day = day(baseline_date)
            code_html = escape(code)
            item = "".join((
                '<li><span class="code">', code_html, "</span> ", escape(title), mark if illustrative else "",
                open_baseline, baseline, f" ({baseline_day})" if baseline_day else "",
                open_target, target,
                open_latest, latest, f' <span class="muted">({latest_day})</span>' if latest_day else "",
                "</dd></div></dl></li>\n"))
            shown.append(LogframeIndicator(
                id_, result_id, code, title, illustrative, baseline, baseline_day, target, latest, latest_day,
                verification, item,
                f'<p><span class="code">{code_html}</span> {escape(verification)}</p>\n' if verification else ""))
        return shown


def _results(project_id: int) -> list:
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project_id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    return results


def _indicator_counts(project_id: int) -> dict[int, int]:
    return dict(db.session.execute(select(Indicator.result_id, func.count()).where(Indicator.project_id == project_id)
                                   .group_by(Indicator.result_id)).all())


def _activities(result_ids: list[int]) -> dict[int, list]:
    found = defaultdict(list)
    if result_ids:
        for row in db.session.execute(select(*ACTIVITY_COLUMNS).where(Activity.result_id.in_(result_ids))
                                      .order_by(Activity.position, Activity.id)):
            found[row.result_id].append(row)
    return found


def _by_result(indicators: list[LogframeIndicator]) -> dict[int, LogframeIndicators]:
    by_result: dict[int, LogframeIndicators] = {}
    for indicator in indicators:
        found = by_result.get(indicator.result_id)
        if found is None:
            found = by_result[indicator.result_id] = LogframeIndicators()
        found.append(indicator)
    return by_result


def logframe_page(project: Project, page: int = 1, per_page: int = PAGE_SIZE) -> FrameworkPage:
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
        order = (case(rank, value=Indicator.result_id), Indicator.position, Indicator.id)
        # The page's indicators picked first, so the figures are read for them alone.
        page_ids = (select(Indicator.id).where(Indicator.result_id.in_(with_indicators)).order_by(*order)
                    .offset(offset - first_start).limit(per_page))
        rows = db.session.execute(select(*INDICATOR_COLUMNS).where(Indicator.id.in_(page_ids)).order_by(*order)).all()
    by_result = _by_result(_Writer().indicators(rows))
    return FrameworkPage([(result, by_result.get(result.id) or LogframeIndicators()) for result in shown], page, pages,
                         total, per_page, offset + 1 if rows else 0, offset + len(rows),
                         activities=_activities([r.id for r in shown]))


def logframe_stream(project: Project, batch: int = STREAM_BATCH) -> Iterator[tuple]:
    """Every result of the logframe with its indicators and activities, for the printable page:
    (result, LogframeIndicators, [activity rows]). Read a batch of results (about ``batch``
    indicators) at a time, so the first rows leave before the last are read."""
    results = _results(project.id)
    counts = _indicator_counts(project.id)
    writer = _Writer()
    group, size = [], 0
    for n, result in enumerate(results):
        group.append(result)
        size += counts.get(result.id, 0)
        if size >= batch or n == len(results) - 1:
            yield from _stream_group(group, writer)
            group, size = [], 0


def _stream_group(results: list, writer: _Writer) -> Iterator[tuple]:
    ids = [result.id for result in results]
    rows = db.session.execute(select(*INDICATOR_COLUMNS).where(Indicator.result_id.in_(ids))
                              .order_by(Indicator.position, Indicator.id)).all()
    by_result = _by_result(writer.indicators(rows))
    activities = _activities(ids)
    for result in results:
        yield result, by_result.get(result.id) or LogframeIndicators(), activities.get(result.id, [])
