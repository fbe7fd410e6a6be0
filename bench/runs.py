"""Label runs through two workers: 20 runs of 40,000 stamps at once against one run alone.

    .venv/bin/python -m bench.runs [--count 40000] [--runs 20] [--setups production,embedded] [--pinning pinned,unpinned]

Two set-ups, each on a database and queue of its own, made for the measurement and thrown away:
- production: a throwaway PostgreSQL cluster (initdb, fsync=off, a random port) and a Redis broker
  (redis-server on a random port, no persistence);
- embedded: the default without servers, SQLite in the instance directory and kombu's SQLAlchemy transport
  (instance/jobs.db).

For each, the baseline is one run of --count stamps alone through one worker: t1, from the run's order to
its end as its row records them (queued_at, else created_at → finished_at). Then --runs runs of --count,
ordered at once by five cooperatives (four each, one cooperative after another, so the fair queue has work to
do), go through two workers: the makespan, from the first order to the last end. Goal: makespan ≤ 1.15 × (t1
× runs / 2). Every 0.2 s the script reads each worker's process tree (the worker process and its children:
Celery's pool, the QR encoding pool) from /proc/<pid>/status VmRSS, for the peak of the main process, of the
largest child and of their sum (goal: ≤ 200 MB), and polls the runs' rows, for when each was first seen
minting, rendering and done.

The machine has 2 cores, and the QR encoder starts one process per usable core: two unpinned workers would
each use both cores and compete. To model two worker MACHINES of one core each, "pinned" starts each worker
under `taskset -c 0` / `taskset -c 1`, where the encoder, sized by the process's CPU affinity, encodes in
the worker's own process; the baseline worker is pinned to core 0 the same way. "unpinned" is the same
measurement without taskset (each worker encodes on both cores), for comparison. The database server, the
broker and this script share the same two cores.

What limits the makespan is read from: the mint alone and the render alone of one run on one pinned core
(measured in this process once the workers have stopped), the workers' CPU seconds per run (utime + stime of the whole
tree), and the workers' busy share: Σ(first seen minting → done) / (2 × makespan); what is left is time a
worker spent idle between runs (the broker's delivery, the queue's claim).

Figures
-------
30 November 2026, this machine: 2 cores shared with other work (other test suites and benchmarks: load
average 4-8 during the runs, printed with each phase), 40,000 stamps a run, 20 runs, five cooperatives.

run 1 (`python -m bench.runs`)        t1      makespan  ideal t1×10  ratio   work/run  CPU s/run    peak worker tree
  PostgreSQL + Redis, pinned         21.6 s   189.4 s    216.3 s    0.88×    16.3 s   7.37 (7.54)  RSS 158 MB, no child
  PostgreSQL + Redis, unpinned       20.7 s   277.1 s    207.1 s    1.34×    27.4 s   8.18 (7.95)  RSS 160 + 141 child, sum 441
  SQLite + SQLAlchemy queue, pinned  10.5 s   147.6 s    104.6 s    1.41×    14.3 s   7.21 (6.90)  RSS 203 MB once, else ≤ 148
  SQLite + SQLAlchemy queue, unpin.  10.7 s   167.2 s    106.5 s    1.57×    15.9 s   7.70 (7.58)  RSS sum 416, PSS sum 254
run 2 (`--pinning pinned`)
  PostgreSQL + Redis, pinned          8.7 s   123.1 s     87.2 s    1.41×    11.9 s   7.06 (7.05)  RSS 158 MB, PSS 137 MB
  SQLite + SQLAlchemy queue, pinned   7.8 s   175.5 s     78.1 s    2.25×    12.7 s   7.15 (6.66)  RSS 203 MB once, else ≤ 147

(work/run: median of a run's first seen minting → done with two workers; CPU s/run: the workers' trees'
utime + stime per run with two workers, in brackets alone.)

What this says:
- The goal (≤ 1.15×) was met once (0.88×) and missed otherwise, and the same set-up gave 0.88× and 1.41×:
  on this machine the ratio follows the other work's load, not the queue. What does not move is the CPU a
  run costs: 7.05 CPU s alone and 7.06 with two workers (run 2; 7.54 and 7.37 in run 1). Two workers add
  no work per run; a run's wall time grows (8.3 s → 11.9 s in run 2) because, alone, the second core takes
  PostgreSQL's inserts, the broker, this script's polling and the neighbours' processes, and with two
  pinned workers nothing is left to take them. On two worker machines of their own, with the database
  elsewhere, the CPU figures predict ≈ 1.0×; this machine cannot show it.
- What limits the makespan is rendering CPU. One run on one core: render 6.4 s, mint 1.1 s (PostgreSQL;
  0.8 s SQLite), deriving codes 0.35 s (run 2). Minting runs in a thread beside rendering, in the same
  process, so on one core the two add up.
- The queue costs little: the workers were busy 96.0-98.9 % of 2 × makespan (a run's start seen within
  0.2 s), so at most 4 % of the time went to delivering and claiming messages. Alone, a run reaches its
  worker 0.2-0.9 s after it is ordered (this includes the rest of the ordering request after the row is
  written; Redis at the low end, the SQLite queue, polled by kombu, at the high end), and is claimed
  0.1-1.4 s later.
- Unpinned, two workers with a QR pool of two processes each compete for two cores: 1.34× and 1.57×. One
  worker per machine (or per core set, as pinned here) is the way to run them.
- On SQLite, two workers also wait for each other: a run's minting holds the one write lock for its whole
  transaction, and the other worker's progress reports and heartbeats wait behind it (work per run 9.5 s
  alone, 14.3 s with two in run 1; 6.7 s and 12.7 s, up to 30.8 s, in run 2, for the same CPU): 1.41× and
  2.25×. The embedded default is for one worker.
- Memory: a pinned worker peaks at 155-158 MB RSS (PostgreSQL) or 144-148 MB (SQLite), the QR encoding in
  its own process, within the 200 MB goal; on SQLite with two workers, one worker touched 203 MB for a
  moment in each run (PSS 183-185 MB), just over it. Unpinned, each QR pool child shows 116-141 MB RSS,
  but most of it is pages shared with the worker after fork: the tree's PSS is ≈ 254 MB against an RSS
  sum of 416 MB; over the goal either way. A worker grows 2-3 MB over its first runs, then creeps by about
  0.1 MB a run: 143.3, 145.1, … 146.3 MB as the 20 runs ended (SQLite, pinned, run 1); 155.4 → 157.9 MB
  (PostgreSQL, run 2). No leak run after run at this scale.
- Fair queue: with five cooperatives ordering four runs each at once, runs ended cooperative 1, 2, 1, 2,
  1, 2, 1, 2, then 3, 4 alternating, then 5, 5, 5, 5, in every measurement: a cooperative's runs that are
  done no longer count against it, so its next run ties with another cooperative's first and wins by
  queue time. The fifth cooperative's first run waited for sixteen others.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.2
COOPERATIVES = 5
RSS_GOAL_MB = 200
MAKESPAN_GOAL = 1.15
# The worker as production runs it (Procfile): one run at a time in the worker's own process (solo pool), whose QR
# encoding pool uses the cores it may.
WORKER_COMMAND = [sys.executable, "-m", "celery", "-A", "app.jobs.worker", "worker", "--pool", "solo", "--concurrency", "1",
                  "--loglevel", "INFO"]
DIRECT_WORKER_COMMAND = [sys.executable, "-m", "bench.runs", "--direct-worker"]


# ---------------------------------------------------------------- servers (the orchestrating process)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (as .ci/run starts one); yields the server's URL without a database."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    data = Path(tempfile.mkdtemp(prefix="ocop-bench-pg."))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([f"{pgbin}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True)
    options = f"-k {data} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    subprocess.run(_as_postgres([f"{pgbin}/pg_ctl", "-D", str(data), "-l", f"{data}/server.log", "-o", options, "-w", "-t", "120", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([f"{pgbin}/pg_ctl", "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    port = server_url.rsplit(":", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", name], check=True)
    return f"{server_url}/{name}"


@contextmanager
def redis_server() -> Iterator[str]:
    """redis-server on a random port, nothing written to disk; yields its URL (database 0, the broker's)."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


# ---------------------------------------------------------------- process trees

def _parent_pids() -> dict[int, int]:
    """Every process's parent, from /proc/<pid>/stat (the command name may hold spaces and parentheses)."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    parents[int(entry.name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass  # the process ended while we looked
    return parents


def descendants(pid: int, parents: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared with the parent after fork (the QR pool's) counted once in all."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (its own, not its reaped children's)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class TreeSample:
    main_mb: float
    largest_child_mb: float
    sum_mb: float  # RSS summed: pages a forked child shares with its parent count twice
    pss_sum_mb: float  # what the tree really occupies


def sample_tree(pid: int, parents: dict[int, int]) -> TreeSample:
    tree = [pid, *descendants(pid, parents)]
    children = [rss_mb(child) for child in tree[1:]]
    main = rss_mb(pid)
    return TreeSample(main, max(children, default=0.0), main + sum(children), sum(pss_mb(p) for p in tree))


# ---------------------------------------------------------------- workers (the scenario process)

@dataclass
class Worker:
    """A Celery worker process started for the measurement, with its log and its peaks."""

    name: str
    process: subprocess.Popen
    log: Path
    peak: TreeSample = field(default_factory=lambda: TreeSample(0, 0, 0, 0))
    cpu: dict[int, float] = field(default_factory=dict)  # last CPU seconds seen of each process of its tree
    cpu_at_ready: float = 0.0  # what starting took, left out of the CPU per run
    after_runs: list[float] = field(default_factory=list)  # the tree's RSS sum each time a run ended

    def sample(self, parents: dict[int, int]) -> TreeSample:
        now = sample_tree(self.process.pid, parents)
        self.peak = TreeSample(*(max(a, b) for a, b in zip(asdict(self.peak).values(), asdict(now).values())))
        for pid in [self.process.pid, *descendants(self.process.pid, parents)]:
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
        return now

    def is_ready(self) -> bool:
        return " ready." in self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL of its process group if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_worker(name: str, core: int | None, instance: Path, direct: bool) -> Worker:
    """A Celery worker; direct: instead, a process that renders the runs whose ids it reads on its input."""
    log = instance / f"{name}.log"
    command = DIRECT_WORKER_COMMAND if direct else [*WORKER_COMMAND, "-n", f"{name}@%h"]
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=os.environ, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.PIPE if direct else subprocess.DEVNULL, start_new_session=True)
    return Worker(name, process, log)


def direct_worker() -> None:
    """Mint and render, one after the other, the runs whose ids come on standard input: the in-process path
    with no broker, a reference for what the queue adds."""
    from app import create_app

    try:
        from app.services.run_processing import process
    except ImportError:
        from app.services.run_worker import process
    app = create_app()
    with app.app_context():
        print("direct worker ready.", flush=True)
        for line in sys.stdin:
            process(int(line))


def wait_ready(workers: list[Worker], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(w.is_ready() for w in workers):
        for w in workers:
            if w.process.poll() is not None:
                sys.exit(f"worker {w.name} ended:\n{w.log.read_text(errors='replace')[-4000:]}")
        if time.monotonic() > deadline:
            sys.exit("workers not ready: " + " | ".join(w.log.read_text(errors="replace")[-2000:] for w in workers))
        time.sleep(0.1)
    parents = _parent_pids()
    for w in workers:
        w.sample(parents)
        w.cpu_at_ready = sum(w.cpu.values())


@dataclass
class RunTimes:
    run_id: int
    cooperative_id: int
    queued: datetime  # as the row records it
    finished: datetime | None = None
    seen_minting: datetime | None = None
    seen_rendering: datetime | None = None
    status: str = ""
    error: str = ""
    task_id: str = ""  # the Celery task that claimed it


RECEIVED = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] Task \S+\[([0-9a-f-]+)\] received")


def received_times(workers: list[Worker]) -> dict[str, datetime]:
    """When each task's message reached a worker, from the workers' logs (local time → naive UTC, as rows keep)."""
    found = {}
    for w in workers:
        for line in w.log.read_text(errors="replace").splitlines():
            if match := RECEIVED.match(line):
                local = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").astimezone()
                found[match[2]] = local.astimezone(timezone.utc).replace(tzinfo=None)
    return found


def seed(count_coops: int) -> list[tuple[int, int, int]]:
    """Cooperatives, each with a product and a batch, built through the services: (coop, product, batch) ids."""
    from datetime import date

    from app.services import batches, cooperatives, products

    made = []
    for i in range(count_coops):
        coop = cooperatives.create_cooperative({"name": f"HTX đo tải {i + 1}", "registration_no": f"24019{i:05d}", "commune_code": 7582}, None)
        product = products.create_product(coop.id, {"name": f"Vải thiều {i + 1}", "category": "fruit", "ocop_stars": 4,
                                                    "ocop_certificate_no": f"OCOP-{i}", "ocop_issued_on": date(2024, 8, 15), "shelf_life_days": 14}, None)
        batch = batches.create_batch(coop.id, product.id, {"lot_code": f"VT-2026-11-{i + 1}", "harvest_date": date(2026, 11, 10),
                                                            "packing_date": date(2026, 11, 11)}, None)
        made.append((coop.id, product.id, batch.id))
    return made


def order_run(coop_id: int, product_id: int, batch_id: int, count: int, direct: bool) -> int:
    """Order a run as the batch page does: create it, then put it on the jobs queue (direct: not)."""
    from app.services import label_runs

    run, _ = label_runs.create_run(coop_id, product_id=product_id, batch_id=batch_id, count=count, template="a4-65",
                                   options={}, request_token=secrets.token_hex(16), actor_id=None)
    if not direct:
        from app.services import run_queue

        run_queue.announce(run.id)
    return run.id


def send_missing_messages(run_ids: list[int]) -> int:
    """Runs whose message did not reach the broker when they were ordered (run_queue.announce found it away)
    get one, as beat's requeue_stale_runs does every 30 s in production; how many there were."""
    from app.extensions import db
    from app.models import LabelRun
    from app.services import run_queue

    unsent = db.session.scalar(db.select(db.func.count()).where(LabelRun.id.in_(run_ids), LabelRun.sent_at.is_(None)))
    db.session.commit()
    if unsent:
        run_queue.requeue_stale_runs()
    return unsent


def hand_out(workers: list[Worker], run_ids: list[int]) -> None:
    """Direct workers: each takes every other run, in order (no queue, no fairness: a reference)."""
    for k, worker in enumerate(workers):
        worker.process.stdin.write("".join(f"{run_id}\n" for run_id in run_ids[k::len(workers)]).encode())
        worker.process.stdin.close()


def queued_at(run) -> datetime:
    return getattr(run, "queued_at", None) or run.created_at


def watch(run_ids: list[int], workers: list[Worker], timeout: float) -> dict[int, RunTimes]:
    """Poll the runs' rows and the workers' trees every SAMPLE_SECONDS until every run is done or failed."""
    from sqlalchemy.exc import OperationalError

    from app.extensions import db
    from app.models import LabelRun, RunStatus
    from app.models.mixins import utcnow

    times: dict[int, RunTimes] = {}
    deadline = time.monotonic() + timeout
    while True:
        parents = _parent_pids()
        samples = [w.sample(parents) for w in workers]
        now = utcnow()
        try:
            rows = list(db.session.scalars(db.select(LabelRun).where(LabelRun.id.in_(run_ids))))
        except OperationalError:  # SQLite: a minting transaction held the write lock past the busy timeout
            db.session.rollback()
            LOCKED_POLLS.append(now)
            continue
        for run in rows:
            seen = times.setdefault(run.id, RunTimes(run.id, run.cooperative_id, queued_at(run)))
            if run.status is RunStatus.MINTING and seen.seen_minting is None:
                seen.seen_minting = now
            if run.status is RunStatus.RENDERING and seen.seen_rendering is None:
                seen.seen_rendering = now
                seen.seen_minting = seen.seen_minting or now
            if run.status in (RunStatus.DONE, RunStatus.FAILED) and not seen.status:
                seen.status, seen.error, seen.finished = run.status.value, run.error, run.finished_at
                seen.task_id = getattr(run, "task_id", None) or ""
                seen.seen_minting = seen.seen_minting or now
                for worker, sample in zip(workers, samples):
                    worker.after_runs.append(round(sample.sum_mb, 1))
        db.session.rollback()  # a fresh snapshot next time
        if len(times) == len(run_ids) and all(t.status for t in times.values()):
            return times
        if time.monotonic() > deadline:
            sys.exit(f"runs not done after {timeout:.0f} s: {[(t.run_id, t.status) for t in times.values()]}")
        for w in workers:
            if w.process.poll() not in (None, 0):  # a direct worker ends, well, once its runs are done
                sys.exit(f"worker {w.name} failed:\n{w.log.read_text(errors='replace')[-4000:]}")
        time.sleep(SAMPLE_SECONDS)


LOCKED_POLLS: list[datetime] = []  # polls refused: the database stayed locked longer than its busy timeout


def seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def phase(label: str, workers: list[Worker], times: dict[int, RunTimes], load_before: float) -> dict:
    """The figures of one phase: its span, its runs' waits and work, the workers' peaks and CPU."""
    runs = sorted(times.values(), key=lambda t: t.run_id)
    failed = [t for t in runs if t.status != "done"]
    if failed:
        sys.exit(f"{label}: runs failed: {[(t.run_id, t.error[:300]) for t in failed]}")
    first, last = min(t.queued for t in runs), max(t.finished for t in runs)
    busy = sum(seconds(t.seen_minting, t.finished) for t in runs)
    span = seconds(first, last)
    received = received_times(workers)
    return {
        # the message's way: the order to the worker's receipt, then the receipt to the claimed run seen minting
        "to_worker_s": [round(seconds(t.queued, received[t.task_id]), 2) if t.task_id in received else None for t in runs],
        "claim_seen_s": [round(seconds(received[t.task_id], t.seen_minting), 2) if t.task_id in received else None for t in runs],
        "span_s": round(span, 2),
        "busy_share": round(busy / (len(workers) * span), 3),
        "work_s": [round(seconds(t.seen_minting, t.finished), 2) for t in runs],
        "mint_seen_s": [round(seconds(t.seen_minting, t.seen_rendering), 2) if t.seen_rendering else None for t in runs],
        "wait_s": [round(seconds(t.queued, t.seen_minting), 2) for t in runs],
        "done_order_coops": [t.cooperative_id for t in sorted(runs, key=lambda t: t.finished)],
        "locked_polls": len(LOCKED_POLLS),
        "cpu_s_per_run": round(sum(sum(w.cpu.values()) - w.cpu_at_ready for w in workers) / len(runs), 2),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],  # the machine's, before and after
        "workers": [{"name": w.name, "peak": asdict(w.peak), "rss_sum_after_each_run": w.after_runs} for w in workers],
    }


