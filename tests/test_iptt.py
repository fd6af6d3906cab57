"""The IPTT page (indicators grouped by result; per reporting period target, actual and % of
target; life-of-project target, actual to date and %; coloured by the project's thresholds;
narratives alongside) and the workbook's IPTT sheet, whose formulas recomputed from the saved
file equal the app's figures."""

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from tests.helpers import HX, warm_queries
from tests.test_export_formula_eval import Evaluator
from tracker.extensions import db
from tracker.models import Indicator, IndicatorPeriod, Project, ResultNode
from tracker.reports.iptt import iptt_stream
from tracker.results.values import indicator_progress, percent_of_target, status_for

IPTT_URL = "/projects/{id}/iptt"


def test_the_page_groups_indicators_by_result_with_periods_as_columns(app, client, auth, demo):
    auth.login("officer")
    response = client.get(IPTT_URL.format(id=demo))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Indicator performance tracking table" in html
    with app.app_context():
        project = db.session.get(Project, demo)
        periods, groups = iptt_stream(project)
        groups = list(groups)
        labels = [p.label for p in periods]
    assert labels, "the demo has reporting periods"
    for label in labels:
        assert label in html
    assert "Life of project" in html
    assert "<th scope=\"col\">% of target</th>" in html and "%%" not in html
    # Every result that has indicators is a group heading, before its indicators.
    for group in groups:
        if group.rows:
            heading = html.index(f'id="iptt-result-{group.result.id}"')
            first = html.index(f'id="iptt-indicator-{group.rows[0].indicator.id}"')
            assert heading < first


def test_percentages_and_colours_follow_the_one_rule(app, client, auth, demo):
    """Each period's % is percent_of_target, its colour status_for with the project's thresholds."""
    with app.app_context():
        indicator = db.session.execute(select(Indicator).where(Indicator.project_id == demo,
                                                               Indicator.unit == "number")).scalars().first()
        period = sorted(indicator.periods, key=lambda p: p.start_date)[0]
        period.target, period.actual = Decimal(20), Decimal(9)  # 45%: off track with 90/60
        db.session.commit()
        indicator_id = indicator.id
    auth.login("liaison")
    html = client.get(IPTT_URL.format(id=demo) + "?all=1").get_data(as_text=True)
    row = re.search(rf'<tr class="iptt-indicator" id="iptt-indicator-{indicator_id}">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="num pct status-off-track">45%<span class="vh"> \(Off track\)', row), row
    with app.app_context():
        project = db.session.get(Project, demo)
        project.at_risk_pct = Decimal(40)  # now 45% is at risk
        db.session.commit()
    html = client.get(IPTT_URL.format(id=demo) + "?all=1").get_data(as_text=True)
    row = re.search(rf'<tr class="iptt-indicator" id="iptt-indicator-{indicator_id}">(.*?)</tr>', html, re.S).group(1)
    assert 'class="num pct status-at-risk">45%' in row


def test_narrative_and_variance_explanation_are_shown_alongside(app, client, auth, demo):
    with app.app_context():
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.project_id == demo)
                                    .order_by(IndicatorPeriod.id)).scalars().first()
        period.narrative = "Hội thảo ở Huế đã diễn ra."
        period.variance_explanation = "The field mission moved to 2017."
        db.session.commit()
    auth.login("auditor")
    html = client.get(IPTT_URL.format(id=demo) + "?all=1").get_data(as_text=True)
    assert "Hội thảo ở Huế đã diễn ra." in html
    assert "Variance explanation:" in html and "The field mission moved to 2017." in html


def test_printable_page_is_a4_landscape(client, auth, demo):
    auth.login("officer")
    response = client.get(IPTT_URL.format(id=demo) + "?all=1")
    assert response.status_code == 200
    assert 'class="print-landscape"' in response.get_data(as_text=True)
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert re.search(r"@page landscape-a4 \{ size: A4 landscape", css)
    assert ".print-landscape { page: landscape-a4; }" in css


def _add_indicators(app, project_id: int, count: int, first: int = 0) -> None:
    """``count`` more indicators under result 1.1, each with two periods."""
    from datetime import date

    with app.app_context():
        result = db.session.execute(select(ResultNode.id).where(ResultNode.project_id == project_id,
                                                                ResultNode.code == "1.1")).scalar_one()
        db.session.execute(insert(Indicator), [
            {"project_id": project_id, "result_id": result, "code": f"Z{i}", "title": f"Chỉ số {i}", "unit": "number",
             "ascending": True, "cumulative": True, "illustrative": False, "position": 100 + i,
             "baseline_text": "", "baseline_note": "", "target_text": "", "means_of_verification": "",
             "frequency": "", "responsible": "", "target_value": Decimal(10)} for i in range(first, first + count)])
        ids = db.session.execute(select(Indicator.id).where(Indicator.code.like("Z%"),
                                                            Indicator.position >= 100 + first)).scalars().all()
        db.session.execute(insert(IndicatorPeriod), [
            {"project_id": project_id, "indicator_id": i, "start_date": date(2016, 7, 1), "end_date": date(2016, 12, 31),
             "target": Decimal(5), "actual": Decimal(4), "state": "draft", "version": 1} for i in ids])
        db.session.commit()


def test_paged_page_and_htmx_load_more_keep_query_counts_flat(app, client, auth, demo):
    auth.login("manager")
    url = IPTT_URL.format(id=demo)
    _add_indicators(app, demo, 30)  # a second page
    few = len(warm_queries(app, client, url))
    few_hx = len(warm_queries(app, client, url + "?page=2", headers=HX))
    _add_indicators(app, demo, 120, first=30)
    many = len(warm_queries(app, client, url))
    many_hx = len(warm_queries(app, client, url + "?page=2", headers=HX))
    assert many == few
    assert many_hx == few_hx
    page = client.get(url).get_data(as_text=True)
    assert "Show the next 25 indicators" in page
    fragment = client.get(url + "?page=2", headers=HX)
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers.get("Vary", "")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'class="iptt-indicator"' in body and "Show the next" in body


