"""Rules of the grant's money: changes to budget lines, allocations and expenditures.

This module is the budget area's public face: the figures (totals, roll-ups, the budget page,
the burn chart) live in ``figures`` and are re-exported here, so callers import one module.

Decisions written down here because they are the app's contract:

* **The grant is a ceiling.** The current budgets of a project's lines (revised where
  revised) never total more than the grant. Original amounts are the history of the first
  budget and are not re-checked once lines are revised. A change that would go over is
  refused with the figures ("Budget lines would total USD 121,500.00, USD 1,500.00 above
  the grant of USD 120,000.00.").
* **A line's budget cannot be revised below what is already spent on it**; first move or
  correct the expenditures.
* **Allocations.** A line's shares of activities are percentages with at most two
  decimals, totalling at most 100%; what is left is shown as unallocated.
* **Foreign currency.** An expenditure paid in another currency records the original amount
  (with its currency's ISO 4217 minor units: none for VND, three for KWD), its code and the
  rate used, as *units of that currency for one US dollar* (VND 22,350 means 22,350 đồng =
  USD 1). The USD amount may be left empty: it is then computed from the stored original
  amount ÷ rate, rounded half-up to the cent. When it is typed it must agree with
  original ÷ rate within one cent (banks round too), and the typed figure is kept.
* **Plausible rates.** A rate more than 20% away from the project's last rate for that
  currency (on or before the expenditure's date), or for a currency's first rate one outside
  its plausible band, is booked only with a tick in "Confirm this rate" and a reason, kept
  with the expenditure (``rates`` has the rules and the bands). The form shows the USD figure
  as it is typed (``rate_preview``: the same computation and check as the booking).
* **Vouchers** are booked once per project; two people booking the same voucher at the same
  moment get the same message as one booking it twice.
* **Overspending.** An expenditure that takes a line's spending (committed + disbursed)
  past its current budget needs a written justification. It is stored on the expenditure
  (so it is in the audit trail with the row) and flagged on the budget page and in the
  auditor's workspace.
* **Dates.** An expenditure dated outside the project period is booked with a warning, not
  refused (late invoices happen); the warning is shown to the person booking it.

Services flush, never commit; they raise ``InputError`` (one message per form field) and
``ConflictError``; ``tracker.htmx.write`` commits once or rolls back and answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..concurrency import check_version, check_versions, stamp
from ..extensions import db
from ..formatting import input_number, money, number
from ..models import (
    BUDGET_CATEGORIES,
    EXPENDITURE_STATUSES,
    Activity,
    BudgetAllocation,
    BudgetLine,
    Expenditure,
    Project,
)
from ..models.budget import EXPENDITURE_STATUS_LABELS
from ..validation import (
    InputError,
    check_near_project,
    clean_text,
    parse_date,
    parse_decimal,
    parse_id,
    parse_money_cents,
    parse_percent,
    raise_if,
)
from . import rates
from .currencies import CURRENCIES, minor_units
from .figures import (  # noqa: F401  (the area's public names; see the module docstring)
    BudgetPage,
    BudgetSummary,
    BurnChart,
    Figures,
    LinePage,
    LineTotals,
    Rollup,
    Spending,
    _spending_sums,
    budget_after_booking,
    budget_page,
    budget_summary,
    burn_chart,
    chart_of,
    expenditures,
    justified_overspends,
    line_page,
    line_totals,
    lines_for_choice,
    lines_page,
    one_line_totals,
    project_activities,
    rollup,
    rollup_page,
    spending_by_day,
    split_cents,
    summarise,
)

# ---------------------------------------------------------------------------------------------
# Budget lines


def _grant_check(project: Project, current_total: int) -> None:
    """The budget in force (revised where revised) never totals more than the grant."""
    if current_total > project.grant_cents:
        raise InputError(
            _("Budget lines would total %(total)s, %(over)s above the grant of %(grant)s.",
              total=money(current_total, project.currency),
              over=money(current_total - project.grant_cents, project.currency),
              grant=money(project.grant_cents, project.currency)), field="")


def _text(data: dict, field: str, errors: dict[str, str], max_length: int, too_long: str, *,
          required: str | None = None) -> str:
    """A text field, cleaned; its error (missing when ``required`` says so, or too long) goes
    into ``errors`` under its name."""
    text = clean_text(data.get(field))
    if required and not text:
        errors[field] = required
    elif len(text) > max_length:
        errors[field] = too_long
    return text


def _line_fields(project: Project, data: dict, line: BudgetLine | None) -> dict:
    """Parse and check a line's fields; one InputError with every problem at once."""
    errors: dict[str, str] = {}
    code = _text(data, "code", errors, 20, _("A code has at most %(count)s characters.", count=20),
                 required=_("A code is required, for example %(example)s.", example="BL7"))
    if "code" not in errors:
        clash = db.session.execute(
            select(BudgetLine.id).where(BudgetLine.project_id == project.id, BudgetLine.code == code)
        ).scalar()
        if clash is not None and (line is None or clash != line.id):
            errors["code"] = _("Another line already has the code %(code)s.", code=code)
    category = data.get("category") or "other"
    if category not in BUDGET_CATEGORIES:
        errors["category"] = _("Choose a category from the list.")
    account_code = _text(data, "account_code", errors, 40,
                         _("The donor's account code has at most %(count)s characters.", count=40))
    description = clean_text(data.get("description"))
    if not description:
        errors["description"] = _("Say what the line pays for.")
    original = revised = None
    try:
        original = parse_money_cents(data.get("original") or "", field=_("The original amount"))
    except InputError as error:
        errors["original"] = str(error)
    raw_revised = clean_text(data.get("revised"))
    if raw_revised:
        try:
            revised = parse_money_cents(raw_revised, field=_("The revised amount"), allow_zero=True)
        except InputError as error:
            errors["revised"] = str(error)
    raise_if(errors)
    return {"code": code, "category": category, "account_code": account_code, "description": description,
            "original_cents": original, "revised_cents": revised, "notes": clean_text(data.get("notes"))}


