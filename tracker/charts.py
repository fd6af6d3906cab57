"""Every chart the app draws on the server: data in, SVG out.

The areas compute what a chart shows (the budget: spending per day; the results: targets and
actuals to date per period) and hand it here; this module knows nothing of the database or of
any area. Each chart is a small object with its geometry (what the tests and templates read)
and ``svg(...)``, the drawing as ``Markup``: no script, no inline style (the classes are
styled by ``static/css/app.css``), a ``<title>`` and ``<desc>`` for screen readers, every text
escaped.

Shared pieces: ``Scale`` (a linear scale that clamps values out of range and ignores what is
not a finite number, so no figure can push a line off the chart or break the markup),
``nice_ceiling`` (a round axis maximum), ``month_ticks`` (a date axis) and ``svg_element``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .formatting import locale, money

# --- Shared helpers ---------------------------------------------------------------------------


def finite(value) -> float | None:
    """``value`` as a float, or None when it is not a finite number (None, NaN, infinity, text)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        return None
    return number if math.isfinite(number) else None


def coordinate(value: float) -> str:
    """A coordinate as SVG text: one decimal at most, never an exponent or 'nan'."""
    number = finite(value)
    if number is None:
        return "0"
    text = f"{round(number, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


class Scale:
    """A linear map from ``domain`` (low, high) to ``pixels`` (start, end).

    Values below or above the domain are drawn at its edge; values that are not finite
    numbers at the low end. A domain of zero width is widened to 1.
    """

    def __init__(self, low: float, high: float, start: float, end: float):
        low = finite(low) or 0.0
        high = finite(high)
        if high is None or high <= low:
            high = low + 1.0
        self.low, self.high, self.start, self.end = low, high, float(start), float(end)

    def __call__(self, value) -> float:
        number = finite(value)
        if number is None:
            number = self.low
        number = min(max(number, self.low), self.high)
        return round(self.start + (number - self.low) * (self.end - self.start) / (self.high - self.low), 1)


