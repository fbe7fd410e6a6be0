"""Engine settings that make SQLite behave under a multi-worker web server."""
import os
import sqlite3

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

SQLITE_BUSY_TIMEOUT_MS = 10_000  # default of the SQLITE_BUSY_TIMEOUT_MS environment variable
SQLITE_MMAP_BYTES = 1 << 30
# PostgreSQL's lock_not_available (lock_timeout), serialization_failure and deadlock_detected: the
# transaction lost a race for a lock and was rolled back; the same request succeeds a moment later.
POSTGRESQL_LOCK_SQLSTATES = frozenset({"55P03", "40001", "40P01"})


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy, not the driver, issue BEGIN, so that we can make it BEGIN IMMEDIATE below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Stamp lookups land anywhere in a large index: read it through the OS page cache without a copy.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def busy_timeout_ms() -> int:
    """How long an SQLite connection waits for another's write lock before giving up ("database is
    locked", answered as 503 by app/errors.py). Read from the environment at each connect, so that it holds
    for every engine of the process: the application's, the rate-limit counters', a label worker's."""
    return int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS") or SQLITE_BUSY_TIMEOUT_MS)


@event.listens_for(Engine, "begin")
def _begin_immediate(conn) -> None:
    # A deferred transaction that reads and then writes cannot wait for another writer: SQLite
    # answers "database is locked" at once. Taking the write lock at BEGIN makes the busy
    # timeout apply, so two gunicorn workers queue instead of failing.
    # A connection marked `single_statements` (the scan page) issues no BEGIN: each statement commits by itself.
    if conn.dialect.name == "sqlite" and not conn.get_execution_options().get("single_statements"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def single_statement_connection(engine: Engine) -> Connection:
    """A connection whose statements each commit by themselves on SQLite (no BEGIN, see above): a short
    write holds the write lock only while it runs, and never waits on a lock its own request holds."""
    return engine.connect().execution_options(single_statements=True)


def insert_for(engine: Engine):
    """The dialect's INSERT, which offers ON CONFLICT (upserts) on both SQLite and PostgreSQL."""
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert


def is_lock_timeout(error: DBAPIError) -> bool:
    """True when the statement failed only because another transaction held a lock for too long (SQLite's
    "database is locked" after the busy timeout, PostgreSQL's lock and serialization failures)."""
    sqlite_code = getattr(error.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # extended codes keep the base in the low byte
    return getattr(error.orig, "sqlstate", None) in POSTGRESQL_LOCK_SQLSTATES
