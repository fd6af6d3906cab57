"""The audit trail: one event per change (old and new values), logins, append-only in the
database, tamper-evident hash chain, the history panel, the trail page and its exports."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import Integer, Text, event, func, insert, inspect, select, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import close_app, make_app
from tracker.audit import trail
from tracker.audit.services import audited_tables
from tracker.extensions import db
from tracker.models import Activity, AuditEvent, BudgetLine, Expenditure, Membership, Project, User


def all_events():
    return db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def new_events(after_id):
    return db.session.execute(select(AuditEvent).where(AuditEvent.id > after_id)
                              .order_by(AuditEvent.id)).scalars().all()


def last_id():
    return db.session.execute(select(func.max(AuditEvent.id))).scalar() or 0


def first_activity(app):
    with app.app_context():
        return db.session.execute(select(Activity.id).order_by(Activity.id)).scalars().first()


# ---------------------------------------------------------------------------------------
# One event per change


def _editable_column(model):
    """A column of ``model`` that can take any text (or a number) without breaking a rule."""
    excluded = trail.NOISE_COLUMNS | set(getattr(model, "__audit_exclude__", ()))
    columns = [c for c in inspect(model).columns if not c.primary_key and not c.foreign_keys
               and c.key not in excluded]
    for column in columns:
        if isinstance(column.type, Text):
            return column.key, "text"
    for column in columns:
        if column.key in {"name", "label", "title", "description", "notes", "source"}:
            return column.key, "text"
    for column in columns:
        if column.key == "position" and isinstance(column.type, Integer):
            return column.key, "number"
    for column in columns:
        if column.key in {"percent", "value"}:
            return column.key, "percent"
    return None, None


def audited_models():
    return sorted((m.class_ for m in db.Model.registry.mappers if getattr(m.class_, "__audit__", False)),
                  key=lambda cls: cls.__tablename__)


def test_every_audited_table_writes_one_update_event_with_old_and_new(app):
    with app.app_context():
        checked = []
        for model in audited_models():
            row = db.session.execute(select(model).order_by(model.id).limit(1)).scalar()
            if row is None:
                continue
            key, kind = _editable_column(model)
            if key is None:  # a link table (foreign keys only): its change is a delete
                before, row_id = last_id(), row.id
                db.session.delete(row)
                db.session.commit()
                events = [e for e in new_events(before) if (e.table_name, e.row_id) == (model.__tablename__, row_id)]
                assert [e.action for e in events] == ["delete"], model.__tablename__
                assert all(old is not None and new is None for old, new in json.loads(events[0].changes).values())
                checked.append(model.__tablename__)
                continue
            old = getattr(row, key)
            if kind == "text":
                new = (old or "") + " — Huế"
            elif kind == "percent":
                new = old - 1 if old > 1 else old + 1
            else:
                new = (old or 0) + 1
            before = last_id()
            setattr(row, key, new)
            db.session.commit()
            events = new_events(before)
            assert len(events) == 1, f"{model.__tablename__}: {len(events)} events for one update"
            [event_] = events
            assert (event_.action, event_.table_name, event_.row_id) == ("update", model.__tablename__, row.id)
            assert json.loads(event_.changes) == {key: [trail._plain(old), trail._plain(new)]}
            project_id = row.id if model is Project else getattr(row, "project_id", None)
            assert event_.project_id == project_id
            checked.append(model.__tablename__)
        assert {"activity", "budget_line", "expenditure", "indicator_period", "project", "user"} <= set(checked)


def test_insert_and_delete_write_one_event_each(app):
    with app.app_context():
        project = db.session.execute(select(Project)).scalar_one()
        before = last_id()
        line = BudgetLine(project_id=project.id, code="BL9", description="Interpretation (Hà Nội)",
                          original_cents=150_000)
        db.session.add(line)
        db.session.commit()
        [created] = new_events(before)
        changes = json.loads(created.changes)
        assert (created.action, created.table_name, created.row_id) == ("insert", "budget_line", line.id)
        assert changes["description"] == [None, "Interpretation (Hà Nội)"]
        assert changes["original_cents"] == [None, 150_000]
        assert created.project_id == project.id and created.actor_label == "system"

        before = last_id()
        line_id = line.id
        db.session.delete(line)
        db.session.commit()
        [deleted] = new_events(before)
        assert (deleted.action, deleted.table_name, deleted.row_id) == ("delete", "budget_line", line_id)
        assert json.loads(deleted.changes)["description"] == ["Interpretation (Hà Nội)", None]


def test_an_update_that_changes_nothing_writes_nothing(app):
    with app.app_context():
        activity = db.session.execute(select(Activity).order_by(Activity.id)).scalars().first()
        before = last_id()
        activity.title = activity.title
        db.session.commit()
        assert new_events(before) == []


def test_a_rolled_back_change_leaves_no_event(app):
    with app.app_context():
        before = last_id()
        activity = db.session.execute(select(Activity).order_by(Activity.id)).scalars().first()
        activity.title = "Never saved"
        db.session.flush()
        db.session.rollback()
        assert last_id() == before


def test_changes_through_the_app_name_the_person(client, auth, app, demo):
    with app.app_context():
        db.session.add(User(email="new@demo.test", name="New", password_hash="!"))
        db.session.commit()
        before = last_id()
    auth.login("manager")
    client.post(f"/projects/{demo}/members", data={"email": "new@demo.test", "role": "liaison"})
    with app.app_context():
        events = {e.action: e for e in new_events(before)}
        granted = events["insert"]
        assert granted.table_name == "membership" and granted.actor_label == "manager@demo.test"
        assert granted.actor_id == db.session.execute(
            select(User.id).where(User.email == "manager@demo.test")).scalar()
        assert granted.project_id == demo and json.loads(granted.changes)["role"] == [None, "liaison"]
        assert granted.address == "127.0.0.1"
        assert abs(granted.created_at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=5)


def test_logins_and_failed_logins_are_in_the_trail(client, app):
    client.post("/login", data={"email": "auditor@demo.test", "password": "wrong-password"})
    client.post("/login", data={"email": "auditor@demo.test", "password": "demo-auditor-pass"})
    with app.app_context():
        events = [(e.action, e.actor_label) for e in all_events() if e.action.startswith("login")]
    assert events == [("login_failed", "system"), ("login", "auditor@demo.test")]


# ---------------------------------------------------------------------------------------
# Append-only


def test_the_database_refuses_to_change_or_delete_events(app):
    with app.app_context():
        for sql in ("UPDATE audit_event SET actor_label = 'someone else'",
                    "DELETE FROM audit_event WHERE id = (SELECT MIN(id) FROM audit_event)",
                    "DELETE FROM audit_event"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(sql))
            db.session.rollback()
        # Through the ORM too.
        event_ = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().first()
        event_.changes = "{}"
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        event_ = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().first()
        db.session.delete(event_)
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert trail.verify_chain(db.session).ok


def test_truncate_is_refused_on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert db.engine.dialect.name == "sqlite"  # SQLite has no TRUNCATE; DELETE is covered above
            return
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text("TRUNCATE audit_event"))
        db.session.rollback()


# ---------------------------------------------------------------------------------------
# Tamper evidence


def drop_append_only_triggers():
    """What someone with direct database access would do first."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER audit_event_no_update ON audit_event"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
    db.session.commit()


