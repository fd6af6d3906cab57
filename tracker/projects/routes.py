"""Portfolio, project overview, logframe and the health check."""

from flask import Blueprint, abort, current_app, g, render_template, request, stream_with_context
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..database import database_answers
from ..evidence.services import evidence_for
from ..extensions import db
from ..htmx import is_htmx, render, vary
from ..inbox import dashboard
from ..models import Indicator
from ..permissions import logged_in, public, requires
from ..progress.services import status_rows
from ..results import narratives
from . import services
from .logframe import logframe_page, logframe_stream, row_words

bp = Blueprint("projects", __name__)


def _page_arg() -> int:
    raw = request.args.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else 1


@bp.route("/")
@logged_in
def portfolio():
    """Every project the user can see, with grant, period and a one-line status; 25 at a time
    (``?page=N``; htmx asks for the next page's cards only: "load more")."""
    per_page = services.PORTFOLIO_PAGE_SIZE
    rows, total = services.visible_projects(current_user, _page_arg(), per_page)
    pages = max(1, -(-total // per_page))
    page = min(_page_arg(), pages)
    return render("projects/portfolio.html", "projects/_portfolio_cards.html", cards=services.portfolio_cards(rows),
                  page_no=page, page_count=pages, total=total, per_page=per_page)


@bp.route("/projects/<int:project_id>")
@requires("project.view")
def overview(project_id):
    """Facts, dashboard strip, objective, activity status counts, and the results with their
    indicators' progress a page of indicators at a time.

    The results are below the fold: the bare page holds a placeholder that htmx fills when it
    scrolls into view (``?page=1`` with ``HX-Request``: the results fragment only, as for "load
    more"); without JavaScript its link is ``?page=1``, the page with that page of results in it.
    """
    if is_htmx():
        return vary(render_template("projects/_overview_results.html", **_overview_results(project_id)))
    counts = services.activity_status_counts([project_id])[project_id]
    context = {"status_counts": status_rows(counts), "activity_total": sum(counts.values()),
               "strip": dashboard.strips([g.project])[project_id], "per_page": services.FRAMEWORK_PAGE_SIZE}
    if "page" in request.args:
        context.update(_overview_results(project_id))
    else:
        context.update(framework=None, indicator_total=services.indicator_count(project_id))
    return vary(render_template("projects/overview.html", **context))


def _overview_results(project_id: int) -> dict:
    return {"framework": services.framework_page(g.project, _page_arg()),
            "latest_narratives": narratives.latest_result_narratives(project_id)}


@bp.route("/projects/<int:project_id>/indicators/<int:indicator_id>/chart")
@requires("project.view")
def indicator_chart(project_id, indicator_id):
    """An indicator's small chart (target against actual), loaded by the overview when it is
    scrolled into view (htmx, ``hx-trigger="revealed"``)."""
    indicator = db.session.execute(select(Indicator).where(Indicator.id == indicator_id,
                                                           Indicator.project_id == project_id)).scalar()
    if indicator is None:
        abort(404)
    return render_template("projects/_target_chart.html", progress=services.progress_of(g.project, indicator))


@bp.route("/projects/<int:project_id>/logframe")
@requires("project.view")
def logframe(project_id):
    """The logframe matrix: logic | indicators | means of verification | assumptions.

    A page of indicators at a time (``?page=N``, the results around them with their activities);
    ``?all=1`` is the printable version with every row, streamed: the first rows leave while
    the later ones are still being read.
    """
    if request.args.get("all") == "1":
        return _printable_logframe()
    framework = logframe_page(g.project, _page_arg())
    evidence = evidence_for(g.project.id, results=[result.id for result, _ in framework.rows])
    return render("projects/logframe.html", "projects/_logframe_rows.html", framework=framework,
                  evidence=evidence, result_narratives=narratives.narratives_by_result(g.project.id),
                  lf_words=row_words())


def _printable_logframe():
    generate_csrf()  # the session must hold the page's token before the headers leave
    app = current_app._get_current_object()
    rows = logframe_stream(g.project)

    def with_evidence():
        """The rows in batches of results, each batch with its evidence read in one query."""
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 50:
                yield from _evidence_batch(batch)
                batch = []
        yield from _evidence_batch(batch)

    context = {"rows": with_evidence(), "printable": True, "lf_words": row_words(),
               "result_narratives": narratives.narratives_by_result(g.project.id)}
    app.update_template_context(context)
    stream = app.jinja_env.get_template("projects/logframe_print.html").stream(context)
    stream.enable_buffering(20)  # chunks of about 20 template pieces, not one per piece
    return vary(app.response_class(stream_with_context(stream), mimetype="text/html"))


def _evidence_batch(batch):
    if not batch:
        return
    evidence = evidence_for(g.project.id, results=[result.id for result, _p, _a in batch])
    for result, indicators, activities in batch:
        yield result, indicators, activities, evidence.result(result.id)


@bp.route("/healthz")
@public
def healthz():
    """200 when the database answers a query, 503 when it does not."""
    if database_answers(db.session):
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "unavailable", "database": "not answering"}, 503
