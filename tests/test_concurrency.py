"""Two people editing the same record, and readers beside writers.

The second save made from an out-of-date form is refused (409) with a message naming who
changed the record and when, what the second person typed kept, a way to reload, and the
first save untouched: never a silent overwrite. Both ways of saving are checked (a plain
POST and htmx), and a true race (two saves sent at the same instant) ends the same way.

Also: reading pages never waits for a writer (SQLite: page reads are deferred snapshots), and
a page read that ends in a write (an export recording itself) chains onto the latest audit
event even when others wrote meanwhile.
"""

import threading

import pytest
from sqlalchemy import func, select, text

from bench.html_forms import find_form, set_field
from tests.conftest import DEMO_PASSWORDS
from tracker import create_app
from tracker.audit import trail
from tracker.extensions import db
from tracker.models import (
    Activity,
    AuditEvent,
    BudgetLine,
    DisaggregatedValue,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    ProgressLog,
)

NAMES = {
    "admin": "Demo Admin",
    "manager": "Nguyễn Thị Mai (manager)",
    "officer": "Trần Văn Hùng (project officer)",
}


def person(app, role):
    client = app.test_client()
    email, password = DEMO_PASSWORDS[role]
    assert client.post("/login", data={"email": email, "password": password}).status_code == 303
    return client


def open_form(client, page: str, action: str) -> dict:
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    form = find_form(response.get_data(as_text=True), action)
    assert form is not None, f"no form posting to {action} on {page}"
    return form


def first(app, model, **where):
    with app.app_context():
        query = select(model).filter_by(**where).order_by(model.id).limit(1)
        row = db.session.execute(query).scalar_one()
        db.session.expunge(row)
        return row


def value_of(app, model, row_id, column):
    with app.app_context():
        value = db.session.execute(select(getattr(model, column)).where(model.id == row_id)).scalar()
        db.session.remove()
        return value


def open_numeric_period(app, demo):
    """A draft period of a number indicator without a breakdown (any value may be typed)."""
    with app.app_context():
        broken_down = select(DisaggregatedValue.period_id)
        period = db.session.execute(
            select(IndicatorPeriod).join(Indicator).where(
                IndicatorPeriod.project_id == demo, IndicatorPeriod.state == "draft", Indicator.unit == "number",
                IndicatorPeriod.id.not_in(broken_down)).order_by(IndicatorPeriod.id).limit(1)).scalar_one()
        db.session.expunge(period)
        return period


class Case:
    """One kind of record: where its form is, what each person types, where the value lands."""

    def __init__(self, name, roles, page, action, field, model, row_id, column, typed):
        self.name, self.roles, self.page, self.action = name, roles, page, action
        self.field, self.model, self.row_id, self.column, self.typed = field, model, row_id, column, typed


def cases(app, demo):
    activity = first(app, Activity, project_id=demo, code="A1.1")
    period = open_numeric_period(app, demo)
    line = first(app, BudgetLine, project_id=demo)
    expenditure = first(app, Expenditure, project_id=demo)
    base = f"/projects/{demo}"
    return {
        "activity": Case("activity", ("manager", "admin"), f"{base}/activities/{activity.id}/edit",
                         f"/activities/{activity.id}/edit", "title", Activity, activity.id, "title",
                         ("Hội thảo ở Huế (first)", "Hội thảo ở Hà Nội (second)")),
        "indicator period": Case("indicator period", ("officer", "manager"), f"{base}/indicators",
                                 f"/periods/{period.id}/actual", "value", IndicatorPeriod, period.id, "actual",
                                 ("11", "22")),
        "budget line": Case("budget line", ("manager", "admin"), f"{base}/budget/lines/{line.id}/edit",
                            f"/budget/lines/{line.id}/edit", "description", BudgetLine, line.id, "description",
                            ("Chi phí hội thảo (first)", "Chi phí đi lại (second)")),
        "expenditure": Case("expenditure", ("officer", "manager"), f"{base}/expenditures/{expenditure.id}/edit",
                            f"/expenditures/{expenditure.id}/edit", "description", Expenditure, expenditure.id,
                            "description", ("Vé máy bay Hà Nội – Huế (first)", "Khách sạn ở Huế (second)")),
    }


RECORDS = ["activity", "indicator period", "budget line", "expenditure"]


def same(stored, typed) -> bool:
    return str(stored) == typed or (stored is not None and float(stored) == float(typed)) \
        if typed.isdigit() else stored == typed


# The budget line and expenditure edit pages are plain forms (no htmx); the others swap in place.
SAVES = [(record, False) for record in RECORDS] + [("activity", True), ("indicator period", True)]