def _check_totals_with(project: Project, line: BudgetLine | None, current: int) -> None:
    others = db.session.execute(
        select(func.coalesce(func.sum(func.coalesce(BudgetLine.revised_cents, BudgetLine.original_cents)), 0))
        .where(BudgetLine.project_id == project.id, BudgetLine.id != (line.id if line else -1))
    ).scalar()
    _grant_check(project, int(others) + current)


def create_line(project: Project, data: dict, user=None) -> BudgetLine:
    """Add a budget line; refused when the lines would total more than the grant."""
    values = _line_fields(project, data, None)
    current = values["revised_cents"] if values["revised_cents"] is not None else values["original_cents"]
    _check_totals_with(project, None, current)
    position = db.session.execute(
        select(func.coalesce(func.max(BudgetLine.position), -1)).where(BudgetLine.project_id == project.id)
    ).scalar() + 1
    line = BudgetLine(project_id=project.id, position=position, **values)
    stamp(line, user)
    db.session.add(line)
    db.session.flush()
    return line


def update_line(project: Project, line: BudgetLine, data: dict, version, user=None) -> BudgetLine:
    """Change a line from a form opened at ``version`` (409 when someone saved meanwhile)."""
    check_version(line, version, _("Budget line %(code)s", code=line.code))
    values = _line_fields(project, data, line)
    current = values["revised_cents"] if values["revised_cents"] is not None else values["original_cents"]
    _check_totals_with(project, line, current)
    spent = one_line_totals(line).spent_cents
    if current < spent and current < line.current_cents:
        field_name = "revised" if values["revised_cents"] is not None else "original"
        raise InputError(
            _("%(spent)s is already committed or disbursed on %(code)s; its budget cannot go below that. Move or "
              "correct those expenditures first.", spent=money(spent), code=line.code), field=field_name)
    amounts_changed = (values["original_cents"], values["revised_cents"]) != (line.original_cents,
                                                                             line.revised_cents)
    for key, value in values.items():
        if getattr(line, key) != value:
            setattr(line, key, value)
    if amounts_changed:
        line.illustrative = False  # a figure a manager set is no longer the demo's illustration
    if db.session.is_modified(line):
        stamp(line, user)
    db.session.flush()
    return line


