"""Forms for logging in and managing members."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from ..forms import label_choices
from ..models.accounts import ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])


class MemberForm(FlaskForm):
    email = EmailField("Email of an existing user", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=label_choices(ROLE_LABELS), validators=[DataRequired()])
    # The project's memberships as the page showed them (tracker.concurrency.versions_of): a
    # role given or changed by someone else since is not overwritten (409).
    versions = HiddenField()
