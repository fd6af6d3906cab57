"""Reports for the donor: the IPTT page and the progress report of a reporting period
(a printable page and the same content as a .docx).

Who: reading them needs ``project.view`` (everyone on the project); downloading the .docx is
an export (``export``: managers, liaisons, auditors), in the audit trail like every export.
Periods are written in URLs as ISO dates: ``/projects/<id>/reports/2016-07-01/2016-12-31``,
or ``/projects/<id>/reports?period=2016-07-01..2016-12-31`` (redirected there).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..downloads import name_download
from ..htmx import commit_once, render, vary
from ..paging import page_arg
from ..permissions import requires
from . import docx_report, shown
from .iptt import iptt_page, iptt_stream, periods_of
from .services import progress_report, record_download, reporting_period

bp = Blueprint("reports", __name__)


@bp.context_processor
def report_helpers():
    """``shown``: how the reports write their figures (the same in the .docx)."""
    return {"shown": shown}

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.route("/projects/<int:project_id>/iptt")
@requires("project.view")
def iptt(project_id):
    """The IPTT a page of indicators at a time (``?page=N``; htmx asks for the next page's rows
    only: "load more"); ``?all=1`` is the printable table with every indicator, streamed."""
    if request.args.get("all") == "1":
        return _printable_iptt()
    table = iptt_page(g.project, page_arg(request.args))
    return render("reports/iptt.html", "reports/_iptt_rows.html", table=table, periods=table.periods,
                  groups=table.groups, framework=table.framework)


def _printable_iptt():
    generate_csrf()  # the session must hold the page's token before the headers leave
    app = current_app._get_current_object()
    periods, groups = iptt_stream(g.project)
    context = {"periods": periods, "groups": groups, "printable": True}
    app.update_template_context(context)
    stream = app.jinja_env.get_template("reports/iptt_print.html").stream(context)
    stream.enable_buffering(20)
    return vary(app.response_class(stream_with_context(stream), mimetype="text/html"))


def _period_or_404(start: str, end: str):
    period = reporting_period(g.project.id, start, end)
    if period is None:
        abort(404)
    return period


@bp.route("/projects/<int:project_id>/reports")
@requires("project.view")
def index(project_id):
    """The reporting periods, each with its progress report; ``?period=START..END`` opens one."""
    chosen = request.args.get("period", "")
    if chosen:
        start, _sep, end = chosen.partition("..")
        start, end = _period_or_404(start.strip(), end.strip())
        return redirect(url_for("reports.progress", project_id=project_id, start=start.isoformat(),
                                end=end.isoformat()), 303)
    return render_template("reports/index.html", periods=periods_of(g.project))


@bp.route("/projects/<int:project_id>/reports/<start>/<end>")
@requires("project.view")
def progress(project_id, start, end):
    """The progress report of one reporting period, as one printable page."""
    start, end = _period_or_404(start, end)
    report = progress_report(g.project, start, end)
    return render_template("reports/progress.html", report=report, periods=periods_of(g.project),
                           budget_sentence=docx_report.budget_sentence(report),
                           approval_sentence=docx_report.approval_sentence(report))


@bp.route("/projects/<int:project_id>/reports/<start>/<end>/report.docx")
@requires("export")
def progress_docx(project_id, start, end):
    """The same progress report as a Word document (.docx), in the audit trail as an export."""
    start, end = _period_or_404(start, end)

    def export():
        report = progress_report(g.project, start, end)
        data = docx_report.build(report, generated_by=current_user.name)
        record_download(g.project, report.period, "docx")
        return data

    response = current_app.response_class(commit_once(export), mimetype=DOCX_MIME)
    return name_download(response, docx_report.filename(g.project, start, end))
