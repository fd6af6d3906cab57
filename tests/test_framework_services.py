"""Creating a project, its results and its indicators through the services directly.

The rules every way in shares (the workbook import's create mode today): each refusal says
what is wrong, names the field, and adds nothing (no row, no audit event); good input creates
the rows, which the audit trail records through its session hook, and is flushed, never
committed.
"""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.imports import plan as plans
from tracker.imports.sheets import COLUMNS
from tracker.models import AuditEvent, Indicator, Project, ResultNode
from tracker.projects import services as projects
from tracker.results import services as results
from tracker.validation import InputError

FACTS = {"title": "Dự án thử nghiệm ở Huế", "code": "NEW-HUE-1", "donor": "Korean Funds-in-Trust",
         "grant": "50,000.00", "currency": "usd", "start_date": "2020-01-01", "end_date": date(2020, 12, 31),
         "country": "vn", "objective": "Strengthen creative hubs in Huế"}


def counts() -> tuple[int, ...]:
    """How many projects, results, indicators and audit events there are."""
    return tuple(db.session.execute(select(func.count()).select_from(model)).scalar()
                 for model in (Project, ResultNode, Indicator, AuditEvent))


def inserted(table: str, row_id: int) -> dict:
    """The changes of the audit event recording the insert of that row (there is exactly one)."""
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "insert", AuditEvent.table_name == table,
                                                        AuditEvent.row_id == row_id)).scalar_one()
    return json.loads(event.changes) | {"project_id": event.project_id}


def refused(call, field: str, message: str) -> InputError:
    """``call`` raises an InputError with ``message`` on ``field`` and leaves every table as it was."""
    before = counts()
    with pytest.raises(InputError) as caught:
        call()
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field], caught.value.errors
    assert counts() == before
    return caught.value


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def project(ctx) -> Project:
    return projects.create_project(dict(FACTS))


# --- projects ---------------------------------------------------------------------------------

def test_a_project_is_created_from_typed_facts_and_audited(ctx):
    before = counts()
    project = projects.create_project(dict(FACTS))
    assert (project.title, project.code, project.grant_cents, project.currency, project.country) == (
        "Dự án thử nghiệm ở Huế", "NEW-HUE-1", 50_000_00, "USD", "VN")
    assert (project.start_date, project.end_date) == (date(2020, 1, 1), date(2020, 12, 31))
    assert counts()[0] == before[0] + 1
    event = inserted("project", project.id)
    assert event["code"] == [None, "NEW-HUE-1"] and event["project_id"] == project.id
    # flushed, not committed: the caller's rollback takes it away
    db.session.rollback()
    assert db.session.execute(select(Project).where(Project.code == "NEW-HUE-1")).scalar() is None


def test_a_project_without_a_currency_is_in_usd_and_numbers_from_cells_are_read(ctx):
    project = projects.create_project(dict(FACTS, currency="", country="", grant=120000,
                                           start_date=date(2016, 1, 1)))
    assert (project.currency, project.country, project.grant_cents) == ("USD", "", 120_000_00)


