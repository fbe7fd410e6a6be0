"""What a scan tells the consumer: is this stamp genuine, and where does the product come from.

A scan is recorded with a coarse device class and a salted hash of the client that changes every day:
enough to count distinct devices, never an IP address.
"""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, BatchStatus, FakeReport, LabelRun, Product, Scan, Stamp
from app.models.mixins import utcnow
from app.services import codes


class Verdict(str, Enum):
    GENUINE = "genuine"
    VOID = "void"  # the stamp or its roll was voided (lost)
    INACTIVE = "inactive"  # a blank stamp not yet put on a batch
    RECALLED = "recalled"
    COPIED = "copied"  # scanned by too many devices or over too many days
    EXPIRED = "expired"  # past best-before


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    stamp: Stamp
    batch: Batch | None
    product: Product
    first_checked: datetime | None  # the earliest scan before this one
    today: date


def device_class(user_agent: str) -> str:
    agent = user_agent.lower()
    if "android" in agent:
        return "android"
    if "iphone" in agent or "ipad" in agent:
        return "ios"
    if "windows" in agent or "macintosh" in agent or "linux" in agent:
        return "desktop"
    return "other"


def device_hash(client_address: str, user_agent: str, day: date) -> bytes:
    """A per-day pseudonym of the client: the salt is derived from the secret key and the date."""
    salt = hmac.digest(current_app.config["SECRET_KEY"].encode(), f"scan-salt:{day.isoformat()}".encode(), "sha256")
    return hashlib.sha256(salt + client_address.encode() + b"\0" + user_agent.encode()).digest()[:16]


def find_stamp(typed: str) -> Stamp | None:
    code = codes.normalise(typed)
    if code is None:
        return None
    return db.session.scalar(select(Stamp).where(Stamp.code_hash == codes.code_hash(code)))


def _looks_copied(stamp_id: int) -> bool:
    config = current_app.config
    per_day = select(Scan.day, func.count(func.distinct(Scan.device_hash)).label("devices")).where(Scan.stamp_id == stamp_id).group_by(Scan.day)
    rows = db.session.execute(per_day).all()
    return len(rows) >= config["SCAN_COPY_DAYS"] or any(row.devices >= config["SCAN_COPY_DEVICES"] for row in rows)


def _verdict(stamp: Stamp, run: LabelRun, batch: Batch | None, copied: bool, today: date) -> Verdict:
    if stamp.voided_at or run.voided_at:
        return Verdict.VOID
    if batch is None:
        return Verdict.INACTIVE
    if batch.status is BatchStatus.RECALLED:
        return Verdict.RECALLED
    if copied:
        return Verdict.COPIED
    if batch.best_before and batch.best_before < today:
        return Verdict.EXPIRED
    return Verdict.GENUINE


def check(stamp: Stamp, client_address: str, user_agent: str) -> ScanResult:
    """Record a scan of a stamp and judge it."""
    now = utcnow()
    first = db.session.scalar(select(func.min(Scan.scanned_at)).where(Scan.stamp_id == stamp.id))
    db.session.add(Scan(stamp_id=stamp.id, scanned_at=now, day=now.date(), device_class=device_class(user_agent),
                        device_hash=device_hash(client_address, user_agent, now.date())))
    db.session.flush()
    run = db.session.get(LabelRun, stamp.run_id)
    batch = db.session.get(Batch, stamp.batch_id) if stamp.batch_id else None
    verdict = _verdict(stamp, run, batch, _looks_copied(stamp.id), now.date())
    result = ScanResult(verdict, stamp, batch, run.product, first, now.date())
    db.session.commit()
    return result


def report_fake(typed_code: str, message: str, place: str = "", contact: str = "") -> FakeReport:
    """Store a suspected-fake report for the cooperative and commune the code points at, if any."""
    stamp = find_stamp(typed_code) if typed_code else None
    coop = None
    if stamp is not None:
        coop = db.session.get(LabelRun, stamp.run_id).product.cooperative
    report = FakeReport(
        stamp_id=stamp.id if stamp else None, cooperative_id=coop.id if coop else None,
        commune_code=coop.commune_code if coop else None, code_typed=typed_code[:60],
        message=message, place=place, contact=contact,
    )
    db.session.add(report)
    db.session.commit()
    return report
