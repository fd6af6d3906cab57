"""Create mode (admins): a new project from a filled-in logframe template.

Summary (the project's facts), Logframe (results, indicators, activities), Indicators
(periods with targets and actuals), and when present Budget (lines) and Allocations (each
line's share of an activity) create a project that obeys every rule of one made by hand,
because each piece is made by the service of the area that owns it:

* the project: ``projects.services.create_project`` (required title and code, a code no other
  project has, lengths, the grant, an ISO 4217 currency, a two-letter country, dates with the
  end not before the start);
* results and indicators: ``results.services.create_result`` / ``create_indicator`` (codes,
  a result's parent coming first, levels and units by their labels, baseline and end target
  read for the unit);
* activities: ``progress.services.create_activity`` (unique code, a result of the project,
  dates inside the project period);
* periods, targets and actuals: ``results.services.add_period`` / ``save_target`` /
  ``save_actual`` (see ``imports.indicators``);
* budget lines: ``budget.services.create_line`` (the grant ceiling, amounts, the category),
  allocations: ``budget.services.set_allocations`` (shares 0-100, at most 100% per line).

This module only reads cells and translates: each row becomes one service call inside
``Plan.attempt`` (its own savepoint), and each error the service keys by field lands on that
field's column (the ``*_COLUMNS`` maps below) with the sheet and row added. It holds no rule of
its own; what it checks is the workbook's shape (the sheets, a row per Summary fact, a
logframe with at least one row).
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..budget import services as budget
from ..exports.language import names_of
from ..extensions import db
from ..formatting import amount
from ..models import Indicator, Project, ResultNode
from ..models.budget import CATEGORY_LABELS
from ..progress import services as progress
from ..projects import services as projects
from ..results import services as results
from ..validation import InputError
from .indicators import read_periods
from .plan import FAILED, Change, Plan
from .sheets import MISSING, SUMMARY, Problem, Table, find_sheet, norm, shown, summary_cells

# create_project's field for a Summary row's Project attribute (the grant is typed as an amount).
FACT_FIELDS = {"grant_cents": "grant"}
# The Logframe rows that are not results (the level column says which service makes the row).
ROW_KINDS = {"indicator": "indicator", "activity": "activity"}
# Each service's error fields -> the Logframe column they are about ("*": anything else).
RESULT_COLUMNS = {"code": "code", "level": "level", "statement": "logic", "assumptions": "assumptions",
                  "parent": "code", "*": "code"}
INDICATOR_COLUMNS = {"code": "code", "title": "indicator", "unit": "unit", "baseline": "baseline",
                     "target": "target", "means_of_verification": "verification", "result": "code", "*": "code"}
ACTIVITY_COLUMNS = {"code": "code", "title": "logic", "result_id": "code", "*": "code"}


def plan_create(wb, user) -> Plan:
    """Create a project from ``wb`` through the services (the caller decides: dry run or apply)."""
    plan = Plan("create")
    summary = find_sheet(plan.problems, wb, "Summary", True)
    logframe = find_sheet(plan.problems, wb, "Logframe", True)
    if summary is None or logframe is None:
        return plan
    project = _create_project(plan, summary)
    if project is None:
        return plan
    plan.project, plan.project_code = project, project.code
    indicators, activities = _read_logframe(plan, logframe, project, user)
    read_periods(plan, wb, indicators, user, required=False)
    lines = _read_budget(plan, wb, project, user)
    _read_allocations(plan, wb, lines, activities)
    return plan


# --- the project ------------------------------------------------------------------------------

class _SummaryTable(Table):
    """The Summary sheet: one fact per row (label in column A, value in B), so an error lands on
    its fact's row; a fact whose row is absent points at column A and says which row is missing."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems, "Summary")
        self.row_of: dict[str, int | None] = {}
        self.label_of: dict[str, str] = {}

    def problem(self, row, key, message) -> None:
        if key in self.label_of and self.row_of.get(key) is None:
            self.problems.append(Problem("Summary", None, "A", "Item",
                                         _("the row “%(label)s” is missing: %(message)s",
                                           label=_(self.label_of[key]), message=message)))
            return
        super().problem(self.row_of.get(key, row), key, message)


