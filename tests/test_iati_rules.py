"""The IATI file against the IATI Standard's own ruleset, beyond the schema (issue 16).

The public IATI validator applies ``rulesets/standard.json`` of the IATI-Rulesets project. The rules
that bear on what tracker/exports/iati.py writes are restated in tests/data/iati/standard_ruleset_subset.json
(with the commit they come from) and evaluated here with lxml, each test named after its rule:
``atleast_one``, ``one_or_all``, ``date_now``, ``date_order``, ``time_limit``, ``regex_matches``, ``sum``,
``strict_sum``, ``range``, and the 2.03 reference's rule for ``narrative`` (one per language in an element).
A broken document shows that each check can fail.
"""

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from tracker.exports.iati import validation_errors

DATA = Path(__file__).resolve().parent / "data" / "iati"
RULES = json.loads((DATA / "standard_ruleset_subset.json").read_text(encoding="utf-8"))["rules"]
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _values(node, path: str) -> list[str]:
    found = node.xpath(path)
    return [str(item.text if hasattr(item, "text") and not isinstance(item, str) else item).strip() for item in found]


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _number(text: str) -> float:
    return float(text)


def broken_rules(document: bytes, today: date | None = None) -> list[str]:
    """Each rule of the subset that ``document`` breaks, as "rule context paths: why"."""
    today = today or datetime.now(UTC).date()
    root = etree.fromstring(document)
    problems = []
    for rule in RULES:
        name = f"{rule['rule']} {rule['context']}"
        for node in root.xpath(rule["context"]):
            why = _check(rule, node, today)
            if why:
                problems.append(f"{name}: {why}")
    problems += [f"narrative one per language: {why}" for why in _narrative_languages(root)]
    return problems


def _check(rule: dict, node, today: date) -> str | None:  # noqa: PLR0911 - one branch per rule
    kind = rule["rule"]
    if kind == "atleast_one":
        return None if any(node.xpath(path) for path in rule["paths"]) else f"none of {rule['paths']}"
    if kind == "one_or_all":
        if node.xpath(rule["one"]):
            return None
        element_path, attribute = rule["all"].rsplit("/", 1)
        elements = node.xpath(f".//{element_path}")
        missing = [e for e in elements if not e.xpath(attribute)]
        return f"{len(missing)} {element_path} without {attribute}" if missing else None
    if kind == "date_now":
        stamps = _values(node, rule["date"])
        return next((f"{s} is in the future" for s in stamps if _day(s) > today), None)
    if kind == "date_order":
        less = [_day(v) for v in _values(node, rule["less"])]
        more = [today] if rule["more"] == "NOW" else [_day(v) for v in _values(node, rule["more"])]
        for first in less:
            for second in more:
                if first > second:
                    return f"{rule['less']} {first} after {rule['more']} {second}"
        return None
    if kind == "time_limit":
        parent = rule["start"].split("/")[0]
        for element in node.xpath(parent):
            start = _day(element.xpath(rule["start"].split("/", 1)[1])[0])
            end = _day(element.xpath(rule["end"].split("/", 1)[1])[0])
            if end - start > timedelta(days=366):
                return f"{parent} from {start} to {end} is longer than a year"
        return None
    if kind == "regex_matches":
        pattern = re.compile(rule["regex"])
        for path in rule["paths"]:
            for value in _values(node, path):
                if not pattern.fullmatch(value):
                    return f"{path} {value!r} does not match {rule['regex']}"
        return None
    if kind in ("sum", "strict_sum"):
        numbers = [_number(v) for path in rule["paths"] for v in _values(node, path)]
        if numbers and abs(sum(numbers) - rule["sum"]) > (0 if kind == "strict_sum" else 0.01):
            return f"{rule['paths']} add up to {sum(numbers)}, not {rule['sum']}"
        return None
    if kind == "range":
        low = [v for path in rule["paths"] for v in _values(node, path) if _number(v) < rule["min"]]
        return f"{low} below {rule['min']}" if low else None
    raise AssertionError(f"no check written for the rule {kind}")


def _narrative_languages(root) -> list[str]:
    """IATI 2.03, ``narrative``: an element's narratives are each in a different language (the
    activity's ``xml:lang`` where a narrative names none)."""
    problems = []
    for activity in root.iter("iati-activity"):
        default = activity.get(XML_LANG, "")
        for parent in activity.iter():
            langs = [n.get(XML_LANG, default) for n in parent if n.tag == "narrative"]
            if len(langs) != len(set(langs)):
                problems.append(f"{parent.tag} (line {parent.sourceline}) has narratives in {langs}")
    return problems


