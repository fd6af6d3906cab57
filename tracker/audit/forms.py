"""The audit trail's filter: a GET form read from the URL (no CSRF: it changes nothing)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectField
from wtforms.fields import DateField
from wtforms.validators import NumberRange, Optional, ValidationError


class TrailFilterForm(Form):
    """Filters by person, action, record (table and/or row id) and date range.

    The choices come from the project's own trail; a value that is not among them is an
    error shown next to the field (and the filter ignores it).
    """

    actor = SelectField(_l("Person"), choices=[], validate_choice=True, default="")
    action = SelectField(_l("Action"), choices=[], validate_choice=True, default="")
    table = SelectField(_l("Record type"), choices=[], validate_choice=True, default="")
    row_id = IntegerField(_l("Record id"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    date_from = DateField(_l("From (UTC)"), validators=[Optional()])
    date_to = DateField(_l("To (UTC)"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))
