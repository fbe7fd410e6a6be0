"""Several nodes on one machine (tests/cluster.py): PostgreSQL, Redis, SeaweedFS, two gunicorn web nodes with
instance directories of their own and two Celery workers, all real servers, configured only through the
environment as separate machines would be. Data is set up through the services in this process; everything
else goes over HTTP to the nodes.
"""
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import redis

from app.extensions import db
from app.scan import scans
from app.models import RunStatus
from app.services import codes, label_runs, run_queue, run_rendering
from tests.cluster import Cluster, missing_servers
from tests.conftest import PASSWORD, make_cooperative, make_member
from tests.factories import on_sale_stamps, product_with_batch
from tests.served import Visitor

pytestmark = pytest.mark.skipif(bool(missing_servers()), reason=f"a cluster needs {', '.join(missing_servers())}")

UNKNOWN_CODES_PER_MINUTE = 10
SCANS, SCAN_THREADS, SCANNED_STAMPS, PHONES_PER_STAMP = 2_000, 8, 10, 7
KILLED_RUN_SIZE = 20_000  # long enough to be killed mid-run
STALE_SECONDS = 10  # how long requeue_stale_runs, called here, waits for a killed worker's heartbeat


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(tmp_path_factory.mktemp("cluster"), settings={
        "UNKNOWN_CODE_LIMIT": f"{UNKNOWN_CODES_PER_MINUTE} per minute",
    }) as running:
        yield running


@pytest.fixture(autouse=True)
def logs_of_a_failure(request, cluster):
    """A failed test prints the tail of every server's log: what the nodes and workers said."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        cluster.print_logs()


@pytest.fixture(scope="module")
def on_sale(cluster):
    """Stamps of a batch on sale, minted in this process on the cluster's database: their codes and ids."""
    with cluster.app().app_context():
        coop = make_cooperative("HTX Vải thiều Lục Ngạn", "2401000001")
        make_member(coop, "a@htx.vn")
        stamp_codes, run, _batch = on_sale_stamps(db, coop, SCANNED_STAMPS)
        run_id = run.id
        # Minted here without its PDF: marked done, so that no worker takes it for a run left by a dead one.
        label_runs.set_state(run_id, status=RunStatus.DONE, progress=100)
        db.session.remove()
    ids = dict(cluster.sql("SELECT serial, id FROM stamps WHERE run_id = %s", run_id))
    return [(code, ids[serial]) for serial, code in enumerate(stamp_codes, start=1)]


def unknown_codes():
    """Well-formed codes (right length and check character) that name no stamp: derived under another key."""
    return (codes.derive_code(b"not the cluster's stamp key", 1, serial) for serial in itertools.count(1))


def test_the_unknown_code_limit_is_one_limit_across_both_nodes(cluster):
    nodes = itertools.cycle([cluster.visitor("a"), cluster.visitor("b")])
    statuses = [next(nodes).get(f"/Q/{code}").status
                for code in itertools.islice(unknown_codes(), UNKNOWN_CODES_PER_MINUTE + 3)]
    # Alternating nodes: each node alone has seen only half the limit when the shared count reaches it.
    assert statuses == [404] * UNKNOWN_CODES_PER_MINUTE + [429] * 3
    counters = redis.Redis.from_url(cluster.env["RATELIMIT_STORAGE_URI"])
    assert any(b"unknown-code" in key for key in counters.keys("*")), "the limit is not counted in Redis"
    assert cluster.sql("SELECT count(*) FROM rate_limit_counters") == [(0,)]


def _user_agent(phone: int) -> str:
    return f"Mozilla/5.0 (Linux; Android 14; Phone {phone}) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


