"""What a scan tells the consumer: is this stamp genuine, and where does the product come from.

A scan is recorded with a coarse device class and a salted hash of the client that changes every day:
enough to count distinct devices, never an IP address.
"""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Callable

from flask import current_app
from sqlalchemy import bindparam, func, select, update

from app.database import single_statement_connection
from app.extensions import db
from app.i18n import local_today
from app.models import Batch, BatchStatus, Cooperative, FakeReport, LabelRun, Product, ScanDevice, Stamp, Verification
from app.models.mixins import utcnow
from app.services import codes
from app.services.hot_query import HotQuery
from app.services.scan_log import ScanLog


class Verdict(str, Enum):
    GENUINE = "genuine"
    VOID = "void"  # the stamp or its roll was voided (lost)
    INACTIVE = "inactive"  # a blank stamp not yet put on a batch
    RECALLED = "recalled"
    COPIED = "copied"  # scanned by too many devices or over too many days
    EXPIRED = "expired"  # past best-before


StampFacts = tuple  # a named tuple of the columns of STAMP_FACTS or SCAN_FACTS (see HotQuery)


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    stamp: StampFacts
    code: str  # as normalised
    first_checked: date | None  # the day of the earliest scan before this one
    today: date


# Everything the verdict needs, and the revision of what the origin part shows, in one indexed query.
STAMP_FACTS = (
    select(
        Stamp.id, Stamp.voided_at, Stamp.batch_id, LabelRun.voided_at.label("run_voided_at"), LabelRun.product_id,
        Product.name.label("product_name"), Product.gtin, Batch.lot_code, Batch.status, Batch.best_before, Batch.recalled_on, Batch.recall_reason,
        Product.updated_at.label("product_revision"), Batch.updated_at.label("batch_revision"),
        Cooperative.updated_at.label("cooperative_revision"),
        select(func.max(Verification.id)).where(Verification.batch_id == Stamp.batch_id).scalar_subquery().label("decision_id"),
    )
    .join(LabelRun, LabelRun.id == Stamp.run_id)
    .join(Product, Product.id == LabelRun.product_id)
    .join(Cooperative, Cooperative.id == Product.cooperative_id)
    .outerjoin(Batch, Batch.id == Stamp.batch_id)
    .where(Stamp.code_hash == bindparam("code_hash"))
)


def _devices_of_this_stamp(*columns, today_only: bool = False):
    query = select(*columns).where(ScanDevice.stamp_id == Stamp.id)
    return query.where(ScanDevice.day == bindparam("today")) if today_only else query


# The stamp's facts and what its scans so far tell, in one statement over a few index entries.
SCAN_FACTS = STAMP_FACTS.add_columns(
    Stamp.copy_suspected_at,
    _devices_of_this_stamp(func.min(ScanDevice.day)).scalar_subquery().label("first_day"),
    _devices_of_this_stamp(func.count(func.distinct(ScanDevice.day))).scalar_subquery().label("scan_days"),
    _devices_of_this_stamp(func.count(), today_only=True).scalar_subquery().label("devices_today"),
    _devices_of_this_stamp(ScanDevice.day, today_only=True).where(ScanDevice.device_hash == bindparam("device")).exists().label("seen_today"),
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
    salt = _daily_salt(current_app.config["SECRET_KEY"], day)
    return hashlib.sha256(salt + client_address.encode() + b"\0" + user_agent.encode()).digest()[:16]


@lru_cache(maxsize=4)
def _daily_salt(secret_key: str, day: date) -> bytes:
    return hmac.digest(secret_key.encode(), f"scan-salt:{day.isoformat()}".encode(), "sha256")


def find_stamp(typed: str) -> StampFacts | None:
    """The facts of the stamp a typed or scanned code names, or None (no scan is recorded)."""
    code = codes.normalise(typed)
    if code is None:
        return None
    return _hot(STAMP_FACTS).first(code_hash=codes.code_hash(code))


def look(typed: str, client_address: str, user_agent: str, accept: Callable[[StampFacts], bool] = lambda stamp: True) -> tuple[ScanResult, dict] | None:
    """Judge the stamp a code names from its scans so far and this one; with the record of this scan, for
    record(). None when no stamp has this code, or `accept` refuses its facts (a GS1 link whose GTIN or lot
    does not match)."""
    code = codes.normalise(typed)
    if code is None:
        return None
    now, today = utcnow(), local_today()  # days are Vietnam's: "first checked on", best-before, devices per day
    device = device_hash(client_address, user_agent, today)
    stamp = _hot(SCAN_FACTS).first(code_hash=codes.code_hash(code), today=today, device=device)
    if stamp is None or not accept(stamp):
        return None
    this_scan = {"stamp_id": stamp.id, "scanned_at": now, "day": today, "device_class": device_class(user_agent), "device_hash": device}
    return ScanResult(_verdict(stamp, _looks_copied(stamp, now), today), stamp, code, stamp.first_day, today), this_scan


def record(this_scan: dict) -> None:
    scan_log().record(this_scan)


def scan(typed: str, client_address: str, user_agent: str, accept: Callable[[StampFacts], bool] = lambda stamp: True) -> ScanResult | None:
    """look() and record() in one: the verdict, with this scan recorded."""
    looked = look(typed, client_address, user_agent, accept)
    if looked is None:
        return None
    record(looked[1])
    return looked[0]


def _hot(statement) -> HotQuery:
    queries = current_app.extensions.setdefault("scan_queries", {})
    if statement not in queries:
        queries[statement] = HotQuery(db.engine, statement)
    return queries[statement]


def _looks_copied(stamp: StampFacts, now: datetime) -> bool:
    """Already suspect, or so with this scan: too many devices today, or scans on too many days."""
    if stamp.copy_suspected_at:
        return True
    config = current_app.config
    days = stamp.scan_days + (stamp.devices_today == 0)
    devices_today = stamp.devices_today + (not stamp.seen_today)
    if days < config["SCAN_COPY_DAYS"] and devices_today < config["SCAN_COPY_DEVICES"]:
        return False
    with single_statement_connection(db.engine) as conn:  # once per copied stamp
        conn.execute(update(Stamp).where(Stamp.id == stamp.id).values(copy_suspected_at=now))
        conn.commit()
    return True


def _verdict(stamp: StampFacts, copied: bool, today: date) -> Verdict:
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


def scan_log() -> ScanLog:
    """This app's scan log (one per app and worker)."""
    log = current_app.extensions.get("scan_log")
    if log is None:
        log = current_app.extensions["scan_log"] = ScanLog(db.engine, current_app.config["SCAN_WRITE_DELAY"])
    return log


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
