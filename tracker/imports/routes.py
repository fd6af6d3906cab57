"""The import pages: upload a workbook, see its dry run, apply it.

Who: a project's import needs ``import`` (managers, admins); creating a new project from a
workbook is for admins. The dry run writes nothing (``plan.dry_run``); applying re-runs the
same import and commits once through the write path (``htmx.commit_once``), all or nothing,
in the audit trail.
"""

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..concurrency import ConflictError
from ..htmx import SAVED_MEANWHILE, commit_once, is_htmx, render
from ..models import Project
from ..permissions import admin_only, requires
from ..validation import InputError
from . import plan as plans
from . import uploads
from .forms import ApplyImportForm, ImportForm
from .package import ImportRefused

bp = Blueprint("imports", __name__)
PAGE, FRAGMENT = "imports/import.html", "imports/_import.html"


def _show(status: int = 200, form=None, plan=None, token=None, **context):
    apply_form = ApplyImportForm(formdata=None, token=token, fingerprint=plan.fingerprint() if plan else "")
    return render(PAGE, FRAGMENT, status=status, form=form or ImportForm(formdata=None), plan=plan,
                  apply_form=apply_form, **context)


def _message(message: str, status: int, **context):
    form = ImportForm(formdata=None)
    form.workbook.errors = [message]
    return _show(status, form, **context)


def _dry_run(project: Project | None, **context):
    """Check the uploaded workbook and show what it would change (writes nothing)."""
    form = ImportForm()
    plan, token = None, None
    if form.validate_on_submit():
        upload = form.workbook.data
        data, filename = upload.read(), upload.filename or ""
        try:
            plan = plans.dry_run(data, filename, current_user, project)
        except ImportRefused as error:
            form.workbook.errors.append(str(error))
        if plan is not None and plan.ok and plan.changes:
            token = uploads.keep_upload(data, filename, project.id if project else None, current_user.id,
                                        plan.fingerprint())
    status = 200 if plan is not None and plan.ok else 422
    return _show(status, form, plan, token, **context)


def _apply(project: Project | None, **context):
    """Apply a dry run: re-run the import on the stored upload and commit once (all or nothing)."""
    form = ApplyImportForm()
    if not form.validate_on_submit():
        abort(400)
    stored = uploads.load_upload(form.token.data)
    expected = project.id if project else None
    if stored is None or stored[1].get("project_id") != expected or stored[1].get("user_id") != current_user.id:
        return _message("This dry run is no longer available (it was applied or has expired). Upload the workbook "
                        "again.", 409, **context)
    data, meta = stored
    try:
        plan = commit_once(lambda: plans.apply(data, meta, form.fingerprint.data, current_user, project))
    except plans.PlanMovedOn as moved:
        uploads.discard_upload(form.token.data)
        fresh = moved.plan
        token = (uploads.keep_upload(data, meta["filename"], expected, current_user.id, fresh.fingerprint())
                 if fresh.ok and fresh.changes else None)
        return _show(409, None, fresh, token, moved_on=True, **context)
    except InputError as error:
        return _message(f"{error} Nothing was changed.", 422, **context)
    except (ConflictError, StaleDataError, IntegrityError):
        return _message(SAVED_MEANWHILE, 409, **context)
    uploads.discard_upload(form.token.data)
    flash(f"Imported {meta['filename'] or 'the workbook'}: {plan.creates} created, {plan.updates} changed. "
          "The changes are in the audit trail.", "success")
    target_id = plan.project.id
    destination = (url_for("imports.import_page", project_id=target_id) if project is not None
                   else url_for("projects.overview", project_id=target_id))
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = destination
        return response
    return redirect(destination, 303)


@bp.route("/projects/<int:project_id>/import", methods=["GET", "POST"])
@requires("import")
def import_page(project_id):
    """Upload a workbook to update the project's targets and actuals. POST is the dry run:
    every create, change and problem is listed; nothing is written."""
    if request.method == "POST":
        return _dry_run(g.project, mode="update")
    return _show(mode="update")


@bp.route("/projects/<int:project_id>/import/apply", methods=["POST"])
@requires("import")
def import_apply(project_id):
    """Apply the dry run in one transaction (all or nothing)."""
    return _apply(g.project, mode="update")


@bp.route("/imports/new-project", methods=["GET", "POST"])
@admin_only
def new_project_page():
    """Create a project from a filled-in logframe template (admins). POST is the dry run."""
    if request.method == "POST":
        return _dry_run(None, mode="create")
    return _show(mode="create")


@bp.route("/imports/new-project/apply", methods=["POST"])
@admin_only
def new_project_apply():
    """Create the project from the dry run, in one transaction."""
    return _apply(None, mode="create")
