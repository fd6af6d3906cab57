"""The donor's workbook, CSV per sheet, permissions, background exports and the audit trail.

The workbook is reopened with openpyxl as a donor would open it; its budget formulas are
recomputed from the file (tests/test_export_formula_eval.py) and compared to the cent with
the app's own totals (tracker.budget.services.line_totals).
"""

import csv
import io
import re
import threading
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.test_export_formula_eval import Evaluator
from tracker.budget.services import line_totals
from tracker.exports import jobs
from tracker.exports.services import read_snapshot
from tracker.extensions import db
from tracker.models import (
    Activity,
    AuditEvent,
    BudgetLine,
    EvidenceItem,
    Expenditure,
    Indicator,
    ProgressLog,
    Project,
    ResultNode,
)
from tracker.results.services import percent_of_target, status_for

SHEETS = SHEETS_IN_ORDER = ["Summary", "Logframe", "Indicators", "Activities", "Progress log", "Budget", "Expenditures", "Evidence"]
# The table sheets and, after Summary and Indicators, the laid-out ones (tests/test_matrix_sheet.py, test_iptt.py).
WORKBOOK_SHEETS = ["Summary", "Logframe matrix", "Logframe", "Indicators", "IPTT", "Activities", "Progress log", "Budget",
                   "Expenditures", "Evidence"]
EVIL_TITLE = '=HYPERLINK("http://evil.example/steal","Click me")'
EXPORT_URLS = [
    "/projects/{id}/exports",
    "/projects/{id}/export.xlsx",
    "/projects/{id}/export.iati.xml",
    "/projects/{id}/export/budget.csv",
    "/projects/{id}/export/indicators.csv",
]


