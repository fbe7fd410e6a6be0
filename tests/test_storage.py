"""The storage contract (app/storage.py), run alike on the local disk and on a real S3 store (SeaweedFS)."""
import hashlib
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from app.storage import BadKey, KeyMissing, LocalStorage, S3Storage, content_disposition, remove_older_than, storage_from_config
from tests.s3_server import s3_bucket, weed_s3  # noqa: F401 (fixtures)

MB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "instance")
    bucket = request.getfixturevalue("s3_bucket")
    weed = request.getfixturevalue("weed_s3")
    return S3Storage(bucket, weed.endpoint_url, weed.region)


def sha256_of_stream(stream, chunk: int = MB) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with stream:
        while block := stream.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def test_a_30_mb_file_comes_back_byte_for_byte(store, tmp_path):
    source = tmp_path / "big.pdf"
    data = os.urandom(30 * MB)
    source.write_bytes(data)
    store.put_file("runs/run-1.pdf", source, "application/pdf")
    assert source.read_bytes() == data, "the source file is left as it was"
    assert store.exists("runs/run-1.pdf") and store.size("runs/run-1.pdf") == 30 * MB
    assert sha256_of_stream(store.open("runs/run-1.pdf")) == (hashlib.sha256(data).hexdigest(), 30 * MB)
    assert abs(store.modified("runs/run-1.pdf") - time.time()) < 120


def test_bytes_round_trip_overwrite_and_delete(store):
    store.put_bytes("uploads/abc.jpg", b"first", "image/jpeg")
    store.put_bytes("uploads/abc.jpg", b"second, longer", "image/jpeg")
    with store.open("uploads/abc.jpg") as stream:
        assert stream.read() == b"second, longer"
    store.delete("uploads/abc.jpg")
    store.delete("uploads/abc.jpg")  # deleting what is gone is no error
    assert not store.exists("uploads/abc.jpg")


def test_a_reader_never_sees_half_an_object(store, tmp_path):
    """While one version replaces another, every read is one whole version: never a part, never a mix."""
    size = 4 * MB
    versions = {}
    for letter in b"ab":
        path = tmp_path / f"{chr(letter)}.pdf"
        path.write_bytes(bytes([letter]) * size)
        versions[letter] = path
    store.put_file("runs/run-2.pdf", versions[ord("a")], "application/pdf")
    seen, stop, errors = [], threading.Event(), []

    def read_again_and_again():
        while not stop.is_set():
            try:
                with store.open("runs/run-2.pdf") as stream:
                    data = stream.read()
            except Exception as exc:  # a reader must never fail or see a missing object either
                errors.append(exc)
                return
            seen.append((len(data), set(data)))

    reader = threading.Thread(target=read_again_and_again)
    reader.start()
    try:
        for round_ in range(8):
            store.put_file("runs/run-2.pdf", versions[b"ab"[round_ % 2]], "application/pdf")
    finally:
        stop.set()
        reader.join(60)
    assert not errors, errors
    assert seen and all(length == size and len(letters) == 1 for length, letters in seen), \
        [(length, letters) for length, letters in seen if length != size or len(letters) != 1][:3]
    assert list(store.keys("runs/")) == ["runs/run-2.pdf"], "no partial object is ever listed"


def test_keys_under_a_prefix(store):
    for key in ("imports/1-diary-a.csv", "imports/1-diary-b.xlsx", "imports/2-products-c.csv", "runs/run-3.pdf",
                "uploads/0123456789abcdef01234567.jpg"):
        store.put_bytes(key, b"x", "application/octet-stream")
    assert list(store.keys("imports/1-")) == ["imports/1-diary-a.csv", "imports/1-diary-b.xlsx"]
    assert list(store.keys("imports/")) == ["imports/1-diary-a.csv", "imports/1-diary-b.xlsx", "imports/2-products-c.csv"]
    assert list(store.keys("")) == sorted(list(store.keys("imports/")) + ["runs/run-3.pdf", "uploads/0123456789abcdef01234567.jpg"])
    assert list(store.keys("runs/run-4")) == []


def test_only_objects_older_than_the_cutoff_are_removed(store):
    store.put_bytes("imports/1-diary-old.csv", b"old", "text/csv")
    store.put_bytes("runs/run-8.pdf", b"%PDF", "application/pdf")
    time.sleep(1.1)  # S3 keeps whole seconds: a second apart on both sides of the cutoff
    cutoff = time.time()
    time.sleep(1.1)
    store.put_bytes("imports/1-diary-new.csv", b"new", "text/csv")
    assert remove_older_than(store, "imports/", cutoff) == 1
    assert list(store.keys("")) == ["imports/1-diary-new.csv", "runs/run-8.pdf"]


