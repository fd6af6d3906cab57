"""Forms for administrators."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..accounts.services import MIN_PASSWORD_LENGTH

LENGTH_MESSAGE = _l("A password needs at least %(count)s characters (and at most 500).", count=MIN_PASSWORD_LENGTH)
PASSWORD_HINT = _l("At least %(count)s characters. Stored hashed; tell the person in person.", count=MIN_PASSWORD_LENGTH)


class UserCreateForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), description=PASSWORD_HINT,
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=500, message=LENGTH_MESSAGE)])
    confirm = PasswordField(_l("Password again"), validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))])
    is_admin = BooleanField(_l("Administrator (manages users and every project)"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), description=PASSWORD_HINT,
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=500, message=LENGTH_MESSAGE)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))])
