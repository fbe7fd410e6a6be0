"""The label run queue's rules, at the service level: fair order and positions, exclusive claims, resuming a
redelivered task, runs abandoned by a dead worker, cancelling, and a broker that cannot be reached."""
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.extensions import db as _db
from app.models import AuditEvent, LabelRun, RunStatus, Stamp
from app.models.mixins import utcnow
from app.services import codes, label_runs, minting, run_processing, run_queue, run_rendering
from app.services.errors import NotFound, RuleViolation
from tests.browser import PHONE_VIEW, browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, post_form, sign_in
from tests.factories import product_with_batch


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)


@pytest.fixture
def honey(coop_b):
    return product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-2026-06")


def order(coop, product_batch, token: str, count: int = 3) -> int:
    product, batch = product_batch
    run, _ = label_runs.create_run(coop.id, product_id=product.id, batch_id=batch.id, count=count, template="a4-65",
                                   options={}, request_token=token, actor_id=None)
    return run.id


def messages_waiting(app) -> int:
    """Messages in the test's own embedded queue (kombu's SQLAlchemy transport, instance/jobs.db)."""
    path = Path(app.config["CELERY"]["broker_url"].removeprefix("sqla+sqlite:///"))
    if not path.exists():
        return 0
    with sqlite3.connect(path) as queue:
        return queue.execute("SELECT count(*) FROM kombu_message WHERE visible").fetchone()[0]


def age(run_id: int, seconds: int) -> None:
    """Make the run's last heartbeat this old: its worker has not been heard from since."""
    _db.session.execute(update(LabelRun).where(LabelRun.id == run_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))
    _db.session.commit()


def test_a_cooperatives_second_run_waits_behind_every_other_cooperatives_first(db, coop_a, coop_b, lychee, honey):
    a1, a2, a3 = (order(coop_a, lychee, f"a{i}") for i in (1, 2, 3))
    b1 = order(coop_b, honey, "b1")  # ordered last
    assert run_queue.fair_order() == [a1, b1, a2, a3]
    assert [run_queue.position(db.session.get(LabelRun, run_id)) for run_id in (a1, b1, a2, a3)] == [0, 1, 2, 3]
    assert run_queue.claim("task-1") == a1
    # A run of A in progress counts ahead of A's waiting ones; positions count waiting runs only.
    assert [run_queue.position(db.session.get(LabelRun, run_id)) for run_id in (b1, a2, a3)] == [0, 1, 2]
    assert run_queue.position(db.session.get(LabelRun, a1)) is None
    assert run_queue.claim("task-2") == b1  # B's one run is claimed second, before A's other two
    assert [run_queue.claim(f"task-{n}") for n in (3, 4, 5)] == [a2, a3, None]


def test_a_cooperative_just_served_goes_behind_one_still_waiting_for_its_first_run(db, coop_a, coop_b, lychee, honey):
    a1, a2 = (order(coop_a, lychee, f"a{i}") for i in (1, 2))
    b1 = order(coop_b, honey, "b1")  # ordered after both of A's
    assert run_queue.claim("task-1") == a1
    db.session.execute(update(LabelRun).where(LabelRun.id == a1).values(status=RunStatus.DONE, finished_at=utcnow()))
    db.session.commit()
    # A's second run was ordered before B's first, but A has just been served: B goes first.
    assert run_queue.fair_order() == [b1, a2]
    assert run_queue.position(db.session.get(LabelRun, b1)) == 0
    assert [run_queue.claim("task-2"), run_queue.claim("task-3")] == [b1, a2]


