"""Idempotent creates: a client that lost the answer to a create (a phone going out of coverage) sends it
again with the same `Idempotency-Key` and gets the first answer back, with nothing created twice.

The key is reserved (a row without a status, committed) before the create runs, so two copies of the
same request racing each other cannot both create: the second one is told the first is still running.
Only successful answers are kept; a refused create frees its key, so the corrected request may reuse it.
Keys are per user and kept for RETENTION: an older row of the same key is replaced, and the others are deleted by
a periodic job (housekeeping.purge_idempotency_keys)."""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import IdempotencyKey
from app.models.mixins import utcnow
from app.services.errors import RuleViolation

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"


class KeyInUse(Exception):
    """The first request with this key has not finished yet."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str
    location: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of what makes two requests the same: method, path and the JSON body's value (so that the
    order of keys or the spacing does not matter); a body that is not JSON counts byte for byte."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def begin(user_id: int, key: str, fingerprint: str) -> StoredAnswer | None:
    """The stored answer for this key, or None after reserving the key for this request.

    Raises RuleViolation when the key was used for a different request, KeyInUse while its first request
    is still running."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise RuleViolation(HEADER, _l("An idempotency key has 1 to 255 characters."))
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
                                                    IdempotencyKey.created_at < utcnow() - RETENTION))
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
    if row is not None:
        db.session.commit()
        if row.request_hash != fingerprint:
            raise RuleViolation(HEADER, _l("This idempotency key was already used for a different request."))
        if row.status is None:
            raise KeyInUse
        return StoredAnswer(row.status, row.body, row.location)
    db.session.add(IdempotencyKey(user_id=user_id, key=key, request_hash=fingerprint))
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same key reserved by a concurrent request a moment ago
        db.session.rollback()
        raise KeyInUse from exc
    return None


def finish(user_id: int, key: str, status: int, body: str, location: str) -> None:
    """Keeps a successful answer for retries."""
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
    if row is not None:
        row.status, row.body, row.location = status, body, location[:500]
        db.session.commit()


def release(user_id: int, key: str) -> None:
    """Frees the key of a request that created nothing, so that a corrected request may use it."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
    db.session.commit()
