"""Indicator rows, in both modes: the Indicators sheet's periods (targets, actuals, comments)
and the Logframe sheet's end targets, each through the results services.

* A period is found by its indicator code and its two dates (read by ``validation.parse_date``,
  as the period rule reads them). A period the indicator does not have yet is created with its
  values by ``create_period`` (inside the project period, no overlap; the indicator page's rule).
* The targets, actuals and comments of an existing period go through ``set_period_values``,
  the grid's own save (``parse_value`` for the unit, the lock of an approved period, the
  breakdown an actual must equal). A blank cell leaves the value as it is; a value equal to the
  stored one changes nothing (so an unchanged export imports as nothing to do, approved periods
  included).
* An end target is read by ``parse_value`` for the indicator's unit, the rule of every value.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from ..exports.language import names_of
from ..i18n import N_
from ..models import Indicator, IndicatorPeriod
from ..results import services as results
from ..validation import InputError, code_key, parse_date
from .plan import FAILED, Change, Plan
from .sheets import MISSING, Table, find_sheet, norm, shown


def show(indicator: Indicator, number, text: str = "") -> str:
    """A value in the plan's list: the text a person would type back, or (blank)."""
    if indicator.unit == "qualitative":
        return f"“{shown(text)}”" if text else _("(blank)")
    if number is None:
        return _("(blank)")
    value = Decimal(number)
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


# The words of the period rule (results.services.check_period_dates) for the two dates.
DATE_LABELS = {"start": N_("The start date"), "end": N_("The end date")}


def period_label(start: date, end: date) -> str:
    return f"{start.isoformat()} – {end.isoformat()}"


def read_periods(plan: Plan, wb, indicators: dict[str, Indicator], user, required: bool) -> None:
    """Apply the Indicators sheet to ``indicators`` (code -> Indicator, periods loaded)."""
    ws = find_sheet(plan.problems, wb, "Indicators", required)
    if ws is None:
        return
    table = Table.read(plan.problems, ws, "Indicators", ("code", "start", "end", "target", "actual"))
    if not table.ok:
        return
    seen: dict[tuple[str, date, date], int] = {}
    for number, cells in table.rows:
        code = table.text(number, cells, "code", required=True, limit=20)
        start = _date(table, number, cells, "start")
        end = _date(table, number, cells, "end")
        if MISSING in (code, start, end):
            continue
        indicator = indicators.get(code)
        if indicator is None:
            codes = sorted(indicators, key=code_key)
            table.problem(number, "code", _("unknown indicator code “%(code)s” (the project has %(codes)s).",
                                            code=shown(code), codes=", ".join(codes[:8]) + ("…" if len(codes) > 8 else ""))
                          if codes else _("unknown indicator code “%(code)s”.", code=shown(code)))
            continue
        key = (code, start, end)
        if key in seen:
            table.problem(number, "code", _("indicator %(code)s period %(period)s appears twice (also row %(row)s).",
                                            code=code, period=period_label(start, end), row=seen[key]))
            continue
        seen[key] = number
        target = table.raw(number, cells, "target")
        actual = table.raw(number, cells, "actual")
        comment = table.text(number, cells, "comment") if table.has("comment") else ""
        texts = {key: table.text(number, cells, key) if table.has(key) else "" for key in NARRATIVE_KEYS}
        if MISSING in (target, actual, comment, *texts.values()):
            continue
        period = next((p for p in indicator.periods if (p.start_date, p.end_date) == (start, end)), None)
        label = _("Indicator %(code)s, period %(period)s", code=code, period=period_label(start, end))
        if period is None:
            period = _new_period(plan, table, number, indicator, start, end, target, actual, comment, user, label)
        else:
            _update_period(plan, table, number, period, target, actual, comment, user, label)
        if period is not None and period is not FAILED:
            _update_narratives(plan, table, number, period, texts, user, label)


def _date(table: Table, number: int, cells: dict, key: str):
    raw = table.raw(number, cells, key)
    if raw is MISSING:
        return MISSING
    try:
        value = parse_date(raw, label=_(DATE_LABELS[key]))
    except InputError as error:
        table.problem(number, key, str(error))
        return MISSING
    if value is None:
        table.problem(number, key, _("is empty; a date is required (for example 2016-01-31)."))
        return MISSING
    return value


def _parsed(table: Table, number: int, indicator: Indicator, raw, key: str):
    """The value as the grid would read it, to compare with the stored one (None: blank cell)."""
    if raw is None:
        return None
    try:
        return results.parse_value(indicator, raw, _(VALUE_LABELS[key]))
    except InputError as error:
        table.problem(number, key, str(error))
        return MISSING


