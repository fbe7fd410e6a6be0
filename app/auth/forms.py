from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from app.forms import REQUIRED, ServiceForm

PASSWORD_RULES = _l("At least 8 characters. A short sentence is easy to remember and hard to guess.")


class SignInForm(FlaskForm):
    login = StringField(_l("E-mail or phone number"), validators=[InputRequired(_l("Enter your e-mail or phone number.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password.")), Length(max=200)])


def _new_password(label):
    too_short = _l("The password must have at least 8 characters.")
    return PasswordField(label, validators=[InputRequired(REQUIRED), Length(min=8, message=too_short),
                                            Length(max=200, message=_l("The password is too long (at most 200 characters)."))])


def _repeated():
    return PasswordField(_l("New password again"), validators=[
        InputRequired(REQUIRED), EqualTo("new_password", message=_l("The two new passwords are not the same."))])


class NewPasswordForm(ServiceForm):
    """Choosing a password from a reset link."""
    new_password = _new_password(_l("New password"))
    confirm = _repeated()


class ChangePasswordForm(ServiceForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(REQUIRED), Length(max=200)])
    new_password = _new_password(_l("New password"))
    confirm = _repeated()