def middle_event_id():
    ids = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()
    return ids[len(ids) // 2], ids


def tamper_with_middle_event(app, sql: str):
    """Run ``sql`` (with ``:id``, the middle event) behind the app's back; return that id and all ids."""
    with app.app_context():
        drop_append_only_triggers()
        target, ids = middle_event_id()
        db.session.execute(text(sql), {"id": target})
        db.session.commit()
    return target, ids


def test_verify_reports_an_intact_trail(app, runner):
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"{count} events checked" in result.output


@pytest.mark.parametrize(("column", "value"), [
    ("changes", '{"title": [null, "A different past"]}'),
    ("actor_label", "someone-else@demo.test"),
    ("actor_id", "999"),
    ("created_at", "'2016-01-01 00:00:00'"),
    ("action", "'delete'"),
])
def test_verify_finds_a_changed_event(app, runner, column, value):
    sql_value = f"'{value}'" if column in ("changes", "actor_label") else value
    target, _ids = tamper_with_middle_event(app, f"UPDATE audit_event SET {column} = {sql_value} WHERE id = :id")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"BROKEN at event {target}" in result.output and "changed" in result.output


def test_verify_finds_a_deleted_middle_event(app, runner):
    target, ids = tamper_with_middle_event(app, "DELETE FROM audit_event WHERE id = :id")
    result = runner.invoke(args=["audit", "verify"])
    following = ids[ids.index(target) + 1]
    assert result.exit_code != 0 and f"BROKEN at event {following}" in result.output
    assert "removed" in result.output


def test_verify_finds_a_forged_event_inserted_behind_the_apps_back(app, runner):
    with app.app_context():
        db.session.execute(insert(AuditEvent).values(
            created_at=datetime.now(UTC), actor_label="forger", action="update", table_name="expenditure",
            row_id=1, project_id=1, changes="{}", address="", prev_hash="0" * 64, hash="f" * 64))
        db.session.commit()
        forged = last_id()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and f"BROKEN at event {forged}" in result.output


def test_verify_survives_unreadable_content(app, runner):
    target, _ids = tamper_with_middle_event(app, "UPDATE audit_event SET changes = 'not json' WHERE id = :id")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN at event {target}" in result.output


def test_the_chain_keeps_growing_intact_through_the_app(client, auth, app, runner, demo):
    auth.login("manager")
    client.get(f"/projects/{demo}/audit/export.csv")
    auth.logout()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------------
# The history panel


def test_history_panel_full_page_and_fragment(client, auth, app, demo):
    activity_id = first_activity(app)
    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        old_title = activity.title
        trail.set_actor(None, "officer@demo.test")
        activity.title = "Hội thảo = đối thoại"
        db.session.commit()
    auth.login("auditor")
    url = f"/projects/{demo}/history/activity/{activity_id}"
    page = client.get(url)
    assert page.status_code == 200 and b"<html" in page.data and b'class="site-header"' in page.data
    assert f'id="history-activity-{activity_id}"'.encode() in page.data
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]
    text_ = fragment.get_data(as_text=True)
    assert f'id="history-activity-{activity_id}"' in text_
    assert "UTC" in text_ and "officer@demo.test" in text_ and "changed" in text_ and "created" in text_
    assert "Hội thảo = đối thoại" in text_ and old_title[:40] in text_
    # Oldest first: the creation comes before the change.
    assert text_.index("created") < text_.index("Hội thảo = đối thoại")


