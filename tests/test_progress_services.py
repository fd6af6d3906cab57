"""Weekly logs, activities and the week's lists, tested through the services directly."""

from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.concurrency import ConflictError
from tracker.extensions import db
from tracker.models import Activity, AuditEvent, EvidenceItem, EvidenceLink, ProgressLog, Project, User
from tracker.progress import services
from tracker.progress.services import ActivityInput, LogInput
from tracker.validation import InputError

TODAY = date(2026, 11, 27)


@pytest.fixture
def ctx(app):
    with app.app_context():
        project = db.session.execute(select(Project)).scalar_one()
        officer = db.session.execute(select(User).where(User.email == "officer@demo.test")).scalar_one()
        manager = db.session.execute(select(User).where(User.email == "manager@demo.test")).scalar_one()
        yield project, officer, manager


def activity(project, code) -> Activity:
    return db.session.execute(
        select(Activity).where(Activity.project_id == project.id, Activity.code == code)).scalar_one()


def logs_count() -> int:
    return db.session.execute(select(func.count()).select_from(ProgressLog)).scalar()


def entry(week="2016-W47", status="on_track", pct=85, **kw) -> LogInput:
    return LogInput(week=week, status=status, percent_complete=pct, **kw)


def test_default_week_is_this_week_clamped_into_the_project_period(ctx):
    project, _, _ = ctx
    assert services.default_week(project, date(2016, 11, 24)) == "2016-W47"
    assert services.default_week(project, TODAY) == "2017-W52"  # finished project: its last week
    assert services.default_week(project, date(2015, 3, 1)) == "2015-W53"  # 2016-01-01 is in 2015-W53
    assert services.week_in_project(project, "2015-W53")
    assert not services.week_in_project(project, "2015-W52")
    assert not services.week_in_project(project, "2018-W01")
    assert services.neighbour_weeks(project, "2017-W52") == ("2017-W51", None)
    assert services.neighbour_weeks(project, "2015-W53") == (None, "2016-W01")
    assert services.normalise_week("2016-w7") == "2016-W07"
    with pytest.raises(InputError):
        services.normalise_week("2016-47")


