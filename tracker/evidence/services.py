"""Rules of the evidence register and the auditor's review.

* An **evidence item** (report, agenda, press clipping, receipt...) has an optional uploaded
  file (see ``storage``) and links to any number of activities, indicator periods, results
  and expenditures: one ``EvidenceLink`` row per link, exactly one target set on each.
* **Review.** An item is *waiting for review* (``pending``), *verified* or *queried* (with a
  note saying what is missing). Every review is written to the audit trail with
  ``trail.record`` (as well as the row change the session hook writes). Editing an item
  that was verified or queried sends it back to *waiting for review*: what the auditor
  checked is no longer what is there. The last note stays visible so the officer can see
  what was asked.
* **Soft delete.** Deleting sets ``deleted_at``; the item leaves the register, the coverage
  figures and every list, but stays readable under the "Deleted" filter and in the trail,
  and can be restored.
* **Coverage** (auditor's workspace): the share of *disbursed* dollars whose expenditure is
  linked to at least one verified, not deleted item; and the share of indicator periods with
  a reported actual (a number or a text) that are linked to at least one not deleted item
  (also shown counting verified items only).

For other pages: ``evidence_for(project_id, activities=[...], periods=[...])`` fetches the
evidence of many targets in one query; render one target's list with
``{% with evidence_items=evidence.activity(a.id) %}{% include "evidence/_evidence_list.html" %}{% endwith %}``.
``queried_items(project_id)`` lists what the auditor queried (for the officer's week page).
These read queries are imported by other areas (budget, results, progress, projects);
this module imports no other area, so the dependency goes one way only.

The labels of review states, link targets and languages are the models' maps
(``tracker.models.evidence``); forms, pages and exports all use those.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import notices, paging
from ..audit import trail
from ..concurrency import check_version, touch
from ..extensions import db
from ..formatting import money
from ..models import (
    EVIDENCE_KINDS,
    REVIEW_STATES,
    Activity,
    AuditEvent,
    BudgetLine,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNode,
)
from ..models.evidence import LANGUAGE_LABELS, LINK_TARGET_LABELS, LINK_TARGETS
from ..validation import InputError, check_near_project, clean_text, code_key, parse_date, parse_id, raise_if
from . import storage

TARGETS = LINK_TARGETS  # the four things a link can back up, in their order
FILTER_STATES = (*REVIEW_STATES, "deleted")
# The register's "Backs up" filter: a linked target, or "line": spending on a budget line (the
# list offers budget lines rather than every expenditure, which would grow with the spending).
FILTER_TARGETS = (*TARGETS, "line")
DECISIONS = ("verified", "queried")  # what a review can decide
# A link to something outside the project (one message per kind of target).
LINK_ERRORS = {
    "activity": _l("Some of the chosen activity links are not in this project."),
    "period": _l("Some of the chosen indicator period links are not in this project."),
    "result": _l("Some of the chosen result links are not in this project."),
    "expenditure": _l("Some of the chosen expenditure links are not in this project."),
}


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------- describing links


def link_target(link: EvidenceLink) -> tuple[str, int]:
    for name in TARGETS:
        value = getattr(link, f"{name}_id")
        if value is not None:
            return name, value
    raise ValueError("an evidence link without a target")


def period_label(period: IndicatorPeriod) -> str:
    return f"{period.indicator.code} {period.start_date.isoformat()} – {period.end_date.isoformat()}"


def link_label(link: EvidenceLink) -> str:
    """'Activity A1.4', 'Indicator 1.1.b 2016-07-01 – 2016-12-31', 'Result 1.1.2', 'Expenditure V-2016-003'."""
    kind, _target_id = link_target(link)
    if kind == "activity":
        return _("Activity %(code)s", code=link.activity.code)
    if kind == "period":
        return _("Indicator %(period)s", period=period_label(link.period))
    if kind == "result":
        return _("Result %(code)s", code=link.result.code)
    return _("Expenditure %(voucher)s", voucher=link.expenditure.voucher)


def _link_options():
    """Loader options so that a list of items shows its links without further queries."""
    return (
        selectinload(EvidenceItem.links).options(
            joinedload(EvidenceLink.activity), joinedload(EvidenceLink.result),
            joinedload(EvidenceLink.expenditure),
            joinedload(EvidenceLink.period).joinedload(IndicatorPeriod.indicator)),
        joinedload(EvidenceItem.file),
        joinedload(EvidenceItem.reviewed_by),
    )


# --------------------------------------------------------------------------------------------- choices for forms


@dataclass
class LinkChoices:
    activities: list[tuple[int, str]]
    periods: list[tuple[int, str]]
    results: list[tuple[int, str]]
    expenditures: list[tuple[int, str]]


def link_choices(project_id: int, linked_only: bool = False, expenditure_ids=None) -> LinkChoices:
    """Everything an item can link to, labelled, in four queries; with ``linked_only``, only
    what some evidence already backs (the register's filter reads no more than that)."""

    def linked(model, column):
        if not linked_only:
            return model.project_id == project_id
        return model.id.in_(select(column).where(EvidenceLink.project_id == project_id, column.is_not(None)))

    activities = db.session.execute(
        select(Activity.id, Activity.code, Activity.title)
        .where(Activity.project_id == project_id, linked(Activity, EvidenceLink.activity_id))
        .order_by(Activity.position, Activity.code)).all()
    periods = db.session.execute(
        select(IndicatorPeriod.id, Indicator.code, IndicatorPeriod.start_date, IndicatorPeriod.end_date)
        .join(Indicator, IndicatorPeriod.indicator_id == Indicator.id)
        .where(IndicatorPeriod.project_id == project_id, linked(IndicatorPeriod, EvidenceLink.period_id))
        .order_by(Indicator.position, Indicator.code, IndicatorPeriod.start_date)).all()
    results = db.session.execute(
        select(ResultNode.id, ResultNode.code, ResultNode.statement)
        .where(ResultNode.project_id == project_id, linked(ResultNode, EvidenceLink.result_id))).all()
    only = [] if expenditure_ids is None else [Expenditure.id.in_(expenditure_ids)]  # a few, by id
    expenditures = [] if expenditure_ids == [] else db.session.execute(  # none asked: no query at all
        select(Expenditure.id, Expenditure.voucher, Expenditure.payee, Expenditure.amount_cents)
        .where(Expenditure.project_id == project_id, linked(Expenditure, EvidenceLink.expenditure_id), *only)
        .order_by(Expenditure.spent_on, Expenditure.voucher)).all()
    return LinkChoices(
        activities=[(a.id, f"{a.code} {_short(a.title)}") for a in activities],
        periods=[(p.id, f"{p.code} {p.start_date.isoformat()} – {p.end_date.isoformat()}") for p in periods],
        results=[(r.id, f"{r.code} {_short(r.statement)}")
                 for r in sorted(results, key=lambda r: code_key(r.code))],
        expenditures=[(e.id, f"{e.voucher} · {money(e.amount_cents)}{' · ' + _short(e.payee, 40) if e.payee else ''}")
                      for e in expenditures],
    )


def _short(text: str, length: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


_OPTIONS = trail.StampedMemo()


def linked_target_options(project_id: int, current: str = "") -> list[tuple[str, str]]:
    """The register filter's options (``_target_options``), remembered until the data changes:
    every visit to the register asks for them, and only a new or removed link changes them."""
    return _OPTIONS.get((project_id, str(get_locale()), current), lambda: _target_options(project_id, current))


def _target_options(project_id: int, current: str = "") -> list[tuple[str, str]]:
    """Filter options: only the targets that have evidence, as ("activity:12", "Activity A1.4 ..."), at most 80 characters;
    spending by budget line ("line:3", "Spending on budget line BL3 ..."), not expenditure by
    expenditure; plus the ``current`` filter's expenditure when one is chosen (a bookmark).

    Reads only the linked targets (not every period of the framework)."""
    chosen = current.partition(":")[2] if current.startswith("expenditure:") else ""
    choices = link_choices(project_id, linked_only=True, expenditure_ids=[int(chosen)] if chosen.isdigit() else [])
    options = []
    for name, pairs in (("activity", choices.activities), ("result", choices.results),
                        ("period", choices.periods)):
        label_of = str(LINK_TARGET_LABELS[name])
        options.extend((f"{name}:{target_id}", f"{label_of} {label}") for target_id, label in pairs)
    lines = db.session.execute(
        select(BudgetLine.id, BudgetLine.code, BudgetLine.description)
        .where(BudgetLine.project_id == project_id, BudgetLine.id.in_(
            select(Expenditure.line_id).join(EvidenceLink, EvidenceLink.expenditure_id == Expenditure.id)
            .where(EvidenceLink.project_id == project_id)))
        .order_by(BudgetLine.position, BudgetLine.code)).all()
    spending_on = _("Spending on budget line %(line)s")  # the pattern, translated once for every line
    options.extend((f"line:{line.id}", spending_on % {"line": f"{line.code} {_short(line.description)}"})
                   for line in lines)
    expenditure = str(LINK_TARGET_LABELS["expenditure"])
    options.extend((f"expenditure:{target_id}", f"{expenditure} {label}") for target_id, label in choices.expenditures)
    return [(value, _short(label, 80)) for value, label in options]  # a select's option stays one line


# --------------------------------------------------------------------------------------------- creating and editing


def _check_fields(data: dict) -> dict:
    errors: dict[str, str] = {}
    kind = data.get("kind") or ""
    if kind not in EVIDENCE_KINDS:
        errors["kind"] = _("Choose what kind of evidence this is.")
    title = " ".join(clean_text(data.get("title")).split())
    if not title:
        errors["title"] = _("A title is required.")
    elif len(title) > 500:
        errors["title"] = _("A title has at most 500 characters.")
    dated = None
    try:
        dated = parse_date(data.get("dated"), label=_("The date"))
    except InputError as error:
        errors["dated"] = str(error)
    source = clean_text(data.get("source"))
    if len(source) > 200:
        errors["source"] = _("The source has at most 200 characters.")
    url = clean_text(data.get("url"))
    if url:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            errors["url"] = _("A link starts with http:// or https://, for example %(example)s",
                              example="https://www.un.org.vn/...")
        elif len(url) > 1000:
            errors["url"] = _("A link has at most 1,000 characters.")
    language = clean_text(data.get("language"))
    if language not in LANGUAGE_LABELS:
        errors["language"] = _("Choose a language from the list.")
    raise_if(errors)
    return {"kind": kind, "title": title, "dated": dated, "source": source, "url": url, "language": language,
            "description": clean_text(data.get("description"))}


def _check_links(project_id: int, links: dict[str, list[int]]) -> set[tuple[str, int]]:
    """Turn {"activity": [ids], ...} into {(kind, id)}, every id checked to belong to the project."""
    models = {"activity": Activity, "period": IndicatorPeriod, "result": ResultNode, "expenditure": Expenditure}
    wanted: set[tuple[str, int]] = set()
    errors: dict[str, str] = {}
    for name in TARGETS:
        raw = list(links.get(name) or [])
        ids = {parse_id(i) for i in raw}
        if not raw:
            continue
        model = models[name]
        valid = {i for i in ids if i is not None}
        found = set(db.session.execute(
            select(model.id).where(model.project_id == project_id, model.id.in_(valid))).scalars()) if valid else set()
        if found != ids:
            errors[f"{name}_ids"] = str(LINK_ERRORS[name])
        wanted |= {(name, i) for i in found}
    raise_if(errors)
    return wanted


def _set_links(item: EvidenceItem, wanted: set[tuple[str, int]]) -> bool:
    """Make the item's links exactly ``wanted``; True when anything changed.

    An approved (locked) indicator period keeps its evidence as it was approved: linking to
    it or unlinking from it is refused, like any other change to the period.
    """
    current = {link_target(link): link for link in item.links}
    touched = [i for name, i in set(current) ^ wanted if name == "period"]
    if touched:
        locked = db.session.execute(select(IndicatorPeriod).where(
            IndicatorPeriod.id.in_(touched), IndicatorPeriod.state == "approved")).scalars().first()
        if locked is not None:
            raise InputError(_("The period %(period)s is approved and locked: its evidence cannot be linked or "
                               "unlinked until a manager unlocks it. Nothing was saved.", period=period_label(locked)),
                             field="period_ids")
    changed = False
    for key, link in current.items():
        if key not in wanted:
            item.links.remove(link)
            changed = True
    for name, target_id in sorted(wanted - set(current)):
        item.links.append(EvidenceLink(project_id=item.project_id, **{f"{name}_id": target_id}))
        changed = True
    return changed


def _check_all(project_id: int, data: dict, links: dict[str, list[int]]):
    """Every problem with the fields and the links at once."""
    errors: dict[str, str] = {}
    values = wanted = None
    try:
        values = _check_fields(data)
        if values.get("dated") is not None:  # a report or clipping can follow the project, not by decades
            project = db.session.get(Project, project_id)
            check_near_project(values["dated"], project.start_date, project.end_date, label=_("The date"), years=2,
                               field="dated")
    except InputError as error:
        errors.update(error.errors)
    try:
        wanted = _check_links(project_id, links)
    except InputError as error:
        errors.update(error.errors)
    raise_if(errors)
    return values, wanted


def create_item(project, data: dict, links: dict[str, list[int]], upload=None, user=None) -> EvidenceItem:
    """Add an evidence item with its links; ``upload`` is a ``storage.Upload`` or None."""
    values, wanted = _check_all(project.id, data, links)
    item = EvidenceItem(project_id=project.id, created_by_id=getattr(user, "id", None), **values)
    if upload is not None:
        item.file_id, item.file_name = upload.stored.id, upload.file_name
    db.session.add(item)
    _set_links(item, wanted)
    db.session.flush()
    return item


def update_item(item: EvidenceItem, data: dict, links: dict[str, list[int]], upload=None,
                remove_file: bool = False, *, version=None, user=None) -> EvidenceItem:
    """Change an item; a reviewed item goes back to waiting for review when anything changed.

    ``version`` is the item's version when the form was opened: a form older than the last
    change (of the item or of its links) is refused with who changed it and when. None means a
    caller without a form (a script, the tests); a form always sends its field ("" if missing).
    """
    if version is not None:
        check_version(item, version, _("This evidence item"))
    values, wanted = _check_all(item.project_id, data, links)
    changed = False
    for key, value in values.items():
        if getattr(item, key) != value:
            setattr(item, key, value)
            changed = True
    if upload is not None:
        if (item.file_id, item.file_name) != (upload.stored.id, upload.file_name):
            item.file_id, item.file_name = upload.stored.id, upload.file_name
            changed = True
    elif remove_file and item.file_id is not None:
        item.file_id, item.file_name = None, ""
        changed = True
    changed = _set_links(item, wanted) or changed
    if changed and item.review_state != "pending":
        item.review_state = "pending"
    if changed:
        touch(item, user)  # the version grows with a change of links too
    db.session.flush()
    return item


def save_item(project, item: EvidenceItem | None, data: dict, links: dict[str, list[int]], *, file=None,
              remove_file: bool = False, user=None, version=None, file_field: str = "file") -> EvidenceItem:
    """Store the chosen ``file`` (a werkzeug FileStorage, if any), then create the item (``item``
    None) or update it; the file's problems and the fields' are reported at once, the file's
    next to ``file_field`` (the form's file input, or its "Take a photo" input).

    A file above the size limit stops at once with ``storage.UploadTooLarge`` (answered 413).
    """
    errors: dict[str, str] = {}
    upload = None
    if file is not None and getattr(file, "filename", ""):
        try:
            upload = storage.store_upload(file)
        except storage.UploadTooLarge as error:
            raise storage.UploadTooLarge(str(error), field=file_field) from None
        except InputError as error:
            errors[file_field] = str(error)
    saved = None
    try:
        if item is None:
            saved = create_item(project, data, links, upload, user)
        else:
            saved = update_item(item, data, links, upload, remove_file=remove_file, version=version, user=user)
    except InputError as error:
        errors.update(error.errors)
    raise_if(errors)
    return saved


def soft_delete(item: EvidenceItem) -> None:
    if item.deleted_at is None:
        item.deleted_at = _now()
        db.session.flush()


def restore(item: EvidenceItem) -> None:
    if item.deleted_at is not None:
        item.deleted_at = None
        db.session.flush()


def review(item: EvidenceItem, decision: str, note: str, user) -> EvidenceItem:
    """Verify or query an item, with a note (required for a query); recorded in the audit trail."""
    note = clean_text(note)
    if item.deleted_at is not None:
        raise InputError(_("This item was deleted; restore it before reviewing it."), field="")
    if decision not in DECISIONS:
        raise InputError(_("Choose Verify or Query."), field="")
    if decision == "queried" and not note:
        raise InputError(_("Say what is missing or wrong, so the officer can answer the query."), field="note")
    if len(note) > 2000:
        raise InputError(_("A note has at most 2,000 characters."), field="note")
    before = (item.review_state, item.review_note)
    item.review_state, item.review_note = decision, note
    item.reviewed_at, item.reviewed_by_id = _now(), getattr(user, "id", None)
    db.session.flush()
    trail.record(db.session, "evidence.review", table_name="evidence_item", row_id=item.id,
                 project_id=item.project_id,
                 changes={"review_state": [before[0], decision], "review_note": [before[1], note],
                          "title": item.title})
    if decision == "queried":
        notices.evidence_queried(item, user)  # e-mail to the officers, sent after the commit
    return item


def review_history(item: EvidenceItem) -> list[dict]:
    """The item's reviews, oldest first, from the audit trail."""
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.table_name == "evidence_item", AuditEvent.row_id == item.id,
                                 AuditEvent.action == "evidence.review").order_by(AuditEvent.id)).scalars()
    history = []
    for event in events:
        changes = json.loads(event.changes or "{}")
        history.append({"at": event.created_at, "who": event.actor_label,
                        "state": (changes.get("review_state") or [None, ""])[1],
                        "note": (changes.get("review_note") or [None, ""])[1]})
    return history


