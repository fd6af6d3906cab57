"""The evidence form's link pickers: searchable checkbox lists, one per kind of target.

An item links to activities, indicator periods, results and expenditures (``EvidenceLink``).
A project can have thousands of indicator periods and expenditures, so the form does not list
them all: each picker shows the targets already checked (always, so they are submitted again
and never dropped by a search) and then at most ``LIMIT`` others matching the search words,
with how many more match ("refine your search"). With htmx the search box asks for the list
as the person types (``routes.link_options``); without JavaScript its Search button posts the
form back, which is drawn again with the new list (``routes._save``).

One query per picker (the checked rows and the matches, ordered checked first, with a window
count of every row that qualifies), whatever the number of rows; no query per option.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import String, and_, case, cast, false, func, or_, select, true

from ..extensions import db
from ..formatting import money
from ..models import Activity, Expenditure, Indicator, IndicatorPeriod, ResultNode
from ..models.evidence import LINK_TARGETS
from ..validation import code_key, parse_id

LIMIT = 50  # unchecked options shown at most; beyond, "refine your search"
MAX_QUERY = 200


def _short(text: str, length: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


@dataclass
class Option:
    id: int
    label: str
    checked: bool


@dataclass
class Picker:
    """One target's checkbox list: ``options`` (checked first), ``total`` rows that qualify."""

    target: str
    q: str
    options: list[Option] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        """Rows that match but are not shown: the person should refine the search."""
        return max(0, self.total - len(self.options))

    @property
    def checked_count(self) -> int:
        return sum(1 for option in self.options if option.checked)


def clean_query(raw) -> str:
    return " ".join(str(raw or "").split())[:MAX_QUERY]


def checked_ids(values) -> list[int]:
    """The checked ids sent by a form or a search (anything not an id is ignored here; the
    service refuses it when the form is saved)."""
    ids = []
    for value in values or ():
        parsed = parse_id(value)
        if parsed is not None and parsed not in ids:
            ids.append(parsed)
    return ids


def _spec(target: str):
    """(model, columns, searched columns, joins, order) of one kind of target."""
    if target == "activity":
        return (Activity, (Activity.code, Activity.title), (Activity.code, Activity.title), (),
                (Activity.position, Activity.code, Activity.id))
    if target == "period":
        return (IndicatorPeriod, (Indicator.code, Indicator.title, IndicatorPeriod.start_date, IndicatorPeriod.end_date),
                (Indicator.code, Indicator.title, cast(IndicatorPeriod.start_date, String),
                 cast(IndicatorPeriod.end_date, String)),
                ((Indicator, IndicatorPeriod.indicator_id == Indicator.id),),
                (Indicator.position, Indicator.code, IndicatorPeriod.start_date, IndicatorPeriod.id))
    if target == "result":
        return (ResultNode, (ResultNode.code, ResultNode.statement), (ResultNode.code, ResultNode.statement), (),
                (ResultNode.code, ResultNode.id))
    if target == "expenditure":
        return (Expenditure, (Expenditure.voucher, Expenditure.payee, Expenditure.amount_cents, Expenditure.spent_on),
                (Expenditure.voucher, Expenditure.payee, Expenditure.description, cast(Expenditure.spent_on, String)),
                (), (Expenditure.spent_on.desc(), Expenditure.id.desc()))  # newest spending first
    raise ValueError(f"unknown link target {target!r}")


def _label(target: str, row) -> str:
    if target == "activity":
        return f"{row.code} {_short(row.title)}"
    if target == "period":
        return f"{row.code} {row.start_date.isoformat()} – {row.end_date.isoformat()} · {_short(row.title, 50)}"
    if target == "result":
        return f"{row.code} {_short(row.statement)}"
    return (f"{row.voucher} · {row.spent_on.isoformat()} · {money(row.amount_cents)}"
            f"{' · ' + _short(row.payee, 40) if row.payee else ''}")


def picker(project_id: int, target: str, q: str = "", checked=(), limit: int = LIMIT) -> Picker:
    """The checked targets of ``target`` kind, then up to ``limit`` others matching every word of
    ``q`` (in code, title, dates; for spending voucher, payee, description), in one query."""
    model, columns, searched, joins, order = _spec(target)
    q = clean_query(q)
    checked = checked_ids(checked)
    is_checked = model.id.in_(checked) if checked else false()
    words = q.split()
    matches = and_(*(or_(*(column.icontains(word, autoescape=True) for column in searched)) for word in words)) \
        if words else true()
    query = select(model.id, *columns, case((is_checked, 1), else_=0).label("is_checked"),
                   func.count().over().label("total"))
    for joined, on in joins:
        query = query.join(joined, on)
    query = query.where(model.project_id == project_id, or_(is_checked, matches))
    if target == "result":  # a framework has tens of results: sorted as codes (1.2 before 1.10) here
        rows = db.session.execute(query).all()
        rows.sort(key=lambda r: (-r.is_checked, code_key(r.code)))
        rows = rows[: len(checked) + limit]
    else:
        rows = db.session.execute(
            query.order_by(case((is_checked, 0), else_=1), *order).limit(len(checked) + limit)).all()
    # Only ``limit`` unchecked rows are shown, however many checked ids were sent.
    options, unchecked = [], 0
    for row in rows:
        if not row.is_checked:
            unchecked += 1
            if unchecked > limit:
                continue
        options.append(Option(row.id, _label(target, row), bool(row.is_checked)))
    total = rows[0].total if rows else 0
    return Picker(target, q, options, total)


def pickers(project_id: int, links: dict[str, list[int]], queries: dict[str, str] | None = None) -> dict[str, Picker]:
    """The form's four pickers (four queries)."""
    queries = queries or {}
    return {name: picker(project_id, name, queries.get(name, ""), links.get(name) or ()) for name in LINK_TARGETS}


def status_text(p: Picker) -> str:
    """What the list shows, for the live region beside it."""
    if p.more:
        return _("%(shown)s of %(total)s shown. Refine your search to find the others.",
                 shown=len(p.options), total=p.total)
    if not p.options:
        return _("Nothing matches “%(q)s”.", q=p.q) if p.q else _("Nothing to link yet.")
    if p.q:
        return _("%(count)s shown for “%(q)s” (checked ones first).", count=len(p.options), q=p.q)
    return _("%(count)s shown.", count=len(p.options))
