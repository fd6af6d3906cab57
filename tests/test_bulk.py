"""Bulk submit and approve of one reporting period (a column of the indicator grid): all or
nothing, one audit event per period, the same permissions as one period."""

import re
from datetime import date

from sqlalchemy import func, select, update

from tests.helpers import HX
from tracker.extensions import db
from tracker.models import AuditEvent, IndicatorPeriod
from tracker.results import workflow

H2 = {"start": "2016-07-01", "end": "2016-12-31"}
H1_2017 = {"start": "2017-01-01", "end": "2017-06-30"}


def _column(app, dates):
    with app.app_context():
        periods = db.session.execute(select(IndicatorPeriod).where(
            IndicatorPeriod.start_date == date.fromisoformat(dates["start"]),
            IndicatorPeriod.end_date == date.fromisoformat(dates["end"]))).scalars().all()
        return {p.id: (p.state, p.version, p.indicator.code) for p in periods}


def _url(demo, action, dates):
    return f"/projects/{demo}/indicators/bulk/{action}?start={dates['start']}&end={dates['end']}"


def _events(app, action):
    with app.app_context():
        return db.session.execute(select(AuditEvent.row_id, func.count()).where(AuditEvent.action == action)
                                  .group_by(AuditEvent.row_id)).all()


def test_the_grid_offers_the_bulk_actions_in_each_column_header(client, auth, demo):
    auth.login("manager")
    grid = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    assert f'href="/projects/{demo}/indicators/bulk/approve?start=2016-07-01&amp;end=2016-12-31"' in grid
    assert 'id="bulk-panel"' in grid
    client.post("/logout")
    auth.login("officer")
    grid = client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
    assert "bulk/submit?start=2016-07-01" in grid and "bulk/approve" not in grid


