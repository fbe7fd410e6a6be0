"""/api/v1/runs: a run ordered through the API is printed by a real label worker (Celery); 202 and Location,
status to poll, the PDF; ranges activated and voided, the whole run voided, through the services' rules."""
import time

import pypdfium2
from sqlalchemy import func, select

from app.extensions import db
from app.models import LabelRun, Stamp, User
from app.services import api_tokens
from tests.factories import minted_run, product_with_batch
from tests.jobs import label_worker, start_label_worker  # noqa: F401 (fixtures)
from tests.test_api import assert_problem


def _token(login: str = "a@htx.vn", can_write: bool = True) -> dict:
    user = db.session.scalar(select(User).where(User.login == login))
    return {"Authorization": f"Bearer {api_tokens.create_token(user.id, {'name': 'runs'}, can_write).secret}"}


def _wait_until_done(client, url: str, headers: dict, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(url, headers=headers).get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"the run did not finish: {state}")


def test_order_a_run_poll_it_and_download_the_pdf(client, coop_a, label_worker):
    product, batch = product_with_batch(coop_a)
    headers = {**_token(), "Idempotency-Key": "run-1"}
    order = {"product_id": product.id, "batch_id": batch.id, "count": 6, "template": "a4-65"}
    answer = client.post("/api/v1/runs", json=order, headers=headers)
    assert answer.status_code == 202
    assert answer.get_json()["status"] == "queued" and answer.get_json()["pdf"] is None
    again = client.post("/api/v1/runs", json=order, headers=headers)  # a retry: the same run, no second worker
    assert again.status_code == 202 and again.get_json()["id"] == answer.get_json()["id"]
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 1
    state = _wait_until_done(client, answer.headers["Location"], headers)
    assert state["status"] == "done" and state["progress"] == 100, state
    pdf = client.get(state["pdf"], headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert len(pypdfium2.PdfDocument(pdf.data)) == 1
    assert db.session.scalar(select(func.count()).select_from(Stamp)) == 6


def test_pdf_not_ready_is_a_409_problem(client, coop_a):
    product, batch = product_with_batch(coop_a)
    run = LabelRun(cooperative_id=coop_a.id, product_id=product.id, batch_id=batch.id, count=3, template="a4-65",
                   request_token="not-started")
    db.session.add(run)
    db.session.commit()
    assert_problem(client.get(f"/api/v1/runs/{run.id}/labels.pdf", headers=_token()), 409)


def test_a_services_refusal_names_its_field(client, coop_a, db):
    product, batch = product_with_batch(coop_a)
    body = assert_problem(client.post("/api/v1/runs", json={"product_id": product.id, "batch_id": batch.id, "count": 5,
                                                            "template": "no-such-sheet"}, headers=_token()), 422)
    assert body["errors"][0]["field"] == "template"
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 0


def test_blank_stamps_activated_and_voided_by_range_then_the_whole_run(client, coop_a, db):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, None, count=10)
    headers = _token()
    base = f"/api/v1/runs/{run.id}"
    missing = assert_problem(client.post(f"{base}/ranges", json={"action": "activate", "first": 1, "last": 4}, headers=headers), 422)
    assert missing["errors"][0]["field"] == "batch_id"
    done = client.post(f"{base}/ranges", json={"action": "activate", "first": 1, "last": 4, "batch_id": batch.id}, headers=headers)
    assert done.status_code == 200 and done.get_json() == {"action": "activate", "stamps": 4}
    no_reason = assert_problem(client.post(f"{base}/ranges", json={"action": "void", "first": 3, "last": 4}, headers=headers), 422)
    assert no_reason["errors"][0]["field"] == "reason"
    voided = client.post(f"{base}/ranges", json={"action": "void", "first": 3, "last": 4, "reason": "Rách khi dán"}, headers=headers)
    assert voided.get_json() == {"action": "void", "stamps": 2}
    whole = client.post(f"{base}/void", json={"reason": "Mất cuộn tem"}, headers=headers)
    assert whole.status_code == 200 and whole.get_json()["void_reason"] == "Mất cuộn tem" and whole.get_json()["voided_at"]


def test_another_cooperatives_run_is_404_and_a_read_only_token_cannot_order(client, coop_a, coop_b):
    product_b, batch_b = product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    run_b = minted_run(coop_b, product_b, batch_b, count=2, token="b-run")
    headers = _token()
    for method, path, body in (("GET", f"/api/v1/runs/{run_b.id}", None), ("GET", f"/api/v1/runs/{run_b.id}/labels.pdf", None),
                               ("POST", f"/api/v1/runs/{run_b.id}/void", {"reason": "x"}),
                               ("POST", f"/api/v1/runs/{run_b.id}/ranges", {"action": "void", "first": 1, "last": 1, "reason": "x"}),
                               ("POST", "/api/v1/runs", {"product_id": product_b.id, "count": 1})):
        assert_problem(client.open(path, method=method, json=body, headers=headers), 404)
    assert db.session.get(LabelRun, run_b.id).voided_at is None
    product, batch = product_with_batch(coop_a)
    assert_problem(client.post("/api/v1/runs", json={"product_id": product.id, "count": 1}, headers=_token(can_write=False)), 403)
