"""One rule per fact: the workbook import refuses exactly what the pages refuse, with the same
words, and stores exactly what they store.

Driven by Hypothesis. Each example is one value put in a workbook cell (as text, the way a
person types it, or as a number or date cell, the way Excel keeps it) and the same value given
to the service a page calls (as the text the person would have typed). Both run in a
transaction that is rolled back, so the examples share one database:

* page refuses  <=>  the import's dry run reports a problem, and the problem is the service's
  own message at the cell's sheet, row and column;
* page accepts  =>  the import stores the same value (the same Decimal, the same cents, the
  same dates) after a round trip through the database.

Covered: a period's target and actual for each indicator unit (number, percent, yes/no,
qualitative), a new period's dates, a budget line's amounts (create mode, the grant ceiling
included) and an allocation's share. A blank cell is left out on purpose: in a workbook it
means "leave the value as it is", on a page it clears the value.
"""

import io
import os
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select

from tracker.budget import services as budget
from tracker.extensions import db
from tracker.imports import plan as plans
from tracker.imports.package import open_workbook
from tracker.imports.sheets import COLUMNS, SUMMARY, typed
from tracker.models import Activity, BudgetLine, Indicator, IndicatorPeriod, Project, ResultNode, User
from tracker.results import services as results
from tracker.validation import InputError

EXAMPLES = 25
# As in test_fuzz: fixed examples on CI (derived from each test's source), fresh ones locally.
# No shrinking: a failing example is reported as drawn (shrinking a workbook round trip is slow).
PARITY = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
                  phases=(Phase.explicit, Phase.reuse, Phase.generate),
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TRICKY = ["0", "-0", "-1", "1", "00", "12", "3.5", "1,5", "1,250", "1,250.75", "1.000,50", "12.34567", "0.0001",
          "1e3", "1E-3", "1e999999999", "-1e999999999", "1e-999999999", "NaN", "nan", "inf", "-Infinity", "100",
          "100.0", "100.01", "101", "250", "45%", "100%", " 7 ", "+5", "5 000", "½", "٣", "0x1F", "1_000",
          "9" * 14, "9" * 13, "yes", "no", "Yes", "Y", "có", "không", "khong", "true", "FALSE", "2", "maybe",
          "x" * 4001, "Hà Nội", "=1+1", "@x", "", "  "]


def _text_cell(value: str) -> bool:
    return value.strip() != "" and not ILLEGAL_CHARACTERS_RE.search(value)


TEXT_VALUES = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30),
                        st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
                        st.integers(min_value=-10 ** 15, max_value=10 ** 15).map(str)).filter(_text_cell)
NUMBER_VALUES = st.one_of(st.integers(min_value=-10 ** 15, max_value=10 ** 15),
                          st.floats(allow_nan=True, allow_infinity=True),
                          st.decimals(min_value=-10 ** 6, max_value=10 ** 6, places=4, allow_nan=False),
                          st.booleans())
# A cell: ("text", what was typed) or ("number", what Excel keeps).
CELLS = st.one_of(st.tuples(st.just("text"), TEXT_VALUES), st.tuples(st.just("number"), NUMBER_VALUES))


def page_text(cell) -> str:
    """What the person would have typed on the page for this cell: the text of a text cell, the
    plain form of a number (a date in ISO form)."""
    kind, value = cell[:2]
    return value if kind == "text" else typed(value)


def as_kept(cell):
    """(kind, the value as the workbook keeps it, the value written): a float comes back with the
    digits the file holds, text with XML's line ends; the page is given the kept value."""
    kind, value = cell
    data = book_bytes({"Sheet": [[cell]]})
    wb = open_workbook(data, "kept.xlsx")
    try:
        kept = next(wb["Sheet"].iter_rows(values_only=True))[0]
    finally:
        wb.close()
    return kind, kept, value


def put(ws, row: int, column: int, cell) -> None:
    kind, value = cell[0], cell[-1]  # what was drawn is what is written (see as_kept)
    target = ws.cell(row=row, column=column)
    target.value = value
    if kind == "text":
        target.data_type = "s"  # typed text, even "=1+1": not a formula


