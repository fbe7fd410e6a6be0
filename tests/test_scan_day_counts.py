"""scan_day_counts, kept by the scan log as it writes, stay equal to a count of the scans themselves: when two app
instances (two web nodes) write scans of the same stamps at once, after a void, and after the migration fills them
from scans written before it."""
import threading
from collections import Counter
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.models import LabelRun, Scan, Stamp
from app.models.scan_counts import NO_BATCH, ScanDayCount, block_of
from app.services import stamp_ranges
from tests.factories import minted_run, product_with_batch
from tests.test_coop_scan_stats import day_counts, place_rows, run_codes, scan, totals


def recount(db) -> tuple[Counter, Counter]:
    """Scans and first scans per (run, day, batch, block of serials), counted from the scan log itself."""
    rows = db.session.execute(select(Scan.stamp_id, Scan.day, Stamp.run_id, Stamp.batch_id, Stamp.serial, LabelRun.count)
                              .join(Stamp, Stamp.id == Scan.stamp_id).join(LabelRun, LabelRun.id == Stamp.run_id)).all()
    scans, first_day = Counter(), {}
    for stamp_id, day, run_id, batch_id, serial, count in rows:
        key = (run_id, day, batch_id or NO_BATCH, block_of(serial, count))
        scans[key] += 1
        first_day[stamp_id] = min(first_day.get(stamp_id, (day, key)), (day, key))
    return scans, Counter(key for _day, key in first_day.values())


def kept(db) -> tuple[Counter, Counter]:
    rows = db.session.execute(select(ScanDayCount)).scalars().all()
    db.session.commit()
    scans = Counter({(r.run_id, r.day, r.batch_id, r.block): r.scans for r in rows if r.scans})
    firsts = Counter({(r.run_id, r.day, r.batch_id, r.block): r.first_scans for r in rows if r.first_scans})
    return scans, firsts


def test_two_app_instances_writing_the_same_stamps_at_once_keep_exact_counts(app, app_with, db, coop_a, member_client):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=30, token="two-nodes")
    codes = run_codes(run)
    nodes = [app_with(SCAN_WRITE_DELAY=600), app_with(SCAN_WRITE_DELAY=600)]  # both hold their scans until flushed
    db.session.commit()  # the test's transaction would hold SQLite's write lock against the nodes
    for n, code in enumerate(codes[:24]):
        for node_index, node in enumerate(nodes):  # each stamp scanned on both nodes: only one may count it first
            scan(node, code, phone=2 * n + node_index + 1)
    logs = [node.extensions["scan_log"] for node in nodes]
    start = threading.Barrier(len(logs))

    def flush(log):
        start.wait()
        log.flush()

    writers = [threading.Thread(target=flush, args=(log,)) for log in logs]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert all(not log._held for log in logs)  # both wrote (a failed write keeps its scans)
    scans, firsts = recount(db)
    assert sum(scans.values()) == 48 and sum(firsts.values()) == 24
    assert kept(db) == (scans, firsts)
    text_ = member_client.get(f"/coop/runs/{run.id}/scans").get_data(as_text=True)
    assert totals(text_)["scanned"] == "24" and sum(day_counts(text_, "first-scans").values()) == 24
    assert place_rows(text_) == {"0": ("1–10", 10, 20), "1": ("11–20", 10, 20), "2": ("21–30", 4, 8)}


def test_counts_stay_exact_after_a_void_and_stamps_on_two_batches(app, db, coop_a, member_client):
    from app.services import batches

    product, lot_a = product_with_batch(coop_a)
    lot_b = batches.create_batch(coop_a.id, product.id, {"lot_code": "VT-2026-06-B", "harvest_date": date(2026, 6, 12),
                                                         "packing_date": date(2026, 6, 13)}, None)
    run = minted_run(coop_a, product, None, count=12, token="blank-void")
    stamp_ranges.activate_range(coop_a.id, run.id, 1, 5, lot_a.id, None)
    stamp_ranges.activate_range(coop_a.id, run.id, 6, 10, lot_b.id, None)
    codes = run_codes(run)
    for serial, phone in [(1, 1), (2, 2), (6, 3), (11, 4)]:
        scan(app, codes[serial - 1], phone)
    stamp_ranges.void_range(coop_a.id, run.id, 1, 7, None, reason="Cuộn tem bị mất khi vận chuyển")
    for serial, phone in [(1, 5), (2, 2), (7, 6), (8, 7)]:  # voided stamps are still scanned (the page warns)
        scan(app, codes[serial - 1], phone)
    scans, firsts = recount(db)
    assert sum(scans.values()) == 8 and sum(firsts.values()) == 6
    assert kept(db) == (scans, firsts)
    text_ = member_client.get(f"/coop/runs/{run.id}/scans").get_data(as_text=True)
    assert place_rows(text_) == {"0": ("1–5 · VT-2026-06-A", 2, 4), "1": ("6–10 · VT-2026-06-B", 3, 3),
                                 "none": ("Các số sê-ri khác", 1, 1)}
    product_text = member_client.get(f"/coop/products/{product.id}/scans").get_data(as_text=True)
    assert {key: row[1:] for key, row in place_rows(product_text).items()} == {str(lot_a.id): (2, 4), str(lot_b.id): (3, 3),
                                                                               "none": (1, 1)}
    assert totals(product_text)["scanned"] == "6" and totals(product_text)["voided"] == "7"


def test_the_migration_counts_the_scans_written_before_it(app, db, coop_a):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=3, token="backfill")
    codes = run_codes(run)
    for serial, phone in [(1, 1), (1, 2), (3, 3)]:
        scan(app, codes[serial - 1], phone)
    written = kept(db)
    db.session.remove()
    downgrade(revision="0022")  # the tables gone, the scans kept
    db.session.remove()
    upgrade()
    db.session.remove()
    assert kept(db) == written == recount(db)
    assert db.session.scalar(text("SELECT count(*) FROM stamp_first_scans")) == 2
