"""The server-drawn charts (tracker/charts.py): well-formed SVG, escaped text, empty data and
figures out of range never break a page."""

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from tracker import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><script>alert(1)</script>&amp;'


def parse(svg) -> ET.Element:
    """The chart as XML (it must be well formed); the SVG namespace added as a browser would."""
    text = str(svg)
    assert text.startswith("<svg ") and text.endswith("</svg>")
    return ET.fromstring(text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def numbers_of(root: ET.Element, tag: str, attribute: str) -> list[float]:
    found = []
    for element in root.iter(SVG + tag):
        found += [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", element.get(attribute, ""))]
    return found


def inside(root: ET.Element, width: int, height: int) -> None:
    """Every point and line of the chart lies within its viewBox."""
    for tag in ("polyline",):
        coordinates = numbers_of(root, tag, "points")
        assert all(0 <= x <= width for x in coordinates[0::2]), coordinates
        assert all(0 <= y <= height for y in coordinates[1::2]), coordinates
    for element in root.iter(SVG + "line"):
        assert 0 <= float(element.get("x1")) <= width and 0 <= float(element.get("x2")) <= width
        assert 0 <= float(element.get("y1")) <= height and 0 <= float(element.get("y2")) <= height
    for element in root.iter(SVG + "circle"):
        assert 0 <= float(element.get("cx")) <= width and 0 <= float(element.get("cy")) <= height


def burn(**overrides):
    arguments = dict(rows=[(date(2016, 3, 1), "disbursed", 10_000_00), (date(2016, 6, 1), "disbursed", 5_000_00),
                           (date(2016, 9, 1), "committed", 4_000_00), (date(2016, 3, 1), "disbursed", 2_500_00)],
                     period=(date(2016, 1, 1), date(2017, 12, 31)), budget_cents=120_000_00, grant_cents=120_000_00)
    arguments.update(overrides)
    return charts.burn_chart(arguments.pop("rows"), **arguments)


def test_the_burn_chart_steps_up_with_spending_and_is_valid_svg():
    chart = burn()
    assert chart.disbursed_cents == 17_500_00 and chart.spent_cents == 21_500_00
    assert chart.last_day == date(2016, 9, 1)
    assert len(chart.disbursed_points.split()) == 2 + 2 * 2  # start, two days with disbursements, end
    assert len(chart.spent_points.split()) == 2 + 2 * 3
    assert chart.max_cents >= 120_000_00 * 105 // 100 and chart.y_ticks[0][1] == "USD 0"
    assert [label for _, label in chart.x_ticks][0] == "Jan 2016"
    root = parse(chart.svg())
    assert root.find(SVG + "title").text == "Spending over time"
    assert "disbursed USD 17,500.00" in root.find(SVG + "desc").text
    classes = {element.get("class") for element in root.iter()}
    assert {"burn-disbursed", "burn-spent", "burn-plan", "burn-grant", "burn-axis"} <= classes
    assert root.get("aria-labelledby") == "burn-title burn-desc"
    inside(root, chart.width, chart.height)
    assert str(chart.__html__()) == str(chart.svg())


def test_a_burn_chart_without_spending_still_draws_its_axes():
    chart = burn(rows=[], budget_cents=0)
    assert chart.last_day is None and "No spending booked yet" in chart.summary
    root = parse(chart.svg())
    assert len(chart.disbursed_points.split()) == 2
    inside(root, chart.width, chart.height)


def test_spending_outside_the_period_and_figures_past_the_grant_stay_on_the_chart():
    chart = burn(period=(date(2016, 6, 1), date(2016, 6, 1)),  # a period of one day
                 rows=[(date(2015, 12, 31), "disbursed", 900_000_00), (date(2018, 1, 5), "disbursed", 1),
                       (date(2016, 6, 1), "committed", 10**15)], budget_cents=-5, grant_cents=0)
    assert chart.start == date(2015, 12, 31) and chart.end == date(2018, 1, 5)
    inside(parse(chart.svg()), chart.width, chart.height)


def test_the_target_chart_draws_targets_actuals_and_describes_them():
    periods = [("2016 H1", Decimal(6), Decimal(3)), ("2016 H2", Decimal(12), Decimal(9)),
               ("2017 H1", Decimal(18), None)]
    chart = charts.target_chart(periods, show=lambda v: "" if v is None else f"{v:f}", to_date=True)
    assert chart.target_points.count(",") == 3 and chart.actual_points.count(",") == 2
    assert chart.top_label == "18" and chart.first_label == "2016 H1" and chart.last_label == "2017 H1"
    assert "2016 H2: target 12, actual 9" in chart.description
    assert "2017 H1: target 18, actual none" in chart.description and "to date" in chart.description
    root = parse(chart.svg("chart-7", "1.1.b: target against actual"))
    assert root.get("id") == "chart-7" and root.get("aria-labelledby") == "chart-7-title chart-7-desc"
    assert root.find(SVG + "title").text == "1.1.b: target against actual"
    assert len(list(root.iter(SVG + "circle"))) == 2 and len(list(root.iter(SVG + "rect"))) == 3
    inside(root, chart.width, chart.height)


def test_text_in_a_chart_is_escaped():
    periods = [(HOSTILE, Decimal(1), Decimal(2)), ("<b>two</b>", Decimal(2), Decimal(1))]
    chart = charts.target_chart(periods, show=lambda v: f"{v} <i>")
    svg = str(chart.svg('x" onload="alert(1)', HOSTILE))
    root = parse(svg)
    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg
    assert root.find(SVG + "title").text == HOSTILE
    assert root.get("id") == 'x" onload="alert(1)' and root.get("onload") is None
    assert root.findall(f".//{SVG}text")[1].text == HOSTILE
    labels = [element.text for element in root.iter(SVG + "title")]
    assert f"{HOSTILE}: actual 2 <i>" in labels
    assert HOSTILE in root.find(SVG + "desc").text


def test_a_target_chart_needs_a_number():
    assert charts.target_chart([]) is None
    assert charts.target_chart([("2016", None, None), ("2017", None, None)]) is None
    assert charts.target_chart([("2016", Decimal("NaN"), Decimal("Infinity"))]) is None


def test_values_out_of_range_do_not_break_the_target_chart():
    periods = [("a", Decimal("-40"), Decimal("1E+30")), ("b", Decimal("NaN"), Decimal("-1E+30")),
               ("c", Decimal("sNaN"), Decimal("Infinity")), ("d", Decimal(0), Decimal(0))]
    chart = charts.target_chart(periods, end_target=Decimal("-Infinity"))
    root = parse(chart.svg("c", "t"))
    inside(root, chart.width, chart.height)
    assert "nan" not in str(chart.svg("c", "t")).lower() and "inf" not in chart.actual_points.lower()
    single = charts.target_chart([("only", Decimal(5), Decimal(5))])
    inside(parse(single.svg("s", "t")), single.width, single.height)


def test_long_series_are_lines_without_markers():
    periods = [(f"M{n}", Decimal(n), Decimal(n - 1)) for n in range(1, 41)]
    chart = charts.target_chart(periods)
    assert chart.dots == [] and chart.target_dots == []
    assert "over 40 periods from M1 to M40" in chart.description and "Latest actual (M40): 39" in chart.description
    root = parse(chart.svg("long", "t"))
    assert not list(root.iter(SVG + "circle"))


@pytest.mark.parametrize("value, ceiling", [(0, 100), (-5, 100), (100, 150), (120_000_00, 150_000_00),
                                            (95, 100), (7_999, 10_000)])
def test_axis_maximum_is_round_and_above_the_value(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_scale_clamps_and_ignores_what_is_not_a_number():
    scale = charts.Scale(0, 10, 100, 0)
    assert scale(5) == 50 and scale(-3) == 100 and scale(99) == 0
    assert scale(None) == 100 and scale(Decimal("NaN")) == 100 and scale(float("inf")) == 100
    assert charts.Scale(3, 3, 0, 10)(3) == 0  # a domain of no width
    assert charts.coordinate(float("nan")) == "0" and charts.coordinate(12.0) == "12"
    assert "e" not in charts.coordinate(1e300) and charts.coordinate(12.34) == "12.3"


def test_month_ticks_thin_out_over_long_periods():
    ticks = charts.month_ticks(date(2016, 1, 15), date(2021, 12, 31), lambda day: day.toordinal())
    assert 6 <= len(ticks) <= 12 and ticks[0][1] == "Feb 2016"
    assert charts.month_starts(date(2016, 1, 1), date(2016, 3, 1)) == [date(2016, 1, 1), date(2016, 2, 1),
                                                                       date(2016, 3, 1)]
