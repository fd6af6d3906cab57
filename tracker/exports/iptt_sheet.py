"""The "IPTT" sheet: the indicator performance tracking table of ``tracker.reports.iptt``.

Columns: code, indicator, unit, baseline; then per reporting period target, actual and % of
target; then the life-of-project target, the actual to date and its %; then the narratives and
variance explanations. Row 1 names each period over its three columns (merged), row 2 holds the
headers; both repeat on every printed page (A4 landscape, fitted to the width). Results are
bold rows merged across the indicator columns, their indicators below them.

Live formulas (so a donor who corrects an actual sees the rest follow):

* % of target: ``columns.percent_formula`` (the rule of ``percent_of_target``);
* actual to date: a cumulative indicator's is ``=IF(COUNT(actuals)=0,"",SUM(actuals))``, a
  non-cumulative one's its latest actual (``IF(ISNUMBER(last),last,IF(ISNUMBER(before),...))``,
  the rule of ``indicator_progress``). Above ``MAX_NESTED`` periods (Excel nests 64 IFs at most;
  COUNT and SUM take 255 arguments) the app's figure is written instead;
* % of the life-of-project target: the same % rule on the two cells before it.

Colours: conditional formatting on every % column, one rule per status of ``status_for`` with
the project's thresholds (``AND(ISNUMBER(cell),cell>=on_track)`` ...), so a changed figure
changes colour too; an empty % has none. Qualitative indicators have text and no %.
"""

from __future__ import annotations

from decimal import Decimal

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from ..models.results import UNIT_LABELS
from ..reports.iptt import IpttRow, iptt_stream
from .columns import LayoutSheet, percent_formula, plain_number
from .language import N_
from .layout_sheets import grid_style, merge, print_on_a4_landscape
from .services import ExportContext
from .workbook import _clean, _Out, yes_no_format

MAX_NESTED = 60
FIRST_PERIOD_COLUMN = 5  # E: the first period's target
STATUS_FILLS = {"on_track": "DFF1E5", "at_risk": "FFF1CC", "off_track": "FBDCD9"}


class _Styles:
    def __init__(self, ws, tr=None):
        self.text = grid_style(ws)
        self.title = grid_style(ws, wrap=True)
        self.number = grid_style(ws, number_format="#,##0.####", wrap=False)
        self.yesno = grid_style(ws, number_format=yes_no_format(tr), wrap=False)
        self.percent = grid_style(ws, number_format="0%", wrap=False)
        self.header = grid_style(ws, bold=True, fill="DCE6F1", horizontal="center")
        self.result = grid_style(ws, bold=True, fill="EEF2F7")


def _number(value):
    return float(plain_number(value)) if isinstance(value, Decimal) else value


def _figure_cell(ws, address: str, value, yesno: bool, styles: _Styles):
    if value is None or value == "":
        return _Out(ws, address, "s", "", styles.text)
    if isinstance(value, str):
        return _Out(ws, address, "s", _clean(value), styles.text)
    return _Out(ws, address, "n", _number(value), styles.yesno if yesno else styles.number)


def _to_date_formula(row: IpttRow, actual_refs: list[str]) -> str | None:
    """The 'actual to date' formula, or None when the app's figure is written instead."""
    if not actual_refs or len(actual_refs) > MAX_NESTED:
        return None
    if row.indicator.cumulative:
        refs = ",".join(actual_refs)
        return f'=IF(COUNT({refs})=0,"",SUM({refs}))'
    formula = '""'
    for ref in actual_refs:  # earliest innermost: the latest number wins
        formula = f"IF(ISNUMBER({ref}),{ref},{formula})"
    return "=" + formula


def _notes_text(row: IpttRow, periods, tr) -> str:
    parts = []
    for period, narrative, variance in row.notes(periods):
        text = f"{period.label}: {narrative}" if narrative else f"{period.label}:"
        if variance:
            text += "\n" + tr(N_("Variance explanation: %(text)s"), text=variance)
        parts.append(text)
    return "\n".join(parts)


