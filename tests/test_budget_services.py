"""Budget rules, called directly: totals, the grant ceiling, revisions, allocations, roll-ups, burn chart."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tracker.budget import services
from tracker.concurrency import ConflictError
from tracker.extensions import db
from tracker.models import Activity, AuditEvent, BudgetAllocation, BudgetLine, Project
from tracker.validation import InputError


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session.execute(select(Project)).scalar_one()


def line(project, code) -> BudgetLine:
    return db.session.execute(
        select(BudgetLine).where(BudgetLine.project_id == project.id, BudgetLine.code == code)).scalar_one()


def snapshot():
    """Everything a failed change must leave as it was."""
    lines = db.session.execute(select(BudgetLine.code, BudgetLine.original_cents, BudgetLine.revised_cents,
                                      BudgetLine.description).order_by(BudgetLine.id)).all()
    shares = db.session.execute(select(BudgetAllocation.line_id, BudgetAllocation.activity_id,
                                       BudgetAllocation.percent).order_by(BudgetAllocation.id)).all()
    events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    return lines, shares, events


def test_demo_lines_split_the_grant_exactly_and_are_illustrative(ctx):
    totals = services.line_totals(ctx.id)
    assert [t.line.code for t in totals] == ["BL1", "BL2", "BL3", "BL4", "BL5", "BL6"]
    assert sum(t.current_cents for t in totals) == ctx.grant_cents == 120_000_00
    assert all(t.line.illustrative for t in totals)
    bl1 = totals[0]
    assert (bl1.committed_cents, bl1.disbursed_cents) == (4_500_00, 15_500_00)
    assert bl1.balance_cents == 10_000_00 and bl1.pct_used == Decimal("66.66666666666666666666666667")


def test_summary_reconciles_lines_to_the_grant(ctx):
    summary = services.summarise(ctx, services.line_totals(ctx.id))
    assert summary.current_cents + summary.unbudgeted_cents == summary.grant_cents
    assert summary.spent_cents == 44_950_00 and summary.disbursed_cents == 40_450_00
    assert summary.balance_cents == 120_000_00 - 44_950_00


def test_a_new_line_over_the_grant_is_refused_with_the_figures(ctx):
    line(ctx, "BL6").revised_cents = 10_500_00  # frees USD 1,500 of the grant
    db.session.flush()
    before = snapshot()
    with pytest.raises(InputError) as caught:
        services.create_line(ctx, {"code": "BL7", "category": "travel", "description": "Extra travel",
                                   "original": "3000"})
    assert str(caught.value) == ("Budget lines would total USD 121,500.00, USD 1,500.00 above the grant of "
                                 "USD 120,000.00.")
    assert snapshot() == before  # nothing was added or flushed


def test_the_exact_message_when_a_revision_would_exceed_the_grant(ctx):
    bl3 = line(ctx, "BL3")
    with pytest.raises(InputError) as caught:
        services.update_line(ctx, bl3, {"code": "BL3", "category": bl3.category, "description": bl3.description,
                                        "original": "25000", "revised": "26500"}, bl3.version)
    assert caught.value.errors[""] == ("Budget lines would total USD 121,500.00, USD 1,500.00 above the grant of "
                                       "USD 120,000.00.")


def test_a_line_fitting_the_grant_is_added_after_another_is_revised_down(ctx):
    bl4 = line(ctx, "BL4")
    services.update_line(ctx, bl4, {"code": "BL4", "category": bl4.category, "description": bl4.description,
                                    "original": "25000.00", "revised": "22000"}, bl4.version)
    created = services.create_line(ctx, {"code": "BL7", "category": "travel", "account_code": "5400",
                                         "description": "Travel to Huế", "original": "3,000.00"})
    assert created.current_cents == 3_000_00 and created.position == 6 and not created.illustrative
    assert bl4.revised_cents == 22_000_00 and not bl4.illustrative
    summary = services.summarise(ctx, services.line_totals(ctx.id))
    assert summary.current_cents == ctx.grant_cents


@pytest.mark.parametrize("field, value, message", [
    ("original", "0", "more than zero"),
    ("original", "-5", "more than zero"),
    ("original", "10.123", "at most two decimals"),
    ("original", "ten", "must be a number"),
    ("code", "BL2", "already has the code BL2"),
    ("code", "", "code is required"),
    ("description", " ", "Say what the line pays for"),
])
def test_bad_line_input_is_refused_next_to_its_field(ctx, field, value, message):
    data = {"code": "BL9", "category": "travel", "description": "Travel", "original": "1"}
    line(ctx, "BL6").revised_cents = 11_000_00
    db.session.flush()
    data[field] = value
    with pytest.raises(InputError) as caught:
        services.create_line(ctx, data)
    assert message in caught.value.errors[field]


def test_a_line_cannot_be_revised_below_what_is_spent_on_it(ctx):
    bl1 = line(ctx, "BL1")  # 20,000 spent
    with pytest.raises(InputError) as caught:
        services.update_line(ctx, bl1, {"code": "BL1", "category": bl1.category, "description": bl1.description,
                                        "original": "30000", "revised": "19999.99"}, bl1.version)
    assert "USD 20,000.00 is already committed or disbursed on BL1" in caught.value.errors["revised"]


def test_an_out_of_date_line_form_is_a_conflict_naming_who_changed_it(ctx):
    bl2 = line(ctx, "BL2")
    opened = bl2.version
    services.update_line(ctx, bl2, {"code": "BL2", "category": bl2.category, "description": "First edit",
                                    "original": "20000"}, opened)
    db.session.flush()
    with pytest.raises(ConflictError) as caught:
        services.update_line(ctx, bl2, {"code": "BL2", "category": bl2.category, "description": "Second edit",
                                        "original": "20000"}, opened)
    assert "Budget line BL2 was changed by" in str(caught.value)


def test_a_line_with_expenditures_cannot_be_deleted_but_an_empty_one_can(ctx):
    with pytest.raises(InputError) as caught:
        services.delete_line(line(ctx, "BL1"))
    assert "BL1 has 3 expenditures" in str(caught.value)
    services.delete_line(line(ctx, "BL4"))
    assert [t.line.code for t in services.line_totals(ctx.id)] == ["BL1", "BL2", "BL3", "BL5", "BL6"]
    assert db.session.execute(select(func.count()).select_from(BudgetAllocation)
                              .where(BudgetAllocation.line_id == 4)).scalar() == 0


def test_allocations_are_replaced_and_may_not_total_more_than_100(ctx):
    bl2 = line(ctx, "BL2")
    activities = {a.code: a.id for a in db.session.execute(select(Activity)).scalars()}
    services.set_allocations(bl2, {activities["A1.4"]: "60", activities["A2"]: "39.5", activities["A1"]: ""})
    assert {(a.activity_id, a.percent) for a in bl2.allocations} == {
        (activities["A1.4"], Decimal("60")), (activities["A2"], Decimal("39.5"))}
    with pytest.raises(InputError) as caught:
        services.set_allocations(bl2, {activities["A1.4"]: "60", activities["A2"]: "40.01"})
    assert "would total 100.01%" in str(caught.value)
    with pytest.raises(InputError) as caught:
        services.set_allocations(bl2, {activities["A1.4"]: "12.345"})
    assert "at most two decimals" in caught.value.errors[f"share-{activities['A1.4']}"]
    with pytest.raises(InputError):
        services.set_allocations(bl2, {activities["A1.4"]: "120"})
    with pytest.raises(InputError) as caught:
        services.set_allocations(bl2, {99999: "10"})
    assert "not part of this project" in caught.value.errors["share-99999"]


def test_split_cents_adds_up_to_the_whole_to_the_cent():
    assert services.split_cents(100, [Decimal(1), Decimal(1), Decimal(1), Decimal(97)]) == [1, 1, 1, 97]
    assert services.split_cents(10, [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]) == [3, 3, 4]
    parts = services.split_cents(1_000_01, [Decimal("12.5"), Decimal("37.5"), Decimal("50")])
    assert sum(parts) == 1_000_01
    assert services.split_cents(0, [Decimal(50), Decimal(50)]) == [0, 0]


def test_rollup_spreads_lines_over_activities_and_up_to_results(ctx):
    totals = services.line_totals(ctx.id)
    rollup = services.rollup(ctx.id, totals)
    by_code = {a.code: f for a, f in rollup.activities}
    # BL3 (25,000, all on A1.4) + half of BL2 (10,000) + 40% of BL5 (3,200) = 38,200.
    assert by_code["A1.4"].current_cents == 38_200_00
    assert by_code["A1.2"].disbursed_cents == 7_750_00  # half of BL1's 15,500 disbursed
    activity_sum = sum(f.current_cents for f in by_code.values()) + rollup.unallocated.current_cents
    assert activity_sum == rollup.total.current_cents == 120_000_00
    for figure in ("committed_cents", "disbursed_cents"):
        assert sum(getattr(f, figure) for f in by_code.values()) + getattr(rollup.unallocated, figure) \
            == getattr(rollup.total, figure)
    results = {r.code: f for r, _depth, f in rollup.results}
    assert results["1"].current_cents == 120_000_00  # every activity sits under the objective
    assert results["1.1"].current_cents + results["1.2"].current_cents == results["1"].current_cents
    assert results["1.2.1"].current_cents == by_code["A1.1"].current_cents + by_code["A1.2"].current_cents \
        + by_code["A1.3"].current_cents


def test_rollup_shows_what_a_line_leaves_unallocated(ctx):
    bl6 = line(ctx, "BL6")
    a1 = db.session.execute(select(Activity).where(Activity.code == "A1")).scalar_one()
    services.set_allocations(bl6, {a1.id: "25"})
    rollup = services.rollup(ctx.id, services.line_totals(ctx.id))
    assert rollup.unallocated.current_cents == 9_000_00


def burn_chart(project, budget_cents):
    """The chart of the project's spending, as the budget page draws it."""
    return services.burn_chart(services.spending_by_day(project.id), period=(project.start_date, project.end_date),
                               budget_cents=budget_cents, grant_cents=project.grant_cents)


