"""Label runs through real Celery workers (tests/jobs.py): ordered on the page, printed by a worker, a worker
killed in the middle and its run finished by another, and a run cancelled while it prints."""
import time
from datetime import timedelta

import pypdfium2
import zxingcpp
from sqlalchemy import func, select, update

from app.models import LabelRun, RunStatus, Stamp
from app.models.mixins import utcnow
from app.services import label_runs, run_queue, run_rendering
from tests.conftest import post_form
from tests.factories import product_with_batch
from tests.jobs import label_worker, start_label_worker  # noqa: F401 (fixtures)

PHONE = {"Accept-Language": "vi-VN", "User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile"}


def order_on_the_page(client, batch_id: int, count: int) -> int:
    form = client.get(f"/coop/batches/{batch_id}/runs/new").get_data(as_text=True)
    token = form.split('name="request_token" type="hidden" value="')[1].split('"')[0]
    response = post_form(client, f"/coop/batches/{batch_id}/runs/new",
                         {"count": str(count), "template": "a4-65", "ecc": "M", "request_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def state_of(db, run_id: int):
    """The run's state as plain values (a row, not an object that would load itself again later)."""
    run = db.session.execute(select(LabelRun.status, LabelRun.progress, LabelRun.error, LabelRun.task_id)
                             .where(LabelRun.id == run_id)).one()
    db.session.commit()  # never sleep holding a transaction: on SQLite that is the write lock
    return run


def wait_for(db, run_id: int, done, seconds: float = 90, what: str = "") -> LabelRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = state_of(db, run_id)
        if done(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {what}: {run.status} {run.progress} % {run.error}")


def stamps_of(db, run_id: int) -> int:
    return db.session.scalar(select(func.count(func.distinct(Stamp.code_hash))).where(Stamp.run_id == run_id))


def test_a_run_ordered_on_the_page_is_printed_by_a_worker_and_scans(member_client, db, coop_a, label_worker):
    _product, batch = product_with_batch(coop_a)
    run_id = order_on_the_page(member_client, batch.id, 12)
    run = wait_for(db, run_id, lambda r: r.status in (RunStatus.DONE, RunStatus.FAILED), what="done")
    assert run.status is RunStatus.DONE, run.error
    assert run.task_id and not run.task_id.startswith("local-")  # a Celery task printed it, not this process
    pdf = member_client.get(f"/coop/runs/{run_id}/labels.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    image = pypdfium2.PdfDocument(pdf.data)[0].render(scale=200 / 72).to_pil()
    urls = [found.text for found in zxingcpp.read_barcodes(image)]
    assert len(urls) == 12 and stamps_of(db, run_id) == 12
    path = "/" + urls[0].split("://", 1)[1].split("/", 1)[1]
    assert "Tem chính hãng" in member_client.application.test_client().get(path, headers=PHONE).get_data(as_text=True)


def test_a_worker_killed_while_rendering_is_replaced_and_the_run_ends_the_same(member_client, db, coop_a, start_label_worker):
    """kill -9 the worker (and its QR processes) while it renders 20,000 stamps; another worker, sent for by
    requeue_stale_runs once the dead one's heartbeat is old, finishes the run: exactly 20,000 distinct stamps,
    and the very PDF an undisturbed rendering of that run gives."""
    _product, batch = product_with_batch(coop_a)
    first = start_label_worker()
    run_id = order_on_the_page(member_client, batch.id, 20_000)
    wait_for(db, run_id, lambda r: r.status is RunStatus.RENDERING and r.progress >= 10, what="rendering")
    first.kill()
    run = state_of(db, run_id)
    assert run.status is RunStatus.RENDERING and not run_rendering.has_pdf(run_id), "the worker finished before it was killed"
    assert run_queue.requeue_stale_runs() == 0  # its heartbeat is fresh: it may only be slow
    second = start_label_worker()
    # 31 seconds pass without a heartbeat from the dead worker.
    db.session.execute(update(LabelRun).where(LabelRun.id == run_id).values(heartbeat_at=utcnow() - timedelta(seconds=31)))
    db.session.commit()
    assert run_queue.requeue_stale_runs() == 1
    run = wait_for(db, run_id, lambda r: r.status in (RunStatus.DONE, RunStatus.FAILED), what="done")
    assert run.status is RunStatus.DONE, run.error
    assert f"process_runs[{run.task_id}] received" in second.output()  # the second worker printed it
    assert stamps_of(db, run_id) == 20_000
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 20_000
    finished = member_client.get(f"/coop/runs/{run_id}/labels.pdf").data
    run_rendering.render(run_id)  # an undisturbed rendering of the same run, here
    assert member_client.get(f"/coop/runs/{run_id}/labels.pdf").data == finished


def test_a_run_cancelled_on_its_page_while_it_prints_leaves_nothing(member_client, db, coop_a, label_worker):
    _product, batch = product_with_batch(coop_a)
    run_id = order_on_the_page(member_client, batch.id, 20_000)
    wait_for(db, run_id, lambda r: r.status is RunStatus.RENDERING and r.progress >= 4, what="rendering")
    page = member_client.get(f"/coop/runs/{run_id}").get_data(as_text=True)
    assert "Hủy lượt in" in page
    response = post_form(member_client, f"/coop/runs/{run_id}/cancel")
    assert response.status_code == 302
    assert "Đang dừng lượt in" in member_client.get(response.headers["Location"]).get_data(as_text=True)
    run = wait_for(db, run_id, lambda r: r.status in (RunStatus.CANCELLED, RunStatus.DONE, RunStatus.FAILED), what="cancelled")
    assert run.status is RunStatus.CANCELLED, run.status
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 0
    assert not run_rendering.has_pdf(run_id)
    assert member_client.get(f"/coop/runs/{run_id}/labels.pdf").status_code == 302  # "not ready": there is none
    assert label_runs.get_run(coop_a.id, run_id).cancel_requested_at is not None