# --------------------------------------------------------------------------------------------- loading


def get_item(project_id: int, item_id: int, *, include_deleted: bool = True) -> EvidenceItem | None:
    """One item of this project with its links and file (None when it belongs elsewhere)."""
    if parse_id(item_id) is None:
        return None
    item = db.session.execute(
        select(EvidenceItem).options(*_link_options())
        .where(EvidenceItem.id == item_id, EvidenceItem.project_id == project_id)).scalar()
    if item is not None and item.deleted_at is not None and not include_deleted:
        return None
    return item


@dataclass
class Filters:
    q: str = ""
    kind: str = ""
    link: str = ""
    state: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        kind = args.get("kind", "")
        state = args.get("state", "")
        link = args.get("link", "")
        if link != "none":
            name, _, raw_id = link.partition(":")
            link = link if name in FILTER_TARGETS and raw_id.isdigit() and parse_id(raw_id) else ""
        page = paging.page_arg(args)
        return cls(q=(args.get("q") or "").strip()[:200], kind=kind if kind in EVIDENCE_KINDS else "",
                   link=link, state=state if state in FILTER_STATES else "", page=page)

    def query_string(self, **override) -> str:
        values = {"q": self.q, "kind": self.kind, "link": self.link, "state": self.state, "page": self.page}
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v and not (k == "page" and v == 1)})

    @property
    def active(self) -> bool:
        return bool(self.q or self.kind or self.link or self.state)


