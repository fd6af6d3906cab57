"""The plan of an import: what it creates and changes, and every problem, with where it is.

**One code path for the dry run and applying.** ``dry_run`` and ``apply`` both run the same
``run_import``, which translates each row into the service calls a page makes
(``tracker.results.services``, ``tracker.budget.services``, ``tracker.progress.services``);
those flush into the open transaction and refuse with the same ``InputError`` and the same
words as on the pages. ``dry_run`` runs inside a SAVEPOINT that it rolls back, so nothing it
did stays (nor its audit rows, written on the same connection); ``apply`` runs the same code
again in the request's transaction and the view commits once (``htmx.commit_once``), after
checking that the result is exactly what the dry run showed (its fingerprint).

Each row runs in a savepoint of its own (``Plan.attempt``): a row the services refuse is undone
alone and becomes a problem located at its sheet, row and column, so the dry run lists every
problem of the workbook at once; a plan with any problem applies nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy.exc import DataError, IntegrityError

from ..concurrency import ConflictError
from ..extensions import db
from ..models import Project
from ..validation import InputError, numbers_in
from .sheets import Problem, Table, workbook_locale

FAILED = object()  # what ``attempt`` returns for a refused row


@dataclass
class Change:
    kind: str  # create | change
    what: str
    detail: str
    sheet: str = ""
    row: int | None = None

    @property
    def sheet_shown(self) -> str:
        """The sheet's name in the person's language (the names are the catalogue's msgids)."""
        return _(self.sheet) if self.sheet else ""


@dataclass
class Plan:
    mode: str  # update | create
    project_code: str = ""
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    project: Project | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def creates(self) -> int:
        return sum(1 for c in self.changes if c.kind == "create")

    @property
    def updates(self) -> int:
        return sum(1 for c in self.changes if c.kind == "change")

    def fingerprint(self) -> str:
        """Identifies exactly what the plan does (applying refuses a plan that moved on)."""
        text = json.dumps([[c.kind, c.what, c.detail] for c in self.changes], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def attempt(self, table: Table, row: int | None, columns: dict[str, str | None], change: Callable[[], object]):
        """Run ``change`` (service calls) in a savepoint; a refusal undoes it and becomes problems.

        ``columns`` maps the service's field names to the sheet's column keys, so each message
        lands on its column; a field it does not name points at the row.
        """
        try:
            with db.session.begin_nested():
                return change()
        except InputError as error:
            for name, message in error.errors.items():
                table.problem(row, columns.get(name, columns.get("*")), message)
        except (IntegrityError, DataError):  # a rule only the database states (a service should say it first)
            table.problem(row, columns.get("*"), _("this row contradicts data already there (the database refused "
                                                   "it); check its codes and dates."))
        return FAILED


class PlanMovedOn(ConflictError):
    """Applying found a different plan from the dry run the person saw (or problems): nothing applied."""

    def __init__(self, plan: Plan):
        super().__init__(_("The project changed since the dry run."))
        self.plan = plan


def run_import(wb, user, project: Project | None) -> Plan:
    """Translate the workbook into service calls (update ``project``, or create one when None)."""
    from .create import plan_create
    from .update import plan_update

    # Numbers typed as text are read in the workbook's language (tracker/imports/sheets.py).
    with numbers_in(workbook_locale(wb)):
        return plan_update(project, wb, user) if project is not None else plan_create(wb, user)


def dry_run(data: bytes, filename: str, user, project: Project | None) -> Plan:
    """Check and read the workbook and run the import in a savepoint rolled back: writes nothing.
    Raises ImportRefused for a file that cannot be read at all."""
    from .package import open_workbook

    wb = open_workbook(data, filename)
    savepoint = db.session.begin_nested()
    try:
        return run_import(wb, user, project)
    finally:
        savepoint.rollback()
        wb.close()


def apply(data: bytes, meta: dict, fingerprint: str, user, project: Project | None) -> Plan:
    """Run the import for real (flushes; the view commits once) and record it in the audit trail.

    Raises PlanMovedOn when the result differs from the dry run the person saw (the caller
    rolls everything back and shows the new dry run).
    """
    from ..audit import trail
    from .package import open_workbook

    wb = open_workbook(data, meta.get("filename", ""))
    try:
        plan = run_import(wb, user, project)
    finally:
        wb.close()
    if not plan.ok or not plan.changes or plan.fingerprint() != fingerprint:
        raise PlanMovedOn(plan)
    target = plan.project
    trail.record(db.session, "import", table_name="project", row_id=target.id, project_id=target.id,
                 changes={"mode": plan.mode, "file": meta.get("filename", ""), "sha256": meta.get("sha256", ""),
                          "created": plan.creates, "changed": plan.updates})
    db.session.flush()
    return plan
