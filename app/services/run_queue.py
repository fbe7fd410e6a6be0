"""The label run queue: which run a worker takes next, a run's place in line, cancelling, and runs left behind.

A Celery message is only a token: "a run is waiting". The choice of run is the database's. Each run ordered
(or started again) sends one message; the worker that gets any message first resumes the run it had itself
claimed under that message's task id (Celery redelivers a message with the same id when its worker died),
else claims the fairest claimable run with one conditional UPDATE, so two workers never get the same run,
on SQLite as on PostgreSQL. A message that finds nothing to claim does nothing.

Fair order: a waiting run comes after every run of other cooperatives that has fewer runs of its own in
progress or waiting ahead of it, so a cooperative's second waiting run comes after every other cooperative's
first, and a cooperative whose run just finished goes behind those still waiting for their first; then by the
time it joined the queue. A run in progress whose heartbeat is older than
RUN_STALE_SECONDS belongs to a dead worker and is claimable again; requeue_stale_runs puts it back in line
and sends for it, and for any waiting run whose message could not be sent (the broker was away).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from kombu.exceptions import OperationalError as BrokerUnreachable
from sqlalchemy import and_, delete, func, or_, select, update

from app.extensions import db
from app.models import LabelRun, RunStatus, Stamp, User
from app.models.mixins import utcnow
from app.services import audit, run_rendering
from app.services.errors import RuleViolation, lazy_text as _l
from app.services.label_runs import get_run

PROCESS_RUNS = "app.jobs.tasks.process_runs"  # the task a message names (app/jobs/tasks.py)
IN_PROGRESS = (RunStatus.MINTING, RunStatus.RENDERING)
FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)


def _stale_before() -> datetime:
    return utcnow() - timedelta(seconds=current_app.config["RUN_STALE_SECONDS"])


def _last_seen():
    return func.coalesce(LabelRun.heartbeat_at, LabelRun.created_at)


def _is_abandoned(cutoff: datetime):
    """In progress, but its worker has not been heard from since cutoff: it died."""
    return and_(LabelRun.status.in_(IN_PROGRESS), _last_seen() < cutoff)


def _is_claimable(cutoff: datetime):
    return or_(LabelRun.status == RunStatus.QUEUED, _is_abandoned(cutoff))


def is_stale(run: LabelRun) -> bool:
    """Whether the run is in progress but its worker has stopped reporting (it died)."""
    if run.status not in IN_PROGRESS:
        return False
    seen = run.heartbeat_at or run.created_at
    return utcnow() - seen > timedelta(seconds=current_app.config["RUN_STALE_SECONDS"])


def fair_order() -> list[int]:
    """The claimable runs' ids, fairest first: by how many runs of the same cooperative are in progress or
    waiting ahead of each, then cooperatives not served since the oldest run began waiting before those served
    (the longest ago first), then by when it joined the queue, then by id."""
    cutoff = _stale_before()
    nth = func.row_number().over(partition_by=LabelRun.cooperative_id, order_by=(LabelRun.queued_at, LabelRun.id))
    waiting = select(LabelRun.id, LabelRun.cooperative_id, LabelRun.queued_at, nth.label("nth")).where(_is_claimable(cutoff)).subquery()
    busy = (
        select(LabelRun.cooperative_id, func.count().label("runs"))
        .where(LabelRun.status.in_(IN_PROGRESS), _last_seen() >= cutoff)
        .group_by(LabelRun.cooperative_id).subquery()
    )
    # A cooperative served while runs waited goes behind those not served yet, however early its next run was
    # ordered: five cooperatives ordering four runs each at once are then served in turn, not two at a time.
    oldest_wait = select(func.min(LabelRun.queued_at)).where(_is_claimable(cutoff)).scalar_subquery()
    served = (
        select(LabelRun.cooperative_id, func.max(LabelRun.finished_at).label("at"))
        .where(LabelRun.status.in_(FINISHED), LabelRun.finished_at >= oldest_wait)
        .group_by(LabelRun.cooperative_id).subquery()
    )
    ahead_in_own_cooperative = func.coalesce(busy.c.runs, 0) + waiting.c.nth
    stmt = (
        select(waiting.c.id)
        .outerjoin(busy, busy.c.cooperative_id == waiting.c.cooperative_id)
        .outerjoin(served, served.c.cooperative_id == waiting.c.cooperative_id)
        .order_by(ahead_in_own_cooperative, served.c.at.asc().nulls_first(), waiting.c.queued_at, waiting.c.id)
    )
    return list(db.session.scalars(stmt))


def position(run: LabelRun) -> int | None:
    """How many claimable runs come before this one in the fair order; None unless it is waiting."""
    if run.status is not RunStatus.QUEUED:
        return None
    order = fair_order()
    return order.index(run.id) if run.id in order else None


def claim(task_id: str) -> int | None:
    """The run this task is to process: the one it had already claimed (a redelivered message), else the
    fairest claimable one, taken with a conditional UPDATE; None when nothing waits. Commits."""
    resumed = db.session.scalar(select(LabelRun.id).where(LabelRun.task_id == task_id, LabelRun.status.in_(IN_PROGRESS)))
    if resumed is not None:
        db.session.execute(update(LabelRun).where(LabelRun.id == resumed).values(heartbeat_at=utcnow()))
        db.session.commit()
        return resumed
    while True:
        order = fair_order()
        if not order:
            db.session.commit()
            return None
        abandoned = db.session.scalar(select(LabelRun.status).where(LabelRun.id == order[0])) in IN_PROGRESS
        taken = db.session.execute(
            update(LabelRun).where(LabelRun.id == order[0], _is_claimable(_stale_before()))
            .values(status=RunStatus.MINTING, task_id=task_id, heartbeat_at=utcnow(), progress=0, error="")
        )
        db.session.commit()
        if taken.rowcount == 1:
            if abandoned and _any_waiting():
                # This message was sent for a waiting run (a dead worker's run has none of its own): send another
                # for it, or it waits for the next order, requeue_stale_runs having sent for it once already.
                send()
            return order[0]
        # Another worker took it between the two statements: look again.


def _any_waiting() -> bool:
    waiting = db.session.scalar(select(LabelRun.id).where(LabelRun.status == RunStatus.QUEUED).limit(1)) is not None
    db.session.commit()
    return waiting


def send() -> bool:
    """Hand one message to the broker; False (nothing raised) when the broker cannot be reached, so that a
    web request never fails for it: requeue_stale_runs sends later for each run still without one."""
    celery = current_app.extensions["celery"]
    try:
        celery.send_task(PROCESS_RUNS, retry=False)
    except (BrokerUnreachable, OSError) as exc:
        current_app.logger.warning("label run queue: the broker cannot be reached (%s); the run waits for the next try", exc)
        return False
    return True


def announce(run_id: int) -> bool:
    """Send the message for a waiting run (after its row is committed) and note that it went out."""
    if not send():
        return False
    db.session.execute(update(LabelRun).where(LabelRun.id == run_id).values(sent_at=utcnow()))
    db.session.commit()
    return True


def can_restart(run: LabelRun) -> bool:
    """Failed, cancelled, abandoned by its worker, done but its PDF is gone, or waiting without a message."""
    return (
        run.status in (RunStatus.FAILED, RunStatus.CANCELLED) or is_stale(run)
        or (run.status is RunStatus.DONE and not run_rendering.has_pdf(run.id))
        or (run.status is RunStatus.QUEUED and run.sent_at is None)
    )


@dataclass(frozen=True)
class Restart:
    restarted: bool  # the run was put back in line
    sent: bool  # and its message reached the broker


def restart(coop_id: int, run_id: int) -> Restart:
    """Put a run that can be started again back in line, as newly ordered, and send for it. Its codes derive
    from its id, so it prints the same stamps; minting leaves stamps already committed as they are."""
    run = get_run(coop_id, run_id)
    if not can_restart(run):
        return Restart(False, False)
    db.session.execute(
        update(LabelRun).where(LabelRun.id == run_id).values(
            status=RunStatus.QUEUED, queued_at=utcnow(), progress=0, error="", task_id=None,
            cancel_requested_at=None, sent_at=None, heartbeat_at=utcnow(),
        )
    )
    db.session.commit()
    return Restart(True, announce(run_id))


def requeue_stale_runs() -> int:
    """Put runs abandoned by a dead worker back in line (keeping their place), and send one message for each
    waiting run that has none yet; how many were sent. Safe to call at any time, from any machine."""
    db.session.execute(
        update(LabelRun).where(_is_abandoned(_stale_before()))
        .values(status=RunStatus.QUEUED, task_id=None, sent_at=None, progress=0), execution_options={"synchronize_session": False}
    )
    db.session.commit()
    unsent = list(db.session.scalars(select(LabelRun.id).where(LabelRun.status == RunStatus.QUEUED, LabelRun.sent_at.is_(None))))
    db.session.commit()
    return sum(1 for run_id in unsent if announce(run_id))


CANNOT_CANCEL = _l("This run is finished: it can no longer be cancelled. Void its stamps instead.")
PRINTED_BEFORE = _l("This run was printed before: its stamps may already be on products. Void them instead of cancelling.")


def cancel(coop_id: int, run_id: int, actor_id: int | None) -> RunStatus:
    """Cancel a run that never printed: a waiting one at once, deleting any stamps an earlier attempt minted in
    the same transaction; one in progress by asking its worker, which stops at its next progress report and
    deletes the stamps it minted in the transaction that marks it cancelled. A run whose PDF was ever
    published is refused (its stamps may be on products: they are voided instead). Another cooperative's run
    is NotFound. The audit trail records who cancelled. Returns the run's status."""
    run = get_run(coop_id, run_id)
    if run.pdf_sha256 is not None:
        raise RuleViolation("run", CANNOT_CANCEL if run.status is RunStatus.DONE else PRINTED_BEFORE)
    actor = db.session.get(User, actor_id) if actor_id else None
    now = utcnow()
    dropped = db.session.execute(
        update(LabelRun).where(LabelRun.id == run_id, LabelRun.status == RunStatus.QUEUED, LabelRun.pdf_sha256.is_(None))
        .values(status=RunStatus.CANCELLED, finished_at=now, progress=0, task_id=None)
    )
    if dropped.rowcount:
        db.session.execute(delete(Stamp).where(Stamp.run_id == run_id))
        audit.record("cancel_run", entity="label_run", entity_id=run_id, cooperative_id=coop_id,
                     after={"status": "cancelled"}, actor=actor)
        db.session.commit()
        return RunStatus.CANCELLED
    asked = db.session.execute(
        update(LabelRun).where(LabelRun.id == run_id, LabelRun.status.in_(IN_PROGRESS))
        .values(cancel_requested_at=func.coalesce(LabelRun.cancel_requested_at, now))
    )
    if not asked.rowcount:
        db.session.rollback()
        raise RuleViolation("run", CANNOT_CANCEL)
    audit.record("cancel_run", entity="label_run", entity_id=run_id, cooperative_id=coop_id,
                 after={"status": "cancel_requested"}, actor=actor)
    db.session.commit()
    db.session.refresh(run)
    return run.status
