from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Optional, ValidationError

from app.forms import ServiceForm, day, decimal, email, long_text, required, text, whole_number
from app.models import EventKind
from app.vocabulary import BUYER_LABELS, EVENT_LABELS, INPUT_LABELS
from app.services import diary_kinds, identifiers, shipments
from app.services.batches import date_order_errors
from app.services.errors import RuleViolation
from app.services.geo import resolve_commune
from app.services.products import ocop_errors

CATEGORY_LABELS = {
    "fruit": _l("Fruit"), "honey": _l("Honey"), "vegetable": _l("Vegetables"), "rice": _l("Rice"),
    "tea": _l("Tea"), "processed": _l("Processed food"), "other": _l("Other"),
}
STAR_CHOICES = [("", _l("No OCOP rating")), ("3", "★★★"), ("4", "★★★★"), ("5", "★★★★★")]


def _optional_int(value):
    return int(value) if value not in (None, "") else None


def _optional_kind(value):
    return EventKind(value) if value not in (None, "") else None


def follows(rule: identifiers.Identifier):
    """A validator for the service's own rule, so that the form shows every bad field at once (the service
    checks again, whichever path the values come by) and keeps the value as the service will store it."""
    def validate(form, field):
        try:
            field.data = rule.check(field.data, field.name)
        except RuleViolation as exc:
            raise ValidationError(exc.message) from exc
    return validate


def identifier(label, rule: identifiers.Identifier, **render_kw):
    """A text field for a code: what is allowed, and its length, come from the rule alone."""
    validators = [required() if rule.required else Optional(), follows(rule)]
    filters = [lambda value: value.strip() if isinstance(value, str) else value]
    return StringField(label, validators=validators, filters=filters, render_kw=render_kw or None)


