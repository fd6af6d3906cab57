"""Forms for logging in and managing members."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from ..forms import EmptyForm  # noqa: F401  (re-exported while other areas move to tracker.forms)
from ..forms import choice_list
from ..models import ROLES


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)])


class MemberForm(FlaskForm):
    email = EmailField("Email of an existing user", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=choice_list((role, role.capitalize()) for role in ROLES), validators=[DataRequired()])