def book_bytes(sheets: dict[str, list[list]]) -> bytes:
    """A workbook whose sheets hold rows of plain values or ("text"|"number", value) cells."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, values in enumerate(rows, 1):
            for c, value in enumerate(values, 1):
                if isinstance(value, tuple):
                    put(ws, r, c, value)
                elif value is not None:
                    ws.cell(row=r, column=c, value=value)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def header_row(sheet: str, values: dict) -> tuple[list, list]:
    """Row 1 (the sheet's headers) and a row with ``values`` under the right keys."""
    keys = [c.key for c in COLUMNS[sheet]]
    return [c.header for c in COLUMNS[sheet]], [values.get(key) for key in keys]


def letter(sheet: str, key: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter([c.key for c in COLUMNS[sheet]].index(key) + 1)


def in_savepoint(call):
    """Run ``call`` in a savepoint that is always rolled back: (result, error message or None)."""
    savepoint = db.session.begin_nested()
    try:
        return call(), None
    except InputError as error:
        return None, error
    finally:
        savepoint.rollback()


@pytest.fixture
def world(app, demo):
    """One draft period per unit on fresh indicators of the demo project, and a manager."""
    with app.app_context():
        result = db.session.execute(select(ResultNode).where(ResultNode.project_id == demo,
                                                             ResultNode.code == "1.1")).scalar_one()
        for unit in ("number", "percent", "yesno", "qualitative"):
            indicator = Indicator(project_id=demo, result_id=result.id, code=f"P.{unit}", title=f"Parity {unit}",
                                  unit=unit, position=99)
            db.session.add(indicator)
            db.session.flush()
            db.session.add(IndicatorPeriod(project_id=demo, indicator_id=indicator.id, start_date=date(2016, 1, 1),
                                           end_date=date(2016, 6, 30), state="draft"))
        db.session.add(Indicator(project_id=demo, result_id=result.id, code="P.dates", title="Parity dates",
                                 unit="number", position=100))
        db.session.commit()
    ctx = app.app_context()
    ctx.push()
    yield {"project": db.session.get(Project, demo),
           "user": db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()}
    db.session.rollback()
    ctx.pop()


def _indicator(code: str) -> Indicator:
    return db.session.execute(select(Indicator).where(Indicator.code == code)).scalar_one()


def run_import(data: bytes, user, project):
    """The import as the dry run runs it, kept open long enough to read what it stored."""
    savepoint = db.session.begin_nested()
    try:
        wb = open_workbook(data, "parity.xlsx")
        plan = plans.run_import(wb, user, project)
        wb.close()
        return plan, savepoint
    except BaseException:
        savepoint.rollback()
        raise


# --- targets and actuals, every unit ----------------------------------------------------------

@pytest.mark.parametrize("unit", ["number", "percent", "yesno", "qualitative"])
@pytest.mark.parametrize("kind", ["target", "actual"])
@PARITY
@given(cell=CELLS)
def test_a_period_value_is_read_by_the_grid_rule(world, unit, kind, cell):
    project, user = world["project"], world["user"]
    cell = as_kept(cell)
    code = f"P.{unit}"
    period = _indicator(code).periods[0]
    save = results.save_target if kind == "target" else results.save_actual

    def on_the_page():
        saved = save(period, page_text(cell), period.version, user)
        db.session.refresh(saved)
        return saved.target if kind == "target" else saved.actual, getattr(saved, f"{kind}_text")

    page_value, page_error = in_savepoint(on_the_page)

    headers, row = header_row("Indicators", {"code": code, "start": datetime(2016, 1, 1),
                                             "end": datetime(2016, 6, 30), kind: cell})
    data = book_bytes({"Indicators": [headers, row]})
    dry = plans.dry_run(data, "parity.xlsx", user, project)
    if page_error is not None:
        assert not dry.ok, f"the page refuses {cell!r} ({page_error}) but the import accepts it"
        assert [str(p) for p in dry.problems] == [f"Indicators, row 2, column {letter('Indicators', kind)}: "
                                                  f"{page_error}"]
        return
    assert dry.ok, f"the page accepts {cell!r} but the import says {[str(p) for p in dry.problems]}"
    plan, savepoint = run_import(data, user, project)
    try:
        stored = db.session.get(IndicatorPeriod, period.id)
        db.session.refresh(stored)
        imported = (getattr(stored, kind), getattr(stored, f"{kind}_text"))
    finally:
        savepoint.rollback()
    assert imported == page_value and str(imported[0]) == str(page_value[0]), (cell, imported, page_value)


# --- a new period's dates ---------------------------------------------------------------------

DATES = st.dates(min_value=date(1890, 1, 1), max_value=date(2110, 12, 31))
DATE_CELLS = st.one_of(
    DATES.map(lambda d: ("number", datetime(d.year, d.month, d.day))),
    DATES.map(lambda d: ("text", d.isoformat())),
    st.sampled_from(["2016-02-30", "2016-13-01", "soon", "24/11/2016", "2016-11-24T10:00", "1899-12-31",
                     "2101-01-01", "2016-1-5"]).map(lambda t: ("text", t)),
    st.integers(min_value=-10, max_value=80_000).map(lambda n: ("number", n)),
)


@PARITY
@given(start=DATE_CELLS, length=st.integers(min_value=-40, max_value=400), end_cell=st.none() | DATE_CELLS)
def test_a_new_period_follows_the_period_rule(world, start, length, end_cell):
    project, user = world["project"], world["user"]
    indicator = _indicator("P.dates")
    if end_cell is None:  # mostly a period that could be real: the end a little after the start
        kind, value = start
        try:
            day = value.date() if kind == "number" and isinstance(value, datetime) else date.fromisoformat(value)
            end_cell = ("text", (day + timedelta(days=length)).isoformat())
        except (ValueError, TypeError, OverflowError):
            end_cell = ("text", "2016-06-30")

    def on_the_page():  # the indicator page's rule: its two date fields as typed
        period = results.add_period(indicator, page_text(start), page_text(end_cell), user)
        return period.start_date, period.end_date

    page_value, page_error = in_savepoint(on_the_page)

    headers, row = header_row("Indicators", {"code": "P.dates", "start": start, "end": end_cell})
    data = book_bytes({"Indicators": [headers, row]})
    dry = plans.dry_run(data, "parity.xlsx", user, project)
    if page_error is not None:
        assert not dry.ok, f"the page refuses {start!r}-{end_cell!r} ({page_error}) but the import accepts it"
        columns = {"start_date": "start", "end_date": "end"}
        assert {str(p) for p in dry.problems} == {
            f"Indicators, row 2, column {letter('Indicators', columns.get(field, 'start'))}: {message}"
            for field, message in page_error.errors.items()}
        return
    assert dry.ok, f"the page accepts {start!r}-{end_cell!r} but the import says {[str(p) for p in dry.problems]}"
    plan, savepoint = run_import(data, user, project)
    try:
        period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.indicator_id == indicator.id)
                                    ).scalar_one()
        assert (period.start_date, period.end_date) == page_value
    finally:
        savepoint.rollback()


