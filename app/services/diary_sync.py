"""Diary entries sent by the phone diary, which writes them offline and may send the same one more than once.

The phone gives every entry an id of its own (`client_id`, a random UUID) before it is queued. The invariant:
one client id is at most one diary entry, in one cooperative. Sending an entry again answers the entry saved
the first time (same id), never a second one; an id already used in another cooperative is refused with the
very words a malformed id gets, so the refusal tells nothing about the other cooperative or its entry.

A phone entry is also refused, and stays on the phone for its owner to move or delete, when its batch was
recalled (or deleted: NotFound) while it waited, or when it leaves empty a field its kind asks for.
"""
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Batch, BatchStatus, DiaryEvent, Product
from app.services import batches, diary_kinds
from app.services.errors import RuleViolation, lazy_text as _l
from app.services.identifiers import REQUIRED

UNUSABLE_ID = _l("This entry cannot be sent as it is. Delete it and write it again.")
RECALLED = _l("This batch has been recalled, so no diary entry can be added to it. Move the entry to another batch or delete it.")
# How many of a batch's latest entries the phone keeps, to show and to copy from.
RECENT_ENTRIES = 5
# How many open batches the phone keeps, newest first: a season's worth (older ones stay on the dashboard).
OPEN_BATCHES = 100


@dataclass(frozen=True)
class SentEntry:
    """What a sending saved: the entry, and whether this sending created it (False: an earlier one had)."""
    event: DiaryEvent
    created: bool


def canonical_client_id(value) -> str:
    """The client id in its one written form (lower-case UUID with hyphens), or RuleViolation."""
    try:
        return str(uuid.UUID(str(value or "").strip()))
    except ValueError as exc:
        raise RuleViolation("client_id", UNUSABLE_ID) from exc


def _saved_entry(coop_id: int, client_id: str) -> DiaryEvent | None:
    """The entry this cooperative saved under client_id, None if there is none; refused if another's."""
    event = db.session.scalar(select(DiaryEvent).where(DiaryEvent.client_id == client_id))
    if event is not None and event.batch.product.cooperative_id != coop_id:
        raise RuleViolation("client_id", UNUSABLE_ID)
    return event


def _require_kind_fields(values: dict) -> None:
    """The fields the entry's kind asks for (diary_kinds) are filled: a person typed this entry."""
    checked = batches.check_event_values(values)
    for name in diary_kinds.missing(checked["kind"], checked):
        raise RuleViolation(name, REQUIRED)


def add_sent_entry(coop_id: int, batch_id: int | None, client_id, values: dict, actor_id: int, photo=None) -> SentEntry:
    """Save a phone's diary entry once, whatever how many times it is sent.

    RuleViolation for an unusable client id, a recalled batch or a refused value; NotFound when the batch is
    not (or no longer) one of the cooperative's."""
    client_id = canonical_client_id(client_id)
    saved = _saved_entry(coop_id, client_id)
    if saved is not None:
        return SentEntry(saved, created=False)
    batch = batches.get_batch(coop_id, batch_id) if batch_id is not None else None
    if batch is None:
        raise RuleViolation("batch", _l("Choose a batch."))
    if batch.status is BatchStatus.RECALLED:
        raise RuleViolation("batch", RECALLED)
    _require_kind_fields(values)
    try:
        event = batches.add_event(coop_id, batch.id, values, actor_id, photo, client_id=client_id)
    except IntegrityError:
        # The same entry sent twice at once: the other sending saved it first (client_id is unique).
        db.session.rollback()
        saved = _saved_entry(coop_id, client_id)
        if saved is None:
            raise
        return SentEntry(saved, created=False)
    return SentEntry(event, created=True)


@dataclass(frozen=True)
class PhoneBatch:
    """A batch the phone diary may add entries to, with its latest entries (newest first)."""
    batch: Batch
    recent: list[DiaryEvent]


def open_batches(coop_id: int) -> list[PhoneBatch]:
    """The cooperative's newest OPEN_BATCHES batches that take new entries (not recalled), newest first, each
    with its latest RECENT_ENTRIES entries."""
    found = db.session.scalars(
        select(Batch).join(Product)
        .where(Product.cooperative_id == coop_id, Batch.status != BatchStatus.RECALLED)
        .order_by(Batch.id.desc())
        .limit(OPEN_BATCHES)
        .options(selectinload(Batch.events), selectinload(Batch.product))
    )
    return [PhoneBatch(batch, sorted(batch.events, key=lambda e: (e.event_date, e.id), reverse=True)[:RECENT_ENTRIES])
            for batch in found]
