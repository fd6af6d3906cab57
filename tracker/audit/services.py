"""Reading the audit trail: one record's history, the project's filtered trail, exports.

Nothing here writes or changes audit events except ``record_export`` (which appends one
through ``trail.record``): the trail is append-only in the app and in the database.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import paging
from ..extensions import db
from ..i18n import N_
from ..models import AuditEvent
from ..spreadsheets import csv_text, text_cell
from ..validation import InputError
from . import trail

# Acts that are not row changes, with a label for people (lazy: translated when shown).
ACTION_LABELS = {
    "insert": _l("created"),
    "update": _l("changed"),
    "delete": _l("deleted"),
    "login": _l("logged in"),
    "logout": _l("logged out"),
    "login_failed": _l("failed login"),
    "login_throttled": _l("login refused (too many failures)"),
    "export": _l("exported"),
    "import": _l("imported"),
    "restore": _l("restored a backup"),
    "audit.checkpoint": _l("signed the earlier trail with the audit key"),
    "evidence.review": _l("reviewed evidence"),
    "indicator.submit": _l("submitted for approval"),
    "indicator.approve": _l("approved"),
    "indicator.return": _l("returned for changes"),
    "indicator.unlock": _l("unlocked"),
}


# The audited tables as people read them (a table without an entry reads as its name, spaced).
TABLE_LABELS = {
    "activity": _l("activity"),
    "agenda_item": _l("agenda item"),
    "audit_event": _l("audit event"),
    "budget_allocation": _l("budget allocation"),
    "budget_line": _l("budget line"),
    "dimension": _l("dimension"),
    "dimension_category": _l("dimension category"),
    "disaggregated_value": _l("disaggregated value"),
    "event": _l("event"),
    "evidence_item": _l("evidence item"),
    "evidence_link": _l("evidence link"),
    "expenditure": _l("expenditure"),
    "indicator": _l("indicator"),
    "indicator_period": _l("indicator period"),
    "membership": _l("membership"),
    "progress_log": _l("progress log"),
    "project": _l("project"),
    "result_narrative": _l("result narrative"),
    "result_node": _l("result node"),
    "user": _l("user"),
}


def table_label(table_name: str) -> str:
    """A table's name as people read it, in the request's language."""
    return str(TABLE_LABELS.get(table_name, table_name.replace("_", " ")))


def audited_tables() -> dict[str, str]:
    """Table name -> readable name, for every model whose rows are written to the trail."""
    tables = {}
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__audit__", False):
            tables[cls.__tablename__] = table_label(cls.__tablename__)
    return dict(sorted(tables.items()))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action.replace("_", " ")))


@dataclass
class Change:
    """One field of an event: ``old -> new`` for row changes and steps (``pair``), or a
    plain value for acts such as a failed login's email."""

    field: str
    old: object
    new: object
    pair: bool = True


@dataclass
class Entry:
    """One audit event, ready for a page or a spreadsheet."""

    id: int
    created_at: datetime
    actor: str
    action: str
    table_name: str
    row_id: int | None
    address: str
    changes: list[Change] = field(default_factory=list)
    label: str = ""  # the action's label, when already translated (a page translates each action once)

    @property
    def action_label(self) -> str:
        return self.label or action_label(self.action)

    @property
    def when(self) -> str:
        """UTC time as people read it: 2016-11-24 08:00:05 UTC."""
        moment = self.created_at
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S") + " UTC"

    @property
    def record(self) -> str:
        if not self.table_name:
            return ""
        # The record's identifier (its table's name and row id), like a code: not translated.
        return f"{self.table_name} {self.row_id}" if self.row_id is not None else self.table_name

    def changes_text(self) -> str:
        """All changes in one line: ``field: old -> new; ...``."""
        return "; ".join(f"{c.field}: {_show(c.old)} -> {_show(c.new)}" if c.pair else f"{c.field}: {_show(c.new)}"
                         for c in self.changes)


def _show(value) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# The columns an Entry is made of (``_entry`` takes an AuditEvent or a row of these).
ENTRY_COLUMNS = (AuditEvent.id, AuditEvent.created_at, AuditEvent.actor_label, AuditEvent.action,
                 AuditEvent.table_name, AuditEvent.row_id, AuditEvent.address, AuditEvent.changes)


def _entry(event) -> Entry:
    try:
        raw = json.loads(event.changes or "{}")
    except ValueError:
        raw = {"(unreadable)": [None, event.changes]}
    changes = []
    for name, value in sorted(raw.items()):
        if isinstance(value, list) and len(value) == 2:
            changes.append(Change(name, value[0], value[1]))
        else:  # acts such as login_failed store plain values
            changes.append(Change(name, None, value, pair=False))
    return Entry(event.id, event.created_at, event.actor_label or "system", event.action, event.table_name,
                 event.row_id, event.address, changes)


