"""Forms of the inbox area: bulk submit and approve of one reporting period (a grid column)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length


class BulkForm(FlaskForm):
    """One shared note; the chosen periods travel as ``period`` values ``<id>:<version>`` and the
    return notes as ``return-<id>`` (their number depends on the column, so they are read from the
    request by the view rather than declared here)."""

    note = TextAreaField(_l("Note for all of them (optional)"), validators=[Length(max=2000)],
                         description=_l("Kept with each period in the audit trail."))
