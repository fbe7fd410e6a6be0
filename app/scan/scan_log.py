"""Scans written behind: each worker collects the scans it serves and writes them (the scan log, and each
phone's count in scan_devices) in one transaction every SCAN_WRITE_DELAY seconds, so that a scan never waits
for the database's write lock.

A worker stopped normally writes what it holds before it exits; one killed outright loses at most the last
SCAN_WRITE_DELAY seconds of scan records (never a stamp, batch or anything a cooperative typed). With a delay
of 0 every scan is written at once, in the request.
"""
import atexit
import logging
import os
import threading
import time

from sqlalchemy import Engine, insert

from app.database import insert_for
from app.models import Scan, ScanDevice

SCAN_COLUMNS = ("stamp_id", "scanned_at", "day", "device_class", "device_hash")
MAX_HELD = 100_000  # if the database stays unreachable, keep at most this many scans in memory
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

    def _write_every_delay(self) -> None:
        while True:
            time.sleep(self.delay)
            self.flush()


def _phones(scans: list[dict]) -> list[dict]:
    """One row per stamp and phone, with its scans added up: one upsert may not touch a row twice."""
    phones: dict[tuple, dict] = {}
    for scan in scans:
        key = (scan["stamp_id"], scan["phone_hash"])
        if key in phones:
            phones[key]["scans"] += 1
        else:
            phones[key] = {"stamp_id": scan["stamp_id"], "device_hash": scan["phone_hash"], "first_day": scan["day"], "scans": 1}
    return list(phones.values())
