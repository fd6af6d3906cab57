"""The audit trail's filter: a GET form read from the URL (no CSRF: it changes nothing)."""

from wtforms import Form, IntegerField, SelectField
from wtforms.fields import DateField
from wtforms.validators import NumberRange, Optional, ValidationError


class TrailFilterForm(Form):
    """Filters by person, action, record (table and/or row id) and date range.

    The choices come from the project's own trail; a value that is not among them is an
    error shown next to the field (and the filter ignores it).
    """

    actor = SelectField("Person", choices=[], validate_choice=True, default="")
    action = SelectField("Action", choices=[], validate_choice=True, default="")
    table = SelectField("Record type", choices=[], validate_choice=True, default="")
    row_id = IntegerField("Record id", validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
