"""Forms of the import: the workbook upload and applying a dry run."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Regexp


class ImportForm(FlaskForm):
    workbook = FileField(
        _l("Workbook (.xlsx)"),
        validators=[FileRequired(_l("Choose the workbook to upload."))],
        description=_l("The blank logframe template filled in, or a workbook exported from this app. "
                       "Nothing is saved until you apply the dry run."),
    )


class ApplyImportForm(FlaskForm):
    """Applies a dry run: the stored upload's token and what the dry run showed."""

    token = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$"), Length(max=32)])
    fingerprint = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$"), Length(max=64)])