def workbook_of(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def sheet_xml(data: bytes, title: str) -> str:
    """The raw XML of one sheet of the saved workbook."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    index = book.sheetnames.index(title) + 1
    return zipfile.ZipFile(io.BytesIO(data)).read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def rows_of(ws):
    return list(ws.iter_rows(values_only=True))


def column(ws, header):
    headers = [c.value for c in ws[1]]
    return headers.index(header) + 1


@pytest.fixture
def hostile(app, demo):
    """User text that a spreadsheet would read as a formula, control characters, a link that
    must not become clickable, and an overspent line (negative balance)."""
    with app.app_context():
        activity = db.session.execute(select(Activity).where(Activity.code == "A1.4")).scalar_one()
        activity.title = EVIL_TITLE
        evidence = db.session.execute(select(EvidenceItem).order_by(EvidenceItem.id)).scalars().first()
        evidence.title = "+cmd|' /C calc'!A0"
        evidence.url = "javascript:alert(1)"
        expenditure = db.session.execute(select(Expenditure).order_by(Expenditure.id)).scalars().first()
        expenditure.payee = "-2+3 Bell\x07 Huế"
        line = db.session.execute(select(BudgetLine).where(BudgetLine.code == "BL5")).scalar_one()
        db.session.add(Expenditure(project_id=demo, line_id=line.id, voucher="V-OVER", spent_on=date(2016, 12, 20),
                                   amount_cents=9_999_99, payee="@SUM(1+1)", description="Overspend", status="committed"))
        db.session.commit()
    return demo


# --- Permissions ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXPORT_URLS)
@pytest.mark.parametrize("role", ["manager", "liaison", "auditor", "admin"])
def test_managers_liaisons_auditors_and_admins_may_export(client, auth, demo, role, path):
    auth.login(role)
    assert client.get(path.format(id=demo)).status_code == 200


@pytest.mark.parametrize("path", EXPORT_URLS + ["/projects/{id}/import"])
def test_officers_may_not_export(client, auth, demo, path):
    auth.login("officer")
    response = client.get(path.format(id=demo))
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client, demo):
    response = client.get(f"/projects/{demo}/export.xlsx")
    assert response.status_code == 302 and "/login" in response.location


def test_unknown_sheet_and_unknown_project_are_not_found(client, auth, demo):
    auth.login("liaison")
    assert client.get(f"/projects/{demo}/export/secrets.csv").status_code == 404
    assert client.get("/projects/9999/export.xlsx").status_code == 404


def test_exports_page_lists_every_download(client, auth, demo):
    auth.login("liaison")
    page = client.get(f"/projects/{demo}/exports").get_data(as_text=True)
    assert f"/projects/{demo}/export.xlsx" in page and f"/projects/{demo}/export.iati.xml" in page
    for slug in ("summary", "logframe", "indicators", "activities", "progress-log", "budget", "expenditures",
                 "evidence"):
        assert f"/projects/{demo}/export/{slug}.csv" in page
    assert "/exports/logframe-template.xlsx" in page
    assert "Illustrative figures" in page
    assert f"/projects/{demo}/import" not in page  # a liaison does not import
    auth.logout()
    auth.login("manager")
    assert f"/projects/{demo}/import" in client.get(f"/projects/{demo}/exports").get_data(as_text=True)


# --- The workbook -----------------------------------------------------------------------------

def test_workbook_has_the_sheets_frozen_headers_filters_and_properties(client, auth, demo):
    auth.login("liaison")
    book = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))
    assert book.sheetnames == WORKBOOK_SHEETS
    for title in SHEETS:
        ws = book[title]
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), title
        assert ws.column_dimensions["A"].width > 5, title
        if title != "Summary":
            assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), title
    assert "Supporting the Implementation" in book.properties.title
    assert "Lê Thu Hà" in book.properties.creator  # the liaison, Vietnamese name intact


def test_summary_says_who_when_and_that_figures_are_illustrative(client, auth, demo):
    auth.login("liaison")
    ws = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))["Summary"]
    facts = {row[0]: row[1] for row in rows_of(ws) if row[0]}
    assert facts["Project code"] == "KFIT-VNM-CI"
    assert facts["Donor"] == "Korean Funds-in-Trust"
    assert facts["Grant"] == 120000
    assert isinstance(facts["Start date"], datetime) and facts["Start date"].date() == date(2016, 1, 1)
    assert isinstance(facts["Generated at (UTC)"], datetime)
    assert "liaison@demo.test" in facts["Generated by"]
    assert "Illustrative" in facts["Illustrative figures"]
    assert "Quyết định" in facts["Summary"]


def test_logframe_rows_are_grouped_by_level(client, auth, demo):
    auth.login("manager")
    ws = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))["Logframe"]
    assert ws.sheet_properties.outlinePr.summaryBelow is False
    levels = {}
    for index, row in enumerate(ws.iter_rows(min_row=2, values_only=True), 2):
        levels[(row[0], row[1])] = ws.row_dimensions[index].outlineLevel
    assert levels[("Overall objective", "1")] == 0
    assert levels[("Expected result", "1.1")] == 1
    assert levels[("Output", "1.1.1")] == 2
    assert levels[("Indicator", "1.1.b")] == 2  # under expected result 1.1
    assert levels[("Activity", "A1.4")] == 3  # under output 1.1.2
    headers = [c.value for c in ws[1]]
    for header in ("Intervention logic", "Indicator", "Baseline", "Target", "Latest actual",
                   "Means of verification", "Assumptions and risks"):
        assert header in headers
    press = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "1.1.b")
    assert (press[headers.index("Baseline")], press[headers.index("Target")],
            press[headers.index("Latest actual")]) == (0, 12, 9)


def test_budget_formulas_recompute_the_apps_totals_to_the_cent(app, client, auth, hostile):
    auth.login("auditor")
    ws = workbook_of(client.get(f"/projects/{hostile}/export.xlsx"))["Budget"]
    evaluate = Evaluator(ws).value
    letters = {h: ws.cell(1, i).column_letter for i, h in enumerate([c.value for c in ws[1]], 1)}
    with app.app_context():
        totals = line_totals(hostile)
        grant = db.session.get(Project, hostile).grant_cents

    def cents(value) -> int:
        return int((Decimal(value) * 100).to_integral_value())

    for offset, t in enumerate(totals):
        r = offset + 2
        assert ws[f"A{r}"].value == t.line.code
        for header in ("Current budget", "Spent", "Balance", "% used"):
            assert ws[f"{letters[header]}{r}"].data_type == "f", f"{header} is a live formula"
        assert cents(evaluate(f"{letters['Current budget']}{r}")) == t.current_cents
        assert cents(evaluate(f"{letters['Committed']}{r}")) == t.committed_cents
        assert cents(evaluate(f"{letters['Disbursed']}{r}")) == t.disbursed_cents
        assert cents(evaluate(f"{letters['Spent']}{r}")) == t.spent_cents
        assert cents(evaluate(f"{letters['Balance']}{r}")) == t.balance_cents
        assert abs(evaluate(f"{letters['% used']}{r}") * 100 - t.pct_used) < Decimal("1e-9")
        assert ws[f"{letters['Original budget']}{r}"].number_format.endswith("#,##0.00")
        assert "USD" in ws[f"{letters['Original budget']}{r}"].number_format
    assert any(t.balance_cents < 0 for t in totals)  # the overspent line computes a negative balance

    total_row = next(r for r in range(2, ws.max_row + 1) if ws[f"A{r}"].value == "Total")
    assert ws[f"{letters['Current budget']}{total_row}"].value.startswith("=SUM(")
    for header, attribute in (("Current budget", "current_cents"), ("Committed", "committed_cents"),
                              ("Disbursed", "disbursed_cents"), ("Spent", "spent_cents"),
                              ("Balance", "balance_cents")):
        assert cents(evaluate(f"{letters[header]}{total_row}")) == sum(getattr(t, attribute) for t in totals)
    grant_row = next(r for r in range(total_row, ws.max_row + 1) if ws[f"D{r}"].value == "Grant")
    assert cents(evaluate(f"{letters['Current budget']}{grant_row}")) == grant
    check_row = next(r for r in range(total_row, ws.max_row + 1)
                     if str(ws[f"D{r}"].value or "").startswith("Check"))
    assert evaluate(f"{letters['Current budget']}{check_row}") == 0
    assert evaluate(f"{letters['Committed']}{check_row}") == "OK"
    assert ws.auto_filter.ref == f"A1:N{total_row - 1}"  # the filter covers the lines, not the totals


def test_the_check_cell_says_when_the_lines_do_not_add_up_to_the_grant(app, client, auth, demo):
    with app.app_context():
        db.session.get(Project, demo).grant_cents = 125_000_00
        db.session.commit()
    auth.login("liaison")
    ws = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))["Budget"]
    evaluate = Evaluator(ws).value
    check_row = next(r for r in range(2, ws.max_row + 1) if str(ws[f"D{r}"].value or "").startswith("Check"))
    assert evaluate(f"G{check_row}") == Decimal("-5000")
    assert evaluate(f"H{check_row}") == "DIFFERS"


def test_indicator_percentages_are_live_formulas_with_the_apps_figures(app, client, auth, demo):
    auth.login("liaison")
    ws = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))["Indicators"]
    evaluate = Evaluator(ws).value
    headers = [c.value for c in ws[1]]
    letter = {h: ws.cell(1, i).column_letter for i, h in enumerate(headers, 1)}
    with app.app_context():
        project = db.session.get(Project, demo)
        indicators = {i.code: i for i in db.session.execute(select(Indicator)).scalars()}
        checked = 0
        for r in range(2, ws.max_row + 1):
            indicator = indicators[ws[f"A{r}"].value]
            assert isinstance(ws[f"{letter['Period start']}{r}"].value, datetime)
            if indicator.unit == "qualitative":
                assert ws[f"{letter['Status']}{r}"].value == "Qualitative"
                continue
            assert ws[f"{letter['% of target']}{r}"].data_type == "f"
            target = ws[f"{letter['Target']}{r}"].value
            actual = ws[f"{letter['Actual']}{r}"].value
            expected = percent_of_target(None if actual is None else Decimal(actual),
                                         None if target is None else Decimal(target), indicator.ascending)
            got = evaluate(f"{letter['% of target']}{r}")
            if expected is None:
                assert got == ""
            else:
                assert abs(got * 100 - expected) < Decimal("1e-9")
                checked += 1
            pct_to_date = evaluate(f"{letter['% of target to date']}{r}")
            status = evaluate(f"{letter['Status']}{r}")
            expected_status = status_for(None if pct_to_date in ("", None) else pct_to_date * 100, project)
            if actual is None:
                expected_status = "no_data"
            assert status == {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track",
                              "no_data": "No data yet"}[expected_status]
        assert checked >= 5
    press = [r for r in rows_of(ws) if r[0] == "1.1.b" and r[7] == 9]
    assert press and "Vietnamese 8" in press[0][headers.index("Disaggregated values")]
    cities = [r for r in rows_of(ws) if r[0] == "1.2.a" and r[7] == 3]
    assert "Hà Nội 1" in cities[0][headers.index("Disaggregated values")]


def test_activities_expenditures_and_evidence_sheets(client, auth, demo):
    auth.login("auditor")
    book = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))
    activities = book["Activities"]
    dialogue = next(r for r in activities.iter_rows(min_row=2) if r[0].value == "A1.4")
    assert isinstance(dialogue[column(activities, "Planned start") - 1].value, datetime)
    assert dialogue[column(activities, "Planned start") - 1].number_format == "yyyy-mm-dd"
    assert dialogue[column(activities, "Status") - 1].value == "Completed"

    expenditures = book["Expenditures"]
    rows = [r for r in rows_of(expenditures)[1:] if r[0] and r[0].startswith("V-")]
    assert len(rows) == 6
    assert {r[column(expenditures, "Budget line") - 1] for r in rows} >= {"BL1", "BL3"}
    total = next(r for r in expenditures.iter_rows(min_row=2) if r[0].value == "Total")
    assert total[column(expenditures, "Amount") - 1].value.startswith("=SUM(")

    evidence = book["Evidence"]
    headers = [c.value for c in evidence[1]]
    un = next(r for r in evidence.iter_rows(min_row=2) if r[headers.index("Source")].value == "UN Website")
    assert un[headers.index("Link")].hyperlink.target.startswith("http://www.un.org.vn/")
    assert un[headers.index("Title")].hyperlink is not None
    assert un[headers.index("Review state")].value == "Waiting for review"  # the words of the evidence pages
    assert "Indicator 1.1.b 2016-07-01–2016-12-31" in un[headers.index("Backs up")].value
    assert un[headers.index("Ref")].value.startswith("E")
    assert any("Huế" in (r[headers.index("Title")].value or "") or "Huế" in (r[headers.index("Backs up")].value or "")
               or "Hue" in (r[headers.index("Source")].value or "") for r in evidence.iter_rows(min_row=2))


def test_user_text_never_becomes_a_formula(client, auth, hostile):
    auth.login("liaison")
    response = client.get(f"/projects/{hostile}/export.xlsx")
    book = workbook_of(response)
    activity = next(r for r in book["Activities"].iter_rows(min_row=2) if r[0].value == "A1.4")
    title = activity[1]
    assert title.value == EVIL_TITLE and title.data_type == "s"
    assert "<f>HYPERLINK" not in sheet_xml(response.data, "Activities")
    assert "HYPERLINK(&quot;http://evil" not in sheet_xml(response.data, "Logframe").split("<f>")[-1]
    logframe_cell = next(r[2] for r in book["Logframe"].iter_rows(min_row=2) if r[1].value == "A1.4")
    assert logframe_cell.value == EVIL_TITLE and logframe_cell.data_type == "s"
    evidence = book["Evidence"]
    headers = [c.value for c in evidence[1]]
    hostile_row = next(r for r in evidence.iter_rows(min_row=2) if r[headers.index("Title")].value.startswith("+cmd"))
    assert hostile_row[headers.index("Title")].data_type == "s"
    assert hostile_row[headers.index("Title")].hyperlink is None  # javascript: never becomes a link
    assert hostile_row[headers.index("Link")].hyperlink is None
    payees = [r[column(book["Expenditures"], "Payee") - 1] for r in book["Expenditures"].iter_rows(min_row=2)]
    assert any(c.value == "-2+3 Bell Huế" and c.data_type == "s" for c in payees)  # control character dropped
    assert any(c.value == "@SUM(1+1)" and c.data_type == "s" for c in payees)


def test_large_sheets_are_written_in_streaming_mode(app, demo):
    """Every sheet goes through openpyxl's write-only worksheets (rows streamed to disk)."""
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from tracker.exports import workbook as workbook_module
    from tracker.exports.services import ExportContext

    created = []
    original = workbook_module.write_sheet

    def spy(wb, sheet, ctx, progress=None, done=0):
        result = original(wb, sheet, ctx, progress, done)
        created.append(type(wb[sheet.title]))
        return result

    workbook_module.write_sheet = spy
    try:
        with app.app_context():
            buffer = io.BytesIO()
            workbook_module.write_workbook(ExportContext(db.session.get(Project, demo), "test"), buffer)
    finally:
        workbook_module.write_sheet = original
    assert created and all(kind is WriteOnlyWorksheet for kind in created)


# --- CSV --------------------------------------------------------------------------------------

def test_csv_has_a_bom_vietnamese_text_and_is_formula_safe(client, auth, hostile):
    auth.login("manager")
    response = client.get(f"/projects/{hostile}/export/budget.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Code,Category,Account,Description,Original budget")
    assert "Policy dialogue in Huế" in text
    assert ",-" in text  # the overspent line's negative balance stays a number
    assert "'-" not in text
    assert "Total" not in text  # CSV holds data rows, not the totals below the table

    activities = client.get(f"/projects/{hostile}/export/activities.csv").data.decode("utf-8-sig")
    assert "\"'=HYPERLINK(\"\"http://evil.example/steal\"\",\"\"Click me\"\")\"" in activities
    expenditures = client.get(f"/projects/{hostile}/export/expenditures.csv").data.decode("utf-8-sig")
    assert "'-2+3 Bell Huế" in expenditures and "'@SUM(1+1)" in expenditures
    evidence = client.get(f"/projects/{hostile}/export/evidence.csv").data.decode("utf-8-sig")
    assert "'+cmd|' /C calc'!A0" in evidence


def test_csv_of_every_sheet_matches_the_workbooks_header(client, auth, demo):
    auth.login("liaison")
    book = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))
    for slug, title in zip(("summary", "logframe", "indicators", "activities", "progress-log", "budget",
                            "expenditures", "evidence"), SHEETS, strict=True):
        text = client.get(f"/projects/{demo}/export/{slug}.csv").data.decode("utf-8-sig")
        header = text.splitlines()[0].split(",")
        assert header == [c.value for c in book[title][1]][: len(header)], slug
    indicators = client.get(f"/projects/{demo}/export/indicators.csv").data.decode("utf-8-sig")
    assert "1.1.b,Press articles published on the project,1.1,Number,2016-07-01,2016-12-31,6,9,150.00" in indicators


