"""Periodic jobs, started by celery beat (schedule: `beat_schedule` in app/config.py's celery_settings).

Each task is a thin shell around a service function that owns its rules and its commit, so a job can also be
run by hand (`celery -A app.jobs.worker call app.jobs.periodic.expiry_notices`) and is tested without Celery.
All of them can run twice, or late, without harm.
"""
from celery import shared_task

from app.i18n import local_today
from app.services import expiry_notices, housekeeping


@shared_task(name="app.jobs.periodic.expiry_notices")
def expiry_notices_task() -> dict:
    """Notices of certificates and verifications expiring within 30 days, or expired, each written once."""
    written = expiry_notices.write_expiry_notices(local_today())
    return {"soon": written.soon, "expired": written.expired}


@shared_task(name="app.jobs.periodic.purge_idle_sessions")
def purge_idle_sessions() -> int:
    return housekeeping.purge_idle_sessions()


@shared_task(name="app.jobs.periodic.purge_expired_reset_links")
def purge_expired_reset_links() -> int:
    return housekeeping.purge_expired_reset_links()


@shared_task(name="app.jobs.periodic.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return housekeeping.purge_idempotency_keys()


@shared_task(name="app.jobs.periodic.purge_rate_limit_counters")
def purge_rate_limit_counters() -> int:
    return housekeeping.purge_rate_limit_counters()


@shared_task(name="app.jobs.periodic.remove_stale_imports")
def remove_stale_imports() -> int:
    return housekeeping.remove_stale_imports()
