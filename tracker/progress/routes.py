"""Activities, weekly logs and the week page.

Each view answers a plain request with a full page (POST then 303) and an htmx request with
the activity's row fragment (``progress/_activity_row.html``), plus the counters and, on the
week page, the week's summary, swapped out of band from the same response. Every save goes
through ``htmx.write``: load or 404, permission, form, one service call.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..concurrency import answer_earlier, remember_submission
from ..formatting import week_range
from ..forms import choice_list
from ..htmx import commit_once, fragment_response, is_htmx, vary, write
from ..permissions import requires
from . import services
from .forms import ActivityForm, LogForm, MoveForm
from .rows import progress_row_words

bp = Blueprint("progress", __name__)
bp.add_app_template_global(progress_row_words)

CONTEXTS = ("activities", "week")
ROW_COLUMNS = 6  # columns of an activity row (progress/_activity_head.html)


# ---------------------------------------------------------------------------------------------
# Helpers


def _week_arg(value: str | None) -> str:
    """The page's week from the URL (default: see services.default_week); 404 when malformed."""
    if not value:
        return services.default_week(g.project)
    return services.week_or_none(value) or abort(404)


def _context_arg(value: str | None) -> str:
    return value if value in CONTEXTS else "activities"


def _activity_or_404(activity_id: int):
    activity = services.load_activity(g.project, activity_id)
    if activity is None:
        abort(404)
    return activity


def _page_url(context: str, week: str) -> str:
    if context == "week":
        return url_for("progress.week", project_id=g.project.id, week=week)
    return url_for("progress.activities", project_id=g.project.id, week=week)


def _row_response(row, *, mode="view", form=None, status=200, context="activities", conflict=False,
                  saved=False):
    """The activity's row for htmx; after a save also the counters (and week summary) out of band."""
    extra = {}
    if saved:
        extra["counters"] = services.counters(g.project, row.week)
        if context == "week":
            extra["logs"], extra["logs_total"] = services.week_logs_page(g.project, row.week)
    return fragment_response("progress/_row_response.html", status, row=row, mode=mode, form=form, context=context,
                             conflict=conflict, columns=ROW_COLUMNS, **extra)


def _saved(message: str, url: str):
    flash(message, "success")
    return redirect(url, 303)


# ---------------------------------------------------------------------------------------------
# Pages


def _page_arg() -> int:
    """``?page=N`` (1 when missing or malformed; past the last page shows the last)."""
    raw = request.args.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**6 else 1


def _more_rows() -> bool:
    """An htmx "load more": only the next page's rows (and the next "load more") are answered."""
    return is_htmx() and "page" in request.args


@bp.route("/projects/<int:project_id>/activities")
@requires("project.view")
def activities(project_id):
    """Activities under their results, each with its log state for the chosen week, a page of
    activities at a time (``?page=N``; htmx asks for the next page's rows only: "load more")."""
    week = _week_arg(request.args.get("week"))
    paged = services.activity_page(g.project, week, _page_arg())
    if _more_rows():
        return fragment_response("progress/_activity_rows.html", 200, paged=paged, week=week,
                                 context="activities", columns=ROW_COLUMNS)
    return vary(render_template(
        "progress/activities.html", week=week, paged=paged,
        counters=services.counters(g.project, week), context="activities", columns=ROW_COLUMNS,
        prev_next=services.neighbour_weeks(g.project, week),
        in_project=services.week_in_project(g.project, week)))


