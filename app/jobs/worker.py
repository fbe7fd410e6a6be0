"""The Celery application a worker or beat runs: `celery -A app.jobs.worker worker` (or `beat`).

It is built from the same configuration as the web app (APP_CONFIG, DATABASE_URL, INSTANCE_PATH,
CELERY_BROKER_URL, …), so a worker on another machine needs only the same environment.

A label worker runs one run at a time, in its main process:

    celery -A app.jobs.worker worker --pool solo --concurrency 1

`--pool solo` because rendering encodes QR codes in a multiprocessing pool of its own (labels/qr.py, one
process per usable core), and a prefork pool's child is daemonic and may not have children. One worker per
machine (or per core set, with taskset) then uses every core it has for the run it prints. Runs whose
worker dies are put back in line by requeue_stale_runs (celery beat, every 30 s; app/services/run_queue.py).
"""
import os
import signal
import sys

from app import create_app
from app.config import ROOT

# The `celery` command puts the working directory first on sys.path only while it imports this module, then
# removes that first entry; tasks import the label library (labels/, beside app/) later, when they print. The
# project's root goes second, so that it stays on the path after that removal.
sys.path.insert(1, str(ROOT))



def _default_signal_handlers() -> None:
    """A process forked by the worker (a QR encoding process) dies on SIGTERM, as its pool's terminate()
    expects, instead of running the worker's warm-shutdown handler it inherited and living on: a run
    cancelled in the middle of rendering would otherwise wait forever for its pool."""
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_signal_handlers)

flask_app = create_app()
celery = flask_app.extensions["celery"]
