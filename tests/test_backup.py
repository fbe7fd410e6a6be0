"""Backups as a commune IT officer runs them: `flask backup` while gunicorn serves scans and diary entries under
load, `flask restore` into a fresh instance, which then serves every stamp as the original did.

On SQLite always; on PostgreSQL too when TEST_DATABASE_URL names a server (pg_dump, then pg_restore into a
second database created on the same server)."""
import hashlib
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from pathlib import Path

import pytest
import requests
import sqlalchemy
from PIL import Image

from tests.s3_server import weed_s3  # noqa: F401 (the fixture)
from tests.served import (
    COMMAND_TIMEOUT, GUNICORN, ROOT, START_TIMEOUT, ServedApp, free_port, served_environment, start_gunicorn,
)

pytestmark = pytest.mark.served

DEMO_PASSWORD = "ocop-demo-2026"
HONEY_MEMBER = "0987654321"  # the demo's honey cooperative: its diary takes the writes, the lychee stamps the scans
LOAD_SECONDS_MAX = 90
SCAN_THREADS = 3


# ---- databases: the served one and the one restored into ----

@dataclass
class Database:
    url: str  # DATABASE_URL as the app reads it

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def row_counts(self) -> dict[str, int]:
        engine = sqlalchemy.create_engine(self.url)
        try:
            with engine.connect() as connection:
                tables = sqlalchemy.inspect(connection).get_table_names()
                return {t: connection.execute(sqlalchemy.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
        finally:
            engine.dispose()

    def scalar(self, sql: str):
        engine = sqlalchemy.create_engine(self.url)
        try:
            with engine.connect() as connection:
                return connection.execute(sqlalchemy.text(sql)).scalar()
        finally:
            engine.dispose()


def sqlite_database(tmp: Path) -> Database:
    return Database(f"sqlite:///{tmp / 'instance' / 'ocop.db'}")


def on_postgresql_server(*statements: str) -> None:
    """Run statements on the TEST_DATABASE_URL server, outside any database of the suite."""
    server = sqlalchemy.make_url(os.environ["TEST_DATABASE_URL"])
    admin = sqlalchemy.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        admin.dispose()


def postgresql_database(name: str) -> Database:
    """A new, empty database on the TEST_DATABASE_URL server (dropped first if a previous run left it)."""
    on_postgresql_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    server = sqlalchemy.make_url(os.environ["TEST_DATABASE_URL"])
    return Database(server.set(database=name).render_as_string(hide_password=False))


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def serve_instance(tmp: Path, env: dict) -> ServedApp:
    """gunicorn on an instance that is already there (restored), without migrating or loading anything."""
    log = tmp / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
    served = ServedApp(env["PUBLIC_BASE_URL"], Path(env["INSTANCE_PATH"]), Path(env["INSTANCE_PATH"]) / "ocop.db", env, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, served.server_log()[-3000:]
        try:
            with closing(socket.create_connection(("127.0.0.1", int(env["BIND"].rsplit(":", 1)[1])), timeout=1)):
                return served
        except OSError:
            pass
        assert time.monotonic() < deadline, served.server_log()[-3000:]
        time.sleep(0.2)


# ---- what the instances hold ----

def stamp_codes(served: ServedApp) -> list[str]:
    """Every code of every run, derived with the served instance's own stamp key."""
    out = served.run_python(
        "import json\nfrom wsgi import app\nfrom app.extensions import db\nfrom app.models import LabelRun\n"
        "from app.services.minting import derive_codes\n"
        "with app.app_context():\n"
        "    print(json.dumps([c for run in db.session.query(LabelRun).order_by(LabelRun.id) for c in derive_codes(run)]))\n"
    )
    return json.loads(out)


def stored_file_hashes(served: ServedApp) -> dict[str, str]:
    """The SHA-256 of every file the instance stores, read through its own file storage."""
    out = served.run_python(
        "import hashlib, json\nfrom wsgi import app\nfrom app.storage import storage\n"
        "with app.app_context():\n"
        "    store = storage()\n"
        "    hashes = {}\n"
        "    for key in store.keys(''):\n"
        "        with store.open(key) as f:\n"
        "            hashes[key] = hashlib.sha256(f.read()).hexdigest()\n"
        "    print(json.dumps(hashes))\n"
    )
    return json.loads(out)


def scan_page_facts(html: str) -> str:
    """What a scan page says about the stamp (verdict, badge, product, origin, diary), without the line that
    tells how often and since when the stamp was scanned, which each scan changes."""
    main = re.search(r"<main>(.*?)</main>", html, re.S).group(1)
    main = re.sub(r'<p class="m">(?:(?!</p>).)*?(?:lần|scan)(?:(?!</p>).)*</p>', "", main, flags=re.S)
    main = re.sub(r"<details>.*?</details>", "", main, flags=re.S)  # the report form repeats the code
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


# ---- the load: scans and diary entries through HTTP while the backup runs ----

@dataclass
class Load:
    base: str
    codes: list[str]
    stop: threading.Event = field(default_factory=threading.Event)
    scans: int = 0
    entries: int = 0
    failures: list = field(default_factory=list)

    def scan(self, offset: int) -> None:
        with requests.Session() as session:
            i = offset
            while not self.stop.is_set():
                answer = session.get(f"{self.base}/Q/{self.codes[i % len(self.codes)]}", timeout=30)
                if answer.status_code != 200:
                    self.failures.append(("scan", answer.status_code))
                self.scans += 1
                i += SCAN_THREADS

    def write_diary(self) -> None:
        with requests.Session() as session:
            page = session.get(f"{self.base}/sign-in", timeout=30).text
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
            signed = session.post(f"{self.base}/sign-in", data={"csrf_token": token, "login": HONEY_MEMBER, "password": DEMO_PASSWORD},
                                  allow_redirects=False, timeout=30)
            assert signed.status_code == 302, signed.text[:300]
            data = session.get(f"{self.base}/coop/diary/data.json", timeout=30).json()
            batch_id, token = data["batches"][0]["id"], data["csrf_token"]
            photo = jpeg_bytes()
            while not self.stop.is_set():
                answer = session.post(
                    f"{self.base}/coop/diary/entries",
                    data={"batch_id": batch_id, "client_id": str(uuid.uuid4()), "event_date": date.today().isoformat(),
                          "kind": "other", "description": f"Kiểm tra đàn ong lần {self.entries + 1}"},
                    files={"photo": ("ong.jpg", photo, "image/jpeg")},
                    headers={"X-CSRFToken": token, "Accept": "application/json"}, timeout=30,
                )
                if answer.status_code != 201:
                    self.failures.append(("diary", answer.status_code, answer.text[:200]))
                self.entries += 1

    def __enter__(self) -> "Load":
        self.threads = [threading.Thread(target=self.scan, args=(i,)) for i in range(SCAN_THREADS)]
        self.threads.append(threading.Thread(target=self.write_diary))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


# ---- the drill ----

@dataclass
class Drill:
    original: ServedApp
    restored_tmp: Path
    restored_env: dict
    restored_db: Database
    archive: Path
    manifest: dict
    codes: list[str]


def run_drill(tmp: Path, original_db: Database, restored_db: Database) -> Drill:
    settings = {} if original_db.is_sqlite else {"DATABASE_URL": original_db.url}
    original = start_gunicorn(tmp / "original", **settings)
    try:
        codes = stamp_codes(original)
        assert codes, "the demo prints a run"
        entries_before = original_db.scalar("SELECT count(*) FROM diary_events")
        with Load(original.base, codes) as load:
            time.sleep(2)  # the load is under way before the backup starts
            started = time.monotonic()
            made = flask(original.env, "backup", "--to", str(tmp / "backups"))
            assert time.monotonic() - started < LOAD_SECONDS_MAX
            time.sleep(1)  # and still goes on after it
        assert made.returncode == 0, made.stderr[-3000:]
        assert not load.failures, load.failures[:5]
        assert load.entries > 2 and load.scans > 20, (load.entries, load.scans)
        entries_after = original_db.scalar("SELECT count(*) FROM diary_events")
        archive = next((tmp / "backups").glob("ocop-backup-*.tar"))
        with tarfile.open(archive) as opened:
            manifest = json.loads(opened.extractfile("manifest.json").read())
        # The snapshot fell inside the load: some entries before it, some after it.
        assert entries_before < manifest["row_counts"]["diary_events"] <= entries_after

        restored_tmp = tmp / "restored"
        restored_env = served_environment(restored_tmp, free_port(), DATABASE_URL=restored_db.url)
        Path(restored_env["INSTANCE_PATH"]).mkdir(parents=True)
        restored = flask(restored_env, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr[-3000:]
        return Drill(original, restored_tmp, restored_env, restored_db, archive, manifest, codes)
    except BaseException:
        original.stop()
        raise


def check_restored(drill: Drill) -> None:
    manifest = drill.manifest
    # Row counts of the restored database are those read from the snapshot.
    assert drill.restored_db.row_counts() == manifest["row_counts"]
    restored = serve_instance(drill.restored_tmp, drill.restored_env)
    try:
        # Every stored file is back, byte for byte; every photo a restored row names is among them.
        hashes = stored_file_hashes(restored)
        assert {f["key"]: f["sha256"] for f in manifest["files"]}.items() <= hashes.items()
        assert any(key.startswith("runs/") for key in hashes)
        photos = restored_photo_names(drill.restored_db)
        assert photos, "the load saved diary entries with photos before the snapshot"
        for name in photos:
            assert f"uploads/{name}.jpg" in hashes and f"uploads/{name}-t.jpg" in hashes, name
        # Every stamp scans to the same page on both instances.
        for code in drill.codes:
            before = requests.get(f"{drill.original.base}/Q/{code}", timeout=30)
            after = requests.get(f"{restored.base}/Q/{code}", timeout=30)
            assert (before.status_code, after.status_code) == (200, 200)
            assert scan_page_facts(after.text) == scan_page_facts(before.text), code
        assert "Tem chính hãng" in scan_page_facts(after.text)
        # The restored instance derives the same codes: its runs can be downloaded again, identical.
        assert stamp_codes(restored) == drill.codes
    finally:
        restored.stop()


def restored_photo_names(database: Database) -> list[str]:
    engine = sqlalchemy.create_engine(database.url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(sqlalchemy.text("SELECT photo FROM diary_events WHERE photo IS NOT NULL"))]
    finally:
        engine.dispose()


def check_refused_into_data(drill: Drill) -> None:
    """A second restore into the now restored (non-empty) instance is refused, and changes nothing."""
    counts = drill.restored_db.row_counts()
    key = (Path(drill.restored_env["INSTANCE_PATH"]) / "stamp_key").read_bytes()
    again = flask(drill.restored_env, "restore", str(drill.archive))
    assert again.returncode != 0
    assert "đã có dữ liệu" in again.stderr and "already holds data" in again.stderr, again.stderr
    assert drill.restored_db.row_counts() == counts
    assert (Path(drill.restored_env["INSTANCE_PATH"]) / "stamp_key").read_bytes() == key


def test_sqlite_backup_under_load_restores_into_a_fresh_instance(tmp_path):
    drill = run_drill(tmp_path, sqlite_database(tmp_path / "original"), sqlite_database(tmp_path / "restored"))
    try:
        assert drill.archive.stat().st_mode & 0o777 == 0o600
        with closing(sqlite3.connect(Path(drill.restored_env["INSTANCE_PATH"]) / "ocop.db")) as restored:
            assert restored.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert (Path(drill.restored_env["INSTANCE_PATH"]) / "stamp_key").read_text() == \
            (Path(drill.original.env["INSTANCE_PATH"]) / "stamp_key").read_text()
        check_restored(drill)
        check_refused_into_data(drill)
    finally:
        drill.original.stop()


def test_postgresql_backup_under_load_restores_into_a_second_database(tmp_path):
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL to a server")
    names = [f"ocop_b_{role}_{uuid.uuid4().hex[:8]}" for role in ("original", "restored")]
    try:
        drill = run_drill(tmp_path, *(postgresql_database(name) for name in names))
        try:
            check_restored(drill)
            check_refused_into_data(drill)
        finally:
            drill.original.stop()
    finally:
        on_postgresql_server(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


# ---- what restore refuses, on a small instance without a server ----

@dataclass
class SmallInstance:
    env: dict
    archive: Path
    head: str


def new_instance_env(tmp: Path, **settings: str) -> dict:
    env = served_environment(tmp, free_port(), **settings)
    Path(env["INSTANCE_PATH"]).mkdir(parents=True)
    return env


def must_succeed(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> SmallInstance:
    """The demo data (a printed run of 65 stamps) in an instance of its own, and one backup of it."""
    tmp = tmp_path_factory.mktemp("small")
    env = new_instance_env(tmp / "original")
    must_succeed(flask(env, "db", "upgrade"))
    must_succeed(flask(env, "demo"))
    must_succeed(flask(env, "backup", "--to", str(tmp / "backups")))
    with closing(sqlite3.connect(Path(env["INSTANCE_PATH"]) / "ocop.db")) as database:
        head = database.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    return SmallInstance(env, next((tmp / "backups").glob("*.tar")), head)


def rewritten(archive: Path, target: Path, change: dict) -> Path:
    """A copy of the backup with some members' bytes replaced: change maps a member's name to a function."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            data = change.get(member.name, lambda b: b)(data)
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return target


def nothing_restored(env: dict) -> bool:
    instance = Path(env["INSTANCE_PATH"])
    database = instance / "ocop.db"
    tables = []
    if database.exists():
        with closing(sqlite3.connect(database)) as opened:
            tables = opened.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return not tables and not (instance / "runs").exists()


def test_a_backup_from_a_newer_schema_is_refused(small, tmp_path):
    def newer(raw: bytes) -> bytes:
        return json.dumps({**json.loads(raw), "schema_revision": "9999"}).encode()

    archive = rewritten(small.archive, tmp_path / "newer.tar", {"manifest.json": newer})
    env = new_instance_env(tmp_path / "fresh")
    refused = flask(env, "restore", str(archive))
    assert refused.returncode != 0
    assert "phiên bản OCOP Trace mới hơn" in refused.stderr and "newer version of OCOP Trace" in refused.stderr
    assert nothing_restored(env)


def test_a_damaged_backup_changes_nothing(small, tmp_path):
    def damaged(raw: bytes) -> bytes:
        return raw[:-10] + b"0123456789"

    archive = rewritten(small.archive, tmp_path / "damaged.tar", {"files/runs/run-1.pdf": damaged})
    env = new_instance_env(tmp_path / "fresh")
    refused = flask(env, "restore", str(archive))
    assert refused.returncode != 0
    assert "bị hỏng" in refused.stderr and "files/runs/run-1.pdf does not match its hash" in refused.stderr
    assert nothing_restored(env)


def test_a_file_that_is_no_backup_is_refused(tmp_path):
    not_a_backup = tmp_path / "ocop-backup-20260101-000000.tar"
    not_a_backup.write_text("giấy tờ")
    env = new_instance_env(tmp_path / "fresh")
    refused = flask(env, "restore", str(not_a_backup))
    assert refused.returncode != 0
    assert "OCOP Trace backup" in refused.stderr
    assert nothing_restored(env)


def test_a_different_stamp_key_in_the_environment_needs_force(small, tmp_path):
    env = new_instance_env(tmp_path / "fresh", STAMP_KEY="another-provinces-key")
    refused = flask(env, "restore", str(small.archive))
    assert refused.returncode != 0
    assert "STAMP_KEY" in refused.stderr and "không tải lại được" in refused.stderr
    assert nothing_restored(env)

    forced = must_succeed(flask(env, "restore", "--force", str(small.archive)))
    assert "STAMP_KEY in the environment still differs" in forced.stderr
    backup_key = (Path(small.env["INSTANCE_PATH"]) / "stamp_key").read_text()
    assert (Path(env["INSTANCE_PATH"]) / "stamp_key").read_text() == backup_key


def test_a_backup_from_an_older_schema_is_upgraded_on_restore(small, tmp_path):
    older = new_instance_env(tmp_path / "older")
    must_succeed(flask(older, "db", "upgrade", "0020"))
    must_succeed(flask(older, "backup", "--to", str(tmp_path / "backups")))
    archive = next((tmp_path / "backups").glob("*.tar"))

    env = new_instance_env(tmp_path / "fresh")
    restored = must_succeed(flask(env, "restore", str(archive)))
    assert f"từ cấu trúc 0020 lên {small.head}" in restored.stdout
    with closing(sqlite3.connect(Path(env["INSTANCE_PATH"]) / "ocop.db")) as database:
        assert database.execute("SELECT version_num FROM alembic_version").fetchall() == [(small.head,)]


def test_files_in_an_s3_store_are_backed_up_and_restored_into_another_bucket(weed_s3, tmp_path):
    """With STORAGE_URL=s3://…, the run PDFs come from the bucket into the backup, and go back into the new
    instance's bucket, byte for byte."""
    original_bucket, restored_bucket = weed_s3.new_bucket("ocop-backup"), weed_s3.new_bucket("ocop-restore")
    original = new_instance_env(tmp_path / "original", STORAGE_URL=f"s3://{original_bucket}", **weed_s3.environ())
    must_succeed(flask(original, "db", "upgrade"))
    must_succeed(flask(original, "demo"))
    must_succeed(flask(original, "backup", "--to", str(tmp_path / "backups")))
    archive = next((tmp_path / "backups").glob("*.tar"))

    restored = new_instance_env(tmp_path / "restored", STORAGE_URL=f"s3://{restored_bucket}", **weed_s3.environ())
    must_succeed(flask(restored, "restore", str(archive)))
    client = weed_s3.client()

    def objects(bucket: str) -> dict[str, str]:
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {item["Key"]: hashlib.sha256(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()).hexdigest()
                for item in listed}

    stored = objects(original_bucket)
    assert "runs/run-1.pdf" in stored
    assert objects(restored_bucket) == stored
    assert not (Path(restored["INSTANCE_PATH"]) / "runs").exists()  # into the store, not the instance directory