# --- The column definitions -------------------------------------------------------------------

def test_a_column_is_one_line_read_alike_by_the_workbook_and_csv():
    from types import SimpleNamespace

    from tracker.exports.columns import END_OF_TABLE, SHEETS, Column, Formula, Row, RowBuilder, SheetColumns
    from tracker.exports.csv_export import csv_value

    assert list(SHEETS) == SHEETS_IN_ORDER
    assert SHEETS["Indicators"].header("target") == "Target" and SHEETS["Budget"].letter("balance") == "K"
    with pytest.raises(KeyError):
        SHEETS["Budget"].header("nothing")
    sheet = SheetColumns("Test", "test", (
        Column("code", "Code", value="line.code"),
        Column("state", "State", labels={"pending": "Waiting for review"}),
        Column("amount", "Amount", "money", value=lambda r: r.cents),
        Column("double", "Double", "money", value=lambda r: 2 * r.cents, formula="={amount}*2"),
        Column("share", "Share", "number", value="share"),
    ))
    record = SimpleNamespace(line=SimpleNamespace(code="BL1"), state="pending", cents=12_345, share=Decimal("2.500"))
    rows = list(RowBuilder(sheet).rows([record, record, END_OF_TABLE, Row(("Total",))]))
    code, state, amount, double, share = rows[1]
    assert (code, state, amount, share) == ("BL1", "Waiting for review", 12_345, Decimal("2.5"))
    assert type(double) is Formula and double.text == "=C3*2" and double.value == 24_690
    assert rows[0][3].text == "=C2*2" and rows[2] is END_OF_TABLE and rows[3].values == ("Total",)
    assert [csv_value(v, c) for v, c in zip(rows[1], sheet.columns, strict=True)] == [
        "BL1", "Waiting for review", Decimal("123.45"), Decimal("246.90"), Decimal("2.5")]
    with pytest.raises(ValueError):
        Column("x", "X", "colour")


