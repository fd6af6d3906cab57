"""The budget page's line rows as ready-made text (one pass in Python per page of lines).

A row shows seven figures and two translated labels; written by the template cell by cell it
cost about as much as the rest of the page. Here each row's strings are made once, with the
shared formatters (``tracker.formatting``) and the translations looked up once per page, and
the template (``budget/_line_macros.html``) only places them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

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
