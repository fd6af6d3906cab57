"""Forms for weekly logs and activities.

Numbers and dates are text fields read by the progress services' rules (``parse_percent_complete``,
``validation.parse_date``), so a bad value comes back exactly as typed with a message that says
what is expected (WTForms' own numeric fields say only "Not a valid integer value").
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..concurrency import new_form_token
from ..forms import IsoDateField, label_choices
from ..i18n import N_
from ..models.progress import STATUS_LABELS
from ..validation import InputError
from .services import ActivityInput, LogInput, parse_percent_complete

STATUS_CHOICES = label_choices(STATUS_LABELS)
PERCENT_REQUIRED = N_("Enter % complete, a whole number from 0 to 100.")


class PercentField(StringField):
    """A whole percentage 0-100, kept as typed when it is not one (``.number`` after validation)."""

    def post_validate(self, form, validation_stopped):
        self.number = None
        if validation_stopped:
            return
        try:
            self.number = parse_percent_complete(self.data)
        except InputError as error:
            self.errors.append(str(error))
            return
        if self.number is None and self.flags.required:
            self.errors.append(_(PERCENT_REQUIRED))


class LogForm(FlaskForm):
    """One activity's week: status, % complete, what happened, problems, next steps, evidence."""

    week = StringField(_l("Week"), validators=[DataRequired(message=_l("Choose the week this log is for."))],
                       render_kw={"type": "week"},
                       description=_l("An ISO week, for example %(example)s.", example="2016-W47"))
    status = SelectField(_l("Status"), choices=STATUS_CHOICES)
    percent_complete = PercentField(_l("% complete"), validators=[DataRequired(message=_l(PERCENT_REQUIRED))],
                                    render_kw={"inputmode": "numeric", "size": 4})
    done = TextAreaField(_l("What was done"), validators=[Length(max=10_000)])
    problems = TextAreaField(_l("Problems"), validators=[Length(max=10_000)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Length(max=10_000)])
    # Ticked boxes, not a Ctrl-click multi-select (phones have no Ctrl; issue 14). The list has a
    # search box that filters it in the page (static/js/app.js); without JavaScript it is the whole list.
    evidence = SelectMultipleField(_l("Link evidence to this activity"), coerce=int, validate_choice=False,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                   description=_l("Optional; tick each item this week's work produced."))
    version = HiddenField()
    context = HiddenField(default="activities")

    def validate_evidence(self, field):
        known = {tuple(choice)[0] for choice in field.choices or ()}
        if any(value not in known for value in field.data or ()):
            raise ValidationError(_("Choose evidence items of this project from the list."))

    @classmethod
    def for_week(cls, activity, week: str, context: str, existing=None, **kwargs) -> "LogForm":
        """An unsubmitted form for ``week``, filled from that week's log when there is one."""
        form = cls(formdata=None, **kwargs)
        form.week.data, form.context.data, form.evidence.data = week, context, []
        if existing is not None:
            form.status.data, form.percent_complete.data = existing.status, str(existing.percent_complete)
            form.done.data, form.problems.data = existing.done, existing.problems
            form.next_steps.data, form.version.data = existing.next_steps, str(existing.version)
        else:
            form.status.data = "on_track" if activity.status == "not_started" else activity.status
            form.percent_complete.data = str(activity.percent_complete)
            form.version.data = ""
        return form

    def log_input(self) -> LogInput:
        """What the service needs, as typed."""
        return LogInput(week=self.week.data, status=self.status.data, percent_complete=self.percent_complete.data,
                        done=self.done.data or "", problems=self.problems.data or "",
                        next_steps=self.next_steps.data or "", evidence_ids=tuple(self.evidence.data or ()))


class ActivityForm(FlaskForm):
    """An activity's plan and state (managers)."""

    result_id = SelectField(_l("Result it delivers"), coerce=int, validate_choice=False)
    code = StringField(_l("Code"), validators=[
        DataRequired(message=_l("Give the activity a code, for example %(example)s.", example="A1.6")),
        Length(max=20)], render_kw={"size": 8})
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the activity a title.")),
                                                 Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Length(max=10_000)])
    planned_start = IsoDateField(_l("Planned start"))
    planned_end = IsoDateField(_l("Planned end"))
    actual_start = IsoDateField(_l("Actual start"))
    actual_end = IsoDateField(_l("Actual end"))
    status = SelectField(_l("Status"), choices=STATUS_CHOICES)
    percent_complete = PercentField(_l("% complete"), default="0", render_kw={"inputmode": "numeric", "size": 4})
    responsible = StringField(_l("Responsible"), validators=[Length(max=200)])
    locations = StringField(_l("Locations"), validators=[Length(max=300)],
                            description=_l("Separate places with semicolons, for example Hà Nội; Huế."))
    version = HiddenField()
    form_token = HiddenField(default=new_form_token)  # a new activity is made once (tracker.concurrency)

    def activity_input(self) -> ActivityInput:
        """What the service needs, as typed (the service parses and checks every field)."""
        return ActivityInput(
            result_id=self.result_id.data, code=self.code.data or "", title=self.title.data or "",
            description=self.description.data or "", planned_start=self.planned_start.data,
            planned_end=self.planned_end.data, actual_start=self.actual_start.data, actual_end=self.actual_end.data,
            status=self.status.data, percent_complete=self.percent_complete.data or 0,
            responsible=self.responsible.data or "", locations=self.locations.data or "")

    @classmethod
    def for_activity(cls, activity, **kwargs) -> "ActivityForm":
        """An unsubmitted form filled from the activity (dates as ISO text)."""
        form = cls(obj=activity, formdata=None, **kwargs)
        for name in ("planned_start", "planned_end", "actual_start", "actual_end"):
            value = getattr(activity, name)
            form[name].data = value.isoformat() if value else ""
        form.percent_complete.data = str(activity.percent_complete)
        form.version.data = str(activity.version)
        return form


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[DataRequired()])
