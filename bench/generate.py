"""Generate a large project for the benchmarks: 300 indicators × 24 periods and 5,000 weekly logs.

``generate(scale)`` multiplies the indicators, activities and logs by ``scale`` (10 gives
3,000 indicators × 24 periods = 72,000 periods and 50,000 logs). Rows go in with bulk
``INSERT ... VALUES`` statements and explicit ids, so even 10× takes seconds; the audit hook
sees no ORM flush and writes nothing (the benchmark measures reading, not the trail).

Run alone to fill a database:  .venv/bin/python bench/generate.py sqlite:////tmp/bench.sqlite3 [scale]
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.extensions import db  # noqa: E402
from tracker.formatting import iso_week  # noqa: E402
from tracker.models import (  # noqa: E402
    Activity,
    AuditEvent,
    BudgetAllocation,
    BudgetLine,
    Dimension,
    DimensionCategory,
    DisaggregatedValue,
    EvidenceItem,
    EvidenceLink,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Membership,
    ProgressLog,
    Project,
    ResultNode,
    User,
)

INDICATORS = 300
PERIODS = 24  # months of 2016-2017
LOGS = 5_000
ACTIVITIES = 50
START, END = date(2016, 1, 1), date(2017, 12, 31)
UNITS = ("number", "number", "number", "percent", "yesno", "qualitative")
BENCH_EMAIL = "bench-manager@example.test"
BENCH_PASSWORD = "bench-manager-password"
BENCH_AUDITOR_EMAIL = "bench-auditor@example.test"
BENCH_AUDITOR_PASSWORD = "bench-auditor-password"
BUDGET_LINES = 20
EXPENDITURES = 1_000
AUDIT_EVENTS = 5_000
PORTFOLIO = 500  # projects the bench manager is a member of (small ones) for the portfolio page
STATUSES = ("on_track", "at_risk", "delayed", "on_track", "completed")


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _months():
    for index in range(PERIODS):
        year, month = START.year + index // 12, index % 12 + 1
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        yield first, following - timedelta(days=1)


def _bulk(model, rows, chunk=5_000):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def generate(scale: int = 1, code: str | None = None) -> int:
    """Create the benchmark project (and its manager) at ``scale``; return the project id. Commits."""
    code = code or f"BENCH-{scale}X"
    project = Project(code=code, title=f"Benchmark project ×{scale} (Hà Nội, Huế)", donor="Bench donor",
                      grant_cents=120_000_00 * scale, start_date=START, end_date=END,
                      objective="A framework large enough to measure the pages.")
    db.session.add(project)
    user = db.session.execute(select(User).where(User.email == BENCH_EMAIL)).scalar()
    if user is None:
        user = User(email=BENCH_EMAIL, name="Bench Manager")
        user.set_password(BENCH_PASSWORD)
        db.session.add(user)
    auditor = db.session.execute(select(User).where(User.email == BENCH_AUDITOR_EMAIL)).scalar()
    if auditor is None:
        auditor = User(email=BENCH_AUDITOR_EMAIL, name="Bench Auditor")
        auditor.set_password(BENCH_AUDITOR_PASSWORD)
        db.session.add(auditor)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, project_id=project.id, role="manager"))
    db.session.add(Membership(user_id=auditor.id, project_id=project.id, role="auditor"))
    pid = project.id

    # Results: one objective, 5 outcomes, 4 outputs each (26 results).
    rid = _next_id(ResultNode)
    results, outputs = [], []
    results.append({"id": rid, "project_id": pid, "parent_id": None, "level": "objective", "code": "1",
                    "statement": "Objective", "assumptions": "", "position": 0})
    next_id = rid + 1
    for outcome in range(1, 6):
        outcome_id = next_id
        next_id += 1
        results.append({"id": outcome_id, "project_id": pid, "parent_id": rid, "level": "outcome",
                        "code": f"1.{outcome}", "statement": f"Outcome {outcome}", "assumptions": "",
                        "position": outcome})
        for output in range(1, 5):
            results.append({"id": next_id, "project_id": pid, "parent_id": outcome_id, "level": "output",
                            "code": f"1.{outcome}.{output}", "statement": f"Output {outcome}.{output} in Huế",
                            "assumptions": "", "position": outcome * 10 + output})
            outputs.append((next_id, f"1.{outcome}.{output}"))
            next_id += 1
    _bulk(ResultNode, results)

    # Indicators × monthly periods, with targets, actuals for 2016 and early 2017, approvals in 2016 H1.
    iid, period_id = _next_id(Indicator), _next_id(IndicatorPeriod)
    indicators, periods, dimensions, categories, values = [], [], [], [], []
    did, cid, vid = _next_id(Dimension), _next_id(DimensionCategory), _next_id(DisaggregatedValue)
    months = list(_months())
    for n in range(INDICATORS * scale):
        result_id, result_code = outputs[n % len(outputs)]
        unit = UNITS[n % len(UNITS)]
        indicators.append({
            "id": iid + n, "project_id": pid, "result_id": result_id, "code": f"{result_code}.{n}",
            "title": f"Indicator {n}: people trained in Hồ Chí Minh City", "unit": unit,
            "ascending": True, "cumulative": n % 3 != 0, "baseline_value": Decimal(0) if unit != "qualitative" else None,
            "baseline_text": "", "baseline_note": "", "target_value": Decimal(240) if unit == "number" else
            (Decimal(80) if unit == "percent" else (Decimal(1) if unit == "yesno" else None)),
            "target_text": "Reported" if unit == "qualitative" else "", "means_of_verification": "Reports",
            "frequency": "Monthly", "responsible": "Officer", "illustrative": True, "position": n})
        with_dimension = unit == "number" and n % 10 == 0
        if with_dimension:
            dimensions.append({"id": did, "project_id": pid, "indicator_id": iid + n, "name": "Sex", "position": 0})
            categories.extend([{"id": cid, "project_id": pid, "dimension_id": did, "label": "Women", "position": 0},
                               {"id": cid + 1, "project_id": pid, "dimension_id": did, "label": "Men", "position": 1}])
        for m, (first, last) in enumerate(months):
            reported = m < 15
            row = {"id": period_id, "project_id": pid, "indicator_id": iid + n, "start_date": first,
                   "end_date": last, "target": None, "actual": None, "target_text": "", "actual_text": "",
                   "comment": "", "return_note": "", "version": 1,
                   "state": "approved" if m < 6 else ("submitted" if m < 12 else "draft")}
            if unit == "qualitative":
                row["target_text"] = "Progress report"
                row["actual_text"] = "Reported in Huế" if reported else ""
            elif unit == "yesno":
                row["target"], row["actual"] = Decimal(1), (Decimal(m % 2) if reported else None)
            elif unit == "percent":
                row["target"], row["actual"] = Decimal(80), (Decimal(70 + m % 20) if reported else None)
            else:
                row["target"], row["actual"] = Decimal(10), (Decimal(8 + m % 5) if reported else None)
                if with_dimension and reported:
                    women = int(row["actual"]) // 2
                    values.extend([
                        {"id": vid, "project_id": pid, "period_id": period_id, "category_id": cid,
                         "value": Decimal(women)},
                        {"id": vid + 1, "project_id": pid, "period_id": period_id, "category_id": cid + 1,
                         "value": row["actual"] - women}])
                    vid += 2
            periods.append(row)
            period_id += 1
        if with_dimension:
            did, cid = did + 1, cid + 2
    _bulk(Indicator, indicators)
    _bulk(IndicatorPeriod, periods)
    _bulk(Dimension, dimensions)
    _bulk(DimensionCategory, categories)
    _bulk(DisaggregatedValue, values)

    # Activities and their weekly logs: ACTIVITIES × 100 weeks (5,000 logs at 1×).
    aid, lid = _next_id(Activity), _next_id(ProgressLog)
    activities, logs = [], []
    weeks_each = LOGS // ACTIVITIES
    first_monday = date(2016, 1, 4)
    for n in range(ACTIVITIES * scale):
        result_id, _ = outputs[n % len(outputs)]
        activities.append({
            "id": aid + n, "project_id": pid, "result_id": result_id, "code": f"A{n + 1}",
            "title": f"Activity {n + 1}: workshop in Hà Nội", "description": "", "status": STATUSES[n % len(STATUSES)],
            "percent_complete": 100 if STATUSES[n % len(STATUSES)] == "completed" else (n * 7) % 100,
            "planned_start": START, "planned_end": END, "responsible": "Officer", "locations": "Hà Nội; Huế",
            "position": n, "version": 1})
        for w in range(weeks_each):
            monday = first_monday + timedelta(weeks=w)
            logs.append({"id": lid, "project_id": pid, "activity_id": aid + n, "iso_week": iso_week(monday),
                         "week_start": monday, "status": "on_track", "percent_complete": min(100, w),
                         "done": f"Week {w}: meetings in Huế", "problems": "", "next_steps": "Follow up",
                         "author_id": user.id, "version": 1})
            lid += 1
    _bulk(Activity, activities)
    _bulk(ProgressLog, logs)

    # Budget lines (the grant split evenly), each allocated to one activity; expenditures on them.
    blid, xid = _next_id(BudgetLine), _next_id(Expenditure)
    line_count = BUDGET_LINES * scale
    line_cents = project.grant_cents // line_count
    _bulk(BudgetLine, [{"id": blid + n, "project_id": pid, "code": f"B{n + 1}", "category": "travel",
                        "account_code": "", "description": f"Budget line {n + 1}: workshops in Huế",
                        "original_cents": line_cents, "revised_cents": None, "notes": "", "illustrative": True,
                        "position": n, "version": 1} for n in range(line_count)])
    alid = _next_id(BudgetAllocation)
    _bulk(BudgetAllocation, [{"id": alid + n, "project_id": pid, "line_id": blid + n,
                              "activity_id": aid + n % (ACTIVITIES * scale), "percent": Decimal(100)}
                             for n in range(line_count)])
    spend_count = EXPENDITURES * scale
    each = line_cents * line_count // (spend_count * 2)  # half the grant spent
    _bulk(Expenditure, [{"id": xid + n, "project_id": pid, "line_id": blid + n % line_count,
                         "spent_on": START + timedelta(days=n % 700), "amount_cents": each,
                         "original_amount": None, "original_currency": "", "exchange_rate": None,
                         "payee": f"Payee {n % 37} (Hà Nội)", "voucher": f"V-{n + 1:06d}",
                         "description": f"Workshop cost {n}", "status": "disbursed" if n % 4 else "committed",
                         "overspend_justification": "", "created_by_id": user.id, "version": 1}
                        for n in range(spend_count)])

    # Evidence, a few of it queried by the auditor, some verified; half of it backs an expenditure.
    eid = _next_id(EvidenceItem)
    evidence_count = 200 * scale
    _bulk(EvidenceItem, [{"id": eid + n, "project_id": pid, "kind": "report", "title": f"Report {n}",
                          "review_state": "queried" if n % 10 == 0 else ("verified" if n % 3 == 0 else "pending"),
                          "review_note": "Chữ ký thiếu" if n % 10 == 0 else ""} for n in range(evidence_count)])
    elid = _next_id(EvidenceLink)
    _bulk(EvidenceLink, [{"id": elid + n, "project_id": pid, "evidence_id": eid + n,
                          "expenditure_id": xid + n % spend_count} for n in range(0, evidence_count, 2)])

    # The audit trail: events written straight (the hook sees no flush); the chain is not
    # verifiable, which the trail page does not check.
    evid = _next_id(AuditEvent)
    stamp = datetime(2017, 1, 1, tzinfo=UTC)
    _bulk(AuditEvent, [{"id": evid + n, "created_at": stamp + timedelta(minutes=n), "actor_id": user.id,
                        "actor_label": BENCH_EMAIL, "action": "update", "table_name": "progress_log",
                        "row_id": lid - 1 - n % 100, "project_id": pid,
                        "changes": '{"done": ["Week 1", "Week 1: meetings in Huế"]}', "address": "127.0.0.1",
                        "prev_hash": f"{pid:08x}{n:056x}", "hash": f"{pid:08x}{n + 1:056x}"}
                       for n in range(AUDIT_EVENTS * scale)])
    db.session.commit()
    return pid


def generate_portfolio(count: int = PORTFOLIO) -> int:
    """``count`` small projects (facts and two activities each) the bench manager belongs to,
    for the portfolio page; returns how many projects the manager now sees. Commits."""
    user = db.session.execute(select(User).where(User.email == BENCH_EMAIL)).scalar_one()
    first = _next_id(Project)
    projects, memberships, activities = [], [], []
    mid, aid, rid = _next_id(Membership), _next_id(Activity), _next_id(ResultNode)
    results = []
    for n in range(count):
        results.append({"id": rid + n, "project_id": first + n, "parent_id": None, "level": "objective",
                        "code": "1", "statement": "Objective", "assumptions": "", "position": 0})
        projects.append({"id": first + n, "code": f"PF-{first + n}", "title": f"Portfolio project {n} (Đà Nẵng)",
                         "donor": "Bench donor", "grant_cents": 50_000_00 + n, "currency": "USD",
                         "start_date": START + timedelta(days=n % 365), "end_date": END, "objective": "",
                         "summary": "", "country": "VN", "iati_identifier": "", "status_note": "",
                         "illustrative_note": "", "on_track_pct": Decimal(90), "at_risk_pct": Decimal(60)})
        memberships.append({"id": mid + n, "user_id": user.id, "project_id": first + n,
                            "role": ("manager", "officer", "liaison", "auditor")[n % 4]})
        for k in range(2):
            activities.append({"id": aid + 2 * n + k, "project_id": first + n, "result_id": rid + n,
                               "code": f"A{k + 1}", "title": "Workshop", "description": "",
                               "status": STATUSES[(n + k) % len(STATUSES)], "percent_complete": 0,
                               "planned_start": START, "planned_end": END, "responsible": "", "locations": "",
                               "position": k, "version": 1})
    _bulk(Project, projects)
    _bulk(ResultNode, results)
    _bulk(Membership, memberships)
    _bulk(Activity, activities)
    db.session.commit()
    return db.session.execute(select(func.count()).select_from(Membership)
                              .where(Membership.user_id == user.id)).scalar()


if __name__ == "__main__":
    from tracker import create_app

    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:////tmp/tracker-bench.sqlite3"
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(Path(__file__).resolve().parent.parent / "tracker" / "migrations"))
        project_id = generate(scale)
        print(f"Generated project {project_id} at {scale}× in {url}")
