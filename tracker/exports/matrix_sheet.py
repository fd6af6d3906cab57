"""The "Logframe matrix" sheet: the logframe as donors' templates lay it out.

Four columns: intervention logic | indicators (with baseline and target) | sources and means
of verification | assumptions. One block per level, in the templates' order: the overall
objective, the expected results, the outputs, then the activities; each block opens with a
band row merged across the four columns. A result with several indicators takes one row per
indicator, its intervention logic and its assumptions merged down those rows. Text wraps; row
heights are estimated from the text (Excel does not grow a row for text in a merged cell).
Printed on A4 landscape, fitted to the page's width, the title and header rows repeated on
every page, with a print area.

Figures are written as the pages show them (``values.show_value``: yes/no indicators say Yes
or No); an illustrative indicator says so.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import select

from ..extensions import db
from ..models import Activity, Indicator, ResultNode
from ..models.progress import STATUS_LABELS as ACTIVITY_STATUS_LABELS
from ..results.values import show_value
from ..validation import code_key
from .columns import LayoutSheet
from .language import N_
from .layout_sheets import grid_style, merge, print_on_a4_landscape
from .services import ExportContext
from .workbook import _clean, _Out

WIDTHS = {"A": 46, "B": 48, "C": 34, "D": 38}
LINE_HEIGHT = 15  # points per line of 11 pt text


def _blocks(tr):
    """The levels' blocks in the templates' order, with their headings."""
    return (("objective", tr(N_("Overall objective"))), ("outcome", tr(N_("Expected results"))), ("output", tr(N_("Outputs"))))


def _lines(text: str, width: float) -> int:
    """About how many lines ``text`` takes in a column ``width`` characters wide."""
    return sum(max(1, math.ceil(len(line) / max(width - 2, 1))) for line in (text or "").split("\n"))


def _indicator_text(indicator: Indicator, tr) -> str:
    qualitative = indicator.unit == "qualitative"
    baseline = indicator.baseline_text if qualitative else show_value(indicator, indicator.baseline_value)
    target = indicator.target_text if qualitative else show_value(indicator, indicator.target_value)
    parts = [f"{indicator.code} {indicator.title}"]
    if baseline:
        when = f" ({indicator.baseline_date.isoformat()})" if indicator.baseline_date else ""
        parts.append(tr(N_("Baseline: %(value)s%(when)s"), value=baseline, when=when))
    if target:
        parts.append(tr(N_("Target: %(value)s"), value=target))
    if indicator.illustrative:
        parts.append(tr(N_("(illustrative figures: the source gives none)")))
    return "\n".join(parts)


def _activity_text(activity: Activity, result_code: str, tr) -> str:
    parts = [tr(N_("Contributes to %(code)s."), code=result_code)]
    if activity.planned_start and activity.planned_end:
        parts.append(tr(N_("Planned %(start)s to %(end)s."), start=activity.planned_start.isoformat(),
                       end=activity.planned_end.isoformat()))
    status = tr(ACTIVITY_STATUS_LABELS.get(activity.status, activity.status))
    parts.append(tr(N_("Status: %(status)s, %(pct)s%% complete."), status=status, pct=activity.percent_complete))
    if activity.responsible:
        parts.append(tr(N_("Responsible: %(who)s."), who=activity.responsible))
    return "\n".join(parts)


class _Writer:
    def __init__(self, ws):
        self.ws = ws
        self.row = 0
        self.body = grid_style(ws)
        self.header = grid_style(ws, bold=True, fill="DCE6F1")
        self.band = grid_style(ws, bold=True, fill="EEF2F7")
        self.title = grid_style(ws, bold=True, wrap=False)

    def append(self, values: list, style: int, lines: int = 1) -> int:
        """Write a row of four texts (None leaves a cell empty, as under a merged cell); returns its number."""
        self.row += 1
        number = str(self.row)
        self.ws.row_dimensions[self.row].height = LINE_HEIGHT * max(lines, 1)
        cells = []
        for letter, value in zip("ABCD", values, strict=True):
            if value is None:
                cells.append(_Out(self.ws, letter + number, "s", "", style))  # keeps the border
            else:
                cells.append(_Out(self.ws, letter + number, "s", _clean(value), style))
        self.ws.append(cells)
        return self.row


def write_matrix_sheet(wb, ctx: ExportContext, sheet: LayoutSheet, done: int) -> int:
    project, tr = ctx.project, ctx.tr
    ws = wb.create_sheet(tr.title(sheet.title))
    ws._values_to_row = lambda cells, _index: cells
    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    print_on_a4_landscape(ws, "1:2")
    ws.freeze_panes = "A3"
    out = _Writer(ws)

    results = sorted(db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars(),
                     key=lambda r: code_key(r.code))
    indicators = defaultdict(list)
    for indicator in db.session.execute(select(Indicator).where(Indicator.project_id == project.id)
                                        .order_by(Indicator.position, Indicator.id)).scalars():
        indicators[indicator.result_id].append(indicator)
    codes = {r.id: r.code for r in results}

    title = tr(N_("Logframe matrix: %(code)s, %(title)s"), code=project.code, title=project.title)
    merge(ws, "A1:D1")
    out.append([title, None, None, None], out.title, 1 + len(title) // 160)
    out.append([tr(N_("Intervention logic")), tr(N_("Objectively verifiable indicators (baseline and target)")),
                tr(N_("Sources and means of verification")), tr(N_("Assumptions"))], out.header, 2)

    for level, heading in _blocks(tr):
        block = [r for r in results if r.level == level]
        if not block:
            continue
        band = out.append([heading, None, None, None], out.band)
        merge(ws, f"A{band}:D{band}")
        for result in block:
            logic = f"{result.code} {result.statement}"
            own = indicators.get(result.id, [])
            span = max(1, len(own))
            shared = max(_lines(logic, WIDTHS["A"]), _lines(result.assumptions, WIDTHS["D"]))
            each = math.ceil(shared / span)
            first = out.row + 1
            for index in range(span):
                indicator = own[index] if own else None
                text = _indicator_text(indicator, tr) if indicator else ""
                verification = indicator.means_of_verification if indicator else ""
                lines = max(each, _lines(text, WIDTHS["B"]), _lines(verification, WIDTHS["C"]))
                out.append([logic if index == 0 else None, text, verification,
                            result.assumptions if index == 0 else None], out.body, lines)
            if span > 1:
                merge(ws, f"A{first}:A{out.row}")
                merge(ws, f"D{first}:D{out.row}")
            done += span

    activities = sorted(db.session.execute(select(Activity).where(Activity.project_id == project.id)).scalars(),
                        key=lambda a: code_key(a.code))
    if activities:
        band = out.append([tr(N_("Activities")), None, None, None], out.band)
        merge(ws, f"A{band}:D{band}")
        for activity in activities:
            logic = f"{activity.code} {activity.title}"
            means = _activity_text(activity, codes.get(activity.result_id, ""), tr)
            out.append([logic, means, "", ""], out.body,
                       max(_lines(logic, WIDTHS["A"]), _lines(means, WIDTHS["B"])))
            done += 1

    ws.print_area = f"A1:D{max(out.row, 2)}"
    return done
