"""What a scan tells: which stamp a code names, and what its scans so far say about it.

A scan is recorded with a coarse device class and a salted hash of the client that changes every day (the
scan log), and counted once per phone in `scan_devices` under a hash keyed per stamp (see phone_hash): enough
to count the phones that scanned one stamp, never an IP address, and nothing that follows a person from one
stamp to another. What the page then says is decided in app/scan/verdict.py.
"""
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Callable

from flask import current_app
from sqlalchemy import bindparam, func, literal_column, select, update

from app.database import single_statement_connection
from app.extensions import db
from app.i18n import local_today
from app.models import (Batch, Cooperative, FakeReport, GateOverride, LabelRun, NoticeKind, Product, ScanDevice, Stamp,
                        Verification)
from app.models.mixins import utcnow
from app.services import codes, geo, notices
from app.scan.hot_query import HotQuery, reader_engine
from app.scan.scan_log import ScanLog

StampFacts = tuple  # a named tuple of the columns of STAMP_FACTS or SCAN_FACTS (see HotQuery)


@dataclass(frozen=True)
class ScanEvidence:
    """What the stamp's scans tell, this one included."""
    scans: int
    phones: int
    since: date  # the day of its first scan

    @property
    def first_check(self) -> bool:
        return self.scans == 1

    @property
    def wording(self) -> tuple[bool, bool]:
        """What of the evidence decides the words of its sentence; the numbers and the day are filled in."""
        return (self.first_check, self.phones == 1)


@dataclass(frozen=True)
class ScanResult:
    stamp: StampFacts
    code: str  # as normalised
    today: date
    copied: bool  # judged copied, now or earlier
    evidence: ScanEvidence


# Everything the verdict needs, and the revision of what the page shows, in one indexed query.
STAMP_FACTS = (
    select(
        Stamp.id, Stamp.voided_at, Stamp.batch_id, LabelRun.voided_at.label("run_voided_at"), LabelRun.product_id,
        Product.name.label("product_name"), Product.gtin, Batch.lot_code, Batch.status, Batch.best_before, Batch.recalled_on, Batch.recall_reason,
        Product.updated_at.label("product_revision"), Batch.updated_at.label("batch_revision"),
        Cooperative.updated_at.label("cooperative_revision"),
        select(func.max(Verification.id)).where(Verification.batch_id == Stamp.batch_id).scalar_subquery().label("decision_id"),
        select(func.max(GateOverride.id)).where(GateOverride.batch_id == Stamp.batch_id).scalar_subquery().label("override_id"),
    )
    .join(LabelRun, LabelRun.id == Stamp.run_id)
    .join(Product, Product.id == LabelRun.product_id)
    .join(Cooperative, Cooperative.id == Product.cooperative_id)
    .outerjoin(Batch, Batch.id == Stamp.batch_id)
    .where(Stamp.code_hash == bindparam("code_hash"))
)


def _phones_of_this_stamp(*columns):
    return select(*columns).where(ScanDevice.stamp_id == Stamp.id)