def _create_project(plan: Plan, ws) -> Project | None:
    cells, rows = summary_cells(ws)
    table = _SummaryTable(plan.problems)
    facts: dict = {}
    for label, attr, _kind in SUMMARY:
        name = FACT_FIELDS.get(attr, attr)
        table.letters[name], table.headers[name], table.label_of[name] = "B", "Value", label
        table.row_of[name] = rows.get(norm(label))
        if table.row_of[name] is None:
            continue
        facts[name] = table.raw(table.row_of[name], {name: cells[norm(label)]}, name)
    if MISSING in facts.values():
        return None
    columns = {name: name for name in table.label_of} | {"*": "code"}
    project = plan.attempt(table, None, columns, lambda: projects.create_project(facts))
    if project is FAILED:
        return None
    plan.changes.append(Change("create", _("Project %(code)s", code=project.code), shown(project.title), "Summary", None))
    return project


# --- the logframe -----------------------------------------------------------------------------

def _read_logframe(plan: Plan, ws, project: Project, user):
    table = Table.read(plan.problems, ws, "Logframe", ("level", "code", "logic", "indicator"))
    indicators: dict[str, Indicator] = {}
    activities: dict[str, object] = {}
    if not table.ok:
        return indicators, activities
    results_made = 0
    current: ResultNode | None = None  # the result of the rows below it
    # The level words of non-result rows in English, Vietnamese or both (as the export writes them).
    kinds = {name: kind for word, kind in (("Indicator", "indicator"), ("Activity", "activity"))
             for name in names_of(word)} | ROW_KINDS
    for number, cells in table.rows:
        level = table.text(number, cells, "level")
        code = table.text(number, cells, "code")
        if MISSING in (level, code):
            continue
        kind = kinds.get(norm(level), "result")
        if kind == "result":
            node = _result(plan, table, number, cells, project, level, code, results_made)
            if node is not None:
                results_made += 1
                current = node
        elif kind == "activity":
            activity = _activity(plan, table, number, cells, project, current, code, user)
            if activity is not None:
                activities[activity.code] = activity
        else:
            indicator = _indicator(plan, table, number, cells, project, current, code, len(indicators))
            if indicator is not None:
                indicators[indicator.code] = indicator
    if not results_made and not any(p.sheet == "Logframe" for p in plan.problems):
        plan.problems.append(Problem("Logframe", None, None, "", _("no result rows: the logframe needs at least the "
                                                                   "overall objective.")))
    return indicators, activities


def _optional(table: Table, number: int, cells: dict, key: str):
    """A column the template may leave out: its cell as typed, None when the column is absent."""
    return table.raw(number, cells, key) if table.has(key) else None


def _result(plan, table, number, cells, project, level, code, position) -> ResultNode | None:
    statement = table.raw(number, cells, "logic")
    assumptions = _optional(table, number, cells, "assumptions")
    if MISSING in (statement, assumptions):
        return None
    node = plan.attempt(table, number, RESULT_COLUMNS, lambda: results.create_result(
        project, code=code, level=level, statement=statement, assumptions=assumptions or "", position=position))
    if node is FAILED:
        return None
    plan.changes.append(Change("create", f"{node.level_label} {node.code}", shown(node.statement), "Logframe",
                               number))
    return node


def _indicator(plan, table, number, cells, project, result, code, position) -> Indicator | None:
    values = {key: _optional(table, number, cells, key) for key in ("unit", "verification", "baseline", "target")}
    title = table.raw(number, cells, "indicator")
    if MISSING in (title, *values.values()):
        return None
    indicator = plan.attempt(table, number, INDICATOR_COLUMNS, lambda: results.create_indicator(
        project, result, code=code, title=title, unit=values["unit"],
        means_of_verification=values["verification"] or "", baseline=values["baseline"], target=values["target"],
        position=position))
    if indicator is FAILED:
        return None
    plan.changes.append(Change("create", _("Indicator %(code)s", code=indicator.code), shown(indicator.title), "Logframe", number))
    return indicator


def _activity(plan, table, number, cells, project, result, code, user):
    title = table.raw(number, cells, "logic")
    if title is MISSING:
        return None
    data = progress.ActivityInput(result_id=result.id if result is not None else None, code=code, title=title or "")
    activity = plan.attempt(table, number, ACTIVITY_COLUMNS, lambda: progress.create_activity(project, data, user))
    if activity is FAILED:
        return None
    plan.changes.append(Change("create", _("Activity %(code)s", code=activity.code), shown(activity.title), "Logframe", number))
    return activity


