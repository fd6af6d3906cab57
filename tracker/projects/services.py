"""Projects: creating one from its facts, and the queries behind the portfolio, the overview
and the logframe.

``create_project`` is the one rule of a new project's facts (required title and code, a code
no other project has, lengths, the grant, an ISO 4217 currency, a two-letter country, dates
with the end not before the start), used by every way a project is made (the workbook
import's create mode today). It flushes and never commits; bad input raises ``InputError``
keyed by field.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, func, select

from ..budget.currencies import CURRENCIES
from ..extensions import db
from ..formatting import day, money
from ..i18n import N_
from ..inbox import dashboard
from ..models import Activity, Indicator, IndicatorPeriod, Membership, Project, ResultNode
from ..models.progress import ACTIVITY_STATUSES, STATUS_LABELS
from ..results.services import indicator_progress, load_framework
from ..validation import InputError, clean_text, code_key, parse_date, parse_money_cents, raise_if

PORTFOLIO_PAGE_SIZE = 25


def visible_projects(user, page: int | None = None, per_page: int = PORTFOLIO_PAGE_SIZE):
    """Projects the user may see: all for an admin, else those with a membership; with the role.

    Newest first. With ``page``, one page of ``per_page`` projects: returns (rows, total)."""
    query = select(Project, Membership.role).outerjoin(
        Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
    if not user.is_admin:
        query = query.where(Membership.id.is_not(None))
    query = query.order_by(Project.start_date.desc(), Project.title, Project.id)
    if page is None:
        return db.session.execute(query).all()
    # One membership per person and project (a unique pair): counting them is counting the
    # projects, without the join (500 projects: 0.2 ms instead of 1 ms).
    counted = select(func.count()).select_from(Project) if user.is_admin else \
        select(func.count()).select_from(Membership).where(Membership.user_id == user.id)
    total = db.session.execute(counted).scalar()
    page = min(max(1, page), max(1, -(-total // per_page)))
    return db.session.execute(query.offset((page - 1) * per_page).limit(per_page)).all(), total


def activity_status_counts(project_ids) -> dict[int, Counter]:
    rows = db.session.execute(
        select(Activity.project_id, Activity.status, func.count())
        .where(Activity.project_id.in_(project_ids)).group_by(Activity.project_id, Activity.status)
    ).all()
    counts: dict[int, Counter] = {pid: Counter() for pid in project_ids}
    for project_id, status, count in rows:
        counts[project_id][status] = count
    return counts


def one_line_status(counts: Counter, labels: dict | None = None) -> str:
    """'4 activities: 2 completed, 1 on track, 1 not started' (``labels``: status -> its label in
    lower case, looked up once for a page of cards; ``status_labels()``)."""
    total = sum(counts.values())
    if not total:
        return _("No activities yet")
    labels = labels or status_labels()
    parts = [f"{counts[s]} {labels[s]}" for s in ACTIVITY_STATUSES if counts.get(s)]
    return ngettext("%(num)d activity: %(parts)s", "%(num)d activities: %(parts)s", total, parts=", ".join(parts))


def status_labels() -> dict[str, str]:
    """Activity status -> its label in lower case, in the request's language."""
    return {status: str(_(STATUS_LABELS[status])).lower() for status in ACTIVITY_STATUSES}


@dataclass
class PortfolioCard:
    """One card of the portfolio, its texts made in Python: a page of 25 cards would otherwise
    call gettext, url_for and the formatters about 25 times per card in the template."""
    id: int
    title: str
    url: str
    code: str
    grant: str
    period: str
    donor: str
    role: str
    status: str
    strip: object = None  # tracker.inbox.dashboard.strip_lines


def portfolio_cards(rows: list) -> list[PortfolioCard]:
    """The cards of one page of ``visible_projects`` rows ((project, role)), in their order, with
    each project's activity counts and dashboard strip read for the whole page at once."""
    projects = [project for project, _role in rows]
    counts = activity_status_counts([project.id for project in projects])
    strips = dashboard.strips(projects)
    labels = status_labels()
    roles = {"manager": _("manager"), "officer": _("officer"), "liaison": _("liaison"), "auditor": _("auditor"),
             None: _("admin")}
    period = _("%(start)s to %(end)s")
    base = url_for("projects.overview", project_id=0)[:-1]  # /projects/ (one url_for for the page)
    return [PortfolioCard(project.id, project.title, f"{base}{project.id}", project.code,
                          money(project.grant_cents, project.currency),
                          period % {"start": day(project.start_date), "end": day(project.end_date)},
                          project.donor, roles.get(role or None, role), one_line_status(counts[project.id], labels),
                          strips[project.id]) for project, role in rows]


def indicator_count(project_id: int) -> int:
    """How many indicators the project's framework has (the overview's hint, before its results load)."""
    return db.session.execute(select(func.count()).select_from(Indicator)
                              .where(Indicator.project_id == project_id)).scalar()


