"""The stored files over HTTP with STORAGE_URL=s3://…: two web nodes (each its own instance directory, one
database, one bucket, served on real sockets) hand each other's files to the browser, and a large PDF is
streamed without being held in memory."""
import hashlib
import os
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Product, ProductPhoto
from app.services import run_rendering
from app.storage import S3Storage, storage
from tests.conftest import PASSWORD
from tests.factories import jpeg_bytes, minted_run, product_with_batch
from tests.s3_server import s3_bucket, weed_s3  # noqa: F401 (fixtures)
from tests.test_imports import PRODUCT_HEADERS, xlsx

MB = 1024 * 1024
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Node:
    """One web node: an application with its own instance directory, served on a loopback port."""
    app: object
    base: str
    instance: Path

    def signed_in(self, login: str) -> requests.Session:
        db.session.commit()  # the test's own transaction ends first, as tests/conftest.py's RequestClient does
        browser = requests.Session()
        browser.post(f"{self.base}/sign-in", data={"csrf_token": self.token(browser, "/sign-in"), "login": login,
                                                   "password": PASSWORD}, allow_redirects=False).raise_for_status()
        return browser

    def token(self, browser: requests.Session, path: str) -> str:
        return CSRF.search(browser.get(f"{self.base}{path}").text).group(1)