# --- money ------------------------------------------------------------------------------------

LINE_FIELDS = {"code": "code", "category": "category", "account_code": "account", "description": "description",
               "original": "original", "revised": "revised", "notes": "notes", "*": "original"}


def _category_of(text) -> str:
    """A category as the workbook shows it (its label, in English, Vietnamese or both) -> the
    stored value ``create_line`` reads; anything else is passed on as typed, for ``create_line``
    to accept or refuse."""
    typed = text or ""
    for key, label in CATEGORY_LABELS.items():
        if norm(typed) == key or norm(typed) in names_of(label):
            return key
    return typed


def _read_budget(plan: Plan, wb, project: Project, user) -> dict:
    ws = find_sheet(plan.problems, wb, "Budget", False)
    lines: dict = {}
    if ws is None:
        return lines
    table = Table.read(plan.problems, ws, "Budget", ("code", "description", "original"))
    if not table.ok:
        return lines
    for number, cells in table.rows:
        code = table.text(number, cells, "code")  # its rule (length, unique) is create_line's
        if code is MISSING:
            continue
        if not code or code.lower() == "total":
            break  # the totals and checks below an exported budget table
        values = {key: table.raw(number, cells, key) if table.has(key) else None
                  for key in ("category", "account", "description", "original", "revised", "notes")}
        if MISSING in values.values():
            continue
        data = {"code": code, "category": _category_of(values["category"]), "account_code": values["account"] or "",
                "description": values["description"] or "", "original": values["original"] or "",
                "revised": values["revised"] or "", "notes": values["notes"] or ""}
        line = plan.attempt(table, number, LINE_FIELDS, lambda data=data: budget.create_line(project, data, user))
        if line is FAILED:
            continue
        lines[code] = line
        plan.changes.append(Change("create", _("Budget line %(code)s", code=code), f"{shown(line.description)}: "
                                   f"{amount(line.original_cents)}", "Budget", number))
    return lines


def _read_allocations(plan: Plan, wb, lines: dict, activities: dict) -> None:
    """Each line's shares of activities, set per line by ``set_allocations`` (as on the budget page)."""
    ws = find_sheet(plan.problems, wb, "Allocations", False)
    if ws is None:
        return
    table = Table.read(plan.problems, ws, "Allocations", ("line", "activity", "share"))
    if not table.ok:
        return
    shares: dict[str, dict[int, str]] = {}
    where: dict[tuple[str, int], int] = {}
    first_row: dict[str, int] = {}
    for number, cells in table.rows:
        line_code = table.text(number, cells, "line", required=True)  # references to rows made above
        activity_code = table.text(number, cells, "activity", required=True)
        share = table.raw(number, cells, "share")
        if MISSING in (line_code, activity_code, share):
            continue
        if line_code not in lines:
            table.problem(number, "line", _("unknown budget line “%(code)s” (lines come from the Budget sheet).",
                                            code=shown(line_code)))
            continue
        activity = activities.get(activity_code)
        if activity is None:
            table.problem(number, "activity", _("unknown activity “%(code)s” (activities come from the Logframe "
                                                "sheet).", code=shown(activity_code)))
            continue
        if (line_code, activity.id) in where:
            table.problem(number, "activity", _("%(line)s and %(activity)s appear twice (also row %(row)s).",
                                                line=line_code, activity=activity_code,
                                                row=where[(line_code, activity.id)]))
            continue
        where[(line_code, activity.id)] = number
        first_row.setdefault(line_code, number)
        shares.setdefault(line_code, {})[activity.id] = share or ""
    codes = {a.id: code for code, a in activities.items()}
    for line_code, wanted in shares.items():
        line = lines[line_code]
        try:
            with db.session.begin_nested():
                budget.set_allocations(line, wanted)
        except InputError as error:
            for name, message in error.errors.items():
                activity_id = int(name.removeprefix("share-")) if name.startswith("share-") else None
                row = where.get((line_code, activity_id), first_row[line_code])
                table.problem(row, "share", message)
            continue
        for allocation in line.allocations:
            plan.changes.append(Change("create", _("Allocation %(line)s → %(activity)s", line=line_code,
                                                         activity=codes.get(allocation.activity_id, "")),
                                       _("%(share)s%% of %(line)s", share=format(allocation.percent.normalize(), "f"),
                                         line=line_code),
                                       "Allocations", where.get((line_code, allocation.activity_id))))

