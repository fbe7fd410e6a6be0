"""A whole province on PostgreSQL, measured: 1,000 cooperatives, 5,000 products, 20,000 batches, 10,000,000 stamps and
2,000,000 scans, against baselines run in the same script.

Run as `python -m bench.province` from the project root (bench/labels.py would shadow the labels package).

    python -m bench.province                         # a throwaway PostgreSQL cluster, removed at the end
    python -m bench.province --data-dir /srv/prov --keep   # keep the cluster (and its URL) to measure again
    python -m bench.province --database-url postgresql+psycopg://postgres@127.0.0.1:55432/province
    python -m bench.province --scale 0.01            # a quick check: everything a hundred times smaller

The database is migrated empty by the migrations, then every table is filled with COPY (psycopg 3), not the ORM:
cooperatives spread over the communes of tỉnh Bắc Ninh, five products each, four batches a product, one run of
stamps printed for each batch, codes derived as the app derives them (codes.derive_code under STAMP_KEY) so that
scanning works. Cooperative 1 is the largest: 200,000 stamps (four runs of 40,000 for its lychee, sixteen of
2,500) and 500,000 scans on the first 60 % of each run's serials over the last 120 days, up to four phones a stamp,
as bench/coop_stats.py fills them; the other 1,500,000 scans fall on the other cooperatives' stamps over the same
days. The per-stamp phones (scan_devices) and the per-day counts (scan_day_counts, stamp_first_scans) are built
from the scans by SQL, as migration 0023 builds them; then ANALYZE. A member of cooperative 1 signs in.
A database that already holds the province is measured again without being rebuilt. A second database on the
same server (`<name>_small`) holds the same shape with 10,000 stamps: the baseline of the size comparisons.

Measured:
1. The scan page under gunicorn (gunicorn.conf.py, as bench/scan_load.sh) with wrk (2 threads, 16 connections,
   bench/scan_load.lua) on 10,000 random valid codes of all the stamps, against bench/hello.py under the same
   gunicorn (goal ≥ 0.6×, p99 < 100 ms) and against the same page on the 10,000-stamp database (goal within 15 %).
2. Cooperative 1's pages through a real gunicorn, signed in through the form (urllib with a cookie jar and the
   CSRF token): median and p95 of --repeat requests each (goal p95 < 300 ms), and each page's ratio to the same
   page on the small database.
3. The slowest statements of those pages, in process, with EXPLAIN ANALYZE (written to explain.txt in the work
   folder), and the size of each table (pg_total_relation_size) per million stamps and per million scans.

Measured 2026-11-30 on the 2-core development machine while test suites ran on it (load
average 8–12), so absolute times move with the load; the ratios within a run are the figures. Building the province
took 21 minutes (stamps 916 s: deriving 10 million codes in Python; scans 88 s; phones and counts 236 s). Run 1 is
before the partial indexes of migration 0023 and the printed count from the runs; runs 2 and 3 after.

    scan page (wrk -t2 -c16, 20 s)            run 1           run 2           run 3
    hello-world req/s                          1,598           2,237           1,386
    10 M stamps, codes over ~20,000 lots    33 (p99 1.36 s)  59 (0.67 s)     15 (1.80 s)
    10 M stamps, one coop's 20 lots              —          184 (1.18 s)     86 (1.20 s)
    10,000 stamps (20 lots)                 109 (0.93 s)    223 (0.66 s)    126 (1.55 s)
    scan ÷ hello-world (goal ≥ 0.6)             0.02            0.03            0.01
    20 lots: 10 M ÷ 10 k (goal ±15 %)             —             0.83            0.68

    cooperative 1 (200,000 stamps), median · p95 ms       run 1          run 2          run 3
    dashboard                                          141 · 176       84 · 120      187 · 232
    runs                                               142 · 231       84 · 143      207 · 379
    product page                                        47 · 63        39 · 215       69 · 122
    batch page                                          78 · 351       63 · 349       62 · 500
    run page                                           125 · 210       84 · 149       82 · 187
    product scans 30 days                              448 · 497      159 · 190      173 · 469
    product scans 366 days                             456 · 1110     236 · 622      232 · 713
    run scans 30 days                                  221 · 319      140 · 187      112 · 159
    run scans 366 days                                 171 · 682      305 · 905      232 · 673
    notices · reports · audit (median)               10 · 17 · 26   26 · 25 · 43   36 · 32 · 35

    size (pg_total_relation_size): stamps 174 MB per million stamps; per million scans: scans 180 MB,
    scan_devices 112 MB, stamp_first_scans 53 MB, scan_day_counts 66 MB.

Run 4, after the scan page's lookups moved to a pool of autocommit connections (one round trip a scan instead of
three): hello-world 2,818 req/s; 10 M stamps over ~20,000 lots 49 (p99 1.04 s); one cooperative's 20 lots 1,173
(p99 124 ms, 0.42×); the 10,000-stamp twin 655 (p99 503 ms), and 1,612 (p99 122 ms) after VACUUM ANALYZE of that
twin, which the earlier runs had filled with dead rows (hello-world 4,105 in that run: 0.39×; 20 lots 1,155, 0.28×).

The scan page misses its goals on PostgreSQL: a scan of a lot not yet rendered by the worker runs 13 statements,
and even a cached page needs the database once per scan, on the same two cores; see docs/capacity.md,
which works these figures into what a province needs.
"""
import argparse
import bisect
import hashlib
import http.cookiejar
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP_KEY = "bench-province-stamp-key"
PASSWORD = "bench-password-1"
MEMBER = "thanhvien@hongxuan.vn"
BIG_LOTS_PER_RUN = 40_000  # the largest cooperative's lychee runs (as Mật ong Phồn Nhi's 40,000 stamps)
BIG_STAMPS, BIG_SCANS, TOTAL_SCANS = 200_000, 500_000, 2_000_000
SEASON_DAYS = 120

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--database-url", help="postgresql+psycopg://… (else a throwaway cluster)")
parser.add_argument("--data-dir", help="where the throwaway cluster lives (default: a temporary folder)")
parser.add_argument("--keep", action="store_true", help="leave the throwaway cluster running at the end")
parser.add_argument("--scale", type=float, default=1.0, help="0.01: everything a hundred times smaller")
parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per measurement")
parser.add_argument("--repeat", type=int, default=30, help="timed requests per cooperative page")
parser.add_argument("--skip-scan-load", action="store_true")
args = parser.parse_args()

