"""Scans written behind: held per worker, written together, and never lost when the database is busy."""
import time

from sqlalchemy import func, select, text

from app.models import Scan
from app.services.scan_log import ScanLog
from tests.factories import on_sale_stamps


def _count(db) -> int:
    count = db.session.scalar(select(func.count()).select_from(Scan))
    db.session.commit()  # on SQLite the test's transaction holds the write lock: let the writer in
    return count


def _scans(stamp_id: int, n: int) -> list[dict]:
    from app.models.mixins import utcnow

    now = utcnow()
    return [{"stamp_id": stamp_id, "scanned_at": now, "day": now.date(), "device_class": "android",
             "device_hash": bytes([i]) * 16, "phone_hash": bytes([i % 2]) * 16} for i in range(n)]


def test_scans_are_held_then_written_together(db, coop_a):
    _codes, run, _batch = on_sale_stamps(db, coop_a, 1)
    stamp_id = db.session.execute(text("SELECT id FROM stamps")).scalar_one()
    log = ScanLog(db.engine, delay=0.2)
    for scan in _scans(stamp_id, 3):
        log.record(scan)
    assert _count(db) == 0  # held, not yet written
    deadline = time.monotonic() + 5
    while _count(db) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(db) == 3


def test_a_failed_write_keeps_the_scans_for_the_next_try(db, coop_a):
    _codes, run, _batch = on_sale_stamps(db, coop_a, 1)
    stamp_id = db.session.execute(text("SELECT id FROM stamps")).scalar_one()
    log = ScanLog(db.engine, delay=3600)  # the writer thread will not run during this test
    log._writer_pid = -1  # pretend a writer runs, so that record() only holds
    held = _scans(stamp_id, 2)
    held[1]["stamp_id"] = 999_999  # a foreign key the database refuses: the whole write fails
    for scan in held:
        log._held.append(scan)
    log.flush()
    assert _count(db) == 0 and len(log._held) == 2
    log._held[1]["stamp_id"] = stamp_id
    log.flush()
    assert _count(db) == 2 and log._held == []


def test_each_phone_is_one_row_per_stamp_with_its_scans_added_up(db, coop_a):
    from app.models import ScanDevice

    _codes, run, _batch = on_sale_stamps(db, coop_a, 1)
    stamp_id = db.session.execute(text("SELECT id FROM stamps")).scalar_one()
    db.session.commit()  # let the writer in
    log = ScanLog(db.engine, delay=0)
    log._write(_scans(stamp_id, 3))  # phones 0, 1, 0: one write may not touch a row twice
    log._write(_scans(stamp_id, 1))  # phone 0 again
    rows = db.session.execute(select(ScanDevice.device_hash, ScanDevice.scans).order_by(ScanDevice.device_hash)).all()
    db.session.commit()
    assert rows == [(bytes([0]) * 16, 3), (bytes([1]) * 16, 1)]
    assert _count(db) == 4
