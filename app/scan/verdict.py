"""What the scan page says, decided in one place.

The page answers two questions. *Is this stamp genuine?* Our code, active, not voided, not a suspected copy.
*What do we know about this product?* Whether its batch was recalled, whether the commune verified, rejected
or has not yet verified the listing (or it changed since, or the verification expired), whether an officer let
a batch through the diary check, its best-before date and OCOP certificate. judge() turns both answers into
what the page says first (the headline), its colour, whether the commune's badge shows, and the supporting
facts; the rule is the table in README.md ("The scan page"). The scan page uses nothing else, so a JSON API
built on judge() says the same.

judge() reads the scan result (stamp, scans, today) and the listing; what it reads of the listing moves the
revisions, decision and override ids in STAMP_FACTS, which is why the rendered page can be cached on them.
"""
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from app.extensions import db
from app.models import Batch, BatchStatus, Product
from app.services import compliance, listings
from app.services.listings import ListingStatus
from app.scan.scans import ScanEvidence, ScanResult


class Tone(str, Enum):
    """The headline's colour (also its CSS class)."""
    OK = "ok"  # green: only a genuine stamp on a listing the commune verified and whose verification holds
    NEUTRAL = "neutral"
    WARN = "warn"
    BAD = "bad"  # red


class StampState(str, Enum):
    GENUINE = "genuine"
    VOID = "void"  # the stamp or its roll was voided (lost)
    INACTIVE = "inactive"  # a blank stamp not yet put on a batch
    COPIED = "copied"  # scanned by too many phones over too many days (scans.looks_copied)


class Headline(str, Enum):
    """What the page says first, in order of precedence: the first that applies wins."""
    RECALLED = "recalled"
    VOID = "void"
    INACTIVE = "inactive"
    COPIED = "copied"
    PAST_BEST_BEFORE = "past_best_before"
    REJECTED = "rejected"
    VERIFIED = "verified"
    VERIFICATION_EXPIRED = "verification_expired"
    CHANGED = "changed"
    AWAITING = "awaiting"


TONES = {
    Headline.RECALLED: Tone.BAD, Headline.VOID: Tone.WARN, Headline.INACTIVE: Tone.WARN, Headline.COPIED: Tone.BAD,
    Headline.PAST_BEST_BEFORE: Tone.WARN, Headline.REJECTED: Tone.WARN, Headline.VERIFIED: Tone.OK,
    Headline.VERIFICATION_EXPIRED: Tone.NEUTRAL, Headline.CHANGED: Tone.NEUTRAL, Headline.AWAITING: Tone.NEUTRAL,
}
# The headline for each state of a listing whose stamp is genuine, batch not recalled and product not past best-before.
LISTING_HEADLINES = {
    ListingStatus.REJECTED: Headline.REJECTED, ListingStatus.VERIFIED: Headline.VERIFIED,
    ListingStatus.EXPIRED: Headline.VERIFICATION_EXPIRED, ListingStatus.CHANGED: Headline.CHANGED,
    ListingStatus.AWAITING: Headline.AWAITING,
}
STAMP_HEADLINES = {StampState.VOID: Headline.VOID, StampState.INACTIVE: Headline.INACTIVE, StampState.COPIED: Headline.COPIED}


@dataclass(frozen=True)
class Badge:
    """The commune's verification, shown as "Verified by the People's Committee of … on … (valid until …)"."""
    commune: str
    decided_at: datetime
    valid_until: date


@dataclass(frozen=True)
class Decision:
    """The commune's latest decision on the listing, whatever it was and whether it still holds."""
    commune: str
    decided_at: datetime
    valid_until: date | None


@dataclass(frozen=True)
class Recall:
    recalled_on: date
    reason: str  # as the officer wrote it


@dataclass(frozen=True)
class Override:
    """An officer let the batch's stamps through a failing diary check, in writing; it holds while the facts stand."""
    commune: str
    created_at: datetime
    reason: str


@dataclass(frozen=True)
class Ocop:
    stars: int | None
    certificate_no: str
    expires_on: date | None
    valid: bool  # not past its expiry