def record_history(project_id: int, table_name: str, row_id: int) -> list[Entry]:
    """Every event about one row of this project, oldest first. Unknown tables: InputError."""
    if table_name not in audited_tables():
        raise InputError(_("%(table)s is not a table with history.", table=repr(table_name)))
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.project_id == project_id, AuditEvent.table_name == table_name,
                                 AuditEvent.row_id == row_id).order_by(AuditEvent.id)
    ).scalars()
    return [_entry(e) for e in events]


# ----------------------------------------------------------------------------------------
# The project's trail with filters


@dataclass
class TrailFilter:
    """What the trail page shows; every field comes from the URL's query string."""

    actor: str = ""          # actor label (email, "cli", "system")
    action: str = ""
    table: str = ""
    row_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def query_args(self, **overrides) -> dict:
        """The filter as URL arguments (for links to other pages and exports)."""
        args = {"actor": self.actor, "action": self.action, "table": self.table,
                "row_id": self.row_id, "date_from": self.date_from, "date_to": self.date_to,
                "page": self.page}
        args.update(overrides)
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in args.items()
                if v not in (None, "") and not (k == "page" and v == 1)}

    @property
    def active(self) -> bool:
        return bool(self.actor or self.action or self.table or self.row_id is not None
                    or self.date_from or self.date_to)


SYSTEM = None  # the scope of events tied to no project: logins, users, exports of this trail


def _scope(project_id: int | None):
    """Events of one project, or (``SYSTEM``) those tied to no project."""
    return AuditEvent.project_id.is_(None) if project_id is None else AuditEvent.project_id == project_id


def _conditions(project_id: int | None, flt: TrailFilter) -> list:
    conditions = [_scope(project_id)]
    if flt.actor:
        conditions.append(AuditEvent.actor_label == flt.actor)
    if flt.action:
        conditions.append(AuditEvent.action == flt.action)
    if flt.table:
        conditions.append(AuditEvent.table_name == flt.table)
    if flt.row_id is not None:
        conditions.append(AuditEvent.row_id == flt.row_id)
    if flt.date_from:
        conditions.append(AuditEvent.created_at >= datetime.combine(flt.date_from, time.min, UTC))
    if flt.date_to:  # the whole day, inclusive
        conditions.append(AuditEvent.created_at < datetime.combine(flt.date_to + timedelta(days=1), time.min, UTC))
    return conditions


# The trail counts its events up to this many (for the first pages of a long trail it says
# "more than 1000" and leaves the number of pages open): an exact count reads every event of
# the project, tens of thousands on a large one, on each page load. A page beyond it (or
# ?page=N past the end) is counted exactly: its OFFSET reads those events anyway.
COUNT_CAP = 1000


@dataclass
class TrailPage:
    entries: list[Entry]
    total: int | None  # None: more than ``counted`` (COUNT_CAP) events, not counted further
    page: int
    page_size: int
    counted: int = 0

    @property
    def pages(self) -> int | None:
        return None if self.total is None else paging.page_count(self.total, self.page_size)

    @property
    def has_older(self) -> bool:
        return self.total is None or self.page < self.pages

    @property
    def first_number(self) -> int:
        return 0 if not self.entries else paging.offset(self.page, self.page_size) + 1

    @property
    def last_number(self) -> int:
        return paging.offset(self.page, self.page_size) + len(self.entries)


def trail_page(project_id: int | None, flt: TrailFilter, page_size: int) -> TrailPage:
    """One page of the filtered trail, newest first, in two queries whatever the page size;
    the events are counted up to ``COUNT_CAP`` unless the page lies beyond it."""
    conditions = _conditions(project_id, flt)
    counted = db.session.execute(select(func.count()).select_from(
        select(AuditEvent.id).where(*conditions).limit(COUNT_CAP + 1).subquery())).scalar()
    total = counted if counted <= COUNT_CAP else None
    if total is None and paging.offset(flt.page, page_size) + page_size > COUNT_CAP:
        total = db.session.execute(select(func.count()).select_from(AuditEvent).where(*conditions)).scalar()
    page = flt.page if total is None else paging.clamp(flt.page, total, page_size)
    events = db.session.execute(  # plain rows: a page of ORM objects costs more than the page's markup
        select(*ENTRY_COLUMNS).where(*conditions).order_by(AuditEvent.id.desc())
        .limit(page_size).offset(paging.offset(page, page_size))
    )
    entries = [_entry(e) for e in events]
    labels: dict[str, str] = {}
    for entry in entries:
        if entry.action not in labels:
            labels[entry.action] = action_label(entry.action)
        entry.label = labels[entry.action]
    return TrailPage(entries, total, page, page_size, min(counted, COUNT_CAP))


