"""Forms for administrators."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..accounts.services import MIN_PASSWORD_LENGTH

LENGTH_MESSAGE = f"A password needs at least {MIN_PASSWORD_LENGTH} characters (and at most 500)."
PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters. Stored hashed; tell the person in person."


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("Password", description=PASSWORD_HINT,
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=500, message=LENGTH_MESSAGE)])
    confirm = PasswordField("Password again", validators=[DataRequired(), EqualTo("password", "The passwords differ.")])
    is_admin = BooleanField("Administrator (manages users and every project)")


class PasswordForm(FlaskForm):
    password = PasswordField("New password", description=PASSWORD_HINT,
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=500, message=LENGTH_MESSAGE)])
    confirm = PasswordField("New password again",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])