@dataclass
class SearchResult:
    items: list[EvidenceItem]
    total: int
    page: int
    page_size: int
    filters: Filters

    @property
    def pages(self) -> int:
        return paging.page_count(self.total, self.page_size)

    @property
    def first(self) -> int:
        return 0 if not self.total else paging.offset(self.page, self.page_size) + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


def search(project_id: int, filters: Filters, page_size: int = 50) -> SearchResult:
    """The register: items matching every filter, newest first, one page (three queries)."""
    conditions = [EvidenceItem.project_id == project_id]
    if filters.state == "deleted":
        conditions.append(EvidenceItem.deleted_at.is_not(None))
    else:
        conditions.append(EvidenceItem.deleted_at.is_(None))
        if filters.state:
            conditions.append(EvidenceItem.review_state == filters.state)
    if filters.kind:
        conditions.append(EvidenceItem.kind == filters.kind)
    for word in filters.q.split():
        conditions.append(or_(*(column.icontains(word, autoescape=True) for column in (
            EvidenceItem.title, EvidenceItem.source, EvidenceItem.description, EvidenceItem.file_name,
            EvidenceItem.url))))
    if filters.link == "none":
        conditions.append(~exists().where(EvidenceLink.evidence_id == EvidenceItem.id))
    elif filters.link.startswith("line:"):
        conditions.append(exists().where(EvidenceLink.evidence_id == EvidenceItem.id,
                                         EvidenceLink.expenditure_id == Expenditure.id,
                                         Expenditure.line_id == int(filters.link.partition(":")[2])))
    elif filters.link:
        name, _, raw_id = filters.link.partition(":")
        conditions.append(exists().where(EvidenceLink.evidence_id == EvidenceItem.id,
                                         getattr(EvidenceLink, f"{name}_id") == int(raw_id)))
    total = db.session.execute(select(func.count()).select_from(EvidenceItem).where(*conditions)).scalar()
    page = paging.clamp(filters.page, total, page_size)
    # Undated last: written NULLS LAST (not "dated IS NULL" first) so an index on (project_id,
    # deleted_at, dated, id) gives the page without sorting every item.
    order = (EvidenceItem.dated.desc().nulls_last(), EvidenceItem.id.desc())
    # The page's ids are chosen on the items alone; only those 25 are joined to their file and reviewer
    # (joined before the sort, every item of the project would be).
    page_ids = (select(EvidenceItem.id).where(*conditions).order_by(*order)
                .limit(page_size).offset(paging.offset(page, page_size)))
    items = db.session.execute(
        select(EvidenceItem).options(*_link_options()).where(EvidenceItem.id.in_(page_ids))
        .order_by(*order)).unique().scalars().all()
    filters.page = page
    return SearchResult(items, total, page, page_size, filters)


