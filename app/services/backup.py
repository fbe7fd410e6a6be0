"""Backups: one file that holds everything a new server needs, written while the app serves, and brought back.

A backup is one tar file, `ocop-backup-YYYYMMDD-HHMMSS.tar` (UTC), mode 0600 since it holds the stamp key:
- `database/ocop.sqlite3` (SQLite's online backup API: one consistent snapshot of the live file while
  gunicorn writes to it) or `database/ocop.pgdump` (`pg_dump --format=custom`, run in a snapshot that the
  row counts are read in too);
- `files/<key>`: every stored file (run PDFs, photos, waiting imports), read through app/storage.py, so
  from the instance directory or the S3 store alike;
- `stamp_key`: the key the codes of every run are derived from;
- `manifest.json`, written last: when, the schema revision (alembic), the database kind, the row count of
  every table read from the snapshot itself, and each file's size and SHA-256.

Invariants:
- The database is copied first, the files after it. Files are only ever added, never changed, so every
  file a row of the snapshot names is in the backup; files added later may be in it or not. (The one
  exception: a photo replaced, and so deleted, between the snapshot and the file's copy.)
- The file appears under its final name only once complete (written under a temporary name, then linked).
- A restore changes nothing until the whole backup has been read and checked: its hashes, its schema
  (never newer than the code), the target database (empty unless forced) and the stamp key (never replaced
  by one that differs from STAMP_KEY in the environment, unless forced).
"""
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection

from app.extensions import db
from app.storage import BadKey, check_key, storage
from app.services.errors import lazy_text as _l

FORMAT = 1
MANIFEST = "manifest.json"
STAMP_KEY_MEMBER = "stamp_key"
FILES_PREFIX = "files/"
DATABASE_MEMBERS = {"sqlite": "database/ocop.sqlite3", "postgresql": "database/ocop.pgdump"}
NAME_PATTERN = "ocop-backup-%Y%m%d-%H%M%S.tar"
# Filled by the migrations themselves: a freshly migrated database has rows in these and nothing else.
REFERENCE_TABLES = frozenset({"alembic_version", "provinces", "communes", "banned_substances", "banned_trade_names"})
CHUNK = 1 << 20


class BackupRefused(Exception):
    """A backup or restore that cannot go on; the message says why and what to do, in the user's words."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class StoredFile:
    key: str
    size: int
    sha256: str


@dataclass
class Manifest:
    created_at: str
    schema_revision: str
    database_kind: str
    database_member: str
    database_sha256: str
    row_counts: dict[str, int]
    files: list[StoredFile]
    stamp_key_sha256: str
    format: int = FORMAT

    def to_json(self) -> bytes:
        data = {**self.__dict__, "files": [f.__dict__ for f in self.files]}
        return json.dumps(data, ensure_ascii=False, indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        data = json.loads(raw)
        data["files"] = [StoredFile(**f) for f in data["files"]]
        return cls(**data)


@dataclass
class Backup:
    path: Path
    manifest: Manifest

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass
class Restored:
    manifest: Manifest
    upgraded_to: str | None  # the schema revision the restored database was migrated to, when it was older
    warnings: list = field(default_factory=list)  # messages to show loudly (the stamp key)


# --- writing a backup ---------------------------------------------------------------------------------

def create_backup(folder: Path) -> Backup:
    """Write one backup file into `folder`: the database snapshot first, then the files, the key, the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    final = folder / created.strftime(NAME_PATTERN)
    if final.exists():
        raise BackupRefused(_l("A backup named %(name)s already exists; wait a second and run it again.", name=final.name))
    with tempfile.TemporaryDirectory(dir=folder, prefix=".ocop-backup-") as work:
        snapshot = snapshot_database(Path(work))
        partial = Path(work) / "backup.tar"
        with _private_file(partial) as out, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
            archive.add(snapshot.path, arcname=DATABASE_MEMBERS[snapshot.kind], filter=_owner_only)
            files = [stored for stored in _add_stored_files(archive, Path(work)) if stored]
            key = current_app.config["STAMP_KEY"].encode()
            _add_bytes(archive, STAMP_KEY_MEMBER, key)
            manifest = Manifest(
                created_at=created.isoformat(timespec="seconds"), schema_revision=snapshot.revision,
                database_kind=snapshot.kind, database_member=DATABASE_MEMBERS[snapshot.kind],
                database_sha256=_sha256_of(snapshot.path), row_counts=snapshot.row_counts, files=files,
                stamp_key_sha256=hashlib.sha256(key).hexdigest(),
            )
            _add_bytes(archive, MANIFEST, manifest.to_json())
        os.link(partial, final)  # fails rather than replace a backup of the same second
    return Backup(final, manifest)


@contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
    """A new file only its owner can read (it will hold the stamp key), flushed to disk when closed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        yield out
        out.flush()
        os.fsync(out.fileno())


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Members extracted by hand (`tar -x`) are readable by their owner only, like the backup itself."""
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(datetime.now(timezone.utc).timestamp())
    archive.addfile(_owner_only(info), io.BytesIO(data))


def _add_stored_files(archive: tarfile.TarFile, work: Path) -> Iterator[StoredFile | None]:
    store = storage()
    for key in list(store.keys("")):
        yield _add_stored_file(archive, store, key, work)


def _add_stored_file(archive: tarfile.TarFile, store, key: str, work: Path) -> StoredFile | None:
    """Copy one stored file into the archive, hashing it on the way; None if it went away since it was listed
    (a waiting import cleared, or a photo replaced after the snapshot: its row in the backup then shows no photo)."""
    digest, size = hashlib.sha256(), 0
    with tempfile.SpooledTemporaryFile(16 * CHUNK, dir=work) as spool:
        try:
            with store.open(key) as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    spool.write(chunk)
        except FileNotFoundError:
            return None
        spool.seek(0)
        info = tarfile.TarInfo(FILES_PREFIX + key)
        info.size, info.mtime = size, int(datetime.now(timezone.utc).timestamp())
        archive.addfile(_owner_only(info), spool)
    return StoredFile(key, size, digest.hexdigest())


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- the database snapshot ----------------------------------------------------------------------------

@dataclass
class Snapshot:
    kind: str
    path: Path
    revision: str
    row_counts: dict[str, int]


def snapshot_database(work: Path) -> Snapshot:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return _snapshot_sqlite(Path(url.database), work / "ocop.sqlite3")
    if url.get_backend_name() == "postgresql":
        return _snapshot_postgresql(work / "ocop.pgdump")
    raise BackupRefused(_l("Backups support SQLite and PostgreSQL databases only."))