def _distinct_values(column, project_id: int | None) -> list:
    """The distinct non-null values of ``column`` in this scope's trail, in order.

    A plain ``SELECT DISTINCT`` reads every event of the project (tens of thousands on a large
    one) on each page load; this skips from one value to the next (a "loose index scan":
    ``min(column) WHERE column > previous``), one index seek per value with an index on
    (project_id, column), so its cost follows the number of people or actions, not of events.
    """
    scope = _scope(project_id)
    found = select(func.min(column).label("value")).where(scope).cte("found", recursive=True)
    following = select(func.min(column)).where(scope, column > found.c.value).scalar_subquery()
    found = found.union_all(select(following.label("value")).where(found.c.value.is_not(None)))
    return db.session.execute(select(found.c.value).where(found.c.value.is_not(None))
                              .order_by(found.c.value)).scalars().all()


def filter_choices(project_id: int | None) -> dict[str, list[str]]:
    """People and actions that occur in this scope's trail (for the filter's select boxes)."""
    actors = _distinct_values(AuditEvent.actor_label, project_id)
    actions = _distinct_values(AuditEvent.action, project_id)
    return {"actors": [a for a in actors if a], "actions": list(actions)}


def filtered_events(project_id: int | None, flt: TrailFilter):
    """Every event matching the filter, oldest first, streamed (for exports)."""
    result = db.session.execute(
        select(AuditEvent).where(*_conditions(project_id, flt)).order_by(AuditEvent.id)
        .execution_options(yield_per=1000)
    ).scalars()
    for event in result:
        yield _entry(event)


EXPORT_HEADER = [N_("Event"), N_("When (UTC)"), N_("Who"), N_("Action"), N_("Table"), N_("Row"), N_("Field"),
                 N_("Old value"), N_("New value"), N_("Address")]


def export_header() -> list[str]:
    """The exports' header row in the request's language (the values below it stay as stored)."""
    return [_(header) for header in EXPORT_HEADER]


def _export_rows(entries):
    """One spreadsheet row per changed field (one row for an event without fields)."""
    for entry in entries:
        base = [entry.id, entry.when.removesuffix(" UTC"), entry.actor, entry.action, entry.table_name,
                entry.row_id]
        if not entry.changes:
            yield base + ["", "", "", entry.address]
        for change in entry.changes:
            yield base + [change.field, _cell(change.old), _cell(change.new), entry.address]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def describe_filter(flt: TrailFilter) -> dict:
    return {k: v for k, v in flt.query_args().items() if k != "page"}


def trail_csv(project_id: int | None, flt: TrailFilter) -> bytes:
    """The filtered trail as CSV (UTF-8 with BOM, formula-safe)."""
    return csv_text(export_header(), _export_rows(filtered_events(project_id, flt))).encode("utf-8")


def trail_xlsx(project_id: int | None, flt: TrailFilter, scope_name: str) -> bytes:
    """The filtered trail as an Excel workbook; text is written as text, never as a formula."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Audit trail"))
    sheet.freeze_panes = "A3"
    filters = describe_filter(flt)
    if filters:
        title = _("Audit trail of %(scope)s (filtered: %(filters)s)", scope=scope_name,
                  filters=", ".join(f"{k}={v}" for k, v in filters.items()))
    else:
        title = _("Audit trail of %(scope)s", scope=scope_name)
    sheet.append([text_cell(sheet, title)])
    sheet.append([text_cell(sheet, h) for h in export_header()])
    for row in _export_rows(filtered_events(project_id, flt)):
        sheet.append([text_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class Download:
    content: bytes
    mimetype: str
    file_name: str


EXPORT_FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export_trail(project_id: int | None, flt: TrailFilter, file_format: str, scope_name: str) -> Download:
    """The filtered trail as a CSV or Excel download, recorded in the trail itself (the caller commits)."""
    if file_format not in EXPORT_FORMATS:
        raise InputError(_("No export of the audit trail as %(format)s.", format=repr(file_format)))
    if file_format == "csv":
        content = trail_csv(project_id, flt)
    else:
        content = trail_xlsx(project_id, flt, scope_name)
    record_export(project_id, flt, file_format)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Download(content, EXPORT_FORMATS[file_format], f"audit-trail-{scope_name}-{stamp}.{file_format}")


def record_export(project_id: int | None, flt: TrailFilter, file_format: str) -> None:
    """An export of the trail is itself an audit event."""
    what = "audit trail" if project_id is not None else "system audit trail"
    trail.record(db.session, "export", table_name="audit_event", project_id=project_id,
                 changes={"what": what, "format": file_format, "filter": describe_filter(flt)})

