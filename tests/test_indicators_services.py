"""Targets, actuals, breakdowns, approval, periods and thresholds, through the services directly."""

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tracker.concurrency import ConflictError
from tracker.extensions import db
from tracker.models import AuditEvent, DisaggregatedValue, Indicator, IndicatorPeriod, Project, User
from tracker.results import services
from tracker.results.services import LockedError
from tracker.validation import InputError


@pytest.fixture
def ctx(app):
    with app.app_context():
        project = db.session.execute(select(Project)).scalar_one()
        users = {u.email.split("@")[0]: u for u in db.session.execute(select(User)).scalars()}
        yield project, users


def indicator(code) -> Indicator:
    return db.session.execute(select(Indicator).where(Indicator.code == code)).scalar_one()


def period(code, index) -> IndicatorPeriod:
    return sorted(indicator(code).periods, key=lambda p: p.start_date)[index]


def v(period_) -> str:
    return str(period_.version)


@pytest.mark.parametrize(("unit", "raw", "expected"), [
    ("number", "12", (Decimal(12), "")),
    ("number", " 1,250.5 ", (Decimal("1250.5"), "")),
    ("number", "", (None, "")),
    ("percent", "45%", (Decimal(45), "")),
    ("percent", "100", (Decimal(100), "")),
    ("yesno", "Yes", (Decimal(1), "")),
    ("yesno", "không", (Decimal(0), "")),
    ("qualitative", "  Dự thảo chính sách đã nộp ", (None, "Dự thảo chính sách đã nộp")),
])
def test_values_are_read_for_the_indicators_unit(unit, raw, expected):
    assert services.parse_value(Indicator(unit=unit), raw) == expected


@pytest.mark.parametrize(("unit", "raw", "message"), [
    ("number", "nine", "The actual must be a number, for example 12 or 3.5"),
    ("number", "-3", "cannot be negative"),
    ("number", "3,5", "could be read two ways. Did you mean 3.5 or 35?"),
    ("number", "1.23456", "at most four decimals"),
    ("number", "NaN", "must be a number"),
    ("percent", "120", "must be from 0 to 100"),
    ("percent", "-1%", "must be from 0 to 100"),
    ("percent", "half", "must be a number, for example 45"),
    ("yesno", "maybe", "must be yes or no"),
])
def test_bad_values_get_a_message_that_says_what_is_expected(unit, raw, message):
    with pytest.raises(InputError, match=message):
        services.parse_value(Indicator(unit=unit), raw)


def test_values_show_and_go_back_into_inputs_as_people_read_them():
    assert services.show_value(Indicator(unit="yesno"), Decimal(1)) == "Yes"
    assert services.show_value(Indicator(unit="percent"), Decimal("45.5000")) == "45.5%"
    assert services.show_value(Indicator(unit="number"), Decimal("1250.0000")) == "1,250"
    assert services.input_value(Indicator(unit="number"), Decimal("1250.0000")) == "1250"
    assert services.input_value(Indicator(unit="yesno"), Decimal(0)) == "no"
    assert services.period_label(date(2016, 1, 1), date(2016, 6, 30)) == "2016 H1"
    assert services.period_label(date(2016, 7, 1), date(2016, 9, 30)) == "2016 Q3"
    assert services.period_label(date(2016, 2, 1), date(2016, 2, 29)) == "2016-02"
    assert services.period_label(date(2017, 1, 1), date(2017, 12, 31)) == "2017"
    assert services.period_label(date(2016, 1, 5), date(2016, 2, 4)) == "2016-01-05 – 2016-02-04"


def test_saving_a_target_and_an_actual_changes_the_period_and_its_version(ctx):
    project, users = ctx
    p = period("1.1.b", 2)
    services.save_target(p, "4", v(p), users["manager"])
    services.save_actual(p, "2", v(p), users["officer"])
    db.session.commit()
    assert (p.target, p.actual, p.version, p.updated_by_id) == (4, 2, 3, users["officer"].id)
    services.save_actual(p, "", v(p), users["officer"])  # clearing is allowed
    assert p.actual is None


