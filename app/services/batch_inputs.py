"""A batch's inputs (one step back): what went into it and who supplied it, scoped by the caller's cooperative id.

Inputs are not facts the commune verifies (they are not in listings.facts()): adding, changing or deleting one
never sends a verified listing back to the officer's queue.
"""
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.extensions import db
from app.models import BatchInput, DiaryEvent, InputKind
from app.services.batches import get_batch, get_batch_record
from app.services.errors import RuleViolation, lazy_text as _l
from app.services.identifiers import REQUIRED, SUPPLIER_LOT, FreeText, clean_values
from app.services.records import assign, create

FIELDS = ("kind", "name", "supplier_name", "supplier_address", "supplier_lot", "quantity", "unit", "received_on")
RULES = {
    "name": FreeText(200, required=True), "supplier_name": FreeText(200, required=True),
    "supplier_address": FreeText(200), "supplier_lot": SUPPLIER_LOT, "unit": FreeText(20),
}
NOT_NEGATIVE = _l("Enter a number that is not negative.")


def amount(value, field: str, positive: bool = False) -> Decimal | None:
    """A quantity as a Decimal of two places (None stays None), or RuleViolation: not a number, or below zero
    (at or below zero when `positive`)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise RuleViolation(field, _l("Enter a number.")) from exc
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise RuleViolation(field, _l("Enter a number greater than zero.") if positive else NOT_NEGATIVE)
    if number >= Decimal("1e10"):
        raise RuleViolation(field, _l("This number is too large."))
    return number.quantize(Decimal("0.01"))


def _values(values: dict, partial: bool) -> dict:
    """An input's values checked and cleaned; the name, supplier and kind are required."""
    values = clean_values({k: values[k] for k in FIELDS if k in values}, RULES, partial)
    if "kind" in values or not partial:
        try:
            values["kind"] = InputKind(values.get("kind"))
        except ValueError as exc:
            raise RuleViolation("kind", REQUIRED if not values.get("kind") else _l("Not a valid choice.")) from exc
    if "quantity" in values:
        values["quantity"] = amount(values["quantity"], "quantity")
    return values


def list_inputs(coop_id: int, batch_id: int) -> list[BatchInput]:
    return list(get_batch(coop_id, batch_id).inputs)


def get_input(coop_id: int, batch_id: int, input_id: int) -> BatchInput:
    return get_batch_record(coop_id, batch_id, BatchInput, input_id)


def add_input(coop_id: int, batch_id: int, values: dict, actor_id: int | None) -> BatchInput:
    batch = get_batch(coop_id, batch_id)
    item = create(BatchInput, actor_id, batch=batch, **_values(values, partial=False))
    db.session.commit()
    return item


def update_input(coop_id: int, batch_id: int, input_id: int, values: dict, actor_id: int | None) -> BatchInput:
    item = get_input(coop_id, batch_id, input_id)
    assign(item, _values(values, partial=True), FIELDS, actor_id)
    db.session.commit()
    return item


def delete_input(coop_id: int, batch_id: int, input_id: int, actor_id: int | None) -> None:
    """Delete an input; the diary entries that pointed at it keep its name as their "input used" text."""
    item = get_input(coop_id, batch_id, input_id)
    for entry in entries_using(item.id):  # one by one, so that the audit trail records each entry's change
        assign(entry, {"input_id": None}, ("input_id",), actor_id)
    db.session.delete(item)
    db.session.commit()


def entries_using(input_id: int) -> list[DiaryEvent]:
    return list(db.session.scalars(select(DiaryEvent).where(DiaryEvent.input_id == input_id)))