def _snapshot_sqlite(live: Path, copy: Path) -> Snapshot:
    """One consistent copy of the live file through SQLite's online backup API; its counts are the copy's."""
    if not live.is_file():
        raise BackupRefused(_l("The database file %(path)s does not exist.", path=str(live)))
    with closing(sqlite3.connect(live, timeout=60)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # all pages in one step: a single read transaction, so a single moment
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    with closing(sqlite3.connect(copy)) as snapshot:
        tables = [name for (name,) in snapshot.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {table: snapshot.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        revision = _revision_in(snapshot.execute("SELECT version_num FROM alembic_version").fetchall())
    return Snapshot("sqlite", copy, revision, counts)


def _revision_in(rows) -> str:
    if len(rows) != 1:
        raise BackupRefused(_l("The database has no schema revision: run `flask db upgrade` first."))
    return rows[0][0]


def _snapshot_postgresql(dump: Path) -> Snapshot:
    """pg_dump in a snapshot exported from a read-only transaction, whose row counts are read in that very
    snapshot: the counts describe the dump exactly, however much the app writes meanwhile."""
    snapshot_reader = db.engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with snapshot_reader as connection:
        snapshot_id = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        _run_pg_tool(connection, "pg_dump", "--format=custom", f"--snapshot={snapshot_id}", f"--file={dump}")
        tables = sorted(inspect(connection).get_table_names())
        counts = {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() for table in tables}
        revision = _revision_in(connection.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall())
        connection.rollback()  # read only: nothing to keep
    return Snapshot("postgresql", dump, revision, counts)


def _run_pg_tool(connection: Connection, tool: str, *args: str) -> None:
    """Run pg_dump or pg_restore of the server's major version on DATABASE_URL (password in the environment,
    never on the command line, where any user of the machine could read it)."""
    url: URL = db.engine.url
    env = {**os.environ, "PGPASSWORD": url.password or os.environ.get("PGPASSWORD", "")}
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    server_major = connection.exec_driver_sql("SHOW server_version_num").scalar()
    done = subprocess.run([pg_tool(tool, int(server_major) // 10000), *args, f"--dbname={target}"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupRefused(_l("%(tool)s failed: %(error)s", tool=tool, error=done.stderr.strip()[-2000:]))


def pg_tool(tool: str, server_major: int) -> str:
    """The program of the server's major version (Debian installs each under /usr/lib/postgresql/N/bin), else
    the newest one there that is newer than the server (pg_dump reads older servers), else the one on PATH."""
    versions = sorted((int(p.parent.parent.name), p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{tool}")
                      if p.parent.parent.name.isdigit())
    exact = [path for major, path in versions if major == server_major]
    newer = [path for major, path in versions if major > server_major]
    chosen = exact or newer[-1:] or [shutil.which(tool)]
    if chosen[0] is None:
        raise BackupRefused(_l("%(tool)s is not installed (Debian: apt-get install postgresql-client).", tool=tool))
    return str(chosen[0])


# --- restoring ----------------------------------------------------------------------------------------

def restore_backup(archive_path: Path, force: bool = False) -> Restored:
    """Bring a backup back into this instance's database, file storage and instance directory.

    Everything is checked before anything is changed; see the module's invariants."""
    with _open_archive(archive_path) as archive:
        manifest = read_manifest(archive)
        kind = db.engine.url.get_backend_name()
        if manifest.database_kind != kind:
            raise BackupRefused(_l("This backup holds a %(theirs)s database, but DATABASE_URL names a %(ours)s one.",
                                   theirs=manifest.database_kind, ours=kind))
        newer = _schema_is_unknown(manifest.schema_revision)
        if newer:
            raise BackupRefused(_l(
                "This backup was made by a newer version of OCOP Trace (schema %(revision)s). Install that version or a later one, then restore.",
                revision=manifest.schema_revision))
        if not force and database_has_data():
            raise BackupRefused(_l(
                "This database already holds data; nothing was changed. Restore into a new, empty instance, or add --force to replace everything in it with the backup."))
        warnings = _check_stamp_key(archive, manifest, force)
        Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".ocop-restore-", dir=current_app.instance_path) as work:
            extracted = _extract_checked(archive, manifest, Path(work))
            _restore_database(manifest, extracted[manifest.database_member])
            upgraded = _upgrade_if_older(manifest.schema_revision)
            store = storage()
            for stored in manifest.files:
                store.put_file(stored.key, extracted[FILES_PREFIX + stored.key], _content_type(stored.key))
            write_stamp_key(archive.extractfile(STAMP_KEY_MEMBER).read().decode())
    return Restored(manifest, upgraded, warnings)


@contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        archive = tarfile.open(path, mode="r:*")
    except (OSError, tarfile.TarError) as exc:
        raise BackupRefused(_l("%(path)s cannot be read as an OCOP Trace backup: %(error)s", path=str(path), error=str(exc))) from exc
    with archive:
        yield archive


def read_manifest(archive: tarfile.TarFile) -> Manifest:
    try:
        manifest = Manifest.from_json(archive.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise BackupRefused(_l("This file is not a complete OCOP Trace backup: its manifest is missing or damaged.")) from exc
    if manifest.format != FORMAT:
        raise BackupRefused(_l("This backup's format (%(format)s) is not one this version can read.", format=manifest.format))
    return manifest


def _migration_scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def _schema_is_unknown(revision: str) -> bool:
    """A revision our migrations do not know comes from newer code (ours only ever add revisions)."""
    return revision not in {script.revision for script in _migration_scripts().walk_revisions()}


def database_has_data() -> bool:
    """True when any table beyond those the migrations fill holds a row (a fresh, migrated database has none)."""
    with db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names()) - REFERENCE_TABLES
        found = any(connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() for table in sorted(tables))
        connection.rollback()
    return found


def current_stamp_key_file() -> Path:
    return Path(current_app.instance_path) / "stamp_key"


def _check_stamp_key(archive: tarfile.TarFile, manifest: Manifest, force: bool) -> list:
    """Check the backup's stamp key against this instance's; the warnings to show once it is written.

    The codes of every printed run are derived from that key. STAMP_KEY in the environment wins over the
    file, so one that differs from the backup's is refused unless forced: the restored runs could never be
    downloaded again with it. A different key file in the instance directory only ever signed the runs of the
    database being replaced: an empty database (a new instance made its own key) has none; replacing one
    with data needs --force anyway, and the warning says what is lost."""
    backup_key = archive.extractfile(STAMP_KEY_MEMBER).read().decode()
    if hashlib.sha256(backup_key.encode()).hexdigest() != manifest.stamp_key_sha256:
        raise BackupRefused(_l("The stamp key in this backup is damaged (its hash differs from the manifest's)."))
    warnings = []
    if os.environ.get("STAMP_KEY") and os.environ["STAMP_KEY"] != backup_key:
        if not force:
            raise BackupRefused(_l(
                "STAMP_KEY in the environment differs from the backup's stamp key: the restored runs could not be downloaded again. Set STAMP_KEY to the backup's key (the file stamp_key inside the backup), or add --force."))
        warnings.append(_l("STAMP_KEY in the environment still differs from the backup's stamp key: set it to the key in the instance directory's stamp_key file, or the restored runs cannot be downloaded again."))
    path = current_stamp_key_file()
    existing = path.read_text().strip() if path.is_file() else None
    if existing not in (None, backup_key) and _instance_has_printed():
        warnings.append(_l("The instance's own stamp key was replaced by the backup's: runs printed with the old key can no longer be downloaded again."))
    return warnings


def _instance_has_printed() -> bool:
    with db.engine.connect() as connection:
        if "label_runs" not in inspect(connection).get_table_names():
            return False
        printed = connection.execute(text("SELECT 1 FROM label_runs LIMIT 1")).first() is not None
        connection.rollback()
    return printed


def write_stamp_key(key: str) -> None:
    """Write the key into the instance directory in one step, readable by its owner only."""
    path = current_stamp_key_file()
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".stamp_key.")  # created 0600
    with os.fdopen(fd, "w") as out:
        out.write(key)
    os.replace(partial, path)


def _extract_checked(archive: tarfile.TarFile, manifest: Manifest, work: Path) -> dict[str, Path]:
    """Every member the manifest names, extracted into `work` and checked against its hash."""
    wanted = {manifest.database_member: manifest.database_sha256}
    for stored in manifest.files:
        try:
            check_key(stored.key)
        except BadKey as exc:
            raise BackupRefused(_l("The backup names a file this application does not store: %(key)s.", key=stored.key)) from exc
        wanted[FILES_PREFIX + stored.key] = stored.sha256
    extracted = {}
    for index, (member, expected) in enumerate(wanted.items()):
        target = work / f"{index:08d}"
        try:
            source = archive.extractfile(member)
        except KeyError:
            source = None
        if source is None:
            raise BackupRefused(_l("The backup is incomplete: %(name)s is missing.", name=member))
        with source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        if _sha256_of(target) != expected:
            raise BackupRefused(_l("The backup is damaged: %(name)s does not match its hash.", name=member))
        extracted[member] = target
    return extracted


def _restore_database(manifest: Manifest, copy: Path) -> None:
    db.session.remove()
    if manifest.database_kind == "sqlite":
        _restore_sqlite(copy)
    else:
        _restore_postgresql(copy)
    db.engine.dispose()  # no pooled connection may keep a view of the database as it was


def _restore_sqlite(copy: Path) -> None:
    """Copy the snapshot into the database file through SQLite itself, so that the file's WAL is kept right."""
    db.engine.dispose()
    live = Path(db.engine.url.database)
    live.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(copy)) as source, closing(sqlite3.connect(live, timeout=60)) as target:
        source.backup(target)


def _restore_postgresql(dump: Path) -> None:
    """An empty public schema first (a newer schema's extra tables would stop the upgrade), then pg_restore."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
        connection.commit()
        _run_pg_tool(connection, "pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error", str(dump))


def _upgrade_if_older(revision: str) -> str | None:
    head = _migration_scripts().get_current_head()
    if revision == head:
        return None
    upgrade()
    return head


def _content_type(key: str) -> str:
    return {".pdf": "application/pdf", ".jpg": "image/jpeg", ".csv": "text/csv",
            ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}.get(Path(key).suffix, "application/octet-stream")


def default_folder() -> Path:
    return Path(current_app.instance_path) / "backups"
