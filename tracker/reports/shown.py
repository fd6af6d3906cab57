"""How the reports write their figures, the same on the page and in the .docx: values as the
pages show them (``values.show_value``: Yes/No, 45%, 1,250, the text), percentages and money
with the person's locale (``tracker.formatting``). Nothing is written for a missing figure."""

from __future__ import annotations

from flask_babel import gettext as _

from .. import formatting
from ..models.results import PERIOD_STATE_LABELS
from ..results.values import STATUS_LABELS, show_value


def value(indicator, figure) -> str:
    """A target, actual or baseline of ``indicator`` as the pages show it."""
    if figure is None or figure == "":
        return ""
    if isinstance(figure, str):
        return figure
    return show_value(indicator, figure)


def pct(figure) -> str:
    """A % of target: 45%; nothing without one."""
    return "" if figure is None else formatting.percent(figure)


def money(cents, currency: str) -> str:
    return formatting.money(cents, currency)


def status(code: str) -> str:
    return _(STATUS_LABELS.get(code, code))


def state(code: str) -> str:
    return _(PERIOD_STATE_LABELS.get(code, code))
