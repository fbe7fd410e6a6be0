"""EPCIS 2.0 documents of a batch, a product or a whole cooperative: which records belong, in time order.

A batch's document holds its inputs, diary, shipments and recall, the runs printed for it, the blank stamps
activated onto it and the voids of its stamps; a product's holds that for every batch of it plus its blank runs;
a cooperative's, everything. Only runs whose stamps exist (minted) are told. Each scope is looked up through the services that
already refuse another cooperative's rows (404).
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Batch, LabelRun, Stamp, StampRangeEvent
from app.models.mixins import utcnow
from app.services import batches, products
from app.services.epcis import events as build
from app.services.epcis import vocabulary as voc
from app.services.epcis.hashing import with_event_ids

MEDIA_TYPE = "application/ld+json"


@dataclass
class Scope:
    """The records one document tells: batches (with their diaries), label runs and range changes."""
    coop_id: int
    batches: list[Batch]
    runs: list[LabelRun]
    changes: list[StampRangeEvent] = field(default_factory=list)


def _minted(runs: list[LabelRun]) -> list[LabelRun]:
    if not runs:
        return []
    with_stamps = set(db.session.scalars(select(Stamp.run_id).where(Stamp.run_id.in_([r.id for r in runs]), Stamp.serial == 1)))
    return [run for run in runs if run.id in with_stamps]


def _coop_runs(coop_id: int) -> list[LabelRun]:
    return list(db.session.scalars(select(LabelRun).where(LabelRun.cooperative_id == coop_id).order_by(LabelRun.id)))


def _changes(run_ids: list[int]) -> list[StampRangeEvent]:
    if not run_ids:
        return []
    return list(db.session.scalars(select(StampRangeEvent).where(StampRangeEvent.run_id.in_(run_ids)).order_by(StampRangeEvent.id)))


def cooperative_scope(coop_id: int) -> Scope:
    runs = _minted(_coop_runs(coop_id))
    return Scope(coop_id, batches.list_batches(coop_id), runs, _changes([r.id for r in runs]))


def product_scope(coop_id: int, product_id: int) -> Scope:
    product = products.get_product(coop_id, product_id)
    runs = _minted([run for run in _coop_runs(coop_id) if run.product_id == product.id])
    return Scope(coop_id, batches.list_batches(coop_id, product.id), runs, _changes([r.id for r in runs]))


def batch_scope(coop_id: int, batch_id: int) -> Scope:
    """A batch's records; for the stamps of blank runs, only the activations onto this batch (and voids of runs
    printed for it) belong here."""
    batch = batches.get_batch(coop_id, batch_id)
    product_runs = _minted([run for run in _coop_runs(coop_id) if run.product_id == batch.product_id])
    own_runs = [run for run in product_runs if run.batch_id == batch.id]
    changes = [change for change in _changes([r.id for r in product_runs])
               if change.batch_id == batch.id or change.run_id in {r.id for r in own_runs}]
    return Scope(coop_id, [batch], own_runs, changes)


def scope_events(scope: Scope) -> list[dict]:
    """Every event of the scope, with its eventID, earliest first (ties in the order they were recorded)."""
    shipments = [shipment for batch in scope.batches for shipment in batch.shipments]
    run_ids = {c.run_id for c in scope.changes} | {r.run_id for s in shipments for r in s.ranges}
    runs = {run.id: run for run in db.session.scalars(select(LabelRun).where(LabelRun.id.in_(run_ids)))} if run_ids else {}
    found = [build.run_commissioned(run) for run in scope.runs]
    found += [build.range_changed(change, runs[change.run_id]) for change in scope.changes]
    found += [build.shipped(shipment, runs) for shipment in shipments]
    for batch in scope.batches:
        found += [build.received(item) for item in batch.inputs]
        found += [build.diary_entry(entry) for entry in batch.events]
        if (recall := build.recalled(batch)) is not None:
            found.append(recall)
    found.sort(key=lambda event: (datetime.fromisoformat(event["eventTime"]), event["recordTime"]))
    return with_event_ids(found)


def document(events: list[dict]) -> dict:
    """An EPCISDocument holding the events."""
    return {
        "@context": voc.context(),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": build.moment_text(utcnow()),
        "epcisBody": {"eventList": events},
    }


def query_document(events: list[dict], query_name: str = "SimpleEventQuery") -> dict:
    """An EPCISQueryDocument: the answer of the events query."""
    return {
        "@context": voc.context(),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": build.moment_text(utcnow()),
        "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}},
    }