def test_a_missing_key_is_an_error_not_an_empty_file(store):
    with pytest.raises(KeyMissing):
        store.open("runs/run-404.pdf")
    with pytest.raises(FileNotFoundError):  # what part of the code that knew only files expects
        store.size("runs/run-404.pdf")
    with pytest.raises(KeyMissing):
        store.modified("runs/run-404.pdf")
    assert not store.exists("runs/run-404.pdf")


@pytest.mark.parametrize("key", [
    "../secret_key", "runs/../../secret_key", "runs/../ocop.db", "/etc/passwd", "ocop.db", "secret_key",
    "runs/", "runs//x.pdf", "runs/./x.pdf", "", "uploads\\..\\x", "backups/x.tar",
])
def test_a_key_outside_the_stored_areas_is_refused(store, key):
    for action in (lambda: store.put_bytes(key, b"x", "text/plain"), lambda: store.open(key),
                   lambda: store.exists(key), lambda: store.delete(key)):
        with pytest.raises(BadKey):
            action()
    assert list(store.keys("")) == []


def test_local_keys_never_reach_the_instance_files_nor_leave_through_a_link(tmp_path):
    instance = tmp_path / "instance"
    (instance / "runs").mkdir(parents=True)
    (instance / "ocop.db").write_bytes(b"database")
    (instance / "secret_key").write_text("secret")
    outside = tmp_path / "outside"
    outside.mkdir()
    (instance / "runs" / "elsewhere").symlink_to(outside)
    store = LocalStorage(instance)
    with pytest.raises(BadKey):
        store.put_bytes("runs/elsewhere/x.pdf", b"x", "application/pdf")
    assert list(outside.iterdir()) == []
    assert list(store.keys("")) == [], "the database and the keys are never listed (a backup reads keys(''))"


def test_local_keys_are_todays_paths(tmp_path):
    """An existing instance keeps its files: runs and imports under the instance, photos in UPLOAD_FOLDER."""
    uploads = tmp_path / "photos-elsewhere"
    store = storage_from_config({"UPLOAD_FOLDER": str(uploads)}, str(tmp_path / "instance"))
    store.put_bytes("runs/run-5.pdf", b"%PDF", "application/pdf")
    store.put_bytes("uploads/0123456789abcdef01234567.jpg", b"jpeg", "image/jpeg")
    store.put_bytes("imports/1-diary-x.csv", b"a,b", "text/csv")
    assert (tmp_path / "instance" / "runs" / "run-5.pdf").read_bytes() == b"%PDF"
    assert (uploads / "0123456789abcdef01234567.jpg").read_bytes() == b"jpeg"
    assert (tmp_path / "instance" / "imports" / "1-diary-x.csv").read_bytes() == b"a,b"


def test_storage_url_picks_the_store(tmp_path):
    s3 = storage_from_config({"STORAGE_URL": "s3://ocop-files", "S3_ENDPOINT_URL": "http://127.0.0.1:1",
                              "S3_REGION": "ap-southeast-1"}, str(tmp_path))
    assert isinstance(s3, S3Storage) and s3.bucket == "ocop-files"
    assert s3.client.meta.region_name == "ap-southeast-1" and s3.client.meta.endpoint_url == "http://127.0.0.1:1"
    with pytest.raises(RuntimeError):
        storage_from_config({"STORAGE_URL": "ftp://ocop-files"}, str(tmp_path))


def test_a_presigned_url_downloads_with_its_name_and_expires(store):
    data = b"%PDF-1.7 labels"
    store.put_bytes("runs/run-6.pdf", data, "application/pdf")
    url = store.download_url("runs/run-6.pdf", "tem-VT-2026-06-A-6.pdf", "application/pdf", 300)
    if isinstance(store, LocalStorage):
        assert url is None  # the app sends local files itself
        return
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Expires"] == ["300"]
    with urllib.request.urlopen(url) as response:
        assert response.read() == data
        assert response.headers["Content-Type"] == "application/pdf"
        assert 'filename="tem-VT-2026-06-A-6.pdf"' in response.headers["Content-Disposition"]
        assert response.headers["Content-Disposition"].startswith("attachment")
    short = store.download_url("runs/run-6.pdf", "tem.pdf", "application/pdf", 1)
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(short)
    assert refused.value.code == 403
    forged = url.replace("run-6.pdf", "run-7.pdf")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(forged)


def test_content_disposition_keeps_a_vietnamese_name():
    header = content_disposition("tem-Vải thiều-6.pdf")
    assert header.startswith('attachment; filename="tem-V_i thi_u-6.pdf"')
    assert "filename*=UTF-8''tem-V%E1%BA%A3i%20thi%E1%BB%81u-6.pdf" in header