def test_a_stale_cell_is_a_conflict_that_names_who_saved_it(ctx):
    project, users = ctx
    p = period("1.1.a", 2)
    opened = v(p)
    services.save_actual(p, "1", opened, users["manager"])
    db.session.commit()
    with pytest.raises(ConflictError, match="changed by Nguyễn Thị Mai"):
        services.save_actual(p, "2", opened, users["officer"])


def test_an_approved_period_refuses_every_change(ctx):
    project, users = ctx
    locked = period("1.1.b", 0)
    assert locked.state == "approved"
    for change in (lambda: services.save_target(locked, "5", v(locked), users["manager"]),
                   lambda: services.save_actual(locked, "5", v(locked), users["officer"]),
                   lambda: services.save_breakdown(locked, "0", {}, v(locked), users["officer"]),
                   lambda: services.change_period_dates(locked, date(2016, 1, 1), date(2016, 5, 31), v(locked),
                                                        users["manager"]),
                   lambda: services.delete_period(locked, v(locked))):
        with pytest.raises(LockedError, match="approved and locked; a manager must unlock it"):
            change()
    db.session.rollback()
    assert (locked.target, locked.actual) == (0, 0)


def test_the_actual_must_match_a_breakdown_already_entered(ctx):
    project, users = ctx
    p = period("1.1.b", 1)  # 9 press articles: 8 Vietnamese + 1 English
    with pytest.raises(InputError, match="breakdown by Language adds up to 9, so the actual must be 9"):
        services.save_actual(p, "10", v(p), users["officer"])
    services.save_actual(p, "9", v(p), users["officer"])


def test_a_breakdown_is_checked_against_its_total(ctx):
    project, users = ctx
    cities = indicator("1.2.a")
    p = period("1.2.a", 2)
    ids = [c.id for c in cities.dimensions[0].categories]
    with pytest.raises(InputError) as error:
        services.save_breakdown(p, "4", dict(zip(ids, ["1", "1", "1"], strict=True)), v(p), users["officer"])
    assert error.value.field == "total"
    assert str(error.value) == ("The values by City add up to 3, but the total is 4. Make them equal: correct a "
                                "category or the total.")
    with pytest.raises(InputError, match="Fill in every category of City, or none: Hồ Chí Minh City is empty"):
        services.save_breakdown(p, "", {ids[0]: "1", ids[1]: "2"}, v(p), users["officer"])
    with pytest.raises(InputError, match="City: Huế cannot be negative") as error:
        services.save_breakdown(p, "", {ids[0]: "1", ids[1]: "-2", ids[2]: "1"}, v(p), users["officer"])
    assert error.value.field == f"category-{ids[1]}"
    db.session.rollback()
    services.save_breakdown(p, "", dict(zip(ids, ["2", "0", "1"], strict=True)), v(p), users["officer"])
    db.session.commit()
    assert p.actual == 3 and sorted(x.value for x in p.values) == [0, 1, 2]
    services.save_breakdown(p, "", {}, v(p), users["officer"])  # emptying the breakdown keeps no values
    db.session.commit()
    assert db.session.execute(select(DisaggregatedValue).where(DisaggregatedValue.period_id == p.id)).all() == []


