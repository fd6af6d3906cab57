"""The progress report as a Word document (.docx), made with python-docx.

The same sections, in the same order, with the same figures as the page
(templates/reports/progress.html): every number is written by ``shown`` as the page writes
it. A4 landscape (the IPTT is wide), headings the reader's outline can follow (Heading 1 and
2), tables in Word's "Table Grid" style with a repeated header row. Text that people typed goes
in as text (Word has no formulas to fear); control characters XML cannot hold are dropped.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from flask_babel import gettext as _

from .. import formatting
from . import shown
from .services import ProgressReport

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
STATUS_FILLS = {"on_track": "DFF1E5", "at_risk": "FFF1CC", "off_track": "FBDCD9"}


def _text(value) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def filename(project, start, end) -> str:
    code = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in project.code) or "project"
    return f"{code}_progress-report_{start.isoformat()}_{end.isoformat()}.docx"


def _shade(cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _table(document, headers: list[str], rows: list[list], fills: list[list] | None = None, bold_rows=()):
    """A grid table: a repeated, bold header row, then ``rows`` of text (``fills``: a colour per cell)."""
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.rows[0]
    _repeat_header(head)
    for cell, header in zip(head.cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(_text(header))
        run.bold = True
        _shade(cell, "DCE6F1")
    for index, values in enumerate(rows):
        cells = table.add_row().cells
        for column, (cell, value) in enumerate(zip(cells, values, strict=True)):
            run = cell.paragraphs[0].add_run(_text(value))
            if index in bold_rows:
                run.bold = True
            fill = fills[index][column] if fills else None
            if fill:
                _shade(cell, fill)
    return table


def _facts(report: ProgressReport) -> list[tuple[str, str]]:
    project = report.project
    return [
        (_("Project"), project.title),
        (_("Project code"), project.code),
        (_("Donor"), project.donor),
        (_("Funding source"), project.funding_source),
        (_("Grant"), shown.money(project.grant_cents, project.currency)),
        (_("Project period"), _("%(start)s to %(end)s", start=formatting.day(project.start_date),
                                 end=formatting.day(project.end_date))),
        (_("Implementing agency"), project.implementing_agency),
        (_("Implementing partners"), project.implementing_partners),
        (_("Reporting period"), _("%(label)s (%(start)s to %(end)s)", label=report.period.label,
                                   start=formatting.day(report.period.start), end=formatting.day(report.period.end))),
    ]


def iptt_headers() -> list[str]:
    return [_("Code"), _("Indicator"), _("Baseline"), _("Target"), _("Actual"), _("% of target"),
            _("Life-of-project target"), _("Actual to date"), _("% of LoP target"), _("Approval")]


def iptt_table_rows(report: ProgressReport):
    """The IPTT of the period as rows of text, with their fills and which rows are results."""
    rows, fills, bold = [], [], []
    width = len(iptt_headers())
    for group in report.groups:
        bold.append(len(rows))
        rows.append([group.result.code, f"{group.result.level_label}: {group.result.statement}", *[""] * (width - 2)])
        fills.append([None] * width)
        for row in group.rows:
            indicator, cell = row.indicator, row.cells[0]
            rows.append([
                indicator.code, indicator.title, shown.value(indicator, row.baseline),
                shown.value(indicator, cell.target) if cell else "", shown.value(indicator, cell.actual) if cell else "",
                shown.pct(cell.pct) if cell else "", shown.value(indicator, row.lop_target),
                shown.value(indicator, row.to_date), shown.pct(row.lop_pct), shown.state(cell.state) if cell else "",
            ])
            fills.append([None] * 5 + [STATUS_FILLS.get(cell.status) if cell else None] + [None] * 2
                         + [STATUS_FILLS.get(row.lop_status)] + [None])
    return rows, fills, bold


def build(report: ProgressReport, generated_by: str = "") -> bytes:
    """The .docx of ``report``, as bytes."""
    project = report.project
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    document.styles["Normal"].font.size = Pt(9.5)
    properties = document.core_properties
    properties.title = _text(_("Progress report %(period)s: %(title)s", period=report.period.label,
                               title=project.title))[:250]
    properties.author = _text(generated_by)[:250]
    properties.created = datetime.now(UTC).replace(tzinfo=None)

    document.add_heading(_text(_("Progress report, %(period)s", period=report.period.label)), level=0)
    document.add_paragraph(_text(project.title))
    if project.illustrative_note:
        note = document.add_paragraph().add_run(_text(project.illustrative_note))
        note.italic = True

    document.add_heading(_("Project identification"), level=1)
    facts = _table(document, [_("Item"), _("Value")], [list(pair) for pair in _facts(report)])
    facts.alignment = WD_TABLE_ALIGNMENT.LEFT

    document.add_heading(_("Narrative per result"), level=1)
    if report.result_narratives:
        for result, text in report.result_narratives:
            document.add_heading(_text(f"{result.code} {result.statement}"), level=2)
            for paragraph in _text(text).split("\n"):
                document.add_paragraph(paragraph)
    else:
        document.add_paragraph(_("No result has a narrative for this period yet."))

    document.add_heading(_("Indicator performance tracking table"), level=1)
    rows, fills, bold = iptt_table_rows(report)
    _table(document, iptt_headers(), rows, fills, bold_rows=set(bold))
    notes = [(row, row.cells[0]) for group in report.groups for row in group.rows
             if row.cells[0] is not None and (row.cells[0].narrative or row.cells[0].variance)]
    if notes:
        document.add_heading(_("Narratives and variance explanations"), level=2)
        for row, cell in notes:
            paragraph = document.add_paragraph()
            paragraph.add_run(_text(f"{row.indicator.code} {row.indicator.title}")).bold = True
            if cell.narrative:
                document.add_paragraph(_text(cell.narrative))
            if cell.variance:
                variance = document.add_paragraph()
                variance.add_run(_("Variance explanation:") + " ").bold = True
                variance.add_run(_text(cell.variance))

    budget = report.budget
    currency = project.currency
    document.add_heading(_("Budget used"), level=1)
    document.add_paragraph(budget_sentence(report))
    line_rows = [[t.line.code, t.line.description, shown.money(t.current_cents, currency),
                  shown.money(in_period, currency), shown.money(t.spent_cents, currency), shown.pct(t.pct_used)]
                 for t, in_period in budget.lines]
    total = budget.total_to_end
    line_rows.append([_("Total"), "", shown.money(total.current_cents, currency),
                      shown.money(budget.total_in_period_cents, currency), shown.money(total.spent_cents, currency),
                      shown.pct(total.pct_used)])
    _table(document, budget_headers(_("Budget line")), line_rows, bold_rows={len(line_rows) - 1})
    document.add_paragraph()
    result_rows = [[result.code, result.statement, shown.money(figures.current_cents, currency),
                    shown.money(in_period, currency), shown.money(figures.spent_cents, currency),
                    shown.pct(figures.pct_used)] for result, _depth, figures, in_period in budget.results]
    _table(document, budget_headers(_("Result")), result_rows)

    document.add_heading(_("Evidence"), level=1)
    if report.evidence:
        _table(document, [_("Ref"), _("Date"), _("Title"), _("Source"), _("Link")],
               [[f"E{item.id}", formatting.day(item.dated), item.title, item.source, item.url]
                for item in report.evidence])
    else:
        document.add_paragraph(_("No evidence is dated in this period or linked to its indicator values."))

    document.add_heading(_("Approval"), level=1)
    document.add_paragraph(approval_sentence(report))
    if report.state_rows:
        _table(document, [_("State"), _("Indicator values")],
               [[shown.state(state), str(count)] for state, count in report.state_rows])

    footer = section.footer.paragraphs[0]
    footer.text = _text(_("%(code)s · progress report %(period)s · made by the results tracker on %(day)s",
                          code=project.code, period=report.period.label,
                          day=formatting.day(datetime.now(UTC).date())))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def budget_headers(first: str) -> list[str]:
    return [_("Code"), first, _("Current budget"), _("Spent in the period"), _("Spent to the period's end"),
            _("% used")]


def budget_sentence(report: ProgressReport) -> str:
    """'By 2016-12-31, 50% of the project's time had gone by.'"""
    elapsed = report.budget.time_elapsed_pct
    if elapsed is None:
        return ""
    return _("By %(day)s, %(pct)s of the project's time had gone by; compare it with the %% used.",
             day=formatting.day(report.period.end), pct=shown.pct(elapsed))


def approval_sentence(report: ProgressReport) -> str:
    if not report.indicator_count:
        return _("This period has no indicator values.")
    if report.all_approved:
        text = _("All %(count)s indicator values of the period are approved.", count=report.indicator_count)
    else:
        text = _("%(approved)s of %(count)s indicator values of the period are approved.",
                 approved=report.states.get("approved", 0), count=report.indicator_count)
    if report.last_approval:
        when, who = report.last_approval
        text += " " + _("Last approval: %(day)s by %(who)s.", day=formatting.day(when.date() if hasattr(
            when, "date") else when), who=who or _("a former user"))
    return text