def test_history_only_for_the_projects_own_records(client, auth, app, demo, other_project):
    other_id = other_project.id
    with app.app_context():
        activity = db.session.execute(select(Activity).where(Activity.project_id == demo)
                                      .order_by(Activity.id)).scalars().first()
        db.session.add(Membership(project_id=other_id, user_id=db.session.execute(
            select(User.id).where(User.email == "auditor@demo.test")).scalar(), role="auditor"))
        db.session.commit()
        activity_id = activity.id
    auth.login("auditor")
    # The demo's activity seen through another project's URL: nothing of it shows.
    response = client.get(f"/projects/{other_id}/history/activity/{activity_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"No changes recorded" in response.data
    assert client.get(f"/projects/{demo}/history/no_such_table/{activity_id}").status_code == 404
    assert client.get(f"/projects/{demo}/history/audit_event/1").status_code == 404
    assert client.get(f"/projects/{demo}/history/login_attempt/1").status_code == 404


@pytest.mark.parametrize(("role", "status"), [("manager", 200), ("auditor", 200), ("admin", 200),
                                              ("officer", 403), ("liaison", 403)])
def test_who_sees_the_history_panel(client, auth, app, demo, role, status):
    activity_id = first_activity(app)
    auth.login(role)
    url = f"/projects/{demo}/history/activity/{activity_id}"
    assert client.get(url).status_code == status
    assert client.get(url, headers={"HX-Request": "true"}).status_code == status


@pytest.mark.parametrize(("role", "shown"), [("manager", True), ("auditor", True), ("officer", False),
                                             ("liaison", False)])
def test_history_link_include(app, demo, role, shown):
    from flask import g, render_template_string
    from flask_login import login_user

    with app.test_request_context():
        user = db.session.execute(select(User).where(User.email == f"{role}@demo.test")).scalar_one()
        login_user(user)
        g.project, g.role = db.session.get(Project, demo), role
        html = render_template_string(
            '{% with table="activity", row_id=7 %}{% include "audit/_history_link.html" %}{% endwith %}')
    url = f"/projects/{demo}/history/activity/7"
    assert (url in html) is shown
    if shown:
        assert 'hx-get="' + url + '"' in html and 'hx-trigger="toggle once"' in html
        assert f'<a href="{url}">' in html  # works without JavaScript


# ---------------------------------------------------------------------------------------
# The trail page


@pytest.fixture
def busy_app(databases, tmp_path):
    """The demo app with a small page size and a few known events from several people."""
    application = make_app(databases, tmp_path, PAGE_SIZE=5)
    with application.app_context():
        project_id = db.session.execute(select(Project.id)).scalar_one()
        activities = db.session.execute(select(Activity).order_by(Activity.id)).scalars().all()
        for n, activity in enumerate(activities[:3]):
            trail.set_actor(None, "officer@demo.test")
            activity.percent_complete = 10 * (n + 1)
            db.session.commit()
        trail.set_actor(None, "manager@demo.test")
        line = db.session.execute(select(BudgetLine).order_by(BudgetLine.id)).scalars().first()
        line.notes = "=HYPERLINK(\"http://evil.example\",\"click\")"
        db.session.commit()
        # One event dated in the past, as if written then (chained like any other).
        trail.record(db.session, "export", table_name="audit_event", project_id=project_id,
                     changes={"what": "old export"})
        db.session.commit()
        application.test_ids = {"project": project_id, "activities": [a.id for a in activities[:3]],
                                "line": line.id}
    yield application
    close_app(databases, application)


def trail_client(app, role="auditor"):
    client = app.test_client()
    email = f"{role}@demo.test"
    client.post("/login", data={"email": email, "password": f"demo-{role}-pass"})
    return client


def test_trail_page_and_fragment(busy_app):
    client = trail_client(busy_app)
    project_id = busy_app.test_ids["project"]
    page = client.get(f"/projects/{project_id}/audit")
    text_ = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in text_ and 'id="audit-trail"' in text_
    assert 'hx-push-url="true"' in text_ and 'aria-current="page"' in text_
    assert "Events 1–5 of" in text_ and "Older" in text_
    for label in ("Person", "Action", "Record type", "Record id", "From (UTC)", "To (UTC)"):
        assert f">{label}</label>" in text_
    fragment = client.get(f"/projects/{project_id}/audit?page=2", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and body.lstrip().startswith("<section id=\"audit-trail\"")
    assert "Events 6–10 of" in body and "Newer" in body and "HX-Request" in fragment.headers["Vary"]


def test_trail_filters_by_person_action_record_and_date(busy_app):
    client = trail_client(busy_app)
    ids = busy_app.test_ids
    base = f"/projects/{ids['project']}/audit"
    by_person = client.get(f"{base}?actor=officer@demo.test", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Events 1–3 of 3 matching the filter" in by_person and "manager@demo.test" not in by_person
    by_action = client.get(f"{base}?action=update&table=activity").get_data(as_text=True)
    assert "of 3 matching" in by_action and "percent_complete" in by_action
    by_record = client.get(f"{base}?table=activity&row_id={ids['activities'][1]}").get_data(as_text=True)
    assert "created" in by_record and "20" in by_record and "of 2 matching" in by_record
    by_row_only = client.get(f"{base}?row_id={ids['line']}&table=budget_line").get_data(as_text=True)
    assert "HYPERLINK" in by_row_only
    today = datetime.now(UTC).date()
    in_range = client.get(f"{base}?date_from={today}&date_to={today}&actor=officer@demo.test")
    assert "of 3 matching" in in_range.get_data(as_text=True)
    future = client.get(f"{base}?date_from={today + timedelta(days=1)}")
    assert "No events matching the filter" in future.get_data(as_text=True)
    # The filter's links keep the filter (pages and exports).
    many = client.get(f"{base}?table=activity").get_data(as_text=True)
    assert "table=activity&amp;page=2" in many and "export.csv?table=activity" in many


def test_trail_refuses_bad_filters_clearly(busy_app):
    client = trail_client(busy_app)
    base = f"/projects/{busy_app.test_ids['project']}/audit"
    response = client.get(f"{base}?date_from=2017-13-45&row_id=abc&actor=nobody@x", headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "From (UTC)" in body and "Record id" in body and "Person" in body and "ignored" in body
    response = client.get(f"{base}?date_from=2017-02-01&date_to=2017-01-01")
    assert response.status_code == 422 and b"The end date is before the start date." in response.data
    assert client.get(f"{base}?page=999999").status_code == 200  # the last page


def test_trail_query_count_does_not_grow_with_page_size(databases, tmp_path):
    counts = {}
    for size in (5, 50):
        app = make_app(databases, tmp_path, PAGE_SIZE=size)
        try:
            client = trail_client(app)
            with app.app_context():
                project_id = db.session.execute(select(Project.id)).scalar_one()
                engine = db.engine
            statements = []

            def count(*_args, statements=statements):
                statements.append(1)

            event.listen(engine, "before_cursor_execute", count)
            try:
                response = client.get(f"/projects/{project_id}/audit", headers={"HX-Request": "true"})
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert response.status_code == 200
            counts[size] = len(statements)
        finally:
            close_app(databases, app)
    assert counts[5] == counts[50], counts


@pytest.mark.parametrize("role", ["officer", "liaison"])
def test_trail_is_not_for_officers_or_liaisons(busy_app, role):
    client = trail_client(busy_app, role)
    base = f"/projects/{busy_app.test_ids['project']}/audit"
    for url in (base, f"{base}/export.csv", f"{base}/export.xlsx"):
        assert client.get(url).status_code == 403
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 403


# ---------------------------------------------------------------------------------------
# Exports


def test_csv_export_is_filtered_utf8_with_bom_formula_safe_and_recorded(busy_app):
    client = trail_client(busy_app, "manager")
    ids = busy_app.test_ids
    response = client.get(f"/projects/{ids['project']}/audit/export.csv?table=budget_line&row_id={ids['line']}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"] and ".csv" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Event", "When (UTC)", "Who", "Action"]
    assert {row[4] for row in rows[1:]} == {"budget_line"}
    notes = [row for row in rows[1:] if row[6] == "notes"]
    assert notes and notes[-1][8] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    with busy_app.app_context():
        recorded = db.session.execute(select(AuditEvent).where(AuditEvent.action == "export")
                                      .order_by(AuditEvent.id.desc())).scalars().first()
        assert recorded.actor_label == "manager@demo.test" and recorded.project_id == ids["project"]
        changes = json.loads(recorded.changes)
        assert changes["format"] == "csv"
        assert changes["filter"] == {"table": "budget_line", "row_id": ids["line"]}


def test_xlsx_export_opens_keeps_text_as_text_and_vietnamese(busy_app):
    client = trail_client(busy_app, "auditor")
    ids = busy_app.test_ids
    response = client.get(f"/projects/{ids['project']}/audit/export.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook["Audit trail"]
    rows = list(sheet.iter_rows(values_only=False))
    assert rows[0][0].value.startswith("Audit trail of")
    assert [c.value for c in rows[1][:4]] == ["Event", "When (UTC)", "Who", "Action"]
    values = [c for row in rows[2:] for c in row]
    formula = [c for c in values if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert formula and all(c.data_type == "s" for c in formula)
    assert any(isinstance(c.value, str) and "Huế" in c.value for c in values)
    with busy_app.app_context():
        export_events = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "export", AuditEvent.actor_label == "auditor@demo.test")).scalars().all()
        assert len(export_events) == 1 and json.loads(export_events[0].changes)["format"] == "xlsx"


def test_nothing_in_the_app_changes_audit_events():
    """Only trail.py writes audit_event, and only by INSERT."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "tracker"
    offenders = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for needle in ("update(AuditEvent", "delete(AuditEvent", "UPDATE audit_event", "DELETE FROM audit_event"):
            if needle in source:
                offenders.append(f"{path.relative_to(root.parent)}: {needle}")
    assert not offenders, offenders


def test_audited_tables_cover_the_domain():
    tables = audited_tables()
    for name in ("activity", "progress_log", "indicator_period", "budget_line", "expenditure", "evidence_item",
                 "evidence_link", "membership", "user", "project", "result_node", "indicator"):
        assert name in tables
    assert "audit_event" not in tables and "login_attempt" not in tables


def test_expenditure_history_shows_money_changes(client, auth, app, demo):
    with app.app_context():
        expenditure = db.session.execute(select(Expenditure).order_by(Expenditure.id)).scalars().first()
        old = expenditure.amount_cents
        expenditure.amount_cents = old + 100
        db.session.commit()
        expenditure_id = expenditure.id
    auth.login("manager")
    body = client.get(f"/projects/{demo}/history/expenditure/{expenditure_id}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "amount_cents" in body and str(old) in body and str(old + 100) in body


# ---------------------------------------------------------------------------------------
# The system trail (admins): events tied to no project


def test_admin_sees_logins_and_failed_logins_in_the_system_trail(client, auth, app):
    client.post("/login", data={"email": "intruder@example.test", "password": "guess-guess"})
    auth.login("admin")
    page = client.get("/admin/audit")
    text_ = page.get_data(as_text=True)
    assert page.status_code == 200 and "System audit trail" in text_ and 'id="audit-trail"' in text_
    assert "failed login" in text_ and "intruder@example.test" in text_ and "logged in" in text_
    fragment = client.get("/admin/audit?action=login_failed", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "of 1 matching the filter" in body
    assert "/admin/audit/export.csv?action=login_failed" in body
    # Project events are not in the system trail.
    assert "No events matching the filter" in client.get("/admin/audit?table=budget_line").get_data(as_text=True)
    export = client.get("/admin/audit/export.csv?action=login_failed")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert {row[3] for row in rows[1:]} == {"login_failed"} and any("intruder@example.test" in r for r in rows)
    with app.app_context():
        recorded = db.session.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalar_one()
        assert recorded.project_id is None and json.loads(recorded.changes)["what"] == "system audit trail"
    xlsx = client.get("/admin/audit/export.xlsx")
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(xlsx.data))["Audit trail"]["A1"].value.startswith(
        "Audit trail of system")


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_system_trail_is_for_admins_only(client, auth, role):
    auth.login(role)
    for url in ("/admin/audit", "/admin/audit/export.csv", "/admin/audit/export.xlsx"):
        assert client.get(url).status_code == 403


def test_verify_with_an_anchor_finds_removed_newest_events(app, runner):
    first = runner.invoke(args=["audit", "verify"])
    anchor = first.output.split("anchor ")[1].split()[0]
    noted_id, noted_hash = anchor.split(":")
    assert noted_id.isdigit() and len(noted_hash) == 64
    assert runner.invoke(args=["audit", "verify", "--anchor", anchor]).exit_code == 0
    with app.app_context():
        drop_append_only_triggers()
        db.session.execute(text("DELETE FROM audit_event WHERE id = (SELECT MAX(id) FROM audit_event)"))
        db.session.commit()
    # Without the anchor the shorter chain looks whole; with it the removal shows.
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1 and "newest events were removed" in result.output
    assert f"noted event {noted_id} is no longer there" in result.output


@pytest.mark.parametrize("model_name, page, table", [
    ("Activity", "/projects/{p}/activities/{row}", "activity"),
    ("BudgetLine", "/projects/{p}/budget/lines/{row}", "budget_line"),
])
def test_record_pages_offer_their_history_to_those_who_may_read_the_trail(app, client, auth, model_name, page,
                                                                          table):
    import tracker.models as models

    model = getattr(models, model_name)
    with app.app_context():
        row_id = db.session.execute(select(model.id)).scalars().first()
        project_id = db.session.execute(select(models.Project.id)).scalar_one()
    url = page.format(p=project_id, row=row_id)
    history_url = f"/projects/{project_id}/history/{table}/{row_id}"
    auth.login("auditor")
    assert history_url in client.get(url).get_data(as_text=True)
    assert client.get(history_url).status_code == 200
    auth.logout()
    auth.login("officer")  # officers do not read the audit trail
    assert "/history/" not in client.get(url).get_data(as_text=True)