@pytest.mark.parametrize(("facts", "field", "message"), [
    ({"title": "  "}, "title", "Give the project a title."),
    ({"title": "x" * 301}, "title", "The title has at most 300 characters."),
    ({"code": ""}, "code", "Give the project a code"),
    ({"code": "X" * 41}, "code", "The project code has at most 40 characters."),
    ({"code": "KFIT-VNM-CI"}, "code", "A project with the code KFIT-VNM-CI exists already"),
    ({"donor": "d" * 201}, "donor", "The donor has at most 200 characters."),
    ({"grant": ""}, "grant", "The grant is required."),
    ({"grant": "1,5"}, "grant", "could be read two ways"),
    ({"grant": "-5"}, "grant", "The grant must be more than zero."),
    ({"grant": "0"}, "grant", "The grant must be more than zero."),
    ({"grant": "10.005"}, "grant", "The grant can have at most two decimals."),
    ({"currency": "XYZ"}, "currency", "The currency must be an ISO 4217 code"),
    ({"currency": "DOLLARS"}, "currency", "The currency must be an ISO 4217 code"),
    ({"country": "VNM"}, "country", "The country is a two-letter ISO code"),
    ({"country": "V1"}, "country", "The country is a two-letter ISO code"),
    ({"start_date": ""}, "start_date", "The start date is required"),
    ({"start_date": "01/02/2020"}, "start_date", "The start date must be a date such as 2016-11-24."),
    ({"start_date": "1899-12-31"}, "start_date", "The start date must be between 1900 and 2100."),
    ({"end_date": None}, "end_date", "The end date is required"),
    ({"end_date": "2019-01-01"}, "end_date", "The project ends (2019-01-01) before it starts (2020-01-01)."),
])
def test_each_rule_of_a_projects_facts_refuses_and_changes_nothing(ctx, facts, field, message):
    refused(lambda: projects.create_project(dict(FACTS, **facts)), field, message)


def test_every_bad_fact_is_reported_at_once(ctx):
    error = refused(lambda: projects.create_project(dict(FACTS, title="", grant="abc", currency="XYZ",
                                                         code="KFIT-VNM-CI")), "title", "title")
    assert set(error.errors) == {"title", "grant", "currency", "code"}


def test_the_facts_can_be_checked_without_the_database(ctx):
    values = projects.check_project_facts(dict(FACTS, code="KFIT-VNM-CI"))  # the clash is create_project's
    assert values["grant_cents"] == 50_000_00 and values["currency"] == "USD"
    with pytest.raises(TypeError):
        projects.check_project_facts(dict(FACTS, grant_cents=5))


# --- results ----------------------------------------------------------------------------------

def test_results_are_created_under_their_parents_and_audited(project):
    objective = results.create_result(project, code="1", level="Overall objective", statement="Hubs grow",
                                      assumptions="Stable policy")
    outcome = results.create_result(project, code="1.1", level="EXPECTED RESULT", statement="Hubs are supported",
                                    position=1)
    output = results.create_result(project, code=" 1.1.1 ", level="output", statement="Training delivered",
                                   parent=outcome, position=2)
    assert [(r.code, r.level) for r in (objective, outcome, output)] == [
        ("1", "objective"), ("1.1", "outcome"), ("1.1.1", "output")]
    assert objective.parent is None and outcome.parent is objective and output.parent is outcome
    assert objective.assumptions == "Stable policy"
    assert inserted("result_node", output.id)["code"] == [None, "1.1.1"]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"code": ""}, "code", "Give the result a code"),
    ({"code": "1." + "1" * 19}, "code", "A result code has at most 20 characters."),
    ({"code": "1"}, "code", "The code 1 is already used by a result of this project"),
    ({"code": "1.a"}, "code", "The code 1.a is already used by an indicator of this project"),
    ({"level": "Goal"}, "level", "“Goal” is not a level of the results framework; use Overall objective, "
                                 "Expected result or Output."),
    ({"level": ""}, "level", "Give the level"),
    ({"statement": " "}, "statement", "State the result"),
    ({"code": "2.5.1"}, "parent", "Result 2.5.1 needs its parent result 2.5"),
    ({"code": "1.1", "level": "Overall objective"}, "parent", "Overall objective 1.1 cannot sit under overall "
                                                              "objective 1"),
])
def test_each_rule_of_a_result_refuses_and_changes_nothing(project, fields, field, message):
    objective = results.create_result(project, code="1", level="objective", statement="Hubs grow")
    results.create_indicator(project, objective, code="1.a", title="Policy adopted", unit="yesno")
    arguments = {"code": "1.2", "level": "outcome", "statement": "Policy is drafted", **fields}
    refused(lambda: results.create_result(project, **arguments), field, message)


