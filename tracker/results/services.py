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

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..concurrency import check_version, stamp
from ..extensions import db
from ..validation import InputError
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
        # subqueryload: one query for all periods (selectinload splits its IN list every 500
        # indicators, so the query count would grow with a large framework).
        .options(selectinload(ResultNode.indicators).subqueryload(Indicator.periods),
                 selectinload(ResultNode.activities))
        .order_by(ResultNode.position, ResultNode.id)
    ).scalars().all()
    return sorted(results, key=lambda r: [int(part) if part.isdigit() else part for part in r.code.split(".")])


# =============================================================================================
# Editing targets and actuals, disaggregation, approval, periods and thresholds.
#
# Values fit the indicator's unit: a number (a count: never negative), a percentage 0-100,
# yes/no (stored 1/0) or text for a qualitative indicator. An approved period is locked: it
# refuses every change until a manager unlocks it. Targets and actuals are saved one cell at
# a time with the period's version (optimistic concurrency: a stale form gets a 409, never a
# silent overwrite). A period's breakdown (disaggregation) lists one value per category of a
# dimension; for a number indicator each complete dimension must add up to the total.
#
# Approval: draft or returned -> submitted (officer) -> approved (manager; locks) or returned
# with a note; a manager unlocks an approved period (back to draft). Each step is an audit
# event of its own (``indicator.submit`` ...) besides the row change the session hook writes.
# A submitted period can still be corrected; the approval carries the version the manager
# saw, so a correction made after the manager opened the page turns the approval into a 409.
# =============================================================================================

YES_WORDS = {"yes", "y", "true", "1", "có", "co"}
NO_WORDS = {"no", "n", "false", "0", "không", "khong"}
STATE_LABELS = {"draft": "Draft", "submitted": "Submitted", "approved": "Approved", "returned": "Returned"}
GRID_PAGE_SIZE = 25
_GROUPED_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


class FieldError(InputError):
    """Bad input that belongs next to one form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)


class LockedError(InputError):
    """A change to an approved (locked) period."""


@lru_cache(maxsize=65536)
def code_key(code: str) -> tuple:
    """Natural order of codes: 1.2 before 1.10, A1.2 before A1.10."""
    parts = []
    for part in (code or "").replace("-", ".").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        prefix = "".join(ch for ch in part if not ch.isdigit())
        parts.append((prefix, int(digits) if digits else -1, part))
    return tuple(parts)


@lru_cache(maxsize=4096)
def period_label(start: date, end: date) -> str:
    """A short name for a period: 2016 H1, 2016 Q3, 2016-05, 2016, else the two dates."""
    if start.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        month_end = (date(end.year + (end.month == 12), end.month % 12 + 1, 1) - date.resolution) == end
        if month_end:
            if months == 12 and start.month == 1:
                return str(start.year)
            if months == 6 and start.month in (1, 7):
                return f"{start.year} H{1 if start.month == 1 else 2}"
            if months == 3 and start.month in (1, 4, 7, 10):
                return f"{start.year} Q{(start.month - 1) // 3 + 1}"
            if months == 1:
                return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()} – {end.isoformat()}"


def parse_value(indicator: Indicator, raw: str | None, what: str = "The actual") -> tuple[Decimal | None, str]:
    """Text typed in a cell -> (number, text) for the indicator's unit; (None, '') when empty."""
    text = (raw or "").strip()
    if indicator.unit == "qualitative":
        if len(text) > 4000:
            raise InputError(f"{what} is too long (at most 4,000 characters).")
        return None, text
    if not text:
        return None, ""
    if indicator.unit == "yesno":
        word = text.casefold()
        if word in YES_WORDS:
            return Decimal(1), ""
        if word in NO_WORDS:
            return Decimal(0), ""
        raise InputError(f"{what} must be yes or no (this indicator is yes/no); you typed “{text}”.")
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if indicator.unit == "percent":
        cleaned = cleaned.removesuffix("%")
    if "," in cleaned:
        if not _GROUPED_NUMBER.match(cleaned):
            raise InputError(f"{what} must be a number written with a point for decimals, for example 3.5; "
                             f"you typed “{text}”.")
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        example = "a percentage from 0 to 100, for example 45" if indicator.unit == "percent" else \
            "a number, for example 12 or 3.5"
        raise InputError(f"{what} must be {example}; you typed “{text}”.")
    if value.as_tuple().exponent < -4:
        raise InputError(f"{what} can have at most four decimals.")
    if indicator.unit == "percent" and not 0 <= value <= 100:
        raise InputError(f"{what} is a percentage and must be from 0 to 100; you typed “{text}”.")
    if value < 0:
        raise InputError(f"{what} cannot be negative: this indicator counts things; you typed “{text}”.")
    if value >= Decimal("1e13"):
        raise InputError(f"{what} is too large.")
    return value, ""


