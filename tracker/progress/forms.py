"""Forms for weekly logs and activities.

Numbers and dates are text fields parsed here, so a bad value comes back exactly as typed
with a message that says what is expected (WTForms' own numeric fields say only "Not a
valid integer value").
"""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models.progress import ACTIVITY_STATUSES, STATUS_LABELS

try:  # WTForms 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choice_list(pairs) -> list:
    """(value, label) pairs as the installed WTForms wants its choices."""
    pairs = list(pairs)
    if SelectChoice is None:
        return pairs
    return [SelectChoice(value=value, label=label) for value, label in pairs]


STATUS_CHOICES = choice_list((s, STATUS_LABELS[s]) for s in ACTIVITY_STATUSES)


def parse_percent(raw) -> int | None:
    """'45' or '45%' -> 45; None when empty; ValueError when not a whole number 0-100."""
    text = (raw or "").strip().rstrip("%").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 100:
        raise ValueError("% complete must be a whole number from 0 to 100.")
    return int(text)


def parse_date(raw, label: str) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{label} must be a date such as 2016-11-24.") from None


class PercentField(StringField):
    """A whole percentage 0-100, kept as typed when it is not one."""

    def post_validate(self, form, validation_stopped):
        if validation_stopped:
            return
        try:
            self.number = parse_percent(self.data)
        except ValueError as error:
            self.errors.append(str(error))
            self.number = None
            return
        if self.number is None and self.flags.required:
            self.errors.append("Enter % complete, a whole number from 0 to 100.")


class IsoDateField(StringField):
    """An ISO date typed or picked (``<input type=date>``); kept as typed when it is not one."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "date", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators or [Optional()], render_kw=render_kw, **kwargs)

    def post_validate(self, form, validation_stopped):
        self.date = None
        if validation_stopped:
            return
        try:
            self.date = parse_date(self.data, str(self.label.text))
        except ValueError as error:
            self.errors.append(str(error))


class LogForm(FlaskForm):
    """One activity's week: status, % complete, what happened, problems, next steps, evidence."""

    week = StringField("Week", validators=[DataRequired(message="Choose the week this log is for.")],
                       render_kw={"type": "week"}, description="An ISO week, for example 2016-W47.")
    status = SelectField("Status", choices=STATUS_CHOICES)
    percent_complete = PercentField("% complete", validators=[DataRequired(message="Enter % complete, a whole "
                                                                                    "number from 0 to 100.")],
                                    render_kw={"inputmode": "numeric", "size": 4})
    done = TextAreaField("What was done", validators=[Length(max=10_000)])
    problems = TextAreaField("Problems", validators=[Length(max=10_000)])
    next_steps = TextAreaField("Next steps", validators=[Length(max=10_000)])
    evidence = SelectMultipleField("Link evidence to this activity", coerce=int, validate_choice=False,
                                   description="Optional; hold Ctrl (or ⌘) to choose more than one.")
    version = HiddenField()
    context = HiddenField(default="activities")

    def validate_evidence(self, field):
        known = {tuple(choice)[0] for choice in field.choices or ()}
        if any(value not in known for value in field.data or ()):
            raise ValidationError("Choose evidence items of this project from the list.")


class ActivityForm(FlaskForm):
    """An activity's plan and state (managers)."""

    result_id = SelectField("Result it delivers", coerce=int, validate_choice=False)
    code = StringField("Code", validators=[DataRequired(message="Give the activity a code, for example A1.6."),
                                           Length(max=20)], render_kw={"size": 8})
    title = StringField("Title", validators=[DataRequired(message="Give the activity a title."),
                                             Length(max=500)])
    description = TextAreaField("Description", validators=[Length(max=10_000)])
    planned_start = IsoDateField("Planned start")
    planned_end = IsoDateField("Planned end")
    actual_start = IsoDateField("Actual start")
    actual_end = IsoDateField("Actual end")
    status = SelectField("Status", choices=STATUS_CHOICES)
    percent_complete = PercentField("% complete", default="0", render_kw={"inputmode": "numeric", "size": 4})
    responsible = StringField("Responsible", validators=[Length(max=200)])
    locations = StringField("Locations", validators=[Length(max=300)],
                            description="Separate places with semicolons, for example Hà Nội; Huế.")
    version = HiddenField()


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[DataRequired()])