# --- The same words and the same order as the pages -------------------------------------------

def codes_in(text: str, pattern: str) -> list[str]:
    return re.findall(pattern, text)


def before(codes: list[str], first: str, second: str) -> bool:
    assert first in codes and second in codes, (first, second, codes)
    return codes.index(first) < codes.index(second)


def test_the_workbook_the_pages_and_the_csv_order_codes_alike(app, client, auth, demo):
    """1.2 before 1.10 and A2 before A10 everywhere, whatever order the rows were added in."""
    with app.app_context():
        objective = db.session.execute(select(ResultNode).where(ResultNode.project_id == demo,
                                                                ResultNode.code == "1")).scalar_one()
        db.session.add(ResultNode(project_id=demo, parent_id=objective.id, level="outcome", code="1.10",
                                  statement="A tenth expected result", position=0))
        # The older rows take the higher codes, so neither the id nor the position gives the order.
        for old_code, new_code, added in (("A2", "A10", "A2"), ("A1.2", "A1.10", "A1.2")):
            activity = db.session.execute(select(Activity).where(Activity.project_id == demo,
                                                                 Activity.code == old_code)).scalar_one()
            activity.code = new_code
            db.session.flush()
            fresh = Activity(project_id=demo, result_id=activity.result_id, code=added, title=f"Activity {added}",
                             position=activity.position)
            db.session.add(fresh)
            db.session.flush()
            for week, monday in (("2016-W46", date(2016, 11, 14)), ("2016-W45", date(2016, 11, 7))):
                for logged in (activity, fresh):  # the older activity logged first
                    db.session.add(ProgressLog(project_id=demo, activity_id=logged.id, iso_week=week,
                                               week_start=monday, status="on_track", percent_complete=10))
        db.session.commit()
    auth.login("manager")
    book = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))

    def sheet_codes(title, header, csv_slug):
        ws = book[title]
        index = column(ws, header) - 1
        in_book = [row[index] for row in rows_of(ws)[1:] if row[index]]
        text = client.get(f"/projects/{demo}/export/{csv_slug}.csv").data.decode("utf-8-sig")
        in_csv = [line[index] for line in csv.reader(io.StringIO(text))][1:]
        return in_book, in_csv

    logframe_page = client.get(f"/projects/{demo}/logframe").get_data(as_text=True)
    activities_page = client.get(f"/projects/{demo}/activities").get_data(as_text=True)
    result_lists = [codes_in(logframe_page, r'<span class="level">[^<]*? ([0-9.]+)</span>'),
                    *sheet_codes("Logframe", "Code", "logframe")]
    activity_lists = [codes_in(activities_page, r'<span class="code">([^<]+)</span>'),
                      *sheet_codes("Activities", "Code", "activities")]
    for codes in result_lists:
        assert before(codes, "1.2", "1.10") and before(codes, "1.1", "1.2")
    for codes in activity_lists:
        assert before(codes, "A2", "A10") and before(codes, "A1.2", "A1.10") and before(codes, "A1.10", "A2")
    for logged in sheet_codes("Progress log", "Activity code", "progress-log"):
        assert before(logged, "A2", "A10") and before(logged, "A1.2", "A1.10")
    weeks = [row[2] for row in rows_of(book["Progress log"])[1:] if row[0] == "A10"]
    assert weeks == ["2016-W45", "2016-W46"]


