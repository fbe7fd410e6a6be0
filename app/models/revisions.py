"""A change to a diary entry, certificate or photo is a change to its batch or product: their `updated_at`
moves with it, so whatever is keyed on it (the scan page's cached origin part) sees every edit."""
from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models.batch import DiaryEvent
from app.models.mixins import utcnow
from app.models.product import Certification, ProductPhoto


@event.listens_for(Session, "before_flush")
def _touch_parents(session: Session, _context, _instances) -> None:
    now = utcnow()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, DiaryEvent):
            parent = obj.batch
        elif isinstance(obj, (Certification, ProductPhoto)):
            parent = obj.product
        else:
            continue
        if parent is not None and parent not in session.deleted:
            parent.updated_at = now