def show_value(indicator: Indicator, number, text: str = "") -> str:
    """A stored value as a person reads it (Yes/No, 45%, 1,250, the text)."""
    if indicator.unit == "qualitative":
        return text or ""
    if number is None:
        return ""
    if indicator.unit == "yesno":
        return "Yes" if Decimal(number) >= 1 else "No"
    shown = format_number(number)
    return f"{shown}%" if indicator.unit == "percent" else shown


def input_value(indicator: Indicator, number, text: str = "") -> str:
    """A stored value as it is put back in an input (no thousands separators)."""
    if indicator.unit == "qualitative":
        return text or ""
    if number is None:
        return ""
    if indicator.unit == "yesno":
        return "yes" if Decimal(number) >= 1 else "no"
    value = Decimal(number)
    return str(int(value)) if value == value.to_integral() else format(value.normalize(), "f")


def load_period(project: Project, period_id: int) -> IndicatorPeriod | None:
    """The project's period with its indicator, dimensions and values (None when not this project's)."""
    return db.session.execute(
        select(IndicatorPeriod).where(IndicatorPeriod.id == period_id, IndicatorPeriod.project_id == project.id)
        .options(selectinload(IndicatorPeriod.indicator).selectinload(Indicator.dimensions)
                 .selectinload(Dimension.categories),
                 selectinload(IndicatorPeriod.values))
    ).scalar()


def load_indicator(project: Project, indicator_id: int) -> Indicator | None:
    return db.session.execute(
        select(Indicator).where(Indicator.id == indicator_id, Indicator.project_id == project.id)
        .options(selectinload(Indicator.periods), selectinload(Indicator.result),
                 selectinload(Indicator.dimensions).selectinload(Dimension.categories))
    ).scalar()


def _refuse_if_locked(period: IndicatorPeriod) -> None:
    if period.locked:
        raise LockedError(f"The period {period.label} of {period.indicator.code} is approved and locked; a manager "
                          "must unlock it before it can change. Nothing was saved.")


def _what(period: IndicatorPeriod, kind: str) -> str:
    return f"The {kind} of {period.indicator.code} for {period_label(period.start_date, period.end_date)}"


def save_target(period: IndicatorPeriod, raw: str | None, version, user) -> IndicatorPeriod:
    """Set (or clear, when empty) a period's target."""
    check_version(period, version, _what(period, "target"))
    _refuse_if_locked(period)
    number, text = parse_value(period.indicator, raw, "The target")
    period.target, period.target_text = number, text
    stamp(period, user)
    db.session.flush()
    return period


def save_actual(period: IndicatorPeriod, raw: str | None, version, user) -> IndicatorPeriod:
    """Set (or clear) a period's actual; for a number it must match a breakdown already entered."""
    check_version(period, version, _what(period, "actual"))
    _refuse_if_locked(period)
    indicator = period.indicator
    number, text = parse_value(indicator, raw, "The actual")
    if indicator.unit == "number":
        for name, total in breakdown_sums(period).items():
            if number is None or total != number:
                raise InputError(
                    f"The breakdown by {name} adds up to {show_value(indicator, total)}, so the actual must be "
                    f"{show_value(indicator, total)}; change the breakdown and the total together on the period "
                    "page.")
    period.actual, period.actual_text = number, text
    stamp(period, user)
    db.session.flush()
    return period


def breakdown_sums(period: IndicatorPeriod) -> dict[str, Decimal]:
    """Sum of the values of each dimension that has every category filled in, by dimension name."""
    values = {v.category_id: v.value for v in period.values}
    sums = {}
    for dimension in period.indicator.dimensions:
        ids = [c.id for c in dimension.categories]
        if ids and all(i in values for i in ids):
            sums[dimension.name] = sum((Decimal(values[i]) for i in ids), Decimal(0))
    return sums


