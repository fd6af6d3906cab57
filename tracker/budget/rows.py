"""The budget page's line rows as ready-made text (one pass in Python per page of lines).

A row shows seven figures and two translated labels; written by the template cell by cell it
cost about as much as the rest of the page. Here each row's strings are made once, with the
shared formatters (``tracker.formatting``) and the translations looked up once per page, and
the template (``budget/_line_macros.html``) only places them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from .. import formatting as fmt
from .figures import LineTotals


@dataclass(frozen=True)
class LineRowView:
    id: int
    code: str
    description: str
    illustrative: bool
    meta: str  # category, and the donor's account code when there is one
    original: str
    revised: str  # "" when the line has no revision
    committed: str
    disbursed: str
    balance: str
    used: str
    bar_pct: int
    bar_label: str
    overspent: bool


def line_row_views(totals: list[LineTotals]) -> list[LineRowView]:
    """One ``LineRowView`` per line, in the same order."""
    if not totals:
        return []
    # The translations, looked up once (gettext without arguments returns the pattern itself).
    account, used_label = _("account %(code)s"), _("%(code)s used: %(pct)s")
    amount, percent = fmt.amount, fmt.percent
    views = []
    for t in totals:
        line = t.line
        used = percent(t.pct_used, 1)
        meta = line.category_label
        if line.account_code:
            meta = f"{meta} · {account % {'code': line.account_code}}"
        views.append(LineRowView(
            id=line.id, code=line.code, description=line.description, illustrative=bool(line.illustrative),
            meta=meta, original=amount(t.original_cents),
            revised="" if line.revised_cents is None else amount(line.revised_cents),
            committed=amount(t.committed_cents), disbursed=amount(t.disbursed_cents),
            balance=amount(t.balance_cents), used=used, bar_pct=t.bar_pct,
            bar_label=used_label % {"code": line.code, "pct": used}, overspent=t.overspent))
    return views


@dataclass(frozen=True)
class ExpenditureRowView:
    id: int
    voucher: str
    over_budget: bool  # booked past its line's budget, with a justification
    day: str
    outside_period: bool
    line_code: str
    payee: str
    amount: str
    original: str  # "1,234 VND" when paid in another currency, else ""
    rate: str  # "at 22,350" with it
    status: str
    evidence: str  # "2 items", or "" for none


def expenditure_row_views(rows, project) -> list[ExpenditureRowView]:
    """One ``ExpenditureRowView`` per row of ``figures.expenditures_page``, in the same order."""
    from flask_babel import ngettext

    from ..models.budget import EXPENDITURE_STATUS_LABELS

    rate_pattern = _("at %(rate)s")
    statuses: dict[str, str] = {}
    counts: dict[int, str] = {}
    start, end = project.start_date, project.end_date
    views = []
    for row in rows:
        status = statuses.get(row.status)
        if status is None:
            status = statuses[row.status] = str(EXPENDITURE_STATUS_LABELS.get(row.status, row.status))
        evidence = ""
        if row.evidence:
            evidence = counts.get(row.evidence)
            if evidence is None:
                evidence = counts[row.evidence] = ngettext("%(num)s item", "%(num)s items", row.evidence)
        foreign = row.original_amount is not None
        views.append(ExpenditureRowView(
            id=row.id, voucher=row.voucher, over_budget=bool(row.overspend_justification), day=fmt.day(row.spent_on),
            outside_period=row.spent_on < start or row.spent_on > end, line_code=row.code, payee=row.payee or "",
            amount=fmt.amount(row.amount_cents),
            original=f"{fmt.number(row.original_amount)} {row.original_currency}" if foreign else "",
            rate=rate_pattern % {"rate": fmt.number(row.exchange_rate)} if foreign else "",
            status=status, evidence=evidence))
    return views


def line_filter_options(lines, selected) -> Markup:
    """The ``<option>``s of the expenditures' line filter (one per line of ``lines_for_choice``),
    written in one pass: a template loop with a filter per option cost a millisecond on a
    project of 200 lines."""
    from flask import current_app
    from jinja2.filters import do_truncate

    env = current_app.jinja_env
    return Markup("".join(
        f'<option value="{line_id}"{" selected" if line_id == selected else ""}>'
        f"{escape(code)} {escape(do_truncate(env, description or '', 50))}</option>"
        for line_id, code, description in lines))
