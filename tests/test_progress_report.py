"""The progress report of a reporting period: one printable page and the same content as a .docx
(opened with python-docx: the sections and the numbers of the page)."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from sqlalchemy import select

from tests.helpers import warm_queries
from tracker.extensions import db
from tracker.models import AuditEvent, IndicatorPeriod, Project, ResultNarrative, ResultNode
from tracker.reports.services import progress_report

START, END = "2016-07-01", "2016-12-31"
SECTIONS = ["Project identification", "Narrative per result", "Indicator performance tracking table",
            "Budget used", "Evidence", "Approval"]


def report_url(project_id, start=START, end=END, suffix=""):
    return f"/projects/{project_id}/reports/{start}/{end}{suffix}"


@pytest.fixture
def narrated(app, demo):
    """A result narrative and a period narrative with a variance explanation for 2016 H2."""
    with app.app_context():
        result = db.session.execute(select(ResultNode).where(ResultNode.project_id == demo,
                                                             ResultNode.code == "1.1")).scalar_one()
        row = db.session.execute(select(ResultNarrative).where(
            ResultNarrative.result_id == result.id, ResultNarrative.start_date == date(2016, 7, 1),
            ResultNarrative.end_date == date(2016, 12, 31))).scalar_one_or_none()
        if row is None:
            row = ResultNarrative(project_id=demo, result_id=result.id, start_date=date(2016, 7, 1),
                                  end_date=date(2016, 12, 31), text="")
            db.session.add(row)
        row.text = "Đối thoại chính sách ở Huế ngày 24/11/2016."
        period = db.session.execute(select(IndicatorPeriod).where(
            IndicatorPeriod.project_id == demo, IndicatorPeriod.start_date == date(2016, 7, 1))
            .order_by(IndicatorPeriod.id)).scalars().first()
        period.variance_explanation = "Two missions moved to January 2017."
        db.session.commit()


def _text_of(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_the_page_has_every_section_of_the_period(client, auth, demo, narrated):
    auth.login("liaison")
    response = client.get(report_url(demo))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for section in SECTIONS:
        assert f">{section}</h2>" in html, section
    assert "Progress report, 2016 H2" in html
    assert "Korean Funds-in-Trust" in html and "USD 120,000.00" in html
    assert "Đối thoại chính sách ở Huế ngày 24/11/2016." in html
    assert "Two missions moved to January 2017." in html
    assert 'class="progress-report print-landscape"' in html
    assert "%%" not in html and ">% used</th>" in html
    assert "report.docx" in html  # the liaison may download it


def test_choosing_a_period_by_query_redirects_to_its_iso_url(client, auth, demo):
    auth.login("officer")
    response = client.get(f"/projects/{demo}/reports?period={START}..{END}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(report_url(demo))
    index = client.get(f"/projects/{demo}/reports").get_data(as_text=True)
    assert report_url(demo) in index
    assert "report.docx" not in index  # the officer reads the reports but does not export


@pytest.mark.parametrize("start,end", [("2016-07-01", "2016-12-30"), ("2016-13-01", "2016-12-31"),
                                       ("yesterday", "2016-12-31"), ("2016-12-31", "2016-07-01")])
def test_a_period_that_is_not_a_reporting_period_is_404(client, auth, demo, start, end):
    auth.login("manager")
    assert client.get(report_url(demo, start, end)).status_code == 404
    assert client.get(report_url(demo, start, end, "/report.docx")).status_code == 404
    assert client.get(f"/projects/{demo}/reports?period={start}..{end}").status_code == 404


def test_the_docx_holds_the_sections_and_the_numbers_of_the_page(app, client, auth, demo, narrated):
    auth.login("liaison")
    page = client.get(report_url(demo)).get_data(as_text=True)
    response = client.get(report_url(demo, suffix="/report.docx"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "KFIT-VNM-CI_progress-report_2016-07-01_2016-12-31.docx" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings == SECTIONS
    text = _text_of(document)
    assert "Đối thoại chính sách ở Huế ngày 24/11/2016." in text
    assert "Two missions moved to January 2017." in text
    # Every figure of the page's tables (money, percentages, values) is in the document, written alike.
    figures = set()
    for table in re.findall(r"<table.*?</table>", page, re.S):
        for cell in re.findall(r'<td class="num[^"]*">(.*?)</td>', table, re.S):
            shown = re.sub(r"<span class=\"vh\">.*?</span>", "", cell).strip()
            if shown:
                figures.add(shown)
    assert len(figures) > 10
    missing = sorted(f for f in figures if f not in text)
    assert not missing, missing
    # A4 landscape.
    section = document.sections[0]
    assert section.page_width > section.page_height
    assert abs(section.page_width.mm - 297) < 1 and abs(section.page_height.mm - 210) < 1


def test_the_download_is_an_export_in_the_audit_trail(app, client, auth, demo):
    auth.login("auditor")
    assert client.get(report_url(demo, suffix="/report.docx")).status_code == 200
    with app.app_context():
        event = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert event.action == "export"
        assert "docx" in str(event.changes) and f"{START}..{END}" in str(event.changes)


@pytest.mark.parametrize("role,status", [("manager", 200), ("liaison", 200), ("auditor", 200), ("officer", 403)])
def test_who_may_download_the_docx(client, auth, demo, role, status):
    auth.login(role)
    assert client.get(report_url(demo)).status_code == 200
    assert client.get(report_url(demo, suffix="/report.docx")).status_code == status


def test_another_projects_member_gets_404(client, auth, demo, other_project):
    auth.login("other-manager")
    assert client.get(report_url(demo)).status_code == 404
    assert client.get(report_url(demo, suffix="/report.docx")).status_code == 404


def test_budget_of_the_period_adds_up(app, demo):
    """Spent in the period plus spent before it is spent to its end, per line; time elapsed is the
    share of the project's days gone by the period's end."""
    with app.app_context():
        project = db.session.get(Project, demo)
        report = progress_report(project, date(2016, 7, 1), date(2016, 12, 31))
        first_half = progress_report(project, date(2016, 1, 1), date(2016, 6, 30))
        before = {t.line.id: t.spent_cents for t, _in_period in first_half.budget.lines}
        for totals, in_period in report.budget.lines:
            assert totals.spent_cents == before[totals.line.id] + in_period
        assert report.budget.time_elapsed_pct == pytest.approx(Decimal(366) * 100 / Decimal(731))
        assert sum(in_period for _t, in_period in report.budget.lines) == report.budget.total_in_period_cents
        assert report.budget.total_in_period_cents > 0


def test_query_count_does_not_grow_with_indicators(app, client, auth, demo):
    from tests.test_iptt import _add_indicators

    auth.login("liaison")
    _add_indicators(app, demo, 10)
    few = len(warm_queries(app, client, report_url(demo)))
    _add_indicators(app, demo, 150, first=10)
    many = len(warm_queries(app, client, report_url(demo)))
    # The IPTT reads its indicators 50 at a time (two queries a batch): 150 more indicators add at
    # most four batches, never a query per indicator.
    assert many - few <= 2 * 4
