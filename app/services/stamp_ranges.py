"""Stamp ranges: blank stamps activated onto a batch, and stamps voided, by serial range or a whole run.

A void needs a reason (cleaned like other free text). An activation is allowed only for a blank run, onto a
batch of the run's product that is not recalled and passes the compliance gate, and never over stamps
already activated; voided stamps stay void. Every change commits together with its line in the run's range
history and its audit-trail event, so what the run page lists is what happened.
"""
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import BatchStatus, LabelRun, RangeAction, Stamp, StampRangeEvent, User
from app.models.mixins import utcnow
from app.services import audit, compliance, identifiers
from app.services.batches import get_batch
from app.services.errors import RuleViolation, lazy_text as _l
from app.services.label_runs import get_run

REASON_REQUIRED = _l("Write why these stamps are voided (for example: roll lost in transport).")


def _required_reason(reason: str | None) -> str:
    reason = identifiers.clean_multiline(reason or "")
    if not reason:
        raise RuleViolation("reason", REASON_REQUIRED)
    return reason


def _user(actor_id: int | None) -> User | None:
    return db.session.get(User, actor_id) if actor_id else None


def _record_range(run: LabelRun, action: RangeAction, first: int, last: int, stamp_count: int, actor: User | None,
                  reason: str = "", batch_id: int | None = None) -> None:
    """A line of the run's range history, in the caller's transaction."""
    db.session.add(StampRangeEvent(
        run_id=run.id, action=action, first_serial=first, last_serial=last, stamp_count=stamp_count,
        batch_id=batch_id, reason=reason, actor_id=actor.id if actor else None, actor_name=actor.name if actor else "",
        at=utcnow(),
    ))


def range_history(run_id: int) -> list[StampRangeEvent]:
    """A run's activations and voids, newest first."""
    stmt = select(StampRangeEvent).where(StampRangeEvent.run_id == run_id).order_by(StampRangeEvent.id.desc())
    return list(db.session.scalars(stmt))


def void_run(coop_id: int, run_id: int, reason: str, actor_id: int | None) -> LabelRun:
    """Void every stamp of the run; a reason is required. The trail records the change to the run's row."""
    run = get_run(coop_id, run_id)
    reason = _required_reason(reason)
    now = utcnow()
    run.voided_at, run.void_reason, run.updated_by_id = now, reason, actor_id
    result = db.session.execute(update(Stamp).where(Stamp.run_id == run_id, Stamp.voided_at.is_(None)).values(voided_at=now))
    _record_range(run, RangeAction.VOID_RUN, 1, run.count, result.rowcount, _user(actor_id), reason)
    db.session.commit()
    return run


def _check_range(run: LabelRun, first: int, last: int) -> None:
    if not 1 <= first <= last <= run.count:
        raise RuleViolation("first", _l("Serial numbers run from 1 to %(count)s, first ≤ last.", count=run.count))


def void_range(coop_id: int, run_id: int, first: int, last: int, actor_id: int | None, *, reason: str) -> int:
    """Void the stamps first..last of a run (those not void already); a reason is required."""
    run = get_run(coop_id, run_id)
    _check_range(run, first, last)
    reason = _required_reason(reason)
    result = db.session.execute(
        update(Stamp).where(Stamp.run_id == run_id, Stamp.serial.between(first, last), Stamp.voided_at.is_(None)).values(voided_at=utcnow())
    )
    actor = _user(actor_id)
    audit.record("void", entity="label_run", entity_id=run.id, cooperative_id=run.cooperative_id,
                 after={"first": first, "last": last, "stamps": result.rowcount, "reason": reason}, actor=actor)
    _record_range(run, RangeAction.VOID, first, last, result.rowcount, actor, reason)
    run.updated_by_id = actor_id
    db.session.commit()
    return result.rowcount


def activate_range(coop_id: int, run_id: int, first: int, last: int, batch_id: int, actor_id: int | None,
                   reason: str = "") -> int:
    """Put a serial range of a blank run onto a batch of the run's product (at packing time); a note is optional."""
    run = get_run(coop_id, run_id)
    batch = get_batch(coop_id, batch_id)
    if run.batch_id is not None:
        raise RuleViolation("batch_id", _l("This run was printed for a batch already."))
    if batch.product_id != run.product_id:
        raise RuleViolation("batch_id", _l("Choose a batch of the product these stamps were printed for."))
    if batch.status is BatchStatus.RECALLED:
        raise RuleViolation("batch_id", _l("This batch has been recalled: its stamps cannot be activated."))
    compliance.check_passes(batch)
    _check_range(run, first, last)
    taken = db.session.scalar(
        select(func.count()).select_from(Stamp).where(
            Stamp.run_id == run_id, Stamp.serial.between(first, last), Stamp.batch_id.is_not(None)
        )
    )
    if taken:
        raise RuleViolation("first", _l("%(n)s stamps in this range are already activated.", n=taken))
    result = db.session.execute(
        update(Stamp).where(Stamp.run_id == run_id, Stamp.serial.between(first, last), Stamp.voided_at.is_(None))
        .values(batch_id=batch.id, activated_at=utcnow())
    )
    reason = identifiers.clean_multiline(reason or "")
    actor = _user(actor_id)
    audit.record("activate", entity="label_run", entity_id=run.id, cooperative_id=run.cooperative_id,
                 after={"first": first, "last": last, "batch_id": batch.id, "stamps": result.rowcount, "reason": reason},
                 actor=actor)
    _record_range(run, RangeAction.ACTIVATE, first, last, result.rowcount, actor, reason, batch.id)
    run.updated_by_id = actor_id
    db.session.commit()
    return result.rowcount


def stamp_counts(run_id: int) -> dict[str, int]:
    base = select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)
    return {
        "minted": db.session.scalar(base),
        "active": db.session.scalar(base.where(Stamp.batch_id.is_not(None), Stamp.voided_at.is_(None))),
        "voided": db.session.scalar(base.where(Stamp.voided_at.is_not(None))),
    }
