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
    BudgetAllocation,
    BudgetLine,
    DisaggregatedValue,
    EvidenceItem,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    ProgressLog,
    Project,
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
    evidence = first(app, EvidenceItem, project_id=demo)
    allocation = first(app, BudgetAllocation, project_id=demo)
    base = f"/projects/{demo}"
    return {
        "evidence item": Case("evidence item", ("officer", "manager"), f"{base}/evidence/{evidence.id}/edit",
                              f"/evidence/{evidence.id}/edit", "title", EvidenceItem, evidence.id, "title",
                              ("Biên bản hội thảo (first)", "Danh sách tham dự (second)")),
        # Lower than any demo share, so the line's shares stay within 100%.
        "allocation": Case("allocation", ("manager", "admin"),
                           f"{base}/budget/lines/{allocation.line_id}/allocations",
                           f"/budget/lines/{allocation.line_id}/allocations", f"share-{allocation.activity_id}",
                           BudgetAllocation, allocation.id, "percent", ("1", "2")),
        "thresholds": Case("thresholds", ("manager", "admin"), f"{base}/indicators", "/indicators/thresholds",
                           "on_track_pct", Project, demo, "on_track_pct", ("85", "95")),
        "activity": Case("activity", ("manager", "admin"), f"{base}/activities/{activity.id}/edit",
                         f"/activities/{activity.id}/edit", "title", Activity, activity.id, "title",
                         ("Hội thảo ở Huế (first)", "Hội thảo ở Hà Nội (second)")),
        "indicator period": Case("indicator period", ("officer", "manager"),
                                 f"{base}/indicators/periods/{period.id}",
                                 f"/periods/{period.id}/actual", "value", IndicatorPeriod, period.id, "actual",
                                 ("11", "22")),
        "budget line": Case("budget line", ("manager", "admin"), f"{base}/budget/lines/{line.id}/edit",
                            f"/budget/lines/{line.id}/edit", "description", BudgetLine, line.id, "description",
                            ("Chi phí hội thảo (first)", "Chi phí đi lại (second)")),
        "expenditure": Case("expenditure", ("officer", "manager"), f"{base}/expenditures/{expenditure.id}/edit",
                            f"/expenditures/{expenditure.id}/edit", "description", Expenditure, expenditure.id,
                            "description", ("Vé máy bay Hà Nội – Huế (first)", "Khách sạn ở Huế (second)")),
    }


RECORDS = ["activity", "indicator period", "budget line", "expenditure", "evidence item", "allocation", "thresholds"]


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


# --- an evidence item's links are covered by its version --------------------------------------


def test_changing_only_an_items_links_makes_an_older_form_stale(app, demo):
    officer, manager = person(app, "officer"), person(app, "manager")
    item = first(app, EvidenceItem, project_id=demo)
    page, action = f"/projects/{demo}/evidence/{item.id}/edit", f"/evidence/{item.id}/edit"
    first_form, second_form = open_form(officer, page, action), open_form(manager, page, action)
    linked = first_form["fields"].get("activity_ids", [])
    first_form["fields"]["activity_ids"] = [*linked, next(o for o in first_form["options"]["activity_ids"]
                                                       if o not in linked)]  # one more link, nothing else
    assert officer.post(first_form["action"], data=first_form["fields"]).status_code == 303
    refused = manager.post(second_form["action"], data=second_form["fields"])
    assert refused.status_code == 409
    assert NAMES["officer"] in refused.get_data(as_text=True)


# --- migration 0004 ---------------------------------------------------------------------------


def test_migration_0004_keeps_every_row_and_starts_each_at_version_1(app, demo):
    from flask_migrate import downgrade, upgrade

    from tests.test_constraints import MIGRATIONS, _rows_per_table

    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0003")
        before = _rows_per_table()
        assert "submitted_form" not in before
        upgrade(directory=MIGRATIONS, revision="0004")
        after = _rows_per_table()
        assert after.pop("submitted_form") == 0
        assert after == before
        with db.engine.connect() as connection:
            for table in ("project", "membership", "budget_allocation", "evidence_item"):
                versions = connection.execute(text(f"SELECT DISTINCT version FROM {table}")).scalars().all()
                assert versions == [1], (table, versions)
        db.session.remove()
        upgrade(directory=MIGRATIONS)