def test_a_claim_is_exclusive_even_when_workers_race(app, db, coop_a, coop_b, lychee, honey):
    runs = {order(coop_a, lychee, f"a{i}") for i in range(4)} | {order(coop_b, honey, f"b{i}") for i in range(4)}
    db.session.remove()  # hold no transaction while the claimers run
    claimed, errors, start = [], [], threading.Barrier(6)

    def claimer(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                for attempt in range(3):
                    claimed.append(run_queue.claim(f"racer-{n}-{attempt}"))
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    taken = [run_id for run_id in claimed if run_id is not None]
    assert sorted(taken) == sorted(runs) and len(claimed) == 18  # every run once, never twice
    owners = db.session.execute(select(LabelRun.id, LabelRun.task_id)).all()
    assert len({task for _id, task in owners}) == 8


def test_a_redelivered_task_resumes_its_own_run(db, coop_a, coop_b, lychee, honey):
    first = order(coop_a, lychee, "a1")
    assert run_queue.claim("task-dead") == first
    waiting = order(coop_b, honey, "b1")
    assert run_queue.claim("task-dead") == first  # Celery redelivers with the same task id: the same run again
    assert run_queue.claim("task-other") == waiting


def test_a_run_whose_worker_died_is_claimable_and_requeued_with_a_message(app, db, coop_a, lychee):
    run_id = order(coop_a, lychee, "a1")
    assert run_queue.claim("task-1") == run_id
    assert run_queue.claim("task-2") is None  # alive: nobody else takes it
    age(run_id, 31)
    assert run_queue.is_stale(db.session.get(LabelRun, run_id))
    assert run_queue.claim("task-2") == run_id  # a dead worker's run is claimable again
    age(run_id, 31)
    before = messages_waiting(app)
    assert run_queue.requeue_stale_runs() == 1
    run = db.session.get(LabelRun, run_id)
    assert (run.status, run.task_id) == (RunStatus.QUEUED, None) and run.sent_at is not None
    assert messages_waiting(app) == before + 1
    assert run_queue.requeue_stale_runs() == 0  # sent once: nothing more until it is abandoned again


def test_a_message_spent_on_a_dead_workers_run_is_sent_again_for_the_run_still_waiting(app, db, coop_a, coop_b, lychee, honey):
    """A message is a token for a waiting run. A worker that spends it on a dead worker's run (claimable before
    requeue_stale_runs comes by) sends another, else the waiting run, already sent once, would wait for the
    next order or restart with every worker idle."""
    dead = order(coop_a, lychee, "a1")
    assert run_queue.claim("task-dead") == dead
    age(dead, 31)
    waiting = order(coop_b, honey, "b1")
    assert run_queue.announce(waiting)
    before = messages_waiting(app)
    assert run_queue.claim("task-2") == dead  # the abandoned run joined the queue first
    assert messages_waiting(app) == before + 1
    assert run_queue.requeue_stale_runs() == 0  # which would never send for it again


def test_cancelling_a_waiting_run_is_immediate_and_recorded(member_client, db, coop_a, lychee):
    run_id = order(coop_a, lychee, "a1")
    before = db.session.scalar(select(func.max(AuditEvent.id))) or 0  # the trail outlives tests: read only this one's
    response = post_form(member_client, f"/coop/runs/{run_id}/cancel")
    assert response.status_code == 302
    run = db.session.get(LabelRun, run_id)
    assert run.status is RunStatus.CANCELLED
    assert run_queue.claim("task-1") is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cancel_run", AuditEvent.entity_id == run_id,
                                                       AuditEvent.id > before))
    assert event.actor_name == "Thành viên HTX Vải thiều Lục Ngạn" and event.after == {"status": "cancelled"}
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã hủy lượt in" in page and "In lại" in page
    with pytest.raises(RuleViolation):  # a finished run cannot be cancelled
        run_queue.cancel(coop_a.id, run_id, None)


