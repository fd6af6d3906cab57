"""Exports pages: the donor's workbook, CSV per sheet, IATI XML and the logframe template.
(The workbook import has its own area: ``tracker.imports``.)

Who: exports need ``export`` (managers, liaisons, auditors, admins). Every export is written
to the audit trail.
"""

import io
import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user

from ..downloads import name_download
from ..forms import EmptyForm
from ..htmx import commit_once, is_htmx, render, write
from ..permissions import logged_in, requires
from . import jobs
from .columns import SHEET_SLUGS
from .csv_export import sheet_csv
from .iati import build_activity_xml
from .language import LANGUAGE_NAMES, LANGUAGES, chosen
from .services import (
    ExportContext,
    export_act,
    export_filename,
    illustrative_notice,
    record_export,
    row_estimate,
    sheet_by_slug,
    sheets,
)
from .workbook import write_template, write_workbook

bp = Blueprint("exports", __name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BACKGROUND_ROWS = 5_000  # above this many rows the page prepares the workbook in the background


def _who() -> str:
    return f"{current_user.name} <{current_user.email}>"


def _language() -> str:
    """The export's language: ``?lang=`` (or the job form's ``lang``), else the person's own
    interface language ('en' or 'vi'); 'both' writes bilingual headers and labels."""
    return chosen(request.values.get("lang"), default=chosen(str(get_locale() or "en")))


def _background_threshold() -> int:
    return int(current_app.config.get("EXPORT_BACKGROUND_ROWS", BACKGROUND_ROWS))


# --- The exports page -------------------------------------------------------------------------

@bp.route("/projects/<int:project_id>/exports")
@requires("export")
def index(project_id):
    """Downloads (workbook, CSV per sheet, IATI, template) and, for managers, the import."""
    estimate = row_estimate(project_id)
    language = _language()
    ctx = ExportContext(g.project, _who(), language=language)
    return render_template(
        "exports/index.html",
        sheets=sheets(ctx), estimate=estimate, large=estimate > _background_threshold(),
        notice=illustrative_notice(g.project), job_form=EmptyForm(), job=None,
        lang=language, languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )


# --- Downloads --------------------------------------------------------------------------------

@bp.route("/projects/<int:project_id>/export.xlsx")
@requires("export")
def workbook(project_id):
    """The donor's workbook, written to a file under instance/exports/ and sent (the file is
    gone once sent, or at once if writing fails)."""
    ctx = ExportContext(g.project, _who(), language=_language())
    with jobs.one_off_file() as path:
        def export():
            with export_act(g.project, "xlsx", language=ctx.language) as details:
                details["rows"] = write_workbook(ctx, path)

        commit_once(export)
        return name_download(jobs.send_and_remove(path, mimetype=XLSX_MIME, as_attachment=True,
                                                  download_name="download.xlsx", max_age=0),
                             export_filename(g.project, "xlsx", language=ctx.language))


@bp.route("/projects/<int:project_id>/export/<slug>.csv")
@requires("export")
def sheet_as_csv(project_id, slug):
    """One sheet as CSV (UTF-8 with BOM, formula-safe). Written to a spooled temporary file
    (memory, then disk) inside one read snapshot, so the database is not held while the file
    travels to the browser."""
    if slug not in SHEET_SLUGS:
        abort(404)
    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024, dir=jobs.jobs_dir())
    language = _language()

    def export():
        with export_act(g.project, "csv", sheet=slug, language=language):
            for chunk in sheet_csv(sheet_by_slug(ExportContext(g.project, _who(), language=language), slug)):
                buffer.write(chunk.encode("utf-8"))

    commit_once(export)
    buffer.seek(0)
    return name_download(send_file(buffer, mimetype="text/csv", as_attachment=True, download_name="download.csv",
                                   max_age=0), export_filename(g.project, "csv", slug, language=language))


@bp.route("/projects/<int:project_id>/export.iati.xml")
@requires("export")
def iati(project_id):
    """The project as an IATI 2.03 activity file."""
    def export():
        with export_act(g.project, "iati"):
            return build_activity_xml(g.project)

    response = Response(commit_once(export), mimetype="application/xml")
    return name_download(response, export_filename(g.project, "xml", "iati"))


@bp.route("/exports/logframe-template.xlsx")
@logged_in
def template():
    """The blank logframe template (no project data in it), in the person's language (``?lang=``
    en, vi or both, as the exports)."""
    buffer = io.BytesIO()
    write_template(buffer, generated_by=_who(), language=_language())
    buffer.seek(0)
    return name_download(send_file(buffer, mimetype=XLSX_MIME, as_attachment=True, download_name="download.xlsx",
                                   max_age=0), "logframe-template.xlsx")


# --- Large workbooks in the background --------------------------------------------------------

def _job_or_404(job_id: str) -> jobs.Job:
    """The job of this project (its id is random and unguessable; anyone who may export the
    project may follow it), else 404."""
    job = jobs.load(job_id)
    if job is None or job.project_id != g.project.id:
        abort(404)
    return job


@bp.route("/projects/<int:project_id>/export/jobs", methods=["POST"])
@requires("export")
def start_job(project_id):
    """Start preparing the workbook; the page then polls its progress."""
    language = _language()

    def start():
        job = jobs.start(g.project, current_user, language)
        record_export(g.project, "xlsx", background=True, language=language)
        return job

    def started(job):
        if is_htmx():
            return render("exports/job.html", "exports/_job.html", job=job)
        return redirect(url_for("exports.job_status", project_id=project_id, job_id=job.id), 303)

    return write(start, form=EmptyForm(), done=started, again=lambda _status: abort(400))


@bp.route("/projects/<int:project_id>/export/jobs/<job_id>")
@requires("export")
def job_status(project_id, job_id):
    """How far the workbook is (htmx polls this fragment until it is ready)."""
    return render("exports/job.html", "exports/_job.html", job=_job_or_404(job_id))


@bp.route("/projects/<int:project_id>/export/jobs/<job_id>/file")
@requires("export")
def job_file(project_id, job_id):
    """The prepared workbook."""
    job = _job_or_404(job_id)
    path = jobs.file_path(job)
    if job.state != "done" or not path.exists():
        abort(404)
    return name_download(send_file(path, mimetype=XLSX_MIME, as_attachment=True, download_name="download.xlsx",
                                   max_age=0), export_filename(g.project, "xlsx", language=job.language))