def delete_line(line: BudgetLine) -> str:
    """Remove a line that has no expenditures (its allocations go with it); returns its code."""
    count = db.session.execute(select(func.count()).where(Expenditure.line_id == line.id)).scalar()
    if count:
        raise InputError(ngettext("%(code)s has %(num)d expenditure; a line with spending cannot be removed. "
                                  "Revise its amount instead.",
                                  "%(code)s has %(num)d expenditures; a line with spending cannot be removed. "
                                  "Revise its amount instead.", count, code=line.code), field="")
    code = line.code
    db.session.delete(line)
    db.session.flush()
    return code


# ---------------------------------------------------------------------------------------------
# Allocations


def allocation_share(raw, *, label: str) -> Decimal | None:
    """'' or 0 -> None (no share); '12.5' -> Decimal; InputError outside 0-100 or past two decimals."""
    value = parse_percent(raw, label=label)
    if value is None or value == 0:
        return None
    if value != value.quantize(Decimal("0.01")):
        raise InputError(_("%(label)s: a share has at most two decimals.", label=label))
    return value


def set_allocations(line: BudgetLine, shares: dict[int, str], *, versions: str | None = None,
                    user=None) -> list[BudgetAllocation]:
    """Replace the line's allocations: ``{activity_id: "percent"}``; blank or 0 removes a share.

    The shares of a line total at most 100%; what is left is shown as unallocated. Errors
    name the form field of each share (``share-<activity id>``). ``versions`` is what the form
    held (``versions_of`` the line's allocations when it was opened): a share added, removed
    or changed since is refused (409) rather than overwritten. None: a caller without a form.
    """
    if versions is not None:
        check_versions(line.allocations, versions, _("The allocation of %(code)s", code=line.code))
    activities = {a.id: a for a in db.session.execute(
        select(Activity).where(Activity.project_id == line.project_id)).scalars()}
    errors: dict[str, str] = {}
    wanted: dict[int, Decimal] = {}
    for activity_id, raw in shares.items():
        activity = activities.get(activity_id)
        if activity is None:
            errors[f"share-{activity_id}"] = _("That activity is not part of this project.")
            continue
        try:
            value = allocation_share(raw, label=activity.code)
        except InputError as error:
            errors[f"share-{activity_id}"] = str(error)
            continue
        if value is not None:
            wanted[activity_id] = value
    raise_if(errors)
    total = sum(wanted.values(), Decimal(0))
    if total > 100:
        raise InputError(_("The shares of %(code)s would total %(total)s%%; a line's shares total at most 100%%.",
                           code=line.code, total=number(total)), field="")
    existing = {a.activity_id: a for a in line.allocations}
    for activity_id, allocation in list(existing.items()):
        if activity_id not in wanted:
            line.allocations.remove(allocation)
    for activity_id, value in wanted.items():
        if activity_id in existing:
            if existing[activity_id].percent != value:
                existing[activity_id].percent = value
                stamp(existing[activity_id], user)
        else:
            line.allocations.append(BudgetAllocation(project_id=line.project_id, activity_id=activity_id,
                                                     percent=value, updated_by_id=getattr(user, "id", None)))
    db.session.flush()
    return line.allocations


# ---------------------------------------------------------------------------------------------
# Expenditures


CENT = Decimal("0.01")
MAX_ORIGINAL = Decimal("1e15")  # below what Expenditure.original_amount holds, whatever the currency
MAX_RATE = Decimal("1e11")


def _positive_decimal(raw, *, label: str, places: int, example: str, limit: Decimal) -> Decimal | None:
    """A number above zero with at most ``places`` decimals (trailing zeros are fine), below ``limit``."""
    value = parse_decimal(raw, label=label, example=example)
    if value is None:
        return None
    if value <= 0:
        raise InputError(_("%(label)s must be more than zero.", label=label))
    exact = value.quantize(Decimal(1).scaleb(-places))
    if exact != value:
        raise InputError(ngettext("%(label)s can have at most %(num)d decimal.",
                                  "%(label)s can have at most %(num)d decimals.", places, label=label)
                         if places else _("%(label)s has no decimals.", label=label))
    if exact >= limit:
        raise InputError(_("%(label)s is too large.", label=label))
    return exact


def usd_from_original(original: Decimal, rate: Decimal) -> int:
    """Original amount ÷ rate (units per USD), in cents, rounded half-up."""
    return int((original / rate).quantize(CENT, rounding=ROUND_HALF_UP) * 100)