def write_iptt_sheet(wb, ctx: ExportContext, sheet: LayoutSheet, done: int) -> int:
    project, tr = ctx.project, ctx.tr
    units = tr.labels(UNIT_LABELS)
    periods, groups = iptt_stream(project)
    ws = wb.create_sheet(tr.title(sheet.title))
    ws._values_to_row = lambda cells, _index: cells
    styles = _Styles(ws, tr)
    lop = FIRST_PERIOD_COLUMN + 3 * len(periods)  # the life-of-project target's column
    notes_column = lop + 3
    letters = [get_column_letter(i) for i in range(1, notes_column + 1)]
    last = letters[-1]
    for letter, width in zip(letters[:4], (10, 44, 11, 11), strict=True):
        ws.column_dimensions[letter].width = width
    for letter in letters[4:notes_column - 1]:
        ws.column_dimensions[letter].width = 10
    ws.column_dimensions[last].width = 60
    print_on_a4_landscape(ws, "1:2")
    ws.freeze_panes = "E3"

    # Row 1: the period over its three columns; row 2: the headers.
    top = [_Out(ws, "A1", "s", _clean(tr(N_("IPTT: %(code)s"), code=project.code)), styles.header)]
    for index, period in enumerate(periods):
        first = letters[FIRST_PERIOD_COLUMN - 1 + 3 * index]
        top.append(_Out(ws, f"{first}1", "s", period.label, styles.header))
        merge(ws, f"{first}1:{letters[FIRST_PERIOD_COLUMN + 3 * index + 1]}1")
    top.append(_Out(ws, f"{letters[lop - 1]}1", "s", tr(N_("Life of project")), styles.header))
    merge(ws, f"{letters[lop - 1]}1:{letters[lop + 1]}1")
    merge(ws, "A1:D1")
    ws.append(top)
    headers = [tr(N_("Code")), tr(N_("Indicator")), tr(N_("Unit")), tr(N_("Baseline"))]
    for _period in periods:
        headers += [tr(N_("Target")), tr(N_("Actual")), tr(N_("% of target"))]
    headers += [tr(N_("Target")), tr(N_("Actual to date")), tr(N_("% of target")), tr(N_("Narrative and variance explanation"))]
    ws.append([_Out(ws, f"{letter}2", "s", text, styles.header) for letter, text in zip(letters, headers, strict=True)])

    row_number = 2
    for group in groups:
        row_number += 1
        result = group.result
        number = str(row_number)
        ws.append([_Out(ws, "A" + number, "s", _clean(result.code), styles.result),
                   _Out(ws, "B" + number, "s", _clean(f"{result.level_label}: {result.statement}"), styles.result)])
        merge(ws, f"B{number}:{last}{number}")
        for row in group.rows:
            row_number += 1
            number = str(row_number)
            indicator = row.indicator
            yesno = indicator.unit == "yesno"
            cells = [_Out(ws, "A" + number, "s", _clean(indicator.code), styles.text),
                     _Out(ws, "B" + number, "s", _clean(indicator.title), styles.title),
                     _Out(ws, "C" + number, "s", units.get(indicator.unit, indicator.unit), styles.text),
                     _figure_cell(ws, "D" + number, row.baseline, yesno, styles)]
            actual_refs = []
            for index, cell in enumerate(row.cells):
                t, a, p = (letters[FIRST_PERIOD_COLUMN - 1 + 3 * index + k] + number for k in range(3))
                if cell is None:
                    continue
                cells.append(_figure_cell(ws, t, cell.target, yesno, styles))
                cells.append(_figure_cell(ws, a, cell.actual, yesno, styles))
                if not row.qualitative:
                    actual_refs.append(a)
                    cells.append(_Out(ws, p, "f", percent_formula(t, a, indicator.ascending), styles.percent))
            t, a, p = (letters[lop - 1 + k] + number for k in range(3))
            cells.append(_figure_cell(ws, t, row.lop_target, yesno, styles))
            formula = None if row.qualitative else _to_date_formula(row, actual_refs)
            if formula is None:
                cells.append(_figure_cell(ws, a, row.to_date, yesno, styles))
            else:
                cells.append(_Out(ws, a, "f", formula, styles.yesno if yesno else styles.number))
            if not row.qualitative:
                cells.append(_Out(ws, p, "f", percent_formula(t, a, indicator.ascending), styles.percent))
            notes = _notes_text(row, periods, tr)
            if notes:
                cells.append(_Out(ws, f"{last}{number}", "s", _clean(notes), styles.text))
            ws.append(cells)
            done += 1

    _colour_by_status(ws, project, [letters[FIRST_PERIOD_COLUMN + 1 + 3 * i] for i in range(len(periods))]
                      + [letters[lop + 1]], max(row_number, 3))
    ws.print_area = f"A1:{last}{max(row_number, 2)}"
    return done


def _colour_by_status(ws, project, columns: list[str], last_row: int) -> None:
    """One rule per status on each % column: the thresholds of ``status_for``, as fractions."""
    on_track = plain_number(Decimal(project.on_track_pct) / 100)
    at_risk = plain_number(Decimal(project.at_risk_pct) / 100)
    for column in columns:
        cell = f"{column}3"
        rules = {
            "on_track": f"AND(ISNUMBER({cell}),{cell}>={on_track})",
            "at_risk": f"AND(ISNUMBER({cell}),{cell}>={at_risk},{cell}<{on_track})",
            "off_track": f"AND(ISNUMBER({cell}),{cell}<{at_risk})",
        }
        for status, formula in rules.items():
            fill = PatternFill("solid", fgColor=STATUS_FILLS[status], bgColor=STATUS_FILLS[status])
            ws.conditional_formatting.add(f"{column}3:{column}{last_row}", FormulaRule(formula=[formula], fill=fill))