class EvidenceIndex:
    """Evidence items per target, from ``evidence_for``: ``index.activity(12)`` -> [items]."""

    def __init__(self):
        self._items: dict[tuple[str, int], list[EvidenceItem]] = defaultdict(list)

    def add(self, kind: str, target_id: int, item: EvidenceItem) -> None:
        self._items[(kind, target_id)].append(item)

    def get(self, kind: str, target_id: int) -> list[EvidenceItem]:
        return self._items.get((kind, target_id), [])

    def activity(self, target_id: int) -> list[EvidenceItem]:
        return self.get("activity", target_id)

    def period(self, target_id: int) -> list[EvidenceItem]:
        return self.get("period", target_id)

    def result(self, target_id: int) -> list[EvidenceItem]:
        return self.get("result", target_id)

    def expenditure(self, target_id: int) -> list[EvidenceItem]:
        return self.get("expenditure", target_id)


def evidence_for(project_id: int, *, activities=(), periods=(), results=(), expenditures=()) -> EvidenceIndex:
    """The (not deleted) evidence of many targets at once, in one query, newest first."""
    index = EvidenceIndex()
    wanted = {"activity": list(activities), "period": list(periods), "result": list(results),
              "expenditure": list(expenditures)}
    clauses = [getattr(EvidenceLink, f"{name}_id").in_(ids) for name, ids in wanted.items() if ids]
    if not clauses:
        return index
    rows = db.session.execute(
        select(EvidenceLink.activity_id, EvidenceLink.period_id, EvidenceLink.result_id, EvidenceLink.expenditure_id,
               EvidenceItem)
        .join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
        .options(joinedload(EvidenceItem.file))
        .where(EvidenceLink.project_id == project_id, EvidenceItem.deleted_at.is_(None), or_(*clauses))
        .order_by(EvidenceItem.dated.is_(None), EvidenceItem.dated.desc(), EvidenceItem.id.desc())).all()
    for row in rows:
        for position, name in enumerate(TARGETS):
            if row[position] is not None:
                index.add(name, row[position], row[4])
    return index


