"""Form pieces shared by every audience."""
from flask_babel import get_translations
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from app.services.errors import RuleViolation, lazy_text as _l

REQUIRED = _l("This field is required.")
BAD_DATE = _l("Enter a date, for example 25/06/2026.")
BAD_NUMBER = _l("Enter a number.")


def required():
    return InputRequired(REQUIRED)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def too_long(max_length):
    return Length(max=max_length, message=_l("This is too long (at most %(max)d characters).", max=max_length))


def text(label, max_length=200, is_required=False, extra=(), **render_kw):
    validators = [required() if is_required else Optional(), too_long(max_length), *extra]
    return StringField(label, validators=validators, filters=[_strip], render_kw=render_kw or None)


def long_text(label, max_length=5000):
    return TextAreaField(label, validators=[Optional(), too_long(max_length)], filters=[_strip])


def day(label, is_required=False):
    return _DayField(label, validators=[required() if is_required else Optional()])


class _DayField(DateField):
    """A date field that accepts the browser's yyyy-mm-dd and the typed dd/mm/yyyy."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(BAD_DATE) from exc

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.isoformat() if self.data else ""


def whole_number(label, minimum=None, maximum=None, is_required=False):
    validators = [required() if is_required else Optional()]
    if minimum is not None or maximum is not None:
        validators.append(NumberRange(minimum, maximum, message=_l("Enter a whole number between %(min)s and %(max)s.")))
    return IntegerField(label, validators=validators)


def decimal(label):
    return DecimalField(label, places=2, validators=[Optional(), NumberRange(min=0, message=_l("Enter a number that is not negative."))])


def email(label):
    return StringField(label, validators=[Optional(), Email(message=_l("This e-mail address is not valid.")), Length(max=254)])


# WTForms ships no Vietnamese catalogue: its own messages are translated in ours.
WTFORMS_MESSAGES = (
    _l("Not a valid integer value."), _l("Not a valid decimal value."), _l("Not a valid choice."),
    _l("Not a valid float value."), _l("Not a valid date value."),
)


class TranslatedMeta:
    def get_translations(self, form):
        return get_translations()


class ServiceForm(FlaskForm):
    """A form whose data goes to a service; a RuleViolation comes back as a field error."""

    skip_fields: tuple[str, ...] = ()

    class Meta(TranslatedMeta):
        pass

    def values(self) -> dict:
        return {
            name: field.data
            for name, field in self._fields.items()
            if name != "csrf_token" and name not in self.skip_fields and field.type != "FileField"
        }

    def add_error(self, violation: RuleViolation) -> None:
        """Show a refused rule next to its field (or above the form): its message is text, escaped on the page."""
        field = self._fields.get(violation.field)
        if field is None:
            self.form_errors.append(violation.message)
        else:
            field.errors = list(field.errors) + [violation.message]

    def add_errors(self, errors: dict) -> bool:
        for name, message in errors.items():
            self.add_error(RuleViolation(name, message))
        return not errors