def test_a_given_parent_must_be_the_one_its_code_names(project):
    objective = results.create_result(project, code="1", level="objective", statement="Hubs grow")
    outcome = results.create_result(project, code="1.1", level="outcome", statement="Hubs are supported")
    refused(lambda: results.create_result(project, code="1.2.1", level="output", statement="x", parent=outcome),
            "parent", "Result 1.2.1 belongs under result 1.2, not 1.1")
    refused(lambda: results.create_result(project, code="2", level="outcome", statement="x", parent=objective),
            "parent", "has a one-part code, so it has no parent")


def test_result_codes_are_per_project(project):
    # the demo project has a result 1 and 1.1; the new project may use the same codes
    node = results.create_result(project, code="1", level="objective", statement="Hubs grow")
    assert node.project_id == project.id


def test_levels_are_read_by_value_or_label_in_any_case():
    assert [results.parse_level(text) for text in ("objective", "Overall Objective", "expected result",
                                                   "OUTCOME", "Output")] == [
        "objective", "objective", "outcome", "outcome", "output"]
    with pytest.raises(InputError, match="not a level"):
        results.parse_level("Activity")


# --- indicators -------------------------------------------------------------------------------

@pytest.fixture
def outcome(project) -> ResultNode:
    results.create_result(project, code="1", level="objective", statement="Hubs grow")
    return results.create_result(project, code="1.1", level="outcome", statement="Hubs are supported")


def test_an_indicator_is_created_with_its_unit_baseline_and_target_and_audited(project, outcome):
    indicator = results.create_indicator(project, outcome, code="1.1.a", title="Hubs supported", unit="Number",
                                         means_of_verification="Reports", baseline="0", target="1,250", position=3)
    assert (indicator.unit, indicator.baseline_value, indicator.target_value) == ("number", 0, Decimal(1250))
    assert (indicator.result_id, indicator.position, indicator.means_of_verification) == (outcome.id, 3, "Reports")
    assert inserted("indicator", indicator.id)["title"] == [None, "Hubs supported"]
    words = results.create_indicator(project, outcome, code="1.1.b", title="Policy", unit="qualitative",
                                     baseline="None yet", target="A draft policy")
    assert (words.baseline_value, words.baseline_text, words.target_text) == (None, "None yet", "A draft policy")


@pytest.mark.parametrize(("typed", "unit"), [
    ("", "number"), ("number", "number"), ("Percent", "percent"), ("%", "percent"), ("yes/no", "yesno"),
    ("YES / NO", "yesno"), ("yesno", "yesno"), ("Qualitative", "qualitative"),
])
def test_units_are_read_by_value_or_label_in_any_case(typed, unit):
    assert results.parse_unit(typed) == unit


def test_a_yes_no_indicators_target_is_read_as_on_the_grid(project, outcome):
    indicator = results.create_indicator(project, outcome, code="1.1.a", title="Policy adopted", unit="Yes / no",
                                         baseline="no", target="có")
    assert (indicator.baseline_value, indicator.target_value) == (0, 1)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"code": ""}, "code", "Give the indicator a code"),
    ({"code": "x" * 21}, "code", "An indicator code has at most 20 characters."),
    ({"code": "1.1"}, "code", "The code 1.1 is already used by a result of this project"),
    ({"code": "1.1.a"}, "code", "The code 1.1.a is already used by an indicator of this project"),
    ({"title": ""}, "title", "Give the indicator a title"),
    ({"unit": "Litres"}, "unit", "unknown unit “Litres”: use Number, Percent, Yes / no or Qualitative."),
    ({"baseline": "-3"}, "baseline", "The baseline cannot be negative"),
    ({"target": "1,5"}, "target", "could be read two ways"),
    ({"unit": "percent", "target": "250"}, "target", "The target must be from 0 to 100."),
    ({"unit": "yesno", "target": "maybe"}, "target", "The target must be yes or no"),
])
def test_each_rule_of_an_indicator_refuses_and_changes_nothing(project, outcome, fields, field, message):
    results.create_indicator(project, outcome, code="1.1.a", title="Hubs supported", unit="number")
    arguments = {"code": "1.1.b", "title": "Managers trained", "unit": "number", **fields}
    refused(lambda: results.create_indicator(project, outcome, **arguments), field, message)


