"""Audit pages: a record's history panel, the project's trail with filters, its exports.

Every view here needs ``audit.view`` (managers, auditors, admins): the history panel shows
who changed what and from which address, the same facts as the trail page.
"""

from flask import Blueprint, abort, current_app, g, make_response, request, url_for
from flask_babel import gettext as _

from .. import htmx
from ..downloads import name_download
from ..forms import choice_list
from ..permissions import requires
from ..validation import parse_id
from . import services
from .forms import TrailFilterForm

bp = Blueprint("audit", __name__)


@bp.route("/projects/<int:project_id>/history/<table>/<int:row_id>")
@requires("audit.view")
def history(project_id, table, row_id):
    """The changes of one record (a panel loaded lazily by htmx, or a page of its own)."""
    if table not in services.audited_tables():
        abort(404)
    entries = services.record_history(project_id, table, row_id)
    return htmx.render("audit/history.html", "audit/_history.html", entries=entries, table=table, row_id=row_id,
                  table_label=services.audited_tables()[table])


def _filter_from_request(project_id: int | None) -> tuple[TrailFilterForm, services.TrailFilter, bool]:
    """The filter form bound to the query string, and the filter built from its valid fields."""
    choices = services.filter_choices(project_id)
    form = TrailFilterForm(request.args)
    form.actor.choices = choice_list([("", _("Anyone")), *((a, a) for a in choices["actors"])])
    form.action.choices = choice_list([("", _("Any action")), *((a, services.action_label(a)) for a in choices["actions"])])
    form.table.choices = choice_list([("", _("Any record")), *services.audited_tables().items()])
    valid = form.validate()
    flt = services.TrailFilter()
    for name in ("actor", "action", "table", "row_id", "date_from", "date_to"):
        field = getattr(form, name)
        if not field.errors and field.data not in (None, ""):
            setattr(flt, name, field.data)
    flt.page = parse_id(request.args.get("page")) or 1  # a positive whole number; the service clamps it
    return form, flt, valid


def trail_response(project_id: int | None, page: str, links: dict):
    """The trail page (or its fragment for htmx) of one project or of the system scope.

    ``links`` holds the base URLs of the trail and its two exports; the filter is added to
    them as a query string, so every link keeps it.
    """
    form, flt, valid = _filter_from_request(project_id)
    result = services.trail_page(project_id, flt, int(current_app.config["PAGE_SIZE"]))
    flt.page = result.page
    return htmx.render(page, "audit/_trail.html", status=200 if valid else 422, form=form, flt=flt, result=result,
                  links=links, history_project_id=project_id, history_tables=services.audited_tables())


def export_response(project_id: int | None, file_format: str, scope_name: str):
    """The filtered trail as a download; the export is itself recorded in the trail (one commit)."""
    _form, flt, _valid = _filter_from_request(project_id)
    download = htmx.commit_once(lambda: services.export_trail(project_id, flt, file_format, scope_name))
    response = make_response(download.content)
    response.mimetype = download.mimetype
    if download.mimetype.startswith("text/"):
        response.headers["Content-Type"] = f"{download.mimetype}; charset=utf-8"
    name_download(response, download.file_name)  # the project's code may hold a quote or a line break
    return response


def _project_links(project_id: int) -> dict:
    return {"trail": url_for("audit.trail", project_id=project_id),
            "csv": url_for("audit.export_csv", project_id=project_id),
            "xlsx": url_for("audit.export_xlsx", project_id=project_id)}


@bp.route("/projects/<int:project_id>/audit")
@requires("audit.view")
def trail(project_id):
    """The project's audit trail, newest first, filtered and paged; filters live in the URL."""
    return trail_response(project_id, "audit/trail.html", _project_links(project_id))


@bp.route("/projects/<int:project_id>/audit/export.csv")
@requires("audit.view")
def export_csv(project_id):
    """The filtered trail as CSV (UTF-8 with BOM; text that looks like a formula stays text)."""
    return export_response(project_id, "csv", g.project.code)


@bp.route("/projects/<int:project_id>/audit/export.xlsx")
@requires("audit.view")
def export_xlsx(project_id):
    """The filtered trail as an Excel workbook."""
    return export_response(project_id, "xlsx", g.project.code)


@bp.app_template_global()
def audit_table_label(table: str) -> str:
    """A table's name as people read it ("indicator period"), in the request's language."""
    return services.table_label(table)