def test_the_bulk_page_lists_the_submitted_periods_of_the_column(client, auth, demo, app):
    auth.login("manager")
    page = client.get(_url(demo, "approve", H2)).get_data(as_text=True)
    assert "Approve all submitted of 2016 H2" in page
    column = _column(app, H2)
    for pid, (state, version, _code) in column.items():
        assert (f'value="{pid}:{version}"' in page) == (state == "submitted")
    fragment = client.get(_url(demo, "approve", H2), headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="bulk-panel"')


def test_approve_all_with_a_shared_note_and_one_returned_writes_one_event_per_period(client, auth, demo, app):
    auth.login("manager")
    column = _column(app, H2)
    submitted = {pid: v for pid, (state, v, _c) in column.items() if state == "submitted"}
    assert len(submitted) == 6
    returned_id = min(submitted)
    data = {"period": [f"{pid}:{v}" for pid, v in submitted.items()], "note": "Checked against the reports",
            f"return-{returned_id}": "The attendance list gives 48, not 52."}
    response = client.post(_url(demo, "approve", H2), data=data, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "5 periods of 2016 H2 approved and locked." in html and "1 returned to the officer" in html
    # The grid's cells of the column follow out of band, and the manager's inbox count drops to 0.
    for pid in submitted:
        assert f'id="cell-{pid}-actual"' in html
    assert re.search(r'<span id="inbox-count"[^>]*hx-swap-oob="true"[^>]*>0<', html)
    after = _column(app, H2)
    assert sorted(state for pid, (state, _v, _c) in after.items() if pid in submitted) == ["approved"] * 5 + ["returned"]
    approvals = _events(app, "indicator.approve")
    assert sorted(row_id for row_id, _n in approvals) == sorted(set(submitted) - {returned_id})
    assert all(n == 1 for _row, n in approvals)
    with app.app_context():
        notes = db.session.execute(select(AuditEvent.changes).where(AuditEvent.action == "indicator.approve")).scalars()
        assert all("Checked against the reports" in changes for changes in notes)
        assert db.session.get(IndicatorPeriod, returned_id).return_note == "The attendance list gives 48, not 52."


def test_approve_all_is_all_or_nothing(client, auth, demo, app):
    auth.login("manager")
    column = _column(app, H2)
    last = max(column)
    with app.app_context():  # one period of the column is back to draft (its version unchanged)
        db.session.execute(update(IndicatorPeriod).where(IndicatorPeriod.id == last).values(state="draft"))
        db.session.commit()
    column = _column(app, H2)
    before = dict(column)
    draft = next(pid for pid, (state, _v, _c) in _column(app, H1_2017).items())
    chosen = [f"{pid}:{v}" for pid, (state, v, _c) in column.items()]
    # A period of the column that is not submitted cannot be approved: the whole action is refused.
    response = client.post(_url(demo, "approve", H2), data={"period": chosen}, headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was changed." in html and f"{column[last][2]}: Only a submitted period can be approved" in html
    assert _column(app, H2) == before
    assert _events(app, "indicator.approve") == []
    # A period changed since the page was opened (stale version): 409, nothing approved.
    stale = [f"{pid}:{v + 7}" if i == 0 else f"{pid}:{v}" for i, (pid, (state, v, _c)) in enumerate(
        (pid, val) for pid, val in column.items() if val[0] == "submitted")]
    response = client.post(_url(demo, "approve", H2), data={"period": stale}, headers=HX)
    assert response.status_code == 409
    assert _column(app, H2) == before
    # Another column's period does not count as chosen here.
    response = client.post(_url(demo, "approve", H2), data={"period": [f"{draft}:1"]}, headers=HX)
    assert response.status_code == 422 and _column(app, H2) == before


def test_submit_all_filled_actuals_of_a_column(client, auth, demo, app):
    with app.app_context():
        periods = db.session.execute(select(IndicatorPeriod).where(
            IndicatorPeriod.start_date == date(2017, 1, 1)).order_by(IndicatorPeriod.id)).scalars().all()
        filled = []
        for period in periods[:3]:
            if period.indicator.unit == "qualitative":
                period.actual_text = "Done"
            else:
                period.actual = period.target if period.target is not None else 1  # on target
            filled.append(period.id)
        db.session.commit()
    auth.login("officer")
    page = client.get(_url(demo, "submit", H1_2017)).get_data(as_text=True)
    column = _column(app, H1_2017)
    assert sum(f'value="{pid}:' in page for pid in column) == len(filled)
    data = {"period": [f"{pid}:{column[pid][1]}" for pid in filled], "note": "H1 figures"}
    response = client.post(_url(demo, "submit", H1_2017), data=data)
    assert response.status_code == 303
    assert all(_column(app, H1_2017)[pid][0] == "submitted" for pid in filled)
    assert sorted(r for r, _n in _events(app, "indicator.submit")) == sorted(filled)


def test_an_officer_cannot_approve_in_bulk(client, auth, demo, app):
    auth.login("officer")
    before = _column(app, H2)
    assert client.get(_url(demo, "approve", H2)).status_code == 403
    chosen = [f"{pid}:{v}" for pid, (state, v, _c) in before.items() if state == "submitted"]
    assert client.post(_url(demo, "approve", H2), data={"period": chosen}).status_code == 403
    assert _column(app, H2) == before


def test_the_liaison_and_the_auditor_cannot_submit_in_bulk(client, auth, demo):
    for role in ("liaison", "auditor"):
        client.post("/logout")
        auth.login(role)
        assert client.get(_url(demo, "submit", H2)).status_code == 403


def test_an_unknown_column_is_404(client, auth, demo):
    auth.login("manager")
    assert client.get(f"/projects/{demo}/indicators/bulk/approve?start=2015-01-01&end=2015-06-30").status_code == 404
    assert client.get(f"/projects/{demo}/indicators/bulk/approve?start=nonsense").status_code == 404


def test_bulk_step_is_refused_without_any_period(app, demo):
    import pytest

    from tracker.validation import InputError

    with app.app_context():
        with pytest.raises(InputError):
            workflow.bulk_step([], "approve", {}, None)
