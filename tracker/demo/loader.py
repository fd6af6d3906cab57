"""Loading the demo project (idempotent) and its accounts."""

from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..accounts import services as accounts
from ..audit import trail
from ..extensions import db
from ..models import (
    Activity,
    AgendaItem,
    BudgetAllocation,
    BudgetLine,
    Dimension,
    DimensionCategory,
    DisaggregatedValue,
    Event,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNarrative,
    ResultNode,
    User,
)
from . import data


def demo_project() -> Project | None:
    return db.session.execute(select(Project).where(Project.code == data.PROJECT["code"])).scalar()


def load_demo(*, reset: bool = False) -> tuple[Project, bool]:
    """Load the demo project unless it is there; ``reset`` deletes and reloads it.

    Returns the project and whether anything was loaded. Flushes; the caller commits.
    """
    trail.set_actor(None, "demo loader")
    existing = demo_project()
    if existing is not None and not reset:
        _ensure_accounts(existing)
        return existing, False
    if existing is not None:
        # Rows the ORM does not cascade to (events, budget, evidence) go by the database's
        # ON DELETE CASCADE; forget every loaded object so none of them is taken for a new row.
        db.session.delete(existing)
        db.session.flush()
        db.session.expunge_all()
    project = _build_project()
    _ensure_accounts(project)
    return project, True