def save_breakdown(period: IndicatorPeriod, total_raw: str | None, raw_values: dict[int, str], version,
                   user) -> IndicatorPeriod:
    """Save the actual per category of each dimension, with the total.

    A dimension is filled in completely or left empty. For a number indicator, each complete
    dimension must add up to the total; an empty total takes the sum. Errors are FieldErrors
    on ``total`` or ``category-<id>``.
    """
    check_version(period, version, _what(period, "breakdown"))
    _refuse_if_locked(period)
    indicator = period.indicator
    if indicator.unit == "qualitative":
        raise InputError("A qualitative indicator has no breakdown by category.")
    parsed: dict[int, Decimal] = {}
    for dimension in indicator.dimensions:
        filled = []
        for category in dimension.categories:
            try:
                value, _ = parse_value(indicator, raw_values.get(category.id), f"{dimension.name}: {category.label}")
            except InputError as error:
                raise FieldError(f"category-{category.id}", str(error)) from None
            if value is not None:
                filled.append((category, value))
        if filled and len(filled) != len(dimension.categories):
            missing = next(c for c in dimension.categories if c.id not in {f.id for f, _ in filled})
            raise FieldError(f"category-{missing.id}", f"Fill in every category of {dimension.name}, or none: "
                                                        f"{missing.label} is empty.")
        parsed.update({category.id: value for category, value in filled})
    try:
        total, _ = parse_value(indicator, total_raw, "The total")
    except InputError as error:
        raise FieldError("total", str(error)) from None
    if indicator.unit == "number":
        sums = {}
        for dimension in indicator.dimensions:
            if all(c.id in parsed for c in dimension.categories) and dimension.categories:
                sums[dimension.name] = sum((parsed[c.id] for c in dimension.categories), Decimal(0))
        if total is None and sums:
            total = next(iter(sums.values()))
        for name, value in sums.items():
            if value != total:
                raise FieldError("total", f"The values by {name} add up to {show_value(indicator, value)}, but the "
                                          f"total is {show_value(indicator, total) or 'empty'}. Make them equal: "
                                          "correct a category or the total.")
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


# --- approval ----------------------------------------------------------------------------------


def _record_step(period: IndicatorPeriod, action: str, old: str, note: str = "") -> None:
    from ..audit import trail

    changes = {"state": [old, period.state], "indicator": period.indicator.code,
               "period": f"{period.start_date.isoformat()}/{period.end_date.isoformat()}"}
    if note:
        changes["note"] = note
    trail.record(db.session, action, table_name="indicator_period", row_id=period.id,
                 project_id=period.project_id, changes=changes)


def submit_period(period: IndicatorPeriod, version, user) -> IndicatorPeriod:
    """An officer submits a period's actual for approval."""
    check_version(period, version, _what(period, "period"))
    if period.state not in ("draft", "returned"):
        raise InputError(f"This period is already {period.state}; only a draft or returned period can be submitted.")
    if not period.has_actual:
        raise InputError("Enter the actual before submitting the period.")
    old = period.state
    period.state = "submitted"
    period.submitted_at, period.submitted_by_id = datetime.now(UTC), getattr(user, "id", None)
    stamp(period, user)
    db.session.flush()
    _record_step(period, "indicator.submit", old)
    return period


def approve_period(period: IndicatorPeriod, version, user) -> IndicatorPeriod:
    """A manager approves a submitted period, which locks it."""
    check_version(period, version, _what(period, "period"))
    if period.state != "submitted":
        raise InputError(f"Only a submitted period can be approved; this one is {period.state}.")
    old = period.state
    period.state = "approved"
    period.approved_at, period.approved_by_id = datetime.now(UTC), getattr(user, "id", None)
    period.return_note = ""
    stamp(period, user)
    db.session.flush()
    _record_step(period, "indicator.approve", old)
    return period


def return_period(period: IndicatorPeriod, note: str, version, user) -> IndicatorPeriod:
    """A manager returns a submitted period to the officer with a note saying what to change."""
    check_version(period, version, _what(period, "period"))
    if period.state != "submitted":
        raise InputError(f"Only a submitted period can be returned; this one is {period.state}.")
    note = (note or "").strip()
    if not note:
        raise FieldError("note", "Say what needs changing: the note goes back to the officer.")
    old = period.state
    period.state, period.return_note = "returned", note
    stamp(period, user)
    db.session.flush()
    _record_step(period, "indicator.return", old, note)
    return period


def unlock_period(period: IndicatorPeriod, version, user, note: str = "") -> IndicatorPeriod:
    """A manager unlocks an approved period so it can change again (it goes back to draft)."""
    check_version(period, version, _what(period, "period"))
    if period.state != "approved":
        raise InputError(f"Only an approved period is locked; this one is {period.state}.")
    old = period.state
    period.state = "draft"
    period.approved_at = period.approved_by_id = None
    stamp(period, user)
    db.session.flush()
    _record_step(period, "indicator.unlock", old, (note or "").strip())
    return period