@pytest.mark.parametrize("record, htmx", SAVES, ids=[f"{r}-{'htmx' if h else 'plain'}" for r, h in SAVES])
def test_the_second_save_from_an_old_form_is_refused_with_who_and_when(app, demo, record, htmx):
    case = cases(app, demo)[record]
    first_role, second_role = case.roles
    first_person, second_person = person(app, first_role), person(app, second_role)
    first_form = open_form(first_person, case.page, case.action)
    second_form = open_form(second_person, case.page, case.action)

    set_field(first_form, case.field, case.typed[0])
    saved = first_person.post(first_form["action"], data=first_form["fields"])
    assert saved.status_code == 303, f"the first save of the {record} failed: {saved.status_code}"

    set_field(second_form, case.field, case.typed[1])
    headers = {"HX-Request": "true"} if htmx else {}
    refused = second_person.post(second_form["action"], data=second_form["fields"], headers=headers)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409, f"{record}: the second save answered {refused.status_code}"
    assert NAMES[first_role] in body, f"{record}: the message does not say who changed it"
    assert "UTC" in body, f"{record}: the message does not say when"
    assert "reload" in body.lower() or "current version" in body.lower()
    assert case.typed[1] in body, f"{record}: what the second person typed was lost"
    assert ("<html" in body) is not htmx
    assert same(value_of(app, case.model, case.row_id, case.column), case.typed[0]), \
        f"{record}: the first save was overwritten"


@pytest.mark.parametrize("record", RECORDS)
def test_two_saves_sent_at_the_same_instant_one_wins_one_is_refused(app, demo, record):
    case = cases(app, demo)[record]
    people = [person(app, role) for role in case.roles]
    forms = [open_form(p, case.page, case.action) for p in people]
    for form, typed in zip(forms, case.typed, strict=True):
        set_field(form, case.field, typed)
    barrier = threading.Barrier(2)
    answers = [None, None]

    def save(index):
        barrier.wait()
        answers[index] = people[index].post(forms[index]["action"], data=forms[index]["fields"]).status_code

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [303, 409], f"{record}: answers {answers}"
    winner = answers.index(303)
    assert same(value_of(app, case.model, case.row_id, case.column), case.typed[winner])


def test_two_officers_logging_the_same_week_the_second_is_refused(app, demo):
    activity = first(app, Activity, project_id=demo, code="A1.1")
    page = f"/projects/{demo}/activities/{activity.id}/log?week=2016-W48"
    action = f"/activities/{activity.id}/log"
    officer, manager = person(app, "officer"), person(app, "manager")
    forms = [open_form(officer, page, action), open_form(manager, page, action)]
    for form, done in zip(forms, ("Họp với Sở Văn hóa Huế", "Chuẩn bị báo cáo"), strict=True):
        set_field(form, "status", "on_track")
        set_field(form, "percent_complete", "40")
        set_field(form, "done", done)
    assert officer.post(forms[0]["action"], data=forms[0]["fields"]).status_code == 303
    refused = manager.post(forms[1]["action"], data=forms[1]["fields"])
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert NAMES["officer"] in body and "UTC" in body and "Chuẩn bị báo cáo" in body
    with app.app_context():
        logs = db.session.execute(select(ProgressLog).where(ProgressLog.activity_id == activity.id,
                                                            ProgressLog.iso_week == "2016-W48")).scalars().all()
        assert [log.done for log in logs] == ["Họp với Sở Văn hóa Huế"]


def test_pages_are_read_while_someone_holds_the_write_lock(app, demo):
    """A writer in the middle of a long transaction does not stop anyone reading."""
    client = person(app, "officer")
    with app.app_context():
        engine = db.engine
    holder = engine.connect()
    try:
        # SQLite: BEGIN IMMEDIATE (outside a request) takes the write lock; PostgreSQL: a row lock.
        holder.execute(text("UPDATE project SET title = title"))
        for path in ("/", f"/projects/{demo}", f"/projects/{demo}/logframe", f"/projects/{demo}/indicators",
                     f"/projects/{demo}/budget", f"/projects/{demo}/activities"):
            assert client.get(path).status_code == 200, path
    finally:
        holder.rollback()
        holder.close()


def test_a_page_read_that_ends_in_a_write_chains_onto_the_latest_event(app, demo):
    """A GET reads a snapshot; another writer commits; the GET then records an audit event."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.test_database_url, "TESTING": True, "SECRET_KEY": "x",
                        "UPLOAD_DIR": app.config["UPLOAD_DIR"]})
    with app.test_request_context(f"/projects/{demo}", method="GET"):
        before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()  # snapshot begins
        with other.app_context():
            trail.set_actor(None, "someone else")
            activity = db.session.execute(select(Activity).where(Activity.code == "A1.1")).scalar_one()
            activity.responsible = "Sở Văn hóa và Thể thao Huế"
            db.session.commit()
            last_other = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
            db.session.remove()
        trail.record(db.session, "export", table_name="project", row_id=demo, project_id=demo,
                     changes={"format": "test"})
        db.session.commit()
        mine = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert mine.action == "export" and mine.prev_hash == last_other
        assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar() >= before + 2
        assert trail.verify_chain(db.session).ok
        db.session.remove()
    with other.app_context():
        db.engine.dispose()
