"""Celery tasks. Each is a thin shell around a service function, which owns the rules and the commit."""
from celery import shared_task

from app.services import run_processing, run_queue


@shared_task(bind=True, name=run_queue.PROCESS_RUNS)
def process_runs(self) -> int | None:
    """A label run waits: resume the one this task had claimed (a redelivery), else claim the fairest waiting
    run and print it. A message that finds nothing to claim does nothing."""
    run_id = run_queue.claim(self.request.id)
    if run_id is not None:
        run_processing.process(run_id, owner=self.request.id)
    return run_id


@shared_task(name="app.jobs.tasks.requeue_stale_runs")
def requeue_stale_runs() -> int:
    """Runs whose worker died go back in line, and waiting runs without a message get one (scheduled by beat)."""
    return run_queue.requeue_stale_runs()
