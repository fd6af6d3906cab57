"""The import pages: upload a workbook, see its dry run, apply it.

Who: a project's import needs ``import`` (managers, admins); creating a new project from a
workbook is for admins. The dry run writes nothing (``plan.dry_run``); applying re-runs the
same import and commits once through the write path (``htmx.write``), all or nothing, in
the audit trail. A plan that moved on since the dry run is a conflict (409) showing the new one.
"""

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..htmx import is_htmx, last_errors, render, write
from ..models import Project
from ..permissions import admin_only, requires
from . import plan as plans
from . import uploads
from .forms import ApplyImportForm, ImportForm

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
    """Check the uploaded workbook and show what it would change.

    It goes through the write path like every POST, but writes nothing: the plan runs the
    services inside a savepoint that it rolls back (``plans.dry_run``).
    """
    form = ImportForm()
    uploaded = {}

    def check():
        upload = form.workbook.data
        uploaded["data"], uploaded["filename"] = upload.read(), upload.filename or ""
        return plans.dry_run(uploaded["data"], uploaded["filename"], current_user, project)

    def done(plan):
        token = None
        if plan.ok and plan.changes:
            token = uploads.keep_upload(uploaded["data"], uploaded["filename"], project.id if project else None,
                                        current_user.id, plan.fingerprint())
        return _show(200 if plan.ok else 422, form, plan, token, **context)

    def again(status):
        # The file as a whole was refused: its message belongs next to the upload field.
        form.workbook.errors = [*form.workbook.errors, *form.form_errors]
        form.form_errors.clear()
        return _show(status, form, None, None, **context)

    return write(check, form=form, done=done, again=again)


def _apply(project: Project | None, **context):
    """Apply a dry run: re-run the import on the stored upload and commit once (all or nothing)."""
    form = ApplyImportForm()
    if not form.validate_on_submit():
        abort(400)
    stored = uploads.load_upload(form.token.data)
    expected = project.id if project else None
    if stored is None or stored[1].get("project_id") != expected or stored[1].get("user_id") != current_user.id:
        return _message(_("This dry run is no longer available (it was applied or has expired). Upload the workbook "
                          "again."), 409, **context)
    data, meta = stored
    moved = {}

    def apply():
        try:
            return plans.apply(data, meta, form.fingerprint.data, current_user, project)
        except plans.PlanMovedOn as error:  # a conflict: rolled back by the write path, shown below
            moved["plan"] = error.plan
            raise

    def done(plan):
        uploads.discard_upload(form.token.data)
        flash(_("Imported %(name)s: %(created)s created, %(changed)s changed. The changes are in the audit trail.",
                name=meta["filename"] or _("the workbook"), created=plan.creates, changed=plan.updates), "success")
        destination = (url_for("imports.import_page", project_id=plan.project.id) if project is not None
                       else url_for("projects.overview", project_id=plan.project.id))
        if is_htmx():
            response = Response(status=204)
            response.headers["HX-Redirect"] = destination
            return response
        return redirect(destination, 303)

    def again(status):
        if "plan" in moved:
            uploads.discard_upload(form.token.data)
            fresh = moved["plan"]
            token = (uploads.keep_upload(data, meta["filename"], expected, current_user.id, fresh.fingerprint())
                     if fresh.ok and fresh.changes else None)
            return _show(409, None, fresh, token, moved_on=True, **context)
        suffix = " " + _("Nothing was changed.") if status == 422 else ""
        return _message(" ".join(last_errors()) + suffix, status, **context)

    return write(apply, done=done, again=again)


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
