"""Indicator values: reading them (pages and the workbook import alike), showing them, and the
progress they add up to (value to date, % of target, status).

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

``parse_value`` is the one rule for a value typed in a grid cell, a breakdown, or read from a
workbook cell: a number (a count: never negative), a percentage 0-100, yes/no (stored 1/0)
or text for a qualitative indicator. Numbers are read by ``validation.parse_decimal`` (so
"1,5" is refused, never read as 15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..formatting import input_number
from ..formatting import number as format_number
from ..models import Indicator, IndicatorPeriod, Project
from ..validation import InputError, clean_text, parse_decimal, parse_percent

# Derived statuses of an indicator (computed, never stored): the one label map for pages,
# forms and exports (lazy: translated when shown).
STATUS_LABELS = {"on_track": _l("On track"), "at_risk": _l("At risk"), "off_track": _l("Off track"),
                 "no_data": _l("No data yet"), "qualitative": _l("Qualitative")}

# What each unit expects, as the grid's inputs tell a screen reader ("Actual of 1.1.b ... (a number)").
UNIT_HINTS = {"number": _l("a number"), "percent": _l("a percentage from 0 to 100"), "yesno": _l("yes or no"),
              "qualitative": _l("text")}

YES_WORDS = frozenset({"yes", "y", "true", "1", "có", "co"})
NO_WORDS = frozenset({"no", "n", "false", "0", "không", "khong"})
MAX_TEXT = 4000  # characters of a qualitative value
MAX_DECIMALS = 4  # the columns are NUMERIC(18, 4)


# --- reading ----------------------------------------------------------------------------------


def parse_value(unit: str | Indicator, raw, what: str | None = None) -> tuple[Decimal | None, str]:
    """A value typed (text) or read from a workbook cell -> (number, text) for the unit.

    ``unit`` is an indicator or its unit (``number``, ``percent``, ``yesno``, ``qualitative``:
    the workbook import knows only the unit of an indicator it is about to create).
    Returns ``(None, "")`` when empty; raises ``InputError`` naming ``what`` (translated by the
    caller; "The actual" when not given) otherwise.
    """
    what = _("The actual") if what is None else what
    unit = getattr(unit, "unit", unit)
    if unit == "qualitative":
        text = clean_text(raw)
        if len(text) > MAX_TEXT:
            raise InputError(_("%(what)s is too long (at most %(limit)s characters).", what=what,
                               limit=format_number(MAX_TEXT)))
        return None, text
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ""
    if unit == "yesno":
        return _yes_or_no(raw, what), ""
    if isinstance(raw, bool):
        raise InputError(_("%(what)s must be a number, for example %(example)s.", what=what,
                           example=_example()))
    if unit == "percent":
        value = parse_percent(raw, label=what)
    else:
        value = parse_decimal(raw, label=what, example="12 or 3.5")
    if value is None:
        return None, ""
    if value.as_tuple().exponent < -MAX_DECIMALS and value != round(value, MAX_DECIMALS):
        raise InputError(_("%(what)s can have at most four decimals.", what=what))
    if value < 0:
        raise InputError(_("%(what)s cannot be negative: this indicator counts things; you typed “%(typed)s”.",
                           what=what, typed=_typed(raw)))
    return value, ""


def _yes_or_no(raw, what: str) -> Decimal:
    if isinstance(raw, bool):
        return Decimal(int(raw))
    word = str(raw).strip().casefold()
    if word in YES_WORDS:
        return Decimal(1)
    if word in NO_WORDS:
        return Decimal(0)
    if not isinstance(raw, str):
        try:
            number = parse_decimal(raw, label=what)
        except InputError:
            number = None
        if number in (0, 1):
            return Decimal(int(number))
    raise InputError(_("%(what)s must be yes or no (this indicator is yes/no); you typed “%(typed)s”.",
                       what=what, typed=_typed(raw)))


def _example() -> str:
    """"12 or 3.5" in the person's language (12 hoặc 3,5), as ``validation.parse_decimal`` writes it."""
    return f"12 {_('or')} {format_number(Decimal('3.5'))}"


def _typed(raw) -> str:
    text = raw.strip() if isinstance(raw, str) else str(raw)
    return text if len(text) <= 40 else text[:40] + "…"


# --- showing ----------------------------------------------------------------------------------


def show_value(indicator: Indicator, number, text: str = "") -> str:
    """A stored value as a person reads it (Yes/No, 45%, 1,250, the text)."""
    return _as_text(indicator, number, text, _yes_no_shown, _shown_number)


def input_value(indicator: Indicator, number, text: str = "") -> str:
    """A stored value as it is put back in an input (no thousands separators)."""
    return _as_text(indicator, number, text, _yes_no_typed, _input_number)


def _yes_no_shown() -> tuple[str, str]:
    return _("Yes"), _("No")


def _yes_no_typed() -> tuple[str, str]:
    return _("yes"), _("no")  # read back by YES_WORDS / NO_WORDS in either language


def _as_text(indicator: Indicator, number, text: str, yes_no, numeric) -> str:
    """The one reading of a stored value: a qualitative indicator's text, nothing for no number,
    yes for 1 or more on a yes/no indicator, else ``numeric(indicator, number)``."""
    if indicator.unit == "qualitative":
        return text or ""
    if number is None:
        return ""
    if indicator.unit == "yesno":
        words = yes_no()  # translated only for a yes/no value (the grid shows thousands of numbers)
        return words[0] if Decimal(number) >= 1 else words[1]
    return numeric(indicator, number)


def _shown_number(indicator: Indicator, number) -> str:
    shown = format_number(number)
    return f"{shown}%" if indicator.unit == "percent" else shown


def _input_number(_indicator: Indicator, number) -> str:
    return input_number(number)  # no grouping, the person's decimal symbol: read back as it was


@lru_cache(maxsize=4096)
def period_label(start: date, end: date) -> str:
    """A short name for a period: 2016 H1, 2016 Q3, 2016-05, 2016, else the two dates."""
    if start.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        # The day after ``end`` is the first of a month (counted, not built: 9999-12-31 has no day after).
        month_end = end == date.max or (end + date.resolution).day == 1
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


# --- progress ---------------------------------------------------------------------------------


def percent_of_target(actual: Decimal | None, target: Decimal | None, ascending: bool = True) -> Decimal | None:
    """Actual as a % of target (target ÷ actual for a descending indicator); None without both."""
    if actual is None or target is None:
        return None
    actual, target = Decimal(actual), Decimal(target)
    if ascending:
        return None if target == 0 else (actual / target * 100)
    if actual == 0:
        return Decimal(100) if target >= 0 else None
    return target / actual * 100


def status_for(pct: Decimal | None, project: Project) -> str:
    """on_track / at_risk / off_track by the project's thresholds; no_data without a %."""
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
        return str(STATUS_LABELS[self.status])

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


def breakdown_sums(period: IndicatorPeriod) -> dict[str, Decimal]:
    """Sum of the values of each dimension that has every category filled in, by dimension name."""
    values = {v.category_id: v.value for v in period.values}
    sums = {}
    for dimension in period.indicator.dimensions:
        ids = [c.id for c in dimension.categories]
        if ids and all(i in values for i in ids):
            sums[dimension.name] = sum((Decimal(values[i]) for i in ids), Decimal(0))
    return sums
