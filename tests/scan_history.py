"""A stamp's scans on earlier days, written as the scan log writes them (the clock cannot be turned back)."""
import os
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.models import Stamp
from app.services import codes
from app.services.scan_log import ScanLog


def earlier_scans(db, code: str, phones: int, days: int, today: date) -> None:
    """`phones` different phones scanned the stamp once each, the first of them `days` days ago, one new
    phone a day after that (round robin), none today."""
    stamp_id = db.session.scalar(select(Stamp.id).where(Stamp.code_hash == codes.code_hash(codes.normalise(code))))
    db.session.commit()
    log = ScanLog(db.engine, delay=0)
    for n in range(phones):
        day = today - timedelta(days=days - n % days)
        log.record({"stamp_id": stamp_id, "scanned_at": datetime.combine(day, time(9)), "day": day, "device_class": "android",
                    "device_hash": os.urandom(16), "phone_hash": os.urandom(16)})
