"""Budget pages: lines, their allocation to activities, and expenditures.

Every view: load (404 outside the project) -> permission (decorator) -> form ->
``htmx.write`` (the service, one commit; or a rollback and the form again with its errors)
-> the page, or for htmx only the fragment.
"""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import paging
from ..concurrency import answer_earlier, remember_submission, versions_of
from ..evidence.services import evidence_for
from ..extensions import db
from ..formatting import input_number
from ..forms import EmptyForm
from ..htmx import fragment_response, is_htmx, last_errors, render, vary, write
from ..i18n import N_
from ..models import BudgetLine, Expenditure
from ..models.budget import EXPENDITURE_STATUS_LABELS
from ..permissions import can, requires
from ..redirects import safe_target
from ..validation import parse_id
from . import figures, rates, services
from .forms import BudgetLineForm, ExpenditureForm, allocation_form
from .rows import expenditure_row_views, line_filter_options, line_row_views

bp = Blueprint("budget", __name__)


def _line_or_404(line_id: int) -> BudgetLine:
    line = db.session.get(BudgetLine, line_id) if parse_id(line_id) else None
    if line is None or line.project_id != g.project.id:
        abort(404)
    return line


def _expenditure_or_404(expenditure_id: int) -> Expenditure:
    expenditure = db.session.get(Expenditure, expenditure_id) if parse_id(expenditure_id) else None
    if expenditure is None or expenditure.project_id != g.project.id:
        abort(404)
    return expenditure


def _fresh_expenditure_form(line_id: str = "", spent_on: str = "", status: str = "committed") -> ExpenditureForm:
    """An empty booking form; after a booking it keeps the date, line and status for the next voucher."""
    form = ExpenditureForm(formdata=None, spent_on=spent_on or services.default_spent_on().isoformat(),
                           status=status, line_id=line_id)
    form.set_lines(services.lines_for_choice(g.project.id))
    return form


def _back_to(default: str) -> str:
    """A same-site path from the form's ``next`` field, else ``default``."""
    return safe_target(request.form.get("next") or request.args.get("next"), default)


def _flash_booking(booking, message: str) -> None:
    flash(message, "success")
    for warning in booking.warnings:
        flash(warning, "warning")


bp.add_app_template_global(line_row_views)
bp.add_app_template_global(expenditure_row_views)
bp.add_app_template_global(line_filter_options)


@bp.app_template_global()
def expenditure_status_label(status: str) -> str:
    """'Committed', 'Disbursed': the one label of each expenditure status (in the request's language)."""
    return str(EXPENDITURE_STATUS_LABELS.get(status, status))


# --------------------------------------------------------------------------------------------- overview


@bp.route("/projects/<int:project_id>/budget")
@requires("project.view")
def overview(project_id):
    """Per line budget, revised, committed, disbursed, balance, % used, with the totals of every line.

    The lines come a page at a time (``?lines=N``; htmx's "load more" gets only the next rows).
    The overspends, the burn chart and the roll-up load when revealed (their own routes below).
    """
    number = paging.page_arg(request.args, "lines")
    if is_htmx() and "lines" in request.args:
        return vary(render_template("budget/_line_rows.html", lines=figures.lines_page(project_id, number)))
    return vary(render_template("budget/overview.html", page=services.budget_page(g.project, number),
                                can_book=can("expenditure.edit")))


def _section(page_template: str, fragment_template: str, budget: figures.BudgetPage):
    """A section of the budget page: alone for htmx (it replaces its placeholder), else a page of its own."""
    return vary(render_template(fragment_template if is_htmx() else page_template, page=budget))


@bp.route("/projects/<int:project_id>/budget/chart")
@requires("project.view")
def burn_chart(project_id):
    """The burn chart: the budget page loads it when it scrolls into view; a page of its own without JS."""
    summary = figures.budget_summary(g.project)
    page = figures.BudgetPage(summary=summary, chart=figures.chart_of(g.project, summary.current_cents))
    return _section("budget/chart.html", "budget/_burn_chart.html", page)


@bp.route("/projects/<int:project_id>/budget/overspends")
@requires("project.view")
def overspends(project_id):
    """Expenditures booked past their line's budget, a page at a time (``?page=N``): the budget page
    loads the first page when it scrolls into view; the next pages are pages of their own."""
    rows = figures.overspends_page(project_id, paging.page_arg(request.args),
                                   int(current_app.config.get("PAGE_SIZE", 50)))
    return _section("budget/overspends.html", "budget/_overspends.html", figures.BudgetPage(None, overspends=rows))


