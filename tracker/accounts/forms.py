"""Forms for logging in and managing members."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..models import ROLES


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])


class EmptyForm(FlaskForm):
    """A button-only POST (logout, remove) still carries a CSRF token."""


class MemberForm(FlaskForm):
    email = EmailField("Email of an existing user", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice(r, r.capitalize()) for r in ROLES], validators=[DataRequired()])