def test_saving_a_week_twice_updates_its_one_log_and_both_saves_are_in_the_audit_trail(ctx):
    project, officer, _ = ctx
    a13 = activity(project, "A1.3")
    first = services.log_week(a13, entry(done="Bản thảo báo cáo ở Huế"), officer, "")
    db.session.commit()
    assert first.author_id == officer.id and first.week_start == date(2016, 11, 21)
    second = services.log_week(a13, entry(pct=90, problems="Chờ ý kiến của Bộ"), officer, str(first.version))
    db.session.commit()
    assert second.id == first.id and logs_count() == 1
    assert (second.percent_complete, second.problems, second.done) == (90, "Chờ ý kiến của Bộ", "")
    actions = db.session.execute(
        select(AuditEvent.action).where(AuditEvent.table_name == "progress_log", AuditEvent.row_id == first.id)
        .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["insert", "update"]


def test_the_latest_log_sets_the_activity_but_an_older_week_does_not(ctx):
    project, officer, _ = ctx
    a2 = activity(project, "A2")
    assert (a2.status, a2.actual_start) == ("not_started", None)
    services.log_week(a2, entry(week="2017-W10", status="delayed", pct=10), officer, "", today=TODAY)
    assert (a2.status, a2.percent_complete, a2.actual_start) == ("delayed", 10, date(2017, 3, 6))
    services.log_week(a2, entry(week="2017-W05", status="on_track", pct=5), officer, "", today=TODAY)
    assert (a2.status, a2.percent_complete) == ("delayed", 10)  # back-filled week: the activity keeps its state
    services.log_week(a2, entry(week="2017-W12", status="completed", pct=100), officer, "", today=TODAY)
    assert (a2.status, a2.actual_end) == ("completed", date(2017, 3, 26))


@pytest.mark.parametrize(("log", "field", "message"), [
    (entry(week="2018-W03"), "week", "outside the project period"),
    (entry(week="2015-W40"), "week", "outside the project period"),
    (entry(week="not a week"), "week", "is not an ISO week"),
    (entry(pct=101), "percent_complete", "from 0 to 100"),
    (entry(status="completed", pct=80), "percent_complete", "100% complete"),
    (entry(status="not_started", pct=20), "percent_complete", "0% complete"),
    (entry(status="finished"), "status", "Choose a status"),
])
def test_a_bad_log_is_refused_with_a_message_for_its_field(ctx, log, field, message):
    project, officer, _ = ctx
    a1 = activity(project, "A1")
    before = (a1.status, a1.percent_complete)
    with pytest.raises(InputError) as error:
        services.log_week(a1, log, officer, "")
    assert error.value.field == field and message in str(error.value)
    db.session.rollback()
    assert logs_count() == 0 and (a1.status, a1.percent_complete) == before


def test_a_week_that_has_not_started_cannot_be_logged(ctx):
    project, officer, _ = ctx
    with pytest.raises(InputError, match="has not started yet"):
        services.log_week(activity(project, "A1"), entry(week="2017-W30"), officer, "", today=date(2017, 7, 1))


def test_a_stale_log_form_is_refused_with_who_and_when(ctx):
    project, officer, manager = ctx
    a1 = activity(project, "A1")
    log = services.log_week(a1, entry(), officer, "")
    db.session.commit()
    opened = str(log.version)
    services.log_week(a1, entry(pct=70), manager, opened)
    db.session.commit()
    with pytest.raises(ConflictError, match="Nguyễn Thị Mai") as error:
        services.log_week(a1, entry(pct=95), officer, opened)
    assert "not saved" in str(error.value)
    db.session.rollback()
    assert db.session.get(ProgressLog, log.id).percent_complete == 70


def test_the_same_new_log_posted_twice_is_kept_once_and_a_different_one_is_a_conflict(ctx):
    project, officer, manager = ctx
    a1 = activity(project, "A1")
    services.log_week(a1, entry(done="Họp"), officer, "")
    db.session.commit()
    again = services.log_week(a1, entry(done="Họp"), officer, "")  # a double click
    db.session.commit()
    assert logs_count() == 1 and again.done == "Họp"
    with pytest.raises(ConflictError, match="saved a log for A1, week 2016-W47"):
        services.log_week(a1, entry(done="Something else"), manager, "")


def test_a_log_links_chosen_evidence_to_its_activity_once(ctx):
    project, officer, _ = ctx
    a13 = activity(project, "A1.3")
    report = db.session.execute(select(EvidenceItem).where(EvidenceItem.kind == "agenda")).scalar_one()
    services.log_week(a13, entry(evidence_ids=(report.id,)), officer, "")
    log = services.log_week(a13, entry(pct=86, evidence_ids=(report.id,)), officer, "1")
    db.session.commit()
    links = db.session.execute(select(EvidenceLink).where(EvidenceLink.activity_id == a13.id,
                                                          EvidenceLink.evidence_id == report.id)).scalars().all()
    assert len(links) == 1 and log.percent_complete == 86
    with pytest.raises(InputError, match="evidence items of this project"):
        services.log_week(a13, entry(pct=87, evidence_ids=(999_999,)), officer, str(log.version))


def test_due_rows_and_counters_follow_the_week(ctx):
    project, officer, _ = ctx
    due = [row.activity.code for row in services.due_rows(project, "2016-W47")]
    assert due == ["A1", "A1.3"]  # in progress (on track) and started
    assert [row.activity.code for row in services.due_rows(project, "2016-W30")] == ["A1"]  # A1.3 starts in October
    counters = services.counters(project, "2016-W47")
    assert (counters.due, counters.logged, counters.total) == (2, 0, 7)
    assert dict((s, n) for s, _, n in counters.status_counts)["completed"] == 4
    services.log_week(activity(project, "A1"), entry(), officer, "")
    counters = services.counters(project, "2016-W47")
    assert (counters.due, counters.logged) == (1, 1)
    rows = {row.activity.code: row for row in services.activity_rows(project, "2016-W47")}
    assert rows["A1"].log is not None and not rows["A1"].due and rows["A1.3"].due
    assert [r.activity.code for r in services.activity_rows(project, "2016-W47")][:2] == ["A1", "A1.5"]


def test_periods_without_an_actual_are_those_ended_unreported_and_not_approved(ctx):
    project, _, _ = ctx
    assert services.periods_without_actual(project, "2016-W47") == []  # 2016 H1 is approved
    missing = services.periods_without_actual(project, "2017-W27")
    assert len(missing) == 6 and {p.end_date for p in missing} == {date(2017, 6, 30)}
    assert len(services.periods_without_actual(project, "2017-W52")) == 12


def test_queried_evidence_lists_only_queried_items_that_are_not_deleted(ctx):
    project, _, _ = ctx
    items = db.session.execute(select(EvidenceItem).order_by(EvidenceItem.id)).scalars().all()
    items[0].review_state, items[0].review_note = "queried", "Ngày trên bài báo không khớp."
    items[1].review_state = "queried"
    items[1].deleted_at = items[1].created_at
    items[2].review_state = "verified"
    db.session.commit()
    assert [i.id for i in services.queried_evidence(project)] == [items[0].id]


def test_summary_text_reads_well_in_an_email(ctx):
    project, officer, _ = ctx
    services.log_week(activity(project, "A1.3"), entry(done="Gửi bản thảo\nHọp ở Huế", next_steps="Dịch"),
                      officer, "")
    text = services.summary_text(project, "2016-W47", services.week_logs(project, "2016-W47"))
    assert "Progress for week 2016-W47 (2016-11-21 to 2016-11-27)" in text
    assert "A1.3 Situation analysis report" in text and "On track, 85% complete" in text
    assert "Done: Gửi bản thảo\n    Họp ở Huế" in text and "Logged by Trần Văn Hùng" in text
    empty = services.summary_text(project, "2016-W48", [])
    assert "No activity was logged this week." in empty


def activity_input(project, **changes) -> ActivityInput:
    result = project.results[3]  # 1.1.1
    values = dict(result_id=result.id, code="A1.6", title="Trưng bày ở Hà Nội", planned_start=date(2017, 1, 1),
                  planned_end=date(2017, 3, 31), status="not_started", percent_complete=0)
    values.update(changes)
    return ActivityInput(**values)


def test_a_manager_adds_an_activity_at_the_end(ctx):
    project, _, manager = ctx
    created = services.create_activity(project, activity_input(project), manager)
    db.session.commit()
    assert created.position == 7 and created.title == "Trưng bày ở Hà Nội"
    codes = [row.activity.code for row in services.activity_rows(project, "2016-W47")]
    assert codes.index("A1.6") == codes.index("A1.5") + 1  # under its result, after the others


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"code": "A1.2"}, "code", "already has the code A1.2"),
    ({"planned_end": date(2016, 12, 1)}, "planned_end", "before the planned start"),
    ({"actual_start": date(2017, 2, 1), "actual_end": date(2017, 1, 1)}, "actual_end", "before the actual start"),
    ({"planned_start": date(2015, 12, 1)}, "planned_start", "within the project period"),
    ({"result_id": 999_999}, "result_id", "Choose the result"),
    ({"title": "  "}, "title", "Give the activity a title"),
    ({"status": "completed", "percent_complete": 50}, "percent_complete", "100% complete"),
])
def test_a_bad_activity_is_refused_with_a_message_for_its_field(ctx, changes, field, message):
    project, _, manager = ctx
    with pytest.raises(InputError) as error:
        services.create_activity(project, activity_input(project, **changes), manager)
    assert error.value.field == field and message in str(error.value)