def test_the_workbook_says_what_the_pages_say_of_an_evidence_review(app, client, auth, demo):
    with app.app_context():
        items = db.session.execute(select(EvidenceItem).where(EvidenceItem.project_id == demo)
                                   .order_by(EvidenceItem.id)).scalars().all()
        items[0].review_state, items[1].review_state = "verified", "queried"
        db.session.commit()
        states = {f"E{item.id}": item.id for item in items}
    auth.login("auditor")
    book = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))
    ws = book["Evidence"]
    ref, review = column(ws, "Ref") - 1, column(ws, "Review state") - 1
    labels = {row[ref]: row[review] for row in rows_of(ws)[1:] if row[ref]}
    assert set(labels.values()) == {"Waiting for review", "Verified", "Queried"}
    page = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    for reference, label in labels.items():
        start = page.index(f'id="evidence-{states[reference]}"')
        assert label in page[start:page.index("</tr>", start)], reference
    text = client.get(f"/projects/{demo}/export/evidence.csv").data.decode("utf-8-sig")
    assert {line[review] for line in list(csv.reader(io.StringIO(text)))[1:]} == set(labels.values())


# --- Audit trail, snapshots -------------------------------------------------------------------

def test_every_export_is_in_the_audit_trail(app, client, auth, demo):
    auth.login("liaison")
    for path in ("export.xlsx", "export.iati.xml", "export/evidence.csv"):
        assert client.get(f"/projects/{demo}/{path}").status_code == 200
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "export",
                                                             AuditEvent.project_id == demo)).scalars().all()
        formats = sorted(e.changes for e in events)
        assert len(events) == 3
        assert any('"format": "xlsx"' in c for c in formats) and any('"sheet": "evidence"' in c for c in formats)
        assert all(e.actor_label == "liaison@demo.test" for e in events)