@dataclass(frozen=True)
class Verdict:
    headline: Headline
    tone: Tone
    badge: Badge | None  # shown only when set
    stamp: StampState
    listing: ListingStatus | None  # None for a blank stamp (no batch)
    also: Headline | None  # the listing's state when the headline is about best-before, unless the badge shows it
    evidence: ScanEvidence
    recall: Recall | None
    decision: Decision | None
    override: Override | None
    best_before: date | None
    ocop: Ocop | None


def scan_key(result: ScanResult) -> tuple:
    """What judge() reads of a scan result besides the listing (rendered.listing_key has that)."""
    stamp = result.stamp
    return (bool(stamp.voided_at or stamp.run_voided_at), stamp.batch_id is None, result.copied, result.evidence.wording)


def judge(result: ScanResult) -> Verdict:
    """The whole verdict of one scan: headline, colour, badge and supporting facts (README's table)."""
    today = result.today
    batch = db.session.get(Batch, result.stamp.batch_id) if result.stamp.batch_id else None
    product = db.session.get(Product, result.stamp.product_id)
    found = listings.listing(batch, today) if batch else None
    stamp = stamp_state(result)
    past_best_before = bool(batch and batch.best_before and batch.best_before < today)
    headline = _headline(stamp, found, past_best_before)
    holds = found is not None and found.status is ListingStatus.VERIFIED
    badge = _badge(found) if holds and headline in (Headline.VERIFIED, Headline.PAST_BEST_BEFORE) else None
    also = _listing_line(found) if headline is Headline.PAST_BEST_BEFORE else None
    return Verdict(
        headline=headline, tone=TONES[headline], badge=badge, stamp=stamp, listing=found.status if found else None,
        also=also, evidence=result.evidence, recall=_recall(batch), decision=_decision(found),
        override=_override(batch), best_before=batch.best_before if batch else None, ocop=_ocop(product, today),
    )


def stamp_state(result: ScanResult) -> StampState:
    stamp = result.stamp
    if stamp.voided_at or stamp.run_voided_at:
        return StampState.VOID
    if stamp.batch_id is None:
        return StampState.INACTIVE
    return StampState.COPIED if result.copied else StampState.GENUINE


def _headline(stamp: StampState, found: listings.Listing | None, past_best_before: bool) -> Headline:
    if found is not None and found.status is ListingStatus.RECALLED:
        return Headline.RECALLED  # whatever the stamp: nobody should eat it
    if stamp is not StampState.GENUINE:
        return STAMP_HEADLINES[stamp]
    if past_best_before:
        return Headline.PAST_BEST_BEFORE
    return LISTING_HEADLINES[found.status]


def _listing_line(found: listings.Listing) -> Headline | None:
    """The listing's state in words under a best-before headline; a verification that holds shows as the badge."""
    return None if found.status is ListingStatus.VERIFIED else LISTING_HEADLINES[found.status]


def _badge(found: listings.Listing) -> Badge:
    decision = found.decision
    return Badge(decision.commune.name, decision.decided_at, decision.valid_until)


def _decision(found: listings.Listing | None) -> Decision | None:
    decision = found.decision if found else None
    if decision is None:
        return None
    return Decision(decision.commune.name, decision.decided_at, decision.valid_until)


def _recall(batch: Batch | None) -> Recall | None:
    if batch is None or batch.status is not BatchStatus.RECALLED:
        return None
    return Recall(batch.recalled_on, batch.recall_reason)


def _override(batch: Batch | None) -> Override | None:
    found = compliance.override(batch) if batch else None
    if found is None:
        return None
    return Override(batch.product.cooperative.commune.name, found.created_at, found.reason)


def _ocop(product: Product, today: date) -> Ocop | None:
    if not (product.ocop_stars or product.ocop_certificate_no):
        return None
    expires = product.ocop_expires_on
    return Ocop(product.ocop_stars, product.ocop_certificate_no, expires, expires is None or expires >= today)