WORK = Path(tempfile.mkdtemp(prefix="bench-province-"))
os.environ.update(INSTANCE_PATH=str(WORK), STAMP_KEY=STAMP_KEY, SECRET_KEY="p" * 40, ACCESS_LOG="")
os.environ.pop("DATABASE_URL", None)

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.config import config_from_env  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Role  # noqa: E402
from app.models.scan_counts import BLOCK_SIZES, MAX_BLOCKS  # noqa: E402
from app.services import accounts, codes  # noqa: E402


# ---------------------------------------------------------------- the province's shape

def vietnam_today() -> date:
    """Today in Vietnam, the day scans are counted on (the app's BABEL_DEFAULT_TIMEZONE)."""
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


@dataclass(frozen=True)
class Run:
    id: int
    cooperative_id: int
    product_id: int
    batch_id: int
    count: int
    first_stamp_id: int


@dataclass
class Province:
    """Ids are given, not generated: cooperative c has products 5(c-1)+1…5c, product p batches 4(p-1)+1…4p, and
    batch b is printed by run b."""
    cooperatives: int
    stamps: int
    scans: int
    big_stamps: int
    big_scans: int
    runs: list[Run] = field(default_factory=list)

    PRODUCTS_PER_COOP = 5
    BATCHES_PER_PRODUCT = 4

    @classmethod
    def scaled(cls, scale: float) -> "Province":
        cooperatives, stamps = max(1, round(1_000 * scale)), max(100, round(10_000_000 * scale))
        big_stamps = stamps if cooperatives == 1 else max(20, round(BIG_STAMPS * scale))  # alone, it holds them all
        scans = max(10, round(TOTAL_SCANS * scale))
        return cls(cooperatives, stamps, scans, big_stamps, scans if cooperatives == 1 else max(5, round(BIG_SCANS * scale)))

    @property
    def products(self) -> int:
        return self.cooperatives * self.PRODUCTS_PER_COOP

    @property
    def batches(self) -> int:
        return self.products * self.BATCHES_PER_PRODUCT

    def lay_out_runs(self) -> None:
        """One run a batch. Cooperative 1 (20 batches): its first product's four runs hold 80 % of its stamps, the
        other sixteen the rest; every other run an equal share of the remaining stamps."""
        per_coop = self.PRODUCTS_PER_COOP * self.BATCHES_PER_PRODUCT
        big_runs = [self.big_stamps * 8 // 10 // 4] * 4 + [self.big_stamps * 2 // 10 // 16] * 16
        big_runs[0] += self.big_stamps - sum(big_runs)
        others = self.batches - per_coop
        rest = self.stamps - self.big_stamps
        counts = big_runs + [rest // others + (1 if i < rest % others else 0) for i in range(others)] if others else big_runs
        next_id = 1
        for batch_id, count in enumerate(counts, start=1):
            product_id = (batch_id - 1) // self.BATCHES_PER_PRODUCT + 1
            coop_id = (product_id - 1) // self.PRODUCTS_PER_COOP + 1
            self.runs.append(Run(batch_id, coop_id, product_id, batch_id, count, next_id))
            next_id += count


# ---------------------------------------------------------------- PostgreSQL

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL server (as .ci/run starts one): initdb as `postgres` when run as root, fsync off, a
    random port on the loopback address, its socket in its own folder."""

    def __init__(self, data_dir: str | None):
        self.bin = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1])
        self.dir = Path(data_dir or tempfile.mkdtemp(prefix="bench-province-pg-"))
        self.port = free_port()

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        fresh = not (self.dir / "PG_VERSION").exists()
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        if fresh:
            self._as_postgres(str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres")
        options = (f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c shared_buffers=512MB -c maintenance_work_mem=512MB -c max_wal_size=8GB -c max_connections=200")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-l", str(self.dir / "server.log"), "-o", options,
                          "-w", "-t", "120", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/province"

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-m", "fast", "stop")


def libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq(make_url(url).set(database="postgres").render_as_string(hide_password=False)), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def app_on(url: str):
    config = type("ProvinceConfig", (config_from_env(),), {"SQLALCHEMY_DATABASE_URI": url})
    return create_app(config)


# ---------------------------------------------------------------- building

def copy_rows(conn, table: str, columns: tuple[str, ...], lines) -> None:
    """COPY text lines (tab-separated, \\N for NULL) into a table, in chunks of a few megabytes."""
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= 50_000:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))


def stamp_lines(province: Province, moment: str):
    key = STAMP_KEY.encode()
    for run in province.runs:
        for serial in range(1, run.count + 1):
            code_hash = hashlib.sha256(codes.derive_code(key, run.id, serial).encode("ascii")).digest()[:16]
            yield f"{run.first_stamp_id + serial - 1}\t{run.id}\t{serial}\t\\\\x{code_hash.hex()}\t{run.batch_id}\t{moment}\n"


def scan_lines(province: Province, today, rng: random.Random):
    """The largest cooperative's scans on the first 60 % of each of its runs, the others' on any of their stamps; each
    on one of the last SEASON_DAYS days, by one of four phones of the stamp."""
    big = [run for run in province.runs if run.cooperative_id == 1]
    others = [run for run in province.runs if run.cooperative_id != 1]
    big_reached = [(run.first_stamp_id, max(1, run.count * 6 // 10)) for run in big]
    big_weights = [reach for _, reach in big_reached]
    other_first = others[0].first_stamp_id if others else None
    other_total = province.stamps - province.big_stamps
    scan_id = 0
    for n in range(province.scans):
        if n < province.big_scans or not other_total:
            first, reach = rng.choices(big_reached, big_weights)[0]
            stamp_id = first + rng.randrange(reach)
        else:
            stamp_id = other_first + rng.randrange(other_total)
        day = today - timedelta(days=rng.randrange(SEASON_DAYS))
        phone = (stamp_id * 4 + rng.randrange(4)).to_bytes(16, "big").hex()
        scan_id += 1
        yield f"{scan_id}\t{stamp_id}\t{day.isoformat()} 03:00:00\t{day.isoformat()}\tandroid\t\\\\x{phone}\n"


def block_size_sql(count: str) -> str:
    return "CASE " + " ".join(f"WHEN {count} <= {size * MAX_BLOCKS} THEN {size}" for size in BLOCK_SIZES) + f" ELSE {BLOCK_SIZES[-1]} END"


def build(url: str, province: Province) -> None:
    """Migrate the empty database, COPY the province in, derive the per-stamp phones and per-day counts, ANALYZE."""
    ensure_database(url)
    app = app_on(url)
    with app.app_context():
        upgrade()
        db.session.remove()
        communes = db.session.execute(text(
            "SELECT c.code FROM communes c JOIN provinces p ON p.code = c.province_code WHERE p.name LIKE '%Bắc Ninh' ORDER BY c.code"
        )).scalars().all()
        db.session.remove()
    communes.remove(7582)
    communes.insert(0, 7582)  # cooperative 1 in Xã Lục Ngạn
    now = datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")
    today = vietnam_today()
    province.lay_out_runs()
    timings = {}
    with psycopg.connect(libpq(url)) as conn:
        started = time.perf_counter()
        copy_rows(conn, "cooperatives", ("id", "name", "registration_no", "commune_code", "address_line", "phone", "email",
                                         "representative", "description", "created_at", "updated_at"),
                  (f"{c}\tHợp tác xã {c}\tHTX-{c:05d}\t{communes[(c - 1) % len(communes)]}\tThôn {c}\t\t\t\t\t{now}\t{now}\n"
                   for c in range(1, province.cooperatives + 1)))
        names = ("Vải thiều Lục Ngạn", "Cam lòng vàng", "Bưởi da xanh", "Mật ong", "Nhãn lồng")
        copy_rows(conn, "products", ("id", "cooperative_id", "name", "category", "ocop_certificate_no", "growing_area_code",
                                     "description", "is_archived", "created_at", "updated_at"),
                  (f"{p}\t{(p - 1) // 5 + 1}\t{names[(p - 1) % 5]}\tfruit\t\t\t\tf\t{now}\t{now}\n" for p in range(1, province.products + 1)))
        copy_rows(conn, "batches", ("id", "product_id", "lot_code", "harvest_date", "packing_date", "unit", "growing_area", "notes",
                                    "status", "recall_reason", "created_at", "updated_at"),
                  (f"{b}\t{(b - 1) // 4 + 1}\tLO-{b:06d}\t{today - timedelta(days=30)}\t{today - timedelta(days=29)}\tkg\t\t\tACTIVE\t\t{now}\t{now}\n"
                   for b in range(1, province.batches + 1)))
        copy_rows(conn, "label_runs", ("id", "cooperative_id", "product_id", "batch_id", "count", "template", "options",
                                       "request_token", "status", "progress", "error", "void_reason", "finished_at", "created_at", "updated_at"),
                  (f"{r.id}\t{r.cooperative_id}\t{r.product_id}\t{r.batch_id}\t{r.count}\ta4-65\t{{}}\tprovince-{r.id}\tDONE\t100\t\t\t{now}\t{now}\t{now}\n"
                   for r in province.runs))
        conn.commit()
        timings["reference rows"] = time.perf_counter() - started
        started = time.perf_counter()
        copy_rows(conn, "stamps", ("id", "run_id", "serial", "code_hash", "batch_id", "activated_at"), stamp_lines(province, now))
        conn.commit()
        timings["stamps"] = time.perf_counter() - started
        started = time.perf_counter()
        copy_rows(conn, "scans", ("id", "stamp_id", "scanned_at", "day", "device_class", "device_hash"),
                  scan_lines(province, today, random.Random(42)))
        conn.commit()
        timings["scans"] = time.perf_counter() - started
        started = time.perf_counter()
        for table in ("cooperatives", "products", "batches", "label_runs", "stamps", "scans"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("INSERT INTO scan_devices (stamp_id, device_hash, first_day, scans) "
                     "SELECT stamp_id, device_hash, min(day), count(*) FROM scans GROUP BY stamp_id, device_hash")
        conn.execute("INSERT INTO stamp_first_scans (stamp_id, day) SELECT stamp_id, min(first_day) FROM scan_devices GROUP BY stamp_id")
        size = block_size_sql("r.count")
        conn.execute(f"""
            INSERT INTO scan_day_counts (run_id, day, batch_id, block, scans, first_scans)
            SELECT run_id, day, batch_id, block, sum(scans), sum(first_scans) FROM (
                SELECT s.run_id, x.day, coalesce(s.batch_id, 0) AS batch_id, (s.serial - 1) / ({size}) AS block,
                       count(*) AS scans, 0 AS first_scans
                FROM scans x JOIN stamps s ON s.id = x.stamp_id JOIN label_runs r ON r.id = s.run_id
                GROUP BY 1, 2, 3, 4
                UNION ALL
                SELECT s.run_id, f.day, coalesce(s.batch_id, 0), (s.serial - 1) / ({size}), 0, count(*)
                FROM stamp_first_scans f JOIN stamps s ON s.id = f.stamp_id JOIN label_runs r ON r.id = s.run_id
                GROUP BY 1, 2, 3, 4
            ) counted GROUP BY run_id, day, batch_id, block""")
        conn.execute("UPDATE stamps SET copy_suspected_at = now() WHERE run_id IN (SELECT id FROM label_runs WHERE cooperative_id = 1) "
                     "AND serial % 4000 = 7")
        conn.commit()
        timings["phones and counts"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - started
    with app.app_context():
        accounts.create_user(name="Trần Thị Lan", login=MEMBER, password=PASSWORD, role=Role.MEMBER, cooperative_id=1)
        db.session.remove()
        db.engine.dispose()
    print(f"built {make_url(url).database}: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()), flush=True)


def is_built(url: str) -> bool:
    ensure_database(url)
    with psycopg.connect(libpq(url)) as conn:
        if not conn.execute("SELECT to_regclass('stamps')").fetchone()[0]:
            return False
        return conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE login = %s)", (MEMBER,)).fetchone()[0]


def province_facts(url: str) -> Province:
    """The province a built database holds (its runs read back)."""
    with psycopg.connect(libpq(url)) as conn:
        coops, stamps, scans = conn.execute(
            "SELECT (SELECT count(*) FROM cooperatives), (SELECT count(*) FROM stamps), (SELECT count(*) FROM scans)").fetchone()
        rows = conn.execute("SELECT r.id, r.cooperative_id, r.product_id, r.batch_id, r.count, min(s.id) FROM label_runs r "
                            "JOIN stamps s ON s.run_id = r.id AND s.serial = 1 GROUP BY r.id ORDER BY r.id").fetchall()
    big = sum(count for _, coop, _, _, count, _ in rows if coop == 1)
    province = Province(coops, stamps, scans, big, 0)
    province.runs = [Run(*row) for row in rows]
    return province


def write_codes(province: Province, path: Path, how_many: int = 10_000, cooperative_id: int | None = None) -> None:
    """Scan paths of random stamps among all of them (a stamp drawn uniformly, then its run and serial), or among one
    cooperative's (its runs hold consecutive stamp ids)."""
    rng, key = random.Random(7), STAMP_KEY.encode()
    starts = [run.first_stamp_id for run in province.runs]
    chosen = [run for run in province.runs if cooperative_id in (None, run.cooperative_id)]
    low, high = chosen[0].first_stamp_id, chosen[-1].first_stamp_id + chosen[-1].count
    with path.open("w") as out:
        for _ in range(how_many):
            stamp_id = rng.randrange(low, high)
            run = province.runs[bisect.bisect_right(starts, stamp_id) - 1]
            out.write(f"/Q/{codes.derive_code(key, run.id, stamp_id - run.first_stamp_id + 1)}\n")


# ---------------------------------------------------------------- measuring

class Server:
    """gunicorn with the shipped gunicorn.conf.py on a free loopback port, configured through the environment."""

    def __init__(self, app_spec: str, url: str | None):
        self.port = free_port()
        env = {**os.environ, "BIND": f"127.0.0.1:{self.port}", "PYTHONPATH": str(ROOT), "ACCESS_LOG": ""}
        if url:
            env["DATABASE_URL"] = url
        self.log = open(WORK / f"gunicorn-{self.port}.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app_spec], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start: {WORK / self.log.name}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p99_ms: float
    errors: str


def wrk(base: str, paths: Path | None) -> Load:
    command = ["wrk", "-t2", "-c16", f"-d{args.duration}s", "--latency"]
    if paths:
        command += ["-s", str(ROOT / "bench" / "scan_load.lua")]
    out = subprocess.run([*command, base + ("" if paths else "/")], capture_output=True, text=True, check=True,
                         env={**os.environ, "PATHS": str(paths or "")}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = "; ".join(line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line)
    return Load(rps, p99, errors or "no errors")


def signed_in(base: str) -> urllib.request.OpenerDirector:
    """A cookie jar signed in as the largest cooperative's member through the sign-in form and its CSRF token."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(base + "/sign-in").read().decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "login": MEMBER, "password": PASSWORD}).encode()
    answer = opener.open(base + "/sign-in", data)
    assert "/sign-in" not in answer.geturl(), "sign-in failed"
    return opener


def coop_pages(province: Province) -> dict[str, str]:
    big = [run for run in province.runs if run.cooperative_id == 1]
    lychee = big[0]
    last = vietnam_today()
    year = f"from={(last - timedelta(days=365)).isoformat()}&to={last.isoformat()}"
    return {
        "dashboard /coop/": "/coop/",
        "runs": "/coop/runs",
        "product page": f"/coop/products/{lychee.product_id}",
        "batch page": f"/coop/batches/{lychee.batch_id}",
        "run page": f"/coop/runs/{lychee.id}",
        "product scans 30 days": f"/coop/products/{lychee.product_id}/scans",
        "product scans 366 days": f"/coop/products/{lychee.product_id}/scans?{year}",
        "run scans 30 days": f"/coop/runs/{lychee.id}/scans",
        "run scans 366 days": f"/coop/runs/{lychee.id}/scans?{year}",
        "notices": "/coop/notices",
        "reports": "/coop/reports",
        "audit": "/coop/audit",
    }


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p95_ms: float


def time_page(opener, url: str) -> Timing:
    for _ in range(2):
        opener.open(url).read()  # warm: templates compiled, pages of the tables cached
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        answer = opener.open(url)
        answer.read()
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status == 200, (url, answer.status)
    return Timing(statistics.median(times), statistics.quantiles(times, n=20)[18])


def measure_pages(url: str, province: Province) -> dict[str, Timing]:
    with Server("wsgi:app", url) as server:
        opener = signed_in(server.base)
        return {name: time_page(opener, server.base + path) for name, path in coop_pages(province).items()}


def explain_slowest(url: str, province: Province, out: Path, threshold_ms: float = 20.0) -> list[str]:
    """Each page once in process, every statement timed; those over the threshold explained (ANALYZE, BUFFERS)."""
    app = app_on(url)
    found: list[tuple[float, str, str, object]] = []
    page = {"name": ""}

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def started(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("started", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def finished(conn, cursor, statement, parameters, context, executemany):
            ms = (time.perf_counter() - conn.info["started"].pop()) * 1000
            if ms > threshold_ms and not statement.lstrip().upper().startswith("EXPLAIN"):
                found.append((ms, page["name"], statement, parameters))

    client = app.test_client()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get("/sign-in").get_data(as_text=True)).group(1)
    client.post("/sign-in", data={"csrf_token": token, "login": MEMBER, "password": PASSWORD})
    for name, path in coop_pages(province).items():
        client.get(path)  # warm
        page["name"] = name
        client.get(path)
        page["name"] = ""
    lines = []
    with open(out, "w") as report, psycopg.connect(libpq(url)) as conn:
        for ms, name, statement, parameters in sorted(found, reverse=True)[:12]:
            if not name:
                continue
            lines.append(f"{ms:8.1f} ms  {name}: {' '.join(statement.split())[:160]}")
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
            report.write(f"-- {name}: {ms:.1f} ms\n{statement}\n{parameters}\n" + "\n".join(row[0] for row in plan) + "\n\n")
            conn.rollback()
    return lines


TABLES = ("stamps", "scans", "scan_devices", "stamp_first_scans", "scan_day_counts", "label_runs", "batches", "products",
          "cooperatives")


def table_sizes(url: str) -> dict[str, int]:
    with psycopg.connect(libpq(url)) as conn:
        return {name: conn.execute("SELECT pg_total_relation_size(%s)", (name,)).fetchone()[0] for name in TABLES}


# ---------------------------------------------------------------- the run

def main() -> None:
    cluster = None
    url = args.database_url
    if not url:
        cluster = Cluster(args.data_dir)
        url = cluster.start()
    small_url = make_url(url).set(database=make_url(url).database + "_small").render_as_string(hide_password=False)
    print(f"province database: {url}\nsmall database:    {small_url}\nwork folder:       {WORK}", flush=True)
    try:
        for target, province in ((url, Province.scaled(args.scale)), (small_url, Province.scaled(10_000 / 10_000_000))):
            if is_built(target):
                print(f"{make_url(target).database}: already built, measured as it is", flush=True)
            else:
                build(target, province)
        big, small = province_facts(url), province_facts(small_url)
        print(f"province: {big.cooperatives:,} cooperatives, {len(big.runs):,} runs, {big.stamps:,} stamps, {big.scans:,} scans; "
              f"cooperative 1: {big.big_stamps:,} stamps.  small: {small.stamps:,} stamps, {small.scans:,} scans", flush=True)

        if not args.skip_scan_load:
            write_codes(big, WORK / "codes-province.txt")
            write_codes(small, WORK / "codes-small.txt")
            with Server("bench.hello:app", None) as server:
                hello = wrk(server.base, None)
            with Server("wsgi:app", url) as server:
                province_load = wrk(server.base, WORK / "codes-province.txt")
            write_codes(big, WORK / "codes-season.txt", cooperative_id=1)
            with Server("wsgi:app", url) as server:
                season_load = wrk(server.base, WORK / "codes-season.txt")
            with Server("wsgi:app", small_url) as server:
                small_load = wrk(server.base, WORK / "codes-small.txt")
            print(f"\n{'scan page (wrk -t2 -c16, ' + str(args.duration) + ' s)':<40}{'req/s':>9}{'p99 ms':>9}")
            for name, load in (("hello-world", hello), (f"scan page, {big.stamps:,} stamps", province_load),
                               (f"scan page, {big.stamps:,}, one coop's 20 lots", season_load),
                               (f"scan page, {small.stamps:,} stamps", small_load)):
                print(f"{name:<40}{load.requests_per_second:>9.0f}{load.p99_ms:>9.1f}   {load.errors}")
            print(f"scan / hello-world: {province_load.requests_per_second / hello.requests_per_second:.2f} (goal ≥ 0.6);  "
                  f"province / small database: {province_load.requests_per_second / small_load.requests_per_second:.2f} "
                  f"(goal within ±15 %);  one cooperative's 20 lots at {big.stamps:,} stamps / small database (20 lots): "
                  f"{season_load.requests_per_second / small_load.requests_per_second:.2f}", flush=True)

        pages, small_pages = measure_pages(url, big), measure_pages(small_url, small)
        print(f"\n{'cooperative 1 page':<26}{'median ms':>10}{'p95 ms':>9}{'× small db':>11}   (p95 goal < 300 ms)")
        for name, timing in pages.items():
            print(f"{name:<26}{timing.median_ms:>10.1f}{timing.p95_ms:>9.1f}{timing.median_ms / small_pages[name].median_ms:>11.2f}")

        slow = explain_slowest(url, big, WORK / "explain.txt")
        print(f"\nstatements over 20 ms (plans in {WORK / 'explain.txt'}):")
        print("\n".join(slow) or "  none")

        sizes = table_sizes(url)
        print(f"\n{'table':<20}{'MB':>10}{'MB per 1M stamps':>18}{'MB per 1M scans':>17}")
        for name, size in sizes.items():
            per_stamps = size / 2**20 / (big.stamps / 1e6)
            per_scans = size / 2**20 / (big.scans / 1e6)
            print(f"{name:<20}{size / 2**20:>10.1f}{per_stamps:>18.1f}{per_scans:>17.1f}")
    finally:
        if cluster and not args.keep:
            cluster.stop()
            shutil.rmtree(cluster.dir, ignore_errors=True)
        elif cluster:
            print(f"\ncluster kept: {url}  (stop: runuser -u postgres -- {cluster.bin}/pg_ctl -D {cluster.dir} stop)")


if __name__ == "__main__":
    main()