def test_scans_on_both_nodes_are_each_counted_once(cluster, on_sale):
    """2,000 scans from several threads, alternating nodes, each stamp by several phones: once the nodes stop
    (SIGTERM, so each worker writes what it holds), every scan is a row and every phone's count is right."""
    plan = [(on_sale[i % SCANNED_STAMPS], (i // SCANNED_STAMPS) % PHONES_PER_STAMP, "ab"[i % 2]) for i in range(SCANS)]
    local = threading.local()

    def scan(step) -> int:
        (code, _stamp_id), phone, node = step
        if not hasattr(local, "visitors"):
            local.visitors = {name: cluster.visitor(name) for name in "ab"}
        return local.visitors[node].get(f"/Q/{code}", headers={"User-Agent": _user_agent(phone)}).status

    with ThreadPoolExecutor(SCAN_THREADS) as pool:
        statuses = Counter(pool.map(scan, plan))
    assert statuses == {200: SCANS}
    cluster.stop("node-a", "node-b")
    try:
        stamp_ids = [stamp_id for _code, stamp_id in on_sale]
        assert cluster.sql("SELECT count(*) FROM scans WHERE stamp_id = ANY(%s)", stamp_ids) == [(SCANS,)]
        expected = Counter()
        with cluster.app().app_context():
            for (code, stamp_id), phone, _node in plan:
                expected[stamp_id, scans.phone_hash(codes.code_hash(code), "127.0.0.1", _user_agent(phone))] += 1
        counted = {(stamp_id, bytes(phone)): n for stamp_id, phone, n in
                   cluster.sql("SELECT stamp_id, device_hash, scans FROM scan_devices WHERE stamp_id = ANY(%s)", stamp_ids)}
        assert counted == dict(expected)
    finally:
        cluster.start("node-a", "node-b")  # the later tests need both nodes, whatever this one found

    # Started again, the page counts what was written: this is the 201st scan.
    code, _stamp_id = on_sale[0]
    page = cluster.visitor("b").get(f"/Q/{code}", headers={"User-Agent": _user_agent(0)}).text
    per_stamp = SCANS // SCANNED_STAMPS
    assert f"quét {per_stamp + 1} lần (kể cả lần này) trên {PHONES_PER_STAMP} điện thoại" in page


# -- label runs: ordered on one node, queued in Redis, printed by whichever worker is free --------------------

RUN_FINISHED = ("done", "failed", "cancelled")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
REQUEST_TOKEN = re.compile(r'name="request_token"[^>]*value="([^"]+)"')


@dataclass
class Member:
    """A cooperative's member, signed in on node A; the same session cookie works on node B."""
    login: str
    batch_id: int
    on_a: Visitor
    on_b: Visitor


@pytest.fixture(scope="module")
def members(cluster) -> dict[str, Member]:
    """Three cooperatives, each with a member and a batch that passes the diary check."""
    batch_ids = {}
    with cluster.app().app_context():
        for key, name, registration in (("x", "HTX Hồng Xuân", "2401000101"), ("y", "HTX Phồn Nhi", "2401000102"),
                                        ("z", "HTX Nam Dương", "2401000103")):
            coop = make_cooperative(name, registration)
            make_member(coop, f"{key}@htx.vn")
            _product, batch = product_with_batch(coop, lot=f"LO-{key.upper()}-2026")
            batch_ids[key] = batch.id
        db.session.remove()
    signed_in = {}
    for key, batch_id in batch_ids.items():
        on_a = cluster.visitor("a")
        on_a.sign_in(f"{key}@htx.vn", PASSWORD)
        signed_in[key] = Member(f"{key}@htx.vn", batch_id, on_a, Visitor(cluster.nodes["b"].base, on_a.cookies))
    return signed_in


def member_form(member: Member) -> str:
    """The run form of the member's batch, as node A serves it (with its CSRF and request tokens)."""
    return member.on_a.get(f"/coop/batches/{member.batch_id}/runs/new").text


def order_run(member: Member, count: int, form: str | None = None) -> int:
    """Order a run of the member's batch on node A, as the run form does; the new run's id."""
    form = form or member_form(member)
    answer = member.on_a.request("POST", f"/coop/batches/{member.batch_id}/runs/new", {
        "csrf_token": CSRF.search(form).group(1), "request_token": REQUEST_TOKEN.search(form).group(1),
        "count": str(count), "template": "a4-65", "ecc": "M", "offset_x_mm": "0", "offset_y_mm": "0",
    })
    assert answer.status == 302, answer.text[:1000]
    return int(re.search(r"/coop/runs/(\d+)$", answer.headers["Location"]).group(1))


def run_status(member: Member, run_id: int) -> dict:
    return json.loads(member.on_b.get(f"/coop/runs/{run_id}/status").text)


def wait_for_run(member: Member, run_id: int, timeout: float = 120, until=lambda status: status["status"] in RUN_FINISHED) -> dict:
    deadline = time.monotonic() + timeout
    while not until(status := run_status(member, run_id)):
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {timeout} s"
        time.sleep(0.2)
    return status


def download_pdf(member: Member, run_id: int) -> bytes:
    """The run's PDF from node B, following the presigned redirect to the S3 store if the node answers one."""
    answer = member.on_b.get(f"/coop/runs/{run_id}/labels.pdf")
    if answer.status in (302, 303, 307) and not answer.headers["Location"].startswith((member.on_b.base, "/")):
        with urllib.request.urlopen(answer.headers["Location"], timeout=60) as stored:  # no cookie goes to the store
            return stored.read()
    assert answer.status == 200, (answer.status, answer.headers.get("Location"))
    return answer.body


def rendered_here(cluster: Cluster, run_id: int) -> bytes:
    """The run's PDF rendered again in this process, undisturbed, from the same database and keys."""
    with cluster.app().app_context():
        scratch = run_rendering.write_pdf(run_id)
        try:
            return scratch.read_bytes()
        finally:
            scratch.unlink()
            db.session.remove()


def stamps_of(cluster: Cluster, run_id: int) -> tuple[int, int, int, int]:
    """How many stamps the run has, how many distinct codes, and its first and last serial."""
    return cluster.sql("SELECT count(*), count(DISTINCT code_hash), min(serial), max(serial) FROM stamps WHERE run_id = %s", run_id)[0]


def task_of(cluster: Cluster, run_id: int) -> str | None:
    return cluster.sql("SELECT task_id FROM label_runs WHERE id = %s", run_id)[0][0]


def test_a_run_ordered_on_node_a_is_printed_by_a_worker_and_downloads_from_node_b_identical(cluster, members):
    x = members["x"]
    run_id = order_run(x, 2_000)
    assert wait_for_run(x, run_id)["status"] == "done"
    printed_by = cluster.logs_mentioning(task_of(cluster, run_id))
    assert len(printed_by) == 1 and printed_by[0].startswith("worker-")
    pdf = download_pdf(x, run_id)
    assert pdf.startswith(b"%PDF-")
    assert pdf == rendered_here(cluster, run_id)
    assert hashlib.sha256(pdf).hexdigest() == cluster.sql("SELECT pdf_sha256 FROM label_runs WHERE id = %s", run_id)[0][0]
    assert stamps_of(cluster, run_id) == (2_000, 2_000, 1, 2_000)
    # Another cooperative's member gets a 404 for it on either node.
    assert members["y"].on_b.get(f"/coop/runs/{run_id}/labels.pdf").status == 404


def test_a_run_whose_worker_is_killed_finishes_on_the_other_worker_with_the_same_stamps_and_pdf(cluster, members):
    x, count = members["x"], KILLED_RUN_SIZE
    run_id = order_run(x, count)
    wait_for_run(x, run_id, until=lambda status: status["status"] in ("minting", "rendering", *RUN_FINISHED) and status["progress"] >= 5)
    first_task = task_of(cluster, run_id)
    (victim,) = cluster.logs_mentioning(first_task)
    cluster.kill(victim)  # kill -9 of the worker and its QR processes, mid-run
    try:
        assert run_status(x, run_id)["status"] in ("minting", "rendering")
        # Beat calls requeue_stale_runs every 30 s; called here directly, once the heartbeat is STALE_SECONDS old.
        app = cluster.app()
        app.config["RUN_STALE_SECONDS"] = STALE_SECONDS
        deadline = time.monotonic() + 120
        while (status := run_status(x, run_id))["status"] not in RUN_FINISHED:
            assert time.monotonic() < deadline, status
            with app.app_context():
                run_queue.requeue_stale_runs()
                db.session.remove()
            time.sleep(1)
    finally:
        cluster.start(victim)
    assert status["status"] == "done"
    second_task = task_of(cluster, run_id)
    (survivor,) = cluster.logs_mentioning(second_task)
    assert second_task != first_task and survivor != victim
    assert stamps_of(cluster, run_id) == (count, count, 1, count)
    assert download_pdf(x, run_id) == rendered_here(cluster, run_id)


def test_five_runs_of_three_cooperatives_at_once_all_finish_none_starved(cluster, members):
    """The busy cooperative X orders three runs, then Y and Z one each, back to back. While X's long second
    run holds one worker, the other takes the fairest waiting run each time: Y's and Z's before X's third,
    which a first-come queue would have printed first. All five finish, each with its stamps."""
    sizes = {("x", 1): 3_000, ("x", 2): 12_000, ("x", 3): 1_500, ("y", 1): 1_500, ("z", 1): 1_500}
    forms = {run: member_form(members[run[0]]) for run in sizes}  # fetched first, so the orders go out together
    runs = {run: order_run(members[run[0]], count, forms[run]) for run, count in sizes.items()}
    for (key, _n), run_id in runs.items():
        assert wait_for_run(members[key], run_id)["status"] == "done"
    finished_at = {run: cluster.sql("SELECT finished_at FROM label_runs WHERE id = %s", run_id)[0][0] for run, run_id in runs.items()}
    finished = sorted(finished_at, key=finished_at.get)
    print("finished in this order:", finished)
    assert finished[-1][0] == "x", finished
    assert finished.index(("y", 1)) < finished.index(("x", 3)) and finished.index(("z", 1)) < finished.index(("x", 3)), finished
    for run, run_id in runs.items():
        assert stamps_of(cluster, run_id) == (sizes[run], sizes[run], 1, sizes[run])
