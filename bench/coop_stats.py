"""A cooperative's scan statistics pages on a big run: 200,000 stamps and about 500,000 scans, against the
cooperative dashboard in the same database and process.

Run as `python -m bench.coop_stats [--stamps 200000] [--scans 500000] [--repeat 7]` from the project root. It
builds a fresh SQLite file by the migrations in a temporary folder (nothing of instance/ is touched), creates
the cooperative, product, batch and run through the services, then fills the stamps, scans and per-stamp
phones with INSERT … SELECT (as a season of scanning would leave them: scans spread over the last 120 days, on
the first 60 % of the serials, up to four phones a stamp), signs a member in through the sign-in form and
prints the median time of each page through the Flask test client, and its ratio to the dashboard.

Measured on the 2-core development machine while other test suites ran on it (load average 8–16), so the
absolute times are several times what an idle machine gives; the ratios are the figure to compare. Before the
per-day counts (migration 0023), 2026-11-30:

    page                         median ms  × dashboard
    dashboard                         39.8          1.0
    product stats (30 days)         1572.7         39.6
    run stats (30 days)             1261.3         31.7
    product stats (366 days)        2123.8         53.4
    run stats (366 days)            2228.1         56.0

What cost was one pass over the scope's stamps for their first scans (about 60 % of a page), the scans of the
range joined to their stamps, and two more passes for the stamp totals and the suspected copies. Since 0023 the
scans and first scans are read from scan_day_counts (kept by the scan log as it writes, a few rows per run and
day), the totals and copies from the (run, serial) key and partial indexes of blank, voided and copied stamps.
Two runs the same day (each row: first run / second run):

    page                         median ms        × dashboard
    dashboard                    36.0 / 44.7      1.0 / 1.0
    product stats (30 days)     116.5 / 106.5     3.2 / 2.4
    run stats (30 days)         156.2 / 142.9     4.3 / 3.2
    product stats (366 days)    200.7 / 144.4     5.6 / 3.2
    run stats (366 days)        207.0 / 154.8     5.8 / 3.5

What remains is the same with 2,000 stamps as with 200,000: the SQL of a 366-day run page is about 28 ms (most of
it the count of the run's 200,000 stamps from the index), the rest is drawing four charts of up to 366 bars.
Before 0020 (scans indexed by day and stamp) the 30-day run page took 258× the dashboard.
"""
import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--stamps", type=int, default=200_000)
parser.add_argument("--scans", type=int, default=500_000)
parser.add_argument("--repeat", type=int, default=7)
args = parser.parse_args()

folder = Path(tempfile.mkdtemp(prefix="bench-coop-stats-"))
os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
os.environ["INSTANCE_PATH"] = str(folder)

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.i18n import local_today  # noqa: E402
from app.models import Role, RunStatus  # noqa: E402
from app.models.scan_counts import block_size  # noqa: E402
from app.services import accounts, batches, cooperatives, label_runs, products  # noqa: E402

PASSWORD = "bench-password-1"

# Serials 1..n, in SQLite, without a table of numbers.
SERIALS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"


