"""Forms for budget lines, allocations and expenditures.

The forms only carry and render the fields (and the CSRF token); the rules live in
``services`` so that they hold for every caller. Amounts are text fields so what the user
typed comes back exactly as typed when something is wrong.
"""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from ..models import BUDGET_CATEGORIES, EXPENDITURE_STATUSES
from ..models.budget import CATEGORY_LABELS
from . import currencies

try:  # WTForms 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None


def choice_list(pairs, optgroup_of=None) -> list:
    """(value, label) pairs as select choices; ``optgroup_of(value, label)`` may group them."""
    if SelectChoice is None:
        return [(value, label) for value, label in pairs]
    return [SelectChoice(value=value, label=label,
                         optgroup=optgroup_of(value, label) if optgroup_of else None) for value, label in pairs]

STATUS_LABELS = {"committed": "Committed", "disbursed": "Disbursed"}
AMOUNT = {"inputmode": "decimal", "autocomplete": "off"}


class BudgetLineForm(FlaskForm):
    code = StringField("Code", render_kw={"maxlength": 20, "autocomplete": "off"})
    category = SelectField("Category", choices=choice_list((c, CATEGORY_LABELS[c]) for c in BUDGET_CATEGORIES),
                           validate_choice=False)
    account_code = StringField("Donor's account code", render_kw={"maxlength": 40, "autocomplete": "off"})
    description = TextAreaField("Description")
    original = StringField("Original amount (USD)", render_kw=AMOUNT)
    revised = StringField("Revised amount (USD)", description="Leave empty while the original amount holds.",
                          render_kw=AMOUNT)
    notes = TextAreaField("Notes")
    version = HiddenField()

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("code", "category", "account_code", "description", "original", "revised", "notes")}


class ExpenditureForm(FlaskForm):
    spent_on = StringField("Date", render_kw={"type": "date"})
    line_id = SelectField("Budget line", choices=[], validate_choice=False)
    amount = StringField("Amount (USD)", render_kw=AMOUNT,
                         description="May be left empty when an original amount and rate are given.")
    original_amount = StringField("Original amount", render_kw=AMOUNT)
    original_currency = SelectField("Original currency", choices=choice_list(currencies.choices()), validate_choice=False)
    exchange_rate = StringField("Exchange rate (units per USD)", render_kw=AMOUNT,
                                description="For VND, how many đồng made one US dollar, for example 22350.")
    payee = StringField("Payee", render_kw={"maxlength": 200})
    voucher = StringField("Voucher or reference number", render_kw={"maxlength": 60, "autocomplete": "off"})
    description = TextAreaField("Description")
    status = SelectField("Status", choices=choice_list((s, STATUS_LABELS[s]) for s in EXPENDITURE_STATUSES),
                         validate_choice=False)
    overspend_justification = TextAreaField(
        "Justification for spending past the line's budget",
        description="Needed only when this takes the line over its budget.")
    version = HiddenField()

    def set_lines(self, lines) -> None:
        self.line_id.choices = choice_list([("", "— choose a line —")] + [
            (str(line.id), f"{line.code} {line.description[:60]}") for line in lines])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("spent_on", "line_id", "amount", "original_amount", "original_currency", "exchange_rate",
                 "payee", "voucher", "description", "status", "overspend_justification")}


def apply_errors(form, error) -> None:
    """Put a service's FieldErrors next to the form's fields (unknown fields go on top of the form)."""
    errors = getattr(error, "errors", None) or {"": str(error)}
    for name, message in errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)
