"""Listings and their verification by commune officers.

A listing is a batch as the public sees it: where it comes from (cooperative, commune), the product, the
batch's dates, the certifications and the diary. An officer verifies or rejects the facts as they stand;
the decision keeps a copy of those facts and their fingerprint. When a verified fact later changes, the
fingerprint no longer matches: the listing is "changed since verification", goes back to the queue, and
the scan page drops the badge until an officer verifies it again.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import Enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Batch, BatchStatus, Cooperative, NoticeKind, Outcome, Product, User, Verification
from app.services import identifiers, notices
from app.services.calendar import years_after
from app.services.errors import NotFound, RuleViolation

VALID_YEARS = 1  # a verification holds for 12 months unless the officer sets another date


class ListingStatus(str, Enum):
    RECALLED = "recalled"  # the batch was recalled: whatever was decided before, it is not for sale
    AWAITING = "awaiting"  # never decided
    CHANGED = "changed"  # a verified or rejected fact changed since the decision
    VERIFIED = "verified"
    EXPIRED = "expired"  # verified, facts unchanged, past the validity date
    REJECTED = "rejected"


QUEUED = (ListingStatus.AWAITING, ListingStatus.CHANGED, ListingStatus.EXPIRED)


@dataclass(frozen=True)
class Listing:
    batch: Batch
    status: ListingStatus
    decision: Verification | None  # the latest


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def facts(batch: Batch) -> dict:
    """What a verification vouches for, in a stable form."""
    product, coop = batch.product, batch.product.cooperative
    return {
        "origin": {"cooperative": coop.name, "registration_no": coop.registration_no, "commune_code": coop.commune_code,
                   "commune": coop.commune.name, "province": coop.commune.province.name, "address": coop.address_line},
        "product": {"name": product.name, "category": product.category, "gtin": product.gtin,
                    "growing_area_code": product.growing_area_code, "ocop_stars": product.ocop_stars,
                    "ocop_certificate_no": product.ocop_certificate_no, "ocop_expires_on": day(product.ocop_expires_on)},
        "batch": {"lot_code": batch.lot_code, "harvest_date": day(batch.harvest_date),
                  "packing_date": day(batch.packing_date), "best_before": day(batch.best_before)},
        "certifications": sorted(
            [{"scheme": c.scheme, "number": c.number, "issuer": c.issuer, "expires_on": day(c.expires_on)} for c in product.certifications],
            key=lambda c: (c["scheme"], c["number"]),
        ),
        "diary": [{"date": day(e.event_date), "kind": e.kind.value, "input_used": e.input_used, "dose": e.dose,
                   "phi_days": e.phi_days} for e in batch.events],
    }


def fingerprint(facts_: dict) -> str:
    return hashlib.sha256(json.dumps(facts_, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def latest_decision(batch_id: int) -> Verification | None:
    return db.session.scalar(select(Verification).where(Verification.batch_id == batch_id).order_by(Verification.id.desc()).limit(1))


def decisions(batch_id: int) -> list[Verification]:
    """Every decision on a batch, newest first."""
    return list(db.session.scalars(select(Verification).where(Verification.batch_id == batch_id).order_by(Verification.id.desc())))


def status(batch: Batch, decision: Verification | None, today: date) -> ListingStatus:
    if batch.status is BatchStatus.RECALLED:
        return ListingStatus.RECALLED
    if decision is None:
        return ListingStatus.AWAITING
    if decision.facts_hash != fingerprint(facts(batch)):
        return ListingStatus.CHANGED
    if decision.outcome is Outcome.REJECTED:
        return ListingStatus.REJECTED
    return ListingStatus.VERIFIED if decision.valid_until >= today else ListingStatus.EXPIRED


def listing(batch: Batch, today: date) -> Listing:
    decision = latest_decision(batch.id)
    return Listing(batch, status(batch, decision, today), decision)


def current_verification(batch: Batch, today: date) -> Verification | None:
    """The verification that holds: verified, unchanged since, still valid, and the batch not recalled."""
    found = listing(batch, today)
    return found.decision if found.status is ListingStatus.VERIFIED else None


# Officers ---------------------------------------------------------------------------------------------

def officer_communes(officer_id: int) -> list[int]:
    return [commune.code for commune in db.session.get(User, officer_id).communes]


def officer_batch(officer_id: int, batch_id: int) -> Batch:
    """A batch in one of the officer's communes; NotFound for any other, as if it did not exist."""
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.product.cooperative.commune_code not in officer_communes(officer_id):
        raise NotFound
    return batch


def officer_listings(officer_id: int, today: date) -> list[Listing]:
    batches = db.session.scalars(
        select(Batch).join(Product).join(Cooperative)
        .where(Cooperative.commune_code.in_(officer_communes(officer_id)))
        .order_by(Cooperative.name, Product.name, Batch.lot_code)
    )
    return [listing(batch, today) for batch in batches]


def verify(officer_id: int, batch_id: int, valid_until: date | None, today: date) -> Verification:
    batch = officer_batch(officer_id, batch_id)
    if batch.status is BatchStatus.RECALLED:
        raise RuleViolation("valid_until", _l("This batch has been recalled: it cannot be verified."))
    until = valid_until or years_after(today, VALID_YEARS)
    if until <= today:
        raise RuleViolation("valid_until", _l("The validity date must be after today."))
    return _decide(officer_id, batch, Outcome.VERIFIED, "", until)


def reject(officer_id: int, batch_id: int, reason: str) -> Verification:
    batch = officer_batch(officer_id, batch_id)
    reason = identifiers.clean_multiline(reason)
    if not reason:
        raise RuleViolation("reason", _l("Write the reason, so that the cooperative knows what to correct."))
    return _decide(officer_id, batch, Outcome.REJECTED, reason, None)


def _decide(officer_id: int, batch: Batch, outcome: Outcome, reason: str, valid_until: date | None) -> Verification:
    snapshot = facts(batch)
    decision = Verification(
        batch_id=batch.id, commune_code=batch.product.cooperative.commune_code, officer_id=officer_id,
        outcome=outcome, reason=reason, facts=snapshot, facts_hash=fingerprint(snapshot), valid_until=valid_until,
    )
    db.session.add(decision)
    # The cooperative learns of the decision in the same transaction that makes it.
    if outcome is Outcome.VERIFIED:
        notices.post(batch.product.cooperative_id, NoticeKind.LISTING_VERIFIED, batch_id=batch.id)
    else:
        notices.post(batch.product.cooperative_id, NoticeKind.LISTING_REJECTED, batch_id=batch.id, params={"reason": reason})
    db.session.commit()
    return decision


def cooperative_listing(coop_id: int, batch_id: int, today: date) -> Listing:
    batch = db.session.get(Batch, batch_id)
    if batch is None or batch.product.cooperative_id != coop_id:
        raise NotFound
    return listing(batch, today)