def fill(run_id: int, batch_id: int, stamps: int, scans: int) -> None:
    """Stamps, scans and phones of the run, written as SQL aggregates: no ORM object per row."""
    db.session.execute(text(f"""{SERIALS}
        INSERT INTO stamps (run_id, serial, code_hash, batch_id, activated_at)
        SELECT :run, i, randomblob(16), :batch, CURRENT_TIMESTAMP FROM n"""), {"count": stamps, "run": run_id, "batch": batch_id})
    first_id = db.session.execute(text("SELECT min(id) FROM stamps WHERE run_id = :run"), {"run": run_id}).scalar()
    today = local_today().isoformat()
    db.session.execute(text(f"""{SERIALS}, picked AS (
            SELECT :first + abs(random()) % :reached AS stamp_id, date(:today, '-' || (abs(random()) % 120) || ' days') AS day,
                   abs(random()) % 4 AS phone FROM n)
        INSERT INTO scans (stamp_id, scanned_at, day, device_class, device_hash)
        SELECT stamp_id, day || ' 03:00:00.000000', day, 'android', CAST(printf('%016d', stamp_id * 4 + phone) AS BLOB) FROM picked"""),
        {"count": scans, "first": first_id, "reached": stamps * 6 // 10, "today": today})
    db.session.execute(text("""
        INSERT INTO scan_devices (stamp_id, device_hash, first_day, scans)
        SELECT stamp_id, device_hash, min(day), count(*) FROM scans GROUP BY stamp_id, device_hash"""))
    # The per-day counts the scan log keeps as it writes (scan_day_counts), as migration 0023 builds them from scans.
    db.session.execute(text("INSERT INTO stamp_first_scans (stamp_id, day) SELECT stamp_id, min(first_day) FROM scan_devices GROUP BY stamp_id"))
    db.session.execute(text("""
        INSERT INTO scan_day_counts (run_id, day, batch_id, block, scans, first_scans)
        SELECT :run, day, :batch, block, sum(scans), sum(firsts) FROM (
            SELECT x.day, (s.serial - 1) / :size AS block, count(*) AS scans, 0 AS firsts
            FROM scans x JOIN stamps s ON s.id = x.stamp_id GROUP BY x.day, (s.serial - 1) / :size
            UNION ALL
            SELECT f.day, (s.serial - 1) / :size, 0, count(*)
            FROM stamp_first_scans f JOIN stamps s ON s.id = f.stamp_id GROUP BY f.day, (s.serial - 1) / :size
        ) counted GROUP BY day, block"""), {"run": run_id, "batch": batch_id, "size": block_size(stamps)})
    db.session.execute(text("UPDATE stamps SET copy_suspected_at = CURRENT_TIMESTAMP WHERE run_id = :run AND serial % 4000 = 7"),
                       {"run": run_id})
    db.session.execute(text("UPDATE label_runs SET status = :done, progress = 100 WHERE id = :run"),
                       {"done": RunStatus.DONE.name, "run": run_id})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def median_ms(client, path: str) -> float:
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return statistics.median(times)


app = create_app()
app.config["MAX_RUN_STAMPS"] = max(app.config["MAX_RUN_STAMPS"], args.stamps)  # one run of them all, as asked
with app.app_context():
    upgrade()
    coop = cooperatives.create_cooperative({"name": "HTX Bench", "registration_no": "BENCH-1", "commune_code": 7582}, None)
    accounts.create_user(name="Thành viên", login="bench@htx.vn", password=PASSWORD, role=Role.MEMBER, cooperative_id=coop.id)
    product = products.create_product(coop.id, {"name": "Vải thiều Lục Ngạn", "category": "fruit"}, None)
    batch = batches.create_batch(coop.id, product.id, {"lot_code": "VT-BENCH-1"}, None)
    run, _ = label_runs.create_run(coop.id, product_id=product.id, batch_id=batch.id, count=args.stamps, template="a4-65",
                                   options={}, request_token="bench", actor_id=None)
    start = time.perf_counter()
    fill(run.id, batch.id, args.stamps, args.scans)
    print(f"filled {args.stamps:,} stamps and {args.scans:,} scans in {time.perf_counter() - start:.1f} s ({folder})")
    product_id, run_id = product.id, run.id

client = app.test_client()
token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get("/sign-in").get_data(as_text=True)).group(1)
assert client.post("/sign-in", data={"csrf_token": token, "login": "bench@htx.vn", "password": PASSWORD}).status_code == 302

pages = {
    "dashboard": "/coop/",
    "product stats (30 days)": f"/coop/products/{product_id}/scans",
    "run stats (30 days)": f"/coop/runs/{run_id}/scans",
}
with app.app_context():
    last = local_today()
pages["product stats (366 days)"] = f"/coop/products/{product_id}/scans?from={last.replace(year=last.year - 1).isoformat()}&to={last.isoformat()}"
pages["run stats (366 days)"] = f"/coop/runs/{run_id}/scans?from={last.replace(year=last.year - 1).isoformat()}&to={last.isoformat()}"
for path in pages.values():
    client.get(path)  # warm: templates compiled, SQLite pages cached
dashboard = median_ms(client, pages["dashboard"])
print(f"{'page':<28}{'median ms':>10}{'× dashboard':>13}")
for name, path in pages.items():
    ms = dashboard if name == "dashboard" else median_ms(client, path)
    print(f"{name:<28}{ms:>10.1f}{ms / dashboard:>13.1f}")