def nice_ceiling(value: int) -> int:
    """A round axis maximum a little above ``value`` (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
    power of ten); 100 for nothing."""
    target = int(value) * 105 // 100
    if target <= 0:
        return 100
    magnitude = 1
    while magnitude * 10 <= target:
        magnitude *= 10
    for step in ("1", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"):
        candidate = int(Decimal(magnitude) * Decimal(step))
        if candidate >= target:
            return candidate
    return magnitude * 10


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def _month_range(start: date, end: date) -> range:
    """The months whose first day lies from ``start`` to ``end``, as month numbers: counted, not
    stepped through, so an axis from year 1 to 9999 (a stored value no service would accept)
    costs nothing and never asks for the month after December 9999."""
    return range(_month_number(start) + (start.day != 1), _month_number(end) + 1)


def month_starts(start: date, end: date) -> list[date]:
    """The first days of the months from ``start`` to ``end`` (both included)."""
    return [_month_start(number) for number in _month_range(start, end)]


def month_ticks(start: date, end: date, x: Callable[[date], float], most: int = 8) -> list[tuple[float, str]]:
    """About ``most`` evenly spaced month labels ("Jan 2016"; "thg 1 2016" in Vietnamese) on a date axis."""
    months = _month_range(start, end)
    every = max(1, round(len(months) / most))
    where = locale()
    return [(x(month), format_date(month, "MMM y", locale=where)) for month in map(_month_start, months[::every])]


def polyline_points(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{coordinate(px)},{coordinate(py)}" for px, py in points)


def svg_element(tag: str, text: str | None = None, /, **attributes) -> Markup:
    """One SVG element; attribute values and text are escaped (``class_`` is ``class``,
    ``text_anchor`` is ``text-anchor``)."""
    parts = [tag]
    for name, value in attributes.items():
        if value is None:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(f'{name}="{escape(value)}"')
    inner = "" if text is None else escape(text)
    return Markup(f"<{' '.join(parts)}>{inner}</{tag}>")


def svg_document(width: int, height: int, title: str, description: str, body: Iterable[str], *,
                 ident: str, css_class: str | None = None, sized: bool = False) -> Markup:
    """The ``<svg>`` root with its accessible title and description around ``body``."""
    ident = str(ident)
    header = (f'<svg viewBox="0 0 {int(width)} {int(height)}"'
              + (f' width="{int(width)}" height="{int(height)}"' if sized else "")
              + f' role="img" aria-labelledby="{escape(ident)}-title {escape(ident)}-desc"'
              + (f' class="{escape(css_class)}"' if css_class else "")
              + (f' id="{escape(ident)}"' if sized else "") + ">")
    return Markup("".join([header, svg_element("title", title, id=f"{ident}-title"),
                           svg_element("desc", description, id=f"{ident}-desc"), *body, "</svg>"]))


# --- The budget's burn chart ------------------------------------------------------------------


@dataclass
class BurnChart:
    """Cumulative spending against the budget and the grant over the project period."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    start: date
    end: date
    max_cents: int
    budget_cents: int
    grant_cents: int
    disbursed_points: str
    spent_points: str
    plan_points: str
    grant_y: float
    budget_y: float
    currency: str = "USD"
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    last_day: date | None = None
    disbursed_cents: int = 0
    spent_cents: int = 0

    @property
    def summary(self) -> str:
        def show(cents):
            return money(cents, self.currency)

        if self.last_day is None:
            return _("No spending booked yet. Budget %(budget)s of a grant of %(grant)s.",
                     budget=show(self.budget_cents), grant=show(self.grant_cents))
        return _("By %(day)s: disbursed %(disbursed)s, committed and disbursed %(spent)s, of a budget of "
                 "%(budget)s (grant %(grant)s).", day=self.last_day.isoformat(), disbursed=show(self.disbursed_cents),
                 spent=show(self.spent_cents), budget=show(self.budget_cents), grant=show(self.grant_cents))

    def svg(self, ident: str = "burn", title: str | None = None) -> Markup:
        """The chart; ``title`` defaults to "Spending over time" in the person's language."""
        title = _("Spending over time") if title is None else title
        left, right = self.left, self.left + self.plot_width
        axis_y = self.top + self.plot_height
        body = []
        for y, label in self.y_ticks:
            body.append(svg_element("line", class_="burn-grid", x1=left, x2=right, y1=coordinate(y),
                                    y2=coordinate(y)))
            body.append(svg_element("text", label, class_="burn-label", x=left - 6, y=coordinate(y + 4),
                                    text_anchor="end"))
        for x, label in self.x_ticks:
            body.append(svg_element("line", class_="burn-tick", x1=coordinate(x), x2=coordinate(x), y1=axis_y,
                                    y2=axis_y + 4))
            body.append(svg_element("text", label, class_="burn-label", x=coordinate(x), y=axis_y + 18,
                                    text_anchor="middle"))
        body += [
            svg_element("line", class_="burn-axis", x1=left, x2=right, y1=axis_y, y2=axis_y),
            svg_element("line", class_="burn-grant", x1=left, x2=right, y1=coordinate(self.grant_y),
                        y2=coordinate(self.grant_y)),
            svg_element("polyline", class_="burn-plan", points=self.plan_points),
            svg_element("polyline", class_="burn-spent", points=self.spent_points),
            svg_element("polyline", class_="burn-disbursed", points=self.disbursed_points),
        ]
        return svg_document(self.width, self.height, title, self.summary, body, ident=ident, css_class="burn-svg")

    def __html__(self) -> str:
        return self.svg()


def _by_day(amounts: Iterable[tuple[date, int]]) -> list[tuple[date, int]]:
    totals: dict[date, int] = {}
    for day, cents in amounts:
        if day is not None and cents:
            totals[day] = totals.get(day, 0) + int(cents)
    return sorted(totals.items())


def burn_chart(rows: Iterable[tuple[date, str, int]], *, period: tuple[date, date], budget_cents: int,
               grant_cents: int, currency: str = "USD", width: int = 720, height: int = 260) -> BurnChart:
    """Cumulative disbursed, and committed plus disbursed, spending over the project ``period``
    (start, end), with the even spending of the budget and the grant as references.

    ``rows`` are (day, status, cents) in any order, status "disbursed" or "committed" (the
    budget's ``spending_by_day``); spending booked outside the period widens the axis to show it.
    """
    rows = list(rows)
    disbursed_days = _by_day((day, cents) for day, status, cents in rows if status == "disbursed")
    spent_days = _by_day((day, cents) for day, _status, cents in rows)
    start = plan_start = period[0]
    end = plan_end = period[1]
    if spent_days:
        start = min(start, spent_days[0][0])
        end = max(end, spent_days[-1][0])
    if end <= start:
        end = date.fromordinal(start.toordinal() + 1)
    left, right, top, bottom = 78, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    spent_total = sum(cents for _, cents in spent_days)
    max_cents = nice_ceiling(max(grant_cents, budget_cents, spent_total, 0))
    x = Scale(start.toordinal(), end.toordinal(), left, left + plot_w)
    y = Scale(0, max_cents, top + plot_h, top)

    def x_of(day: date) -> float:
        return x(day.toordinal())

    def steps(series: list[tuple[date, int]]) -> str:
        points, running = [(x_of(start), y(0))], 0
        for day, cents in series:
            points.append((x_of(day), y(running)))
            running += cents
            points.append((x_of(day), y(running)))
        points.append((x_of(end), y(running)))
        return polyline_points(points)

    y_ticks = [(y(max_cents * quarter // 4), money(max_cents * quarter // 4, currency).replace(".00", ""))
               for quarter in range(5)]
    return BurnChart(
        width=width, height=height, left=left, top=top, plot_width=plot_w, plot_height=plot_h,
        start=start, end=end, max_cents=max_cents, budget_cents=budget_cents, grant_cents=grant_cents,
        disbursed_points=steps(disbursed_days), spent_points=steps(spent_days),
        plan_points=polyline_points([(x_of(plan_start), y(0)), (x_of(plan_end), y(budget_cents))]),
        grant_y=y(grant_cents), budget_y=y(budget_cents), currency=currency,
        x_ticks=month_ticks(start, end, x_of), y_ticks=y_ticks,
        last_day=spent_days[-1][0] if spent_days else None,
        disbursed_cents=sum(cents for _, cents in disbursed_days), spent_cents=spent_total,
    )


# --- An indicator's target against actual ----------------------------------------------------

TARGET_CHART_MARKS = 12  # periods up to which each gets a marker with its figures


@dataclass
class TargetChart:
    """Target and actual (to date) over an indicator's periods, as a small line chart."""

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

    def svg(self, ident: str, title: str) -> Markup:
        """The chart; ``ident`` is unique on the page (the ids of its title and description)."""
        body = [svg_element("line", class_="chart-axis", x1=4, y1=coordinate(self.baseline_y), x2=self.width - 4,
                            y2=coordinate(self.baseline_y))]
        if self.target_points:
            body.append(svg_element("polyline", class_="chart-target", points=self.target_points))
        if self.actual_points:
            body.append(svg_element("polyline", class_="chart-actual", points=self.actual_points))
        for x, y, label in self.target_dots:
            body.append(Markup('<rect class="chart-target-dot" x="{}" y="{}" width="4" height="4">{}</rect>').format(
                coordinate(x - 2), coordinate(y - 2), svg_element("title", label)))
        for x, y, label in self.dots:
            body.append(Markup('<circle class="chart-dot" cx="{}" cy="{}" r="2.5">{}</circle>').format(
                coordinate(x), coordinate(y), svg_element("title", label)))
        body += [
            svg_element("text", self.top_label, class_="chart-label", x=4, y=8),
            svg_element("text", self.first_label, class_="chart-label", x=4, y=self.height - 2),
            svg_element("text", self.last_label, class_="chart-label", x=self.width - 4, y=self.height - 2,
                        text_anchor="end"),
        ]
        return svg_document(self.width, self.height, title, self.description, body, ident=ident, sized=True)


def target_chart(periods: Sequence[tuple[str, Decimal | None, Decimal | None]], *,
                 show: Callable[[Decimal | None], str] = lambda value: "" if value is None else str(value),
                 end_target: Decimal | None = None, to_date: bool = False, width: int = 240,
                 height: int = 72) -> TargetChart | None:
    """A small line chart of target against actual per period; None without any number.

    ``periods`` are (label, target, actual) in time order; ``show`` writes a value as the
    pages do; ``end_target`` (the indicator's) sets the top of the scale when it is higher;
    ``to_date`` says the figures are cumulative. Up to ``TARGET_CHART_MARKS`` periods each get a
    marker with its figures; longer series are drawn as lines only and described by their
    first and latest figures, so a page of hundreds of indicators stays light.
    """
    def known(value):  # what is not a finite number is drawn and described as missing
        return value if finite(value) is not None else None

    periods = [(str(label), known(t), known(a)) for label, t, a in periods]
    end_target = known(end_target)
    values = [float(number) for _, t, a in periods for number in (t, a) if number is not None]
    if end_target is not None:
        values.append(float(end_target))
    if not periods or not values:
        return None
    highest = max(values)
    left, right, upper, lower = 4, width - 4, 10, height - 14
    count = len(periods)
    x = Scale(0, count - 1, left, right) if count > 1 else (lambda _index: width / 2)
    y = Scale(min(0.0, min(values)), highest if highest > 0 else 1.0, lower, upper)
    targets = [(i, label, t) for i, (label, t, _) in enumerate(periods) if t is not None]
    actuals = [(i, label, a) for i, (label, _, a) in enumerate(periods) if a is not None]
    marks = count <= TARGET_CHART_MARKS
    dots = [(x(i), y(a), _("%(period)s: actual %(value)s", period=label, value=show(a)))
            for i, label, a in actuals] if marks else []
    target_dots = [(x(i), y(t), _("%(period)s: target %(value)s", period=label, value=show(t)))
                   for i, label, t in targets] if marks else []
    none = _("none")
    if marks:
        parts = [_("%(period)s: target %(target)s, actual %(actual)s", period=label, target=show(t) or none,
                   actual=show(a) or none) for label, t, a in periods]
        description = (_("Target and actual to date by period.") if to_date else _("Target and actual by period.")) \
            + " " + "; ".join(parts) + "."
    else:
        first, last = periods[0][0], periods[-1][0]
        description = _("Target and actual to date over %(count)s periods from %(first)s to %(last)s.", count=count,
                        first=first, last=last) if to_date else \
            _("Target and actual over %(count)s periods from %(first)s to %(last)s.", count=count, first=first,
              last=last)
        if actuals:
            index, label, actual = actuals[-1]
            description += " " + _("Latest actual (%(period)s): %(actual)s against a target of %(target)s.",
                                   period=label, actual=show(actual), target=show(periods[index][1]) or none)
    top_value = next((v for v in (end_target, *(t for _, t, _ in periods), *(a for _, _, a in periods))
                      if v is not None and float(v) == highest), highest)
    return TargetChart(
        width, height,
        polyline_points((x(i), y(t)) for i, _, t in targets),
        polyline_points((x(i), y(a)) for i, _, a in actuals),
        dots, target_dots, show(top_value), periods[0][0], periods[-1][0], description, y(0),
    )
