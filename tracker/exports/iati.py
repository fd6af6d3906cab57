"""The project as an IATI 2.03 activity (``iati-activities`` with one ``iati-activity``).

What goes where (codelists of IATI 2.03):

* identifier: the project's IATI identifier (else ``<reporting org>-<project code>``); the
  reporting organisation is the implementing agency, its ``ref`` the identifier's prefix;
* participating organisations: the donor as funding (role 1), the implementing agency and
  each implementing partner as implementing (role 4);
* activity status from the dates (1 pipeline, 2 implementation, 3 finalisation while
  commitments are still open after the end, 4 closed) and dates 1-4 (planned/actual start
  and end; actual end only when every activity is completed or cancelled);
* descriptions: the summary (type 1, general) and the objective (type 2, objectives);
* budgets: the grant split over the calendar years of the project in proportion to the days
  of each year, marked original (type 1) and indicative (status 1): the app keeps no yearly
  budget, so this is an even spread, not a plan;
* transactions: each expenditure, committed ones as outgoing commitments (type 2) and
  disbursed ones as expenditure (type 4), with the payee as receiver;
* results: each result that has indicators (IATI requires at least one), type 3 impact for
  the objective, 2 outcome, 1 output; each indicator with its measure (1 unit for numbers and
  yes/no, 2 percentage, 5 qualitative), ascending flag, baseline, and every period with its
  target and actual; disaggregated values become further ``actual`` elements with a
  ``dimension``; actuals not yet approved say so in their comment;
* evidence: ``document-link`` under the actual of the period it backs (and under the
  result it backs), for items with a public web address only: stored files are private;
* narratives (issue 16): a result's narratives per reporting period become the result's
  ``description`` (one narrative, each period's text after its label); a period's progress
  narrative goes into its actual's ``comment`` and its variance explanation into its target's
  ``comment`` ("Variance: ..."; into the actual's comment where the period has no target);
* sector: the project's DAC 5-digit purpose code (``Project.iati_sector``, vocabulary 1, 100%)
  when set: the IATI Standard's ruleset (tests/test_iati_rules.py) asks every activity for one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Activity,
    DimensionCategory,
    DisaggregatedValue,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    Project,
    ResultNode,
)
from ..spreadsheets import safe_hyperlink
from ..validation import MAX_DATE, MIN_DATE, code_key
from .columns import plain_number

IATI_VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Organisations we know the IATI identifier and type of (name fragment -> (ref, type)).
KNOWN_ORGANISATIONS = {
    "unesco": ("XM-DAC-41304", "40"),  # UNESCO, multilateral
}
GOVERNMENT_WORDS = ("ministry", "government", "department of")
RESULT_TYPES = {"output": "1", "outcome": "2", "objective": "3"}
MEASURES = {"number": "1", "yesno": "1", "percent": "2", "qualitative": "5"}
TRANSACTION_TYPES = {"committed": "2", "disbursed": "4"}
DOCUMENT_FORMATS = {".pdf": "application/pdf", ".doc": "application/msword",
                    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
RESULTS_DOCUMENT = "A08"  # DocumentCategory: results, outcomes and outputs


def schema_path() -> Path:
    """The IATI 2.03 schema kept beside the repository (``../shared/iati/``)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "iati" / "iati-activities-schema.xsd"


def validation_errors(xml: bytes, schema: Path | None = None) -> list[str]:
    """Schema errors of ``xml`` (empty when valid). Raises FileNotFoundError, naming the
    path, when the schema is not there."""
    schema = schema or schema_path()
    if not schema.exists():
        raise FileNotFoundError(f"The IATI schema is missing: {schema} (expected in ../shared/iati/ beside the repository)")
    xsd = etree.XMLSchema(etree.parse(str(schema)))
    document = etree.fromstring(xml)
    if xsd.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]


# --- Small builders ---------------------------------------------------------------------------

def _clean(text: str) -> str:
    """XML 1.0 refuses most control characters; drop them."""
    return "".join(ch for ch in (text or "") if ch in "\t\n\r" or ord(ch) >= 32).strip()


def _narratives(parent, text: str, lang: str | None = None):
    element = etree.SubElement(parent, "narrative")
    element.text = _clean(text)
    if lang:
        element.set(XML_LANG, lang)
    return element


def _text_element(parent, tag: str, text: str, **attributes):
    element = etree.SubElement(parent, tag, **{k.replace("_", "-"): v for k, v in attributes.items()})
    _narratives(element, text)
    return element


def _amount(cents: int) -> str:
    return str(Decimal(int(cents)).scaleb(-2))


