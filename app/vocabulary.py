"""Names of things users pick from, shared by the dashboard and the public pages."""
from flask_babel import lazy_gettext as _l

from app.models import BuyerKind, EventKind, InputKind

EVENT_LABELS = {
    EventKind.PLANTING: _l("Planting"), EventKind.FERTILISING: _l("Fertilising"),
    EventKind.SPRAYING: _l("Spraying"), EventKind.IRRIGATION: _l("Irrigation"),
    EventKind.HARVEST: _l("Harvest"), EventKind.PACKING: _l("Packing"),
    EventKind.TRANSPORT: _l("Transport"), EventKind.INSPECTION: _l("Inspection"),
    EventKind.OTHER: _l("Other"),
}

INPUT_LABELS = {
    InputKind.SEEDLINGS: _l("Seedlings"), InputKind.FERTILISER: _l("Fertiliser"), InputKind.PESTICIDE: _l("Pesticide"),
    InputKind.PACKAGING: _l("Packaging"), InputKind.OTHER: _l("Other"),
}

BUYER_LABELS = {
    BuyerKind.TRADER: _l("Trader"), BuyerKind.EXPORTER: _l("Exporter"), BuyerKind.SHOP: _l("Shop"),
    BuyerKind.MARKET: _l("Market"), BuyerKind.OTHER: _l("Other"),
}

AUDIT_ACTIONS = {
    "create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"), "verified": _l("Verified"),
    "rejected": _l("Rejected"), "gate_override": _l("Gate overridden"), "recall": _l("Recalled"),
    "label_run": _l("Stamps printed"), "activate": _l("Stamps activated"), "void": _l("Stamps voided"),
    "banned_list": _l("Banned substances changed"), "sign_in": _l("Signed in"), "sign_in_failed": _l("Failed sign-in"), "refused": _l("Access refused"),
    "sign_out_others": _l("Signed out of other devices"), "password_changed": _l("Password changed"),
    "password_reset_link": _l("Password reset link made"), "password_reset": _l("Password reset"),
    "print_over_quantity": _l("More stamps than the batch's quantity"), "import": _l("Spreadsheet imported"),
}


def sheet_name(run) -> str:
    """The label sheet a run is printed on, by its name in the user's language, never its id ("a4-65")."""
    from app.services import label_sheets  # loads the label library: only pages that show a run need it

    return label_sheets.display_name(label_sheets.run_spec(run))


def value_words(value) -> str:
    """A stored value as people read it: dates dd/mm/yyyy, numbers with the language's separators, a choice by its
    label, nothing as "—" (never "2026-06-10", "1200.50", "spraying" or "None")."""
    from datetime import date, datetime
    from decimal import Decimal
    from enum import Enum

    from app.i18n import format_day, format_moment, format_quantity

    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return format_moment(value)
    if isinstance(value, date):
        return format_day(value)
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, (int, float, Decimal)):
        return format_quantity(value)
    if isinstance(value, Enum):
        return str(CHOICE_LABELS.get(value, value.value))
    return str(value)


YES, NO = _l("yes"), _l("no")
CHOICE_LABELS = {**EVENT_LABELS, **INPUT_LABELS, **BUYER_LABELS}
