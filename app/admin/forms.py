from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import InputRequired, Length

from app.coop.forms import identifier
from app.forms import ServiceForm, long_text, text
from app.models import Role
from app.services.identifiers import LOGIN

ROLE_LABELS = {Role.MEMBER: _l("Cooperative member"), Role.OFFICER: _l("Commune officer"), Role.ADMIN: _l("Administrator")}


def _optional_int(value):
    return int(value) if value not in (None, "") else None


class UserForm(ServiceForm):
    name = text(_l("Full name"), 120, is_required=True)
    login = identifier(_l("E-mail or phone number"), LOGIN)
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("This field is required.")), Length(min=8, max=200, message=_l("The password must have at least 8 characters."))])
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()], coerce=Role)
    cooperative_id = SelectField(_l("Cooperative (for a member)"), coerce=_optional_int, choices=[])
    communes = text(_l("Communes (for an officer), one per line or separated by ;"), 2000)

    skip_fields = ("communes",)


class UserEditForm(UserForm):
    """The creation form without the password (a reset link sets that), and with the account's state."""
    password = None
    is_disabled = BooleanField(_l("Disabled (cannot sign in; signed out everywhere)"))


class BannedSubstancesForm(ServiceForm):
    substances = long_text(_l("Banned substances, one per line (name; group)"), 20000)


class TradeNameForm(ServiceForm):
    """A trade name of a listed substance, with where it is attributed to it."""
    substance_id = SelectField(_l("Active ingredient"), coerce=_optional_int, choices=[],
                               validators=[InputRequired(_l("This field is required."))])
    name = text(_l("Trade name"), 120, is_required=True)
    source = text(_l("Source (decision, registration or label)"), 2000, is_required=True)