def _build_project() -> Project:
    project = Project(**data.PROJECT)
    db.session.add(project)
    db.session.flush()
    pid = project.id

    results: dict[str, ResultNode] = {}
    for position, (code, level, parent, statement, assumptions) in enumerate(data.RESULTS):
        node = ResultNode(project_id=pid, code=code, level=level, statement=statement, assumptions=assumptions,
                          parent=results.get(parent), position=position)
        results[code] = node
        db.session.add(node)
    db.session.flush()

    activities: dict[str, Activity] = {}
    for position, row in enumerate(data.ACTIVITIES):
        (code, result, title, description, p_start, p_end, a_start, a_end, status, pct, responsible,
         locations) = row
        activity = Activity(project_id=pid, result_id=results[result].id, code=code, title=title,
                            description=description, planned_start=p_start, planned_end=p_end,
                            actual_start=a_start, actual_end=a_end, status=status, percent_complete=pct,
                            responsible=responsible, locations=locations, position=position)
        activities[code] = activity
        db.session.add(activity)
    db.session.flush()

    periods_by_indicator: dict[str, list[IndicatorPeriod]] = {}
    for position, spec in enumerate(data.INDICATORS):
        indicator = Indicator(
            project_id=pid, result_id=results[spec["result"]].id, code=spec["code"], title=spec["title"],
            unit=spec["unit"], cumulative=spec.get("cumulative", True), ascending=True,
            baseline_value=_dec(spec.get("baseline_value")), baseline_text=spec.get("baseline_text", ""),
            baseline_date=spec.get("baseline_date"), baseline_note=spec.get("baseline_note", ""),
            target_value=_dec(spec.get("target_value")), target_text=spec.get("target_text", ""),
            means_of_verification=spec.get("means_of_verification", ""), frequency=spec.get("frequency", ""),
            responsible=spec.get("responsible", ""), illustrative=spec.get("illustrative", False),
            position=position)
        db.session.add(indicator)
        db.session.flush()
        periods = []
        for index, (start, end) in enumerate(data.PERIODS):
            period = IndicatorPeriod(project_id=pid, indicator_id=indicator.id, start_date=start, end_date=end,
                                     comment=spec.get("comments", {}).get(index, ""))
            if "periods_text" in spec:
                period.target_text, period.actual_text = spec["periods_text"][index]
            else:
                target, actual = spec["periods"][index]
                period.target, period.actual = _dec(target), _dec(actual)
            period.narrative, period.variance_explanation = \
                data.PERIOD_NARRATIVES.get(spec["code"], {}).get(index, ("", ""))
            # The first half of 2016 is approved; the second is submitted for approval.
            if index == 0:
                period.state = "approved"
            elif index == 1 and period.has_actual:
                period.state = "submitted"
            periods.append(period)
            db.session.add(period)
        db.session.flush()
        periods_by_indicator[indicator.code] = periods
        for d_position, (name, labels, values) in enumerate(spec.get("dimensions", [])):
            dimension = Dimension(project_id=pid, indicator_id=indicator.id, name=name, position=d_position)
            db.session.add(dimension)
            categories = [DimensionCategory(project_id=pid, dimension=dimension, label=label, position=i)
                          for i, label in enumerate(labels)]
            db.session.add_all(categories)
            db.session.flush()
            for period_index, numbers in values.items():
                for category, number in zip(categories, numbers, strict=True):
                    db.session.add(DisaggregatedValue(project_id=pid, period_id=periods[period_index].id,
                                                      category_id=category.id, value=_dec(number)))

    for code, index, text in data.RESULT_NARRATIVES:
        start, end = data.PERIODS[index]
        db.session.add(ResultNarrative(project_id=pid, result_id=results[code].id, start_date=start, end_date=end,
                                       text=text))

    dialogue = Event(project_id=pid, activity_id=activities[data.POLICY_DIALOGUE["activity"]].id,
                     **{k: v for k, v in data.POLICY_DIALOGUE.items() if k != "activity"})
    db.session.add(dialogue)
    for position, (section, starts, ends, title, speakers) in enumerate(data.AGENDA):
        db.session.add(AgendaItem(project_id=pid, event=dialogue, position=position, section=section,
                                  starts_at=starts, ends_at=ends, title=title, speakers=speakers))
    for spec in data.OTHER_EVENTS:
        activity = activities.get(spec["activity"]) if spec["activity"] else None
        db.session.add(Event(project_id=pid, activity_id=activity.id if activity else None,
                             **{k: v for k, v in spec.items() if k != "activity"}))

    lines: dict[str, BudgetLine] = {}
    for position, (code, category, account, description, usd, shares) in enumerate(data.BUDGET_LINES):
        line = BudgetLine(project_id=pid, code=code, category=category, account_code=account,
                          description=description, original_cents=usd * 100, illustrative=True,
                          notes="Illustrative split: the report gives only the total of USD 120,000.",
                          position=position)
        lines[code] = line
        db.session.add(line)
        db.session.flush()
        for activity_code, percent in shares.items():
            db.session.add(BudgetAllocation(project_id=pid, line_id=line.id,
                                            activity_id=activities[activity_code].id, percent=Decimal(percent)))
    expenditures: dict[str, Expenditure] = {}
    for voucher, spent_on, line, usd, payee, description, status, original, currency, rate in data.EXPENDITURES:
        expenditure = Expenditure(
            project_id=pid, line_id=lines[line].id, voucher=voucher, spent_on=spent_on,
            amount_cents=int(Decimal(usd) * 100), payee=payee, description=description, status=status,
            original_amount=_dec(original), original_currency=currency, exchange_rate=_dec(rate))
        expenditures[voucher] = expenditure
        db.session.add(expenditure)
    db.session.flush()

    press_period = periods_by_indicator["1.1.b"][1]
    for agency, dated, title, url, language in data.PRESS_CLIPPINGS:
        item = EvidenceItem(project_id=pid, kind="press_clipping", title=title, dated=dated, source=agency,
                            url=url, language=language,
                            description=f"Press clipping, {agency}, {dated.strftime('%d %B %Y').lstrip('0')}.")
        db.session.add(item)
        db.session.flush()
        activity = activities["A1.4"] if dated.month >= 10 else activities["A1"]
        db.session.add_all([
            EvidenceLink(project_id=pid, evidence_id=item.id, period_id=press_period.id),
            EvidenceLink(project_id=pid, evidence_id=item.id, activity_id=activity.id),
        ])
    for kind, title, dated, source, language, description, links in data.OTHER_EVIDENCE:
        item = EvidenceItem(project_id=pid, kind=kind, title=title, dated=dated, source=source,
                            language=language, description=description)
        db.session.add(item)
        db.session.flush()
        for target, code in links:
            link = EvidenceLink(project_id=pid, evidence_id=item.id)
            if target == "activity":
                link.activity_id = activities[code].id
            else:
                link.result_id = results[code].id
            db.session.add(link)
    db.session.flush()
    return project


def _ensure_accounts(project: Project) -> None:
    """Create the demo accounts (when allowed) and give each its role on the demo project."""
    if not current_app.config.get("DEMO_ACCOUNTS", True):
        return
    for email, name, password, role in data.DEMO_ACCOUNTS:
        user = db.session.execute(select(User).where(User.email == email)).scalar()
        if user is None:
            user = accounts.create_user(email, name, password, is_admin=role is None)
        if role:
            accounts.grant(user, project, role)


def _dec(value):
    return None if value is None else Decimal(str(value))
