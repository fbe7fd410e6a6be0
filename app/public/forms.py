from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app.forms import TranslatedMeta, long_text, text


class FakeReportForm(FlaskForm):
    """Anonymous, so without CSRF (there is no session to abuse); rate-limited instead."""

    class Meta(TranslatedMeta):
        csrf = False

    code = text(_l("Stamp code"), 60)
    message = long_text(_l("What looks wrong?"), 2000)
    place = text(_l("Where did you buy it?"), 200)
    contact = text(_l("Phone or e-mail, if you want an answer"), 120)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not (self.message.data or "").strip():
            self.message.errors = list(self.message.errors) + [_l("Please tell us what looks wrong.")]
            return False
        return ok
