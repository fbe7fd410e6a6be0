"""Errors that app/errors.py answers (429, 503) come out of /api/v1 as problem+json too, with their headers."""
import json
import sqlite3
from contextlib import closing

import pytest

from app.services import codes
from tests.served import start_gunicorn

UNKNOWN = codes.derive_code(b"a key no run was minted with", 1, 1)


def test_unknown_codes_past_the_limit_are_a_429_problem(app_with, db):
    client = app_with(UNKNOWN_CODE_LIMIT="2 per minute").test_client()
    answers = [client.get(f"/api/v1/stamps/{UNKNOWN}/verdict", headers={"Accept-Language": "en"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    throttled = answers[-1]
    assert throttled.mimetype == "application/problem+json" and throttled.headers["Retry-After"] == "60"
    body = throttled.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests" and body["detail"].startswith("Too many requests")


@pytest.mark.served
def test_a_call_while_the_database_is_locked_is_a_503_problem(tmp_path_factory):
    served = start_gunicorn(tmp_path_factory.mktemp("busy-api"), SQLITE_BUSY_TIMEOUT_MS="500")
    try:
        with closing(sqlite3.connect(served.database, isolation_level=None)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                answer = served.visitor().get(f"/api/v1/stamps/{UNKNOWN}/verdict")
            finally:
                connection.execute("ROLLBACK")
        assert answer.status == 503 and answer.content_type == "application/problem+json"
        assert int(answer.headers["Retry-After"]) > 0
        body = json.loads(answer.text)
        assert body["status"] == 503 and body["detail"] == "Hệ thống đang bận, thử lại sau ít giây."
        assert served.visitor().get(f"/api/v1/stamps/{UNKNOWN}/verdict").status == 404  # once the lock is free
    finally:
        served.stop()