def framework_rows(project: Project):
    """The results tree, each with its indicators' progress, in code order (every indicator:
    for exports and small frameworks; the pages use ``framework_page``)."""
    rows = []
    for result in load_framework(project):
        rows.append((result, [indicator_progress(i, project) for i in result.indicators]))
    return rows


# --- the framework a page at a time ------------------------------------------------------------
#
# The overview and the logframe list the results with their indicators' progress. A framework
# of thousands of indicators with dozens of periods each cannot be read and drawn in one request,
# so they show it a page of indicators at a time (in logframe order: results by code, then each
# result's indicators by position), with every result whose place falls within the page, and the
# rest a click (or an htmx "load more") away. Periods are read as plain rows, not ORM objects:
# the progress of an indicator needs only their dates and figures.

FRAMEWORK_PAGE_SIZE = 25
PERIOD_COLUMNS = (IndicatorPeriod.indicator_id, IndicatorPeriod.id, IndicatorPeriod.start_date,
                  IndicatorPeriod.end_date, IndicatorPeriod.target, IndicatorPeriod.actual,
                  IndicatorPeriod.target_text, IndicatorPeriod.actual_text, IndicatorPeriod.state)


class IndicatorWithPeriods:
    """An indicator as the progress figures read it: the ORM row, with its periods as plain
    rows (id, start_date, end_date, target, actual, target_text, actual_text, state)."""

    def __init__(self, indicator: Indicator, periods: list):
        # The loaded columns are copied (read many times per page); anything else is looked up.
        self.__dict__.update((k, v) for k, v in indicator.__dict__.items() if not k.startswith("_"))
        self._indicator = indicator
        self.periods = periods

    def __getattr__(self, name):
        return getattr(self._indicator, name)


@dataclass
class FrameworkPage:
    rows: list  # (result, its indicators: IndicatorProgress, or the logframe's rows) in logframe order
    page: int
    pages: int
    total: int  # indicators in the whole framework
    per_page: int
    first: int = 0  # position (1-based) of the page's first indicator
    last: int = 0
    continued: set = field(default_factory=set)  # ids of results begun on an earlier page
    activities: dict = field(default_factory=dict)  # result id -> its activities (logframe)

    @property
    def remaining(self) -> int:
        return self.total - self.last


def _indicator_order(project_id: int, results: list):
    """ORDER BY of indicators in logframe order: their result's place (code order), position, id."""
    rank = {result.id: n for n, result in enumerate(results)}
    by_result = case(rank, value=Indicator.result_id, else_=len(rank)) if rank else Indicator.result_id
    return by_result, Indicator.position, Indicator.id


def _progress_of(project: Project, indicators: list) -> list:
    """Progress of each indicator, its periods read as rows in one query."""
    periods = defaultdict(list)
    if indicators:
        for row in db.session.execute(
                select(*PERIOD_COLUMNS).where(IndicatorPeriod.indicator_id.in_([i.id for i in indicators]))
                .order_by(IndicatorPeriod.start_date)):
            periods[row.indicator_id].append(row)
    return [indicator_progress(IndicatorWithPeriods(i, periods[i.id]), project) for i in indicators]


def progress_of(project: Project, indicator: Indicator):
    """The progress of one indicator (its periods read as rows)."""
    return _progress_of(project, [indicator])[0]


def framework_page(project: Project, page: int = 1, per_page: int = FRAMEWORK_PAGE_SIZE, *,
                   with_activities: bool = False) -> FrameworkPage:
    """One page of the framework: the results whose place falls within the page, each with its
    indicators of the page and their progress, in a fixed number of queries whatever the size.

    Page 1 starts with the first result (the objective) and the last page ends with the last
    one, so results without indicators are always on a page.
    """
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    total = db.session.execute(select(func.count()).select_from(Indicator)
                               .where(Indicator.project_id == project.id)).scalar()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    offset = (page - 1) * per_page
    order = _indicator_order(project.id, results)
    indicators = db.session.execute(
        select(Indicator).where(Indicator.project_id == project.id).order_by(*order).offset(offset).limit(per_page)
    ).scalars().all()
    rank = {result.id: n for n, result in enumerate(results)}
    first_rank = 0 if page == 1 or not indicators else rank[indicators[0].result_id]
    last_rank = len(results) - 1 if page == pages or not indicators else rank[indicators[-1].result_id]
    shown = results[first_rank:last_rank + 1]
    by_result = defaultdict(list)
    for progress in _progress_of(project, indicators):
        by_result[progress.indicator.result_id].append(progress)
    continued = set()
    if offset and indicators:
        before = db.session.execute(select(Indicator.result_id).where(Indicator.project_id == project.id)
                                    .order_by(*order).offset(offset - 1).limit(1)).scalar()
        if before == indicators[0].result_id:
            continued.add(before)
    framework = FrameworkPage([(result, by_result.get(result.id, [])) for result in shown], page, pages, total,
                              per_page, offset + 1 if indicators else 0, offset + len(indicators), continued)
    if with_activities and shown:
        for activity in db.session.execute(
                select(Activity).where(Activity.result_id.in_([r.id for r in shown]))
                .order_by(Activity.position, Activity.id)).scalars():
            framework.activities.setdefault(activity.result_id, []).append(activity)
    return framework