def _review_conditions(project_id: int, state: str) -> list:
    return [EvidenceItem.project_id == project_id, EvidenceItem.deleted_at.is_(None),
            EvidenceItem.review_state == state]


def _review_order(state: str) -> tuple:
    if state == "queried":  # most recently queried first
        return EvidenceItem.reviewed_at.desc(), EvidenceItem.id.desc()
    return EvidenceItem.created_at, EvidenceItem.id  # the queue: oldest first


def queried_items(project_id: int) -> list[EvidenceItem]:
    """Items the auditor queried and nobody has answered yet (for the officer's week page)."""
    return db.session.execute(
        select(EvidenceItem).options(*_link_options()).where(*_review_conditions(project_id, "queried"))
        .order_by(*_review_order("queried"))).unique().scalars().all()


def waiting_for_review(project_id: int) -> list[EvidenceItem]:
    """Items not yet verified or queried, oldest first (the auditor's queue)."""
    return db.session.execute(
        select(EvidenceItem).options(*_link_options()).where(*_review_conditions(project_id, "pending"))
        .order_by(*_review_order("pending"))).unique().scalars().all()


def _page_of(model, conditions: list, order: tuple, options: tuple, page: int, page_size: int,
             unique: bool = False, count=None) -> paging.Page:
    """One page of ``model`` rows matching ``conditions`` and their true total (two queries); ``count``
    is a cheaper statement of the same total when there is one."""
    if count is None:
        count = select(func.count()).select_from(model).where(*conditions)
    total = db.session.execute(count).scalar()
    page = paging.clamp(page, total, page_size)
    # The page's ids are chosen on ``model`` alone; only those rows are joined (``options``).
    page_ids = select(model.id).where(*conditions).order_by(*order).limit(page_size).offset(
        paging.offset(page, page_size))
    result = db.session.execute(select(model).options(*options).where(model.id.in_(page_ids)).order_by(*order))
    rows = (result.unique() if unique else result).scalars().all()
    return paging.Page(rows, total, page, page_size)


