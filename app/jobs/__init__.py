"""Jobs: label runs and periodic work, run by Celery workers, one way whatever the deployment.

The broker is Redis in production (CELERY_BROKER_URL=redis://…). The embedded default needs no server:
kombu's SQLAlchemy transport keeps the queue in its own SQLite file, instance/jobs.db. It is a file apart
from the application's database because SQLite has one writer at a time: a worker polling its queue must
never wait behind, or hold up, a run minting 40,000 stamps in one transaction.

Every task runs inside an application context of the Flask app the worker was built from (FlaskTask), so
tasks call services exactly as views do.
"""
from celery import Celery, Task
from flask import Flask


def init_app(app: Flask) -> Celery:
    """The Celery app for this Flask app, configured from app.config["CELERY"] (a dict of Celery settings)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
