"""Certificates and verifications that expire soon or have expired, worked out when a page is read.

Nothing here is stored and nothing is written: the dashboard and the commune's overview ask, on each read, for
a cooperative's OCOP certificates, other certifications (VietGAP, organic…) and listing verifications whose
date falls within the next WINDOW_DAYS days or has passed. Archived products are left out, and so are batches
that are recalled or past their best-before date, as nobody sells them any more. The daily job
(app/services/expiry_notices.py) reads the same lists to write each item's notices once.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from sqlalchemy import func, or_, select, true

from app.extensions import db
from app.i18n import format_day
from app.models import Batch, BatchStatus, Certification, Cooperative, Outcome, Product, Verification
from app.services.errors import LazyText, lazy_text

WINDOW_DAYS = 30


class ExpiringKind(str, Enum):
    OCOP = "ocop"  # the product's OCOP certificate
    CERTIFICATION = "certification"  # another certificate of the product
    VERIFICATION = "verification"  # the commune's verification of a batch's listing


@dataclass(frozen=True)
class Expiring:
    kind: ExpiringKind
    expires_on: date
    today: date
    cooperative_id: int
    cooperative: str
    product_id: int
    product: str
    number: str = ""  # the certificate's number
    scheme: str = ""  # a certification's scheme, e.g. VietGAP
    batch_id: int | None = None
    lot_code: str = ""
    certification_id: int | None = None

    @property
    def expired(self) -> bool:
        return self.expires_on < self.today

    @property
    def days_left(self) -> int:
        return (self.expires_on - self.today).days

    def sentence(self) -> LazyText:
        """The item as one sentence in the reader's language; names typed by people are shown as text."""
        return expiry_sentence(self.kind, self.expired, self.expires_on, product=self.product, number=self.number,
                               scheme=self.scheme, lot=self.lot_code)


def expiry_sentence(kind: ExpiringKind, expired: bool, expires_on: date, *, product: str, number: str = "",
                    scheme: str = "", lot: str = "") -> LazyText:
    """One expiring or expired item in the reader's language: the on-read lists and the stored notices say it alike."""
    when = format_day(expires_on)
    if kind is ExpiringKind.OCOP:
        if expired:
            return lazy_text("The OCOP certificate %(number)s of %(product)s expired on %(date)s.",
                             number=number, product=product, date=when)
        return lazy_text("The OCOP certificate %(number)s of %(product)s expires on %(date)s.",
                         number=number, product=product, date=when)
    if kind is ExpiringKind.CERTIFICATION:
        if expired:
            return lazy_text("The %(scheme)s certificate %(number)s of %(product)s expired on %(date)s.",
                             scheme=scheme, number=number, product=product, date=when)
        return lazy_text("The %(scheme)s certificate %(number)s of %(product)s expires on %(date)s.",
                         scheme=scheme, number=number, product=product, date=when)
    if expired:
        return lazy_text("The commune's verification of batch %(lot)s (%(product)s) expired on %(date)s.",
                         lot=lot, product=product, date=when)
    return lazy_text("The commune's verification of batch %(lot)s (%(product)s) expires on %(date)s.",
                     lot=lot, product=product, date=when)


def for_cooperative(cooperative_id: int, today: date) -> list[Expiring]:
    return _expiring(Cooperative.id == cooperative_id, today)


def everywhere(today: date) -> list[Expiring]:
    """What expires in every cooperative (the daily notice job)."""
    return _expiring(true(), today)


def for_communes(commune_codes: list[int], today: date) -> list[Expiring]:
    """What expires in the cooperatives of these communes (an officer's overview)."""
    return _expiring(Cooperative.commune_code.in_(commune_codes), today)


def _expiring(cooperatives, today: date) -> list[Expiring]:
    """Soonest first (the longest expired at the top)."""
    until = today + timedelta(days=WINDOW_DAYS)
    found = _ocop(cooperatives, until, today) + _certifications(cooperatives, until, today) + _verifications(cooperatives, until, today)
    return sorted(found, key=lambda item: (item.expires_on, item.cooperative, item.product, item.lot_code))


def _products(cooperatives, *columns):
    return (select(Cooperative.id, Cooperative.name, Product.id, Product.name, *columns)
            .select_from(Product).join(Cooperative, Cooperative.id == Product.cooperative_id)
            .where(cooperatives, Product.is_archived.is_(False)))


def _ocop(cooperatives, until: date, today: date) -> list[Expiring]:
    rows = db.session.execute(_products(cooperatives, Product.ocop_certificate_no, Product.ocop_expires_on)
                              .where(Product.ocop_expires_on.is_not(None), Product.ocop_expires_on <= until))
    return [Expiring(ExpiringKind.OCOP, expires, today, coop_id, coop, product_id, product, number=number)
            for coop_id, coop, product_id, product, number, expires in rows]


def _certifications(cooperatives, until: date, today: date) -> list[Expiring]:
    rows = db.session.execute(_products(cooperatives, Certification.id, Certification.scheme, Certification.number,
                                        Certification.expires_on)
                              .join(Certification, Certification.product_id == Product.id)
                              .where(Certification.expires_on.is_not(None), Certification.expires_on <= until))
    return [Expiring(ExpiringKind.CERTIFICATION, expires, today, coop_id, coop, product_id, product, number=number, scheme=scheme,
                     certification_id=certification_id)
            for coop_id, coop, product_id, product, certification_id, scheme, number, expires in rows]


def _verifications(cooperatives, until: date, today: date) -> list[Expiring]:
    """Batches on sale whose latest decision is a verification valid until a day in the window, or past."""
    latest = (select(Verification.batch_id, func.max(Verification.id).label("id"))
              .group_by(Verification.batch_id).subquery())
    rows = db.session.execute(
        _products(cooperatives, Batch.id, Batch.lot_code, Verification.valid_until)
        .join(Batch, Batch.product_id == Product.id)
        .join(latest, latest.c.batch_id == Batch.id).join(Verification, Verification.id == latest.c.id)
        .where(Verification.outcome == Outcome.VERIFIED, Verification.valid_until <= until,
               Batch.status != BatchStatus.RECALLED, or_(Batch.best_before.is_(None), Batch.best_before >= today))
    )
    return [Expiring(ExpiringKind.VERIFICATION, expires, today, coop_id, coop, product_id, product, batch_id=batch_id, lot_code=lot)
            for coop_id, coop, product_id, product, batch_id, lot, expires in rows]