def test_submit_approve_return_and_unlock_each_leave_an_audit_event(ctx):
    project, users = ctx
    p = period("1.1.a", 2)
    with pytest.raises(InputError, match="Enter the actual before submitting"):
        services.submit_period(p, v(p), users["officer"])
    services.save_actual(p, "1", v(p), users["officer"])
    services.submit_period(p, v(p), users["officer"])
    assert p.state == "submitted" and p.submitted_by_id == users["officer"].id
    with pytest.raises(InputError, match="Say what needs changing"):
        services.return_period(p, "  ", v(p), users["manager"])
    services.return_period(p, "Thiếu danh sách tham dự.", v(p), users["manager"])
    assert (p.state, p.return_note) == ("returned", "Thiếu danh sách tham dự.")
    services.save_actual(p, "1", v(p), users["officer"])  # a returned period can change
    services.submit_period(p, v(p), users["officer"])
    with pytest.raises(InputError, match="already submitted"):
        services.submit_period(p, v(p), users["officer"])
    services.approve_period(p, v(p), users["manager"])
    assert p.locked and p.approved_by_id == users["manager"].id and p.return_note == ""
    with pytest.raises(InputError, match="Only a submitted period can be approved"):
        services.approve_period(p, v(p), users["manager"])
    services.unlock_period(p, v(p), users["manager"], "Sửa số liệu")
    assert p.state == "draft" and not p.locked
    db.session.commit()
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.table_name == "indicator_period", AuditEvent.row_id == p.id,
                                 AuditEvent.action.like("indicator.%")).order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["indicator.submit", "indicator.return", "indicator.submit",
                                          "indicator.approve", "indicator.unlock"]
    assert json.loads(events[1].changes)["note"] == "Thiếu danh sách tham dự."
    assert json.loads(events[3].changes)["state"] == ["submitted", "approved"]


def test_approving_from_a_stale_page_is_a_conflict(ctx):
    project, users = ctx
    p = period("1.1.b", 1)  # submitted
    seen = v(p)
    services.save_actual(p, "9", seen, users["officer"])  # the officer changes it after the manager looked
    with pytest.raises(ConflictError):
        services.approve_period(p, seen, users["manager"])


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    (date(2016, 6, 30), date(2016, 1, 1), "end_date", "ends (2016-01-01) before it starts (2016-06-30)"),
    (date(2016, 6, 1), date(2016, 7, 31), "start_date", "overlaps the period 2016-01-01 – 2016-06-30"),
    (date(2015, 7, 1), date(2015, 12, 31), "start_date", "within the project period"),
    (None, date(2016, 1, 1), "start_date", "Enter the date the period starts"),
])
def test_a_bad_period_is_refused(ctx, start, end, field, message):
    project, users = ctx
    with pytest.raises(InputError) as error:
        services.add_period(indicator("1.a"), start, end, users["manager"])
    assert error.value.field == field and message in str(error.value)


def test_periods_can_be_added_moved_and_removed_without_overlap(ctx):
    project, users = ctx
    extra = Indicator(project_id=project.id, result_id=indicator("1.a").result_id, code="1.z", title="Mới",
                      unit="number")
    db.session.add(extra)
    db.session.flush()
    first = services.add_period(extra, date(2016, 1, 1), date(2016, 3, 31), users["manager"])
    second = services.add_period(extra, date(2016, 4, 1), date(2016, 6, 30), users["manager"])
    with pytest.raises(InputError, match="overlaps"):
        services.change_period_dates(second, date(2016, 3, 1), date(2016, 6, 30), v(second), users["manager"])
    services.change_period_dates(first, date(2016, 1, 1), date(2016, 2, 29), v(first), users["manager"])
    services.save_actual(second, "3", v(second), users["officer"])
    with pytest.raises(InputError, match="has an actual"):
        services.delete_period(second, v(second))
    services.delete_period(first, v(first))
    db.session.commit()
    assert [p.start_date for p in extra.periods] == [date(2016, 4, 1)]


def test_dimensions_are_declared_with_their_categories(ctx):
    project, users = ctx
    target = indicator("1.1.a")
    dimension = services.add_dimension(target, "Giới tính", "Nữ; Nam")
    assert [c.label for c in dimension.categories] == ["Nữ", "Nam"]
    with pytest.raises(InputError, match="already has a dimension called Giới tính"):
        services.add_dimension(target, "giới tính", "A; B")
    with pytest.raises(InputError, match="at least two categories"):
        services.add_dimension(target, "City", "Huế")
    with pytest.raises(InputError, match="Each category must appear once"):
        services.add_dimension(target, "City", "Huế; huế")
    cities = indicator("1.2.a")
    with pytest.raises(InputError, match="values in an approved period"):
        p = period("1.2.a", 1)
        p.state = "approved"
        db.session.flush()
        services.remove_dimension(cities, cities.dimensions[0])