def _organisation(name: str) -> tuple[str | None, str | None]:
    lowered = name.lower()
    for fragment, (ref, kind) in KNOWN_ORGANISATIONS.items():
        if fragment in lowered:
            return ref, kind
    if any(word in lowered for word in GOVERNMENT_WORDS):
        return None, "10"  # government
    return None, None


def reporting_org_ref(project: Project) -> str:
    """The reporting organisation's identifier: a known one, else the prefix of the
    project's IATI identifier before its project code (``XX-TRACKER`` when the project has
    neither: a placeholder the publisher must replace before publishing)."""
    ref, _ = _organisation(project.implementing_agency or "")
    if ref:
        return ref
    identifier = project.iati_identifier or ""
    if identifier.endswith("-" + project.code):
        return identifier[: -len(project.code) - 1]
    if "-" in identifier:
        return identifier.rsplit("-", 1)[0]
    return identifier or "XX-TRACKER"


def activity_identifier(project: Project) -> str:
    return project.iati_identifier or f"{reporting_org_ref(project)}-{project.code}"


def activity_status(project: Project, today: date, open_commitments: bool, all_cancelled: bool) -> str:
    if all_cancelled:
        return "5"
    if today < project.start_date:
        return "1"
    if today <= project.end_date:
        return "2"
    return "3" if open_commitments else "4"


def yearly_budgets(project: Project) -> list[tuple[date, date, int]]:
    """The grant spread over the calendar years of the project by days (cents add up).

    The years are held to the range every service accepts (1900-2100): a date stored past the
    rules cannot make the file one budget per year for thousands of years."""
    start, end = max(project.start_date, MIN_DATE), min(project.end_date, MAX_DATE)
    if end < start:
        return []
    periods = []
    year = start.year
    while year <= end.year:
        periods.append((max(start, date(year, 1, 1)), min(end, date(year, 12, 31))))
        year += 1
    total_days = (end - start).days + 1
    budgets, allotted = [], 0
    for index, (first, last) in enumerate(periods):
        if index == len(periods) - 1:
            cents = project.grant_cents - allotted
        else:
            cents = project.grant_cents * ((last - first).days + 1) // total_days
        allotted += cents
        budgets.append((first, last, cents))
    return budgets


