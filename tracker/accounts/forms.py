"""Forms for logging in and managing members."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from ..forms import label_choices
from ..models.accounts import ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


class LanguageForm(FlaskForm):
    """The header's language switch and the account page's choice (a code, or empty: follow the
    browser), and where to go back to."""

    locale = HiddenField()
    next = HiddenField()


class DigestForm(FlaskForm):
    """The account page's choice of the weekly digest by e-mail (tracker/reminders)."""

    digest = BooleanField(_l("Send me a weekly digest of what needs my action"))


class MemberForm(FlaskForm):
    email = EmailField(_l("Email of an existing user"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=label_choices(ROLE_LABELS), validators=[DataRequired()])
    # The project's memberships as the page showed them (tracker.concurrency.versions_of): a
    # role given or changed by someone else since is not overwritten (409).
    versions = HiddenField()
