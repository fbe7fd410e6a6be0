"""Real Celery label workers for tests: `celery -A app.jobs.worker worker` in a process of its own, built from
exactly the test app's configuration (database, instance directory, keys, broker), started and waited for
until it is ready, and killed afterwards. No eager mode: a test's run goes through the broker like production.

    from tests.jobs import label_worker, start_label_worker  # noqa: F401 (fixtures)
"""
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 60
_names = count(1)


def worker_environment(app: Flask) -> dict:
    """The environment a process needs to be this app: its database, instance directory, keys and broker."""
    config = app.config
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": config["SECRET_KEY"], "STAMP_KEY": config["STAMP_KEY"],
        "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"], "CELERY_BROKER_URL": config["CELERY"]["broker_url"],
    })
    env.pop("APP_CONFIG", None)
    return env


@dataclass
class LabelWorker:
    """One worker process (one run at a time, `--pool solo`, as in production) and its log file."""

    process: subprocess.Popen
    log: Path
    name: str
    killed: bool = field(default=False)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited before it was ready:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"the worker was not ready after {READY_SECONDS} s:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """kill -9 the worker and its QR encoding processes at once, as when its machine dies."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.killed = True


def start(app: Flask, tmp_path: Path) -> LabelWorker:
    name = f"labels-{os.getpid()}-{next(_names)}"
    log = tmp_path / f"{name}.log"
    command = [sys.executable, "-m", "celery", "-A", "app.jobs.worker", "worker", "--pool", "solo", "--concurrency", "1",
               "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--hostname", f"{name}@%h"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_environment(app), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    worker = LabelWorker(process, log, name)
    worker.wait_ready()
    return worker


@pytest.fixture
def start_label_worker(app, tmp_path):
    """Start real label workers for this test's app (call it once per worker); all are killed afterwards."""
    workers: list[LabelWorker] = []

    def make() -> LabelWorker:
        workers.append(start(app, tmp_path))
        return workers[-1]

    yield make
    for worker in workers:
        worker.kill()


@pytest.fixture
def label_worker(start_label_worker) -> LabelWorker:
    """One real label worker for this test's app."""
    return start_label_worker()