def _document_format(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    for extension, media_type in DOCUMENT_FORMATS.items():
        if path.endswith(extension):
            return media_type
    return "text/html"


def _document_link(parent, item: EvidenceItem) -> None:
    url = safe_hyperlink(item.url)
    if not url or not url.lower().startswith(("http://", "https://")):
        return
    link = etree.SubElement(parent, "document-link", url=url, format=_document_format(url))
    _text_element(link, "title", item.title or item.source or url)
    if item.description:
        _text_element(link, "description", item.description)
    etree.SubElement(link, "category", code=RESULTS_DOCUMENT)
    language = (item.language or "").strip().lower()
    if len(language) == 2 and language.isalpha():
        etree.SubElement(link, "language", code=language)
    if item.dated:
        etree.SubElement(link, "document-date", **{"iso-date": item.dated.isoformat()})


# --- The activity -----------------------------------------------------------------------------

def _evidence_for(project_id: int) -> tuple[dict[int, list], dict[int, list]]:
    """Live evidence items with a web address, by indicator period and by result."""
    by_period: dict[int, list] = defaultdict(list)
    by_result: dict[int, list] = defaultdict(list)
    rows = db.session.execute(
        select(EvidenceLink.period_id, EvidenceLink.result_id, EvidenceItem)
        .join(EvidenceItem, EvidenceItem.id == EvidenceLink.evidence_id)
        .where(EvidenceLink.project_id == project_id, EvidenceItem.deleted_at.is_(None), EvidenceItem.url != "",
               (EvidenceLink.period_id.is_not(None)) | (EvidenceLink.result_id.is_not(None)))
        .order_by(EvidenceItem.dated, EvidenceItem.id)
    ).all()
    for period_id, result_id, item in rows:
        if period_id:
            by_period[period_id].append(item)
        else:
            by_result[result_id].append(item)
    return by_period, by_result


def _disaggregations(project_id: int) -> dict[int, list[tuple[str, str, Decimal]]]:
    from ..models import Dimension

    values: dict[int, list] = defaultdict(list)
    for period_id, name, label, value in db.session.execute(
        select(DisaggregatedValue.period_id, Dimension.name, DimensionCategory.label, DisaggregatedValue.value)
        .join(DimensionCategory, DimensionCategory.id == DisaggregatedValue.category_id)
        .join(Dimension, Dimension.id == DimensionCategory.dimension_id)
        .where(DisaggregatedValue.project_id == project_id)
        .order_by(Dimension.position, DimensionCategory.position)
    ):
        values[period_id].append((name, label, value))
    return values


def _value_text(value) -> str:
    return str(plain_number(value))


def _result_description(texts) -> str:
    """A result's narratives, one paragraph per reporting period: "2016 H2 (2016-07-01 to 2016-12-31): ..."."""
    from ..results.values import period_label

    return "\n\n".join(f"{period_label(start, end)} ({start.isoformat()} to {end.isoformat()}): {text}"
                        for start, end, text in texts)


def _add_result(activity, result: ResultNode, project: Project, evidence_by_period, evidence_by_result,
                disaggregations, result_texts=()) -> None:
    element = etree.SubElement(activity, "result", type=RESULT_TYPES.get(result.level, "9"))
    _text_element(element, "title", f"{result.code} {result.statement}")
    if result_texts:
        _text_element(element, "description", _result_description(result_texts))
    for item in evidence_by_result.get(result.id, ()):
        _document_link(element, item)
    for indicator in result.indicators:
        _add_indicator(element, indicator, project, evidence_by_period, disaggregations)


def _add_indicator(result_element, indicator: Indicator, project: Project, evidence_by_period,
                   disaggregations) -> None:
    qualitative = indicator.unit == "qualitative"
    attributes = {"measure": MEASURES.get(indicator.unit, "1")}
    if not qualitative:
        attributes["ascending"] = "1" if indicator.ascending else "0"
    element = etree.SubElement(result_element, "indicator", **attributes)
    _text_element(element, "title", f"{indicator.code} {indicator.title}")
    description = []
    if indicator.unit == "yesno":
        description.append("Yes/no indicator: 1 means yes, 0 means no.")
    if indicator.means_of_verification:
        description.append(f"Means of verification: {indicator.means_of_verification}")
    if indicator.illustrative:
        description.append("Baseline and targets are illustrative: the source report gives none.")
    if description:
        _text_element(element, "description", " ".join(description))

    baseline_year = (indicator.baseline_date or project.start_date).year
    has_baseline = indicator.baseline_value is not None or indicator.baseline_text or indicator.baseline_note
    if has_baseline:
        baseline = etree.SubElement(element, "baseline", year=str(baseline_year))
        if indicator.baseline_date:
            baseline.set("iso-date", indicator.baseline_date.isoformat())
        if not qualitative and indicator.baseline_value is not None:
            baseline.set("value", _value_text(indicator.baseline_value))
        comment = " ".join(part for part in (indicator.baseline_text, indicator.baseline_note) if part)
        if comment:
            _text_element(baseline, "comment", comment)

    for period in sorted(indicator.periods, key=lambda p: p.start_date):
        period_element = etree.SubElement(element, "period")
        etree.SubElement(period_element, "period-start", **{"iso-date": period.start_date.isoformat()})
        etree.SubElement(period_element, "period-end", **{"iso-date": period.end_date.isoformat()})
        variance = f"Variance: {period.variance_explanation}" if period.variance_explanation else ""
        target = None
        if qualitative:
            if period.target_text:
                target = etree.SubElement(period_element, "target")
        elif period.target is not None:
            target = etree.SubElement(period_element, "target", value=_value_text(period.target))
        if target is not None:
            target_comment = " ".join(part for part in ((period.target_text if qualitative else ""), variance) if part)
            if target_comment:
                _text_element(target, "comment", target_comment)
            variance = ""  # said on the target
        if not period.has_actual:
            continue
        actual = etree.SubElement(period_element, "actual")
        if not qualitative:
            actual.set("value", _value_text(period.actual))
        comment = [period.actual_text if qualitative else "", period.narrative, period.comment, variance]
        if period.state != "approved":
            comment.append(f"Approval state: {period.state} (not yet approved).")
        comment_text = " ".join(part for part in comment if part)
        if comment_text:
            _text_element(actual, "comment", comment_text)
        for item in evidence_by_period.get(period.id, ()):
            _document_link(actual, item)
        for name, label, value in disaggregations.get(period.id, ()):
            part = etree.SubElement(period_element, "actual", value=_value_text(value))
            etree.SubElement(part, "dimension", name=_clean(name), value=_clean(label))


def build_activity_xml(project: Project, *, now: datetime | None = None) -> bytes:
    """The IATI document for ``project`` as UTF-8 bytes."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = etree.Element("iati-activities", version=IATI_VERSION, **{"generated-datetime": stamp})
    root.append(etree.Comment(" Generated by the results tracker. "))
    activity = etree.SubElement(root, "iati-activity", **{
        "last-updated-datetime": stamp, "default-currency": project.currency or "USD", XML_LANG: "en"})

    etree.SubElement(activity, "iati-identifier").text = _clean(activity_identifier(project))
    agency = project.implementing_agency or project.donor or project.code
    _, agency_type = _organisation(agency)
    _text_element(activity, "reporting-org", agency, ref=reporting_org_ref(project), type=agency_type or "90")
    _text_element(activity, "title", project.title)
    _text_element(activity, "description", project.summary or project.objective or project.title, type="1")
    if project.objective:
        _text_element(activity, "description", project.objective, type="2")

    def participant(name: str, role: str) -> None:
        ref, kind = _organisation(name)
        attributes = {"role": role}
        if ref:
            attributes["ref"] = ref
        if kind:
            attributes["type"] = kind
        _text_element(activity, "participating-org", name, **attributes)

    if project.donor:
        participant(project.donor, "1")
    if project.implementing_agency:
        participant(project.implementing_agency, "4")
    for partner in (project.implementing_partners or "").replace("\n", ";").split(";"):
        if partner.strip():
            participant(partner.strip(), "4")

    activities = db.session.execute(
        select(Activity.status, Activity.actual_start, Activity.actual_end).where(Activity.project_id == project.id)
    ).all()
    open_commitments = db.session.execute(
        select(Expenditure.id).where(Expenditure.project_id == project.id, Expenditure.status == "committed").limit(1)
    ).first() is not None
    all_cancelled = bool(activities) and all(a.status == "cancelled" for a in activities)
    etree.SubElement(activity, "activity-status",
                     code=activity_status(project, now.date(), open_commitments, all_cancelled))
    etree.SubElement(activity, "activity-date", type="1", **{"iso-date": project.start_date.isoformat()})
    starts = [a.actual_start for a in activities if a.actual_start]
    if starts:
        etree.SubElement(activity, "activity-date", type="2", **{"iso-date": min(starts).isoformat()})
    etree.SubElement(activity, "activity-date", type="3", **{"iso-date": project.end_date.isoformat()})
    finished = activities and all(a.status in ("completed", "cancelled") for a in activities)
    ends = [a.actual_end for a in activities if a.actual_end]
    if finished and ends:
        etree.SubElement(activity, "activity-date", type="4", **{"iso-date": max(ends).isoformat()})
    country = (project.country or "").strip().upper()
    if len(country) == 2 and country.isalpha():
        etree.SubElement(activity, "recipient-country", code=country)
    sector = (getattr(project, "iati_sector", "") or "").strip()
    if len(sector) == 5 and sector.isdigit():
        etree.SubElement(activity, "sector", vocabulary="1", code=sector, percentage="100")

    for first, last, cents in yearly_budgets(project):
        budget = etree.SubElement(activity, "budget", type="1", status="1")
        etree.SubElement(budget, "period-start", **{"iso-date": first.isoformat()})
        etree.SubElement(budget, "period-end", **{"iso-date": last.isoformat()})
        value = etree.SubElement(budget, "value", **{"value-date": first.isoformat()})
        value.text = _amount(cents)

    for expenditure in db.session.execute(
        select(Expenditure).where(Expenditure.project_id == project.id)
        .order_by(Expenditure.spent_on, Expenditure.voucher).execution_options(yield_per=1000)
    ).scalars():
        transaction = etree.SubElement(activity, "transaction", ref=_clean(expenditure.voucher))
        etree.SubElement(transaction, "transaction-type", code=TRANSACTION_TYPES.get(expenditure.status, "4"))
        etree.SubElement(transaction, "transaction-date", **{"iso-date": expenditure.spent_on.isoformat()})
        value = etree.SubElement(transaction, "value", **{"value-date": expenditure.spent_on.isoformat()})
        value.text = _amount(expenditure.amount_cents)
        if expenditure.description:
            _text_element(transaction, "description", expenditure.description)
        if expenditure.payee:
            _text_element(transaction, "receiver-org", expenditure.payee)

    evidence_by_period, evidence_by_result = _evidence_for(project.id)
    disaggregations = _disaggregations(project.id)
    results = db.session.execute(
        select(ResultNode).where(ResultNode.project_id == project.id)
        .options(selectinload(ResultNode.indicators).selectinload(Indicator.periods))
    ).scalars().all()
    from ..results.narratives import narratives_by_result

    texts = narratives_by_result(project.id)
    for result in sorted(results, key=lambda r: code_key(r.code)):
        if result.indicators:
            _add_result(activity, result, project, evidence_by_period, evidence_by_result, disaggregations,
                        texts.get(result.id, ()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

