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
from sqlalchemy import Row, bindparam, func, insert, select

from app.extensions import db
from app.models import Batch, BatchStatus, Cooperative, FakeReport, LabelRun, Product, Scan, Stamp
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
    stamp: Row  # the columns of STAMP_FACTS
    first_checked: datetime | None  # the earliest scan before this one
    today: date


# Everything the verdict needs, and the revision of what the origin part shows, in one indexed query.
STAMP_FACTS = (
    select(
        Stamp.id, Stamp.voided_at, Stamp.batch_id, LabelRun.voided_at.label("run_voided_at"), LabelRun.product_id,
        Product.name.label("product_name"), Product.gtin, Batch.lot_code, Batch.status, Batch.best_before, Batch.recalled_on, Batch.recall_reason,
        Product.updated_at.label("product_revision"), Batch.updated_at.label("batch_revision"),
        Cooperative.updated_at.label("cooperative_revision"),
    )
    .join(LabelRun, LabelRun.id == Stamp.run_id)
    .join(Product, Product.id == LabelRun.product_id)
    .join(Cooperative, Cooperative.id == Product.cooperative_id)
    .outerjoin(Batch, Batch.id == Stamp.batch_id)
    .where(Stamp.code_hash == bindparam("code_hash"))
)
SCAN_DAYS = (
    select(Scan.day, func.count(func.distinct(Scan.device_hash)).label("devices"), func.count().label("scans"),
           func.min(Scan.scanned_at).label("first"))
    .where(Scan.stamp_id == bindparam("stamp_id"))
    .group_by(Scan.day)
)


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


def find_stamp(typed: str) -> Row | None:
    """The facts of the stamp a typed or scanned code names, or None."""
    code = codes.normalise(typed)
    if code is None:
        return None
    with scan_connection() as conn:
        return conn.execute(STAMP_FACTS, {"code_hash": codes.code_hash(code)}).first()


def scan_connection():
    """A connection for the scan page's few statements, which need no transaction of their own (on SQLite
    each commits by itself, so a scan never holds the write lock while it reads)."""
    return db.engine.connect().execution_options(single_statements=True)


def _looks_copied(days: list[Row]) -> bool:
    config = current_app.config
    return len(days) >= config["SCAN_COPY_DAYS"] or any(day.devices >= config["SCAN_COPY_DEVICES"] for day in days)


def _verdict(stamp: Row, copied: bool, today: date) -> Verdict:
    if stamp.voided_at or stamp.run_voided_at:
        return Verdict.VOID
    if stamp.batch_id is None:
        return Verdict.INACTIVE
    if stamp.status is BatchStatus.RECALLED:
        return Verdict.RECALLED
    if copied:
        return Verdict.COPIED
    if stamp.best_before and stamp.best_before < today:
        return Verdict.EXPIRED
    return Verdict.GENUINE


def check(stamp: Row, client_address: str, user_agent: str) -> ScanResult:
    """Judge a stamp from its scans so far, counting this one, and record this scan."""
    now = utcnow()
    scan = {"stamp_id": stamp.id, "scanned_at": now, "day": now.date(), "device_class": device_class(user_agent),
            "device_hash": device_hash(client_address, user_agent, now.date())}
    with scan_connection() as conn:
        conn.execute(insert(Scan), scan)
        days = conn.execute(SCAN_DAYS, {"stamp_id": stamp.id}).all()
        conn.commit()
    earlier = sum(day.scans for day in days) > 1
    first = min(day.first for day in days) if earlier else None
    return ScanResult(_verdict(stamp, _looks_copied(days), now.date()), stamp, first, now.date())


def report_fake(typed_code: str, message: str, place: str = "", contact: str = "") -> FakeReport:
    """Store a suspected-fake report for the cooperative and commune the code points at, if any."""
    stamp = find_stamp(typed_code) if typed_code else None
    coop = db.session.get(Product, stamp.product_id).cooperative if stamp else None
    report = FakeReport(
        stamp_id=stamp.id if stamp else None, cooperative_id=coop.id if coop else None,
        commune_code=coop.commune_code if coop else None, code_typed=typed_code[:60],
        message=message, place=place, contact=contact,
    )
    db.session.add(report)
    db.session.commit()
    return report