def test_editing_an_activity_from_a_stale_form_is_a_conflict(ctx):
    project, officer, manager = ctx
    a13 = activity(project, "A1.3")
    opened = str(a13.version)
    services.log_week(a13, entry(pct=90), officer, "")  # the officer's log moves the activity on
    db.session.commit()
    data = activity_input(project, code="A1.3", title="Renamed", result_id=a13.result_id,
                          planned_start=None, planned_end=None)
    with pytest.raises(ConflictError, match="Trần Văn Hùng"):
        services.update_activity(a13, data, opened, manager)
    db.session.rollback()
    services.update_activity(a13, data, str(a13.version), manager)
    db.session.commit()
    assert a13.title == "Renamed"


def test_moving_an_activity_swaps_it_with_its_neighbour_under_the_same_result(ctx):
    project, _, manager = ctx
    a1, a15 = activity(project, "A1"), activity(project, "A1.5")
    assert services.move_activity(a15, "up", manager)
    db.session.commit()
    order = [row.activity.code for row in services.activity_rows(project, "2016-W47")]
    assert order.index("A1.5") < order.index("A1")
    assert not services.move_activity(a15, "up", manager)  # already first under 1.1.1
    assert a1.position > a15.position


# --- the rules the workbook import calls with plain values -----------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("on_track", "on_track"), ("On track", "on_track"),
                                               ("  COMPLETED ", "completed"), ("Not started", "not_started")])
def test_a_status_is_read_from_its_value_or_its_label(raw, expected):
    assert services.parse_status(raw) == expected


def test_an_unknown_status_and_a_bad_percent_are_refused():
    with pytest.raises(InputError, match="Choose a status") as error:
        services.parse_status("finished")
    assert error.value.field == "status"
    for bad in ("chín mươi", "45.5", 101, -1, True):
        with pytest.raises(InputError, match="whole number from 0 to 100"):
            services.parse_percent_complete(bad)
    assert [services.parse_percent_complete(v) for v in ("45", "45%", 45, 45.0, "")] == [45, 45, 45, 45, None]


def test_activity_fields_are_checked_from_workbook_values_without_a_database():
    data = ActivityInput(result_id=None, code=" A9 ", title="Hội thảo", planned_start="2016-03-01",
                         planned_end=date(2016, 4, 1), status="On track", percent_complete=30.0)
    checked = services.check_activity_fields(data, project_start=date(2016, 1, 1), project_end=date(2017, 12, 31))
    assert (checked.code, checked.planned_start, checked.status, checked.percent_complete) == (
        "A9", date(2016, 3, 1), "on_track", 30)
    for changes, field in (({"planned_start": "1900-01-01"}, "planned_start"),
                           ({"planned_end": "2016-02-01"}, "planned_end"),
                           ({"actual_start": "01/02/2016"}, "actual_start"),
                           ({"code": ""}, "code"),
                           ({"status": "Completed"}, "percent_complete")):
        with pytest.raises(InputError) as error:
            services.check_activity_fields(ActivityInput(**{**data.__dict__, **changes}),
                                           project_start=date(2016, 1, 1), project_end=date(2017, 12, 31))
        assert error.value.field == field
