"""Forms for budget lines, allocations and expenditures.

The forms only carry and render the fields (and the CSRF token); the rules live in
``services`` so that they hold for every caller. Amounts are text fields so what the user
typed comes back exactly as typed when something is wrong.
"""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.widgets import Select, html_params

from ..concurrency import new_form_token
from ..formatting import input_money, input_number
from ..forms import choice_list, label_choices
from ..models.budget import CATEGORY_LABELS, EXPENDITURE_STATUS_LABELS
from . import currencies

AMOUNT = {"inputmode": "decimal", "autocomplete": "off"}


class FastSelect(Select):
    """WTForms' ``Select`` writing the same HTML with one f-string per plain option.

    The booking form lists every budget line and every currency (a few hundred options on a
    large project) on the budget page; WTForms' ``html_params`` per option was a visible part
    of the page's time. ``static=True`` (a field whose choices never change, such as the
    currencies) keeps the options' HTML per language. Options with optgroups or their own
    attributes go to WTForms.
    """

    def __init__(self, multiple: bool = False, static: bool = False):
        super().__init__(multiple)
        self.static = static
        self._cache: dict[str, list[tuple[str, str]]] = {}

    @staticmethod
    def _option(value, label) -> str:
        value = str(value) if isinstance(value, bool) else value
        return f'value="{escape(value)}">{escape(label or value)}</option>'

    def _options(self, field) -> list[tuple[object, str]] | None:
        """(value, the option's HTML after '<option ') of every choice; None: WTForms must write them."""
        key = str(get_locale()) if self.static else None
        if key is not None and key in self._cache:
            return self._cache[key]
        if isinstance(field.choices, list) and all(type(choice) is tuple and len(choice) == 2
                                                   for choice in field.choices):
            return [(value, self._option(value, label)) for value, label in field.choices]
        if field.has_groups():
            return None
        choices = list(field._iter_choices_normalized())
        if any(choice.render_kw for choice in choices):
            return None
        options = [(choice.value, self._option(choice.value, choice.label)) for choice in choices]
        if key is not None:
            self._cache[key] = options
        return options

    def __call__(self, field, **kwargs):
        options = self._options(field)
        if options is None:
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        coerce, data = field.coerce, field.data
        for value, option in options:
            html.append(("<option selected " if coerce(value) == data else "<option ") + option)
        html.append("</select>")
        return Markup("".join(html))


def _plain(value) -> str:
    """A stored number as typed text in the person's locale (no grouping): 1.2340 -> '1.234'
    (en) or '1,234' (vi), 22350.000000 -> '22350', None -> ''."""
    return input_number(value)


class BudgetLineForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"maxlength": 20, "autocomplete": "off"})
    category = SelectField(_l("Category"), choices=label_choices(CATEGORY_LABELS), validate_choice=False)
    account_code = StringField(_l("Donor's account code"), render_kw={"maxlength": 40, "autocomplete": "off"})
    description = TextAreaField(_l("Description"))
    original = StringField(_l("Original amount (USD)"), render_kw=AMOUNT)
    revised = StringField(_l("Revised amount (USD)"), description=_l("Leave empty while the original amount holds."),
                          render_kw=AMOUNT)
    notes = TextAreaField(_l("Notes"))
    version = HiddenField()

    @classmethod
    def for_line(cls, line) -> "BudgetLineForm":
        """The form filled from a stored line (amounts in dollars and cents, never through a float)."""
        form = cls(formdata=None, obj=line)
        form.original.data = input_money(line.original_cents)
        form.revised.data = input_money(line.revised_cents)
        form.version.data = str(line.version)
        return form

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("code", "category", "account_code", "description", "original", "revised", "notes")}


class ExpenditureForm(FlaskForm):
    spent_on = StringField(_l("Date"), render_kw={"type": "date"})
    line_id = SelectField(_l("Budget line"), choices=[], validate_choice=False, widget=FastSelect())
    amount = StringField(_l("Amount (USD)"), render_kw=AMOUNT,
                         description=_l("May be left empty when an original amount and rate are given."))
    original_amount = StringField(_l("Original amount"), render_kw=AMOUNT)
    original_currency = SelectField(_l("Original currency"), choices=choice_list(currencies.choices()),
                                    validate_choice=False, widget=FastSelect(static=True))
    exchange_rate = StringField(_l("Exchange rate (units per USD)"), render_kw=AMOUNT,
                                description=_l("For VND, how many đồng made one US dollar, for example %(example)s.",
                                               example="22350"))
    payee = StringField(_l("Payee"), render_kw={"maxlength": 200})
    voucher = StringField(_l("Voucher or reference number"), render_kw={"maxlength": 60, "autocomplete": "off"})
    description = TextAreaField(_l("Description"))
    status = SelectField(_l("Status"), choices=label_choices(EXPENDITURE_STATUS_LABELS), validate_choice=False,
                         widget=FastSelect())
    overspend_justification = TextAreaField(
        _l("Justification for spending past the line's budget"),
        description=_l("Needed only when this takes the line over its budget."))
    # Shown when the rate is far from the project's last one (tracker/budget/rates.py).
    rate_confirmed = BooleanField(_l("Confirm this rate"))
    rate_reason = TextAreaField(_l("Why this rate is right"),
                                description=_l("Kept with the expenditure and shown to the auditor."),
                                render_kw={"rows": 2, "maxlength": 2000})
    version = HiddenField()
    form_token = HiddenField(default=new_form_token)  # a new booking is made once (tracker.concurrency)

    @classmethod
    def for_expenditure(cls, item) -> "ExpenditureForm":
        """The form filled from a stored expenditure (amounts as exact decimals, never through a float)."""
        form = cls(formdata=None, obj=item)
        form.spent_on.data = item.spent_on.isoformat()
        form.line_id.data = str(item.line_id)
        form.amount.data = "" if not item.amount_cents else input_money(item.amount_cents)
        form.original_amount.data = _plain(item.original_amount)
        form.exchange_rate.data = _plain(item.exchange_rate)
        form.rate_reason.data = item.rate_confirmation
        form.version.data = str(item.version)
        return form

    def set_lines(self, lines) -> None:
        # Plain (value, label) pairs: FastSelect writes them without wrapping each in an object.
        self.line_id.choices = [("", _("— choose a line —"))] + [
            (str(line.id), f"{line.code} {line.description[:60]}") for line in lines]

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("spent_on", "line_id", "amount", "original_amount", "original_currency", "exchange_rate",
                 "payee", "voucher", "description", "status", "overspend_justification", "rate_confirmed",
                 "rate_reason")}


def allocation_form(activities, current: dict[int, str], versions: str = "") -> FlaskForm:
    """One text field ``share-<activity id>`` per activity, filled with the line's current shares
    (or, on a POST, with what was typed)."""
    fields = {f"share-{a.id}": StringField(a.code, default=current.get(a.id, ""),
                                           render_kw={"inputmode": "decimal", "size": 6})
              for a in activities}
    # The line's allocations as they were when the form was opened (tracker.concurrency.versions_of).
    fields["versions"] = HiddenField(default=versions)
    form_class = type("AllocationForm", (FlaskForm,), fields)
    return form_class()
