"""Evidence pages: the register (active search), items, uploads and downloads, the auditor's workspace.

Every view: load (404 outside the project) -> permission (decorator) -> form ->
``htmx.write`` (the service, one commit; or a rollback and the form again with its errors)
-> the page, or for htmx only the fragment.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import CSP, paging
from ..concurrency import answer_earlier, remember_submission
from ..downloads import name_download
from ..forms import EmptyForm
from ..htmx import commit_once, fragment_response, is_htmx, render, vary, write
from ..models.evidence import KIND_LABELS, LANGUAGE_LABELS, LINK_TARGETS, REVIEW_STATE_LABELS
from ..permissions import can, requires
from ..redirects import safe_target
from ..validation import InputError
from . import pickers, rows, services, storage, thumbnails
from .forms import EvidenceForm, ReviewForm

bp = Blueprint("evidence", __name__)

REVIEW_CONTEXTS = ("register", "auditor", "item")
REGISTER_PAGE_SIZE = 25  # items per page of the register at most (Previous / Next, kept by the filters' URL)
AUDITOR_PAGE_SIZE = 25  # rows per list of the auditor's workspace, the rest a "load more" away
# The workspace's lists below the fold, loaded when revealed: their fragment templates.
AUDITOR_SECTIONS = {"queried": "evidence/_auditor_queried.html", "unbacked": "evidence/_auditor_unbacked.html",
                    "overspends": "evidence/_auditor_overspends.html", "rates": "budget/_confirmed_rates.html"}
REFILE_NOTE = _l("Choose the file again: a browser does not keep a chosen file when a form comes back.")


def _item_or_404(item_id: int):
    item = services.get_item(g.project.id, item_id)
    if item is None:
        abort(404)
    return item


# --------------------------------------------------------------------------------------------- register


@bp.route("/projects/<int:project_id>/evidence")
@requires("project.view")
def register(project_id):
    """The evidence register; the filters (text, kind, linked item, review state) live in the URL.

    htmx (active search) gets only the results fragment; the URL is pushed by the form.
    """
    filters = services.Filters.from_args(request.args)
    page_size = min(REGISTER_PAGE_SIZE, int(current_app.config.get("PAGE_SIZE", REGISTER_PAGE_SIZE)))
    result = services.search(project_id, filters, page_size=page_size)
    context = {"result": result, "filters": filters,
               "review_form": ReviewForm() if can("evidence.review") else None}
    if not is_htmx():
        # The coverage figures read every reported period and disbursement: htmx loads them
        # right after the page (register_coverage); ?coverage=1 shows them inline (no JavaScript).
        context.update(coverage=services.coverage(project_id) if request.args.get("coverage") == "1" else None,
                       link_options=services.linked_target_options(project_id, filters.link),
                       kinds=[(value, str(label)) for value, label in KIND_LABELS.items()])
    response = render("evidence/register.html", "evidence/_results.html", **context)
    if is_htmx():
        # The address bar gets the tidy URL of this filter (no empty parameters), to bookmark or share.
        query = filters.query_string()
        response.headers["HX-Push-Url"] = url_for("evidence.register", project_id=project_id) + (
            f"?{query}" if query else "")
    return response


@bp.route("/projects/<int:project_id>/evidence/coverage")
@requires("project.view")
def register_coverage(project_id):
    """The register's coverage figures, loaded by htmx once the register is shown."""
    return render_template("evidence/_coverage.html", coverage=services.coverage(project_id))


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>")
@requires("project.view")
def item(project_id, item_id):
    """One item: its facts, file, links, review state and review history."""
    evidence_item = _item_or_404(item_id)
    return render_template("evidence/item.html", item=evidence_item, history=services.review_history(evidence_item),
                           review_form=ReviewForm(context="item") if can("evidence.review") else None,
                           delete_form=EmptyForm())


def _queries() -> dict[str, str]:
    """The pickers' search words (``activity_q``...), from the form or the query string."""
    return {name: pickers.clean_query(request.values.get(f"{name}_q")) for name in LINK_TARGETS}


def _form_page(form: EvidenceForm, evidence_item=None, status: int = 200):
    """The add or edit form with its four link pickers (checked targets kept, searches kept)."""
    return render_template("evidence/form.html", form=form, item=evidence_item,
                           pickers=pickers.pickers(g.project.id, form.links(), _queries()),
                           back_url=safe_target(form.next.data, "") or None,
                           accept=storage.accept_attribute(), photo_accept=storage.photo_accept_attribute()), status


