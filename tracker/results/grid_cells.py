"""The indicator grid's compact cells as HTML, built in one pass in Python.

A grid page has hundreds of cells; rendering each through a template loop (a dozen lookups,
filters and gettext calls per cell) was most of the page's time (issue 15). ``GridCells`` works
out once per request everything that is the same for every cell (the translated words, the
period URL prefix, what the person may edit) and once per row what is the same along it (the
input's label around the period's name), then writes each cell with a few string joins. It is
the only place the compact cell's markup is written: the grid page calls ``row()`` per row,
and ``results/_cell.html`` calls ``render()`` for a single cell sent back to the grid after a
save (or out of band after a bulk approval).

A compact cell is a labelled input and nothing else (at most 250 bytes of HTML a cell): no
form, URL or CSRF token. static/js/grid.js posts the value to the period's URL (the table's
data-periods-url + the period id from the cell's id) with the period's version (``data-v``);
the CSRF token travels once, in the hx-headers of <body>. The actual cell links to its period's
page (state, and the way to edit without JavaScript); the target cell names its period in
``data-p`` for the phone's card layout (static/css/app.css). Locked (approved) periods and
kinds the person may not edit show the value as text.
"""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_babel import gettext as _
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from ..formatting import percent
from ..models.results import PERIOD_STATE_LABELS, UNIT_LABELS
from ..permissions import can
from .values import STATUS_LABELS, UNIT_HINTS, input_value, period_label, show_value

_MARK = "\x00"  # where the period's name goes in a row's label (never in a title: clean_text drops it)


def _e(text) -> str:
    return str(escape(text))