# --- budget lines and allocations (create mode) -----------------------------------------------

FACTS = {"Project": "Parity project", "Project code": "PARITY-1", "Grant": 50000, "Currency": "USD",
         "Start date": datetime(2020, 1, 1), "End date": datetime(2020, 12, 31)}


def new_project_sheets(budget_rows=(), allocation_rows=()) -> dict:
    summary = [["Item", "Value"]] + [[label, FACTS.get(label)] for label, _attr, _kind in SUMMARY]
    logframe_headers, objective = header_row("Logframe", {"level": "Overall objective", "code": "1",
                                                          "logic": "Creative hubs grow"})
    _, activity = header_row("Logframe", {"level": "Activity", "code": "A1", "logic": "Train hub managers"})
    sheets = {"Summary": summary, "Logframe": [logframe_headers, objective, activity]}
    if budget_rows:
        budget_headers, _ = header_row("Budget", {})
        sheets["Budget"] = [budget_headers] + [header_row("Budget", values)[1] for values in budget_rows]
    if allocation_rows:
        allocation_headers, _ = header_row("Allocations", {})
        sheets["Allocations"] = [allocation_headers] + [header_row("Allocations", v)[1] for v in allocation_rows]
    return sheets


def on_a_new_project(sheets: dict, user, call):
    """``call(project)`` on the project the import creates from ``sheets``, all rolled back after:
    (its result, None) or (None, the InputError it raised)."""
    plan, savepoint = run_import(book_bytes(sheets), user, None)
    try:
        assert plan.ok, [str(p) for p in plan.problems]
        return call(plan.project), None
    except InputError as error:
        return None, error
    finally:
        savepoint.rollback()