def _refining(form: EvidenceForm) -> bool:
    """True when the post asks for a picker's list, not a save (no JavaScript): its Search button,
    or Enter in a search box whose words changed since the form was drawn (Enter elsewhere saves)."""
    if request.form.get("refine") in LINK_TARGETS:
        return True
    if request.form.get("refine") == "enter":
        return any(request.form.get(f"{name}_q", "") != request.form.get(f"{name}_q_shown", "")
                   for name in LINK_TARGETS)
    return False


def _save(form: EvidenceForm, evidence_item=None):
    """Create (``evidence_item`` None) or change an item from the form, through the one write path."""
    chosen, file_field = form.chosen_file()

    def again(status):
        if chosen is not None and status == 422 and not getattr(form, file_field).errors:
            getattr(form, file_field).errors = [str(REFILE_NOTE)]
        return _form_page(form, evidence_item, status)

    if _refining(form):  # the list searched again; nothing is saved, the chosen file must be chosen again
        if chosen is not None:
            getattr(form, file_field).errors = [str(REFILE_NOTE)]
        return _form_page(form, evidence_item)

    def done(saved):
        flash(_("Added “%(title)s” to the evidence register.", title=saved.title) if evidence_item is None
              else _("Saved “%(title)s”.", title=saved.title), "success")
        return redirect(safe_target(form.next.data, _item_url(saved)), 303)

    def _item_url(saved):
        return url_for("evidence.item", project_id=g.project.id, item_id=saved.id)

    def change():
        if form.both_files_chosen():
            raise InputError(_("Choose a file or take a photo, not both: one item keeps one file."), field="photo")
        saved = services.save_item(g.project, evidence_item, form.values(), form.links(), file=chosen,
                                   remove_file=bool(form.remove_file.data), user=current_user,
                                   version=None if evidence_item is None else (form.version.data or ""),
                                   file_field=file_field)
        if evidence_item is None:
            remember_submission(form.form_token.data, current_user, _item_url(saved))
        return saved

    if evidence_item is None:
        earlier = answer_earlier(form.form_token.data, current_user)
        if earlier is not None:
            return earlier
    return write(change, form=form, done=done, again=again)


@bp.route("/projects/<int:project_id>/evidence/new", methods=["GET", "POST"])
@requires("evidence.edit")
def new(project_id):
    """Add an evidence item with an optional file (or a photo taken) and its links.

    ``?expenditure=7`` (from an expenditure) also fills in a receipt of the spending's date;
    ``?period=`` / ``?activity=`` link the item; ``?next=`` is where saving returns to.
    """
    form = EvidenceForm()
    if request.method == "GET":
        form.prefill_links(request.args)
        spent = request.args.getlist("expenditure")
        prefill = services.prefill_from_expenditure(project_id, spent[0]) if len(spent) == 1 else None
        if prefill:
            form.prefill(prefill)
        form.next.data = safe_target(request.args.get("next"), "")
        return _form_page(form)
    return _save(form)


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>/edit", methods=["GET", "POST"])
@requires("evidence.edit")
def edit(project_id, item_id):
    """Change an item, its file or its links (a reviewed item goes back to waiting for review)."""
    evidence_item = _item_or_404(item_id)
    if evidence_item.deleted_at is not None:
        abort(404)
    form = EvidenceForm.for_item(evidence_item) if request.method == "GET" else EvidenceForm()
    if request.method == "GET":
        form.next.data = safe_target(request.args.get("next"), "")
        return _form_page(form, evidence_item)
    return _save(form, evidence_item)