class GridCells:
    """Compact grid cells for the current request (``for_request``)."""

    def __init__(self, may_target: bool, may_actual: bool, periods_url: str):
        self.may = {"target": may_target, "actual": may_actual}
        self.periods_url = periods_url
        self.label_format = _("%(what)s of %(code)s %(title)s, %(period)s (%(hint)s)")
        self.what = {"target": _("Target"), "actual": _("Actual")}
        self.locked_suffix = " · " + _e(_("locked"))
        self.no_period = f'<td class="cell cell-none"><span class="vh">{_e(_("No period"))}</span></td>'
        self.note_mark = f'<i class="nm" title="{_e(_("Has a narrative or variance explanation"))}">✎</i>'
        self.open_current = _e(_("Open the current version"))
        self.states = {state: _e(str(label)) for state, label in PERIOD_STATE_LABELS.items()}
        self.hints = {unit: str(hint) for unit, hint in UNIT_HINTS.items()}
        self.unit_labels = {unit: str(label) for unit, label in UNIT_LABELS.items()}
        self.status_labels = {status: _e(str(label)) for status, label in STATUS_LABELS.items()}
        self.of_target_to_date = _("of %(target)s to date")
        self.of_target = _("of %(target)s")
        self.no_report = _e(_("No report yet"))
        self.period_to = _("%(start)s to %(end)s")  # a column's dates, in its header
        self.cumulative = {True: ", " + _e(_("cumulative")), False: ", " + _e(_("not cumulative"))}
        self.by_dimensions = _("by %(dimensions)s")  # the pattern: filled per indicator below
        self.indicator_url = url_for("results.indicator", project_id=g.project.id, indicator_id=0)[:-1]
        self._labels = {}  # period (start, end) -> its escaped short name
        self._values = {}  # (unit, number, shown) -> the figure, escaped

    @classmethod
    def for_request(cls) -> GridCells:
        """One per request (kept on ``g``): a bulk approval sends several cells back at once."""
        cells = g.get("_grid_cells")
        if cells is None:
            cells = g._grid_cells = cls(can("framework.edit"), can("indicator.actual"),
                                        url_for("results.period", project_id=g.project.id, period_id=0)[:-1])
        return cells

    def name(self, indicator) -> Markup:
        """The row group's header: code, title (a link to the indicator), unit, cumulative or
        not, and the dimensions of its breakdown."""
        unit = self.unit_labels.get(indicator.unit, indicator.unit)
        more = "" if indicator.unit == "qualitative" else self.cumulative[bool(indicator.cumulative)]
        if indicator.dimension_names:
            more += ", " + _e(self.by_dimensions % {"dimensions": ", ".join(indicator.dimension_names)})
        return Markup(f'<th scope="rowgroup" rowspan="2" class="grid-name">\n'
                      f'        <span class="code">{_e(indicator.code)}</span> <a href="{self.indicator_url}'
                      f'{indicator.id}">{_e(indicator.title)}</a>\n'
                      f'        <span class="unit">{_e(unit)}{more}</span>\n      </th>')

    def _period_label(self, period) -> str:
        key = (period.start_date, period.end_date)
        label = self._labels.get(key)
        if label is None:
            label = self._labels[key] = _e(period_label(*key))
        return label

    def _label_parts(self, indicator, kind: str) -> tuple[str, str]:
        """The input's label of this row before and after the period's name, escaped."""
        label = _e(self.label_format % {"what": self.what[kind], "code": indicator.code, "title": indicator.title,
                                        "period": _MARK, "hint": self.hints.get(indicator.unit, "")})
        before, _mark, after = label.partition(_MARK)
        return before, after

    def _value(self, indicator, number, text, shown: bool) -> str:
        """A period's value, escaped, as the input holds it or (``shown``) as text; the figures
        of a page repeat, so each is formatted once (by ``values``: the one rule)."""
        if indicator.unit == "qualitative":
            return _e(text or "")
        if number is None:
            return ""
        key = (indicator.unit, number, shown)
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = _e(show_value(indicator, number) if shown else input_value(indicator, number))
        return value

    def summary(self, progress, oob=False) -> Markup:
        """An indicator's figures to date (value, of target, % of target, status): the grid's
        "To date" cell, swapped out of band after a cell of the indicator is saved."""
        i = progress.indicator
        end = ' hx-swap-oob="true">' if oob else ">"
        html = f'<td id="summary-{i.id}" class="grid-summary" rowspan="2"{end}'
        if i.unit == "qualitative":
            text = progress.text_to_date
            shown = _e(do_truncate(current_app.jinja_env, text, 60)) if text else self.no_report
            return Markup(f'{html}<span class="muted">{shown}</span></td>')
        target = show_value(i, progress.target_to_date) or "–"
        of_target = (self.of_target_to_date if i.cumulative else self.of_target) % {"target": target}
        return Markup(f'{html}<span class="to-date">{_e(show_value(i, progress.value_to_date) or "–")}</span>'
                      f' <span class="muted">{_e(of_target)}</span><br>'
                      f'<span class="pct">{_e(percent(progress.pct_of_target_to_date))}</span>'
                      f' <span class="badge badge-{progress.status.replace("_", "-")}">'
                      f'{self.status_labels.get(progress.status, "")}</span></td>')

    def row(self, indicator, cells, kind: str) -> Markup:
        """The cells of one row (``cells``: a period or None per column) of ``kind`` (target or actual)."""
        return Markup("".join(self._cells(indicator, cells, kind)))

    def render(self, indicator, cells, kind: str, *, raw=None, error=None, conflict=False, oob=False) -> Markup:
        """A cell sent back alone: after a save (``raw`` and ``error`` when refused), or out of band."""
        return Markup("".join(self._cells(indicator, cells, kind, raw=raw, error=error, conflict=conflict, oob=oob)))

    def _cells(self, indicator, cells, kind, raw=None, error=None, conflict=False, oob=False) -> list[str]:
        editable = self.may[kind]
        target = kind == "target"
        short = kind[0]
        unit = indicator.unit
        input_attrs = ' class="cell-input cell-text"' if unit == "qualitative" else ' class="cell-input"'
        decimal = ' inputmode="decimal"' if unit in ("number", "percent") else ""
        td_end = (' hx-swap-oob="true">' if oob else ">")
        td_class = ' class="cell has-error"' if error else ' class="cell"'
        before = after = None
        url = self.periods_url
        value = self._value
        out = []
        for period in cells:
            if period is None:
                out.append(self.no_period)
                continue
            pid = period.id
            plabel = self._labels.get((period.start_date, period.end_date)) or self._period_label(period)
            if target:
                number, text = period.target, period.target_text
                html = f'<td id="cell-{pid}-target"{td_class} data-p="{plabel}"{td_end}'
            else:
                number, text = period.actual, period.actual_text
                html = f'<td id="cell-{pid}-actual"{td_class}{td_end}'
            locked = period.state == "approved"
            if editable and not locked:
                if before is None:
                    before, after = self._label_parts(indicator, kind)
                iid = f"i{pid}{short}"
                saved = value(indicator, number, text, False)
                html += f'<label class="vh" for="{iid}">{before}{plabel}{after}</label><input id="{iid}"{input_attrs}'
                if error:
                    html += (f' value="{_e(raw or "")}" data-v="{period.version}"{decimal} data-saved="{saved}"'
                             f' aria-invalid="true" aria-describedby="{iid}e">')
                else:
                    html += f' value="{saved}" data-v="{period.version}"{decimal}>'
            else:
                html += value(indicator, number, text, True) or "–"
            if error:
                link = f' <a href="{url}{pid}">{self.open_current}</a>' if conflict else ""
                html += f'<p class="cell-error" id="i{pid}{short}e" role="alert">{_e(error)}{link}</p>'
            if not target:
                html += (f'<a class="st-{period.state}" href="{url}{pid}">{self.states.get(period.state, "")}'
                         f'{self.locked_suffix if locked else ""}</a>')
                noted = getattr(period, "noted", None)  # grid rows carry it; a model period has the texts
                if noted is None:
                    noted = period.narrative or period.variance_explanation
                if noted:
                    html += self.note_mark
            out.append(html + "</td>")
        return out