def review_page(project_id: int, state: str, page: int = 1, page_size: int = 50) -> paging.Page:
    """One page of the items in review ``state`` ("pending": the queue, oldest first; "queried":
    newest query first), with the true total read with COUNT (two queries)."""
    return _page_of(EvidenceItem, _review_conditions(project_id, state), _review_order(state),
                    tuple(_link_options()), page, page_size, unique=True)


def _overspend_conditions(project_id: int) -> list:
    return [Expenditure.project_id == project_id, Expenditure.overspend_justification != ""]


def justified_overspends(project_id: int) -> list[Expenditure]:
    """Expenditures booked past their line's budget, with the justification given (one query).

    Shown in the auditor's workspace and on the budget page (which imports it from here).
    """
    return db.session.execute(
        select(Expenditure).options(joinedload(Expenditure.line))
        .where(*_overspend_conditions(project_id))
        .order_by(Expenditure.spent_on, Expenditure.id)
    ).scalars().all()


def overspends_page(project_id: int, page: int = 1, page_size: int = 50) -> paging.Page:
    """One page of ``justified_overspends`` with their true total (two queries)."""
    return _page_of(Expenditure, _overspend_conditions(project_id), (Expenditure.spent_on, Expenditure.id),
                    (joinedload(Expenditure.line),), page, page_size)


