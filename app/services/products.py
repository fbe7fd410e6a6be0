"""Products of one cooperative: every function is scoped by the caller's cooperative id."""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Certification, Product, ProductPhoto
from app.services import photos
from app.services.calendar import years_after
from app.services.errors import NotFound, RuleViolation
from app.services.identifiers import CERTIFICATE_NO, GROWING_AREA_CODE, GTIN, FreeText, clean_values, required
from app.services.records import assign, create

OCOP_VALID_YEARS = 3  # OCOP certificates last 36 months.
FIELDS = (
    "name", "category", "gtin", "ocop_stars", "ocop_certificate_no", "ocop_issued_on",
    "ocop_expires_on", "growing_area_code", "description", "shelf_life_days",
)
CERT_FIELDS = ("scheme", "number", "issuer", "expires_on")
RULES = {
    "name": FreeText(200, required=True), "category": FreeText(40), "gtin": GTIN,
    "ocop_certificate_no": CERTIFICATE_NO, "growing_area_code": GROWING_AREA_CODE,
    "description": FreeText(5000, multiline=True),
}
CERT_RULES = {"scheme": FreeText(40, required=True), "number": required(CERTIFICATE_NO), "issuer": FreeText(200)}


def ocop_expiry(issued_on: date) -> date:
    return years_after(issued_on, OCOP_VALID_YEARS)


def ocop_errors(values: dict) -> dict[str, str]:
    """Field errors for the OCOP rating fields, shared by forms and services."""
    stars, issued, expires = values.get("ocop_stars"), values.get("ocop_issued_on"), values.get("ocop_expires_on")
    errors = {}
    if stars is not None and not 3 <= stars <= 5:
        errors["ocop_stars"] = _l("An OCOP rating has 3, 4 or 5 stars.")
    if stars is not None and not values.get("ocop_certificate_no"):
        errors["ocop_certificate_no"] = _l("Enter the OCOP certificate number.")
    if issued and expires and expires <= issued:
        errors["ocop_expires_on"] = _l("The expiry date must come after the issue date.")
    return errors


def list_products(coop_id: int, include_archived: bool = False) -> list[Product]:
    stmt = select(Product).where(Product.cooperative_id == coop_id).order_by(Product.name)
    if not include_archived:
        stmt = stmt.where(Product.is_archived.is_(False))
    return list(db.session.scalars(stmt))


def get_product(coop_id: int, product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or product.cooperative_id != coop_id:
        raise NotFound
    return product


def _prepare(values: dict, partial: bool = False) -> dict:
    """The values checked and cleaned (identifiers, free text, OCOP rating), or RuleViolation."""
    values = clean_values(values, RULES, partial)
    errors = ocop_errors(values)
    if errors:
        field, message = next(iter(errors.items()))
        raise RuleViolation(field, message)
    if values.get("ocop_issued_on") and not values.get("ocop_expires_on"):
        values["ocop_expires_on"] = ocop_expiry(values["ocop_issued_on"])
    return values


def check_values(values: dict, partial: bool = False) -> dict:
    """A product's values as every path stores them (forms, imports), or RuleViolation; reads and writes nothing."""
    return _prepare(values, partial)


def create_product(coop_id: int, values: dict, actor_id: int, photo=None) -> Product:
    values = _prepare(values)
    with photos.new_photo(photo) as image:  # only once the data is valid; removed again if the commit fails
        product = create(Product, actor_id, cooperative_id=coop_id, **{k: values.get(k) for k in FIELDS if k in values})
        if image:
            create(ProductPhoto, actor_id, product=product, image=image)
        db.session.commit()
    return product


def update_product(coop_id: int, product_id: int, values: dict, actor_id: int, photo=None) -> Product:
    product = get_product(coop_id, product_id)
    values = _prepare(values, partial=True)
    with photos.new_photo(photo) as image:  # only once the data is valid; removed again if the commit fails
        assign(product, values, FIELDS, actor_id)
        if image:
            create(ProductPhoto, actor_id, product=product, image=image)
        db.session.commit()
    return product


def set_archived(coop_id: int, product_id: int, archived: bool, actor_id: int) -> Product:
    product = get_product(coop_id, product_id)
    assign(product, {"is_archived": archived}, ["is_archived"], actor_id)
    db.session.commit()
    return product


PHOTO_RULES = {"caption": FreeText(200)}


def add_photo(coop_id: int, product_id: int, photo, caption: str | None, actor_id: int) -> ProductPhoto:
    """One more photo of the product, with an optional caption; the photo is checked and stored by
    photos.new_photo, and its files are removed again if anything after it fails."""
    product = get_product(coop_id, product_id)
    values = clean_values({"caption": caption or ""}, PHOTO_RULES)
    with photos.new_photo(photo) as image:
        photo_row = create(ProductPhoto, actor_id, product=product, image=image, caption=values["caption"])
        product.updated_by_id = actor_id
        db.session.commit()
    return photo_row


def get_photo(coop_id: int, product_id: int, photo_id: int) -> ProductPhoto:
    product = get_product(coop_id, product_id)
    photo = next((p for p in product.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound
    return photo


def remove_photo(coop_id: int, product_id: int, photo_id: int, actor_id: int) -> None:
    product = get_product(coop_id, product_id)
    photo = next((p for p in product.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound
    product.photos.remove(photo)
    product.updated_by_id = actor_id
    db.session.commit()
    photos.delete_photo(photo.image)


def add_certification(coop_id: int, product_id: int, values: dict, actor_id: int) -> Certification:
    product = get_product(coop_id, product_id)
    values = clean_values(values, CERT_RULES)
    cert = create(Certification, actor_id, product=product, **{k: values.get(k) for k in CERT_FIELDS})
    db.session.commit()
    return cert


def remove_certification(coop_id: int, product_id: int, cert_id: int, actor_id: int) -> None:
    product = get_product(coop_id, product_id)
    cert = next((c for c in product.certifications if c.id == cert_id), None)
    if cert is None:
        raise NotFound
    product.certifications.remove(cert)
    product.updated_by_id = actor_id
    db.session.commit()