def the_line(project) -> BudgetLine:
    return db.session.execute(select(BudgetLine).where(BudgetLine.project_id == project.id)).scalar_one()


MONEY_CELLS = st.one_of(
    CELLS,
    st.decimals(min_value=0, max_value=60_000, places=2).map(lambda d: ("text", str(d))),
    st.decimals(min_value=0, max_value=60_000, places=2).map(lambda d: ("number", d)),
    st.integers(min_value=0, max_value=60_000).map(lambda n: ("number", n)),
)


@PARITY
@given(original=MONEY_CELLS, revised=st.none() | MONEY_CELLS)
def test_a_budget_line_is_read_by_the_budget_rule(world, original, revised):
    user = world["user"]
    original, revised = as_kept(original), revised and as_kept(revised)
    line = {"code": "BL1", "description": "Trainers", "original": original, "revised": revised}

    def on_the_page(project):
        created = budget.create_line(project, {"code": "BL1", "description": "Trainers", "category": "other",
                                               "original": page_text(original),
                                               "revised": page_text(revised) if revised else ""}, user)
        return created.original_cents, created.revised_cents

    page_value, page_error = on_a_new_project(new_project_sheets(), user, on_the_page)
    data = book_bytes(new_project_sheets([line]))
    dry = plans.dry_run(data, "parity.xlsx", user, None)
    if page_error is not None:
        assert not dry.ok, f"the page refuses {line!r} ({page_error}) but the import accepts it"
        located = {f"Budget, row 2, column {letter('Budget', {'revised': 'revised'}.get(field, 'original'))}: "
                   f"{message}" for field, message in page_error.errors.items()}
        assert {str(p) for p in dry.problems} == located
        return
    assert dry.ok, f"the page accepts {line!r} but the import says {[str(p) for p in dry.problems]}"
    stored, _ = on_a_new_project(new_project_sheets([line]), user,
                                 lambda project: (the_line(project).original_cents, the_line(project).revised_cents))
    assert stored == page_value


@PARITY
@given(share=CELLS)
def test_an_allocation_is_read_by_the_allocation_rule(world, share):
    user = world["user"]
    share = as_kept(share)
    line = {"code": "BL1", "description": "Trainers", "original": 1000}

    def on_the_page(project):
        activity = db.session.execute(select(Activity).where(Activity.project_id == project.id)).scalar_one()
        budget.set_allocations(the_line(project), {activity.id: page_text(share)})
        return [a.percent for a in the_line(project).allocations]

    page_value, page_error = on_a_new_project(new_project_sheets([line]), user, on_the_page)
    sheets = new_project_sheets([line], [{"line": "BL1", "activity": "A1", "share": share}])
    data = book_bytes(sheets)
    dry = plans.dry_run(data, "parity.xlsx", user, None)
    if page_error is not None:
        assert not dry.ok, f"the page refuses {share!r} ({page_error}) but the import accepts it"
        assert [p.message for p in dry.problems] == list(page_error.errors.values())
        assert {(p.sheet, p.row, p.column) for p in dry.problems} == {("Allocations", 2, "C")}
        return
    assert dry.ok, f"the page accepts {share!r} but the import says {[str(p) for p in dry.problems]}"
    stored, _ = on_a_new_project(sheets, user, lambda project: [a.percent for a in the_line(project).allocations])
    assert stored == page_value and [str(v) for v in stored] == [str(v) for v in page_value]