def test_a_cancel_seen_by_the_worker_leaves_no_stamps_and_no_pdf(app, db, coop_a, lychee):
    """The cancel arrives while the run renders: the worker stops at its next progress report, deletes the
    stamps it had minted in the transaction that marks the run cancelled, and publishes nothing."""
    run_id = order(coop_a, lychee, "a1", count=3000)
    assert run_queue.claim("task-1") == run_id
    asked = []

    def cancel_once_rendering(done: int) -> None:
        if done >= 500 and not asked:
            asked.append(run_queue.cancel(coop_a.id, run_id, None))

    run = run_processing.process(run_id, cancel_once_rendering, owner="task-1")
    assert asked == [RunStatus.RENDERING] or asked == [RunStatus.MINTING]
    assert run.status is RunStatus.CANCELLED and run.task_id is None
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 0
    assert not run_rendering.has_pdf(run_id)
    assert not list(run_rendering.pdf_path(run_id).parent.glob(f"run-{run_id}.*"))  # no partial file either
    code = codes.derive_code(minting.stamp_key(), run_id, 1)
    assert app.test_client().get(f"/Q/{code}").status_code == 404  # no code of it scans as genuine
    # Started again, it prints the same codes.
    assert run_queue.restart(coop_a.id, run_id).restarted
    assert run_processing.process(run_id).status is RunStatus.DONE
    assert db.session.scalar(select(Stamp.code_hash).where(Stamp.run_id == run_id, Stamp.serial == 1)) == codes.code_hash(code)


def test_another_cooperatives_run_cannot_be_cancelled(client, db, coop_a, coop_b, honey):
    run_id = order(coop_b, honey, "b1")
    sign_in(client, "a@htx.vn")
    assert post_form(client, f"/coop/runs/{run_id}/cancel").status_code == 404
    with pytest.raises(NotFound):
        run_queue.cancel(coop_a.id, run_id, None)
    assert db.session.get(LabelRun, run_id).status is RunStatus.QUEUED


def test_the_run_page_and_its_status_say_how_many_runs_are_ahead(member_client, db, coop_a, coop_b, lychee, honey):
    b1, _b2 = order(coop_b, honey, "b1"), order(coop_b, honey, "b2")
    a1, a2 = order(coop_a, lychee, "a1"), order(coop_a, lychee, "a2")  # fair order: b1, a1, b2, a2
    page = member_client.get(f"/coop/runs/{a2}").get_data(as_text=True)
    assert "Đang chờ: 3 lượt in trước bạn" in page and "Đang chờ in" in page and "Hủy lượt in" in page
    status = member_client.get(f"/coop/runs/{a1}/status").get_json()
    assert (status["status"], status["position"], status["waiting"]) == ("queued", 1, "Đang chờ: 1 lượt in trước bạn")
    assert run_queue.claim("task-1") == b1
    assert member_client.get(f"/coop/runs/{a1}/status").get_json()["waiting"] == "Sắp đến lượt"
    assert "Sắp đến lượt" in member_client.get(f"/coop/runs/{a1}").get_data(as_text=True)
    assert "lượt in trước bạn" not in member_client.get(f"/coop/runs/{b1}").get_data(as_text=True)  # in progress