# --- periods, dimensions, thresholds ------------------------------------------------------------


def _check_dates(indicator: Indicator, start: date | None, end: date | None,
                 period: IndicatorPeriod | None = None) -> None:
    project = indicator.project
    if start is None:
        raise FieldError("start_date", "Enter the date the period starts, such as 2016-01-01.")
    if end is None:
        raise FieldError("end_date", "Enter the date the period ends, such as 2016-06-30.")
    if end < start:
        raise FieldError("end_date", f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}).")
    if start < project.start_date or end > project.end_date:
        raise FieldError("start_date" if start < project.start_date else "end_date",
                         f"A period must fall within the project period ({project.start_date.isoformat()} to "
                         f"{project.end_date.isoformat()}).")
    for other in indicator.periods:
        if other is not period and other.start_date <= end and start <= other.end_date:
            raise FieldError("start_date", f"This period overlaps the period {other.label} of {indicator.code}; "
                                           "periods of an indicator cannot overlap.")


def add_period(indicator: Indicator, start: date | None, end: date | None, user) -> IndicatorPeriod:
    """Add a reporting period to an indicator (no overlap, inside the project period)."""
    _check_dates(indicator, start, end)
    period = IndicatorPeriod(project_id=indicator.project_id, indicator_id=indicator.id, start_date=start,
                             end_date=end)
    stamp(period, user)
    indicator.periods.append(period)
    db.session.flush()
    return period


def change_period_dates(period: IndicatorPeriod, start: date | None, end: date | None, version,
                        user) -> IndicatorPeriod:
    check_version(period, version, _what(period, "period"))
    _refuse_if_locked(period)
    _check_dates(period.indicator, start, end, period)
    period.start_date, period.end_date = start, end
    stamp(period, user)
    db.session.flush()
    return period


def delete_period(period: IndicatorPeriod, version) -> None:
    """Remove a period that has no actual and is not locked."""
    check_version(period, version, _what(period, "period"))
    _refuse_if_locked(period)
    if period.has_actual or period.values:
        raise InputError(f"The period {period.label} has an actual; clear it before removing the period.")
    period.indicator.periods.remove(period)
    db.session.delete(period)
    db.session.flush()


def add_dimension(indicator: Indicator, name: str, categories_text: str) -> Dimension:
    """Declare a disaggregation dimension, e.g. Sex with 'Women; Men' (semicolons or new lines)."""
    name = (name or "").strip()
    if not name:
        raise FieldError("name", "Name the dimension, for example Sex or City.")
    same = next((d for d in indicator.dimensions if d.name.casefold() == name.casefold()), None)
    if same is not None:
        raise FieldError("name", f"{indicator.code} already has a dimension called {same.name}.")
    labels = [part.strip() for part in re.split(r"[;\n]", categories_text or "") if part.strip()]
    if len(labels) < 2:
        raise FieldError("categories", "List at least two categories, separated by semicolons, for example "
                                       "Hà Nội; Huế; Hồ Chí Minh City.")
    if len({label.casefold() for label in labels}) != len(labels):
        raise FieldError("categories", "Each category must appear once.")
    if any(len(label) > 100 for label in labels):
        raise FieldError("categories", "A category name can have at most 100 characters.")
    dimension = Dimension(project_id=indicator.project_id, indicator_id=indicator.id, name=name,
                          position=len(indicator.dimensions))
    dimension.categories = [DimensionCategory(project_id=indicator.project_id, label=label, position=i)
                            for i, label in enumerate(labels)]
    indicator.dimensions.append(dimension)
    db.session.flush()
    return dimension


def remove_dimension(indicator: Indicator, dimension: Dimension) -> None:
    locked = db.session.execute(
        select(func.count()).select_from(DisaggregatedValue).join(IndicatorPeriod)
        .join(DimensionCategory, DimensionCategory.id == DisaggregatedValue.category_id)
        .where(DimensionCategory.dimension_id == dimension.id, IndicatorPeriod.state == "approved")
    ).scalar()
    if locked:
        raise InputError(f"{dimension.name} has values in an approved period; unlock it first.")
    category_ids = [c.id for c in dimension.categories]
    for value in db.session.execute(
        select(DisaggregatedValue).where(DisaggregatedValue.category_id.in_(category_ids))
    ).scalars():
        db.session.delete(value)  # one by one, so each removal is in the audit trail
    indicator.dimensions.remove(dimension)
    db.session.delete(dimension)
    db.session.flush()


