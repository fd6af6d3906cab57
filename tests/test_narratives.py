"""Narratives and variance explanations (issue 16): the rule on submit, the lock, the audit trail,
concurrent edits, and where they are shown (period page, grid marker, logframe, overview)."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from tracker.concurrency import ConflictError
from tracker.extensions import db
from tracker.models import AuditEvent, Indicator, IndicatorPeriod, Project, ResultNarrative, ResultNode, User
from tracker.results import narratives, services
from tracker.results.workflow import LockedError
from tracker.validation import InputError

H2_2016 = (date(2016, 7, 1), date(2016, 12, 31))
H1_2017 = (date(2017, 1, 1), date(2017, 6, 30))


def _period(code: str, start: date) -> IndicatorPeriod:
    return db.session.execute(select(IndicatorPeriod).join(Indicator).where(
        Indicator.code == code, IndicatorPeriod.start_date == start)).scalar_one()


def _user(role: str) -> User:
    return db.session.execute(select(User).where(User.email == f"{role}@demo.test")).scalar_one()


def _result(code: str) -> ResultNode:
    return db.session.execute(select(ResultNode).where(ResultNode.code == code)).scalar_one()


def _off_target_period(app) -> int:
    """1.1.b, 2017 H1: target 3; an actual of 1 is 33% of it, below the demo's 60% at-risk line."""
    with app.app_context():
        period = _period("1.1.b", H1_2017[0])
        services.set_period_values(period, _user("officer"), actual="1")
        db.session.commit()
        return period.id


def _url(project_id, period_id, tail=""):
    return f"/projects/{project_id}/indicators/periods/{period_id}{tail}"


# --- the rule --------------------------------------------------------------------------------


def test_an_off_target_period_needs_a_variance_explanation_to_be_submitted(app):
    period_id = _off_target_period(app)
    with app.app_context():
        period = db.session.get(IndicatorPeriod, period_id)
        assert narratives.off_target(period, db.session.get(Project, period.project_id))
        with pytest.raises(InputError) as refused:
            services.submit_period(period, period.version, _user("officer"))
        assert refused.value.field == "variance_explanation"
        assert "33% of its target" in str(refused.value) and "60%" in str(refused.value)
        db.session.rollback()
        period = db.session.get(IndicatorPeriod, period_id)
        narratives.save_period_narrative(period, None, "Two outlets closed in 2017.", period.version,
                                         _user("officer"))
        services.submit_period(period, period.version, _user("officer"))
        assert period.state == "submitted"


def test_a_period_on_or_above_target_needs_no_explanation(app):
    with app.app_context():
        project = db.session.execute(select(Project)).scalar_one()
        above = _period("1.1.b", H2_2016[0])  # 9 of a target of 6
        assert not narratives.off_target(above, project)
        period = _period("1.1.b", H1_2017[0])
        services.set_period_values(period, None, actual="2")  # 67%: at risk, not off track
        assert not narratives.off_target(period, project)
        qualitative = _period("1.2.c", H2_2016[0])
        assert not narratives.off_target(qualitative, project)


def test_submitting_without_the_explanation_is_a_422_with_the_message_on_the_field(app, client, auth, demo):
    period_id = _off_target_period(app)
    auth.login("officer")
    page = client.get(_url(demo, period_id)).get_data(as_text=True)
    assert 'id="submit-variance"' in page  # the submit form asks for it
    with app.app_context():
        version = db.session.get(IndicatorPeriod, period_id).version
    refused = client.post(_url(demo, period_id, "/submit"), data={"version": version})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="submit-variance-error">([^<]*)</p>', html)
    assert error and "explain the variance before submitting" in error.group(1)
    as_htmx = client.post(_url(demo, period_id, "/submit"), data={"version": version}, headers={"HX-Request": "true"})
    assert as_htmx.status_code == 422 and 'id="submit-variance-error"' in as_htmx.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(IndicatorPeriod, period_id).state == "draft"
    done = client.post(_url(demo, period_id, "/submit"),
                       data={"version": version, "variance_explanation": "Two outlets closed."})
    assert done.status_code == 303
    with app.app_context():
        period = db.session.get(IndicatorPeriod, period_id)
        assert (period.state, period.variance_explanation) == ("submitted", "Two outlets closed.")


