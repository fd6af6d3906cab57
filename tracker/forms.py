"""Form plumbing every area shares: the button-only form, select choices, date fields, and
putting a service's ``InputError`` back next to the fields it names.

Area forms (``tracker/<area>/forms.py``) only carry and render fields; the rules live in the
area's services so they hold for every caller (pages, htmx fragments, the import, the CLI).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from .validation import InputError, parse_date

try:  # WTForms 3.2+ wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


class EmptyForm(FlaskForm):
    """A button-only POST (approve, remove, log out) still carries a CSRF token."""


def choice_list(pairs, optgroup_of=None) -> list:
    """(value, label) pairs as select choices; ``optgroup_of(value, label)`` may group them."""
    pairs = list(pairs)
    if SelectChoice is None:
        return pairs
    return [SelectChoice(value=value, label=label,
                         optgroup=optgroup_of(value, label) if optgroup_of else None) for value, label in pairs]


def label_choices(labels: dict) -> list:
    """Select choices from one of the models' ordered value -> label maps."""
    return choice_list(labels.items())


def apply_errors(form, error: Exception) -> None:
    """Put an InputError's messages next to the form's fields; unknown fields go on top of the form."""
    errors = getattr(error, "errors", None) or {getattr(error, "field", None) or "": str(error)}
    for name, message in errors.items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)


class IsoDateField(StringField):
    """An ISO date typed or picked (``<input type=date>``); kept as typed when it is not one.

    ``field.date`` holds the parsed date after validation (None when empty or invalid).
    """

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "date", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators or [Optional()], render_kw=render_kw, **kwargs)

    def post_validate(self, form, validation_stopped):
        self.date = None
        if validation_stopped:
            return
        try:
            self.date = parse_date(self.data, label=str(self.label.text))
        except InputError as error:
            self.errors.append(str(error))
