"""Needs your action (the inbox page and its counts in the navigation), bulk submit and approve
of one reporting period, and the helpers templates use for late badges and the dashboard strip.

Counts stay current after a swap: every successful htmx POST answered with HTML gets the
navigation's count elements appended as out-of-band swaps (``append_counts``, one hook for the
whole app), so an action anywhere on a page updates the badges in the same response.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from .. import paging
from ..htmx import is_htmx, render, vary, write
from ..permissions import logged_in, requires
from ..results import workflow
from ..results.values import period_label
from . import dashboard, late, services
from .forms import BulkForm

bp = Blueprint("inbox", __name__)


# ---------------------------------------------------------------------------------------------
# Template helpers


class NavCounts:
    """The navigation's badges for the logged-in person: computed once per request (two queries)."""

    def __init__(self):
        self._totals: dict[int, int] | None = None

    def _load(self) -> dict[int, int]:
        if self._totals is None:
            self._totals = services.totals_by_project(current_user) if current_user.is_authenticated else {}
        return self._totals

    @property
    def total(self) -> int:
        return sum(self._load().values())

    def project(self, project_id: int) -> int:
        return self._load().get(project_id, 0)


def nav_counts() -> NavCounts:
    if "inbox_nav" not in g:
        g.inbox_nav = NavCounts()
    return g.inbox_nav


# Projects with items listed on the landing page, and on a page of the inbox (the rest a click away).
PORTFOLIO_INBOX_PROJECTS = 5  # the landing page is a summary: the inbox lists them all
INBOX_PROJECTS_PER_PAGE = 25


def needs_action(project_id: int | None = None, *, page: int = 1, per_page: int | None = None):
    """"Needs your action" for a page: one project's overview (all of it), or the first
    ``PORTFOLIO_INBOX_PROJECTS`` projects with items on the landing page."""
    if per_page is None:
        per_page = 0 if project_id is not None else PORTFOLIO_INBOX_PROJECTS
    return services.inbox_page(current_user, project_id, page=page, per_page=per_page)


def portfolio_dashboards(items) -> dict:
    """Dashboards of the portfolio page's cards (``items``: (project, role, status) tuples)."""
    return dashboard.dashboards([project for project, *_rest in items])


def project_dashboard(project):
    return dashboard.dashboards([project])[project.id]


@bp.app_context_processor
def inbox_helpers():
    return {"inbox_nav": nav_counts, "activity_late": late.activity_is_late, "needs_action": needs_action,
            "portfolio_dashboards": portfolio_dashboards, "project_dashboard": project_dashboard,
            "inbox_kind_labels": services.KIND_LABELS}


@bp.after_app_request
def append_counts(response):
    """Out-of-band badge updates on every successful htmx POST that answers with HTML."""
    if (request.method == "POST" and is_htmx() and 200 <= response.status_code < 300
            and response.mimetype == "text/html" and not response.direct_passthrough
            and not response.is_streamed and current_user.is_authenticated):
        g.pop("inbox_nav", None)  # counted afresh, after the write's commit
        project = g.get("project")
        extra = render_template("inbox/_counts_oob.html", project_id=project.id if project is not None else None)
        response.set_data(response.get_data() + extra.encode())
    return response


# ---------------------------------------------------------------------------------------------
# Pages


@bp.route("/inbox")
@logged_in
def index():
    """Everything that needs the person's action, in all their projects."""
    groups = needs_action(page=paging.page_arg(request.args), per_page=INBOX_PROJECTS_PER_PAGE)
    return render("inbox/index.html", "inbox/_needs_action.html", groups=groups, show_project=True, paged=True)


@bp.route("/inbox/count")
@logged_in
def count():
    """The navigation badge alone (the page polls it: actions by other people change it too)."""
    return vary(render_template("inbox/_nav_count.html"))


# ---------------------------------------------------------------------------------------------
# Bulk submit and approve of one reporting period (a column of the indicator grid)


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        abort(404)  # a malformed period in the URL names no column


def _column() -> tuple:
    """The column's (start, end) from ``?start=&end=``; (None, None) when the URL names none."""
    if not request.args.get("start") and not request.args.get("end"):
        return None, None
    return _day(request.args.get("start")), _day(request.args.get("end"))


def _chosen() -> dict[int, int]:
    """``period`` values ``<id>:<version>`` -> {id: version}; anything else is ignored."""
    chosen = {}
    for value in request.form.getlist("period"):
        head, _sep, tail = value.partition(":")
        if head.isdigit() and tail.isdigit():
            chosen[int(head)] = int(tail)
    return chosen


def _returns() -> dict[int, str]:
    return {int(key[7:]): value for key, value in request.form.items()
            if key.startswith("return-") and key[7:].isdigit()}


def _bulk(action: str):
    start, end = _column()
    project = g.project
    if start is None:  # no column named: choose one
        return render("inbox/bulk_columns.html", "inbox/_bulk_columns.html", action=action,
                      columns=workflow.reporting_periods(project.id))
    periods = workflow.column_periods(project.id, start, end)
    if not periods:
        abort(404)
    form = BulkForm()
    label = period_label(start, end)
    context = {"action": action, "start": start, "end": end, "label": label, "form": form}

    def show(status: int, message: str = "", changed=()):
        candidates = workflow.bulk_candidates(workflow.column_periods(project.id, start, end), action)
        return render("inbox/bulk.html", "inbox/_bulk.html", status, candidates=candidates, message=message,
                      changed=changed, returns=_returns() if status >= 400 else {}, **context)

    if request.method == "GET":
        return show(200)

    def change():
        return workflow.bulk_step(periods, action, _chosen(), current_user, form.note.data or "", _returns())

    def done(result):
        message = _bulk_message(result, label)
        if is_htmx():
            return show(200, message, [p for group in result.values() for p in group])
        flash(message, "success")
        return redirect(url_for("results.grid", project_id=project.id) + f"#col-{start.isoformat()}", 303)

    return write(change, form=form, done=done, again=show)


def _bulk_message(result: dict, label: str) -> str:
    parts = []
    if result["submitted"]:
        parts.append(ngettext("%(num)s period of %(label)s submitted for approval.",
                              "%(num)s periods of %(label)s submitted for approval.",
                              len(result["submitted"]), label=label))
    if result["approved"]:
        parts.append(ngettext("%(num)s period of %(label)s approved and locked.",
                              "%(num)s periods of %(label)s approved and locked.",
                              len(result["approved"]), label=label))
    if result["returned"]:
        parts.append(ngettext("%(num)s returned to the officer with your notes.",
                              "%(num)s returned to the officer with your notes.", len(result["returned"])))
    return " ".join(parts)


@bp.route("/projects/<int:project_id>/indicators/bulk/submit", methods=["GET", "POST"])
@requires("indicator.submit")
def bulk_submit(project_id):
    """Submit all filled actuals of one reporting period (``?start=&end=``), in one transaction."""
    return _bulk("submit")


@bp.route("/projects/<int:project_id>/indicators/bulk/approve", methods=["GET", "POST"])
@requires("indicator.approve")
def bulk_approve(project_id):
    """Approve all submitted periods of one reporting period, or return some with their own notes."""
    return _bulk("approve")