@bp.route("/projects/<int:project_id>/evidence/link-options")
@requires("evidence.edit")
def link_options(project_id):
    """One picker's checkbox list for the active search (htmx): ``?target=period&period_q=2016``
    plus the checked ids (``period_ids=4``), which stay checked and first. The status line beside
    the list travels out of band. Without htmx the same list comes in a bare page."""
    target = request.args.get("target", "")
    if target not in LINK_TARGETS:
        abort(400)
    found = pickers.picker(project_id, target, request.args.get(f"{target}_q", ""),
                           request.args.getlist(f"{target}_ids"))
    return fragment_response("evidence/_link_options.html", picker=found, oob=is_htmx())


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>/delete", methods=["POST"])
@requires("evidence.edit")
def delete(project_id, item_id):
    """Soft-delete an item: it leaves the register and the figures but stays in the trail."""
    evidence_item = _item_or_404(item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    commit_once(lambda: services.soft_delete(evidence_item))
    flash(_("Deleted “%(title)s”. It can be restored from the register's Deleted filter.", title=evidence_item.title),
          "success")
    return redirect(url_for("evidence.register", project_id=project_id), 303)


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>/restore", methods=["POST"])
@requires("evidence.edit")
def restore(project_id, item_id):
    """Bring a deleted item back."""
    evidence_item = _item_or_404(item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    commit_once(lambda: services.restore(evidence_item))
    flash(_("Restored “%(title)s”.", title=evidence_item.title), "success")
    return redirect(url_for("evidence.item", project_id=project_id, item_id=item_id), 303)


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>/file")
@requires("project.view")
def download(project_id, item_id):
    """The item's file, for the project's members only.

    Raster images and PDFs (``storage.INLINE_TYPES``) open in the browser; anything else
    downloads (``attachment``), since this answer comes from the app's own origin and an
    HTML, SVG or XML file opened in place could run script as the person viewing it. Every
    answer but a PDF's (the browser's viewer does not run in a sandbox) also carries
    ``Content-Security-Policy: sandbox`` (with the app's own policy): even opened directly, the file is a unique origin with
    no script. The browser is told not to guess another type (``nosniff``); the type carries
    at most one charset.
    """
    evidence_item = _item_or_404(item_id)
    stored = evidence_item.file
    if stored is None:
        abort(404)
    path = storage.path_for(stored.sha256)
    if not path.is_file():
        abort(404)
    mimetype = stored.content_type.split(";")[0].strip().lower() or "application/octet-stream"
    inline = storage.served_inline(mimetype)
    response = send_file(path, mimetype=mimetype, as_attachment=not inline, download_name="download",
                         etag=stored.sha256, conditional=True, max_age=0)
    if mimetype.startswith("text/"):
        response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    name_download(response, evidence_item.file_name, inline=inline, fallback=f"evidence-{evidence_item.id}")
    if mimetype != "application/pdf":
        response.headers["Content-Security-Policy"] = f"sandbox; {CSP}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>/thumbnail")
@requires("project.view")
def thumbnail(project_id, item_id):
    """A small re-encoded copy of the item's image (``thumbnails``), never the original's bytes.

    The same check as the item (404 outside the project). Made now if it is missing (an image
    stored before thumbnails existed). ``?v=`` is the start of the original's SHA-256: with it
    the answer may be kept a year (a new file gives a new address); without it, not at all.
    """
    evidence_item = _item_or_404(item_id)
    stored = evidence_item.file
    if stored is None or not thumbnails.is_image(stored.content_type):
        abort(404)
    made = thumbnails.ensure(storage.path_for(stored.sha256))
    if made is None:
        abort(404)
    response = send_file(made, mimetype=thumbnails.CONTENT_TYPE, etag=f"{stored.sha256}-{thumbnails.SIZE}",
                         conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = f"sandbox; {CSP}"
    if request.args.get("v") == stored.sha256[:16]:
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


# --------------------------------------------------------------------------------------------- review


@bp.route("/projects/<int:project_id>/evidence/<int:item_id>/review", methods=["POST"])
@requires("evidence.review")
def review(project_id, item_id):
    """Verify or query an item with a note.

    htmx: answers with the item's row (as shown where it was reviewed) and, out of band, the
    coverage figures. Without JavaScript: back to the page it came from (303).
    """
    evidence_item = _item_or_404(item_id)
    form = ReviewForm()
    context = form.context.data if form.context.data in REVIEW_CONTEXTS else "auditor"

    def done(reviewed):
        if is_htmx():
            return fragment_response("evidence/_reviewed.html", item=reviewed, context=context,
                                     review_form=ReviewForm(formdata=None, context=context),
                                     coverage=services.coverage(project_id))
        flash(_("“%(title)s” is verified.", title=reviewed.title) if reviewed.review_state == "verified"
              else _("“%(title)s” is queried.", title=reviewed.title), "success")
        targets = {"register": url_for("evidence.register", project_id=project_id),
                   "item": url_for("evidence.item", project_id=project_id, item_id=item_id),
                   "auditor": url_for("evidence.auditor", project_id=project_id)}
        return redirect(targets[context], 303)

    def again(status):
        if is_htmx():
            return fragment_response("evidence/_reviewed.html", status, item=evidence_item, review_form=form,
                                     context=context, coverage=None)
        return render_template("evidence/item.html", item=evidence_item, history=services.review_history(evidence_item),
                               review_form=form, delete_form=EmptyForm()), status

    return write(lambda: services.review(evidence_item, form.decision.data or "", form.note.data, current_user),
                 form=form, done=done, again=again)


@bp.route("/projects/<int:project_id>/auditor")
@requires("evidence.review")
def auditor(project_id):
    """The auditor's workspace: coverage (loaded right after the page) and the review queue; the lists below the fold (queried
    items, spending without evidence, overspends, confirmed rates) load when revealed
    (``auditor_section``), each with a plain link to its own page without JavaScript.

    The queue is paged (``?pending=2``); its heading counts it all. htmx's "load more"
    (``?more=pending&pending=2``) gets only the queue's next rows.
    """
    review_form = ReviewForm(context="auditor")
    pending = services.review_page(project_id, "pending", paging.page_arg(request.args, "pending"), AUDITOR_PAGE_SIZE)
    if is_htmx() and request.args.get("more") == "pending":
        return vary(paging.render_block("evidence/auditor.html", "pending_rows", review_form=review_form,
                                        context="auditor", pending=pending))
    # The coverage figures count every reported period and disbursement: htmx loads them right
    # after the page (register_coverage); ?coverage=1 shows them inline (no JavaScript).
    return vary(render_template("evidence/auditor.html", review_form=review_form, context="auditor", pending=pending,
                                states=services.review_counts(project_id),
                                coverage=services.coverage(project_id) if request.args.get("coverage") == "1"
                                else None))


def _auditor_section(project_id: int, section: str, page: int) -> dict:
    """What one lazily loaded list of the workspace shows: one page of it (two queries)."""
    if section == "queried":
        return {"queried": services.review_page(project_id, "queried", page, AUDITOR_PAGE_SIZE),
                "review_form": ReviewForm(context="auditor"), "context": "auditor"}
    if section == "unbacked":
        return {"unbacked": services.unbacked_page(project_id, page, AUDITOR_PAGE_SIZE)}
    if section == "overspends":
        return {"overspends": services.overspends_page(project_id, page, AUDITOR_PAGE_SIZE)}
    return {}  # "rates": the template reads them (budget's confirmed_rates)


@bp.route("/projects/<int:project_id>/auditor/<section>")
@requires("evidence.review")
def auditor_section(project_id, section):
    """One list of the workspace, ``?page=2`` for its next rows: for htmx the section (or, with
    ``rows=1``, only the rows that "load more" appends); without JavaScript a page of its own."""
    if section not in AUDITOR_SECTIONS:
        abort(404)
    context = _auditor_section(project_id, section, paging.page_arg(request.args))
    fragment = AUDITOR_SECTIONS[section]
    if is_htmx() and request.args.get("rows") == "1" and section in ("queried", "unbacked"):
        return vary(paging.render_block(fragment, "rows", **context))
    return render("evidence/auditor_section.html", fragment, section=section, section_template=fragment, **context)


# --------------------------------------------------------------------------------------------- template helpers


@bp.app_template_global()
def evidence_link_label(link) -> str:
    """'Activity A1.4', 'Indicator 1.1.b 2016-07-01 – 2016-12-31', 'Result 1.1.2', 'Expenditure V-1'."""
    return services.link_label(link)


@bp.app_template_global()
def evidence_thumbnail_url(item) -> str | None:
    """The thumbnail's address of an item with an image file, else None (no query: the file is loaded)."""
    stored = item.file
    if stored is None or not thumbnails.is_image(stored.content_type):
        return None
    return url_for("evidence.thumbnail", project_id=item.project_id, item_id=item.id, v=stored.sha256[:16])


@bp.app_template_global()
def evidence_row_kit(project_id: int) -> rows.RowKit:
    """Texts and URL prefixes for rows of evidence items, once per request (``rows``)."""
    return rows.kit(project_id)


@bp.app_template_global()
def evidence_picker_status(picker) -> str:
    return pickers.status_text(picker)


@bp.app_template_global()
def evidence_review_label(state: str) -> str:
    return str(REVIEW_STATE_LABELS.get(state, state))


@bp.app_template_global()
def evidence_language_label(code: str) -> str:
    return str(LANGUAGE_LABELS.get(code, code) or LANGUAGE_LABELS[""])
