from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Commune, Cooperative
from app.services import photos
from app.services.errors import NotFound, RuleViolation
from app.services.identifiers import EMAIL, GLN, PHONE, REGISTRATION_NO, FreeText, clean_values
from app.services.records import assign, create

FIELDS = (
    "name", "registration_no", "commune_code", "address_line", "phone", "email",
    "representative", "description", "gln", "label_name",
)
RULES = {
    "name": FreeText(200, required=True), "registration_no": REGISTRATION_NO, "address_line": FreeText(200),
    "phone": PHONE, "email": EMAIL, "representative": FreeText(120), "description": FreeText(5000, multiline=True),
    "gln": GLN, "label_name": FreeText(30),
}


def get_cooperative(coop_id: int) -> Cooperative:
    coop = db.session.get(Cooperative, coop_id)
    if coop is None:
        raise NotFound
    return coop


def list_cooperatives() -> list[Cooperative]:
    return list(db.session.scalars(select(Cooperative).order_by(Cooperative.name)))


def _check(values: dict, coop_id: int | None) -> dict:
    """The values checked and cleaned (identifiers, free text, commune, unique registration number), or
    RuleViolation; create and update both save only what this returns."""
    values = clean_values(values, RULES)
    if db.session.get(Commune, values.get("commune_code") or 0) is None:
        raise RuleViolation("commune_code", _l("Choose the commune from the list."))
    clash = select(Cooperative.id).where(Cooperative.registration_no == values["registration_no"])
    if coop_id is not None:
        clash = clash.where(Cooperative.id != coop_id)
    if db.session.scalar(clash) is not None:
        raise RuleViolation("registration_no", _l("Another cooperative already has this registration number."))
    return values


def create_cooperative(values: dict, actor_id: int | None) -> Cooperative:
    values = _check(values, None)
    coop = create(Cooperative, actor_id, **{k: values[k] for k in FIELDS if k in values})
    db.session.commit()
    return coop


def update_cooperative(coop_id: int, values: dict, actor_id: int | None, logo=None) -> Cooperative:
    coop = get_cooperative(coop_id)
    values = _check(values, coop_id)
    old_logo = coop.logo
    with photos.new_photo(logo, "logo") as new_logo:  # only once the data is valid; removed if the commit fails
        if new_logo:
            coop.logo = new_logo
        assign(coop, values, FIELDS, actor_id)
        db.session.commit()
    if new_logo:
        photos.delete_photo(old_logo)  # the old logo goes only once no row names it
    return coop


def set_print_offset(coop_id: int, x_mm: float, y_mm: float, actor_id: int | None) -> Cooperative:
    coop = get_cooperative(coop_id)
    assign(coop, {"print_offset_x_mm": x_mm, "print_offset_y_mm": y_mm}, ("print_offset_x_mm", "print_offset_y_mm"), actor_id)
    db.session.commit()
    return coop