def test_thresholds_are_configurable_and_checked(ctx):
    project, _ = ctx
    services.set_thresholds(project, "80", "50.5%")
    assert (project.on_track_pct, project.at_risk_pct) == (Decimal(80), Decimal("50.5"))
    for on_track, at_risk, field, message in (("abc", "50", "on_track_pct", "percentage from 0 to 100"),
                                              ("150", "50", "on_track_pct", "percentage from 0 to 100"),
                                              ("60", "60", "at_risk_pct", "must be below")):
        with pytest.raises(InputError, match=message) as error:
            services.set_thresholds(project, on_track, at_risk)
        assert error.value.field == field


def test_status_uses_the_projects_thresholds_and_cumulative_totals(ctx):
    project, users = ctx
    press = indicator("1.1.b")  # cumulative: targets 0, 6, 3, 3; actuals 0, 9
    p3 = period("1.1.b", 2)
    services.save_actual(p3, "1", v(p3), users["officer"])
    progress = services.indicator_progress(press, project)
    assert (progress.value_to_date, progress.target_to_date) == (10, 9)  # sums of the periods so far
    assert progress.status == "on_track"
    cities = indicator("1.2.a")  # not cumulative: latest actual counts
    p3 = period("1.2.a", 2)
    services.save_target(p3, "3", v(p3), users["manager"])
    services.save_breakdown(p3, "2", {c.id: x for c, x in zip(cities.dimensions[0].categories, ["1", "1", "0"],
                                                               strict=True)}, v(p3), users["officer"])
    progress = services.indicator_progress(cities, project)
    assert (progress.value_to_date, progress.target_to_date) == (2, 3)
    assert progress.status == "at_risk"  # 66.7% is below 90 and at least 60
    services.set_thresholds(project, "65", "40")
    assert services.indicator_progress(cities, project).status == "on_track"


def test_the_grid_pages_and_filters_indicators_in_logframe_order(ctx):
    project, _ = ctx
    grid = services.load_grid(project)
    assert [r.indicator.code for r in grid.rows] == ["1.a", "1.1.a", "1.1.b", "1.2.a", "1.2.b", "1.2.c"]
    assert [c.label for c in grid.columns] == ["2016 H1", "2016 H2", "2017 H1", "2017 H2"]
    result_12 = next(r for r in grid.results if r.code == "1.2")
    filtered = services.load_grid(project, result_12.id)
    assert [r.indicator.code for r in filtered.rows] == ["1.2.a", "1.2.b", "1.2.c"]  # with its sub-results
    paged = services.load_grid(project, page=2, per_page=4)
    assert (paged.page, paged.pages, paged.total) == (2, 2, 6)
    assert [r.indicator.code for r in paged.rows] == ["1.2.b", "1.2.c"]
    assert services.load_grid(project, page=99, per_page=4).page == 2


def test_the_chart_draws_target_and_actual_to_date(ctx):
    project, _ = ctx
    chart = services.chart_for(services.indicator_progress(indicator("1.1.b"), project))
    assert chart.target_points.count(",") == 4 and chart.actual_points.count(",") == 2
    assert "2016 H2: target 6, actual 9" in chart.description and chart.top_label == "12"
    assert services.chart_for(services.indicator_progress(indicator("1.2.c"), project)) is None  # qualitative


# --- the functions the workbook import calls: plain values, workbook cells, the same words ---


@pytest.mark.parametrize(("unit", "cell", "expected"), [
    ("number", 12, (Decimal(12), "")),
    ("number", 3.5, (Decimal("3.5"), "")),
    ("number", Decimal("1250.5"), (Decimal("1250.5"), "")),
    ("number", None, (None, "")),
    ("percent", 45, (Decimal(45), "")),
    ("yesno", 1, (Decimal(1), "")),
    ("yesno", 0.0, (Decimal(0), "")),
    ("yesno", True, (Decimal(1), "")),
    ("qualitative", 12, (None, "12")),
])
def test_workbook_cells_are_read_by_the_same_rule_as_typed_values(unit, cell, expected):
    assert services.parse_value(unit, cell) == expected


