"""Budget pages: lines, their allocation to activities, and expenditures.

Every view: load (404 outside the project) -> permission (decorator) -> form -> service ->
one commit -> page, or for htmx only the fragment. A failed request rolls back.
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..accounts.forms import EmptyForm
from ..concurrency import ConflictError
from ..evidence.services import evidence_for
from ..extensions import db
from ..formatting import money, number
from ..validation import InputError
from ..htmx import fragment_response, is_htmx
from ..models import Activity, BudgetAllocation, BudgetLine, Expenditure
from ..permissions import can, requires
from . import services
from .forms import BudgetLineForm, ExpenditureForm, apply_errors

bp = Blueprint("budget", __name__)


def _line_or_404(line_id: int) -> BudgetLine:
    line = db.session.get(BudgetLine, line_id) if services.parse_id(line_id) else None
    if line is None or line.project_id != g.project.id:
        abort(404)
    return line


def _expenditure_or_404(expenditure_id: int) -> Expenditure:
    expenditure = db.session.get(Expenditure, expenditure_id) if services.parse_id(expenditure_id) else None
    if expenditure is None or expenditure.project_id != g.project.id:
        abort(404)
    return expenditure


def _fresh_expenditure_form(line_id: str = "", spent_on: str = "", status: str = "committed") -> ExpenditureForm:
    """An empty booking form; after a booking it keeps the date, line and status for the next voucher."""
    form = ExpenditureForm(formdata=None, spent_on=spent_on or services.default_spent_on().isoformat(),
                           status=status, line_id=line_id)
    form.set_lines(services.lines_for_choice(g.project.id))
    return form


# --------------------------------------------------------------------------------------------- overview


@bp.route("/projects/<int:project_id>/budget")
@requires("project.view")
def overview(project_id):
    """Per line budget, revised, committed, disbursed, balance, % used; roll-ups; burn chart."""
    form = _fresh_expenditure_form() if can("expenditure.edit") else None
    return render_template("budget/overview.html", page=services.budget_page(g.project), form=form)


# --------------------------------------------------------------------------------------------- expenditures


@bp.route("/projects/<int:project_id>/expenditures/new", methods=["GET", "POST"])
@requires("expenditure.edit")
def new_expenditure(project_id):
    """Book an expenditure: a page of its own, or inline on the budget page (htmx).

    Inline, a booking answers with a fresh form and, out of band, the line's row, the
    totals, the roll-ups and the burn chart; an invalid one with the form and its errors (422).
    """
    form = ExpenditureForm()
    form.set_lines(services.lines_for_choice(project_id))
    status = 200
    if request.method == "GET":
        form = _fresh_expenditure_form(request.args.get("line", ""))
    elif form.validate_on_submit():
        try:
            booking = services.book_expenditure(g.project, form.values(), current_user)
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            apply_errors(form, error)
            status = 422
        except IntegrityError:  # a voucher booked by someone else at the same moment
            db.session.rollback()
            form.voucher.errors = [f"Voucher {form.voucher.data.strip()} is already booked in this project."]
            status = 422
        else:
            expenditure = booking.expenditure
            message = (f"Booked {expenditure.voucher}: {money(expenditure.amount_cents)} "
                       f"({expenditure.status}) on {expenditure.line.code}.")
            if booking.computed_usd:
                message += (f" The USD amount was computed from {number(expenditure.original_amount)} "
                            f"{expenditure.original_currency} at {number(expenditure.exchange_rate)}.")
            if is_htmx():
                fresh = _fresh_expenditure_form(str(expenditure.line_id), expenditure.spent_on.isoformat(),
                                                 expenditure.status)
                return fragment_response("budget/_expenditure_booked.html", form=fresh, booked=expenditure,
                                         message=message, warnings=booking.warnings,
                                         page=services.budget_page(g.project))
            flash(message, "success")
            for warning in booking.warnings:
                flash(warning, "warning")
            return redirect(_back_to(url_for("budget.overview", project_id=project_id)), 303)
    else:
        status = 422
    if is_htmx():
        return fragment_response("budget/_expenditure_form.html", status, form=form)
    return render_template("budget/expenditure_form.html", form=form, expenditure=None), status


def _back_to(default: str) -> str:
    """A same-site path from the form's ``next`` field, else ``default``."""
    target = request.form.get("next") or request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@bp.route("/projects/<int:project_id>/expenditures")
@requires("project.view")
def expenditures(project_id):
    """Every expenditure, newest first, with its line and how much evidence backs it."""
    line_filter = services.parse_id(request.args.get("line"))
    rows = services.expenditures(project_id, line_id=line_filter)
    evidence = evidence_for(project_id, expenditures=[e.id for e in rows])
    return render_template("budget/expenditures.html", rows=rows, evidence=evidence,
                           lines=services.lines_for_choice(project_id), line_filter=line_filter)


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
    if request.method == "GET":
        form = ExpenditureForm(formdata=None, obj=item)
        form.spent_on.data = item.spent_on.isoformat()
        form.line_id.data = str(item.line_id)
        form.amount.data = f"{item.amount_cents / 100:.2f}" if item.amount_cents else ""
        form.original_amount.data = "" if item.original_amount is None else f"{item.original_amount:f}"
        form.exchange_rate.data = "" if item.exchange_rate is None else f"{item.exchange_rate.normalize():f}"
        form.version.data = str(item.version)
    else:
        form = ExpenditureForm()
    form.set_lines(services.lines_for_choice(project_id))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                booking = services.update_expenditure(g.project, item, form.values(), form.version.data,
                                                      current_user)
                db.session.commit()
            except ConflictError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
                status = 409
            except InputError as error:
                db.session.rollback()
                apply_errors(form, error)
                status = 422
            except IntegrityError:
                db.session.rollback()
                form.voucher.errors = [f"Voucher {form.voucher.data.strip()} is already booked in this project."]
                status = 422
            else:
                flash(f"Saved {booking.expenditure.voucher}.", "success")
                for warning in booking.warnings:
                    flash(warning, "warning")
                return redirect(url_for("budget.expenditure", project_id=project_id, expenditure_id=item.id), 303)
        else:
            status = 422
        item = _expenditure_or_404(expenditure_id)  # reloaded after a rollback
    return render_template("budget/expenditure_form.html", form=form, expenditure=item), status


