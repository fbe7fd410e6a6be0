"""The embedded queue's latency and cost: from ordering a 500-stamp run to its PDF through a real label worker
on the SQLite queue (instance/jobs.db, kombu polls it every second), and the idle worker's CPU over a minute.

    .venv/bin/python bench/label_queue.py

A fresh SQLite instance in a temporary directory with the demo data; the run is ordered as the web does it
(label_runs.create_run, then run_queue.announce) and watched on its row.
"""
import os
import pathlib
import secrets
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from app import create_app
from app.config import TestingConfig, celery_settings
from app.extensions import db
from app.models import Batch, LabelRun, RunStatus
from app.services import demo, label_runs, run_queue
from tests.jobs import start
from flask_migrate import upgrade
from sqlalchemy import select
tmp = pathlib.Path(tempfile.mkdtemp())
class C(TestingConfig):
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp/'ocop.db'}"
    INSTANCE_PATH = str(tmp)
    CELERY = {**celery_settings(tmp), "broker_url": f"sqla+sqlite:///{tmp / 'jobs.db'}"}
app = create_app(C)


def cpu_seconds(pid):
    """CPU time (user + system) of a process and its direct children so far, in seconds."""
    total = 0
    for p in [pid] + [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]:
        fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


with app.app_context():
    upgrade(); demo.load_demo(); db.session.commit()
    batch = db.session.get(Batch, 1)
    worker = start(app, tmp)
    times = []
    for i in range(6):
        started = time.perf_counter()
        run, _ = label_runs.create_run(batch.product.cooperative_id, product_id=batch.product_id, batch_id=batch.id, count=500,
                                       template="a4-65", options={}, request_token=secrets.token_hex(8), actor_id=None, more_than_quantity=True)
        run_queue.announce(run.id)
        while True:
            status = db.session.scalar(select(LabelRun.status).where(LabelRun.id == run.id)); db.session.commit()
            if status in (RunStatus.DONE, RunStatus.FAILED): break
            time.sleep(0.02)
        times.append(time.perf_counter() - started)
        assert status is RunStatus.DONE
        time.sleep(1.5)
    print("order->done 500 stamps (s):", [round(t, 2) for t in times], "median", round(statistics.median(times[1:]), 2))
    time.sleep(3)
    before, t0 = cpu_seconds(worker.process.pid), time.perf_counter()
    time.sleep(60)
    used, spent = cpu_seconds(worker.process.pid) - before, time.perf_counter() - t0
    print(f"idle worker CPU: {used:.2f} s over {spent:.0f} s = {100 * used / spent:.2f} % of one core")
    worker.kill()
shutil.rmtree(tmp, ignore_errors=True)