def _new_period(plan, table, number, indicator, start, end, target, actual, comment, user, label):
    period = plan.attempt(
        table, number, {"start_date": "start", "end_date": "end", "target": "target", "actual": "actual",
                        "comment": "comment", "*": "start"},
        lambda: results.create_period(indicator, start, end, user, target=target, actual=actual,
                                      comment=comment or None))
    if period is FAILED:
        return FAILED
    values = [f"{_(KIND_WORDS[kind])} {show(indicator, number_, text)}" for kind, number_, text in
              (("target", period.target, period.target_text), ("actual", period.actual, period.actual_text))
              if number_ is not None or text]
    plan.changes.append(Change("create", label, _("new period") + (": " + ", ".join(values) if values else ""),
                               "Indicators", number))
    return period


# The narrative columns of the Indicators sheet (issue 16) and the words of the plan's list.
NARRATIVE_KEYS = {"narrative": N_("narrative"), "variance_explanation": N_("variance explanation")}
# The words of the plan's list and of the value rule's messages for a target and an actual.
KIND_WORDS = {"target": N_("target"), "actual": N_("actual")}
VALUE_LABELS = {"target": N_("The target"), "actual": N_("The actual")}


def _update_narratives(plan, table, number, period: IndicatorPeriod, texts: dict, user, label) -> None:
    """A period's narrative and variance explanation through ``narratives.save_period_narrative``
    (the period page's save: the lock of an approved period, the length): only a non-blank cell
    that differs from the stored text is a change, so an unchanged export imports as nothing."""
    from ..results import narratives

    given = {key: text for key, text in texts.items() if text and text != getattr(period, key)}
    if not given:
        return
    if plan.attempt(table, number, {**{key: key for key in NARRATIVE_KEYS}, "*": next(iter(given))},
                    lambda: narratives.save_period_narrative(period, given.get("narrative"),
                                                             given.get("variance_explanation"), None, user)) is FAILED:
        return
    for key in given:
        plan.changes.append(Change("change", label, f"{_(NARRATIVE_KEYS[key])}: → “{shown(getattr(period, key))}”",
                                   "Indicators", number))


def _update_period(plan, table, number, period: IndicatorPeriod, target, actual, comment, user, label):
    """Only what differs from the stored period is handed to ``set_period_values`` (one save)."""
    indicator = period.indicator
    given = {}
    old = {}
    for kind, raw in (("target", target), ("actual", actual)):
        new = _parsed(table, number, indicator, raw, kind)
        if new is MISSING:
            return
        old[kind] = (getattr(period, kind), getattr(period, f"{kind}_text"))
        if new is not None and not _same(old[kind], new):
            given[kind] = raw
    if comment and comment != period.comment:
        given["comment"] = comment
    if not given:
        return
    first = next(iter(given))
    if plan.attempt(table, number, {"target": "target", "actual": "actual", "comment": "comment", "*": first},
                    lambda: results.set_period_values(period, user, **given)) is FAILED:
        return
    for kind in ("target", "actual"):
        if kind in given:
            plan.changes.append(Change("change", label, f"{_(KIND_WORDS[kind])}: {show(indicator, *old[kind])} → "
                                       f"{show(indicator, getattr(period, kind), getattr(period, f'{kind}_text'))}",
                                       "Indicators", number))
    if "comment" in given:
        plan.changes.append(Change("change", label, _("comment: → “%(text)s”", text=shown(period.comment)),
                                   "Indicators", number))


def _same(old: tuple, new: tuple) -> bool:
    old_number, old_text = old
    new_number, new_text = new
    if old_number is None or new_number is None:
        return old_number is None and new_number is None and (old_text or "") == (new_text or "")
    return Decimal(old_number) == Decimal(new_number)


def update_end_targets(plan: Plan, ws, indicators: dict[str, Indicator]) -> None:
    """The Logframe sheet's Target column of indicator rows: their end targets."""
    table = Table.read(plan.problems, ws, "Logframe", ("level", "code", "target"))
    if not table.ok:
        return
    indicator_words = names_of("Indicator") | {"indicator"}  # the level word in English, Vietnamese or both
    for number, cells in table.rows:
        level = table.text(number, cells, "level")
        if level is MISSING or norm(level) not in indicator_words:
            continue
        code = table.text(number, cells, "code", required=True, limit=20)
        if code is MISSING:
            continue
        indicator = indicators.get(code)
        if indicator is None:
            table.problem(number, "code", _("unknown indicator code “%(code)s”.", code=shown(code)))
            continue
        raw = table.raw(number, cells, "target")
        new = _parsed(table, number, indicator, raw, "target")
        if new in (None, MISSING):
            continue
        old = (indicator.target_value, indicator.target_text)
        if _same(old, new):
            continue

        def change(indicator=indicator, new=new):
            indicator.target_value, indicator.target_text = new
            return indicator

        if plan.attempt(table, number, {"*": "target"}, change) is FAILED:
            continue
        plan.changes.append(Change("change", _("Indicator %(code)s", code=code),
                                   _("end target: %(old)s → %(new)s", old=show(indicator, *old), new=show(indicator, *new)),
                                   "Logframe", number))

