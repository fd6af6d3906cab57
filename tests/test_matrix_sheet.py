"""The workbook's "Logframe matrix" sheet (the four columns donors' templates use, one block per
level, merged cells, print settings) and yes/no values written as words in every sheet."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Indicator, ResultNode


@pytest.fixture
def workbook(app, client, auth, demo):
    """The demo's workbook as the liaison downloads it, with an indicator turned yes/no."""
    with app.app_context():
        indicator = db.session.execute(select(Indicator).where(Indicator.project_id == demo)
                                       .order_by(Indicator.id)).scalars().first()
        indicator.unit = "yesno"
        indicator.target_value = 1
        for period in indicator.periods:
            period.target, period.actual = 1, 0
        db.session.commit()

    def download():
        auth.login("liaison")
        response = client.get(f"/projects/{demo}/export.xlsx")
        assert response.status_code == 200
        return load_workbook(io.BytesIO(response.data))

    return download


def test_matrix_has_the_four_columns_and_a_block_per_level(app, workbook, demo):
    book = workbook()
    assert book.sheetnames.index("Logframe matrix") == book.sheetnames.index("Summary") + 1
    ws = book["Logframe matrix"]
    assert [c.value for c in ws[2]] == ["Intervention logic", "Objectively verifiable indicators (baseline and target)",
                                        "Sources and means of verification", "Assumptions"]
    first_column = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    bands = [v for v in first_column if v in ("Overall objective", "Expected results", "Outputs", "Activities")]
    assert bands == ["Overall objective", "Expected results", "Outputs", "Activities"]
    with app.app_context():
        results = db.session.execute(select(ResultNode).where(ResultNode.project_id == demo)).scalars().all()
        objective = next(r for r in results if r.level == "objective")
        outcome = sorted((r for r in results if r.level == "outcome"), key=lambda r: r.code)[0]
        indicators = db.session.execute(select(Indicator).where(Indicator.result_id == outcome.id)
                                        .order_by(Indicator.position, Indicator.id)).scalars().all()
        outcome_logic = f"{outcome.code} {outcome.statement}"
        outcome_indicators = [i.code for i in indicators]
        objective_logic = f"{objective.code} {objective.statement}"
    # The objective's block comes first, the outcome under "Expected results".
    objective_row = first_column.index(objective_logic) + 1
    outcome_row = first_column.index(outcome_logic) + 1
    assert first_column.index("Overall objective") < objective_row - 1 < first_column.index("Expected results")
    assert first_column.index("Expected results") < outcome_row - 1 < first_column.index("Outputs")
    # One row per indicator, the result's logic and assumptions merged down them.
    for offset, code in enumerate(outcome_indicators):
        assert ws.cell(row=outcome_row + offset, column=2).value.startswith(code + " ")
    merged = {str(r) for r in ws.merged_cells.ranges}
    if len(outcome_indicators) > 1:
        last = outcome_row + len(outcome_indicators) - 1
        assert f"A{outcome_row}:A{last}" in merged
        assert f"D{outcome_row}:D{last}" in merged
    # Each level's band is merged across the four columns, and so is the title.
    assert "A1:D1" in merged
    for band in ("Overall objective", "Expected results", "Outputs", "Activities"):
        row = first_column.index(band) + 1
        assert f"A{row}:D{row}" in merged
    # Baseline and target are in the indicator's cell; text wraps.
    cell = ws.cell(row=outcome_row, column=2)
    assert "Target:" in cell.value
    assert cell.alignment.wrap_text


def test_matrix_print_settings(workbook):
    ws = workbook()["Logframe matrix"]
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == "9"  # A4
    assert ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$2"
    assert ws.print_area == [f"'Logframe matrix'!$A$1:$D${ws.max_row}"] or \
        ws.print_area == f"'Logframe matrix'!$A$1:$D${ws.max_row}"


def test_yes_no_values_are_words_in_every_sheet(workbook, app, demo):
    book = workbook()
    # Flags: "Yes" or "No", never 0/1, True/False or an empty cell, in every sheet that has them.
    flag_columns = 0
    for ws in book.worksheets:
        headers = [c.value for c in ws[1]]
        if "Illustrative" not in headers:
            continue
        column = headers.index("Illustrative") + 1
        values = {ws.cell(row=r, column=column).value for r in range(2, ws.max_row + 1)
                  if ws.cell(row=r, column=2).value and ws.cell(row=r, column=1).value not in ("Total", None)}
        if ws.title == "Logframe":
            levels = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=column).value
                      for r in range(2, ws.max_row + 1)}
            assert levels["Indicator"] in ("Yes", "No")
            assert levels.get("Activity") is None  # only indicators carry the flag
            continue
        flag_columns += 1
        assert values <= {"Yes", "No"}, (ws.title, values)
        assert values, ws.title
    assert flag_columns >= 2  # Indicators and Budget
    # A yes/no indicator's figures stay numbers (formulas count them) shown as Yes / No.
    ws = book["Indicators"]
    headers = [c.value for c in ws[1]]
    unit, actual = headers.index("Unit") + 1, headers.index("Actual") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=unit).value == "Yes / no")
    cell = ws.cell(row=row, column=actual)
    assert cell.value == 0
    assert cell.number_format == '"Yes";"Yes";"No"'
    for ws in book.worksheets:  # no sheet writes a boolean cell
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "b", (ws.title, cell.coordinate)


def test_the_csv_of_a_sheet_writes_yes_and_no(workbook, client, demo):
    workbook()
    text = client.get(f"/projects/{demo}/export/indicators.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    yes_no = [row for row in rows if row["Unit"] == "Yes / no"]
    assert yes_no
    for row in yes_no:
        for header in ("Target", "Actual", "Target to date", "Actual to date"):
            assert row[header] in ("Yes", "No", ""), (header, row[header])
    assert any(row["Actual"] == "No" for row in yes_no)
    assert {row["Illustrative"] for row in rows} <= {"Yes", "No"}
