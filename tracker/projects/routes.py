"""Portfolio, project overview, logframe and the health check."""

from flask import Blueprint, g, render_template
from flask_login import current_user

from ..database import database_answers
from ..evidence.services import evidence_for
from ..extensions import db
from ..permissions import logged_in, public, requires
from ..progress.services import status_rows
from . import services

bp = Blueprint("projects", __name__)


@bp.route("/")
@logged_in
def portfolio():
    """Every project the user can see, with grant, period and a one-line status."""
    rows = services.visible_projects(current_user)
    counts = services.activity_status_counts([project.id for project, _ in rows])
    items = [(project, role, services.one_line_status(counts[project.id])) for project, role in rows]
    return render_template("projects/portfolio.html", items=items)


@bp.route("/projects/<int:project_id>")
@requires("project.view")
def overview(project_id):
    """Objective, results with their indicators' progress, activity status counts."""
    counts = services.activity_status_counts([project_id])[project_id]
    return render_template(
        "projects/overview.html",
        framework=services.framework_rows(g.project),
        status_counts=status_rows(counts),
        activity_total=sum(counts.values()),
    )


@bp.route("/projects/<int:project_id>/logframe")
@requires("project.view")
def logframe(project_id):
    """The logframe matrix: logic | indicators | means of verification | assumptions."""
    framework = services.framework_rows(g.project)
    evidence = evidence_for(g.project.id, results=[result.id for result, _ in framework])
    return render_template("projects/logframe.html", framework=framework, evidence=evidence)


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers a query, 503 when it does not."""
    if database_answers(db.session):
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "unavailable", "database": "not answering"}, 503