# --------------------------------------------------------------------------------------------- lines


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>")
@requires("project.view")
def line(project_id, line_id):
    """One line: its figures, its allocation to activities, its expenditures and their evidence."""
    if services.parse_id(line_id) is None:
        abort(404)
    budget_line = db.session.execute(
        select(BudgetLine).options(selectinload(BudgetLine.allocations).joinedload(BudgetAllocation.activity))
        .where(BudgetLine.id == line_id, BudgetLine.project_id == project_id)).scalar()
    if budget_line is None:
        abort(404)
    totals = services.one_line_totals(budget_line)
    rows = services.expenditures(project_id, line_id=line_id)
    shares = sorted(budget_line.allocations, key=lambda a: (a.activity.position, a.activity.code))
    weights = [a.percent for a in shares]
    rest = 100 - sum(weights)
    split = services.split_cents(totals.current_cents, [*weights, rest])
    return render_template("budget/line.html", totals=totals, line=budget_line, rows=rows,
                           shares=list(zip(shares, split[:-1], strict=True)), unallocated=(rest, split[-1]),
                           evidence=evidence_for(project_id, expenditures=[e.id for e in rows]),
                           delete_form=EmptyForm())


@bp.route("/projects/<int:project_id>/budget/lines/new", methods=["GET", "POST"])
@requires("budget.edit")
def new_line(project_id):
    """Add a budget line (refused when the lines would total more than the grant)."""
    form = BudgetLineForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                created = services.create_line(g.project, form.values(), current_user)
                db.session.commit()
            except InputError as error:
                db.session.rollback()
                apply_errors(form, error)
                status = 422
            else:
                flash(f"Added budget line {created.code}.", "success")
                return redirect(url_for("budget.line", project_id=project_id, line_id=created.id), 303)
        else:
            status = 422
    return render_template("budget/line_form.html", form=form, line=None), status


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>/edit", methods=["GET", "POST"])
@requires("budget.edit")
def edit_line(project_id, line_id):
    """Change a line; a save from an out-of-date form is refused (409) with a who/when message."""
    budget_line = _line_or_404(line_id)
    if request.method == "GET":
        form = BudgetLineForm(formdata=None, obj=budget_line)
        form.original.data = f"{budget_line.original_cents / 100:.2f}"
        form.revised.data = "" if budget_line.revised_cents is None else f"{budget_line.revised_cents / 100:.2f}"
        form.version.data = str(budget_line.version)
    else:
        form = BudgetLineForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.update_line(g.project, budget_line, form.values(), form.version.data, current_user)
                db.session.commit()
            except ConflictError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
                status = 409
            except InputError as error:
                db.session.rollback()
                apply_errors(form, error)
                status = 422
            else:
                flash(f"Saved budget line {budget_line.code}.", "success")
                return redirect(url_for("budget.line", project_id=project_id, line_id=line_id), 303)
        else:
            status = 422
        budget_line = _line_or_404(line_id)
    return render_template("budget/line_form.html", form=form, line=budget_line), status


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>/delete", methods=["POST"])
@requires("budget.edit")
def delete_line(project_id, line_id):
    """Remove a line without expenditures."""
    budget_line = _line_or_404(line_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    code = budget_line.code
    try:
        services.delete_line(budget_line)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("budget.line", project_id=project_id, line_id=line_id), 303)
    flash(f"Removed budget line {code}.", "success")
    return redirect(url_for("budget.overview", project_id=project_id), 303)


@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>/allocations", methods=["GET", "POST"])
@requires("budget.edit")
def allocations(project_id, line_id):
    """Share a line among activities, in percent (at most 100% in all)."""
    budget_line = _line_or_404(line_id)
    activities = db.session.execute(
        select(Activity).where(Activity.project_id == project_id).order_by(Activity.position, Activity.code)
    ).scalars().all()
    form = EmptyForm()
    current = {a.activity_id: f"{a.percent.normalize():f}" for a in budget_line.allocations}
    typed = {a.id: current.get(a.id, "") for a in activities}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        typed = {a.id: request.form.get(f"share-{a.id}", "") for a in activities}
        try:
            services.set_allocations(budget_line, typed)
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            errors = getattr(error, "errors", {"": str(error)})
            status = 422
        else:
            flash(f"Saved the allocation of {budget_line.code}.", "success")
            return redirect(url_for("budget.line", project_id=project_id, line_id=line_id), 303)
        budget_line = _line_or_404(line_id)
    return render_template("budget/allocations.html", line=budget_line, activities=activities, typed=typed,
                           errors=errors, form=form), status
