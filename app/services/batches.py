"""Batches (lots) and their production diary, scoped by the caller's cooperative id."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Batch, BatchInput, DiaryEvent, EventKind, Product
from app.services import diary_kinds, photos
from app.services.errors import NotFound, RuleViolation
from app.services.identifiers import LOT_CODE, REQUIRED, FreeText, clean_values
from app.services.products import get_product
from app.services.records import assign, create

FIELDS = (
    "lot_code", "harvest_date", "packing_date", "best_before", "quantity", "unit",
    "growing_area", "notes",
)
EVENT_FIELDS = ("event_date", "kind", "description", "input_used", "dose", "phi_days", "done_by", "quantity")
RULES = {"lot_code": LOT_CODE, "unit": FreeText(20), "growing_area": FreeText(200), "notes": FreeText(5000, multiline=True)}
EVENT_RULES = {"description": FreeText(2000, multiline=True), "input_used": FreeText(200), "dose": FreeText(100), "done_by": FreeText(120)}


def date_order_errors(harvest: date | None, packing: date | None, best_before: date | None) -> dict[str, str]:
    """Field errors when a batch's dates are out of order; shared by forms and services."""
    errors = {}
    if harvest and packing and packing < harvest:
        errors["packing_date"] = _l("The packing date cannot be before the harvest date.")
    if packing and best_before and best_before < packing:
        errors["best_before"] = _l("The best-before date cannot be before the packing date.")
    elif harvest and best_before and not packing and best_before < harvest:
        errors["best_before"] = _l("The best-before date cannot be before the harvest date.")
    return errors


def list_batches(coop_id: int, product_id: int | None = None) -> list[Batch]:
    stmt = (
        select(Batch)
        .join(Product)
        .where(Product.cooperative_id == coop_id)
        .order_by(Batch.packing_date.desc(), Batch.id.desc())
    )
    if product_id is not None:
        stmt = stmt.where(Batch.product_id == product_id)
    return list(db.session.scalars(stmt))


