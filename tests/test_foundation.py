"""The foundation: demo data from the report, pages, migrations, health check, configuration."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker import create_app
from tracker.extensions import db
from tracker.models import (
    Activity,
    AgendaItem,
    AuditEvent,
    Event,
    EvidenceItem,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNode,
)

OBJECTIVE = (
    "to support the Government of Viet Nam to kick-start the implementation of the first National Strategy "
    "for Creative Industries by strengthening the policy framework, capacity, confidence and coordination of "
    "policy makers and practitioners."
)
RESULT_1 = ("The National Steering Committee for Creative Industries has increased their understanding of the "
            "creative industries and actively promotes their development")
RESULT_2 = ("The policy framework for creative industries has been strengthened to create an enabling "
            "environment for the industries to flourish")
ACTIVITY_1 = "Raise awareness for policy makers through exposure to international best practice"
ACTIVITY_2 = ("Support policy development/amendment through piloting the development and implementation of one "
              "sector identified by the National Steering Committee")
AGENCIES = {
    "Song Huong Magazine", "National Times", "UN Website", "Education Online", "Culture Online",
    "Thanh Nien Online", "Viet Nam Culture Information Network",
    "Website of Hue's Department of Culture and Sports",
}


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_demo_holds_the_reports_facts(app):
    with app.app_context():
        project = db.session.execute(select(Project)).scalar_one()
        assert project.title == ("Supporting the Implementation of the National Strategy for Cultural Industries "
                                 "in Viet Nam")
        assert project.donor == "Korean Funds-in-Trust"
        assert project.grant_cents == 12_000_000 and project.currency == "USD"
        assert (project.start_date.year, project.end_date.year) == (2016, 2017)
        assert project.implementing_partners == "Ministry of Culture, Sports and Tourism"
        assert project.objective == OBJECTIVE
        statements = set(db.session.execute(select(ResultNode.statement)).scalars())
        assert {RESULT_1, RESULT_2} <= statements
        titles = set(db.session.execute(select(Activity.title)).scalars())
        assert {ACTIVITY_1, ACTIVITY_2} <= titles
        assert "1755/QĐ-TTg" in project.summary and "Quyết định" in project.summary

        events = {e.title: e for e in db.session.execute(select(Event)).scalars()}
        decision = next(e for t, e in events.items() if "1755/QĐ-TTg" in t)
        assert (decision.starts_on.year, decision.starts_on.month) == (2016, 9)
        desk = next(e for t, e in events.items() if t.startswith("Desk review"))
        assert (desk.starts_on.year, desk.starts_on.month) == (2016, 7)
        missions = next(e for t, e in events.items() if t.startswith("Field missions"))
        assert missions.starts_on.month == 8 and missions.ends_on.month == 9
        assert {"Hà Nội", "Huế", "Hồ Chí Minh City"} <= {c.strip() for c in missions.city.split(";")}
        dialogue = next(e for e in events.values() if e.kind == "workshop")
        assert dialogue.starts_on.isoformat() == "2016-11-24" and dialogue.city == "Huế"
        assert any("The Whisper" in t for t in events)

        agenda = db.session.execute(select(AgendaItem).order_by(AgendaItem.position)).scalars().all()
        assert agenda[0].title == "Registration of participants" and agenda[0].starts_at.isoformat() == "08:00:00"
        assert any(i.speakers == "Mr. Andy Pratt, British Council expert" for i in agenda)
        assert len({i.section for i in agenda if i.section.startswith("Section")}) == 4

        clippings = db.session.execute(
            select(EvidenceItem).where(EvidenceItem.kind == "press_clipping")).scalars().all()
        assert len(clippings) == 9
        assert {c.source for c in clippings} == AGENCIES
        un = next(c for c in clippings if c.source == "UN Website")
        assert un.dated.isoformat() == "2016-11-24"
        assert un.title == "Creative hubs in Viet Nam receive spotlight during National policy dialogue"
        assert un.url.startswith("http://www.un.org.vn/en/unesco-agencypresscenter1-100/4285")
        kinds = set(db.session.execute(select(EvidenceItem.kind)).scalars())
        assert {"agenda", "report", "decision"} <= kinds


def test_demo_indicators_are_marked_illustrative_and_actuals_follow_the_report(app):
    with app.app_context():
        press = db.session.execute(select(Indicator).where(Indicator.title.like("Press articles%"))).scalar_one()
        assert press.illustrative
        assert sum(p.actual or 0 for p in press.periods) == 9
        cities = db.session.execute(select(Indicator).where(Indicator.title.like("Cities covered%"))).scalar_one()
        assert max(p.actual or 0 for p in cities.periods) == 3
        labels = [c.label for d in cities.dimensions for c in d.categories]
        assert labels == ["Hà Nội", "Huế", "Hồ Chí Minh City"]
        assert count(IndicatorPeriod) > 0


def test_demo_command_is_idempotent_and_reset_reloads(app, runner):
    with app.app_context():
        before = (count(Project), count(EvidenceItem), count(Activity))
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "already loaded" in result.output
    with app.app_context():
        assert (count(Project), count(EvidenceItem), count(Activity)) == before
        db.session.execute(select(Project)).scalar_one().title = "Changed by hand"
        db.session.commit()
    result = runner.invoke(args=["demo", "--reset"])
    assert result.exit_code == 0 and "Loaded the demo project" in result.output
    with app.app_context():
        assert (count(Project), count(EvidenceItem), count(Activity)) == before
        assert db.session.execute(select(Project.title)).scalar_one().startswith("Supporting the Implementation")


def test_load_demo_if_empty_loads_only_into_an_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["load-demo-if-empty"])
    assert "Loaded the demo project" in first.output
    second = runner.invoke(args=["load-demo-if-empty"])
    assert "not loaded again" in second.output
    with empty_app.app_context():
        assert count(Project) == 1


@pytest.mark.parametrize("path", ["/", "/projects/{id}", "/projects/{id}/logframe"])
def test_every_page_renders_for_the_demo(client, auth, demo, path):
    auth.login("officer")
    response = client.get(path.format(id=demo))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and 'charset="utf-8"' in page
    assert "/static/js/vendor/htmx-2.0.11.min.js" in page
    assert "Supporting the Implementation of the National Strategy" in page


def test_logframe_shows_the_matrix_with_every_level(client, auth, demo):
    auth.login("liaison")
    page = client.get(f"/projects/{demo}/logframe").get_data(as_text=True)
    for heading in ("Intervention logic", "Means of verification", "Assumptions and risks"):
        assert heading in page
    assert OBJECTIVE[1:] in page  # the objective, word for word (capitalised as a statement)
    assert RESULT_1 in page and RESULT_2 in page and ACTIVITY_1 in page
    assert "Press articles published on the project" in page
    assert "illustrative" in page.lower()
    assert "Hà Nội" in page and "Huế" in page
    assert "Decision No. 1755/QĐ-TTg" in page  # means of verification of the objective's indicator


def test_overview_shows_progress_and_activity_counts(client, auth, demo):
    auth.login("auditor")
    page = client.get(f"/projects/{demo}?page=1").get_data(as_text=True)  # the results inline (they load when revealed)
    assert 'id="status-counts"' in page
    assert "Completed" in page and "USD 120,000.00" in page
    assert "of end target" in page


def test_pages_need_a_login(client, demo):
    response = client.get(f"/projects/{demo}/logframe")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"


def test_healthz_answers_503_when_the_database_is_broken(tmp_path):
    missing = tmp_path / "no-such-folder" / "tracker.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}", "TESTING": True, "SECRET_KEY": "x"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "not answering"


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_the_demo_load_is_in_the_audit_trail(app, runner):
    with app.app_context():
        assert count(AuditEvent) > 50
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (Path(tmp_path) / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/other.sqlite3")
    monkeypatch.setenv("TRACKER_MAX_UPLOAD_MB", "5")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite3")
    assert app.config["MAX_UPLOAD_MB"] == 5


def test_an_id_too_large_for_the_database_is_a_404_not_a_500(client, auth):
    auth.login("admin")
    assert client.get("/projects/99999999999999999999999999/logframe").status_code == 404
    assert client.get("/projects/9223372036854775807/logframe").status_code == 404


def test_logframe_lists_the_evidence_linked_to_each_result(client, auth, demo):
    auth.login("auditor")
    page = client.get(f"/projects/{demo}/logframe").get_data(as_text=True)
    assert "Evidence on file" in page
    assert "Workshop agenda: Policy Dialogue on Creative hubs and Creative industries" in page
    assert "Decision No. 1755/QĐ-TTg on the National Strategy" in page


def test_portfolio_offers_admins_a_new_project_from_a_workbook(client, auth):
    auth.login("admin")
    assert "/imports/new-project" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    assert "/imports/new-project" not in client.get("/").get_data(as_text=True)
