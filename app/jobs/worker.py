"""The Celery application a worker or beat runs: `celery -A app.jobs.worker worker` (or `beat`).

It is built from the same configuration as the web app (APP_CONFIG, DATABASE_URL, INSTANCE_PATH,
CELERY_BROKER_URL, …), so a worker on another machine needs only the same environment.
"""
import sys

from app import create_app
from app.config import ROOT

# The `celery` command puts the working directory first on sys.path only while it imports this module, then
# removes that first entry; tasks import the label library (labels/, beside app/) later, when they print. The
# project's root goes second, so that it stays on the path after that removal.
sys.path.insert(1, str(ROOT))

flask_app = create_app()
celery = flask_app.extensions["celery"]