@pytest.mark.parametrize(("unit", "cell", "message"), [
    ("number", -3, "cannot be negative"),
    ("number", "1,5", "could be read two ways"),
    ("number", "1e999999999", "is too large"),
    ("number", float("nan"), "must be a number"),
    ("number", True, "must be a number"),
    ("percent", 250, "must be from 0 to 100"),
    ("yesno", 2, "must be yes or no"),
])
def test_workbook_cells_the_grid_refuses_are_refused_with_the_same_words(unit, cell, message):
    with pytest.raises(InputError, match=message):
        services.parse_value(unit, cell, "The actual")
    typed = str(cell) if not isinstance(cell, float) else "nan"
    if unit != "yesno" and not isinstance(cell, bool):
        with pytest.raises(InputError):
            services.parse_value(unit, typed, "The actual")


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    ("1900-01-01", "1900-06-30", "start_date", "within the project period"),
    ("2099-01-01", "2099-06-30", "end_date", "within the project period"),
    ("2016-13-01", "2016-06-30", "start_date", "must be a date such as"),
    ("2016-03-01", "2016-04-30", "start_date", "overlaps the period 2016-01-01 – 2016-06-30 of 1.x"),
    ("", "2016-06-30", "start_date", "Enter the date the period starts"),
])
def test_period_dates_are_checked_from_plain_values(start, end, field, message):
    with pytest.raises(InputError) as error:
        services.check_period_dates(start, end, project_start=date(2016, 1, 1), project_end=date(2017, 12, 31),
                                    others=[(date(2016, 1, 1), date(2016, 6, 30))], code="1.x")
    assert error.value.field == field and message in str(error.value)
    assert services.check_period_dates(date(2016, 7, 1), "2016-12-31", project_start=date(2016, 1, 1),
                                       project_end=date(2017, 12, 31)) == (date(2016, 7, 1), date(2016, 12, 31))


def test_set_period_values_and_create_period_take_workbook_values_and_keep_every_rule(ctx):
    project, users = ctx
    p = period("1.1.b", 2)
    services.set_period_values(p, users["officer"], target=4, actual="2", comment="Theo báo cáo")
    assert (p.target, p.actual, p.comment) == (4, 2, "Theo báo cáo")
    services.set_period_values(p, users["officer"], target=None, actual="")  # None keeps, "" clears
    assert (p.target, p.actual) == (4, None)
    with pytest.raises(InputError) as error:
        services.set_period_values(p, users["officer"], target=-1, actual="nine")
    assert set(error.value.errors) == {"target", "actual"}
    with pytest.raises(InputError, match="breakdown by Language adds up to 9"):
        services.set_period_values(period("1.1.b", 1), users["officer"], actual=10)
    with pytest.raises(LockedError):
        services.set_period_values(period("1.1.b", 0), users["officer"], actual=1)
    extra = Indicator(project_id=project.id, result_id=indicator("1.a").result_id, code="1.y", title="Mới",
                      unit="percent")
    db.session.add(extra)
    db.session.flush()
    with pytest.raises(InputError, match="must be from 0 to 100"):
        services.create_period(extra, "2016-01-01", "2016-06-30", users["manager"], actual=250)
    created = services.create_period(extra, "2016-01-01", date(2016, 6, 30), users["manager"], target="50%",
                                     actual=45.5)
    db.session.commit()
    assert (created.target, created.actual, created.state, len(extra.periods)) == (50, Decimal("45.5"), "draft", 1)


def test_the_end_target_is_read_for_the_unit(ctx):
    target = indicator("1.1.b")
    services.set_end_target(target, "12")
    assert target.target_value == 12
    with pytest.raises(InputError, match="cannot be negative"):
        services.set_end_target(target, -1)