@dataclass
class Booking:
    expenditure: Expenditure
    warnings: list[str] = field(default_factory=list)
    computed_usd: bool = False

    @property
    def message(self) -> str:
        """What the person booking is told: 'Booked V-1: USD 2,000.00 (committed) on BL3.'"""
        e = self.expenditure
        status = str(EXPENDITURE_STATUS_LABELS.get(e.status, e.status)).lower()
        text = _("Booked %(voucher)s: %(amount)s (%(status)s) on %(line)s.", voucher=e.voucher,
                 amount=money(e.amount_cents), status=status, line=e.line.code)
        if self.computed_usd:
            text += " " + _("The USD amount was computed from %(amount)s %(currency)s at %(rate)s.",
                            amount=number(e.original_amount), currency=e.original_currency,
                            rate=number(e.exchange_rate))
        return text


def _currency_fields(data: dict, errors: dict[str, str]) -> tuple[Decimal | None, str, Decimal | None]:
    """Original amount (in its currency's minor units), currency code and rate: all or none."""
    raw_original = clean_text(data.get("original_amount"))
    currency = clean_text(data.get("original_currency")).upper()
    raw_rate = clean_text(data.get("exchange_rate"))
    original = rate = None
    if currency and currency not in CURRENCIES:
        errors["original_currency"] = _("%(code)s is not an ISO 4217 currency code such as VND or EUR.",
                                        code=currency)
    elif currency == "USD":
        errors["original_currency"] = _("Leave the original currency empty for amounts paid in US dollars.")
    if raw_original:
        if not currency and "original_currency" not in errors:
            errors["original_currency"] = _("Say which currency the original amount is in, for example %(code)s.",
                                            code="VND")
        try:
            places = minor_units(currency) if currency in CURRENCIES else 2
            original = _positive_decimal(raw_original, label=_("The original amount"), places=places,
                                         example="212325000", limit=MAX_ORIGINAL)
        except InputError as error:
            errors["original_amount"] = str(error)
        if not raw_rate:
            errors["exchange_rate"] = _("A foreign amount needs the exchange rate used (units of it for one USD).")
    elif currency and "original_currency" not in errors:
        errors["original_amount"] = _("Give the amount paid in %(currency)s, or leave the currency empty.",
                                      currency=currency)
    if raw_rate:
        if not raw_original and "original_amount" not in errors:
            errors["original_amount"] = _("An exchange rate needs the original amount it converts.")
        try:
            rate = _positive_decimal(raw_rate, label=_("The exchange rate"), places=6, example="22350",
                                     limit=MAX_RATE)
        except InputError as error:
            errors["exchange_rate"] = str(error)
    return original, currency, rate


@dataclass
class Conversion:
    """An amount paid in another currency as the form holds it: what it books in USD and whether
    its rate needs confirmation. One computation for the live preview and the booking, so the
    two never differ."""

    original: Decimal | None = None
    currency: str = ""
    rate: Decimal | None = None
    usd_cents: int | None = None
    check: rates.RateCheck | None = None
    kept_reason: str = ""  # an edit that keeps its rate keeps the reason it was confirmed with
    errors: dict[str, str] = field(default_factory=dict)  # the preview's messages of the three fields


def _conversion(project: Project, data: dict, expenditure: Expenditure | None, spent_on: date | None,
                errors: dict[str, str]) -> Conversion:
    """Parse the three currency fields (errors into ``errors``), convert, and check the rate."""
    original, currency, rate = _currency_fields(data, errors)
    conversion = Conversion(original, currency, rate)
    if original is None or rate is None:
        return conversion
    conversion.usd_cents = usd_from_original(original, rate)
    if errors.keys() & CURRENCY_FIELDS:
        return conversion
    if (expenditure is not None and expenditure.original_currency == currency
            and expenditure.exchange_rate is not None and expenditure.exchange_rate == rate):
        conversion.kept_reason = expenditure.rate_confirmation or ""
        return conversion  # the rate it was booked at: checked (and confirmed if need be) then
    conversion.check = rates.check_rate(project.id, currency, rate, spent_on, conversion.usd_cents,
                                        exclude_id=expenditure.id if expenditure is not None else None)
    return conversion


CURRENCY_FIELDS = frozenset({"original_amount", "original_currency", "exchange_rate"})
CONFIRMED = frozenset({"y", "yes", "on", "1", "true"})
MAX_REASON = 2000


