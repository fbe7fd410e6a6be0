"""Scans written behind: held per worker, written together, and never lost when the database is busy."""
import time

import pytest
from sqlalchemy import func, select, text

from app.models import Scan
from app.scan.scan_log import ScanLog
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


def test_the_flush_at_exit_waits_for_the_write_in_progress(db, coop_a):
    """A worker stopping normally flushes at exit; if its writer thread is writing just then, the flush waits
    for that write, since the process would end with it unfinished and its scans lost."""
    import threading

    from sqlalchemy import insert

    from app.models import ScanDevice

    _codes, run, _batch = on_sale_stamps(db, coop_a, 1)
    stamp_id = db.session.execute(text("SELECT id FROM stamps")).scalar_one()
    db.session.commit()
    held = _scans(stamp_id, 3)
    blocker = db.engine.connect()  # holds the lock the writer's upsert needs (the row; on SQLite the database)
    blocker.execute(insert(ScanDevice).values(stamp_id=stamp_id, device_hash=held[0]["phone_hash"], first_day=held[0]["day"]))
    log = ScanLog(db.engine, delay=0.05)
    for scan in held:
        log.record(scan)
    deadline = time.monotonic() + 5
    while log._held and time.monotonic() < deadline:  # the writer thread takes them, then waits for the lock
        time.sleep(0.01)
    assert not log._held
    order = []
    at_exit = threading.Thread(target=lambda: (log.flush(), order.append("flushed")))
    at_exit.start()
    time.sleep(0.5)
    order.append("released")
    blocker.rollback()
    blocker.close()
    at_exit.join(10)
    assert order == ["released", "flushed"]
    assert _count(db) == 3


def test_migration_0012_carries_scans_over_and_judges_old_copy_warnings_again(tmp_path):
    """Before 0012, the third phone of a day made a copy: such stamps are cleared, real copies stay."""
    from datetime import timedelta

    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db as _db
    from app.i18n import local_today
    from app.models import ScanDevice, Stamp
    from app.models.mixins import utcnow
    from tests.conftest import _config, make_cooperative
    from tests.scan_setups import earlier_scans

    app = create_app(_config(f"sqlite:///{tmp_path / 'old.db'}", tmp_path))
    with app.app_context():
        upgrade()
        coop = make_cooperative("HTX Vải thiều Lục Ngạn", "2401000001")
        (family, copied), _run, _batch = on_sale_stamps(_db, coop, 2)
        earlier_scans(_db, family, phones=3, days=1, today=local_today())  # judged copied by the old rule
        earlier_scans(_db, copied, phones=12, days=3, today=local_today() + timedelta(days=1))
        _db.session.execute(text("UPDATE stamps SET copy_suspected_at = :now"), {"now": utcnow()})
        _db.session.commit()
        downgrade(revision="0011")
        assert _db.session.execute(text("SELECT count(*) FROM scan_devices")).scalar_one() == 15
        _db.session.commit()
        upgrade()
        phones = dict(_db.session.execute(select(ScanDevice.stamp_id, func.count()).group_by(ScanDevice.stamp_id)).all())
        suspected = {stamp.serial: stamp.copy_suspected_at is not None for stamp in _db.session.scalars(select(Stamp))}
        assert sorted(phones.values()) == [3, 12] and suspected == {1: False, 2: True}
        _db.session.remove()
        _db.engine.dispose()


def test_two_nodes_writing_the_same_phones_in_opposite_orders_never_deadlock(db, coop_a):
    """Each node upserts its phones in one order (stamp, phone), so two writers never wait for each other's rows
    crosswise: PostgreSQL would otherwise abort one write as a deadlock, and a node stopping loses those scans."""
    import threading

    from app.models import ScanDevice
    from app.models.mixins import utcnow

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two writes to interleave")
    stamps, _run, _batch = on_sale_stamps(db, coop_a, 40)
    stamp_ids = list(db.session.scalars(text("SELECT id FROM stamps ORDER BY id")))
    db.session.commit()
    now = utcnow()
    scans = [{"stamp_id": stamp_id, "scanned_at": now, "day": now.date(), "device_class": "android",
              "device_hash": bytes([phone]) * 16, "phone_hash": bytes([phone]) * 16}
             for stamp_id in stamp_ids for phone in range(3)]
    rounds, failures, start, engine = 15, [], threading.Barrier(2), db.engine

    def node(order: list[dict]) -> None:
        log = ScanLog(engine, delay=0)  # writes at once: a deadlock raises here
        start.wait()
        for _ in range(rounds):
            try:
                log._write(order)
            except Exception as exc:  # reported below
                failures.append(exc)

    threads = [threading.Thread(target=node, args=(order,)) for order in (scans, scans[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _count(db) == 2 * rounds * len(scans)
    assert db.session.scalar(select(func.sum(ScanDevice.scans))) == 2 * rounds * len(scans)
    db.session.commit()