def test_printable_page_streams_every_indicator_in_batches(app, client, auth, demo):
    auth.login("manager")
    _add_indicators(app, demo, 120)
    html = client.get(IPTT_URL.format(id=demo) + "?all=1").get_data(as_text=True)
    assert html.count('class="iptt-indicator"') >= 120
    assert "Show the next" not in html


@pytest.mark.parametrize("role", ["manager", "officer", "liaison", "auditor"])
def test_every_role_on_the_project_reads_it(client, auth, demo, role):
    auth.login(role)
    assert client.get(IPTT_URL.format(id=demo)).status_code == 200


def test_another_projects_member_gets_404(client, auth, demo, other_project):
    auth.login("other-manager")
    assert client.get(IPTT_URL.format(id=demo)).status_code == 404
    assert client.get(IPTT_URL.format(id=demo) + "?all=1").status_code == 404


# --- the workbook's IPTT sheet -------------------------------------------------------------------

class IpttEvaluator(Evaluator):
    """The shared evaluator plus COUNT (how many of the arguments are numbers), which the IPTT's
    cumulative 'actual to date' uses."""

    def _call(self, name, args):
        if name == "COUNT":
            return Decimal(sum(1 for arg in args if isinstance(arg, Decimal)))
        return super()._call(name, args)


def _figure(value):
    """A cell's value as the app's Decimal (None for empty)."""
    if value is None or value == "":
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def test_the_iptt_sheets_formulas_recompute_to_the_apps_figures(app, client, auth, demo):
    with app.app_context():
        # A descending indicator, a non-cumulative one and a missing actual, so every formula shape is used.
        indicators = db.session.execute(select(Indicator).where(Indicator.project_id == demo,
                                                                Indicator.unit != "qualitative")
                                        .order_by(Indicator.id)).scalars().all()
        indicators[0].cumulative = False
        indicators[1].ascending = False
        for period in indicators[1].periods:
            period.target, period.actual = Decimal(4), Decimal(5)
        db.session.commit()
    auth.login("liaison")
    response = client.get(f"/projects/{demo}/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert "IPTT" in book.sheetnames
    ws = book["IPTT"]
    evaluate = IpttEvaluator(ws).value
    headers = [c.value for c in ws[2]]
    assert headers[:4] == ["Code", "Indicator", "Unit", "Baseline"]
    rows = {ws.cell(row=r, column=1).value: r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=2).value}
    with app.app_context():
        project = db.session.get(Project, demo)
        periods, groups = iptt_stream(project)
        checked = 0
        for group in groups:
            for row in group.rows:
                indicator = row.indicator
                r = rows[indicator.code]
                progress = indicator_progress(db.session.get(Indicator, indicator.id), project)
                if row.qualitative:
                    continue
                for index, cell in enumerate(row.cells):
                    target_col = 5 + 3 * index
                    if cell is None:
                        continue
                    letter = ws.cell(row=r, column=target_col + 2).coordinate
                    assert ws[letter].data_type == "f", "the % of target is a live formula"
                    pct = evaluate(letter)
                    expected = percent_of_target(cell.actual, cell.target, indicator.ascending)
                    if expected is None:
                        assert pct in ("", None)
                    else:
                        assert pct * 100 == pytest.approx(expected, abs=Decimal("1e-9"))
                        checked += 1
                lop = 5 + 3 * len(periods)
                to_date = ws.cell(row=r, column=lop + 1)
                assert to_date.data_type == "f", "the actual to date is a live formula"
                assert _figure(evaluate(to_date.coordinate)) == progress.value_to_date
                lop_pct = evaluate(ws.cell(row=r, column=lop + 2).coordinate)
                if progress.pct_of_end_target is None:
                    assert lop_pct in ("", None)
                else:
                    assert lop_pct * 100 == pytest.approx(progress.pct_of_end_target, abs=Decimal("1e-9"))
                    # The colour rules give the app's status.
                    assert _rule_status(ws, ws.cell(row=r, column=lop + 2).coordinate, evaluate) == \
                        status_for(progress.pct_of_end_target, project)
                    checked += 1
    assert checked >= 5


def _rule_status(ws, coordinate, evaluate):
    """The status whose conditional-formatting rule is true for the cell (rules written for the
    range's first row, moved to the cell's row as Excel does)."""
    row = int(re.sub(r"[A-Z]+", "", coordinate))
    column = re.sub(r"\d+", "", coordinate)
    matched = []
    for cf in ws.conditional_formatting:
        for cell_range in cf.sqref.ranges:
            if cell_range.min_col <= ws[coordinate].column <= cell_range.max_col and \
                    cell_range.min_row <= row <= cell_range.max_row:
                for rule in cf.rules:
                    formula = rule.formula[0].replace(f"{column}{cell_range.min_row}", coordinate)
                    if evaluate_formula(evaluate, formula):
                        matched.append(STATUS_OF_FILL[rule.dxf.fill.fgColor.rgb[-6:]] if rule.dxf.fill.fgColor.rgb
                                       else STATUS_OF_FILL[rule.dxf.fill.bgColor.rgb[-6:]])
    assert len(matched) == 1, matched
    return matched[0]


STATUS_OF_FILL = {"DFF1E5": "on_track", "FFF1CC": "at_risk", "FBDCD9": "off_track"}


def evaluate_formula(evaluate, formula):
    return evaluate.__self__.evaluate("=" + formula)