def _unbacked_conditions(project_id: int) -> list:
    backed = (select(EvidenceLink.id).join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
              .where(EvidenceLink.expenditure_id == Expenditure.id, EvidenceItem.deleted_at.is_(None)))
    return [Expenditure.project_id == project_id, ~backed.exists()]


def unbacked_expenditures(project_id: int) -> list[Expenditure]:
    """Expenditures that no (not deleted) evidence item is linked to (one query)."""
    return db.session.execute(
        select(Expenditure).options(joinedload(Expenditure.line))
        .where(*_unbacked_conditions(project_id))
        .order_by(Expenditure.spent_on, Expenditure.id)).scalars().all()


def unbacked_page(project_id: int, page: int = 1, page_size: int = 50) -> paging.Page:
    """One page of ``unbacked_expenditures``, newest first, with their true total (two queries)."""
    # Counted as all the spending less the spending with evidence (read from the links, which are
    # few), not with a lookup per expenditure. A link's target is always of the link's project.
    backed = (select(func.count(func.distinct(EvidenceLink.expenditure_id)))
              .join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
              .where(EvidenceLink.project_id == project_id, EvidenceLink.expenditure_id.is_not(None),
                     EvidenceItem.deleted_at.is_(None)).scalar_subquery())
    count = select(func.count() - backed).select_from(Expenditure).where(Expenditure.project_id == project_id)
    return _page_of(Expenditure, _unbacked_conditions(project_id),
                    (Expenditure.spent_on.desc(), Expenditure.id.desc()),
                    (joinedload(Expenditure.line),), page, page_size, count=count)


# --------------------------------------------------------------------------------------------- coverage


@dataclass
class Coverage:
    disbursed_cents: int = 0
    disbursed_verified_cents: int = 0
    disbursed_backed_cents: int = 0
    actuals: int = 0
    actuals_backed: int = 0
    actuals_verified: int = 0
    states: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def _pct(part, whole):
        return None if not whole else part * 100 / whole

    @property
    def disbursed_verified_pct(self):
        return self._pct(self.disbursed_verified_cents, self.disbursed_cents)

    @property
    def disbursed_backed_pct(self):
        return self._pct(self.disbursed_backed_cents, self.disbursed_cents)

    @property
    def actuals_backed_pct(self):
        return self._pct(self.actuals_backed, self.actuals)

    @property
    def actuals_verified_pct(self):
        return self._pct(self.actuals_verified, self.actuals)

    @staticmethod
    def bar(pct) -> int:
        return 0 if pct is None else int(max(0, min(100, pct)))


