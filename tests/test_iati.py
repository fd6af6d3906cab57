"""The IATI 2.03 activity file: valid against the official schema (tests/data/iati/), and saying what
the project is (organisations, status, dates, budgets, transactions, results with evidence)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from tracker.exports.iati import activity_status, validation_errors, yearly_budgets
from tracker.extensions import db
from tracker.models import EvidenceItem, Expenditure, Project

# The official IATI 2.03 schema, carried in the repository so a clone alone runs these tests.
SCHEMA = Path(__file__).resolve().parent / "data" / "iati" / "iati-activities-schema.xsd"


@pytest.fixture(scope="module")
def schema():
    if not SCHEMA.exists():
        pytest.fail(f"The IATI schema is missing: expected {SCHEMA} (tests/data/iati/ in the repository).")
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def iati_of(client, auth, demo, role="liaison"):
    auth.login(role)
    response = client.get(f"/projects/{demo}/export.iati.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_the_iati_file_validates_against_the_2_03_schema(client, auth, demo, schema):
    xml = iati_of(client, auth, demo)
    document = etree.fromstring(xml)
    assert schema.validate(document), [str(e) for e in schema.error_log]
    assert document.get("version") == "2.03"
    assert validation_errors(xml, SCHEMA) == []


def test_the_activity_names_the_project_and_its_organisations(client, auth, demo):
    activity = etree.fromstring(iati_of(client, auth, demo)).find("iati-activity")
    assert activity.findtext("iati-identifier") == "XM-DAC-41304-KFIT-VNM-CI"
    reporting = activity.find("reporting-org")
    assert reporting.get("ref") == "XM-DAC-41304" and reporting.get("type") == "40"
    assert activity.findtext("title/narrative").startswith("Supporting the Implementation")
    descriptions = {d.get("type"): d.findtext("narrative") for d in activity.findall("description")}
    assert "Quyết định 1755/QĐ-TTg" in descriptions["1"] and "Huế" in descriptions["1"]
    assert descriptions["2"].startswith("to support the Government of Viet Nam")
    roles = {(o.get("role"), o.findtext("narrative")) for o in activity.findall("participating-org")}
    assert ("1", "Korean Funds-in-Trust") in roles
    assert ("4", "UNESCO Office in Ha Noi") in roles and ("4", "Ministry of Culture, Sports and Tourism") in roles
    dates = {d.get("type"): d.get("iso-date") for d in activity.findall("activity-date")}
    assert dates["1"] == "2016-01-01" and dates["3"] == "2017-12-31" and dates["2"] == "2016-07-01"
    assert activity.find("activity-status").get("code") in {"2", "3", "4"}
    assert activity.find("recipient-country").get("code") == "VN"


def test_budgets_per_year_add_up_to_the_grant(app, client, auth, demo):
    activity = etree.fromstring(iati_of(client, auth, demo)).find("iati-activity")
    budgets = activity.findall("budget")
    assert [(b.find("period-start").get("iso-date"), b.find("period-end").get("iso-date")) for b in budgets] == [
        ("2016-01-01", "2016-12-31"), ("2017-01-01", "2017-12-31")]
    assert sum(Decimal(b.findtext("value")) for b in budgets) == Decimal("120000.00")


def test_expenditures_are_transactions(app, client, auth, demo):
    activity = etree.fromstring(iati_of(client, auth, demo)).find("iati-activity")
    transactions = activity.findall("transaction")
    with app.app_context():
        expected = db.session.execute(select(func.count()).select_from(Expenditure)).scalar()
        total = db.session.execute(select(func.sum(Expenditure.amount_cents))).scalar()
    assert len(transactions) == expected == 6
    assert sum(Decimal(t.findtext("value")) for t in transactions) * 100 == total
    by_ref = {t.get("ref"): t for t in transactions}
    assert by_ref["V-2016-003"].find("transaction-type").get("code") == "4"  # disbursed: expenditure
    assert by_ref["V-2016-006"].find("transaction-type").get("code") == "2"  # committed: outgoing commitment
    assert by_ref["V-2016-003"].findtext("receiver-org/narrative") == "Century Riverside Hotel, Huế"
    assert by_ref["V-2016-003"].find("value").get("value-date") == "2016-11-25"


def test_results_indicators_periods_and_evidence_under_the_actual(client, auth, demo):
    activity = etree.fromstring(iati_of(client, auth, demo)).find("iati-activity")
    results = activity.findall("result")
    assert {r.get("type") for r in results} == {"1", "2", "3"}
    indicators = {i.findtext("title/narrative").split(" ")[0]: i for r in results for i in r.findall("indicator")}
    press = indicators["1.1.b"]
    assert press.get("measure") == "1" and press.get("ascending") == "1"
    assert press.find("baseline").get("value") == "0" and press.find("baseline").get("year") == "2016"
    second_half = next(p for p in press.findall("period")
                       if p.find("period-start").get("iso-date") == "2016-07-01")
    assert second_half.find("target").get("value") == "6"
    actuals = second_half.findall("actual")
    main = actuals[0]
    assert main.get("value") == "9"
    links = main.findall("document-link")
    assert len(links) == 9  # the nine press clippings back this actual
    un = next(link for link in links if "un.org.vn" in link.get("url"))
    assert un.get("format") == "text/html"
    assert un.findtext("title/narrative") == "Creative hubs in Viet Nam receive spotlight during National policy dialogue"
    assert un.find("document-date").get("iso-date") == "2016-11-24" and un.find("language").get("code") == "en"
    assert "not yet approved" in main.findtext("comment/narrative")
    dimensions = {(a.find("dimension").get("name"), a.find("dimension").get("value")): a.get("value")
                  for a in actuals[1:]}
    assert dimensions == {("Language", "Vietnamese"): "8", ("Language", "English"): "1"}
    qualitative = indicators["1.2.c"]
    assert qualitative.get("measure") == "5" and qualitative.get("ascending") is None
    assert "Huế policy dialogue" in "".join(qualitative.itertext())


def test_evidence_without_a_web_address_or_deleted_is_not_published(app, client, auth, demo, schema):
    with app.app_context():
        clipping = db.session.execute(select(EvidenceItem).where(EvidenceItem.source == "UN Website")).scalar_one()
        from datetime import UTC, datetime

        clipping.deleted_at = datetime.now(UTC)
        other = db.session.execute(select(EvidenceItem).where(EvidenceItem.source == "National Times")).scalar_one()
        other.url = "javascript:alert(1)"
        db.session.commit()
    xml = iati_of(client, auth, demo)
    assert b"un.org.vn" not in xml and b"javascript:" not in xml
    assert schema.validate(etree.fromstring(xml))


def test_a_project_with_awkward_text_still_validates(app, client, auth, demo, schema):
    with app.app_context():
        project = db.session.get(Project, demo)
        project.title = "Dự án <Huế> & \"Hà Nội\"\x07"
        project.iati_identifier = ""
        project.country = ""
        db.session.commit()
    xml = iati_of(client, auth, demo, role="auditor")
    document = etree.fromstring(xml)
    assert schema.validate(document), [str(e) for e in schema.error_log]
    activity = document.find("iati-activity")
    assert activity.findtext("title/narrative") == "Dự án <Huế> & \"Hà Nội\""
    assert activity.findtext("iati-identifier") == "XM-DAC-41304-KFIT-VNM-CI"


def test_status_and_budget_rules():
    project = Project(code="P", title="P", grant_cents=100_00, start_date=date(2016, 7, 1), end_date=date(2018, 6, 30))
    assert activity_status(project, date(2016, 1, 1), False, False) == "1"
    assert activity_status(project, date(2017, 1, 1), False, False) == "2"
    assert activity_status(project, date(2019, 1, 1), True, False) == "3"
    assert activity_status(project, date(2019, 1, 1), False, False) == "4"
    assert activity_status(project, date(2017, 1, 1), False, True) == "5"
    budgets = yearly_budgets(project)
    assert [(b[0].isoformat(), b[1].isoformat()) for b in budgets] == [
        ("2016-07-01", "2016-12-31"), ("2017-01-01", "2017-12-31"), ("2018-01-01", "2018-06-30")]
    assert sum(b[2] for b in budgets) == 100_00
