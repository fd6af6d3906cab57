"""No stored value can break a page: rows with extreme dates and amounts, written straight into
the database (past every service's rules: a script, an old import, a hand-written SQL
statement), and then every GET page of the project and every export still answers, without a
500 and without growing without bound.

The services refuse such values (tests/test_fuzz.py, and the date tests below); this checks
that the pages do not trust that they never get in.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.route_args import value_for
from tracker.extensions import db
from tracker.models import (
    Activity,
    BudgetLine,
    Event,
    EvidenceItem,
    Expenditure,
    IndicatorPeriod,
    ProgressLog,
    Project,
)

FAR_PAST, FAR_FUTURE = date(1, 1, 1), date(9999, 12, 31)
HUGE_CENTS = 9 * 10**17  # fits BIGINT, far past any grant


def _store_extremes(project_id: int) -> None:
    """Extreme rows of every kind a page draws, committed without any service."""
    line = db.session.execute(select(BudgetLine).where(BudgetLine.project_id == project_id)).scalars().first()
    activity = db.session.execute(select(Activity).where(Activity.project_id == project_id)).scalars().first()
    db.session.add_all([
        Expenditure(project_id=project_id, line_id=line.id, spent_on=date(9999, 12, 15), amount_cents=HUGE_CENTS,
                    voucher="FAR-FUTURE", status="disbursed", original_amount=Decimal("9999999999999999.9999"),
                    original_currency="VND", exchange_rate=Decimal("0.000001")),
        Expenditure(project_id=project_id, line_id=line.id, spent_on=FAR_PAST, amount_cents=1, voucher="FAR-PAST",
                    status="committed"),
        EvidenceItem(project_id=project_id, title="Far future", dated=FAR_FUTURE),
        EvidenceItem(project_id=project_id, title="Far past", dated=FAR_PAST),
        ProgressLog(project_id=project_id, activity_id=activity.id, iso_week="9999-W52",
                    week_start=date(9999, 12, 27), status="on_track", percent_complete=50),
        Event(project_id=project_id, activity_id=activity.id, title="Forever", starts_on=FAR_PAST, ends_on=FAR_FUTURE),
    ])
    db.session.execute(update(Activity).where(Activity.id == activity.id).values(
        planned_start=FAR_PAST, planned_end=FAR_FUTURE, actual_start=FAR_PAST))
    period = db.session.execute(select(IndicatorPeriod).where(IndicatorPeriod.project_id == project_id)
                                .order_by(IndicatorPeriod.id.desc())).scalars().first()
    db.session.execute(update(IndicatorPeriod).where(IndicatorPeriod.id == period.id).values(end_date=FAR_FUTURE))
    db.session.execute(update(BudgetLine).where(BudgetLine.id == line.id).values(revised_cents=HUGE_CENTS))
    db.session.execute(update(Project).where(Project.id == project_id).values(
        start_date=FAR_PAST, end_date=FAR_FUTURE, grant_cents=HUGE_CENTS))
    db.session.commit()


def _project_get_urls(app, project_id: int) -> list[str]:
    """Every GET route of the app whose arguments the demo can fill (tests/route_args.py)."""
    urls = []
    with app.app_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            values = {}
            try:
                for name in sorted(rule.arguments):
                    values[name] = value_for(rule.endpoint, name, db.session, project_id)
            except (KeyError, AssertionError):
                continue
            _domain, path = rule.build(values, append_unknown=False)
            urls.append(path)
        db.session.rollback()
    return sorted(set(urls))


MAX_BYTES = 5 * 1024 * 1024


def test_every_page_and_export_answers_after_extreme_values_are_stored(app, auth, client, demo):
    with app.app_context():
        _store_extremes(demo)
    auth.login("admin")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a failing page answers 500 here, so every page is tried
    urls = _project_get_urls(app, demo) + [
        f"/projects/{demo}/week/9999-W52", f"/projects/{demo}/week/0001-W01", f"/projects/{demo}/week/10000-W01",
        f"/projects/{demo}/logframe?all=1", f"/projects/{demo}/evidence?q=&kind=&page=99999999999999999999",
        f"/projects/{demo}/activities/1/log?week=9999-W52"]
    assert any("/budget" in url for url in urls) and any("export" in url for url in urls)
    failures = []
    for url in urls:
        response = client.get(url)
        size = len(response.get_data())
        if response.status_code >= 500 or size > MAX_BYTES:
            failures.append((url, response.status_code, size))
        response.close()
    assert failures == [], failures
    iati = client.get(f"/projects/{demo}/export.iati.xml")
    assert iati.status_code == 200 and len(iati.get_data()) < 1024 * 1024


@pytest.mark.parametrize("when, message", [
    ("9999-12-15", "between 1900 and 2100"),
    ("2030-01-01", "within a year of the project"),
    ("1990-05-01", "within a year of the project"),
])
def test_an_expenditure_dated_far_from_the_project_is_refused(app, auth, client, demo, when, message):
    with app.app_context():
        line = db.session.execute(select(BudgetLine.id).where(BudgetLine.project_id == demo)).scalars().first()
        before = db.session.execute(select(Expenditure.id)).scalars().all()
    auth.login("officer")
    response = client.post(f"/projects/{demo}/expenditures/new", data={
        "spent_on": when, "line_id": str(line), "amount": "10.00", "voucher": f"V-{when}", "status": "committed"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Expenditure.id)).scalars().all() == before
    assert client.get(f"/projects/{demo}/budget").status_code == 200


def test_evidence_dated_far_from_the_project_is_refused(app, auth, client, demo):
    auth.login("officer")
    response = client.post(f"/projects/{demo}/evidence/new", data={"title": "Lost in time", "kind": "report",
                                                                   "dated": "2090-01-01"})
    assert response.status_code == 422
    assert "of the project" in response.get_data(as_text=True)