@pytest.fixture
def nodes(app_with, db, s3_bucket, weed_s3, tmp_path):
    """start(name, **settings): a node on the test database and this test's bucket."""
    db.session.commit()
    servers = []

    def start(name: str, **settings) -> Node:
        instance = tmp_path / name
        node_app = app_with(INSTANCE_PATH=str(instance), UPLOAD_FOLDER=str(instance / "uploads"),
                            STORAGE_URL=f"s3://{s3_bucket}", S3_ENDPOINT_URL=weed_s3.endpoint_url,
                            S3_REGION=weed_s3.region, **settings)
        server = make_server("127.0.0.1", 0, node_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Node(node_app, f"http://127.0.0.1:{server.server_port}", instance)

    yield start
    for server in servers:
        server.shutdown()


def stored_files(instance: Path) -> list[Path]:
    return [path for area in ("runs", "uploads", "imports") for path in (instance / area).rglob("*") if path.is_file()]


def rendered_run(node: Node, coop):
    """A done run whose PDF node rendered and stored (in the bucket): its id and the stored bytes."""
    product, batch = product_with_batch(coop)
    run_id = minted_run(coop, product, batch, count=3).id
    # On SQLite every transaction holds the write lock, and touching an object after a commit starts one:
    # the test keeps plain ids, so that the nodes never wait for it.
    db.session.commit()
    with node.app.app_context():
        run_rendering.render(run_id)
        stored = storage()
        assert isinstance(stored, S3Storage)
        with stored.open(run_rendering.pdf_key(run_id)) as pdf:
            return run_id, pdf.read()


def test_a_run_pdf_is_a_presigned_download_of_the_stored_bytes(nodes, coop_a, coop_b, db):
    node_a, node_b = nodes("a"), nodes("b")
    run_id, stored = rendered_run(node_a, coop_a)
    browser = node_b.signed_in("a@htx.vn")  # asked of the other node
    answer = browser.get(f"{node_b.base}/coop/runs/{run_id}/labels.pdf", allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Cache-Control"] == "no-store"
    link = answer.headers["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert link.startswith(node_b.app.config["S3_ENDPOINT_URL"]) and query["X-Amz-Expires"] == ["300"]
    download = requests.get(link)  # the browser follows it, without the app's cookies
    assert download.status_code == 200 and download.content == stored and stored.startswith(b"%PDF")
    assert download.headers["Content-Type"] == "application/pdf"
    assert f'filename="tem-VT-2026-06-A-{run_id}.pdf"' in download.headers["Content-Disposition"]
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert stored_files(node_a.instance) == [] and stored_files(node_b.instance) == []

    other = node_b.signed_in("b@htx.vn")  # another cooperative's run: 404, and nothing signed
    refused = other.get(f"{node_b.base}/coop/runs/{run_id}/labels.pdf", allow_redirects=False)
    assert refused.status_code == 404 and "Location" not in refused.headers and "X-Amz" not in refused.text

    with node_a.app.app_context():  # a done run whose PDF is gone from the store: "not ready", no dead link
        storage().delete(run_rendering.pdf_key(run_id))
    gone = browser.get(f"{node_b.base}/coop/runs/{run_id}/labels.pdf", allow_redirects=False)
    assert gone.status_code == 302 and gone.headers["Location"].endswith(f"/coop/runs/{run_id}")


def test_a_run_pdf_streams_through_the_app_when_presigning_is_off(nodes, coop_a, db):
    node_a, node_b = nodes("a"), nodes("b", S3_PRESIGN=False)
    run_id, stored = rendered_run(node_a, coop_a)
    download = node_b.signed_in("a@htx.vn").get(f"{node_b.base}/coop/runs/{run_id}/labels.pdf", allow_redirects=False)
    assert download.status_code == 200 and download.content == stored
    assert download.headers["Content-Length"] == str(len(stored)) and download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert f"tem-VT-2026-06-A-{run_id}.pdf" in download.headers["Content-Disposition"]


def _api_headers(login: str) -> dict:
    from app.models import User
    from app.services import api_tokens

    user = db.session.scalar(select(User).where(User.login == login))
    secret = api_tokens.create_token(user.id, {"name": "runs"}, False).secret
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_pdf_is_the_stored_pdf_too(nodes, coop_a, coop_b, db):
    node_a, node_b = nodes("a"), nodes("b", S3_PRESIGN=False)
    run_id, stored = rendered_run(node_a, coop_a)
    headers, others = _api_headers("a@htx.vn"), _api_headers("b@htx.vn")
    redirected = requests.get(f"{node_a.base}/api/v1/runs/{run_id}/labels.pdf", headers=headers, allow_redirects=False)
    assert redirected.status_code == 302 and requests.get(redirected.headers["Location"]).content == stored
    streamed = requests.get(f"{node_b.base}/api/v1/runs/{run_id}/labels.pdf", headers=headers)
    assert streamed.status_code == 200 and streamed.content == stored
    for node in (node_a, node_b):  # another cooperative's run: 404, nothing signed, nothing streamed
        refused = requests.get(f"{node.base}/api/v1/runs/{run_id}/labels.pdf", headers=others, allow_redirects=False)
        assert refused.status_code == 404 and "Location" not in refused.headers and b"%PDF" not in refused.content


def test_a_photo_uploaded_on_one_node_is_served_by_another(nodes, coop_a, db, weed_s3, s3_bucket):
    node_a, node_b = nodes("a"), nodes("b")
    browser = node_a.signed_in("a@htx.vn")
    sent = browser.post(f"{node_a.base}/coop/products/new", allow_redirects=False,
                        data={"csrf_token": node_a.token(browser, "/coop/products/new"), "name": "Bưởi Diễn", "category": "fruit"},
                        files={"photo": ("buoi.jpg", jpeg_bytes((1600, 1200)), "image/jpeg")})
    assert sent.status_code == 302, sent.text[:500]
    db.session.expire_all()
    name = db.session.scalar(select(ProductPhoto.image).join(Product).where(Product.name == "Bưởi Diễn"))
    db.session.commit()
    bucket = weed_s3.client()
    for query, key in (("", f"uploads/{name}.jpg"), ("?size=thumb", f"uploads/{name}-t.jpg")):
        served = requests.get(f"{node_b.base}/media/{name}.jpg{query}")  # a visitor, on the other node
        assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
        assert served.headers["Cache-Control"] == "public, max-age=31536000"
        assert served.content == bucket.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert requests.get(f"{node_b.base}/media/{'0' * 24}.jpg").status_code == 404
    assert stored_files(node_a.instance) == [] and stored_files(node_b.instance) == []


def test_an_import_previewed_on_one_node_is_committed_on_another(nodes, coop_a, db, weed_s3, s3_bucket):
    coop_id = coop_a.id
    node_a, node_b = nodes("a"), nodes("b")
    on_a, on_b = node_a.signed_in("a@htx.vn"), node_b.signed_in("a@htx.vn")
    sheet = xlsx(PRODUCT_HEADERS, [["Bưởi Diễn", "Trái cây"] + [None] * 8])
    preview = on_a.post(f"{node_a.base}/coop/imports/check",
                        data={"csrf_token": node_a.token(on_a, "/coop/imports"), "kind": "products"},
                        files={"file": ("san-pham.xlsx", sheet)})
    assert preview.status_code == 200, preview.text[:500]
    commit_path = re.search(r'action="(/coop/imports/products/[A-Za-z0-9_-]{32}\.xlsx)"', preview.text).group(1)
    waiting = [item["Key"] for item in weed_s3.client().list_objects_v2(Bucket=s3_bucket, Prefix="imports/").get("Contents", [])]
    assert len(waiting) == 1 and waiting[0].startswith(f"imports/{coop_id}-products-")
    committed = on_b.post(f"{node_b.base}{commit_path}", allow_redirects=False,
                          data={"csrf_token": node_b.token(on_b, "/coop/imports"), "filename": "san-pham.xlsx"})
    assert committed.status_code == 302, committed.text[:500]
    db.session.expire_all()
    assert db.session.scalar(select(Product.name).where(Product.cooperative_id == coop_id)) == "Bưởi Diễn"
    assert "Contents" not in weed_s3.client().list_objects_v2(Bucket=s3_bucket, Prefix="imports/")
    assert stored_files(node_a.instance) == [] and stored_files(node_b.instance) == []


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) * 1024


def test_streaming_a_50_mb_pdf_does_not_hold_it_in_memory(nodes, coop_a, db, tmp_path):
    """The node and this test share a process: its resident memory, sampled while the PDF streams, grows far
    less than the PDF's size (read whole, it would grow by at least 50 MB)."""
    node = nodes("a", S3_PRESIGN=False)
    run_id, _ = rendered_run(node, coop_a)
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.7\n" + os.urandom(50 * MB))
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    with node.app.app_context():
        storage().put_file(run_rendering.pdf_key(run_id), big, "application/pdf")
    browser = node.signed_in("a@htx.vn")
    baseline, peak, done = _rss_bytes(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    digest, size = hashlib.sha256(), 0
    try:
        with browser.get(f"{node.base}/coop/runs/{run_id}/labels.pdf", stream=True) as download:
            assert download.status_code == 200
            for chunk in download.iter_content(64 * 1024):
                digest.update(chunk)
                size += len(chunk)
    finally:
        done.set()
        sampler.join()
    growth = peak[0] - baseline
    print(f"streamed {size / MB:.1f} MB; resident memory grew by {growth / MB:.1f} MB")
    assert size == big.stat().st_size and digest.hexdigest() == expected
    assert growth < 20 * MB, f"resident memory grew by {growth / MB:.1f} MB while streaming {size / MB:.0f} MB"
