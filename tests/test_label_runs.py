"""Label runs: created once, minted all-or-nothing, codes stored only as hashes, ranges voided and activated."""
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal

import pypdfium2
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from app import create_app
from app.extensions import db as _db
from app.models import AuditEvent, LabelRun, RangeAction, Stamp, User
from app.services import batches, codes, label_runs, label_sheets, minting, products, run_rendering, stamp_ranges
from app.services.errors import NotFound, RuleViolation
from tests.conftest import _config, make_cooperative, make_member
from tests.jobs import worker_environment


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
    assert minting.mint(run.id) == 300
    assert minting.mint(run.id) == 300
    assert stamp_count(db, run.id) == 300
    key = minting.stamp_key()
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
    minting.mint(run.id)
    assert stamp_ranges.stamp_counts(run.id) == {"minted": 10, "active": 10, "voided": 0}


def test_blank_run_activates_a_range_onto_a_batch(db, coop_a, lychee):
    product, batch = lychee
    run, _ = new_run(coop_a, product, None, count=100)
    minting.mint(run.id)
    assert stamp_ranges.stamp_counts(run.id)["active"] == 0
    assert stamp_ranges.activate_range(coop_a.id, run.id, 1, 40, batch.id, None) == 40
    with pytest.raises(RuleViolation):
        stamp_ranges.activate_range(coop_a.id, run.id, 30, 50, batch.id, None)  # 30–40 already active
    with pytest.raises(RuleViolation):
        stamp_ranges.activate_range(coop_a.id, run.id, 90, 101, batch.id, None)
    assert stamp_ranges.stamp_counts(run.id) == {"minted": 100, "active": 40, "voided": 0}


def test_blank_run_cannot_activate_onto_another_products_batch(db, coop_a, lychee):
    product, _batch = lychee
    honey = products.create_product(coop_a.id, {"name": "Mật ong", "category": "honey"}, None)
    honey_batch = batches.create_batch(coop_a.id, honey.id, {"lot_code": "MO-1"}, None)
    run, _ = new_run(coop_a, product, None, count=5)
    minting.mint(run.id)
    with pytest.raises(RuleViolation):
        stamp_ranges.activate_range(coop_a.id, run.id, 1, 5, honey_batch.id, None)


def test_voiding_a_range_and_a_run(db, coop_a, lychee):
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=20)
    minting.mint(run.id)
    assert stamp_ranges.void_range(coop_a.id, run.id, 5, 9, None, reason="Tem in lệch") == 5
    assert stamp_ranges.stamp_counts(run.id)["voided"] == 5
    stamp_ranges.void_run(coop_a.id, run.id, "Mất cuộn tem khi vận chuyển", None)
    assert stamp_ranges.stamp_counts(run.id) == {"minted": 20, "active": 0, "voided": 20}


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_void_without_a_reason_is_refused_and_voids_nothing(db, coop_a, lychee, reason):
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=20)
    minting.mint(run.id)
    with pytest.raises(RuleViolation) as refused:
        stamp_ranges.void_range(coop_a.id, run.id, 5, 9, None, reason=reason)
    assert refused.value.field == "reason"
    db.session.rollback()
    with pytest.raises(RuleViolation) as refused:
        stamp_ranges.void_run(coop_a.id, run.id, reason, None)
    assert refused.value.field == "reason"
    db.session.rollback()
    assert stamp_ranges.stamp_counts(run.id)["voided"] == 0 and stamp_ranges.range_history(run.id) == []


def test_the_range_history_says_who_when_which_serials_onto_which_batch_and_why(db, coop_a, lychee):
    product, batch = lychee
    member = db.session.scalar(select(User).where(User.cooperative_id == coop_a.id))
    run, _ = new_run(coop_a, product, None, count=100)
    minting.mint(run.id)
    before, trail_so_far = datetime.utcnow(), db.session.scalar(select(func.max(AuditEvent.id))) or 0
    stamp_ranges.activate_range(coop_a.id, run.id, 1, 40, batch.id, member.id, "Đóng thùng ngày 11/6")
    stamp_ranges.void_range(coop_a.id, run.id, 30, 60, member.id, reason="Tem bị ướt")
    stamp_ranges.void_run(coop_a.id, run.id, "Hết vụ, hủy phần còn lại", member.id)
    history = stamp_ranges.range_history(run.id)
    assert [(e.action, e.first_serial, e.last_serial, e.stamp_count, e.batch_id, e.reason) for e in history] == [
        (RangeAction.VOID_RUN, 1, 100, 69, None, "Hết vụ, hủy phần còn lại"),
        (RangeAction.VOID, 30, 60, 31, None, "Tem bị ướt"),
        (RangeAction.ACTIVATE, 1, 40, 40, batch.id, "Đóng thùng ngày 11/6"),
    ]
    assert all(e.actor_id == member.id and e.actor_name == member.name and e.at >= before for e in history)
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.id > trail_so_far, AuditEvent.entity == "label_run",
                                                        AuditEvent.action.in_(("activate", "void"))).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, (e.after or {}).get("reason") or (e.after or {}).get("void_reason")) for e in trail] == [
        ("activate", member.id, "Đóng thùng ngày 11/6"), ("void", member.id, "Tem bị ướt"),
        ("void", member.id, "Hết vụ, hủy phần còn lại"),
    ]


