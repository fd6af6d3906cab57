"""Exports pages: the donor's workbook, CSV per sheet, IATI XML and the logframe template.
(The workbook import has its own area: ``tracker.imports``.)

Who: exports need ``export`` (managers, liaisons, auditors, admins). Every export is written
to the audit trail.
"""

import io
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user

from ..extensions import db
from ..htmx import is_htmx, render
from ..permissions import logged_in, requires
from . import jobs
from .csv_export import sheet_csv
from .forms import EmptyForm
from .iati import build_activity_xml
from .services import (
    SHEET_SLUGS,
    ExportContext,
    export_filename,
    illustrative_notice,
    read_snapshot,
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


def _background_threshold() -> int:
    return int(current_app.config.get("EXPORT_BACKGROUND_ROWS", BACKGROUND_ROWS))


# --- The exports page -------------------------------------------------------------------------

@bp.route("/projects/<int:project_id>/exports")
@requires("export")
def index(project_id):
    """Downloads (workbook, CSV per sheet, IATI, template) and, for managers, the import."""
    estimate = row_estimate(project_id)
    ctx = ExportContext(g.project, _who())
    return render_template(
        "exports/index.html",
        sheets=sheets(ctx), estimate=estimate, large=estimate > _background_threshold(),
        notice=illustrative_notice(g.project), job_form=EmptyForm(), job=None,
    )


# --- Downloads --------------------------------------------------------------------------------

@bp.route("/projects/<int:project_id>/export.xlsx")
@requires("export")
def workbook(project_id):
    """The donor's workbook, written to a temporary file under instance/ and sent."""
    directory = jobs.jobs_dir()
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix="direct-", suffix=".xlsx", delete=False)
    handle.close()
    path = Path(handle.name)
    try:
        with read_snapshot():
            rows = write_workbook(ExportContext(g.project, _who()), path)
        record_export(g.project, "xlsx", rows=rows)
        db.session.commit()
    except Exception:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    response = send_file(path, mimetype=XLSX_MIME, as_attachment=True,
                         download_name=export_filename(g.project, "xlsx"), max_age=0)
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


@bp.route("/projects/<int:project_id>/export/<slug>.csv")
@requires("export")
def sheet_as_csv(project_id, slug):
    """One sheet as CSV (UTF-8 with BOM, formula-safe). Written to a spooled temporary file
    (memory, then disk) inside one read snapshot, so the database is not held while the file
    travels to the browser."""
    if slug not in SHEET_SLUGS:
        abort(404)
    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024, dir=jobs.jobs_dir())
    with read_snapshot():
        for chunk in sheet_csv(sheet_by_slug(ExportContext(g.project, _who()), slug)):
            buffer.write(chunk.encode("utf-8"))
    record_export(g.project, "csv", sheet=slug)
    db.session.commit()
    buffer.seek(0)
    return send_file(buffer, mimetype="text/csv", as_attachment=True,
                     download_name=export_filename(g.project, "csv", slug), max_age=0)


@bp.route("/projects/<int:project_id>/export.iati.xml")
@requires("export")
def iati(project_id):
    """The project as an IATI 2.03 activity file."""
    with read_snapshot():
        xml = build_activity_xml(g.project)
    record_export(g.project, "iati")
    db.session.commit()
    response = Response(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export_filename(g.project, "xml", "iati")}"')
    return response


@bp.route("/exports/logframe-template.xlsx")
@logged_in
def template():
    """The blank logframe template (no project data in it)."""
    buffer = io.BytesIO()
    write_template(buffer, generated_by=_who())
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIME, as_attachment=True, download_name="logframe-template.xlsx",
                     max_age=0)


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
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    job = jobs.start(g.project, current_user)
    record_export(g.project, "xlsx", background=True)
    db.session.commit()
    if is_htmx():
        return render("exports/job.html", "exports/_job.html", job=job)
    return redirect(url_for("exports.job_status", project_id=project_id, job_id=job.id), 303)


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
    return send_file(path, mimetype=XLSX_MIME, as_attachment=True,
                     download_name=export_filename(g.project, "xlsx"), max_age=0)