# The stamp's facts and what its scans so far tell, in one statement over a few index entries.
SCAN_FACTS = STAMP_FACTS.add_columns(
    Stamp.copy_suspected_at,
    _phones_of_this_stamp(func.min(ScanDevice.first_day)).scalar_subquery().label("first_day"),
    _phones_of_this_stamp(func.coalesce(func.sum(ScanDevice.scans), literal_column("0"))).scalar_subquery().label("earlier_scans"),
    _phones_of_this_stamp(func.count()).scalar_subquery().label("earlier_phones"),
    _phones_of_this_stamp(func.count(func.distinct(ScanDevice.first_day))).scalar_subquery().label("phone_days"),
    _phones_of_this_stamp(ScanDevice.first_day).where(ScanDevice.device_hash == bindparam("phone")).exists().label("phone_seen"),
    _phones_of_this_stamp(ScanDevice.first_day).where(ScanDevice.first_day == bindparam("today")).exists().label("new_phone_today"),
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
    """A per-day pseudonym of the client for the scan log: the salt is derived from the secret key and the date."""
    salt = _daily_salt(current_app.config["SECRET_KEY"], day)
    return hashlib.sha256(salt + client_address.encode() + b"\0" + user_agent.encode()).digest()[:16]


@lru_cache(maxsize=4)
def _daily_salt(secret_key: str, day: date) -> bytes:
    return hmac.digest(secret_key.encode(), f"scan-salt:{day.isoformat()}".encode(), "sha256")


def phone_hash(code_hash: bytes, client_address: str, user_agent: str) -> bytes:
    """One phone as seen by one stamp: HMAC(key, stamp ‖ network ‖ browser). The same on every scan of that
    stamp by that phone, unrelated across stamps. The network is the address's /24 (IPv4) or /64 (IPv6), so
    that a phone whose carrier or IPv6 privacy addresses change between scans still counts once."""
    key = _phone_key(current_app.config["SECRET_KEY"])
    message = code_hash + b"\0" + client_network(client_address).encode() + b"\0" + user_agent.encode()
    return hmac.digest(key, message, "sha256")[:16]


@lru_cache(maxsize=2)
def _phone_key(secret_key: str) -> bytes:
    return hmac.digest(secret_key.encode(), b"scan-phone", "sha256")


@lru_cache(maxsize=4096)
def client_network(client_address: str) -> str:
    try:
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return client_address
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def find_stamp(typed: str) -> StampFacts | None:
    """The facts of the stamp a typed or scanned code names, or None (no scan is recorded)."""
    code = codes.normalise(typed)
    if code is None:
        return None
    return _hot(STAMP_FACTS).first(code_hash=codes.code_hash(code))


def look(typed: str, client_address: str, user_agent: str, accept: Callable[[StampFacts], bool] = lambda stamp: True) -> tuple[ScanResult, dict] | None:
    """The stamp a code names and what its scans so far and this one tell; with the record of this scan,
    for record(). None when no stamp has this code, or `accept` refuses its facts (a GS1 link whose GTIN or
    lot does not match)."""
    code = codes.normalise(typed)
    if code is None:
        return None
    now, today = utcnow(), local_today()  # days are Vietnam's: "since", best-before, the copy check's days
    code_hash = codes.code_hash(code)
    phone = phone_hash(code_hash, client_address, user_agent)
    stamp = _hot(SCAN_FACTS).first(code_hash=code_hash, phone=phone, today=today)
    if stamp is None or not accept(stamp):
        return None
    evidence = ScanEvidence(scans=stamp.earlier_scans + 1, phones=stamp.earlier_phones + (not stamp.phone_seen), since=stamp.first_day or today)
    phone_days = stamp.phone_days + (not stamp.phone_seen and not stamp.new_phone_today)
    this_scan = {"stamp_id": stamp.id, "scanned_at": now, "day": today, "device_class": device_class(user_agent),
                 "device_hash": device_hash(client_address, user_agent, today), "phone_hash": phone}
    return ScanResult(stamp, code, today, _looks_copied(stamp, evidence, phone_days, now), evidence), this_scan


def record(this_scan: dict) -> None:
    scan_log().record(this_scan)


def scan(typed: str, client_address: str, user_agent: str, accept: Callable[[StampFacts], bool] = lambda stamp: True) -> ScanResult | None:
    """look() and record() in one: what the scans tell, with this scan recorded."""
    looked = look(typed, client_address, user_agent, accept)
    if looked is None:
        return None
    record(looked[1])
    return looked[0]


def _hot(statement) -> HotQuery:
    queries = current_app.extensions.setdefault("scan_queries", {})
    if statement not in queries:
        if "scan_reader" not in current_app.extensions:
            current_app.extensions["scan_reader"] = reader_engine(db.engine)
        queries[statement] = HotQuery(current_app.extensions["scan_reader"], statement)
    return queries[statement]


def looks_copied(phones: int, phone_days: int) -> bool:
    """The copy rule: at least SCAN_COPY_PHONES phones, first seen on at least SCAN_COPY_DAYS different days.
    A family and its shop (seller, buyer, spouse, children, a guest) stay well below the phones; a fair or a
    shop's display box scanned by many on one or two days stays below the days; a stamp copied onto many
    boxes keeps meeting new phones, day after day."""
    config = current_app.config
    return phones >= config["SCAN_COPY_PHONES"] and phone_days >= config["SCAN_COPY_DAYS"]


def _looks_copied(stamp: StampFacts, evidence: ScanEvidence, phone_days: int, now: datetime) -> bool:
    """Already suspect, or so with this scan; a stamp once judged copied stays so."""
    if stamp.copy_suspected_at:
        return True
    if not looks_copied(evidence.phones, phone_days):
        return False
    with single_statement_connection(db.engine) as conn:  # once per copied stamp
        conn.execute(update(Stamp).where(Stamp.id == stamp.id).values(copy_suspected_at=now))
        conn.commit()
    return True


def scan_log() -> ScanLog:
    """This app's scan log (one per app and worker)."""
    log = current_app.extensions.get("scan_log")
    if log is None:
        log = current_app.extensions["scan_log"] = ScanLog(db.engine, current_app.config["SCAN_WRITE_DELAY"])
    return log


def report_fake(typed_code: str, message: str, place: str = "", contact: str = "", *,
                commune_code: int | None = None) -> FakeReport:
    """Store a suspected-fake report for the cooperative and commune the code points at, and tell that
    cooperative in the same transaction. A code that names no stamp (a forged one) concerns no cooperative: the
    report goes to the commune given or, failing that, the one the buyer's "where did you buy it" names, whose
    officer sees it."""
    stamp = find_stamp(typed_code) if typed_code else None
    coop = db.session.get(Product, stamp.product_id).cooperative if stamp else None
    if coop is None and commune_code is None and place:
        named = geo.commune_in_place(place)
        commune_code = named.code if named else None
    report = FakeReport(
        stamp_id=stamp.id if stamp else None, cooperative_id=coop.id if coop else None,
        commune_code=coop.commune_code if coop else commune_code, code_typed=typed_code[:60],
        message=message, place=place, contact=contact,
    )
    db.session.add(report)
    if coop is not None:
        db.session.flush()  # the notice links to the report by its id
        notices.post(coop.id, NoticeKind.FAKE_REPORTED, batch_id=stamp.batch_id, params={"report_id": str(report.id)})
    db.session.commit()
    return report
