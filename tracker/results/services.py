"""The results area's public face: the framework, its indicators' periods and their values.

Other areas, tests and the workbook import call the names here (``__all__``); the rules live
in this package, split by concern:

* ``values.py``: reading a value for an indicator's unit (``parse_value``), showing it, and the
  progress it adds up to (% of target, status and ``STATUS_LABELS``);
* ``workflow.py``: submit, approve, return and unlock, and the lock of an approved period;
* ``grid.py``: the rows of the indicators × periods grid;
* ``framework.py``: creating results and indicators (codes, parents, levels, units, baseline
  and end target: ``create_result``, ``create_indicator``, ``parse_level``, ``parse_unit``);
* here: loading the framework, periods (dates, values, breakdowns), dimensions, thresholds,
  and the figures of the overview's small chart (drawn by ``tracker.charts``).

Every change goes through one function taking plain values (text typed in a form or a
workbook cell's value), so a page and the workbook import refuse the same input with the same
words. Targets and actuals are saved with the period's version from pages (optimistic
concurrency: a stale form gets a 409, never a silent overwrite); the import passes no version.
A period's breakdown (disaggregation) lists one value per category of a dimension; for a
number indicator each complete dimension must add up to the total.

Services flush and never commit; bad input raises ``InputError`` (``LockedError`` for an
approved period), a stale form ``ConflictError``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..charts import TargetChart, target_chart
from ..concurrency import check_version, stamp
from ..extensions import db
from ..formatting import number as format_number
from ..models import (
    Dimension,
    DimensionCategory,
    DisaggregatedValue,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNode,
)
from ..models.results import PERIOD_STATE_LABELS
from ..validation import InputError, clean_text, code_key, parse_date, parse_percent
from .framework import create_indicator, create_result, parse_level, parse_unit
from .grid import GRID_PAGE_SIZE, Grid, GridColumn, GridRow, indicator_order, load_grid
from .values import (
    NO_WORDS,
    STATUS_LABELS,
    UNIT_HINTS,
    YES_WORDS,
    IndicatorProgress,
    breakdown_sums,
    indicator_progress,
    input_value,
    parse_value,
    percent_of_target,
    period_label,
    show_value,
    status_for,
)
from .workflow import (
    SUBMITTABLE_STATES,
    LockedError,
    approve_period,
    check_unlocked,
    describe,
    return_period,
    submit_period,
    take_step,
    unlock_period,
)

__all__ = [
    # labels
    "STATUS_LABELS", "PERIOD_STATE_LABELS", "UNIT_HINTS", "YES_WORDS", "NO_WORDS",
    # values and progress (values.py)
    "parse_value", "show_value", "input_value", "period_label", "percent_of_target", "status_for",
    "IndicatorProgress", "indicator_progress", "breakdown_sums",
    # workflow (workflow.py)
    "LockedError", "SUBMITTABLE_STATES", "check_unlocked", "submit_period", "approve_period", "return_period", "unlock_period",
    "take_step",
    # building the framework (framework.py)
    "create_result", "create_indicator", "parse_level", "parse_unit",
    # grid (grid.py)
    "GRID_PAGE_SIZE", "Grid", "GridColumn", "GridRow", "indicator_order", "load_grid",
    # loading, periods, values, dimensions, thresholds (here)
    "load_framework", "load_period", "load_indicator", "check_period_dates", "create_period", "add_period",
    "change_period_dates", "delete_period", "set_period_values", "save_target", "save_actual",
    "save_breakdown", "set_end_target", "add_dimension", "remove_dimension", "set_thresholds",
    "chart_for",
]


# --- loading ----------------------------------------------------------------------------------


def load_framework(project: Project):
    """Results (ordered by code) with their indicators and periods, in a fixed number of queries."""
    results = db.session.execute(
        select(ResultNode).where(ResultNode.project_id == project.id)
        # subqueryload: one query for all periods (selectinload splits its IN list every 500
        # indicators, so the query count would grow with a large framework).
        .options(selectinload(ResultNode.indicators).subqueryload(Indicator.periods),
                 selectinload(ResultNode.activities))
        .order_by(ResultNode.position, ResultNode.id)
    ).scalars().all()
    return sorted(results, key=lambda r: code_key(r.code))


def load_period(project: Project, period_id: int) -> IndicatorPeriod | None:
    """The project's period with its indicator, dimensions and values (None when not this project's)."""
    return db.session.execute(
        select(IndicatorPeriod).where(IndicatorPeriod.id == period_id, IndicatorPeriod.project_id == project.id)
        .options(selectinload(IndicatorPeriod.indicator).selectinload(Indicator.dimensions)
                 .selectinload(Dimension.categories),
                 selectinload(IndicatorPeriod.values))
    ).scalar()


def load_indicator(project: Project, indicator_id: int) -> Indicator | None:
    """The project's indicator with its periods, result and dimensions (None when not this project's)."""
    return db.session.execute(
        select(Indicator).where(Indicator.id == indicator_id, Indicator.project_id == project.id)
        .options(selectinload(Indicator.periods), selectinload(Indicator.result),
                 selectinload(Indicator.dimensions).selectinload(Dimension.categories))
    ).scalar()


# --- periods: dates ---------------------------------------------------------------------------


def check_period_dates(start, end, *, project_start: date, project_end: date, others=(),
                       code: str = "") -> tuple[date, date]:
    """The one rule for a period's dates; returns them as dates.

    ``start`` and ``end`` are dates or ISO text (a form field, a workbook cell). The period
    must end on or after its start, fall within the project period and overlap none of
    ``others`` (the indicator's other periods, as ``(start, end)`` pairs). Errors name the
    field (``start_date`` or ``end_date``); ``code`` is the indicator's code, for messages.
    """
    errors = {}
    dates = {}
    for name, raw, label, missing in (
            ("start_date", start, _("The start date"), _("Enter the date the period starts, such as %(example)s.",
                                                          example="2016-01-01")),
            ("end_date", end, _("The end date"), _("Enter the date the period ends, such as %(example)s.",
                                                    example="2016-06-30"))):
        try:
            dates[name] = parse_date(raw, label=label)
        except InputError as error:
            errors[name] = str(error)
            continue
        if dates[name] is None:
            errors[name] = missing
    if errors:
        raise InputError(errors=errors)
    start, end = dates["start_date"], dates["end_date"]
    if end < start:
        raise InputError(_("The period ends (%(end)s) before it starts (%(start)s).", end=end.isoformat(),
                           start=start.isoformat()), field="end_date")
    if start < project_start or end > project_end:
        raise InputError(_("A period must fall within the project period (%(start)s to %(end)s).",
                           start=project_start.isoformat(), end=project_end.isoformat()),
                         field="start_date" if start < project_start else "end_date")
    for other_start, other_end in others:
        if other_start <= end and start <= other_end:
            other = f"{other_start.isoformat()} – {other_end.isoformat()}"
            raise InputError(_("This period overlaps the period %(other)s of %(code)s; periods of an indicator "
                               "cannot overlap.", other=other, code=code) if code else
                             _("This period overlaps the period %(other)s; periods of an indicator cannot overlap.",
                               other=other), field="start_date")
    return start, end


def _check_dates(indicator: Indicator, start, end, period: IndicatorPeriod | None = None) -> tuple[date, date]:
    project = indicator.project
    others = [(p.start_date, p.end_date) for p in indicator.periods if p is not period]
    return check_period_dates(start, end, project_start=project.start_date, project_end=project.end_date,
                              others=others, code=indicator.code)


def create_period(indicator: Indicator, start, end, user, *, target=None, actual=None,
                  comment=None) -> IndicatorPeriod:
    """Add a reporting period to an indicator, optionally with its target, actual and comment.

    Dates as in ``check_period_dates``; values as in ``set_period_values`` (typed text or
    workbook cells). Used by the indicator page and the workbook import.
    """
    start, end = _check_dates(indicator, start, end)
    values = _parse_values(indicator, target, actual, comment)
    period = IndicatorPeriod(project_id=indicator.project_id, indicator_id=indicator.id, start_date=start,
                             end_date=end, state="draft")
    _assign(period, values)
    stamp(period, user)
    indicator.periods.append(period)
    db.session.flush()
    return period


def add_period(indicator: Indicator, start, end, user) -> IndicatorPeriod:
    """Add an empty reporting period (no overlap, inside the project period)."""
    return create_period(indicator, start, end, user)


def change_period_dates(period: IndicatorPeriod, start, end, version, user) -> IndicatorPeriod:
    """Move a period (same rule as a new one; an approved period is locked)."""
    check_version(period, version, describe(period, "period"))
    check_unlocked(period)
    period.start_date, period.end_date = _check_dates(period.indicator, start, end, period)
    stamp(period, user)
    db.session.flush()
    return period


def delete_period(period: IndicatorPeriod, version) -> None:
    """Remove a period that has no actual and is not locked."""
    check_version(period, version, describe(period, "period"))
    check_unlocked(period)
    if period.has_actual or period.values:
        raise InputError(_("The period %(period)s has an actual; clear it before removing the period.",
                           period=period.label))
    period.indicator.periods.remove(period)
    db.session.delete(period)
    db.session.flush()


# --- periods: values --------------------------------------------------------------------------


def set_period_values(period: IndicatorPeriod, user, *, target=None, actual=None, comment=None,
                      version=None) -> IndicatorPeriod:
    """Set a period's target and/or actual (and comment): the one rule for pages and the import.

    Each value is typed text or a workbook cell's value; ``None`` leaves it as it is and ``""``
    clears it. The value must fit the indicator's unit (``parse_value``), the period must not be
    approved (locked), and a number actual must equal each complete breakdown already entered.
    ``version`` (from a page's form) refuses a stale form with ``ConflictError``; the import
    passes none.
    """
    if version is not None:
        kind = "target" if actual is None and target is not None else \
            "actual" if target is None and actual is not None else "period"
        check_version(period, version, describe(period, kind))
    check_unlocked(period)
    values = _parse_values(period.indicator, target, actual, comment)
    if "actual" in values:
        _check_breakdown(period, values["actual"][0])
    _assign(period, values)
    stamp(period, user)
    db.session.flush()
    return period


def _parse_values(indicator: Indicator, target, actual, comment) -> dict:
    """The given values (None: not given) read for the indicator's unit, every error at once."""
    errors, values = {}, {}
    for name, raw in (("target", target), ("actual", actual)):
        if raw is not None:
            what = _("The target") if name == "target" else _("The actual")
            try:
                values[name] = parse_value(indicator, raw, what)
            except InputError as error:
                errors[name] = str(error)
    if comment is not None:
        values["comment"] = clean_text(comment)
        if len(values["comment"]) > 4000:
            errors["comment"] = _("The comment is too long (at most %(limit)s characters).", limit=format_number(4000))
    if errors:
        raise InputError(errors=errors)
    return values


def _check_breakdown(period: IndicatorPeriod, number: Decimal | None) -> None:
    """A number actual must equal each complete breakdown already entered."""
    indicator = period.indicator
    if indicator.unit != "number":
        return
    for name, total in breakdown_sums(period).items():
        if number is None or total != number:
            raise InputError(
                _("The breakdown by %(dimension)s adds up to %(sum)s, so the actual must be %(sum)s; change the "
                  "breakdown and the total together on the period page.", dimension=name,
                  sum=show_value(indicator, total)), field="actual")


def _assign(period: IndicatorPeriod, values: dict) -> None:
    if "target" in values:
        period.target, period.target_text = values["target"]
    if "actual" in values:
        period.actual, period.actual_text = values["actual"]
    if "comment" in values:
        period.comment = values["comment"]


def save_target(period: IndicatorPeriod, raw, version, user) -> IndicatorPeriod:
    """Set (or clear, when empty) a period's target: a grid cell."""
    return set_period_values(period, user, target="" if raw is None else raw, version=version)


def save_actual(period: IndicatorPeriod, raw, version, user) -> IndicatorPeriod:
    """Set (or clear) a period's actual: a grid cell; for a number it must match a breakdown."""
    return set_period_values(period, user, actual="" if raw is None else raw, version=version)


def save_breakdown(period: IndicatorPeriod, total_raw, raw_values: dict[int, str], version,
                   user) -> IndicatorPeriod:
    """Save the actual per category of each dimension, with the total.

    A dimension is filled in completely or left empty. For a number indicator, each complete
    dimension must add up to the total; an empty total takes the sum. Errors name the field
    ``total`` or ``category-<id>``.
    """
    check_version(period, version, describe(period, "breakdown"))
    check_unlocked(period)
    indicator = period.indicator
    if indicator.unit == "qualitative":
        raise InputError(_("A qualitative indicator has no breakdown by category."))
    parsed: dict[int, Decimal] = {}
    for dimension in indicator.dimensions:
        filled = []
        for category in dimension.categories:
            try:
                value, _text = parse_value(indicator, raw_values.get(category.id), f"{dimension.name}: {category.label}")
            except InputError as error:
                raise InputError(str(error), field=f"category-{category.id}") from None
            if value is not None:
                filled.append((category, value))
        if filled and len(filled) != len(dimension.categories):
            missing = next(c for c in dimension.categories if c.id not in {f.id for f, _ in filled})
            raise InputError(_("Fill in every category of %(dimension)s, or none: %(category)s is empty.",
                               dimension=dimension.name, category=missing.label), field=f"category-{missing.id}")
        parsed.update({category.id: value for category, value in filled})
    try:
        total, _text = parse_value(indicator, total_raw, _("The total"))
    except InputError as error:
        raise InputError(str(error), field="total") from None
    if indicator.unit == "number":
        sums = {}
        for dimension in indicator.dimensions:
            if all(c.id in parsed for c in dimension.categories) and dimension.categories:
                sums[dimension.name] = sum((parsed[c.id] for c in dimension.categories), Decimal(0))
        if total is None and sums:
            total = next(iter(sums.values()))
        for name, value in sums.items():
            if value != total:
                raise InputError(_("The values by %(dimension)s add up to %(sum)s, but the total is %(total)s. Make "
                                   "them equal: correct a category or the total.", dimension=name,
                                   sum=show_value(indicator, value), total=show_value(indicator, total) or _("empty")),
                                 field="total")
    existing = {v.category_id: v for v in period.values}
    for category_id, value in parsed.items():
        if category_id in existing:
            existing[category_id].value = value
        else:
            period.values.append(DisaggregatedValue(project_id=period.project_id, period_id=period.id,
                                                    category_id=category_id, value=value))
    for category_id, row in existing.items():
        if category_id not in parsed:
            period.values.remove(row)
    period.actual = total
    stamp(period, user)
    db.session.flush()
    return period


def set_end_target(indicator: Indicator, raw) -> Indicator:
    """Set (``""``: clear) an indicator's end target from typed text or a workbook cell."""
    number, text = parse_value(indicator, "" if raw is None else raw,
                               _("The end target of %(code)s", code=indicator.code))
    indicator.target_value, indicator.target_text = number, text
    db.session.flush()
    return indicator


# --- dimensions and thresholds ----------------------------------------------------------------


def add_dimension(indicator: Indicator, name: str, categories_text: str) -> Dimension:
    """Declare a disaggregation dimension, e.g. Sex with 'Women; Men' (semicolons or new lines)."""
    name = clean_text(name)
    if not name:
        raise InputError(_("Name the dimension, for example Sex or City."), field="name")
    same = next((d for d in indicator.dimensions if d.name.casefold() == name.casefold()), None)
    if same is not None:
        raise InputError(_("%(code)s already has a dimension called %(name)s.", code=indicator.code, name=same.name),
                         field="name")
    labels = [part.strip() for part in re.split(r"[;\n]", clean_text(categories_text)) if part.strip()]
    if len(labels) < 2:
        raise InputError(_("List at least two categories, separated by semicolons, for example Hà Nội; Huế; "
                           "Hồ Chí Minh City."), field="categories")
    if len({label.casefold() for label in labels}) != len(labels):
        raise InputError(_("Each category must appear once."), field="categories")
    if any(len(label) > 100 for label in labels):
        raise InputError(_("A category name can have at most 100 characters."), field="categories")
    dimension = Dimension(project_id=indicator.project_id, indicator_id=indicator.id, name=name,
                          position=len(indicator.dimensions))
    dimension.categories = [DimensionCategory(project_id=indicator.project_id, label=label, position=i)
                            for i, label in enumerate(labels)]
    indicator.dimensions.append(dimension)
    db.session.flush()
    return dimension


def remove_dimension(indicator: Indicator, dimension: Dimension) -> None:
    """Remove a dimension and its values (refused while an approved period has values for it)."""
    locked = db.session.execute(
        select(func.count()).select_from(DisaggregatedValue).join(IndicatorPeriod)
        .join(DimensionCategory, DimensionCategory.id == DisaggregatedValue.category_id)
        .where(DimensionCategory.dimension_id == dimension.id, IndicatorPeriod.state == "approved")
    ).scalar()
    if locked:
        raise InputError(_("%(name)s has values in an approved period; unlock it first.", name=dimension.name))
    category_ids = [c.id for c in dimension.categories]
    for value in db.session.execute(
        select(DisaggregatedValue).where(DisaggregatedValue.category_id.in_(category_ids))
    ).scalars():
        db.session.delete(value)  # one by one, so each removal is in the audit trail
    indicator.dimensions.remove(dimension)
    db.session.delete(dimension)
    db.session.flush()


def set_thresholds(project: Project, on_track_raw, at_risk_raw, *, late_after_raw=None, version=None,
                   user=None) -> None:
    """Change the % of target at which an indicator is on track / at risk (below: off track),
    and the days after its end at which a period without an actual is late (issue 13;
    ``late_after_raw`` None or blank leaves it as it is).

    ``version``: the project's version when the form was opened; a form older than the last
    change of the project's settings is refused (409). None: a caller without a form.
    """
    if version is not None:
        check_version(project, version, _("The project's settings"))
    values, errors = {}, {}
    for name, raw, label in (("on_track_pct", on_track_raw, _("On track from")),
                             ("at_risk_pct", at_risk_raw, _("At risk from"))):
        try:
            value = parse_percent(raw, label=label)
        except InputError:
            value = None
        if value is None:
            errors[name] = _("%(label)s must be a percentage from 0 to 100, for example %(example)s.", label=label,
                             example="90")
        elif value.as_tuple().exponent < -2 and value != round(value, 2):
            errors[name] = _("%(label)s can have at most two decimals.", label=label)
        else:
            values[name] = value
    late_after = project.late_after_days
    text = str(late_after_raw or "").strip()
    if text:
        if not text.isascii() or not text.isdigit() or len(text) > 3 or int(text) > 365:
            errors["late_after_days"] = _("Late after: a whole number of days from 0 to 365, for example 14.")
        else:
            late_after = int(text)
    if errors:
        raise InputError(errors=errors)
    if values["at_risk_pct"] >= values["on_track_pct"]:
        raise InputError(_("“%(at_risk)s” must be below “%(on_track)s”.", at_risk=_("At risk from"),
                           on_track=_("On track from")), field="at_risk_pct")
    if (project.on_track_pct, project.at_risk_pct, project.late_after_days) != (
            values["on_track_pct"], values["at_risk_pct"], late_after):
        project.on_track_pct, project.at_risk_pct = values["on_track_pct"], values["at_risk_pct"]
        project.late_after_days = late_after
        stamp(project, user)
    db.session.flush()


# --- the overview's small chart ------------------------------------------------------------------


def chart_for(progress: IndicatorProgress, width: int = 240, height: int = 72) -> TargetChart | None:
    """The overview's small chart of an indicator: target against actual (to date) per period.

    The results area supplies the figures (labels, values as the pages show them); the drawing
    is ``tracker.charts.target_chart`` (``chart.svg(ident, title)``). None for a qualitative
    indicator or one without any number.
    """
    indicator = progress.indicator
    if indicator.unit == "qualitative":
        return None
    return target_chart([(period_label(p.start_date, p.end_date), target, actual)
                         for p, target, actual in progress.series],
                        show=lambda value: show_value(indicator, value), end_target=indicator.target_value,
                        to_date=indicator.cumulative, width=width, height=height)
