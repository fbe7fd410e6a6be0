from flask_babel import lazy_gettext as _l

from app.forms import ServiceForm, day, long_text


class VerifyForm(ServiceForm):
    valid_until = day(_l("Valid until"))


class RejectForm(ServiceForm):
    reason = long_text(_l("Reason (the cooperative will see it)"), 2000)


class OverrideForm(ServiceForm):
    reason = long_text(_l("Why may these stamps be activated anyway?"), 2000)


class RecallForm(ServiceForm):
    reason = long_text(_l("Reason for the recall (buyers see it when they scan)"), 2000)
