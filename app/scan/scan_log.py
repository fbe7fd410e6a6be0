"""Scans written behind: each worker collects the scans it serves and writes them (the scan log, each
phone's count in scan_devices, and the per-day counts of scan_day_counts) in one transaction every
SCAN_WRITE_DELAY seconds, so that a scan never waits for the database's write lock.

A worker stopped normally writes what it holds before it exits; one killed outright loses at most the last
SCAN_WRITE_DELAY seconds of scan records (never a stamp, batch or anything a cooperative typed). With a delay
of 0 every scan is written at once, in the request.
"""
import atexit
import logging
import os
import threading
import time

from sqlalchemy import Connection, Engine, insert, select

from app.database import insert_for
from app.models import LabelRun, Scan, ScanDevice, Stamp
from app.models.scan_counts import NO_BATCH, ScanDayCount, StampFirstScan, block_of

SCAN_COLUMNS = ("stamp_id", "scanned_at", "day", "device_class", "device_hash")
MAX_HELD = 100_000  # if the database stays unreachable, keep at most this many scans in memory
CHUNK = 2_000  # stamps per statement: SQLite allows a few thousand parameters
log = logging.getLogger(__name__)


class ScanLog:
    def __init__(self, engine: Engine, delay: float):
        self.engine = engine
        self.delay = delay
        self._held: list[dict] = []
        self._lock = threading.Lock()
        # Held from taking the scans until they are written: the flush at exit waits for the writer thread's
        # write in progress, which dies unfinished with the process if nobody waits for it.
        self._writing = threading.Lock()
        self._writer_pid: int | None = None  # a forked worker starts its own writer thread

    def record(self, scan: dict) -> None:
        if self.delay <= 0:
            self._write([scan])
            return
        with self._lock:
            self._held.append(scan)
            if self._writer_pid != os.getpid():
                self._writer_pid = os.getpid()
                threading.Thread(target=self._write_every_delay, name="scan-log", daemon=True).start()
                atexit.register(self.flush)

    def flush(self) -> None:
        with self._writing:
            with self._lock:
                scans, self._held = self._held, []
            if not scans:
                return
            try:
                self._write(scans)
            except Exception:
                log.exception("could not write %d scans; keeping them for the next try", len(scans))
                with self._lock:
                    self._held = (scans + self._held)[-MAX_HELD:]

    def _write(self, scans: list[dict]) -> None:
        rows = [{key: scan[key] for key in SCAN_COLUMNS} for scan in scans]
        upsert = insert_for(self.engine)(ScanDevice)
        upsert = upsert.on_conflict_do_update(index_elements=["stamp_id", "device_hash"],
                                              set_={"scans": ScanDevice.scans + upsert.excluded.scans})
        with self.engine.begin() as conn:
            conn.execute(insert(Scan), rows)
            conn.execute(upsert, _phones(scans))
            _count_days(conn, scans)

    def _write_every_delay(self) -> None:
        while True:
            time.sleep(self.delay)
            self.flush()


def _phones(scans: list[dict]) -> list[dict]:
    """One row per stamp and phone, with its scans added up (one upsert may not touch a row twice), in the order
    of (stamp, phone): every node locks the rows it upserts in that one order, so two nodes writing the same phones
    never wait for each other crosswise (PostgreSQL would abort one of the writes as a deadlock)."""
    phones: dict[tuple, dict] = {}
    for scan in scans:
        key = (scan["stamp_id"], scan["phone_hash"])
        if key in phones:
            phones[key]["scans"] += 1
        else:
            phones[key] = {"stamp_id": scan["stamp_id"], "device_hash": scan["phone_hash"], "first_day": scan["day"], "scans": 1}
    return [phones[key] for key in sorted(phones)]


def _count_days(conn: Connection, scans: list[dict]) -> None:
    """Add the scans to scan_day_counts, in the transaction that writes them: each stamp's first scan is the one whose
    stamp_first_scans row this write inserts (ON CONFLICT DO NOTHING RETURNING: of two nodes, one wins), and each
    count is an upsert that adds, so that writers on several nodes never lose one another's counts."""
    first_days: dict[int, object] = {}
    for scan in scans:
        known = first_days.get(scan["stamp_id"])
        first_days[scan["stamp_id"]] = scan["day"] if known is None else min(known, scan["day"])
    stamp_ids = sorted(first_days)
    firsts, facts = set(), {}
    for start in range(0, len(stamp_ids), CHUNK):
        chunk = stamp_ids[start:start + CHUNK]
        insert_first = (insert_for(conn.engine)(StampFirstScan).values([{"stamp_id": i, "day": first_days[i]} for i in chunk])
                        .on_conflict_do_nothing(index_elements=["stamp_id"]).returning(StampFirstScan.stamp_id))
        firsts.update(conn.scalars(insert_first))
        facts.update((stamp_id, (run_id, batch_id or NO_BATCH, block_of(serial, count))) for stamp_id, run_id, batch_id, serial, count in conn.execute(
            select(Stamp.id, Stamp.run_id, Stamp.batch_id, Stamp.serial, LabelRun.count)
            .join(LabelRun, LabelRun.id == Stamp.run_id).where(Stamp.id.in_(chunk))))
    counts: dict[tuple, dict] = {}
    for scan in scans:
        run_id, batch_id, block = facts[scan["stamp_id"]]
        key = (run_id, scan["day"], batch_id, block)
        row = counts.setdefault(key, {"run_id": run_id, "day": scan["day"], "batch_id": batch_id, "block": block, "scans": 0, "first_scans": 0})
        row["scans"] += 1
    for stamp_id in firsts:
        run_id, batch_id, block = facts[stamp_id]
        key = (run_id, first_days[stamp_id], batch_id, block)
        counts[key]["first_scans"] += 1  # the first day is one of this write's days, so its row is there
    upsert = insert_for(conn.engine)(ScanDayCount)
    upsert = upsert.on_conflict_do_update(index_elements=["run_id", "day", "batch_id", "block"],
                                          set_={"scans": ScanDayCount.scans + upsert.excluded.scans,
                                                "first_scans": ScanDayCount.first_scans + upsert.excluded.first_scans})
    conn.execute(upsert, [counts[key] for key in sorted(counts)])  # one order on every node: no deadlock between them