# --- create forms are made once ---------------------------------------------------------------


def _count(app, model):
    with app.app_context():
        number = db.session.execute(select(func.count()).select_from(model)).scalar()
        db.session.remove()
        return number


CREATES = {
    "activity": (lambda demo: f"/projects/{demo}/activities/new", "/activities/new", Activity,
                 {"code": "A9.9", "title": "Tập huấn hai lần"}),
    "evidence item": (lambda demo: f"/projects/{demo}/evidence/new", "/evidence/new", EvidenceItem,
                      {"title": "Biên bản họp lần 2", "kind": "report", "dated": "2016-11-25"}),
    "expenditure": (lambda demo: f"/projects/{demo}/expenditures/new", "/expenditures/new", Expenditure,
                    {"voucher": "DOUBLE-1", "amount": "12.50", "spent_on": "2016-11-25", "payee": "Huế"}),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("record", list(CREATES))
def test_the_same_create_form_sent_twice_makes_one_row(app, demo, record, htmx):
    page, action, model, typed = CREATES[record]
    officer = person(app, "manager" if record == "activity" else "officer")
    form = open_form(officer, page(demo), action)
    for name, value in typed.items():
        set_field(form, name, value)
    if record == "expenditure":
        line = first(app, BudgetLine, project_id=demo)
        set_field(form, "line_id", str(line.id))
    assert form["fields"].get("form_token")
    before = _count(app, model)
    first_answer = officer.post(form["action"], data=form["fields"])
    assert first_answer.status_code == 303, first_answer.get_data(as_text=True)[:500]
    headers = {"HX-Request": "true"} if htmx else {}
    second_answer = officer.post(form["action"], data=form["fields"], headers=headers)
    assert _count(app, model) == before + 1
    # The second answer leads to what the first one made.
    if htmx:
        made = second_answer.headers["HX-Redirect"]
    else:
        assert second_answer.status_code == 303
        made = second_answer.headers["Location"]
    shown = officer.get(made)
    assert shown.status_code == 200
    assert typed.get("title", typed.get("voucher")) in shown.get_data(as_text=True)
    # The form opened again carries a new token.
    assert open_form(officer, page(demo), action)["fields"]["form_token"] != form["fields"]["form_token"]


# --- memberships ------------------------------------------------------------------------------


def test_a_role_changed_meanwhile_is_not_overwritten_from_an_old_members_page(app, demo):
    manager, admin = person(app, "manager"), person(app, "admin")
    page = f"/projects/{demo}/members"
    first_form, second_form = open_form(manager, page, "/members"), open_form(admin, page, "/members")
    assert first_form["fields"].get("versions")
    set_field(first_form, "email", "liaison@demo.test")
    set_field(first_form, "role", "auditor")
    assert manager.post(first_form["action"], data=first_form["fields"]).status_code == 303
    set_field(second_form, "email", "liaison@demo.test")
    set_field(second_form, "role", "officer")
    refused = admin.post(second_form["action"], data=second_form["fields"])
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and NAMES["manager"] in body and "UTC" in body
    with app.app_context():
        from tracker.models import Membership, User

        role = db.session.execute(select(Membership.role).join(User, Membership.user_id == User.id).where(
            User.email == "liaison@demo.test", Membership.project_id == demo)).scalar()
        assert role == "auditor"


def test_removing_a_member_from_an_old_page_is_refused(app, demo):
    manager, admin = person(app, "manager"), person(app, "admin")
    page = f"/projects/{demo}/members"
    with app.app_context():
        from tracker.models import Membership, User

        membership = db.session.execute(select(Membership.id).join(User, Membership.user_id == User.id).where(
            User.email == "liaison@demo.test", Membership.project_id == demo)).scalar()
    remove = open_form(admin, page, f"/members/{membership}/remove")
    change = open_form(manager, page, "/members")
    set_field(change, "email", "liaison@demo.test")
    set_field(change, "role", "auditor")
    assert manager.post(change["action"], data=change["fields"]).status_code == 303
    answer = admin.post(remove["action"], data=remove["fields"])
    assert answer.status_code in (303, 409)
    with app.app_context():
        assert db.session.get(Membership, membership) is not None
