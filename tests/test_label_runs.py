"""Label runs: created once, minted all-or-nothing, codes stored only as hashes, ranges voided and activated."""
import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from sqlalchemy import func, select, text

from app.models import LabelRun, Stamp
from app.services import batches, codes, label_runs, products
from app.services.errors import NotFound, RuleViolation


@pytest.fixture
def lychee(coop_a):
    product = products.create_product(coop_a.id, {"name": "Vải thiều Lục Ngạn", "category": "fruit", "ocop_stars": 4, "ocop_certificate_no": "OCOP-1", "ocop_issued_on": date(2024, 8, 15)}, None)
    batch = batches.create_batch(coop_a.id, product.id, {"lot_code": "VT-2026-06-A", "harvest_date": date(2026, 6, 10), "packing_date": date(2026, 6, 11)}, None)
    return product, batch


def new_run(coop, product, batch=None, count=50, token="t-1"):
    return label_runs.create_run(
        coop.id, product_id=product.id, batch_id=batch.id if batch else None, count=count,
        template="a4-65", options={}, request_token=token, actor_id=None,
    )


def stamp_count(db, run_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id))


def test_double_submit_creates_one_run(db, coop_a, lychee):
    product, batch = lychee
    first, created = new_run(coop_a, product, batch, token="same")
    again, created_again = new_run(coop_a, product, batch, token="same")
    assert created and not created_again and again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 1


def test_another_cooperative_cannot_reuse_a_token_or_a_product(db, coop_a, coop_b, lychee):
    product, batch = lychee
    new_run(coop_a, product, batch, token="mine")
    with pytest.raises(NotFound):
        new_run(coop_b, product, batch, token="mine")
    with pytest.raises(NotFound):
        new_run(coop_b, product, batch, token="other")


@pytest.mark.parametrize("count", [0, -1, 100_001])
def test_count_out_of_range_is_refused(db, coop_a, lychee, count):
    product, batch = lychee
    with pytest.raises(RuleViolation) as refused:
        new_run(coop_a, product, batch, count=count)
    assert refused.value.field == "count"


def test_minting_stores_hashes_only_and_is_idempotent(db, coop_a, lychee):
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=300)
    assert label_runs.mint(run.id) == 300
    assert label_runs.mint(run.id) == 300
    assert stamp_count(db, run.id) == 300
    key = label_runs.stamp_key()
    expected = {codes.code_hash(codes.derive_code(key, run.id, s)) for s in range(1, 301)}
    stored = set(db.session.scalars(select(Stamp.code_hash).where(Stamp.run_id == run.id)))
    assert stored == expected
    code = codes.derive_code(key, run.id, 1)
    for table in ("stamps", "label_runs"):
        dump = " ".join(str(row) for row in db.session.execute(text(f"SELECT * FROM {table}")))
        assert code not in dump and code.lower() not in dump


def test_stamps_of_a_batch_run_are_active_for_that_batch(db, coop_a, lychee):
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=10)
    label_runs.mint(run.id)
    assert label_runs.stamp_counts(run.id) == {"minted": 10, "active": 10, "voided": 0}


def test_blank_run_activates_a_range_onto_a_batch(db, coop_a, lychee):
    product, batch = lychee
    run, _ = new_run(coop_a, product, None, count=100)
    label_runs.mint(run.id)
    assert label_runs.stamp_counts(run.id)["active"] == 0
    assert label_runs.activate_range(coop_a.id, run.id, 1, 40, batch.id, None) == 40
    with pytest.raises(RuleViolation):
        label_runs.activate_range(coop_a.id, run.id, 30, 50, batch.id, None)  # 30–40 already active
    with pytest.raises(RuleViolation):
        label_runs.activate_range(coop_a.id, run.id, 90, 101, batch.id, None)
    assert label_runs.stamp_counts(run.id) == {"minted": 100, "active": 40, "voided": 0}


def test_blank_run_cannot_activate_onto_another_products_batch(db, coop_a, lychee):
    product, _batch = lychee
    honey = products.create_product(coop_a.id, {"name": "Mật ong", "category": "honey"}, None)
    honey_batch = batches.create_batch(coop_a.id, honey.id, {"lot_code": "MO-1"}, None)
    run, _ = new_run(coop_a, product, None, count=5)
    label_runs.mint(run.id)
    with pytest.raises(RuleViolation):
        label_runs.activate_range(coop_a.id, run.id, 1, 5, honey_batch.id, None)


def test_voiding_a_range_and_a_run(db, coop_a, lychee):
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=20)
    label_runs.mint(run.id)
    assert label_runs.void_range(coop_a.id, run.id, 5, 9, None) == 5
    assert label_runs.stamp_counts(run.id)["voided"] == 5
    label_runs.void_run(coop_a.id, run.id, "Mất cuộn tem khi vận chuyển", None)
    assert label_runs.stamp_counts(run.id) == {"minted": 20, "active": 0, "voided": 20}


def test_a_killed_mint_leaves_no_half_run(app, db, coop_a, lychee):
    """Kill -9 the worker in the middle of inserting 100,000 stamps: none are left; a retry mints them all."""
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=100_000)
    run_id = run.id
    db.session.remove()  # hold no transaction (on SQLite: no write lock) while the worker runs
    script = (
        "import sys\nfrom app import create_app\nfrom app.services import label_runs\n"
        "app = create_app()\nwith app.app_context():\n"
        "    print('minting', flush=True)\n"
        f"    label_runs.mint({run_id})\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], env=label_runs.worker_environment(), stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "minting"
    time.sleep(0.5)  # well inside the insert of 100,000 rows, which takes seconds
    assert worker.poll() is None, "the worker finished before it could be killed"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    db.session.remove()
    assert stamp_count(db, run_id) == 0
    assert label_runs.mint(run_id) == 100_000
    distinct = db.session.scalar(select(func.count(func.distinct(Stamp.code_hash))).where(Stamp.run_id == run_id))
    assert distinct == 100_000