def mint_and_render_alone(made: list[tuple[int, int, int]], count: int, core: int | None) -> dict:
    """One run minted, then rendered, in this process (pinned like a worker): which of the two costs more."""
    from app.extensions import db
    from app.models import LabelRun
    from app.services import label_runs, minting, run_rendering

    before = os.sched_getaffinity(0)
    if core is not None:
        os.sched_setaffinity(0, {core})
    try:
        coop_id, product_id, batch_id = made[0]
        run, _ = label_runs.create_run(coop_id, product_id=product_id, batch_id=batch_id, count=count, template="a4-65",
                                       options={}, request_token=secrets.token_hex(16), actor_id=None)
        started = time.perf_counter()
        run_codes = minting.derive_codes(db.session.get(LabelRun, run.id))
        derived = time.perf_counter()
        minting.mint(run.id, run_codes)
        minted = time.perf_counter()
        tmp = run_rendering.write_pdf(run.id, None, run_codes)
        rendered = time.perf_counter()
        tmp.unlink()
        return {"derive_s": round(derived - started, 2), "mint_s": round(minted - derived, 2), "render_s": round(rendered - minted, 2)}
    finally:
        os.sched_setaffinity(0, before)


def scenario(count: int, runs: int, pinned: bool, direct: bool) -> dict:
    """Runs in a process of its own, whose environment names the database, instance and broker."""
    from flask_migrate import upgrade

    from app import create_app

    instance = Path(os.environ["INSTANCE_PATH"])
    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        made = seed(COOPERATIVES)

        baseline_worker = start_worker("alone", 0 if pinned else None, instance, direct)
        try:
            wait_ready([baseline_worker])
            load = os.getloadavg()[0]
            run_id = order_run(*made[0], count, direct)
            if direct:
                hand_out([baseline_worker], [run_id])
            unsent = 0 if direct else send_missing_messages([run_id])
            alone = phase("baseline", [baseline_worker], watch([run_id], [baseline_worker], timeout=600), load)
        finally:
            baseline_worker.stop()

        workers = [start_worker(f"w{k}", k if pinned else None, instance, direct) for k in (0, 1)]
        try:
            wait_ready(workers)
            load = os.getloadavg()[0]
            # One cooperative's runs after another's: a fair queue interleaves them.
            run_ids = [order_run(*made[i * len(made) // runs], count, direct) for i in range(runs)]
            if direct:
                hand_out(workers, run_ids)
            else:
                unsent += send_missing_messages(run_ids)
            two = phase("two workers", workers, watch(run_ids, workers, timeout=60 * runs), load)
        finally:
            for w in workers:
                w.stop()
        # Only now, with no worker running: a run ordered and not yet done is what a worker claims, and one
        # rendered here for longer than RUN_STALE_SECONDS would look abandoned to it.
        split = mint_and_render_alone(made, count, 0 if pinned else None)
    t1 = alone["span_s"]
    ideal = t1 * len(run_ids) / 2
    return {"unsent_messages": unsent, "t1_s": t1, "makespan_s": two["span_s"], "ideal_s": round(ideal, 2), "ratio": round(two["span_s"] / ideal, 3),
            "alone": alone, "two": two, "alone_split": split}


# ---------------------------------------------------------------- orchestration

def run_scenario(setup: str, pinned: bool, env: dict, count: int, runs: int, direct: bool) -> dict:
    command = [sys.executable, "-m", "bench.runs", "--scenario", "--count", str(count), "--runs", str(runs)]
    if pinned:
        command.append("--pinned")
    if direct:
        command.append("--direct")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{setup} {'pinned' if pinned else 'unpinned'} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def base_env(instance: Path) -> dict:
    instance.mkdir(parents=True)
    env = {**os.environ, "APP_CONFIG": "production", "INSTANCE_PATH": str(instance), "SECRET_KEY": secrets.token_hex(32),
           "STAMP_KEY": secrets.token_hex(32), "PUBLIC_BASE_URL": "https://truyxuat.example.vn", "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_URL", "RATELIMIT_STORAGE_URI"):
        env.pop(name, None)
    return env


def report(setup: str, pinning: str, r: dict) -> None:
    two, alone = r["two"], r["alone"]
    verdict = "ok" if r["ratio"] <= MAKESPAN_GOAL else "over the goal"
    print(f"\n== {setup}, {pinning}")
    if r.get("unsent_messages"):
        print(f"!! {r['unsent_messages']} run(s) ordered while the broker refused the message: sent again at once, "
              f"as beat's requeue_stale_runs would within 30 s")
    print(f"one run alone (t1)          {r['t1_s']:7.2f} s   wait {alone['wait_s'][0]:.2f} s, work {alone['work_s'][0]:.2f} s, "
          f"{alone['cpu_s_per_run']:.2f} CPU s; machine's load average {alone['load_average'][0]} → {alone['load_average'][1]}")
    if alone["to_worker_s"][0] is not None:
        print(f"  the message: order → worker {alone['to_worker_s'][0]:.2f} s, worker → run seen minting {alone['claim_seen_s'][0]:.2f} s "
              f"(rows polled every {SAMPLE_SECONDS} s)")
    print(f"mint / render alone         derive codes {r['alone_split']['derive_s']:.2f} s, mint {r['alone_split']['mint_s']:.2f} s, "
          f"render {r['alone_split']['render_s']:.2f} s")
    print(f"{len(two['work_s'])} runs, two workers         {r['makespan_s']:7.2f} s   vs t1 × {len(two['work_s'])} / 2 = {r['ideal_s']:.2f} s: "
          f"{r['ratio']:.3f}× ({verdict}, goal ≤ {MAKESPAN_GOAL}×)")
    print(f"  per run: work median {statistics.median(two['work_s']):.2f} s (min {min(two['work_s']):.2f}, max {max(two['work_s']):.2f}); "
          f"workers busy {two['busy_share']:.1%} of 2 × makespan; {two['cpu_s_per_run']:.2f} CPU s a run; "
          f"load average {two['load_average'][0]} → {two['load_average'][1]}")
    if two["locked_polls"]:
        print(f"  !! {two['locked_polls']} polls of the runs' rows refused: SQLite stayed locked past its busy timeout")
    delivered = [x for x in two["to_worker_s"] if x is not None]
    if delivered:
        print(f"  message waits (order → worker): median {statistics.median(delivered):.2f} s, max {max(delivered):.2f} s "
              f"(runs wait behind others; each worker takes one message at a time)")
    print(f"  order in which runs ended, by cooperative: {two['done_order_coops']}")
    for w in [*alone["workers"], *two["workers"]]:
        p = w["peak"]
        flag = "ok" if p["sum_mb"] <= RSS_GOAL_MB else "over"
        after = w["rss_sum_after_each_run"]
        print(f"  worker {w['name']:5} peak RSS: main {p['main_mb']:.0f} MB, largest child {p['largest_child_mb']:.0f} MB, "
              f"sum {p['sum_mb']:.0f} MB ({flag}), PSS sum {p['pss_sum_mb']:.0f} MB; after each run {after[0] if after else '-'} → "
              f"{after[-1] if after else '-'} MB")


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that the workers, PostgreSQL and Redis this script started are stopped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--setups", default="production,embedded")
    parser.add_argument("--pinning", default="pinned,unpinned")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--direct", action="store_true",
                        help="no Celery: each worker process renders the runs handed to it (the in-process path)")
    parser.add_argument("--scenario", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pinned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--direct-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct_worker:
        direct_worker()
        return
    if args.scenario:
        print(json.dumps(scenario(args.count, args.runs, args.pinned, args.direct), default=str))
        return

    results = {}
    pinnings = args.pinning.split(",")
    with tempfile.TemporaryDirectory(prefix="ocop-bench-runs.") as folder:
        if "production" in args.setups:
            with postgres_cluster() as server, redis_server() as broker:
                for n, pinning in enumerate(pinnings):
                    instance = Path(folder, f"production-{pinning}")
                    env = {**base_env(instance), "DATABASE_URL": create_database(server, f"bench_runs_{n}"), "CELERY_BROKER_URL": broker.replace("/0", f"/{n}")}
                    results[f"production {pinning}"] = r = run_scenario("production", pinning == "pinned", env, args.count, args.runs, args.direct)
                    report("PostgreSQL + Redis", pinning, r)
                    sys.stdout.flush()
        if "embedded" in args.setups:
            for pinning in pinnings:
                instance = Path(folder, f"embedded-{pinning}")
                results[f"embedded {pinning}"] = r = run_scenario("embedded", pinning == "pinned", base_env(instance), args.count, args.runs, args.direct)
                report("SQLite + kombu SQLAlchemy transport", pinning, r)
                sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
