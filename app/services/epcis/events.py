"""Our records as EPCIS 2.0 ObjectEvents (plain JSON-LD dicts, without their eventID: see hashing).

Every event happens at the cooperative (read point and business location) and carries its time in Vietnam
(+07:00). A diary entry and a recall have only a day: their eventTime is that day at 00:00 in Vietnam.

Stamps are named by the very URIs printed in their QR codes (payload_prefix + code). A range of more than
EPC_LIST_LIMIT stamps is not listed one by one: the event then counts them against their class (the batch,
or for blank stamps the product) in quantityList, and names the run and serials in `ocop:stampRange`, from
which every URI can be derived again (the print shop's CSV lists them).
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.models import Batch, BatchInput, BatchStatus, DiaryEvent, LabelRun, RangeAction, Shipment, StampRangeEvent
from app.services import codes
from app.services.epcis import vocabulary as voc
from app.services.minting import stamp_key
from app.services.run_rendering import payload_prefix

EPC_LIST_LIMIT = 1000
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def moment_text(moment: datetime) -> str:
    """A stored moment (naive UTC) as Vietnam's time with its offset, to the millisecond."""
    return moment.replace(tzinfo=timezone.utc).astimezone(VIETNAM).isoformat(timespec="milliseconds")


def day_text(day: date) -> str:
    """A day with no time of day: its first moment in Vietnam."""
    return f"{day.isoformat()}T00:00:00.000{voc.VIETNAM_OFFSET}"


def _event(coop_id: int, event_time: str, recorded: datetime, action: str, biz_step: str, disposition: str | None = None) -> dict:
    event = {
        "type": "ObjectEvent",
        "eventTime": event_time,
        "eventTimeZoneOffset": voc.VIETNAM_OFFSET,
        "recordTime": moment_text(recorded),
        "action": action,
        "bizStep": biz_step,
        "readPoint": {"id": voc.coop_location(coop_id)},
        "bizLocation": {"id": voc.coop_location(coop_id)},
    }
    if disposition:
        event["disposition"] = disposition
    return event


@dataclass(frozen=True)
class StampRange:
    """Serials first..last of a run: what an event about stamps names."""
    run: LabelRun
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def stamp_class(self) -> str:
        return voc.batch_class(self.run.batch) if self.run.batch else voc.product_class(self.run.product)


def stamp_uris(stamps: StampRange) -> list[str]:
    """The URIs printed in the QR codes of the range, in serial order."""
    prefix, key = payload_prefix(stamps.run), stamp_key()
    return [prefix + codes.derive_code(key, stamps.run.id, serial) for serial in range(stamps.first, stamps.last + 1)]


def what(stamps: StampRange) -> dict:
    """The stamps an event is about: their URIs, or past EPC_LIST_LIMIT their count and range."""
    if stamps.count <= EPC_LIST_LIMIT:
        return {"epcList": stamp_uris(stamps)}
    return {
        "quantityList": [{"epcClass": stamps.stamp_class(), "quantity": stamps.count}],
        voc.term("stampRange"): {
            voc.term("labelRun"): stamps.run.id,
            voc.term("firstSerial"): stamps.first,
            voc.term("lastSerial"): stamps.last,
            voc.term("uriPrefix"): payload_prefix(stamps.run),
        },
    }


def lot_ilmd(batch: Batch) -> dict:
    """What a lot's items carry from their commissioning: CBV's lot number and best-before date."""
    ilmd = {"cbvmda:lotNumber": batch.lot_code}
    if batch.best_before:
        ilmd["cbvmda:bestBeforeDate"] = batch.best_before.isoformat()
    return ilmd


def run_commissioned(run: LabelRun) -> dict:
    """A run's stamps coming into being. Printed for a batch: commissioned, active, with the lot's ILMD.
    Blank (for a product): encoded only, since they name no goods until activated onto a batch."""
    if run.batch:
        event = _event(run.cooperative_id, moment_text(run.created_at), run.created_at, "ADD", "commissioning", "active")
    else:
        event = _event(run.cooperative_id, moment_text(run.created_at), run.created_at, "ADD", "encoding", "encoded")
    event |= what(StampRange(run, 1, run.count))
    if run.batch:
        event["ilmd"] = lot_ilmd(run.batch)
    event[voc.term("labelRun")] = run.id
    return event


def range_changed(change: StampRangeEvent, run: LabelRun) -> dict:
    """An activation of blank stamps onto a batch (commissioned, active) or a void (decommissioned, inactive)."""
    stamps = StampRange(run, change.first_serial, change.last_serial)
    if change.action is RangeAction.ACTIVATE:
        event = _event(run.cooperative_id, moment_text(change.at), change.at, "ADD", "commissioning", "active")
        event |= what(stamps)
        event["ilmd"] = lot_ilmd(change.batch)
    else:
        event = _event(run.cooperative_id, moment_text(change.at), change.at, "DELETE", "decommissioning", "inactive")
        event |= what(stamps)
    event[voc.term("labelRun")] = run.id
    if change.reason:
        event[voc.term("reason")] = change.reason
    return event


