"""Run worker: minting and rendering a run, in a process of its own (`flask labels work ID`), and watching it.

The web request only queues the run and starts the worker, which gets exactly this app's configuration.
process mints in a thread while it renders, and publishes the PDF only once every stamp is committed; any
failure is recorded on the run before it is raised. A run neither done nor failed whose heartbeat is older
than RUN_STALE_SECONDS is stale, and may be started again: minting and rendering are safe to repeat.
"""
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Callable

from flask import current_app

from app.extensions import db
from app.models import LabelRun, RunStatus
from app.models.mixins import utcnow
from app.services.errors import NotFound
from app.services.label_runs import set_state
from app.services.minting import derive_codes, mint
from app.services.run_rendering import pdf_path, publish_pdf, write_pdf


def _progress_reporter(run: LabelRun, minted: threading.Event) -> Callable[[int], None]:
    """Report rendering progress at most every 2 %; not while the minting transaction holds the database."""
    last = [0]
    total, run_id = run.count, run.id

    def report(done: int, *_ignored) -> None:
        percent = 99 * done // max(total, 1)
        if minted.is_set() and percent >= last[0] + 2:
            last[0] = percent
            set_state(run_id, progress=percent)

    return report


def process(run_id: int, progress: Callable[[int], None] | None = None) -> LabelRun:
    """Mint and render a run side by side; record a failure on the run instead of losing it.

    Minting (one database transaction) runs in a thread while this thread renders, so the two overlap;
    the PDF is published only once every stamp is committed.
    """
    run = db.session.get(LabelRun, run_id)
    if run is None:
        raise NotFound
    app = current_app._get_current_object()
    minted, failure = threading.Event(), []
    try:
        set_state(run_id, status=RunStatus.MINTING, progress=0, error="")
        run = db.session.get(LabelRun, run_id)
        run_codes = derive_codes(run)
        record_progress = _progress_reporter(run, minted)

        def reporter(done: int) -> None:
            record_progress(done)
            if progress:
                progress(done)

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
            tmp = write_pdf(run_id, reporter, run_codes)
        finally:
            minter.join()
        if failure:
            tmp.unlink(missing_ok=True)
            raise failure[0]
        publish_pdf(run_id, tmp)
    except Exception as exc:  # the run page must say what happened, whatever it was
        db.session.rollback()
        set_state(run_id, status=RunStatus.FAILED, error=str(exc)[:2000])
        raise
    return db.session.get(LabelRun, run_id)


def is_stale(run: LabelRun) -> bool:
    if run.status in (RunStatus.DONE, RunStatus.FAILED):
        return False
    seen = run.heartbeat_at or run.created_at
    return utcnow() - seen > timedelta(seconds=current_app.config["RUN_STALE_SECONDS"])


def worker_environment() -> dict:
    """The worker process gets exactly this app's configuration."""
    config = current_app.config
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_PATH": current_app.instance_path,
        "SECRET_KEY": config["SECRET_KEY"], "STAMP_KEY": config["STAMP_KEY"],
        "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
    })
    return env


def start_worker(run_id: int) -> subprocess.Popen:
    """Mint and render in a separate process, so the web request returns at once."""
    set_state(run_id, status=RunStatus.QUEUED, progress=0)
    root = Path(current_app.root_path).parent
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "labels", "work", str(run_id)]
    with open(pdf_path(run_id).with_suffix(".log"), "ab") as log:  # the worker keeps its own copy
        return subprocess.Popen(command, cwd=root, env=worker_environment(), stdout=log, stderr=log, start_new_session=True)
