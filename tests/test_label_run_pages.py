"""Stamp runs through the dashboard and the worker process: once per submit, crash-safe, exports, voids."""
import csv
import io
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from app.models import LabelRun, RunStatus, Stamp
from app.services import codes, label_runs
from tests.conftest import post_form
from tests.factories import minted_run, product_with_batch


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)


def wait_until_done(client, run_id, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/coop/runs/{run_id}/status").get_json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {status}")


def test_a_double_submit_creates_one_run(member_client, db, lychee):
    _product, batch = lychee
    form = member_client.get(f"/coop/batches/{batch.id}/runs/new").get_data(as_text=True)
    token = form.split('name="request_token" type="hidden" value="')[1].split('"')[0]
    data = {"count": "130", "template": "a4-65", "ecc": "M", "offset_x_mm": "0", "offset_y_mm": "0", "request_token": token}
    first = post_form(member_client, f"/coop/batches/{batch.id}/runs/new", data)
    second = post_form(member_client, f"/coop/batches/{batch.id}/runs/new", data)
    assert first.status_code == second.status_code == 302 and first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 1
    run_id = int(first.headers["Location"].rsplit("/", 1)[1])
    assert wait_until_done(member_client, run_id)["progress"] == 100
    pdf = member_client.get(f"/coop/runs/{run_id}/labels.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert db.session.scalar(select(func.count()).select_from(Stamp)) == 130


@pytest.mark.parametrize("count", ["0", "100001", "nhiều"])
def test_bad_counts_are_refused(member_client, db, lychee, count):
    _product, batch = lychee
    response = post_form(member_client, f"/coop/batches/{batch.id}/runs/new", {"count": count, "template": "a4-65", "ecc": "M", "request_token": "x"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 0


def test_csv_export_lists_every_code_and_url(member_client, db, coop_a, lychee):
    product, batch = lychee
    run = minted_run(coop_a, product, batch, count=25)
    response = member_client.get(f"/coop/runs/{run.id}/stamps.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["sequence", "code", "url"] and len(rows) == 26
    hashes = set(db.session.scalars(select(Stamp.code_hash).where(Stamp.run_id == run.id)))
    for sequence, code, url in rows[1:]:
        assert codes.normalise(code) == code and codes.code_hash(code) in hashes
        assert url.endswith(f"/Q/{code}") and url == url.upper()


def test_csv_cells_that_look_like_formulas_are_defused():
    from app.csv_export import safe_cell
    assert [safe_cell(v) for v in ("=1+1", "+84", "-2", "@x", "7KQ4")] == ["'=1+1", "'+84", "'-2", "'@x", "7KQ4"]


def test_voiding_and_activating_ranges_from_the_run_page(member_client, db, coop_a, lychee):
    product, batch = lychee
    run = minted_run(coop_a, product, None, count=50, token="blank")
    page = member_client.get(f"/coop/runs/{run.id}").get_data(as_text=True)
    assert "Kích hoạt cho lô hàng" in page
    response = post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "1", "last": "20", "batch_id": str(batch.id), "action": "activate"})
    assert response.status_code == 302
    response = post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "41", "last": "60", "batch_id": str(batch.id), "action": "void"})
    assert response.status_code == 422 and "Số sê-ri từ 1 đến 50" in response.get_data(as_text=True)
    post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "41", "last": "50", "batch_id": str(batch.id), "action": "void"})
    assert label_runs.stamp_counts(run.id) == {"minted": 50, "active": 20, "voided": 10}
    response = post_form(member_client, f"/coop/runs/{run.id}/void", {"reason": "Mất cuộn tem"})
    assert response.status_code == 302
    assert "Mất cuộn tem" in member_client.get(f"/coop/runs/{run.id}").get_data(as_text=True)


def test_printer_offset_and_calibration_page(member_client, db, coop_a):
    response = post_form(member_client, "/coop/printing", {"print_offset_x_mm": "1.5", "print_offset_y_mm": "-0.5"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (coop_a.print_offset_x_mm, coop_a.print_offset_y_mm) == (1.5, -0.5)
    assert post_form(member_client, "/coop/printing", {"print_offset_x_mm": "25"}).status_code == 422
    pdf = member_client.get("/coop/printing/calibration.pdf?template=a4-21")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_run_killed_while_rendering_is_retried_to_the_same_pdf(app, db, coop_a, lychee):
    product, batch = lychee
    run, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=20_000, template="a4-65", options={}, request_token="crash", actor_id=None)
    run_id = run.id
    db.session.remove()
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "labels", "work", str(run_id)], env=label_runs.worker_environment(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the stamps are minted and rendering is under way
        state = db.session.get(LabelRun, run_id)
        status, progress = state.status, state.progress
        db.session.remove()  # never sleep holding a transaction: on SQLite that is the write lock
        if status is RunStatus.RENDERING and progress >= 10:
            break
        time.sleep(0.05)
    assert worker.poll() is None, f"the worker finished before it could be killed: {worker.stderr.read()[-3000:] if worker.stderr else ''}"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    db.session.remove()
    assert not label_runs.pdf_path(run_id).exists()
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 20_000
    label_runs.process(run_id)  # the retry
    retried = label_runs.pdf_path(run_id).read_bytes()
    assert db.session.scalar(select(func.count(func.distinct(Stamp.code_hash))).where(Stamp.run_id == run_id)) == 20_000
    label_runs.pdf_path(run_id).unlink()
    label_runs.render(run_id)  # an uninterrupted rendering of the same run
    assert label_runs.pdf_path(run_id).read_bytes() == retried


def test_a_batch_with_printed_stamps_cannot_be_deleted(member_client, db, coop_a, lychee):
    product, batch = lychee
    minted_run(coop_a, product, batch, count=3)
    response = post_form(member_client, f"/coop/batches/{batch.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/coop/batches/{batch.id}")
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "không thể xóa" in page
    db.session.expire_all()
    assert db.session.get(type(batch), batch.id) is not None
