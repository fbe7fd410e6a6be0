"""The Celery application a worker or beat runs: `celery -A app.jobs.worker worker` (or `beat`).

It is built from the same configuration as the web app (APP_CONFIG, DATABASE_URL, INSTANCE_PATH,
CELERY_BROKER_URL, …), so a worker on another machine needs only the same environment.
"""
from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