def framework_stream(project: Project, batch: int = 50) -> Iterator:
    """Every result with its indicators' progress, read ``batch`` indicators at a time, for the
    printable logframe: it streams, so the first rows leave before the last are read. Yields
    (result, [IndicatorProgress], [Activity])."""
    results = db.session.execute(select(ResultNode).where(ResultNode.project_id == project.id)).scalars().all()
    results.sort(key=lambda r: code_key(r.code))
    activities = defaultdict(list)
    for activity in db.session.execute(select(Activity).where(Activity.project_id == project.id)
                                       .order_by(Activity.position, Activity.id)).scalars():
        activities[activity.result_id].append(activity)
    order = _indicator_order(project.id, results)
    rank = {result.id: n for n, result in enumerate(results)}
    pending: dict = defaultdict(list)
    next_rank = 0
    offset = 0
    while True:
        indicators = db.session.execute(
            select(Indicator).where(Indicator.project_id == project.id).order_by(*order)
            .offset(offset).limit(batch)).scalars().all()
        offset += len(indicators)
        for progress in _progress_of(project, indicators):
            pending[progress.indicator.result_id].append(progress)
        # A result is complete once a later result's indicator was read (or nothing is left).
        done_before = rank[indicators[-1].result_id] if indicators else len(results)
        while next_rank < done_before:
            result = results[next_rank]
            yield result, pending.pop(result.id, []), activities.get(result.id, [])
            next_rank += 1
        if len(indicators) < batch:
            break
    while next_rank < len(results):
        result = results[next_rank]
        yield result, pending.pop(result.id, []), activities.get(result.id, [])
        next_rank += 1


# --- creating a project -------------------------------------------------------------------------

# The facts a project is created with: the Project attribute, what a person calls it, and the
# longest text its column holds (None: a Text column). ``grant`` is the typed amount (stored as
# ``grant_cents``); ``start_date``/``end_date`` are dates or ISO text.
PROJECT_TEXT_FACTS = {
    "title": (N_("The title"), 300),
    "code": (N_("The project code"), 40),
    "donor": (N_("The donor"), 200),
    "funding_source": (N_("The funding source"), 200),
    "implementing_agency": (N_("The implementing agency"), 200),
    "implementing_partners": (N_("The implementing partners"), None),
    "currency": (N_("The currency"), 3),
    "country": (N_("The country"), 2),
    "iati_identifier": (N_("The IATI identifier"), 100),
    "objective": (N_("The overall objective"), None),
    "summary": (N_("The summary"), None),
    "status_note": (N_("The status"), 300),
    "illustrative_note": (N_("The note on illustrative figures"), None),
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
            errors[name] = _("%(label)s has at most %(limit)s characters.", label=_(label), limit=limit)
        values[name] = text
    if not values["title"]:
        errors["title"] = _("Give the project a title.")
    if not values["code"]:
        errors["code"] = _("Give the project a code, for example %(example)s.", example="KFIT-VNM-CI")
    values["currency"] = values["currency"] or "USD"
    if values["currency"] not in CURRENCIES:
        errors["currency"] = _("The currency must be an ISO 4217 code such as USD or VND.")
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors["country"] = _("The country is a two-letter ISO code such as VN.")
    try:
        values["grant_cents"] = parse_money_cents(facts.get("grant"), field=_("The grant"))
    except InputError as error:
        errors["grant"] = str(error)
    for name, label in (("start_date", _("The start date")), ("end_date", _("The end date"))):
        try:
            values[name] = parse_date(facts.get(name), label=label)
        except InputError as error:
            errors[name] = str(error)
            continue
        if values[name] is None:
            errors[name] = _("%(label)s is required, for example %(example)s.", label=label, example="2016-01-31")
    if "start_date" not in errors and "end_date" not in errors and values["end_date"] < values["start_date"]:
        errors["end_date"] = _("The project ends (%(end)s) before it starts (%(start)s).",
                               end=values["end_date"].isoformat(), start=values["start_date"].isoformat())
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
        errors["code"] = _("A project with the code %(code)s exists already; give the new project another code.", code=code)
    raise_if(errors)
    project = Project(**values)
    db.session.add(project)
    db.session.flush()
    return project
