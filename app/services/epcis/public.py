"""The public EPCIS 2.0 document of one lot: what its scan page already shows anyone, nothing more.

It is served without sign-in (the GS1 resolver links it as gs1:traceability), so it is built by keeping, of
each event the signed-in documents hold, only the fields listed here (a field added to those events later
stays out until someone decides it is public):

- stamps commissioned for the lot (runs printed for it and not voided whole, blank stamps activated onto it)
  are counted against the lot's class, never listed: their URIs are the printed codes, which would let anyone print copies;
- the diary (kind, what was used, the pre-harvest interval), the inputs received (kind, name, supplier,
  quantity; not the supplier's lot) and the recall with its reason;
- no shipment (buyers' names and phones are private) and no void.
"""
from datetime import datetime

from app.models import Batch, RangeAction
from app.services.epcis import documents
from app.services.epcis import events as build
from app.services.epcis import vocabulary as voc
from app.services.epcis.hashing import with_event_ids

EVENT_FIELDS = frozenset({"type", "eventTime", "eventTimeZoneOffset", "recordTime", "action", "bizStep", "disposition",
                          "readPoint", "bizLocation", "quantityList", "ilmd"})
DIARY_TERMS = ("diaryKind", "input", "phiDays", "inputClass")
INPUT_TERMS = ("inputKind", "inputName", "supplierName", "quantity", "unit", "forLot")
RECALL_TERMS = ("reason",)


def _kept(event: dict, terms: tuple[str, ...] = (), *, lists: tuple[str, ...] = ()) -> dict:
    """The event with only the public fields, our extension terms named, and the source/destination lists named."""
    allowed = EVENT_FIELDS | set(lists) | {voc.term(name) for name in terms}
    return {key: value for key, value in event.items() if key in allowed}


def _commissioned(batch: Batch, at: datetime, count: int) -> dict:
    """`count` stamps commissioned onto the lot at `at`, told as a count of the lot's class (built here rather
    than from events.run_commissioned, which derives every stamp's code only for this document to drop them)."""
    event = build._event(batch.product.cooperative_id, build.moment_text(at), at, "ADD", "commissioning", "active")
    event["quantityList"] = [{"epcClass": voc.batch_class(batch), "quantity": count}]
    event["ilmd"] = build.lot_ilmd(batch)
    return event


def lot_events(batch: Batch) -> list[dict]:
    """The lot's public events, with their eventIDs, earliest first."""
    scope = documents.batch_scope(batch.product.cooperative_id, batch.id)
    # A run voided whole was spoilt in printing: it never labelled the lot's goods.
    found = [_commissioned(batch, run.created_at, run.count) for run in scope.runs if run.voided_at is None]
    found += [_commissioned(batch, change.at, change.last_serial - change.first_serial + 1) for change in scope.changes
              if change.action is RangeAction.ACTIVATE and change.batch_id == batch.id]
    found += [_kept(build.received(item), INPUT_TERMS, lists=("sourceList", "destinationList")) for item in batch.inputs]
    found += [_kept(build.diary_entry(entry), DIARY_TERMS) for entry in batch.events]
    if (recall := build.recalled(batch)) is not None:
        found.append(_kept(recall, RECALL_TERMS))
    found.sort(key=lambda event: (datetime.fromisoformat(event["eventTime"]), event["recordTime"]))
    return with_event_ids(found)


def lot_document(batch: Batch) -> dict:
    """The lot's public EPCISDocument."""
    return documents.document(lot_events(batch))