def test_migration_copies_earlier_activations_and_voids_from_the_audit_trail(tmp_path):
    """Recorded by the services, then the history table dropped (downgrade) and rebuilt from the trail alone."""
    app = create_app(_config(f"sqlite:///{tmp_path / 'backfill.db'}", tmp_path))
    with app.app_context():
        upgrade()
        coop = make_cooperative("HTX Hồng Xuân", "2401000009")
        member = make_member(coop, "lan@hongxuan.vn")
        product, batch = product_with_lot(coop)
        blank, _ = label_runs.create_run(coop.id, product_id=product.id, batch_id=None, count=30, template="a4-65",
                                         options={}, request_token="blank", actor_id=member.id)
        minting.mint(blank.id)
        stamp_ranges.activate_range(coop.id, blank.id, 1, 10, batch.id, member.id, "Đóng gói sáng")
        stamp_ranges.void_range(coop.id, blank.id, 8, 12, member.id, reason="Rách tem")
        stamp_ranges.void_run(coop.id, blank.id, "Hỏng cả cuộn", member.id)

        def history():
            return [(e.run_id, e.action, e.first_serial, e.last_serial, e.stamp_count, e.batch_id, e.reason, e.actor_id,
                     e.actor_name, e.at.replace(microsecond=0)) for e in stamp_ranges.range_history(blank.id)]

        recorded = history()
        assert len(recorded) == 3
        _db.session.remove()
        downgrade(revision="0010")
        _db.session.remove()
        upgrade()
        rebuilt = history()
        _db.session.remove()
        _db.engine.dispose()
    assert [row[:-1] for row in rebuilt] == [row[:-1] for row in recorded]
    assert all(abs((a[-1] - b[-1]).total_seconds()) <= 1 for a, b in zip(rebuilt, recorded))


def product_with_lot(coop, quantity=None, unit="kg"):
    product = products.create_product(coop.id, {"name": "Mật ong Phồn Nhi", "category": "honey", "ocop_stars": 4, "ocop_certificate_no": "OCOP-2", "ocop_issued_on": date(2024, 8, 15)}, None)
    batch = batches.create_batch(coop.id, product.id, {"lot_code": "MO-2026-04", "quantity": quantity, "unit": unit}, None)
    return product, batch


def test_more_stamps_than_bottles_asks_for_confirmation_and_the_trail_records_it(db, coop_a):
    product, batch = product_with_lot(coop_a, Decimal("1800"), "chai")
    member = db.session.scalar(select(User).where(User.cooperative_id == coop_a.id))
    ask = dict(product_id=product.id, batch_id=batch.id, count=40_000, template="a4-65", options={}, actor_id=member.id)
    with pytest.raises(RuleViolation) as refused:
        label_runs.create_run(coop_a.id, request_token="over", **ask)
    assert refused.value.field == "more_than_quantity"
    assert str(refused.value.message).startswith("Lô này có 1.800 chai; bạn đang in 40.000 tem.")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 0
    trail_so_far = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    run, created = label_runs.create_run(coop_a.id, request_token="over", more_than_quantity=True, **ask)
    assert created
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.id > trail_so_far, AuditEvent.action == "print_over_quantity"))
    assert (event.actor_id, event.actor_name, event.entity_id) == (member.id, member.name, run.id)
    assert event.after == {"batch_id": batch.id, "lot_code": "MO-2026-04", "quantity": "1800", "unit": "chai",
                           "count": 40_000, "already": 0}