@bp.route("/projects/<int:project_id>/week")
@bp.route("/projects/<int:project_id>/week/<week>")
@requires("project.view")
def week(project_id, week=None):
    """What needs doing this week: due logs, periods without actuals, queried evidence, the summary."""
    if week is None and request.args.get("week"):  # the week picker (a GET form) -> the week's own address
        return redirect(url_for("progress.week", project_id=project_id, week=_week_arg(request.args["week"])))
    week = _week_arg(week)
    due = services.due_page(g.project, week, _page_arg())
    if _more_rows():
        return fragment_response("progress/_due_rows.html", 200, due=due, week=week, context="week",
                                 columns=ROW_COLUMNS)
    start, end = week_range(week)
    previous, following = services.neighbour_weeks(g.project, week)
    periods, periods_total = services.periods_without_actual_page(g.project, week)
    queried, queried_total = services.queried_evidence_page(g.project)
    # The week's summary sits below everything else: the page carries its heading and links,
    # and htmx fetches the logs when it is scrolled into view (week_summary, HX-Request).
    return vary(render_template(
        "progress/week.html", week=week, start=start, end=end, previous=previous, following=following,
        in_project=services.week_in_project(g.project, week),
        due=due, counters=services.counters(g.project, week),
        periods=periods, periods_total=periods_total, queried=queried, queried_total=queried_total,
        context="week", columns=ROW_COLUMNS,
        evidence_url=_evidence_url()))


def _evidence_url(**args) -> str | None:
    """The evidence register's address when that page exists (another area builds it)."""
    if "evidence.register" in current_app.view_functions:
        return url_for("evidence.register", project_id=g.project.id, **args)
    return None


@bp.route("/projects/<int:project_id>/week/<week>/summary")
@requires("project.view")
def week_summary(project_id, week):
    """The week's logs alone, laid out for printing; for htmx the week page's summary section
    (its first logs and a link here for the rest), fetched when the section is revealed."""
    week = _week_arg(week)
    if is_htmx():
        logs, logs_total = services.week_logs_page(g.project, week)
        return fragment_response("progress/_week_summary.html", 200, week=week, logs=logs, logs_total=logs_total)
    start, end = week_range(week)
    return vary(render_template("progress/summary.html", week=week, start=start, end=end,
                                logs=services.week_logs(g.project, week)))


@bp.route("/projects/<int:project_id>/week/<week>/summary.txt")
@requires("project.view")
def week_summary_text(project_id, week):
    """The week's logs as plain text, to paste into an email."""
    week = _week_arg(week)
    text = services.summary_text(g.project, week, services.week_logs(g.project, week))
    return Response(text, mimetype="text/plain; charset=utf-8")


@bp.route("/projects/<int:project_id>/activities/<int:activity_id>")
@requires("project.view")
def activity(project_id, activity_id):
    """An activity and its weekly logs (full page); its row on the list (htmx, e.g. after Cancel)."""
    item = _activity_or_404(activity_id)
    week = _week_arg(request.args.get("week"))
    context = _context_arg(request.args.get("context"))
    if is_htmx():
        return _row_response(services.activity_row(item, week), context=context)
    logs = sorted(item.logs, key=lambda log: log.week_start, reverse=True)
    return vary(render_template("progress/activity.html", activity=item, logs=logs, week=week,
                                evidence=services.linked_evidence(item)))


# ---------------------------------------------------------------------------------------------
# Weekly log


def _log_prefix(item) -> str:
    """Each row's form has its own field names and ids, so several can be open on one page."""
    return f"log-{item.id}"


def _fallback_week(form) -> str:
    return services.week_or_none(form.week.data) or services.default_week(g.project)


def _log_page(item, form, context: str, page_week: str, status: int = 200):
    """The log form: in the activity's row (htmx) or on its own page."""
    row = services.activity_row(item, page_week)
    if is_htmx():
        return _row_response(row, mode="log", form=form, status=status, context=context, conflict=status == 409)
    return vary((render_template("progress/log.html", row=row, activity=item, form=form, context=context,
                                 conflict=status == 409, back_url=_page_url(context, page_week)), status))


def _log_saved(item, saved, context: str, page_week: str | None):
    page_week = page_week or saved.iso_week
    if is_htmx():
        return _row_response(services.activity_row(item, page_week), context=context, saved=True)
    return _saved(_("Saved the log of %(code)s for week %(week)s.", code=item.code, week=saved.iso_week),
                  _page_url(context, page_week))


