"""Several nodes on one machine (tests/cluster.py): PostgreSQL, Redis, SeaweedFS, two gunicorn web nodes with
instance directories of their own and two Celery workers, all real servers, configured only through the
environment as separate machines would be. Data is set up through the services in this process; everything
else goes over HTTP to the nodes.
"""
import itertools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from app.extensions import db
from app.scan import scans
from app.services import codes
from tests.cluster import Cluster, missing_servers
from tests.conftest import make_cooperative, make_member
from tests.factories import on_sale_stamps

pytestmark = pytest.mark.skipif(bool(missing_servers()), reason=f"a cluster needs {', '.join(missing_servers())}")

UNKNOWN_CODES_PER_MINUTE = 10
SCANS, SCAN_THREADS, SCANNED_STAMPS, PHONES_PER_STAMP = 2_000, 8, 10, 7


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

    stamp_ids = [stamp_id for _code, stamp_id in on_sale]
    assert cluster.sql("SELECT count(*) FROM scans WHERE stamp_id = ANY(%s)", stamp_ids) == [(SCANS,)]
    expected = Counter()
    with cluster.app().app_context():
        for (code, stamp_id), phone, _node in plan:
            expected[stamp_id, scans.phone_hash(codes.code_hash(code), "127.0.0.1", _user_agent(phone))] += 1
    counted = {(stamp_id, bytes(phone)): n for stamp_id, phone, n in
               cluster.sql("SELECT stamp_id, device_hash, scans FROM scan_devices WHERE stamp_id = ANY(%s)", stamp_ids)}
    assert counted == dict(expected)

    cluster.start("node-a", "node-b")  # started again, the page counts what was written: this is the 201st scan
    code, _stamp_id = on_sale[0]
    page = cluster.visitor("b").get(f"/Q/{code}", headers={"User-Agent": _user_agent(0)}).text
    per_stamp = SCANS // SCANNED_STAMPS
    assert f"quét {per_stamp + 1} lần (kể cả lần này) trên {PHONES_PER_STAMP} điện thoại" in page