def test_bulk_submit_applies_the_same_rule(app):
    """A column's bulk submit goes through workflow.submit_period for each period: the same refusal."""
    from tracker.results import workflow

    period_id = _off_target_period(app)
    with app.app_context():
        period = db.session.get(IndicatorPeriod, period_id)
        with pytest.raises(InputError) as refused:
            workflow.bulk_step([period], "submit", {period.id: period.version}, _user("officer"))
        assert "1.1.b" in str(refused.value) and "explain the variance" in str(refused.value)
        db.session.rollback()
        period = db.session.get(IndicatorPeriod, period_id)
        narratives.save_period_narrative(period, None, "Two outlets closed.", None, None)
        workflow.bulk_step([period], "submit", {period.id: period.version}, _user("officer"))
        assert period.state == "submitted"


# --- editing: page, fragment, lock, audit, conflicts --------------------------------------------


def test_the_narrative_is_saved_in_place_and_without_javascript(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        period = _period("1.1.a", H1_2017[0])
        period_id, version = period.id, period.version
    fragment = client.post(_url(demo, period_id, "/narrative"),
                           data={"version": version, "narrative": "Dialogue planned in Hồ Chí Minh City.",
                                 "variance_explanation": ""}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="narrative"') and "Dialogue planned in Hồ Chí Minh City." in html
    assert "periodSaved" in fragment.headers["HX-Trigger"]
    plain = client.post(_url(demo, period_id, "/narrative"),
                        data={"version": version + 1, "narrative": "Second dialogue planned.",
                              "variance_explanation": "Not off target."})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/periods/{period_id}#narrative")
    page = client.get(_url(demo, period_id)).get_data(as_text=True)
    assert "Second dialogue planned." in page and "Not off target." in page


def test_a_stale_form_is_a_409_and_keeps_what_was_typed(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        period = _period("1.1.a", H1_2017[0])
        period_id, version = period.id, period.version
    first = client.post(_url(demo, period_id, "/narrative"), data={"version": version, "narrative": "Mine."},
                        headers={"HX-Request": "true"})
    assert first.status_code == 200
    second = client.post(_url(demo, period_id, "/narrative"), data={"version": version, "narrative": "Theirs."},
                         headers={"HX-Request": "true"})
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "Theirs." in html and "after you opened it" in html
    with app.app_context():
        assert db.session.get(IndicatorPeriod, period_id).narrative == "Mine."


def test_narratives_are_locked_with_the_approved_period(app, client, auth, demo):
    with app.app_context():
        period = _period("1.2.a", H1_2017[0])
        period_id = period.id
        services.set_period_values(period, None, actual="3", target="3")
        services.submit_period(period, period.version, _user("officer"))
        services.approve_period(period, period.version, _user("manager"))
        db.session.commit()
        with pytest.raises(LockedError):
            narratives.save_period_narrative(period, "Too late.", None, None, _user("manager"))
        db.session.rollback()
        version = db.session.get(IndicatorPeriod, period_id).version
    auth.login("manager")
    page = client.get(_url(demo, period_id)).get_data(as_text=True)
    assert 'name="narrative"' not in page and "Locked with the approved period." in page
    refused = client.post(_url(demo, period_id, "/narrative"), data={"version": version, "narrative": "Too late."})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(IndicatorPeriod, period_id).narrative == ""


def test_changes_are_in_the_audit_trail(app):
    with app.app_context():
        period = _period("1.1.a", H1_2017[0])
        narratives.save_period_narrative(period, "Planned.", "", period.version, _user("officer"))
        row = narratives.save_result_narrative(_result("1.1"), *H1_2017, "Second dialogue.", "0", _user("officer"))
        db.session.commit()
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.table_name.in_(("indicator_period", "result_narrative")))
            .order_by(AuditEvent.id.desc()).limit(5)).scalars().all()
        changes = {(e.table_name, e.row_id): e.changes for e in events}
        period_changes = changes[("indicator_period", period.id)]
        assert "Planned." in str(period_changes)
        assert "Second dialogue." in str(changes[("result_narrative", row.id)])


# --- result narratives ---------------------------------------------------------------------


def test_a_result_narrative_is_edited_in_place_and_conflicts_are_409(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        result_id = _result("1.2").id
    page = client.get(f"/projects/{demo}/results/{result_id}/narratives")
    url = f"/projects/{demo}/results/{result_id}/narrative"
    assert page.status_code == 200 and 'id="narrative-2017-01-01"' in page.get_data(as_text=True)
    data = {"start_date": "2017-01-01", "end_date": "2017-06-30", "text": "Pilot sector chosen.", "version": "0"}
    saved = client.post(url, data=data, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Pilot sector chosen." in saved.get_data(as_text=True)
    again = client.post(url, data={**data, "text": "Another idea."}, headers={"HX-Request": "true"})
    assert again.status_code == 409 and "Another idea." in again.get_data(as_text=True)
    plain = client.post(url, data={**data, "text": "Pilot: film.", "version": "1"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#narrative-2017-01-01")
    not_a_period = client.post(url, data={**data, "start_date": "2017-02-01", "version": "2"})
    assert not_a_period.status_code == 422 and "is not one of the project" in \
        not_a_period.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(ResultNarrative.text).where(
            ResultNarrative.result_id == result_id, ResultNarrative.start_date == H1_2017[0])).scalar() == "Pilot: film."


def test_a_result_narrative_is_locked_once_its_periods_are_approved(app, client, auth, demo):
    with app.app_context():
        result = _result("1.1")
        # 2016 H1 is approved for every demo indicator: the narrative of that period is locked.
        assert narratives.result_period_locked(result, date(2016, 1, 1), date(2016, 6, 30))
        assert not narratives.result_period_locked(result, *H2_2016)
        with pytest.raises(LockedError):
            narratives.save_result_narrative(result, date(2016, 1, 1), date(2016, 6, 30), "x", None, None)
        result_id = result.id
    auth.login("officer")
    html = client.get(f"/projects/{demo}/results/{result_id}/narratives").get_data(as_text=True)
    h1 = html.split('id="narrative-2016-01-01"')[1].split("</section>")[0]
    assert "<textarea" not in h1 and "Locked" in h1


def test_the_import_path_skips_the_version_check_but_not_the_lock(app):
    with app.app_context():
        period = _period("1.a", date(2016, 1, 1))  # approved in the demo
        with pytest.raises(LockedError):
            narratives.save_period_narrative(period, "x", None, None, None)
        with pytest.raises(ConflictError):
            open_period = _period("1.a", H1_2017[0])
            narratives.save_period_narrative(open_period, "x", None, open_period.version + 5, None)


# --- shown --------------------------------------------------------------------------------


def test_the_demo_narratives_are_shown_on_the_logframe_and_the_overview(client, auth, demo):
    auth.login("liaison")
    logframe = client.get(f"/projects/{demo}/logframe").get_data(as_text=True)
    assert "convened a policy dialogue in Huế" in logframe and 'class="lf-narratives"' in logframe
    assert "Illustrative:" in logframe
    printable = client.get(f"/projects/{demo}/logframe?all=1").get_data(as_text=True)
    assert "desk review (from July 2016)" in printable
    overview = client.get(f"/projects/{demo}?page=1").get_data(as_text=True)  # results inline (lazy on the bare page)
    assert "Narrative, 2016 H2:" in overview and "Decision No. 1755/QĐ-TTg in September 2016" in overview
    fragment = client.get(f"/projects/{demo}/logframe", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "convened a policy dialogue in Huế" in fragment


def test_the_grid_marks_cells_whose_period_has_a_narrative(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        with_text = set(narratives.period_narratives(demo))
        assert len(with_text) == 6  # the demo's 2016 H2 narratives
    html = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    marked = {int(m) for m in re.findall(r'id="cell-(\d+)-actual"(?:(?!</td>).)*class="nm"', html, re.S)}
    assert marked == with_text
    period_page = client.get(_url(demo, next(iter(with_text)))).get_data(as_text=True)
    assert 'id="narrative"' in period_page


def test_the_read_api_answers_in_one_query_each(app):
    from tests.helpers import count_queries

    with app.app_context():
        project_id = db.session.execute(select(Project.id)).scalar_one()
        with count_queries(app) as statements:
            periods = narratives.period_narratives(project_id)
            results = narratives.result_narratives(project_id)
            reporting = narratives.reporting_periods(project_id)
            latest = narratives.latest_result_narratives(project_id)
        assert len(statements) == 4
        assert len(periods) == 6 and len(results) == 7 and len(reporting) == 4
        assert latest[_result("1").id][:2] == H2_2016