def test_an_indicator_needs_a_result_of_its_project(project, outcome):
    refused(lambda: results.create_indicator(project, None, code="1.1.a", title="x", unit="number"),
            "result", "Indicator 1.1.a needs the result it measures")
    theirs = db.session.execute(select(ResultNode).where(ResultNode.project_id != project.id)).scalars().first()
    refused(lambda: results.create_indicator(project, theirs, code="1.1.a", title="x", unit="number"),
            "result", "needs the result it measures")


def test_every_bad_field_of_an_indicator_is_reported_at_once(project, outcome):
    error = refused(lambda: results.create_indicator(project, outcome, code="", title="", unit="number",
                                                     baseline="-1", target="x"), "code", "code")
    assert set(error.errors) == {"code", "title", "baseline", "target"}


# --- the workbook import is a translation over these services ---------------------------------

def _workbook(summary: dict, logframe: list[dict]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    sheet = book.create_sheet("Summary")
    sheet.append(["Item", "Value"])
    for label, value in summary.items():
        sheet.append([label, value])
    sheet = book.create_sheet("Logframe")
    keys = [column.key for column in COLUMNS["Logframe"]]
    sheet.append([column.header for column in COLUMNS["Logframe"]])
    for row in logframe:
        sheet.append([row.get(key) for key in keys])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SUMMARY_ROWS = {"Project": "Import project", "Project code": "IMP-1", "Grant": 50000, "Currency": "USD",
                "Start date": "2020-01-01", "End date": "2020-12-31"}


def _where(plan) -> dict[tuple, str]:
    return {(p.sheet, p.row, p.column): p.message for p in plan.problems}


def test_the_import_puts_each_project_error_on_its_fact_row(ctx):
    summary = {label: value for label, value in SUMMARY_ROWS.items() if label != "Project code"}
    summary["Currency"] = "XYZ"
    plan = plans.dry_run(_workbook(summary, [{"level": "Overall objective", "code": "1", "logic": "Grow"}]),
                         "new.xlsx", None, None)
    assert _where(plan) == {
        ("Summary", 4, "B"): "The currency must be an ISO 4217 code such as USD or VND.",
        ("Summary", None, "A"): "the row “Project code” is missing: Give the project a code, for example KFIT-VNM-CI.",
    }


def test_the_import_puts_each_result_and_indicator_error_on_its_column(ctx):
    before = counts()
    plan = plans.dry_run(_workbook(SUMMARY_ROWS, [
        {"level": "Overall objective", "code": "1", "logic": "Hubs grow"},
        {"level": "Goal", "code": "1.1", "logic": "Hubs are supported"},
        {"level": "Output", "code": "2.5.1", "logic": "An orphan output"},
        {"level": "Indicator", "code": "1.a", "indicator": "Policy adopted", "unit": "Yes / no", "target": "maybe"},
        {"level": "Indicator", "code": "1", "indicator": "Hubs", "unit": "Litres", "baseline": -3},
    ]), "new.xlsx", None, None)
    assert _where(plan) == {
        ("Logframe", 3, "A"): "“Goal” is not a level of the results framework; use Overall objective, Expected "
                              "result or Output.",
        ("Logframe", 4, "B"): "Result 2.5.1 needs its parent result 2.5; add 2.5 first.",
        ("Logframe", 5, "G"): "The target must be yes or no (this indicator is yes/no); you typed “maybe”.",
        ("Logframe", 6, "B"): "The code 1 is already used by a result of this project; each code names one thing "
                              "in the results framework.",
        ("Logframe", 6, "E"): "unknown unit “Litres”: use Number, Percent, Yes / no or Qualitative.",
    }
    assert counts() == before  # a dry run leaves nothing behind