def test_burn_chart_steps_up_with_spending(ctx):
    chart = burn_chart(ctx, 120_000_00)
    assert chart.disbursed_cents == 40_450_00 and chart.spent_cents == 44_950_00
    assert chart.last_day == date(2016, 12, 15)
    assert chart.max_cents >= 120_000_00 * 105 // 100
    points = chart.disbursed_points.split()
    assert len(points) == 2 + 2 * 4  # start, four days with disbursements, end
    assert "disbursed USD 40,450.00" in chart.summary
    assert chart.x_ticks and chart.y_ticks[0][1] == "USD 0"


def test_burn_chart_of_a_project_without_spending(ctx):
    from tracker.models import Expenditure

    for expenditure in db.session.execute(select(Expenditure)).scalars():
        db.session.delete(expenditure)
    db.session.flush()
    chart = burn_chart(ctx, 0)
    assert chart.last_day is None and "No spending booked yet" in chart.summary


def test_budget_page_runs_a_fixed_number_of_queries(ctx, app):
    from sqlalchemy import event

    def count_queries():
        statements = []

        def listener(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            db.session.expire_all()
            services.budget_page(ctx)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    before = count_queries()
    from tracker.models import Expenditure

    bl6 = line(ctx, "BL6")
    for number in range(60):
        db.session.add(Expenditure(project_id=ctx.id, line_id=bl6.id, voucher=f"Q-{number}",
                                   spent_on=date(2017, 1, 1 + number % 28), amount_cents=100, status="disbursed"))
    bl6.revised_cents = 6_000_00
    for number in range(5):
        services.create_line(ctx, {"code": f"X{number}", "category": "other", "description": "x", "original": "100"})
    db.session.flush()
    assert count_queries() == before
