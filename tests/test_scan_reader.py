"""The scan page's lookups on PostgreSQL run on a pool of their own: autocommit connections, neither pinged nor
rolled back, so a lookup is one round trip; a connection the server closed is replaced and the scan answered."""
import pytest
from sqlalchemy import text

from tests.factories import on_sale_stamps

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN"}


def _reader(app):
    return app.extensions["scan_reader"]


@pytest.fixture
def on_postgresql(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the scan page's reader pool exists on PostgreSQL only (SQLite has no round trips to save)")


def _reader_backend_pid(app) -> int:
    connection = _reader(app).raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
    finally:
        connection.close()


def test_lookups_run_in_autocommit_on_a_pool_that_is_never_pinged(app, client, db, coop_a, on_postgresql):
    (stamp,), _run, _batch = on_sale_stamps(db, coop_a, 1)
    assert client.get(f"/Q/{stamp}", headers=PHONE).status_code == 200
    reader = _reader(app)
    assert reader is not db.engine and reader.pool._pre_ping is False
    connection = reader.raw_connection()
    try:
        assert connection.dbapi_connection.autocommit is True  # no BEGIN before, no ROLLBACK after a lookup
    finally:
        connection.close()


def test_a_connection_the_server_closed_is_replaced_and_the_scan_answers(app, client, db, coop_a, on_postgresql, caplog):
    (stamp,), _run, _batch = on_sale_stamps(db, coop_a, 1)
    assert client.get(f"/Q/{stamp}", headers=PHONE).status_code == 200
    pid = _reader_backend_pid(app)
    assert db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    db.session.commit()
    caplog.clear()
    page = client.get(f"/Q/{stamp}", headers=PHONE)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]  # answered by the retry, no failure
    assert page.status_code == 200 and stamp[:4] in page.get_data(as_text=True).replace(" ", "")
    assert _reader_backend_pid(app) != pid


def test_on_sqlite_the_lookups_use_the_applications_engine(app, client, db, coop_a):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    (stamp,), _run, _batch = on_sale_stamps(db, coop_a, 1)
    assert client.get(f"/Q/{stamp}", headers=PHONE).status_code == 200
    assert _reader(app) is db.engine
