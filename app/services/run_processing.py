"""Processing a label run: minting its stamps while its PDF renders, publishing, and stopping when asked.

One owner at a time: a run is processed under an owner id (the Celery task's id, or a local one for the
command line and the demo) recorded on its row, and every change the processing makes to the row is
conditional on still owning it. A run put back in line because its worker looked dead, and taken by
another worker, therefore never hears from the first one again.

Minting (one transaction: every stamp or none) runs in a thread while this thread renders; the PDF is
published only once every stamp is committed. Codes derive from (run, serial), so processing a run again,
after a crash or a cancel, gives the same stamps and the same PDF bytes. While the run is processed a
thread refreshes its heartbeat, so the queue can tell a slow worker from a dead one. A cancel request is
seen at each progress report: the stamps minted so far are deleted in the transaction that marks the run
cancelled, and no PDF is published. Any other failure is recorded on the run, then raised.
"""
import os
import threading
import uuid
from typing import Callable

from flask import Flask, current_app
from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import LabelRun, RunStatus, Stamp
from app.models.mixins import utcnow
from app.services.errors import NotFound
from app.services.minting import derive_codes, mint
from app.services.run_rendering import pdf_path, publish_pdf, write_pdf

HEARTBEAT_SECONDS = 5  # well inside RUN_STALE_SECONDS (30), even when a beat waits for the minting transaction


class RunStopped(Exception):
    """The run was cancelled, or is no longer this owner's: processing stops without recording a failure."""


def _report(run_id: int, owner: str, **values) -> bool:
    """Change the run's row with a fresh heartbeat, in a commit of its own, if this owner still has it and
    nobody asked to cancel it; whether it did."""
    changed = db.session.execute(
        update(LabelRun)
        .where(LabelRun.id == run_id, LabelRun.task_id == owner, LabelRun.cancel_requested_at.is_(None))
        .values(heartbeat_at=utcnow(), **values)
    )
    db.session.commit()
    return changed.rowcount == 1


class Heartbeat:
    """While the block runs, a thread refreshes the run's heartbeat every HEARTBEAT_SECONDS, in short
    transactions of its own (on SQLite a beat may wait for the minting transaction: the busy timeout covers it)."""

    def __init__(self, app: Flask, run_id: int, owner: str):
        self.app, self.run_id, self.owner = app, run_id, owner
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        with self.app.app_context():
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                try:
                    db.session.execute(update(LabelRun).where(LabelRun.id == self.run_id, LabelRun.task_id == self.owner)
                                       .values(heartbeat_at=utcnow()))
                    db.session.commit()
                except SQLAlchemyError:  # busy past the timeout: the next beat tries again
                    db.session.rollback()
            db.session.remove()


def _progress_reporter(run: LabelRun, owner: str, minted: threading.Event,
                       progress: Callable[[int], None] | None) -> Callable[[int], None]:
    """Record rendering progress at most every 2 %, not while the minting transaction holds the database;
    each record is also where a cancel request (or the loss of the run) is noticed."""
    last = [0]
    total, run_id = run.count, run.id

    def report(done: int, *_ignored) -> None:
        percent = 99 * done // max(total, 1)
        if minted.is_set() and percent >= last[0] + 2:
            last[0] = percent
            if not _report(run_id, owner, progress=percent):
                raise RunStopped
        if progress:
            progress(done)

    return report


def _own_locally(run_id: int) -> str:
    """Make this process the run's owner, for callers outside a worker (the command line, the demo)."""
    owner = f"local-{uuid.uuid4().hex}"
    db.session.execute(update(LabelRun).where(LabelRun.id == run_id).values(task_id=owner, heartbeat_at=utcnow()))
    db.session.commit()
    return owner


def process(run_id: int, progress: Callable[[int], None] | None = None, owner: str | None = None) -> LabelRun:
    """Mint and render a run side by side and publish its PDF; owner is the task that claimed it (none: this
    process takes it). A cancelled run ends with no stamps and no PDF; a failure is recorded, then raised."""
    if db.session.get(LabelRun, run_id) is None:
        raise NotFound
    owner = owner or _own_locally(run_id)
    with Heartbeat(current_app._get_current_object(), run_id, owner):
        try:
            _mint_and_render(run_id, owner, progress)
        except RunStopped:
            db.session.rollback()
            _discard_partial_pdf(run_id)
            _finish_cancelled(run_id, owner)
        except Exception as exc:  # the run page must say what happened, whatever it was
            db.session.rollback()
            _report_failure(run_id, owner, str(exc)[:2000])
            raise
    return db.session.get(LabelRun, run_id)


def _mint_and_render(run_id: int, owner: str, progress: Callable[[int], None] | None) -> None:
    if not _report(run_id, owner, status=RunStatus.MINTING, progress=0, error=""):
        raise RunStopped
    app = current_app._get_current_object()
    run = db.session.get(LabelRun, run_id)
    run_codes = derive_codes(run)
    minted, failure = threading.Event(), []

    def mint_stamps() -> None:
        with app.app_context():
            try:
                mint(run_id, run_codes)
                minted.set()
            except Exception as exc:  # reported by the main thread
                failure.append(exc)
                db.session.rollback()

    minter = threading.Thread(target=mint_stamps, name=f"mint-run-{run_id}")
    minter.start()
    try:
        tmp = write_pdf(run_id, _progress_reporter(run, owner, minted, progress), run_codes)
    finally:
        minter.join()  # a stop or a failure still waits for the minting transaction to end
    if failure:
        tmp.unlink(missing_ok=True)
        raise failure[0]
    if not _report(run_id, owner):  # a last look before anything is published
        tmp.unlink(missing_ok=True)
        raise RunStopped
    publish_pdf(run_id, tmp)


def _discard_partial_pdf(run_id: int) -> None:
    """Remove what this process had written of the run's PDF when it stopped in the middle."""
    target = pdf_path(run_id)
    for partial in target.parent.glob(f"{target.stem}.{os.getpid()}.*.tmp"):
        partial.unlink(missing_ok=True)


def _finish_cancelled(run_id: int, owner: str) -> None:
    """If the stop was a cancel: mark the run cancelled and delete its stamps, in one transaction, so that no
    code of it ever scans as genuine. If the run was taken by another owner: leave it to that one."""
    cancelled = db.session.execute(
        update(LabelRun).where(LabelRun.id == run_id, LabelRun.task_id == owner, LabelRun.cancel_requested_at.is_not(None))
        .values(status=RunStatus.CANCELLED, progress=0, finished_at=utcnow(), heartbeat_at=utcnow(), task_id=None)
    )
    if cancelled.rowcount:
        db.session.execute(delete(Stamp).where(Stamp.run_id == run_id))
    db.session.commit()


def _report_failure(run_id: int, owner: str, error: str) -> None:
    db.session.execute(
        update(LabelRun).where(LabelRun.id == run_id, LabelRun.task_id == owner)
        .values(status=RunStatus.FAILED, error=error, heartbeat_at=utcnow())
    )
    db.session.commit()