def recalled(batch: Batch) -> dict | None:
    """A recalled batch: held back, disposition recalled, with the officer's reason."""
    if batch.status is not BatchStatus.RECALLED:
        return None
    coop_id = batch.product.cooperative_id
    day = batch.recalled_on or batch.updated_at.date()
    event = _event(coop_id, day_text(day), batch.updated_at, "OBSERVE", "holding", "recalled")
    event["quantityList"] = [{"epcClass": voc.batch_class(batch)}]
    if batch.recall_reason:
        event[voc.term("reason")] = batch.recall_reason
    return event


def diary_entry(entry: DiaryEvent) -> dict:
    """A diary entry of a batch, told of the whole lot (its class), with what was used and its pre-harvest interval."""
    batch = entry.batch
    step = voc.diary_step(entry.kind)
    event = _event(batch.product.cooperative_id, day_text(entry.event_date), entry.created_at, step.action, step.biz_step)
    event["quantityList"] = [{"epcClass": voc.batch_class(batch)}]
    if step.action == "ADD":
        event["ilmd"] = lot_ilmd(batch)
    extensions = {"diaryKind": entry.kind.value, "description": entry.description, "input": entry.input_used, "dose": entry.dose}
    event |= {voc.term(name): value for name, value in extensions.items() if value}
    if entry.phi_days is not None:
        event[voc.term("phiDays")] = entry.phi_days
    if entry.quantity is not None:  # what a harvest picked, in the batch's unit
        event["quantityList"] = [quantity_element(voc.batch_class(batch), entry.quantity, batch.unit)]
        event |= _as_typed(entry.quantity, batch.unit)
    if entry.input_id is not None:
        event[voc.term("inputClass")] = voc.input_class(entry.input)
    return event


def quantity_element(epc_class: str, quantity: Decimal | None, unit: str) -> dict:
    """A quantity of a class. EPCIS measures only in UN/CEFACT units: a weight or volume gets its code; a count
    in our own words (20 thùng) stays out of quantityList and travels as `ocop:quantity` and `ocop:unit`."""
    code = voc.unece_unit(unit)
    if quantity is None or code is None:
        return {"epcClass": epc_class}
    return {"epcClass": epc_class, "quantity": float(quantity), "uom": code}


def _as_typed(quantity: Decimal | None, unit: str) -> dict:
    if quantity is None:
        return {}
    return {voc.term("quantity"): float(quantity), voc.term("unit"): unit}


def shipped(shipment: Shipment, runs: dict[int, LabelRun]) -> dict:
    """A shipment leaving the cooperative for its buyer: its stamps by the printed URIs (or, past EPC_LIST_LIMIT,
    their ranges), the part of the lot it took, from the cooperative (party and place) to the buyer (and the
    buyer's commune when known). The buyer's phone and address stay out of the file."""
    batch = shipment.batch
    coop_id = batch.product.cooperative_id
    event = _event(coop_id, day_text(shipment.shipped_on), shipment.created_at, "OBSERVE", "shipping", "in_transit")
    stamps = [StampRange(runs[r.run_id], r.first_serial, r.last_serial) for r in shipment.ranges]
    if stamps and sum(r.count for r in stamps) <= EPC_LIST_LIMIT:
        event["epcList"] = [uri for r in stamps for uri in stamp_uris(r)]
    event["quantityList"] = [quantity_element(voc.batch_class(batch), shipment.quantity, shipment.unit)]
    event["sourceList"] = [{"type": "owning_party", "source": voc.coop_party(coop_id)},
                           {"type": "location", "source": voc.coop_location(coop_id)}]
    event["destinationList"] = [{"type": "owning_party", "destination": voc.buyer_party(shipment)}]
    if shipment.buyer_commune_code:
        event["destinationList"].append({"type": "location", "destination": voc.commune_location(shipment.buyer_commune_code)})
    if stamps and "epcList" not in event:
        event[voc.term("stampRanges")] = [{voc.term("labelRun"): r.run.id, voc.term("firstSerial"): r.first,
                                           voc.term("lastSerial"): r.last} for r in stamps]
    event |= _as_typed(shipment.quantity, shipment.unit)
    event |= {voc.term("buyerName"): shipment.buyer_name, voc.term("buyerKind"): shipment.buyer_kind.value}
    return event


def received(item: BatchInput) -> dict:
    """An input of a batch received from its supplier (one step back), named as a class of its own."""
    batch = item.batch
    coop_id = batch.product.cooperative_id
    day = item.received_on or item.created_at.date()
    event = _event(coop_id, day_text(day), item.created_at, "OBSERVE", "receiving")
    event["quantityList"] = [quantity_element(voc.input_class(item), item.quantity, item.unit)]
    event["sourceList"] = [{"type": "owning_party", "source": voc.supplier_party(item)}]
    event["destinationList"] = [{"type": "owning_party", "destination": voc.coop_party(coop_id)},
                                {"type": "location", "destination": voc.coop_location(coop_id)}]
    extensions = {"inputKind": item.kind.value, "inputName": item.name, "supplierName": item.supplier_name,
                  "supplierLot": item.supplier_lot}
    event |= {voc.term(name): value for name, value in extensions.items() if value}
    event |= _as_typed(item.quantity, item.unit)
    event[voc.term("forLot")] = voc.batch_class(batch)
    return event