@bp.route("/projects/<int:project_id>/budget/rollup")
@requires("project.view")
def rollup(project_id):
    """The lines spread over activities and rolled up to results: loaded when it scrolls into view.
    Activities a page at a time (``?page=N``); htmx's "load more" gets only the next rows."""
    figures_, activities = figures.rollup_page(project_id, paging.page_arg(request.args))
    page = figures.BudgetPage(None, rollup=figures_, activities=activities)
    if is_htmx() and "page" in request.args:
        return vary(render_template("budget/_rollup_activity_rows.html", page=page))
    return _section("budget/rollup.html", "budget/_rollup.html", page)


# --------------------------------------------------------------------------------------------- expenditures


@bp.route("/projects/<int:project_id>/expenditures/new", methods=["GET", "POST"])
@requires("expenditure.edit")
def new_expenditure(project_id):
    """Book an expenditure: a page of its own, or inline on the budget page (htmx).

    Inline, a booking answers with a fresh form and, out of band, the line's row, the
    totals, the roll-ups and the burn chart; an invalid one with the form and its errors (422).
    """
    if request.method == "GET":
        form = _fresh_expenditure_form(request.args.get("line", ""))
        return render("budget/expenditure_form.html", "budget/_expenditure_form.html", form=form, expenditure=None)
    form = ExpenditureForm()
    form.set_lines(services.lines_for_choice(project_id))

    def done(booking):
        booked = booking.expenditure
        if is_htmx():
            fresh = _fresh_expenditure_form(str(booked.line_id), booked.spent_on.isoformat(), booked.status)
            return fragment_response("budget/_expenditure_booked.html", form=fresh, booked=booked,
                                     message=booking.message, warnings=booking.warnings,
                                     line_totals=services.one_line_totals(booked.line),
                                     page=services.budget_after_booking(g.project))
        _flash_booking(booking, booking.message)
        return redirect(_back_to(url_for("budget.overview", project_id=project_id)), 303)

    def change():
        booking = services.book_expenditure(g.project, form.values(), current_user)
        remember_submission(form.form_token.data, current_user,
                            url_for("budget.expenditure", project_id=project_id, expenditure_id=booking.expenditure.id))
        return booking

    earlier = answer_earlier(form.form_token.data, current_user)
    if earlier is not None:
        return earlier
    return write(change, form=form, done=done,
                 again=lambda status: render("budget/expenditure_form.html", "budget/_expenditure_form.html",
                                             status, form=form, expenditure=None))


@bp.route("/projects/<int:project_id>/expenditures/preview")
@requires("expenditure.edit")
def rate_preview(project_id):
    """The USD figure an amount paid in another currency books, as the person types it (htmx
    fragment, or a small page of its own); with the rate's warning when it needs confirmation.
    Nothing is saved (a GET: the form's currency fields and date travel in the query string).
    ``?expenditure=<id>``: the form edits that expenditure."""
    item = None
    if request.args.get("expenditure"):
        item = _expenditure_or_404(request.args.get("expenditure"))
    form = ExpenditureForm(formdata=request.args, meta={"csrf": False})
    form.set_lines(services.lines_for_choice(project_id))
    return render("budget/rate_preview.html", "budget/_rate_preview.html", form=form, expenditure=item)


@bp.app_template_global()
def expenditure_rate_preview(form, expenditure=None):
    """The preview of the form's currency fields (``services.rate_preview``), for its fragment."""
    return services.rate_preview(g.project, form.values(), expenditure)


@bp.app_template_global()
def confirmed_rates(project_id: int):
    """(the newest 50 expenditures booked at a confirmed rate, how many in all): the auditor's list."""
    return rates.confirmed_rates(project_id)


@bp.route("/projects/<int:project_id>/expenditures")
@requires("project.view")
def expenditures(project_id):
    """The expenditures, newest first, a page at a time (``?page=N``; the line filter kept), each with
    its line and how much evidence backs it (rows, not ORM objects: budget/rows.py writes their text).
    htmx ("load more") gets only the next rows and pager."""
    line_filter = parse_id(request.args.get("line"))
    rows = figures.expenditures_page(project_id, line_id=line_filter, page=paging.page_arg(request.args),
                                     page_size=int(current_app.config.get("PAGE_SIZE", 50)))
    if is_htmx():
        return vary(paging.render_block("budget/expenditures.html", "rows", rows=rows, line_filter=line_filter))
    return vary(render_template("budget/expenditures.html", rows=rows,
                                lines=services.lines_for_choice(project_id), line_filter=line_filter))


@bp.route("/projects/<int:project_id>/expenditures/<int:expenditure_id>")
@requires("project.view")
def expenditure(project_id, expenditure_id):
    """One expenditure with its evidence."""
    item = _expenditure_or_404(expenditure_id)
    evidence = evidence_for(project_id, expenditures=[item.id])
    return render_template("budget/expenditure.html", expenditure=item, evidence_items=evidence.expenditure(item.id))