class ProductForm(ServiceForm):
    name = text(_l("Product name"), 200, is_required=True)
    category = SelectField(_l("Category"), choices=list(CATEGORY_LABELS.items()))
    gtin = identifier(_l("GTIN (barcode number)"), identifiers.GTIN, inputmode="numeric")
    ocop_stars = SelectField(_l("OCOP rating"), choices=STAR_CHOICES, coerce=_optional_int, validators=[Optional()])
    ocop_certificate_no = identifier(_l("OCOP certificate number"), identifiers.CERTIFICATE_NO)
    ocop_issued_on = day(_l("OCOP certificate issued on"))
    ocop_expires_on = day(_l("OCOP certificate expires on"))
    growing_area_code = identifier(_l("Growing-area code"), identifiers.GROWING_AREA_CODE)
    shelf_life_days = whole_number(_l("Shelf life (days)"), 1, 3650)
    description = long_text(_l("Description"))
    photo = FileField(_l("Add a photo"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return self.add_errors(ocop_errors(self.data)) and ok


class CertificationForm(ServiceForm):
    scheme = text(_l("Certification (VietGAP, GlobalGAP, organic…)"), 40, is_required=True)
    number = identifier(_l("Certificate number"), identifiers.required(identifiers.CERTIFICATE_NO))
    issuer = text(_l("Issued by"), 200)
    expires_on = day(_l("Valid until"))


class BatchForm(ServiceForm):
    lot_code = identifier(_l("Lot code"), identifiers.LOT_CODE)
    harvest_date = day(_l("Harvest date"))
    packing_date = day(_l("Packing date"))
    best_before = day(_l("Best before"))
    quantity = decimal(_l("Quantity"))
    unit = text(_l("Unit"), 20)
    growing_area = text(_l("Growing area / households"), 200)
    notes = long_text(_l("Notes"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        errors = date_order_errors(self.harvest_date.data, self.packing_date.data, self.best_before.data)
        return self.add_errors(errors) and ok


NO_INPUT = ("", _l("— none (write it below) —"))


def input_label(item) -> str:
    return f"{item.name} · {item.supplier_name}" + (f" · {item.supplier_lot}" if item.supplier_lot else "")


# What a person's entry is asked for when its kind needs the field and it was left empty (diary_kinds.missing).
KIND_FIELD_MISSING = {
    "description": _l("Write what was done."),
    "input_used": _l("Name the product used, or pick it from the batch's inputs."),
    "phi_days": _l("Enter the pre-harvest interval printed on the product's label (0 if it has none)."),
    "quantity": _l("Enter how much was harvested."),
}


class EventForm(ServiceForm):
    """A diary entry; `inputs` are the batch's inputs it may point at.

    Only the fields of the chosen kind count (diary_kinds): without JavaScript the page shows every field, and
    what was typed into another kind's field is neither checked nor stored (the service clears it too), while
    the fields the kind needs are asked for."""

    event_date = day(_l("Date"), is_required=True)
    # No kind is chosen for the member: a default kind is how a spray ends up recorded as planting.
    kind = SelectField(_l("Kind of work"), choices=[("", _l("— choose the kind of work —")), *((k.value, v) for k, v in EVENT_LABELS.items())],
                       coerce=_optional_kind, validators=[InputRequired(_l("Choose the kind of work."))])
    description = long_text(_l("What was done"), 2000)
    input_id = SelectField(_l("Input from this batch's list"), choices=[NO_INPUT], coerce=_optional_int)
    input_used = text(_l("Input used (fertiliser, pesticide…)"), 200)
    dose = text(_l("Dose"), 100)
    phi_days = whole_number(_l("Pre-harvest interval (days)"), 0, 365)
    quantity = decimal(_l("Quantity harvested"))
    done_by = text(_l("Done by"), 120)
    # The phone's camera; static/app.js makes the photo small on the phone before it is sent.
    photo = FileField(_l("Photo"), render_kw={"accept": "image/*", "capture": "environment", "data-resize-photo": ""})

    def __init__(self, *args, inputs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.input_id.choices = [NO_INPUT, *((item.id, input_label(item)) for item in inputs)]

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators) and (self.kind.errors or self.kind.data is None):
            return False
        rules = diary_kinds.fields_of(self.kind.data)
        # Another kind's fields are not checked; their text stays on the page as typed, and values() leaves it out.
        for name in diary_kinds.KIND_FIELD_EMPTY:
            if not rules.has(name):
                self[name].errors = []
        if not rules.links_input:
            self.input_id.data = None
        missing = diary_kinds.missing(rules.kind, self.data)
        self.add_errors({name: KIND_FIELD_MISSING[name] for name in missing if not self[name].errors})
        return not any(field.errors for field in self)

    def values(self) -> dict:
        return diary_kinds.without_other_fields(self.kind.data, super().values())


class CooperativeForm(ServiceForm):
    name = text(_l("Cooperative name"), 200, is_required=True)
    registration_no = identifier(_l("Registration number"), identifiers.REGISTRATION_NO)
    commune = text(_l("Commune or ward"), 200, is_required=True, list="commune-options", autocomplete="off")
    address_line = text(_l("Address (village, street)"), 200)
    phone = identifier(_l("Phone"), identifiers.PHONE, inputmode="tel")
    email = email(_l("E-mail"))
    representative = text(_l("Representative"), 120)
    gln = identifier(_l("GS1 Global Location Number (GLN), if any"), identifiers.GLN, inputmode="numeric")
    label_name = text(_l("Short name for labels (e.g. HTX Phồn Nhi)"), 30)
    description = long_text(_l("About the cooperative"))
    logo = FileField(_l("Logo"))

    skip_fields = ("commune",)
    commune_choices: list = []

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.commune.data:
            found, self.commune_choices = resolve_commune(self.commune.data)
            if found is None:
                self.commune.errors = list(self.commune.errors) + [
                    _l("Choose one commune from the list (type part of its current name, e.g. Lục Ngạn).")
                ]
                return False
            self.commune_code = found.code
        return ok

    def values(self) -> dict:
        return {**super().values(), "commune_code": getattr(self, "commune_code", None)}


class InputForm(ServiceForm):
    kind = SelectField(_l("Kind of input"), choices=[(k.value, v) for k, v in INPUT_LABELS.items()])
    name = text(_l("Input (e.g. NPK 16-16-8 fertiliser, seedlings of Thiều lychee)"), 200, is_required=True)
    supplier_name = text(_l("Supplier"), 200, is_required=True)
    supplier_address = text(_l("Supplier's address or commune"), 200)
    supplier_lot = identifier(_l("Supplier's lot number"), identifiers.SUPPLIER_LOT)
    quantity = decimal(_l("Quantity"))
    unit = text(_l("Unit"), 20)
    received_on = day(_l("Date received"))


class ShipmentForm(ServiceForm):
    """A shipment; the commune is picked from the official list as on the cooperative's profile, and the stamp
    serials are typed as "#run: first-last, …" (`single_run`: the batch's only run, which may go unnamed)."""

    buyer_name = text(_l("Buyer (person or business)"), 200, is_required=True)
    buyer_kind = SelectField(_l("Kind of buyer"), choices=[(k.value, v) for k, v in BUYER_LABELS.items()])
    buyer_phone = identifier(_l("Buyer's phone"), identifiers.PHONE, inputmode="tel")
    buyer_commune = text(_l("Buyer's commune or ward"), 200, list="commune-options", autocomplete="off")
    buyer_address = text(_l("Buyer's address (village, street, market)"), 200)
    shipped_on = day(_l("Date shipped"), is_required=True)
    quantity = decimal(_l("Quantity"))
    unit = text(_l("Unit"), 20)
    note = long_text(_l("Vehicle or note"), 2000)
    ranges = text(_l("Stamp serials that went (optional)"), 2000)

    skip_fields = ("buyer_commune", "ranges")
    commune_choices: list = []

    def __init__(self, *args, single_run: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.single_run = single_run
        self.parsed_ranges = []
        self.commune_code = None

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.buyer_commune.data:
            found, self.commune_choices = resolve_commune(self.buyer_commune.data)
            if found is None:
                self.buyer_commune.errors = list(self.buyer_commune.errors) + [
                    _l("Choose one commune from the list (type part of its current name, e.g. Lục Ngạn).")
                ]
                ok = False
            else:
                self.commune_code = found.code
        try:
            self.parsed_ranges = shipments.parse_ranges(self.ranges.data, self.single_run)
        except RuleViolation as refused:
            self.ranges.errors = list(self.ranges.errors) + [refused.message]
            ok = False
        return ok

    def values(self) -> dict:
        return {**super().values(), "buyer_commune_code": self.commune_code, "ranges": self.parsed_ranges}