def test_when_the_broker_is_away_the_run_waits_and_is_sent_later(app, app_with, db, coop_a, lychee):
    _product, batch = lychee
    away = app_with(CELERY={**app.config["CELERY"], "broker_url": "redis://127.0.0.1:9/0"})  # nothing listens there
    client = away.test_client()
    sign_in(client, "a@htx.vn")
    form = client.get(f"/coop/batches/{batch.id}/runs/new").get_data(as_text=True)
    token = form.split('name="request_token" type="hidden" value="')[1].split('"')[0]
    response = post_form(client, f"/coop/batches/{batch.id}/runs/new", {"count": "5", "template": "a4-65", "ecc": "M", "request_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hiện chưa kết nối được hàng đợi in" in page and "Chưa gửi được lượt in tới hàng đợi in" in page
    run = db.session.scalar(select(LabelRun))
    assert (run.status, run.sent_at) == (RunStatus.QUEUED, None)
    assert run_queue.requeue_stale_runs() == 1  # the broker is back (this app's): the run is sent
    assert messages_waiting(app) == 1 and db.session.get(LabelRun, run.id).sent_at is not None


def test_the_api_cancels_and_shows_the_position(client, db, coop_a, coop_b, lychee, honey):
    from tests.test_api_runs import _token

    theirs = order(coop_b, honey, "b1")
    mine = order(coop_a, lychee, "a1")
    headers = _token()
    assert client.get(f"/api/v1/runs/{mine}", headers=headers).get_json()["position"] == 1
    assert client.post(f"/api/v1/runs/{theirs}/cancel", headers=headers).status_code == 404
    answer = client.post(f"/api/v1/runs/{mine}/cancel", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled" and answer.get_json()["position"] is None
    assert client.post(f"/api/v1/runs/{mine}/cancel", headers=headers).status_code == 422
    assert client.post(f"/api/v1/runs/{mine}/retry", headers=headers).get_json()["status"] == "queued"


@needs_chromium
@pytest.mark.browser
def test_in_a_phone_browser_the_run_page_shows_its_place_and_can_cancel(live_server, browser, db, coop_a, coop_b, lychee, honey, tmp_path):
    b1, _b2 = order(coop_b, honey, "b1"), order(coop_b, honey, "b2")
    a1, a2 = order(coop_a, lychee, "a1"), order(coop_a, lychee, "a2")  # fair order: b1, a1, b2, a2
    db.session.commit()
    context = browser.new_context(locale="vi-VN", **PHONE_VIEW)
    phone = context.new_page()
    sign_in_page(phone, live_server, "a@htx.vn", PASSWORD)
    phone.goto(f"{live_server}/coop/runs/{a2}")
    queue = phone.locator("#run-queue")
    assert queue.inner_text() == "Đang chờ: 3 lượt in trước bạn"
    cancel = phone.get_by_role("button", name="Hủy lượt in")
    assert cancel.bounding_box()["height"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=str(tmp_path / "run-waiting.png"), full_page=True)
    assert run_queue.claim("task-1") == b1 and run_queue.claim("task-2") == a1  # two runs start printing elsewhere
    db.session.commit()
    queue.filter(has_text="Đang chờ: 1 lượt in trước bạn").wait_for()  # the page's polling brings the new place
    phone.once("dialog", lambda dialog: dialog.accept())
    cancel.click()
    phone.wait_for_selector("text=Đã hủy lượt in. Không còn tem nào của lượt này.")
    assert phone.get_by_role("button", name="In lại").is_visible()
    phone.screenshot(path=str(tmp_path / "run-cancelled.png"), full_page=True)
    context.close()


def test_cancelling_a_run_back_in_line_deletes_what_an_earlier_attempt_minted(member_client, db, coop_a, lychee):
    """A run that failed after minting, started again and cancelled while it waits: none of its stamps stay."""
    run_id = order(coop_a, lychee, "a1", count=20)
    assert run_queue.claim("task-1") == run_id
    minting.mint(run_id)
    label_runs.set_state(run_id, status=RunStatus.FAILED, error="disk full")
    assert run_queue.restart(coop_a.id, run_id).restarted
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 20
    assert "Hủy lượt in" in member_client.get(f"/coop/runs/{run_id}").get_data(as_text=True)
    assert post_form(member_client, f"/coop/runs/{run_id}/cancel").status_code == 302
    assert db.session.get(LabelRun, run_id).status is RunStatus.CANCELLED
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 0


def test_a_run_printed_before_is_never_cancelled(member_client, db, coop_a, lychee):
    """Done once, its PDF lost and the run started again: its stamps may be on products, so it is not cancelled."""
    from app.storage import storage

    run_id = order(coop_a, lychee, "a1", count=20)
    run_processing.process(run_id)
    storage().delete(run_rendering.pdf_key(run_id))
    assert run_queue.restart(coop_a.id, run_id).restarted
    page = member_client.get(f"/coop/runs/{run_id}").get_data(as_text=True)
    assert "Hủy lượt in" not in page
    response = post_form(member_client, f"/coop/runs/{run_id}/cancel")
    assert response.status_code == 302
    assert "Lượt in này đã từng được in" in member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.get(LabelRun, run_id).status is RunStatus.QUEUED
    assert db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)) == 20