@bp.route("/projects/<int:project_id>/expenditures/<int:expenditure_id>/edit", methods=["GET", "POST"])
@requires("expenditure.edit")
def edit_expenditure(project_id, expenditure_id):
    """Change an expenditure; a save from an out-of-date form is refused (409) with a who/when message."""
    item = _expenditure_or_404(expenditure_id)
    form = ExpenditureForm.for_expenditure(item) if request.method == "GET" else ExpenditureForm()
    form.set_lines(services.lines_for_choice(project_id))

    def again(status):
        return render_template("budget/expenditure_form.html", form=form, expenditure=item), status

    if request.method == "GET":
        return again(200)

    def done(booking):
        _flash_booking(booking, _("Saved %(voucher)s.", voucher=booking.expenditure.voucher))
        return redirect(url_for("budget.expenditure", project_id=project_id, expenditure_id=item.id), 303)

    return write(lambda: services.update_expenditure(g.project, item, form.values(), form.version.data, current_user),
                 form=form, done=done, again=again)


# --------------------------------------------------------------------------------------------- lines


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>")
@requires("project.view")
def line(project_id, line_id):
    """One line: its figures, its allocation to activities, its expenditures and their evidence."""
    page = services.line_page(project_id, line_id) or abort(404)
    return render_template("budget/line.html", totals=page.totals, line=page.line, rows=page.expenditures,
                           shares=page.shares, unallocated=page.unallocated,
                           evidence=evidence_for(project_id, expenditures=[e.id for e in page.expenditures]),
                           delete_form=EmptyForm())


@bp.route("/projects/<int:project_id>/budget/lines/new", methods=["GET", "POST"])
@requires("budget.edit")
def new_line(project_id):
    """Add a budget line (refused when the lines would total more than the grant)."""
    form = BudgetLineForm()
    return _line_form(project_id, None, form, lambda: services.create_line(g.project, form.values(), current_user),
                      N_("Added budget line %(code)s."))


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>/edit", methods=["GET", "POST"])
@requires("budget.edit")
def edit_line(project_id, line_id):
    """Change a line; a save from an out-of-date form is refused (409) with a who/when message."""
    budget_line = _line_or_404(line_id)
    form = BudgetLineForm.for_line(budget_line) if request.method == "GET" else BudgetLineForm()
    return _line_form(project_id, budget_line, form,
                      lambda: services.update_line(g.project, budget_line, form.values(), form.version.data,
                                                   current_user), N_("Saved budget line %(code)s."))


def _line_form(project_id, budget_line, form, save, saved_message):
    """The line form (new when ``budget_line`` is None): GET shows it; POST saves through the one
    write path and goes to the line, or shows the form again with its errors."""

    def again(status):
        return render_template("budget/line_form.html", form=form, line=budget_line), status

    if request.method == "GET":
        return again(200)

    def done(saved):
        flash(_(saved_message, code=saved.code), "success")
        return redirect(url_for("budget.line", project_id=project_id, line_id=saved.id), 303)

    return write(save, form=form, done=done, again=again)


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>/delete", methods=["POST"])
@requires("budget.edit")
def delete_line(project_id, line_id):
    """Remove a line without expenditures."""
    budget_line = _line_or_404(line_id)
    if not EmptyForm().validate_on_submit():
        abort(400)

    def done(code):
        flash(_("Removed budget line %(code)s.", code=code), "success")
        return redirect(url_for("budget.overview", project_id=project_id), 303)

    def again(_status):
        for message in last_errors():
            flash(message, "error")
        return redirect(url_for("budget.line", project_id=project_id, line_id=line_id), 303)

    return write(lambda: services.delete_line(budget_line), done=done, again=again)


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>/allocations", methods=["GET", "POST"])
@requires("budget.edit")
def allocations(project_id, line_id):
    """Share a line among activities, in percent (at most 100% in all)."""
    budget_line = _line_or_404(line_id)
    activities = services.project_activities(project_id)
    form = allocation_form(activities, {a.activity_id: input_number(a.percent)
                                        for a in budget_line.allocations},
                           versions_of(budget_line.allocations))

    def again(status):
        return render_template("budget/allocations.html", line=budget_line, activities=activities, form=form), status

    if request.method == "GET":
        return again(200)

    def done(_allocations):
        flash(_("Saved the allocation of %(code)s.", code=budget_line.code), "success")
        return redirect(url_for("budget.line", project_id=project_id, line_id=line_id), 303)

    typed = {a.id: form[f"share-{a.id}"].data for a in activities}
    return write(lambda: services.set_allocations(budget_line, typed, versions=form.versions.data or "",
                                                  user=current_user), form=form, done=done, again=again)
