"""Projects: creating one from its facts, and the queries behind the portfolio, the overview
and the logframe.

``create_project`` is the one rule of a new project's facts (required title and code, a code
no other project has, lengths, the grant, an ISO 4217 currency, a two-letter country, dates
with the end not before the start), used by every way a project is made (the workbook
import's create mode today). It flushes and never commits; bad input raises ``InputError``
keyed by field.
"""

import re
from collections import Counter

from sqlalchemy import func, select

from ..budget.currencies import CURRENCIES
from ..extensions import db
from ..models import Activity, Membership, Project
from ..models.progress import ACTIVITY_STATUSES, STATUS_LABELS
from ..results.services import indicator_progress, load_framework
from ..validation import InputError, clean_text, parse_date, parse_money_cents, raise_if


def visible_projects(user):
    """Projects the user may see: all for an admin, else those with a membership; with the role."""
    query = select(Project, Membership.role).outerjoin(
        Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
    if not user.is_admin:
        query = query.where(Membership.id.is_not(None))
    return db.session.execute(query.order_by(Project.start_date.desc(), Project.title)).all()


def activity_status_counts(project_ids) -> dict[int, Counter]:
    rows = db.session.execute(
        select(Activity.project_id, Activity.status, func.count())
        .where(Activity.project_id.in_(project_ids)).group_by(Activity.project_id, Activity.status)
    ).all()
    counts: dict[int, Counter] = {pid: Counter() for pid in project_ids}
    for project_id, status, count in rows:
        counts[project_id][status] = count
    return counts


def one_line_status(counts: Counter) -> str:
    """'4 activities: 2 completed, 1 on track, 1 not started'."""
    total = sum(counts.values())
    if not total:
        return "No activities yet"
    parts = [f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in ACTIVITY_STATUSES if counts.get(s)]
    return f"{total} activit{'y' if total == 1 else 'ies'}: " + ", ".join(parts)


def framework_rows(project: Project):
    """The results tree, each with its indicators' progress, in code order."""
    rows = []
    for result in load_framework(project):
        rows.append((result, [indicator_progress(i, project) for i in result.indicators]))
    return rows


# --- creating a project -------------------------------------------------------------------------

# The facts a project is created with: the Project attribute, what a person calls it, and the
# longest text its column holds (None: a Text column). ``grant`` is the typed amount (stored as
# ``grant_cents``); ``start_date``/``end_date`` are dates or ISO text.
PROJECT_TEXT_FACTS = {
    "title": ("The title", 300),
    "code": ("The project code", 40),
    "donor": ("The donor", 200),
    "funding_source": ("The funding source", 200),
    "implementing_agency": ("The implementing agency", 200),
    "implementing_partners": ("The implementing partners", None),
    "currency": ("The currency", 3),
    "country": ("The country", 2),
    "iati_identifier": ("The IATI identifier", 100),
    "objective": ("The overall objective", None),
    "summary": ("The summary", None),
    "status_note": ("The status", 300),
    "illustrative_note": ("The note on illustrative figures", None),
}
PROJECT_FACTS = (*PROJECT_TEXT_FACTS, "grant", "start_date", "end_date")


def check_project_facts(facts: dict) -> dict:
    """Every rule of a new project's own facts (no database): returns the Project's column values.

    ``facts`` holds plain values (typed text or workbook cells) keyed by Project attribute,
    the grant as ``grant`` (an amount, such as ``120,000.00``). Title, code, grant and both
    dates are required; texts fit their columns; the grant is money read by
    ``parse_money_cents`` and more than zero; the currency is an ISO 4217 code (USD when
    empty); the country a two-letter code (or empty); dates are ISO dates and the project
    does not end before it starts. Raises one ``InputError`` holding every field's error,
    keyed by field name (``grant`` for the grant).
    """
    unknown = set(facts) - set(PROJECT_FACTS)
    if unknown:
        raise TypeError(f"unknown project facts: {', '.join(sorted(unknown))}")
    errors: dict[str, str] = {}
    values: dict = {}
    for name, (label, limit) in PROJECT_TEXT_FACTS.items():
        text = clean_text(facts.get(name))
        if name in ("currency", "country"):
            text = text.upper()
        if limit is not None and len(text) > limit and name not in ("currency", "country"):
            errors[name] = f"{label} has at most {limit} characters."
        values[name] = text
    if not values["title"]:
        errors["title"] = "Give the project a title."
    if not values["code"]:
        errors["code"] = "Give the project a code, for example KFIT-VNM-CI."
    values["currency"] = values["currency"] or "USD"
    if values["currency"] not in CURRENCIES:
        errors["currency"] = "The currency must be an ISO 4217 code such as USD or VND."
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors["country"] = "The country is a two-letter ISO code such as VN."
    try:
        values["grant_cents"] = parse_money_cents(facts.get("grant"), field="The grant")
    except InputError as error:
        errors["grant"] = str(error)
    for name, label in (("start_date", "The start date"), ("end_date", "The end date")):
        try:
            values[name] = parse_date(facts.get(name), label=label)
        except InputError as error:
            errors[name] = str(error)
            continue
        if values[name] is None:
            errors[name] = f"{label} is required, for example 2016-01-31."
    if "start_date" not in errors and "end_date" not in errors and values["end_date"] < values["start_date"]:
        errors["end_date"] = (f"The project ends ({values['end_date'].isoformat()}) before it starts "
                              f"({values['start_date'].isoformat()}).")
    raise_if(errors)
    return values


def create_project(facts: dict) -> Project:
    """Create a project from its facts (``check_project_facts``) with a code no other project has.

    Flushes, never commits; the audit trail records the new row (session hook). Raises one
    ``InputError`` with every field's error, keyed as in ``check_project_facts``.
    """
    errors: dict[str, str] = {}
    try:
        values = check_project_facts(facts)
    except InputError as error:
        errors, values = dict(error.errors), None
    code = clean_text(facts.get("code"))
    if code and "code" not in errors and db.session.execute(
            select(Project.id).where(Project.code == code)).first() is not None:
        errors["code"] = f"A project with the code {code} exists already; give the new project another code."
    raise_if(errors)
    project = Project(**values)
    db.session.add(project)
    db.session.flush()
    return project