def _backed_expenditures(project_id: int, verified_only: bool):
    """The ids of the project's expenditures that have a (verified), not deleted evidence item: read
    from the links, which are few, not with a lookup per expenditure."""
    conditions = [EvidenceLink.project_id == project_id, EvidenceLink.expenditure_id.is_not(None),
                  EvidenceItem.deleted_at.is_(None)]
    if verified_only:
        conditions.append(EvidenceItem.review_state == "verified")
    return (select(EvidenceLink.expenditure_id).join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
            .where(*conditions))


# A reported actual: a number or a text. (``actual_text != ''`` is false for NULL too.) Written as
# this exact expression so that a partial index with the same condition can count them.
def _has_actual():
    return or_(IndicatorPeriod.actual.is_not(None), IndicatorPeriod.actual_text != "")


def coverage(project_id: int) -> Coverage:
    """How much of the money and the reported figures is backed by evidence (two queries).

    Aggregates in SQL, the evidenced targets found from the links (an ``IN`` list read once), not
    a correlated lookup per expenditure or per period: what is read grows with the spending rows and
    the reported periods only through one indexed count of each.
    """
    disbursed = and_(Expenditure.project_id == project_id, Expenditure.status == "disbursed")
    link_project = EvidenceLink.project_id == project_id

    def money_sum(verified_only):
        return (select(func.coalesce(func.sum(Expenditure.amount_cents), 0))
                .where(disbursed, Expenditure.id.in_(_backed_expenditures(project_id, verified_only)))
                .scalar_subquery())

    def backed_periods(verified_only):
        conditions = [EvidenceItem.deleted_at.is_(None), link_project, IndicatorPeriod.project_id == project_id,
                      _has_actual()]
        if verified_only:
            conditions.append(EvidenceItem.review_state == "verified")
        return (select(func.count(func.distinct(EvidenceLink.period_id)))
                .select_from(EvidenceLink)
                .join(EvidenceItem, EvidenceLink.evidence_id == EvidenceItem.id)
                .join(IndicatorPeriod, EvidenceLink.period_id == IndicatorPeriod.id)
                .where(*conditions).scalar_subquery())

    row = db.session.execute(select(
        select(func.coalesce(func.sum(Expenditure.amount_cents), 0)).where(disbursed).scalar_subquery(),
        money_sum(True), money_sum(False),
        select(func.count()).select_from(IndicatorPeriod)
        .where(IndicatorPeriod.project_id == project_id, _has_actual()).scalar_subquery(),
        backed_periods(False), backed_periods(True))).one()
    return Coverage(
        disbursed_cents=int(row[0]), disbursed_verified_cents=int(row[1]), disbursed_backed_cents=int(row[2]),
        actuals=int(row[3]), actuals_backed=int(row[4]), actuals_verified=int(row[5]),
        states=review_counts(project_id))


def review_counts(project_id: int) -> dict[str, int]:
    """Not deleted items per review state, every state present (one query)."""
    states = dict(db.session.execute(
        select(EvidenceItem.review_state, func.count())
        .where(EvidenceItem.project_id == project_id, EvidenceItem.deleted_at.is_(None))
        .group_by(EvidenceItem.review_state)).all())
    return {state: int(states.get(state, 0)) for state in REVIEW_STATES}


# --------------------------------------------------------------------------------------------- adding from another page


def prefill_from_expenditure(project_id: int, expenditure_id) -> dict | None:
    """What "Add evidence" from an expenditure fills in: a receipt, dated the day of the spending,
    titled after its voucher (None when the expenditure is not in this project)."""
    expenditure_id = parse_id(expenditure_id)
    if expenditure_id is None:
        return None
    row = db.session.execute(
        select(Expenditure.voucher, Expenditure.payee, Expenditure.spent_on)
        .where(Expenditure.id == expenditure_id, Expenditure.project_id == project_id)).one_or_none()
    if row is None:
        return None
    title = (_("Receipt for %(voucher)s, %(payee)s", voucher=row.voucher, payee=row.payee) if row.payee
             else _("Receipt for %(voucher)s", voucher=row.voucher))
    return {"kind": "receipt", "dated": row.spent_on.isoformat(), "title": title}
