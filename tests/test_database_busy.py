"""A write that waits past SQLite's busy timeout answers 503 with Retry-After and "Hệ thống đang bận" instead of
the generic error page; the request's transaction is rolled back whole, and sending the form again works
once the lock is free. Through gunicorn, with another connection holding the write lock (BEGIN IMMEDIATE)."""
import re
import sqlite3
from contextlib import closing, contextmanager

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from app.database import is_lock_timeout
from app.services.demo import DEMO_PASSWORD
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, needs_chromium
from tests.served import ServedApp, start_gunicorn

pytestmark = pytest.mark.served

BUSY_MESSAGE = "Hệ thống đang bận, thử lại sau ít giây"
BUSY_TIMEOUT_MS = 500


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("busy"), SQLITE_BUSY_TIMEOUT_MS=str(BUSY_TIMEOUT_MS))
    yield server
    server.stop()


@contextmanager
def write_lock_held(served: ServedApp):
    """Another connection holds SQLite's write lock (as a long write by another worker would) until the block ends."""
    with closing(sqlite3.connect(served.database, isolation_level=None)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")


def everything(served: ServedApp) -> list[str]:
    """The whole database as SQL, but for the rate-limit counters (which are not anyone's data)."""
    with closing(sqlite3.connect(served.database)) as connection:
        return [line for line in connection.iterdump() if "rate_limit_counters" not in line]


def test_a_form_sent_while_the_database_is_locked_gets_503_and_can_be_sent_again(served):
    admin = served.visitor()
    admin.sign_in("admin@ocop.vn", DEMO_PASSWORD)
    form = {"csrf_token": admin.csrf_token("/admin/banned-substances"), "substances": "Carbofuran; carbamate\nParaquat"}
    before = everything(served)

    with write_lock_held(served):
        refused = admin.request("POST", "/admin/banned-substances", form)
    assert refused.status == 503, refused.text[:1000]
    assert int(refused.headers["Retry-After"]) > 0
    assert BUSY_MESSAGE in refused.text and '<html lang="vi">' in refused.text
    assert refused.headers["Cache-Control"] == "no-store"
    assert everything(served) == before  # nothing half-written, nothing saved lost

    accepted = admin.request("POST", "/admin/banned-substances", form)
    assert accepted.status == 302, accepted.text[:1000]
    assert {name for (name,) in served.query("SELECT name FROM banned_substances")} == {"Carbofuran", "Paraquat"}
    assert '" 503 ' in served.access_log and '" 500 ' not in served.access_log


def test_an_api_call_while_the_database_is_locked_gets_503_json(served):
    visitor = served.visitor()
    with write_lock_held(served):
        answer = visitor.get("/api/communes?q=Luc")
    assert answer.status == 503 and answer.content_type == "application/json"
    assert "Retry-After" in answer.headers


@needs_chromium
@pytest.mark.browser
def test_the_browser_keeps_the_typed_form_to_send_again(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = chromium.new_page(locale="vi-VN")
        page.set_default_timeout(15_000)
        page.goto(f"{served.base}/sign-in")
        page.get_by_label("Email hoặc số điện thoại").fill("admin@ocop.vn")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(re.compile(r".*/admin/$"))
        page.goto(f"{served.base}/admin/banned-substances")
        typed = "Carbofuran; carbamate\nMethomyl\nChlorpyrifos"
        page.locator("textarea").fill(typed)
        with write_lock_held(served):
            with page.expect_response(lambda r: r.request.method == "POST") as sent:
                page.get_by_role("button").filter(has_text=re.compile("Lưu")).click()
            assert sent.value.status == 503
            assert BUSY_MESSAGE in page.content()
            page.screenshot(path=str(served.instance.parent / "busy.png"), full_page=True)
        page.go_back()  # a few seconds later, as the page says
        assert page.locator("textarea").input_value() == typed
        page.get_by_role("button").filter(has_text=re.compile("Lưu")).click()
        page.wait_for_url(re.compile(r".*/admin/banned-substances$"))
        chromium.close()
    assert {name for (name,) in served.query("SELECT name FROM banned_substances")} == {"Carbofuran", "Methomyl", "Chlorpyrifos"}


def _driver_error(orig: Exception) -> OperationalError:
    return OperationalError("UPDATE …", {}, orig)


def test_lock_timeouts_are_told_from_other_database_errors(tmp_path):
    database = tmp_path / "locked.db"
    with closing(sqlite3.connect(database, isolation_level=None)) as holder, closing(sqlite3.connect(database, timeout=0)) as waiter:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as locked:
            waiter.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as no_table:
            waiter.execute("SELECT * FROM missing")
    assert is_lock_timeout(_driver_error(locked.value))
    assert not is_lock_timeout(_driver_error(no_table.value))
    # PostgreSQL: lock_timeout, serialization failure, deadlock; not, say, the server shutting down.
    for busy in (psycopg.errors.LockNotAvailable, psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
        assert is_lock_timeout(_driver_error(busy("canceling statement")))
    assert not is_lock_timeout(_driver_error(psycopg.errors.AdminShutdown("terminating connection")))