def _rate_confirmation(conversion: Conversion, data: dict, errors: dict[str, str]) -> str:
    """The reason kept with a rate that needs confirmation ('' when none is needed); without a
    tick in "Confirm this rate" and a reason, errors on those two fields."""
    if conversion.check is None:
        return conversion.kept_reason
    ticked = data.get("rate_confirmed")
    ticked = ticked is True or str(ticked or "").strip().lower() in CONFIRMED
    reason = clean_text(data.get("rate_reason"))
    if not ticked:
        errors["rate_confirmed"] = conversion.check.refusal
    if not reason:
        errors["rate_reason"] = _("Say why this rate is right (for example, the bank's advice of the day).")
    elif len(reason) > MAX_REASON:
        errors["rate_reason"] = _("The reason has at most %(count)s characters.", count=MAX_REASON)
    return reason


def rate_preview(project: Project, data: dict, expenditure: Expenditure | None = None) -> Conversion:
    """What the form's three currency fields would book, as the person types (the same
    computation and rate check as the booking). ``errors`` of the fields are left out until all
    three hold something: half-typed is not wrong."""
    errors: dict[str, str] = {}
    try:
        spent_on = parse_date(data.get("spent_on"), label=_("The date"))
    except InputError:
        spent_on = None
    conversion = _conversion(project, data, expenditure, spent_on, errors)
    typed = all(clean_text(data.get(name)) for name in CURRENCY_FIELDS)
    conversion.errors = {k: v for k, v in errors.items() if k in CURRENCY_FIELDS} if typed else {}
    return conversion


def _expenditure_fields(project: Project, data: dict, expenditure: Expenditure | None) -> tuple[dict, bool]:
    """Parse and check an expenditure's fields (everything but the budget check)."""
    errors: dict[str, str] = {}
    line = None
    line_id = parse_id(data.get("line_id"))
    if line_id:
        line = db.session.get(BudgetLine, line_id)
        if line is None or line.project_id != project.id:
            line = None
    if line is None:
        errors["line_id"] = _("Choose the budget line this is paid from.")
    spent_on = None
    try:
        spent_on = parse_date(data.get("spent_on"), label=_("The date"))
        if spent_on is None:
            errors["spent_on"] = _("The date is required, for example %(example)s.", example="2016-11-25")
        else:  # a booking outside the period is warned about; far outside it is a slip
            check_near_project(spent_on, project.start_date, project.end_date, label=_("The date"), years=1)
    except InputError as error:
        errors["spent_on"] = str(error)
    status = data.get("status") or ""
    if status not in EXPENDITURE_STATUSES:
        errors["status"] = _("Choose committed or disbursed.")
    voucher = _text(data, "voucher", errors, 60, _("A voucher number has at most %(count)s characters.", count=60),
                    required=_("The voucher or reference number is required."))
    if "voucher" not in errors:
        clash = _voucher_booked(project.id, voucher)
        if clash is not None and (expenditure is None or clash != expenditure.id):
            errors["voucher"] = _voucher_taken(voucher)
    payee = _text(data, "payee", errors, 200, _("The payee has at most %(count)s characters.", count=200))

    conversion = _conversion(project, data, expenditure, spent_on, errors)
    original, currency, rate = conversion.original, conversion.currency, conversion.rate

    raw_usd = clean_text(data.get("amount"))
    amount_cents = None
    computed = False
    if raw_usd:
        try:
            amount_cents = parse_money_cents(raw_usd, field=_("The USD amount"))
        except InputError as error:
            errors["amount"] = str(error)
    if original is not None and rate is not None:
        expected = conversion.usd_cents  # from exactly the original amount that is stored
        if amount_cents is None and "amount" not in errors:
            amount_cents, computed = expected, True
            if amount_cents <= 0:
                errors["amount"] = _("The converted amount rounds to zero US dollars.")
            elif amount_cents >= 10**15:
                errors["amount"] = _("The converted amount is too large; check the rate.")
        elif amount_cents is not None and abs(amount_cents - expected) > 1:
            errors["amount"] = _(
                "%(amount)s does not match %(original)s %(currency)s at %(rate)s %(currency)s per USD, which is "
                "%(expected)s. Correct the rate, or leave the USD amount empty to have it computed.",
                amount=money(amount_cents), original=number(original, max(0, -original.as_tuple().exponent)),
                currency=currency, rate=input_number(rate), expected=money(expected))
    elif amount_cents is None and "amount" not in errors:
        errors["amount"] = _("The amount in USD is required (or give the original amount and rate to compute it).")
    confirmation = _rate_confirmation(conversion, data, errors)
    raise_if(errors)
    values = {
        "line_id": line.id, "spent_on": spent_on, "amount_cents": amount_cents, "status": status,
        "voucher": voucher, "payee": payee, "description": clean_text(data.get("description")),
        "original_amount": original, "original_currency": currency if original is not None else "",
        "exchange_rate": rate, "rate_confirmation": confirmation,
    }
    return values, computed