def test_an_export_does_not_keep_writers_waiting(app, demo):
    """While an export reads, someone else can save (SQLite: a deferred read transaction)."""
    with app.app_context():
        with read_snapshot():
            db.session.execute(select(func.count()).select_from(Activity)).scalar()
            errors = []

            def write():
                with app.app_context():
                    try:
                        activity = db.session.execute(select(Activity).where(Activity.code == "A2")).scalar_one()
                        activity.responsible = "Changed while an export was reading"
                        db.session.commit()
                    except Exception as error:  # noqa: BLE001 - reported below
                        errors.append(error)
                    finally:
                        db.session.remove()

            writer = threading.Thread(target=write)
            writer.start()
            writer.join(30)
            assert not errors, errors
            # the export still sees the moment it started
            assert db.session.execute(select(Activity.responsible).where(Activity.code == "A2")).scalar() != (
                "Changed while an export was reading")


# --- Large workbooks in the background --------------------------------------------------------

@pytest.fixture
def background_app(databases, tmp_path):
    from tests.conftest import running_app

    with running_app(databases, tmp_path, EXPORT_BACKGROUND_ROWS=0) as application:
        yield application


def test_a_large_workbook_is_prepared_in_the_background_with_progress(background_app):
    from tests.conftest import Auth
    from tracker.demo.loader import demo_project

    client = background_app.test_client()
    Auth(client).login("liaison")
    with background_app.app_context():
        demo = demo_project().id
    page = client.get(f"/projects/{demo}/exports").get_data(as_text=True)
    assert "Prepare the workbook" in page and 'hx-post="/projects/' in page

    response = client.post(f"/projects/{demo}/export/jobs", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and 'id="export-job"' in fragment
    job_id = fragment.split(f"/projects/{demo}/export/jobs/")[1].split('"')[0].split("/")[0]
    if "ready" not in fragment:
        assert 'hx-trigger="every 1s"' in fragment and "Preparing the workbook" in fragment
    with background_app.app_context():
        finished = jobs.wait(job_id)
    assert finished.state == "done" and finished.done > 50

    status = client.get(f"/projects/{demo}/export/jobs/{job_id}", headers={"HX-Request": "true"})
    assert "HX-Request" in status.headers["Vary"]
    text = status.get_data(as_text=True)
    assert "<html" not in text and "The workbook is ready." in text and "every 1s" not in text
    full = client.get(f"/projects/{demo}/export/jobs/{job_id}").get_data(as_text=True)
    assert "<html" in full and "The workbook is ready." in full
    book = workbook_of(client.get(f"/projects/{demo}/export/jobs/{job_id}/file"))
    assert book.sheetnames == WORKBOOK_SHEETS

    # without JavaScript: a plain POST redirects to the job's page
    plain = client.post(f"/projects/{demo}/export/jobs")
    assert plain.status_code == 303 and "/export/jobs/" in plain.location
    with background_app.app_context():
        jobs.wait(plain.location.rstrip("/").split("/")[-1])


def test_unknown_jobs_and_other_projects_jobs_are_not_found(background_app):
    from tests.conftest import Auth
    from tracker.demo.loader import demo_project

    client = background_app.test_client()
    Auth(client).login("auditor")
    with background_app.app_context():
        demo = demo_project().id
        job = jobs.Job(id="another-projects-job-01", project_id=demo + 1, user_id=None, state="done")
        jobs.save(jobs.jobs_dir(background_app), job)
    assert client.get(f"/projects/{demo}/export/jobs/another-projects-job-01").status_code == 404
    assert client.get(f"/projects/{demo}/export/jobs/..%2f..%2fsecret_key").status_code == 404
    assert client.get(f"/projects/{demo}/export/jobs/not-a-real-job-id-000/file").status_code == 404


def test_officers_cannot_start_background_exports(background_app):
    from tests.conftest import Auth
    from tracker.demo.loader import demo_project

    client = background_app.test_client()
    Auth(client).login("officer")
    with background_app.app_context():
        demo = demo_project().id
    assert client.post(f"/projects/{demo}/export/jobs").status_code == 403


def test_blank_template_has_the_import_layout(client, auth):
    auth.login("officer")  # any logged-in user: it holds no project data
    response = client.get("/exports/logframe-template.xlsx")
    book = workbook_of(response)
    assert book.sheetnames == ["Instructions", "Summary", "Logframe", "Indicators", "Budget"]
    assert [c.value for c in book["Indicators"][1]] == ["Indicator code", "Indicator", "Period start", "Period end",
                                                         "Target", "Actual", "Comment"]
    labels = [r[0] for r in rows_of(book["Summary"])[1:]]
    assert "Project code" in labels and "Grant" in labels
    assert book["Logframe"].data_validations.dataValidation  # drop-down lists for level and unit


def test_text_longer_than_excel_allows_is_cut_with_a_mark(app, client, auth, demo):
    from tracker.models import ProgressLog

    with app.app_context():
        activity = db.session.execute(select(Activity).where(Activity.code == "A1.3")).scalar_one()
        db.session.add(ProgressLog(project_id=demo, activity_id=activity.id, iso_week="2016-W47",
                                   week_start=date(2016, 11, 21), status="on_track", percent_complete=80,
                                   done="Huế " * 12_000))
        db.session.commit()
    auth.login("liaison")
    book = workbook_of(client.get(f"/projects/{demo}/export.xlsx"))
    done = book["Progress log"]["G2"].value
    assert len(done) == 32_767 and done.endswith("…") and done.startswith("Huế Huế")
    activity = next(r for r in book["Activities"].iter_rows(min_row=2, values_only=True) if r[0] == "A1.3")
    assert activity[-2] == "2016-W47" and len(activity[-1]) == 32_767  # latest week and its note
