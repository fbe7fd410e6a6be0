from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from app.forms import ServiceForm, day, decimal, email, long_text, text, whole_number
from app.models import EventKind
from app.vocabulary import EVENT_LABELS
from app.services.batches import date_order_errors
from app.services.geo import resolve_commune
from app.services.gtin import normalise_gtin
from app.services.products import ocop_errors

CATEGORY_LABELS = {
    "fruit": _l("Fruit"), "honey": _l("Honey"), "vegetable": _l("Vegetables"), "rice": _l("Rice"),
    "tea": _l("Tea"), "processed": _l("Processed food"), "other": _l("Other"),
}
STAR_CHOICES = [("", _l("No OCOP rating")), ("3", "★★★"), ("4", "★★★★"), ("5", "★★★★★")]


def _optional_int(value):
    return int(value) if value not in (None, "") else None


def check_gtin(form, field):
    try:
        field.data = normalise_gtin(field.data)
    except ValueError as exc:
        if str(exc) == "length":
            raise ValidationError(_l("A GTIN has 8, 12, 13 or 14 digits.")) from exc
        raise ValidationError(_l("This GTIN's last digit (check digit) is wrong: please copy it again from the barcode.")) from exc


class ProductForm(ServiceForm):
    name = text(_l("Product name"), 200, is_required=True)
    category = SelectField(_l("Category"), choices=list(CATEGORY_LABELS.items()))
    gtin = text(_l("GTIN (barcode number)"), 20, extra=[check_gtin])
    ocop_stars = SelectField(_l("OCOP rating"), choices=STAR_CHOICES, coerce=_optional_int, validators=[Optional()])
    ocop_certificate_no = text(_l("OCOP certificate number"), 60)
    ocop_issued_on = day(_l("OCOP certificate issued on"))
    ocop_expires_on = day(_l("OCOP certificate expires on"))
    growing_area_code = text(_l("Growing-area code"), 40)
    shelf_life_days = whole_number(_l("Shelf life (days)"), 1, 3650)
    description = long_text(_l("Description"))
    photo = FileField(_l("Add a photo"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return self.add_errors(ocop_errors(self.data)) and ok


class CertificationForm(ServiceForm):
    scheme = text(_l("Certification (VietGAP, GlobalGAP, organic…)"), 40, is_required=True)
    number = text(_l("Certificate number"), 60, is_required=True)
    issuer = text(_l("Issued by"), 200)
    expires_on = day(_l("Valid until"))


class BatchForm(ServiceForm):
    lot_code = text(_l("Lot code"), 40, is_required=True)
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


class EventForm(ServiceForm):
    event_date = day(_l("Date"), is_required=True)
    kind = SelectField(_l("Kind of work"), choices=[(k.value, v) for k, v in EVENT_LABELS.items()], coerce=EventKind)
    description = long_text(_l("What was done"), 2000)
    input_used = text(_l("Input used (fertiliser, pesticide…)"), 200)
    dose = text(_l("Dose"), 100)
    phi_days = whole_number(_l("Pre-harvest interval (days)"), 0, 365)
    done_by = text(_l("Done by"), 120)
    photo = FileField(_l("Photo"))


class CooperativeForm(ServiceForm):
    name = text(_l("Cooperative name"), 200, is_required=True)
    registration_no = text(_l("Registration number"), 40, is_required=True)
    commune = text(_l("Commune or ward"), 200, is_required=True, list="commune-options", autocomplete="off")
    address_line = text(_l("Address (village, street)"), 200)
    phone = text(_l("Phone"), 20)
    email = email(_l("E-mail"))
    representative = text(_l("Representative"), 120)
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