def set_thresholds(project: Project, on_track_raw: str | None, at_risk_raw: str | None) -> None:
    """Change the % of target at which an indicator is on track / at risk (below: off track)."""
    values = {}
    for name, raw, label in (("on_track_pct", on_track_raw, "On track from"),
                             ("at_risk_pct", at_risk_raw, "At risk from")):
        text = (raw or "").strip().removesuffix("%").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise FieldError(name, f"{label} must be a percentage from 0 to 100, for example 90.") from None
        if not value.is_finite() or not 0 <= value <= 100:
            raise FieldError(name, f"{label} must be a percentage from 0 to 100, for example 90.")
        if value.as_tuple().exponent < -2:
            raise FieldError(name, f"{label} can have at most two decimals.")
        values[name] = value
    if values["at_risk_pct"] >= values["on_track_pct"]:
        raise FieldError("at_risk_pct", "“At risk from” must be below “On track from”.")
    project.on_track_pct, project.at_risk_pct = values["on_track_pct"], values["at_risk_pct"]
    db.session.flush()


# --- the grid ----------------------------------------------------------------------------------


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


# --- the overview's small chart ------------------------------------------------------------------


CHART_MARKS = 12  # periods up to which each gets a marker with its figures


@dataclass
class Chart:
    """Target and actual to date over the periods, as SVG coordinates (drawn by the template)."""

    width: int
    height: int
    target_points: str
    actual_points: str
    dots: list  # (x, y, label) of each actual
    target_dots: list  # (x, y, label) of each target
    top_label: str
    first_label: str
    last_label: str
    description: str
    baseline_y: float


def chart_for(progress: IndicatorProgress, width: int = 240, height: int = 72) -> Chart | None:
    """A small line chart of target to date against actual to date; None without numbers.

    Up to ``CHART_MARKS`` periods each get a marker with its figures; longer series are drawn
    as lines only and described by their first and latest figures, so a framework of hundreds
    of indicators with monthly periods keeps a light page.
    """
    indicator = progress.indicator
    series = progress.series
    if indicator.unit == "qualitative" or not series:
        return None
    values = [v for _, t, a in series for v in (t, a) if v is not None]
    if indicator.target_value is not None:
        values.append(indicator.target_value)
    if not values:
        return None
    top = float(max(values)) or 1.0
    left, right, upper, lower = 4, width - 4, 10, height - 14
    count = len(series)
    step = (right - left) / (count - 1) if count > 1 else 0
    xs = [round(left + step * i, 1) if count > 1 else width / 2 for i in range(count)]

    def y(value) -> float:
        return round(lower - (lower - upper) * float(value) / top, 1)

    targets = [(i, p, t) for i, (p, t, _) in enumerate(series) if t is not None]
    actuals = [(i, p, a) for i, (p, _, a) in enumerate(series) if a is not None]
    target_points = " ".join(f"{xs[i]},{y(t)}" for i, _, t in targets)
    actual_points = " ".join(f"{xs[i]},{y(a)}" for i, _, a in actuals)
    marks = count <= CHART_MARKS
    dots = [(xs[i], y(a), f"{period_label(p.start_date, p.end_date)}: actual {show_value(indicator, a)}")
            for i, p, a in actuals] if marks else []
    target_dots = [(xs[i], y(t), f"{period_label(p.start_date, p.end_date)}: target {show_value(indicator, t)}")
                   for i, p, t in targets] if marks else []
    to_date = "to date " if indicator.cumulative else ""
    if marks:
        parts = [f"{period_label(p.start_date, p.end_date)}: target {show_value(indicator, t) or 'none'}, "
                 f"actual {show_value(indicator, a) or 'none'}" for p, t, a in series]
        description = f"Target and actual {to_date}by period. " + "; ".join(parts) + "."
    else:
        first_period, last_period = series[0][0], series[-1][0]
        description = (f"Target and actual {to_date}over {count} periods from "
                       f"{period_label(first_period.start_date, first_period.end_date)} to "
                       f"{period_label(last_period.start_date, last_period.end_date)}.")
        if actuals:
            _, p, a = actuals[-1]
            target = series[actuals[-1][0]][1]
            description += (f" Latest actual ({period_label(p.start_date, p.end_date)}): {show_value(indicator, a)}"
                            f" against a target of {show_value(indicator, target) or 'none'}.")
    first, last = series[0][0], series[-1][0]
    return Chart(width, height, target_points, actual_points, dots, target_dots, show_value(indicator, max(values)),
                 period_label(first.start_date, first.end_date), period_label(last.start_date, last.end_date),
                 description, lower)