def test_stamps_already_on_the_batch_count_towards_its_quantity(db, coop_a):
    product, batch = product_with_lot(coop_a, Decimal("100"), "hộp")
    trail_so_far = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    first, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=100, template="a4-65",
                                     options={}, request_token="all", actor_id=None)
    minting.mint(first.id)
    with pytest.raises(RuleViolation) as refused:
        label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=1, template="a4-65",
                              options={}, request_token="one-more", actor_id=None)
    assert "đã có 100 tem còn hiệu lực" in str(refused.value.message)
    db.session.rollback()
    stamp_ranges.void_range(coop_a.id, first.id, 1, 1, None, reason="Dán hỏng")  # a spoilt stamp: one may be reprinted
    label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=1, template="a4-65",
                          options={}, request_token="reprint", actor_id=None)
    overrides = select(func.count()).select_from(AuditEvent).where(AuditEvent.id > trail_so_far, AuditEvent.action == "print_over_quantity")
    assert db.session.scalar(overrides) == 0


@pytest.mark.parametrize("quantity, unit", [(Decimal("4200"), "kg"), (Decimal("2.5"), " Tấn "), (Decimal("300"), "lít"), (None, "chai")])
def test_batches_by_weight_or_volume_or_without_quantity_are_not_counted_against_stamps(db, coop_a, quantity, unit):
    product, batch = product_with_lot(coop_a, quantity, unit)
    _run, created = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=40_000,
                                          template="a4-65", options={}, request_token="kg", actor_id=None)
    assert created


def test_blank_runs_are_not_counted_against_any_batch(db, coop_a):
    product, _batch = product_with_lot(coop_a, Decimal("10"), "chai")
    _run, created = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=None, count=500,
                                          template="a4-65", options={}, request_token="blank", actor_id=None)
    assert created


def test_ocop_stars_are_judged_on_the_day_given():
    product = products.Product(ocop_stars=4, ocop_expires_on=date(2026, 6, 30))
    assert run_rendering.valid_stars(product, date(2026, 6, 30)) == 4  # the expiry day itself is still valid
    assert run_rendering.valid_stars(product, date(2026, 7, 1)) is None


@pytest.mark.parametrize("created_utc, stars", [
    (datetime(2026, 6, 30, 16, 30), 4),  # 23:30 on 30 June in Vietnam: the certificate's last day
    (datetime(2026, 6, 30, 17, 30), None),  # 00:30 on 1 July in Vietnam, though UTC still says 30 June
])
def test_blank_stamps_judge_ocop_stars_on_vietnams_day_of_the_order(db, coop_a, created_utc, stars):
    product = products.create_product(coop_a.id, {"name": "Vải thiều", "category": "fruit", "ocop_stars": 4, "ocop_certificate_no": "OCOP-1",
                                                  "ocop_issued_on": date(2023, 6, 30), "ocop_expires_on": date(2026, 6, 30)}, None)
    run, _ = new_run(coop_a, product, None, count=2)
    run.created_at = created_utc
    db.session.commit()
    assert [label.ocop_stars for label in run_rendering.run_labels(run)] == [stars, stars]


@pytest.mark.parametrize("template", sorted(label_sheets.library().BUILTIN_SPECS))
def test_every_template_prints_each_stamps_serial(db, coop_a, lychee, template):
    product, batch = lychee
    run, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=3, template=template,
                                   options={}, request_token=f"serials-{template}", actor_id=None)
    run_rendering.render(run.id)
    document = pypdfium2.PdfDocument(run_rendering.pdf_bytes(run.id))
    text = " ".join(page.get_textpage().get_text_range() for page in document)
    for serial in (1, 2, 3):
        assert f"Nº {serial:06d}" in text, (template, serial)


def test_a_killed_mint_leaves_no_half_run(app, db, coop_a, lychee):
    """Kill -9 the worker in the middle of inserting 100,000 stamps: none are left; a retry mints them all."""
    product, batch = lychee
    run, _ = new_run(coop_a, product, batch, count=100_000)
    run_id = run.id
    db.session.remove()  # hold no transaction (on SQLite: no write lock) while the worker runs
    script = (
        "import sys\nfrom app import create_app\nfrom app.services import minting\n"
        "app = create_app()\nwith app.app_context():\n"
        "    print('minting', flush=True)\n"
        f"    minting.mint({run_id})\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], env=worker_environment(app), stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "minting"
    time.sleep(0.5)  # well inside the insert of 100,000 rows, which takes seconds
    assert worker.poll() is None, "the worker finished before it could be killed"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    db.session.remove()
    assert stamp_count(db, run_id) == 0
    assert minting.mint(run_id) == 100_000
    distinct = db.session.scalar(select(func.count(func.distinct(Stamp.code_hash))).where(Stamp.run_id == run_id))
    assert distinct == 100_000