@pytest.fixture
def demo_iati(client, auth, demo):
    auth.login("liaison")
    response = client.get(f"/projects/{demo}/export.iati.xml")
    assert response.status_code == 200
    return response.data


def test_every_rule_is_checked_by_this_file():
    assert {rule["rule"] for rule in RULES} == {"atleast_one", "one_or_all", "date_now", "date_order", "time_limit",
                                                "regex_matches", "sum", "strict_sum", "range"}


def test_the_demo_file_with_narratives_passes_the_standard_ruleset(demo_iati):
    assert broken_rules(demo_iati) == []
    assert validation_errors(demo_iati, DATA / "iati-activities-schema.xsd") == []


def test_the_demo_file_carries_the_narratives_where_the_standard_puts_them(demo_iati):
    activity = etree.fromstring(demo_iati).find("iati-activity")
    assert activity.find("sector").attrib == {"vocabulary": "1", "code": "16061", "percentage": "100"}
    results = {r.findtext("title/narrative").split(" ")[0]: r for r in activity.findall("result")}
    outcome = results["1.1"].findtext("description/narrative")
    assert outcome.startswith("2016 H2 (2016-07-01 to 2016-12-31): What changed: on 24 November 2016")
    press = next(i for i in activity.iter("indicator") if i.findtext("title/narrative").startswith("1.1.b "))
    h2 = next(p for p in press.findall("period") if p.find("period-start").get("iso-date") == "2016-07-01")
    assert h2.findtext("target/comment/narrative").startswith("Variance: Illustrative: coverage exceeded")
    assert "Nine press clippings, from 12 October to 26 November 2016" in h2.findtext("actual/comment/narrative")


# --- the checks can fail --------------------------------------------------------------------


BROKEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03" generated-datetime="2016-01-01T00:00:00Z">
 <iati-activity last-updated-datetime="2999-01-01T00:00:00Z">
  <iati-identifier>XM/BAD</iati-identifier>
  <reporting-org ref="XM?1" type="40"><narrative>Org</narrative></reporting-org>
  <title><narrative>One</narrative><narrative>Two</narrative></title>
  <participating-org role="1"/>
  <activity-date type="1" iso-date="2017-01-01"/><activity-date type="3" iso-date="2016-01-01"/>
  <recipient-country code="VN" percentage="60"/>
  <sector vocabulary="1" code="16061" percentage="-50"/>
  <budget type="1" status="1"><period-start iso-date="2016-01-01"/><period-end iso-date="2017-12-31"/>
   <value value-date="2016-01-01">1</value></budget>
  <transaction><transaction-type code="4"/><transaction-date iso-date="2999-01-01"/>
   <value value-date="2016-01-01">1</value></transaction>
  <result type="1"><title><narrative>R</narrative></title><indicator measure="1"><title><narrative>I</narrative></title>
   <period><period-start iso-date="2016-12-31"/><period-end iso-date="2016-01-01"/></period></indicator></result>
 </iati-activity>
</iati-activities>"""


@pytest.mark.parametrize("expected", [
    "one_or_all //iati-activity: 5 narrative without @xml:lang",
    "one_or_all //iati-activity: 2 value without @currency",
    "date_now //iati-activity: 2999-01-01T00:00:00Z is in the future",
    "date_order //iati-activity: activity-date[@type='1']/@iso-date 2017-01-01 after",
    "time_limit //iati-activity: budget from 2016-01-01 to 2017-12-31 is longer than a year",
    "regex_matches //iati-activity: reporting-org/@ref 'XM?1'",
    "sum //iati-activity: ['recipient-country/@percentage', 'recipient-region/@percentage'] add up to 60.0",
    "strict_sum //iati-activity:",
    "range //iati-activity: ['-50'] below 0.0",
    "atleast_one //participating-org: none of ['@ref', 'narrative']",
    "date_order //transaction: transaction-date/@iso-date 2999-01-01 after NOW",
    "date_order //result/indicator/period: period-start/@iso-date 2016-12-31",
    "narrative one per language: title",
])
def test_each_check_finds_what_breaks_its_rule(expected):
    problems = broken_rules(BROKEN, today=date(2020, 1, 1))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_an_activity_without_a_sector_breaks_atleast_one():
    without = BROKEN.replace(b'<sector vocabulary="1" code="16061" percentage="-50"/>', b"")
    assert any(p.startswith("atleast_one //iati-activity: none of ['sector'") for p in broken_rules(without))


def test_a_budget_ending_before_it_starts_breaks_date_order():
    upside_down = BROKEN.replace(b'<period-end iso-date="2017-12-31"/>', b'<period-end iso-date="2015-12-31"/>')
    assert any(p.startswith("date_order //budget: period-start/@iso-date 2016-01-01 after")
               for p in broken_rules(upside_down))
