"""Periodic clean-ups, run by celery beat (app/jobs/periodic.py) instead of by whichever request came along.

Each removes only rows or files that nothing reads any more: the request paths already ignore them (a session
idle past SESSION_IDLE_LIMIT is signed out, an expired counter starts a new window, an idempotency key past its
RETENTION is replaced, an upload waiting past KEEP_SECONDS cannot be confirmed), so a clean-up that runs late
changes nothing anyone sees. Each returns how much it removed and commits its own work.
"""
import time
from datetime import datetime

from sqlalchemy import delete

from app.extensions import db
from app.models import IdempotencyKey, PasswordReset, UserSession, rate_limit_counters
from app.models.mixins import utcnow
from app.services.accounts import SESSION_IDLE_LIMIT
from app.services.idempotency import RETENTION
from app.storage import KeyMissing, storage

IMPORT_KEEP_SECONDS = 24 * 3600  # an uploaded spreadsheet waits this long for its confirmation


def _delete(statement) -> int:
    removed = db.session.execute(statement).rowcount
    db.session.commit()
    return removed


def purge_idle_sessions(now: datetime | None = None) -> int:
    """Sessions unused for SESSION_IDLE_LIMIT: already signed out, their rows are only kept by nobody signing in."""
    now = now or utcnow()
    return _delete(delete(UserSession).where(UserSession.last_seen_at < now - SESSION_IDLE_LIMIT))


def purge_expired_reset_links(now: datetime | None = None) -> int:
    """One-time password links past their 24 hours: they no longer open."""
    return _delete(delete(PasswordReset).where(PasswordReset.expires_at < (now or utcnow())))


def purge_idempotency_keys(now: datetime | None = None) -> int:
    """Idempotency keys past RETENTION: a retry that late is answered as a new request anyway."""
    return _delete(delete(IdempotencyKey).where(IdempotencyKey.created_at < (now or utcnow()) - RETENTION))


def purge_rate_limit_counters(now: float | None = None) -> int:
    """Rate-limit counters whose window has ended (the database storage, app/rate_limit_storage.py)."""
    now = time.time() if now is None else now
    return _delete(delete(rate_limit_counters).where(rate_limit_counters.c.expires_at < now))


def remove_stale_imports(now: float | None = None) -> int:
    """Uploaded spreadsheets never committed within IMPORT_KEEP_SECONDS, in whichever store holds them."""
    store, cutoff = storage(), (time.time() if now is None else now) - IMPORT_KEEP_SECONDS
    removed = 0
    for key in list(store.keys("imports/")):
        try:
            if store.modified(key) < cutoff:
                store.delete(key)
                removed += 1
        except KeyMissing:
            pass  # committed (and removed) by its cooperative meanwhile
    return removed