def _voucher_booked(project_id: int, voucher: str) -> int | None:
    """The id of the project's expenditure booked with this voucher, if any."""
    return db.session.execute(
        select(Expenditure.id).where(Expenditure.project_id == project_id, Expenditure.voucher == voucher)
    ).scalar()


def _voucher_taken(voucher: str) -> str:
    return _("Voucher %(voucher)s is already booked in this project; each voucher is booked once.", voucher=voucher)


def _budget_check(project: Project, line: BudgetLine, amount_cents: int, expenditure: Expenditure | None,
                  justification: str) -> None:
    """Spending past the line's current budget needs a written justification."""
    sums = _spending_sums(project.id, line.id).get(line.id, (0, 0))
    spent = sums[0] + sums[1]
    if expenditure is not None and expenditure.line_id == line.id:
        spent -= expenditure.amount_cents
    after = spent + amount_cents
    if after > line.current_cents and not justification:
        raise InputError(
            _("This takes %(code)s to %(after)s, %(over)s over its budget of %(budget)s. Write a justification to "
              "book it anyway.", code=line.code, after=money(after), over=money(after - line.current_cents),
              budget=money(line.current_cents)), field="overspend_justification")


def _date_warnings(project: Project, spent_on: date) -> list[str]:
    if project.start_date <= spent_on <= project.end_date:
        return []
    return [_("The date %(date)s is outside the project period (%(start)s to %(end)s). It was booked; check the "
              "date if that was not intended.", date=spent_on.isoformat(), start=project.start_date.isoformat(),
              end=project.end_date.isoformat())]


def _write_expenditure(expenditure: Expenditure, values: dict, justification: str, user) -> None:
    """Set the values and flush in a savepoint: a voucher booked by someone else at the same
    moment (the unique key) becomes the voucher field's message, as a voucher booked before."""
    try:
        with db.session.begin_nested():
            for key, value in {**values, "overspend_justification": justification}.items():
                if getattr(expenditure, key) != value:
                    setattr(expenditure, key, value)
            if expenditure.id is None:
                db.session.add(expenditure)
            if expenditure.id is None or db.session.is_modified(expenditure):
                stamp(expenditure, user)
            db.session.flush()
    except IntegrityError:
        raise InputError(_voucher_taken(values["voucher"]), field="voucher") from None


def book_expenditure(project: Project, data: dict, user=None) -> Booking:
    """Book a new expenditure against one of the project's lines."""
    values, computed = _expenditure_fields(project, data, None)
    justification = clean_text(data.get("overspend_justification"))
    line = db.session.get(BudgetLine, values["line_id"])
    _budget_check(project, line, values["amount_cents"], None, justification)
    expenditure = Expenditure(project_id=project.id, created_by_id=getattr(user, "id", None))
    _write_expenditure(expenditure, values, justification, user)
    return Booking(expenditure, _date_warnings(project, values["spent_on"]), computed)


def update_expenditure(project: Project, expenditure: Expenditure, data: dict, version, user=None) -> Booking:
    """Change an expenditure from a form opened at ``version``."""
    check_version(expenditure, version, _("Expenditure %(voucher)s", voucher=expenditure.voucher))
    values, computed = _expenditure_fields(project, data, expenditure)
    justification = clean_text(data.get("overspend_justification"))
    line = db.session.get(BudgetLine, values["line_id"])
    _budget_check(project, line, values["amount_cents"], expenditure, justification)
    _write_expenditure(expenditure, values, justification, user)
    return Booking(expenditure, _date_warnings(project, values["spent_on"]), computed)


def default_spent_on() -> date:
    """The date the add-expenditure form starts with: today."""
    return date.today()
