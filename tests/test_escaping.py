"""What people type is escaped on every page, however the page is written.

Several lists are now written by Python in one pass rather than by Jinja's autoescaping
templates (the grid's cells, the logframe's indicators, the activity, evidence and budget
rows; issue 15). Text holding markup is stored in every field those lists show, then every GET
page and fragment the demo can fill is read as each role: the markup never comes back raw."""

import pytest
from sqlalchemy import update

from tests.helpers import HX
from tests.test_extreme_values import _project_get_urls
from tracker.extensions import db
from tracker.models import (
    Activity,
    BudgetLine,
    EvidenceItem,
    Expenditure,
    Indicator,
    IndicatorPeriod,
    Project,
    ResultNode,
)

pytestmark = pytest.mark.once  # escaping does not depend on the database (tests/conftest.py)

MARKUP = '<script>alert("x")</script><b onmouseover="y">'


def _store_markup(project_id: int) -> None:
    text = lambda column: column + MARKUP  # noqa: E731 (a suffix on each stored text)
    for model, columns in (
            (Project, ("title",)), (ResultNode, ("statement", "assumptions")),
            (Indicator, ("title", "means_of_verification")), (Activity, ("title", "responsible", "location")),
            (IndicatorPeriod, ("comment", "narrative", "variance_explanation")),
            (BudgetLine, ("description",)), (Expenditure, ("payee", "description")),
            (EvidenceItem, ("title", "source", "description"))):
        present = [name for name in columns if hasattr(model, name)]
        scope = model.id == project_id if model is Project else model.project_id == project_id
        db.session.execute(update(model).where(scope).values({name: text(getattr(model, name)) for name in present}))
    db.session.commit()


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_markup_typed_by_people_never_comes_back_raw(app, client, auth, demo, role):
    with app.app_context():
        _store_markup(demo)
    auth.login(role)
    raw = []
    for url in _project_get_urls(app, demo):
        for headers in ({}, HX):
            response = client.get(url, headers=headers)
            if response.mimetype == "text/html" and b"<script>alert" in response.data:
                raw.append(f"{url} {'(htmx)' if headers else ''}")
            response.close()
    assert raw == [], "markup came back unescaped: " + ", ".join(raw)
    # And it is shown (escaped), so the check above looked at pages that carry it.
    assert "&lt;script&gt;alert" in client.get(f"/projects/{demo}/indicators").get_data(as_text=True)