def get_batch(coop_id: int, batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.product.cooperative_id != coop_id:
        raise NotFound
    return batch


def _check(product_id: int, values: dict, batch_id: int | None) -> dict:
    """The values checked and cleaned (lot code, free text, dates, one lot code per product), or RuleViolation."""
    values = clean_values(values, RULES, partial=batch_id is not None)
    errors = date_order_errors(values.get("harvest_date"), values.get("packing_date"), values.get("best_before"))
    if errors:
        raise RuleViolation(*next(iter(errors.items())))
    if "lot_code" not in values:
        return values
    clash = select(Batch.id).where(Batch.product_id == product_id, Batch.lot_code == values["lot_code"])
    if batch_id is not None:
        clash = clash.where(Batch.id != batch_id)
    if db.session.scalar(clash) is not None:
        raise RuleViolation("lot_code", _l("This product already has a batch with this lot code."))
    return values


def check_values(product_id: int, values: dict, batch_id: int | None) -> dict:
    """A batch's values as every path stores them (forms, imports), or RuleViolation; only reads."""
    return _check(product_id, values, batch_id)


def suggested_best_before(product: Product, packing: date | None) -> date | None:
    if packing and product.shelf_life_days:
        return packing + timedelta(days=product.shelf_life_days)
    return None


def create_batch(coop_id: int, product_id: int, values: dict, actor_id: int) -> Batch:
    product = get_product(coop_id, product_id)
    values = dict(values)
    if not values.get("best_before"):
        values["best_before"] = suggested_best_before(product, values.get("packing_date"))
    values = _check(product_id, values, None)
    batch = create(Batch, actor_id, product_id=product.id, **{k: values.get(k) for k in FIELDS if k in values})
    db.session.commit()
    return batch


def update_batch(coop_id: int, batch_id: int, values: dict, actor_id: int) -> Batch:
    batch = get_batch(coop_id, batch_id)
    values = _check(batch.product_id, values, batch_id)
    assign(batch, values, FIELDS, actor_id)
    db.session.commit()
    return batch


def delete_batch(coop_id: int, batch_id: int) -> None:
    """Delete a batch and its diary; a batch whose stamps exist stays, as consumers may scan them."""
    from app.models import LabelRun, Stamp

    batch = get_batch(coop_id, batch_id)
    printed = db.session.scalar(select(LabelRun.id).where(LabelRun.batch_id == batch_id).limit(1)) or db.session.scalar(
        select(Stamp.id).where(Stamp.batch_id == batch_id).limit(1)
    )
    if printed:
        raise RuleViolation("batch", _l("Stamps have been printed for this batch, so it cannot be deleted: shoppers may scan them. Recall or correct it instead."))
    names = [e.photo for e in batch.events]
    db.session.delete(batch)
    db.session.commit()
    for name in names:
        photos.delete_photo(name)


def _event_values(values: dict, partial: bool = False, stored_kind: EventKind | None = None) -> dict:
    """A diary entry's values checked and cleaned, with only the fields of its kind (diary_kinds): a dose, a
    pre-harvest interval or a quantity that does not belong to the entry's kind is cleared, never stored.
    `stored_kind` is the kind of the entry an update changes, for values that leave the kind as it is."""
    values = clean_values({k: values[k] for k in EVENT_FIELDS if k in values}, EVENT_RULES, partial)
    if "quantity" in values:
        values["quantity"] = diary_kinds.check_quantity(values["quantity"])
    if "kind" in values:
        try:
            values["kind"] = EventKind(values["kind"])
        except ValueError as exc:
            raise RuleViolation("kind", _l("Not a valid choice.")) from exc
    for name in ("event_date", "kind"):
        if not partial and values.get(name) is None:
            raise RuleViolation(name, REQUIRED)
    kind = values.get("kind") or stored_kind
    return diary_kinds.without_other_fields(kind, values) if kind else values


def check_event_values(values: dict, partial: bool = False) -> dict:
    """A diary entry's values as every path stores them (forms, imports), or RuleViolation; reads and writes nothing."""
    return _event_values(values, partial)


# Diary entries that use up an input of the batch, and so may point at one.
INPUT_KINDS = frozenset(kind for kind, rules in diary_kinds.KINDS.items() if rules.links_input)


def _input_link(batch: Batch, values: dict, event: DiaryEvent | None = None) -> dict:
    """The entry's link to one of its batch's inputs ({"input_id": …}, or {} when the values leave it as it is).

    Only planting, fertilising, spraying and packing entries point at an input. "Input used" stays the entry's
    text (what older entries have, what the scan page and the compliance gate read): when it is left empty, the
    input's name is written into it. An entry changed into a kind that uses no input loses its link."""
    kind = values.get("kind") or (event.kind if event else None)
    if "input_id" not in values:
        return {"input_id": None} if event and event.input_id and kind not in INPUT_KINDS else {}
    if values["input_id"] in (None, ""):
        return {"input_id": None}
    if kind not in INPUT_KINDS:
        raise RuleViolation("input_id", _l("Only planting, fertilising, spraying and packing entries point at an input."))
    try:
        item = db.session.get(BatchInput, int(values["input_id"]))
    except (TypeError, ValueError):
        item = None
    if item is None or item.batch_id != batch.id:
        raise RuleViolation("input_id", _l("Choose one of this batch's inputs."))
    link = {"input_id": item.id}
    if not values.get("input_used") and not (event and "input_used" not in values and event.input_used):
        link["input_used"] = item.name
    return link


def get_batch_record(coop_id: int, batch_id: int, model: type, record_id: int):
    """A record of one of the cooperative's batches (diary entry, input, shipment); NotFound for any other,
    as if it did not exist."""
    batch = get_batch(coop_id, batch_id)
    record = db.session.get(model, record_id)
    if record is None or record.batch_id != batch.id:
        raise NotFound
    return record


def get_event(coop_id: int, batch_id: int, event_id: int) -> DiaryEvent:
    return get_batch_record(coop_id, batch_id, DiaryEvent, event_id)


def latest_event(coop_id: int, batch_id: int) -> DiaryEvent | None:
    """The entry last written into the batch's diary (not the one of the latest date: an entry written late for
    an earlier day is still the one a member just did), or None for an empty diary."""
    batch = get_batch(coop_id, batch_id)
    return db.session.scalar(select(DiaryEvent).where(DiaryEvent.batch_id == batch.id).order_by(DiaryEvent.id.desc()).limit(1))


def add_event(coop_id: int, batch_id: int, values: dict, actor_id: int, photo=None, client_id: str | None = None) -> DiaryEvent:
    """A new diary entry. `client_id` is the id a phone gave an entry it wrote offline (unique: see diary_sync)."""
    batch = get_batch(coop_id, batch_id)
    checked = _event_values(values)
    values = {**checked, **_input_link(batch, {**values, **checked})}
    with photos.new_photo(photo) as image:  # only once the data is valid; removed again if the commit fails
        event = create(DiaryEvent, actor_id, batch=batch, photo=image, client_id=client_id, **values)
        db.session.commit()
    return event


def update_event(coop_id: int, batch_id: int, event_id: int, values: dict, actor_id: int, photo=None) -> DiaryEvent:
    event = get_event(coop_id, batch_id, event_id)
    checked = _event_values(values, partial=True, stored_kind=event.kind)
    values = {**checked, **_input_link(event.batch, {**values, **checked}, event)}
    old_photo = event.photo
    with photos.new_photo(photo) as image:  # only once the data is valid; removed again if the commit fails
        if image:
            event.photo = image
        assign(event, values, (*EVENT_FIELDS, "input_id"), actor_id)
        db.session.commit()
    if image:
        photos.delete_photo(old_photo)  # the old photo goes only once no row names it
    return event


def remove_event_photo(coop_id: int, batch_id: int, event_id: int, actor_id: int) -> DiaryEvent:
    """The diary entry without its photo (NotFound when it has none); the files go once no row names them."""
    event = get_event(coop_id, batch_id, event_id)
    name = event.photo
    if not name:
        raise NotFound
    assign(event, {"photo": None}, ["photo"], actor_id)
    db.session.commit()
    photos.delete_photo(name)
    return event


def delete_event(coop_id: int, batch_id: int, event_id: int) -> None:
    event = get_event(coop_id, batch_id, event_id)
    name = event.photo
    db.session.delete(event)
    db.session.commit()
    photos.delete_photo(name)