@bp.route("/projects/<int:project_id>/activities/<int:activity_id>/log", methods=["GET", "POST"])
@requires("progress.log")
def log(project_id, activity_id):
    """Log a week of an activity (saving a week again updates its log)."""
    item = _activity_or_404(activity_id)
    evidence = choice_list(services.evidence_choices(g.project))
    if request.method == "GET":
        week = _week_arg(request.args.get("week"))
        form = LogForm.for_week(item, week, _context_arg(request.args.get("context")),
                                services.activity_row(item, week).log, prefix=_log_prefix(item))
        form.evidence.choices = evidence
        page_week = _week_arg(request.args.get("page_week")) if request.args.get("page_week") else week
        return _log_page(item, form, form.context.data, page_week)
    form = LogForm(prefix=_log_prefix(item))
    form.evidence.choices = evidence
    context = _context_arg(form.context.data)
    page_week = _week_arg(request.form.get("page_week")) if request.form.get("page_week") else None
    return write(lambda: services.log_week(item, form.log_input(), current_user, form.version.data), form=form,
                 done=lambda saved: _log_saved(item, saved, context, page_week),
                 again=lambda status: _log_page(item, form, context, page_week or _fallback_week(form), status))


# ---------------------------------------------------------------------------------------------
# Activities (managers)


def _result_choices():
    return choice_list(services.activity_result_choices(g.project))


@bp.route("/projects/<int:project_id>/activities/new", methods=["GET", "POST"])
@requires("framework.edit")
def new_activity(project_id):
    """Add an activity under a result."""
    form = ActivityForm()
    form.result_id.choices = _result_choices()

    def again(status=200):
        return render_template("progress/activity_form.html", form=form, activity=None, conflict=False), status

    if request.method == "GET":
        return again()
    def change():
        created = services.create_activity(g.project, form.activity_input(), current_user)
        remember_submission(form.form_token.data, current_user,
                            url_for("progress.activity", project_id=project_id, activity_id=created.id))
        return created

    earlier = answer_earlier(form.form_token.data, current_user)
    if earlier is not None:
        return earlier
    return write(change, form=form, again=again, done=lambda created: _saved(
        _("Added activity %(code)s.", code=created.code),
        url_for("progress.activities", project_id=project_id) + f"#activity-{created.id}"))


@bp.route("/projects/<int:project_id>/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@requires("framework.edit")
def edit_activity(project_id, activity_id):
    """Change an activity: inline on its row (htmx) or on its own page."""
    item = _activity_or_404(activity_id)
    source = request.form if request.method == "POST" else request.args
    context = _context_arg(source.get("context"))
    page_week = _week_arg(source.get("page_week"))
    prefix = f"activity-{item.id}"
    form = ActivityForm(prefix=prefix) if request.method == "POST" else ActivityForm.for_activity(item, prefix=prefix)
    form.result_id.choices = _result_choices()

    def again(status=200):
        if is_htmx():
            return _row_response(services.activity_row(item, page_week), mode="edit", form=form, status=status,
                                 context=context, conflict=status == 409)
        return vary((render_template("progress/activity_form.html", form=form, activity=item,
                                     conflict=status == 409, context=context, page_week=page_week), status))

    def done(_result):
        if is_htmx():
            return _row_response(services.activity_row(item, page_week), context=context, saved=True)
        return _saved(_("Saved activity %(code)s.", code=item.code), _page_url(context, page_week) + f"#activity-{item.id}")

    if request.method == "GET":
        return again()
    return write(lambda: services.update_activity(item, form.activity_input(), form.version.data, current_user),
                 form=form, done=done, again=again)


@bp.route("/projects/<int:project_id>/activities/<int:activity_id>/move", methods=["POST"])
@requires("framework.edit")
def move_activity(project_id, activity_id):
    """Move an activity up or down among the activities of its result."""
    item = _activity_or_404(activity_id)
    form = MoveForm()
    week = _week_arg(request.form.get("page_week"))
    if not form.validate() or form.direction.data not in ("up", "down"):
        abort(400)
    commit_once(lambda: services.move_activity(item, form.direction.data, current_user))
    if is_htmx():
        paged = services.activity_page(g.project, week, through_activity=item.id)
        return fragment_response("progress/_activity_table.html", paged=paged, week=week,
                                 context="activities", columns=ROW_COLUMNS)
    return vary(redirect(url_for("progress.activities", project_id=project_id, week=week)
                         + f"#activity-{item.id}", 303))
