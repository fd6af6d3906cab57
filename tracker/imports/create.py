"""Create mode (admins): a new project from a filled-in logframe template.

Summary (the project's facts), Logframe (results, indicators, activities), Indicators
(periods with targets and actuals), and when present Budget (lines) and Allocations (each
line's share of an activity) create a project that obeys every rule of one made by hand,
because each piece is made by the service the pages use:

* activities: ``progress.services.create_activity`` (unique code, a result of the project,
  dates inside the project period);
* periods, targets and actuals: ``results.services.add_period`` / ``save_target`` /
  ``save_actual`` (see ``imports.indicators``);
* budget lines: ``budget.services.create_line`` (the grant ceiling: the lines never total more
  than the grant; amounts by ``parse_money_cents``), allocations:
  ``budget.services.set_allocations`` (shares 0-100, at most 100% per line);
* an indicator's baseline and end target: ``results.services.parse_value`` for its unit.

No page creates a project, a result or an indicator yet, so their few rules live here, stated
with the shared helpers: facts read by ``validation`` (required title and code, a code no
other project has, the grant by ``parse_money_cents``, an ISO 4217 currency, dates by
``parse_date`` with the end not before the start), result codes whose parent result comes
first, and the units of ``models.results.UNIT_LABELS``.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from ..budget import services as budget
from ..budget.currencies import CURRENCIES
from ..extensions import db
from ..models import Indicator, Project, ResultNode
from ..models.budget import CATEGORY_LABELS
from ..models.results import LEVEL_LABELS, UNIT_LABELS
from ..progress import services as progress
from ..results import services as results
from ..validation import InputError, clean_text, parse_date, parse_money_cents
from .indicators import read_periods
from .plan import FAILED, Change, Plan
from .sheets import MISSING, SUMMARY, Problem, Table, find_sheet, norm, shown, summary_cells

# The longest text each fact may hold (the columns of the project table).
FACT_LIMITS = {"title": 300, "code": 40, "donor": 200, "funding_source": 200, "implementing_agency": 200,
               "currency": 3, "country": 2, "iati_identifier": 100, "status_note": 300}
REQUIRED_FACTS = ("title", "code", "grant_cents", "start_date", "end_date")
LEVEL_WORDS = {"indicator": "indicator", "activity": "activity", "objective": "objective", "outcome": "outcome",
               "expected result": "outcome", "result": "outcome"}


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

def _create_project(plan: Plan, ws) -> Project | None:
    cells, rows = summary_cells(ws)
    table = Table(plan.problems, "Summary")
    errors = False
    facts: dict = {}
    for label, attr, kind in SUMMARY:
        table.letters[attr], table.headers[attr] = "B", "Value"
        key = norm(label)
        if key not in rows:
            if attr in REQUIRED_FACTS:
                plan.problems.append(Problem("Summary", None, "A", "Item", f"the row “{label}” is missing."))
                errors = True
            continue
        row = rows[key]
        value = table.raw(row, {attr: cells[key]}, attr)
        if value is MISSING:
            errors = True
            continue
        try:
            facts[attr] = _fact(label, attr, kind, value)
        except InputError as error:
            table.problem(row, attr, str(error))
            errors = True
    if errors:
        return None
    where = {attr: rows.get(norm(label)) for label, attr, _kind in SUMMARY}
    if facts["end_date"] < facts["start_date"]:
        table.problem(where["end_date"], "end_date", f"The project ends ({facts['end_date'].isoformat()}) before it "
                                                     f"starts ({facts['start_date'].isoformat()}).")
        return None
    if db.session.execute(select(Project.id).where(Project.code == facts["code"])).first():
        table.problem(where["code"], "code", f"a project with the code {facts['code']} exists already. To update its "
                      "targets and actuals, import on that project's page; to create a new one, give it another code.")
        return None
    project = Project(**facts)
    db.session.add(project)
    db.session.flush()
    plan.changes.append(Change("create", f"Project {project.code}", shown(project.title), "Summary", None))
    return project


def _fact(label: str, attr: str, kind: str, value):
    if kind == "money":
        return parse_money_cents(value, field=f"The {label.lower()}")
    if kind == "date":
        parsed = parse_date(value, label=f"The {label.lower()}")
        if parsed is None:
            raise InputError(f"The {label.lower()} is required, for example 2016-01-31.")
        return parsed
    text = clean_text(value)
    if attr in REQUIRED_FACTS and not text:
        raise InputError(f"{label} is required.")
    if attr == "currency":
        text = (text or "USD").upper()
        if text not in CURRENCIES:
            raise InputError("The currency must be an ISO 4217 code such as USD or VND.")
    if attr == "country":
        text = text.upper()
        if text and not re.fullmatch(r"[A-Z]{2}", text):
            raise InputError("The country is a two-letter ISO code such as VN.")
    limit = FACT_LIMITS.get(attr)
    if limit and len(text) > limit:
        raise InputError(f"{label} has at most {limit} characters.")
    return text


# --- the logframe -----------------------------------------------------------------------------

def _level_of(text: str) -> str | None:
    lowered = norm(text)
    for key, label in LEVEL_LABELS.items():
        if lowered in (key, norm(label)):
            return key
    return LEVEL_WORDS.get(lowered)


def _unit_of(text: str) -> str | None:
    lowered = norm(text)
    for key, label in UNIT_LABELS.items():
        if lowered in (key, norm(label)):
            return key
    return {"yes/no": "yesno", "%": "percent", "": "number"}.get(lowered)


def _read_logframe(plan: Plan, ws, project: Project, user):
    table = Table.read(plan.problems, ws, "Logframe", ("level", "code", "logic", "indicator"))
    nodes: dict[str, ResultNode] = {}
    indicators: dict[str, Indicator] = {}
    activities: dict[str, object] = {}
    if not table.ok:
        return indicators, activities
    codes: set[str] = set()
    current: ResultNode | None = None
    for number, cells in table.rows:
        level_text = table.text(number, cells, "level", required=True)
        code = table.text(number, cells, "code", required=True, limit=20)
        if MISSING in (level_text, code):
            continue
        level = _level_of(level_text)
        if level is None:
            table.problem(number, "level", f"unknown level “{shown(level_text)}”: use Overall objective, Expected "
                                           "result, Output, Indicator or Activity.")
            continue
        if code in codes:
            table.problem(number, "code", f"the code {code} is used twice.")
            continue
        if level in LEVEL_LABELS:
            node = _result(plan, table, number, cells, project, level, code, nodes)
            if node is not None:
                codes.add(code)
                current = nodes[code] = node
            continue
        if current is None:
            table.problem(number, "code", f"{level} {code} has no result above it; put it under its result.")
            continue
        if level == "activity":
            activity = _activity(plan, table, number, cells, project, current, code, user)
            if activity is not None:
                codes.add(code)
                activities[code] = activity
            continue
        indicator = _indicator(plan, table, number, cells, project, current, code, len(indicators))
        if indicator is not None:
            codes.add(code)
            indicators[code] = indicator
    if not nodes and table.ok:
        plan.problems.append(Problem("Logframe", None, None, "", "no result rows: the logframe needs at least the "
                                     "overall objective."))
    return indicators, activities


def _result(plan, table, number, cells, project, level, code, nodes) -> ResultNode | None:
    statement = table.text(number, cells, "logic", required=True)
    assumptions = table.text(number, cells, "assumptions") if table.has("assumptions") else ""
    if MISSING in (statement, assumptions):
        return None
    parent = code.rsplit(".", 1)[0] if "." in code else None
    if parent is not None and parent not in nodes:
        table.problem(number, "code", f"result {code} needs its parent result {parent} in a row above.")
        return None

    def create():
        node = ResultNode(project_id=project.id, code=code, level=level, statement=statement,
                          assumptions=assumptions, parent=nodes.get(parent), position=len(nodes))
        db.session.add(node)
        db.session.flush()
        return node

    node = plan.attempt(table, number, {"*": "code"}, create)
    if node is FAILED:
        return None
    plan.changes.append(Change("create", f"{LEVEL_LABELS[level]} {code}", shown(statement), "Logframe", number))
    return node


def _indicator(plan, table, number, cells, project, result, code, position) -> Indicator | None:
    title = table.text(number, cells, "indicator", required=True)
    unit_text = table.text(number, cells, "unit") if table.has("unit") else ""
    verification = table.text(number, cells, "verification") if table.has("verification") else ""
    if MISSING in (title, unit_text, verification):
        return None
    unit = _unit_of(unit_text)
    if unit is None:
        table.problem(number, "unit", f"unknown unit “{shown(unit_text)}”: use "
                                      f"{', '.join(UNIT_LABELS.values())}.")
        return None
    indicator = Indicator(project_id=project.id, result_id=result.id, code=code, title=title, unit=unit,
                          means_of_verification=verification, position=position)
    figures = {}
    for key, what in (("baseline", "The baseline"), ("target", "The target")):
        raw = table.raw(number, cells, key) if table.has(key) else None
        if raw is MISSING:
            return None
        try:
            figures[key] = results.parse_value(indicator, raw, what)
        except InputError as error:
            table.problem(number, key, str(error))
            return None
    indicator.baseline_value, indicator.baseline_text = figures["baseline"]
    indicator.target_value, indicator.target_text = figures["target"]

    def create():
        db.session.add(indicator)
        db.session.flush()
        return indicator

    if plan.attempt(table, number, {"*": "code"}, create) is FAILED:
        return None
    plan.changes.append(Change("create", f"Indicator {code}", shown(title), "Logframe", number))
    return indicator


def _activity(plan, table, number, cells, project, result, code, user):
    title = table.text(number, cells, "logic", required=True)
    if title is MISSING:
        return None
    data = progress.ActivityInput(result_id=result.id, code=code, title=title)
    activity = plan.attempt(table, number, {"code": "code", "title": "logic", "*": "code"},
                            lambda: progress.create_activity(project, data, user))
    if activity is FAILED:
        return None
    plan.changes.append(Change("create", f"Activity {code}", shown(title), "Logframe", number))
    return activity


# --- money ------------------------------------------------------------------------------------

LINE_FIELDS = {"code": "code", "category": "category", "account_code": "account", "description": "description",
               "original": "original", "revised": "revised", "notes": "notes", "*": "original"}


def _category_of(text: str) -> str | None:
    lowered = norm(text)
    if not lowered:
        return "other"
    for key, label in CATEGORY_LABELS.items():
        if lowered in (key, norm(label)):
            return key
    return None


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
        category = _category_of(values["category"] or "")
        if category is None:
            table.problem(number, "category", f"unknown category “{shown(values['category'])}”: use "
                                              f"{', '.join(CATEGORY_LABELS.values())}.")
            continue
        data = {"code": code, "category": category, "account_code": values["account"] or "",
                "description": values["description"] or "", "original": values["original"] or "",
                "revised": values["revised"] or "", "notes": values["notes"] or ""}
        line = plan.attempt(table, number, LINE_FIELDS, lambda data=data: budget.create_line(project, data, user))
        if line is FAILED:
            continue
        lines[code] = line
        plan.changes.append(Change("create", f"Budget line {code}", f"{shown(line.description)}: "
                                   f"{line.original_cents / 100:,.2f}", "Budget", number))
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
        line_code = table.text(number, cells, "line", required=True, limit=20)
        activity_code = table.text(number, cells, "activity", required=True, limit=20)
        share = table.raw(number, cells, "share")
        if MISSING in (line_code, activity_code, share):
            continue
        if line_code not in lines:
            table.problem(number, "line", f"unknown budget line “{shown(line_code)}” (lines come from the Budget "
                                          "sheet).")
            continue
        activity = activities.get(activity_code)
        if activity is None:
            table.problem(number, "activity", f"unknown activity “{shown(activity_code)}” (activities come from "
                                              "the Logframe sheet).")
            continue
        if (line_code, activity.id) in where:
            table.problem(number, "activity", f"{line_code} and {activity_code} appear twice (also row "
                                              f"{where[(line_code, activity.id)]}).")
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
            plan.changes.append(Change("create", f"Allocation {line_code} → {codes.get(allocation.activity_id, '')}",
                                       f"{format(allocation.percent.normalize(), 'f')}% of {line_code}",
                                       "Allocations", where.get((line_code, allocation.activity_id))))

