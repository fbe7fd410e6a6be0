"""What an officer watches in their communes: consumers' reports of fakes, stamps that look copied, scans per
product over time, and recalls."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, BatchStatus, Cooperative, FakeReport, LabelRun, NoticeKind, Product, Scan, Stamp
from app.services import identifiers, listings, notices
from app.services.errors import RuleViolation


SHOWN = 200  # newest copy warnings listed; the overview counts all (the reports: app/services/report_inbox.py)


def report_count(commune_codes: list[int]) -> int:
    return db.session.scalar(select(func.count()).select_from(FakeReport).where(_reports_in(commune_codes)))


def _reports_in(commune_codes: list[int]):
    return FakeReport.commune_code.in_(commune_codes)


@dataclass(frozen=True)
class CopiedStamp:
    product: str
    cooperative: str
    lot_code: str
    serial: int
    run_id: int
    suspected_at: object
    scans: int


def copied_stamps(commune_codes: list[int]) -> list[CopiedStamp]:
    scans = select(func.count()).where(Scan.stamp_id == Stamp.id).scalar_subquery()
    rows = db.session.execute(_copied_in(
        select(Product.name, Cooperative.name, Batch.lot_code, Stamp.serial, Stamp.run_id, Stamp.copy_suspected_at, scans),
        commune_codes,
    ).outerjoin(Batch, Batch.id == Stamp.batch_id).order_by(Stamp.copy_suspected_at.desc()).limit(SHOWN))
    return [CopiedStamp(p, c, lot or "", serial, run, at, n) for p, c, lot, serial, run, at, n in rows]


def copied_count(commune_codes: list[int]) -> int:
    return db.session.scalar(_copied_in(select(func.count(Stamp.id)).select_from(Stamp), commune_codes))


def _copied_in(query, commune_codes: list[int]):
    """Stamps judged copied whose product belongs to a cooperative in these communes."""
    return (query.join(LabelRun, LabelRun.id == Stamp.run_id).join(Product, Product.id == LabelRun.product_id)
            .join(Cooperative, Cooperative.id == Product.cooperative_id)
            .where(Stamp.copy_suspected_at.is_not(None), Cooperative.commune_code.in_(commune_codes)))


@dataclass(frozen=True)
class ScanSeries:
    product: str
    days: list[date]
    counts: list[int]


def scans_per_product(commune_codes: list[int], today: date, days: int = 30) -> list[ScanSeries]:
    first = today - timedelta(days=days - 1)
    rows = db.session.execute(
        select(Product.id, Product.name, Scan.day, func.count())
        .join(Stamp, Stamp.id == Scan.stamp_id).join(LabelRun, LabelRun.id == Stamp.run_id)
        .join(Product, Product.id == LabelRun.product_id).join(Cooperative, Cooperative.id == Product.cooperative_id)
        .where(Cooperative.commune_code.in_(commune_codes), Scan.day >= first)
        .group_by(Product.id, Product.name, Scan.day)
    )
    by_product: dict[int, tuple[str, dict]] = {}
    for product_id, name, day, count in rows:
        by_product.setdefault(product_id, (name, {}))[1][day] = count
    span = [first + timedelta(days=i) for i in range(days)]
    return [ScanSeries(name, span, [counts.get(day, 0) for day in span]) for name, counts in sorted(by_product.values())]


def recall(officer_id: int, batch_id: int, reason: str, today: date) -> Batch:
    batch = listings.officer_batch(officer_id, batch_id)
    reason = identifiers.clean_multiline(reason)
    if not reason:
        raise RuleViolation("reason", _l("Write the reason: the scan page shows it to every buyer."))
    batch.status, batch.recall_reason, batch.recalled_on, batch.updated_by_id = BatchStatus.RECALLED, reason, today, officer_id
    notices.post(batch.product.cooperative_id, NoticeKind.BATCH_RECALLED, batch_id=batch.id, params={"reason": reason})
    db.session.commit()
    return batch
