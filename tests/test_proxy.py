"""Behind a reverse proxy (TRUSTED_PROXIES=1) each client is known by its X-Forwarded-For address; with no
proxy configured the header is ignored, since any client can send it."""
from flask import request_started
from sqlalchemy import select

from app.models import Scan
from app.scan import scans
from app.services import codes
from tests.factories import on_sale_stamps

# Well-formed codes (their check characters are right) that no stamp has: each lookup counts as unknown.
UNKNOWN = tuple(f"/Q/{codes.derive_code(b'not-the-stamp-key', 1, serial)}" for serial in (1, 2, 3))
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN"}
PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # every request reaches the app from the proxy's address


def _unknown_code_statuses(client, forwarded_for: str) -> list[int]:
    headers = {**PHONE, "X-Forwarded-For": forwarded_for}
    return [client.get(path, headers=headers, environ_base=PROXY).status_code for path in UNKNOWN]


def test_behind_one_proxy_each_forwarded_client_has_its_own_bucket(app_with):
    client = app_with(TRUSTED_PROXIES=1, UNKNOWN_CODE_LIMIT="2 per minute").test_client()
    assert _unknown_code_statuses(client, "203.0.113.1") == [404, 404, 429]
    assert _unknown_code_statuses(client, "203.0.113.2") == [404, 404, 429]  # not the first client's bucket
    # A client's own X-Forwarded-For before the proxy's is not believed: the proxy appends the real address.
    assert _unknown_code_statuses(client, "203.0.113.9, 203.0.113.1") == [429, 429, 429]


def test_without_a_proxy_the_header_is_ignored(app_with):
    client = app_with(TRUSTED_PROXIES=0, UNKNOWN_CODE_LIMIT="2 per minute").test_client()
    assert _unknown_code_statuses(client, "203.0.113.1") == [404, 404, 429]
    assert _unknown_code_statuses(client, "203.0.113.2") == [429, 429, 429]  # same connection, same bucket


def test_the_scan_fast_path_and_the_view_see_the_same_forwarded_client(app_with, db, coop_a):
    (first, second), _run, _batch = on_sale_stamps(db, coop_a, 2)
    proxied = app_with(TRUSTED_PROXIES=1)
    views_run = []
    request_started.connect(lambda sender, **extra: views_run.append(1), proxied, weak=False)
    client = proxied.test_client()
    headers = {**PHONE, "X-Forwarded-For": "198.51.100.7"}
    client.get(f"/Q/{first}", headers=headers, environ_base=PROXY)  # the view: renders and caches the page
    client.get(f"/Q/{second}", headers=headers, environ_base=PROXY)  # the fast path, from the cache
    assert len(views_run) == 1
    recorded = db.session.execute(select(Scan.device_hash, Scan.day)).all()
    assert len(recorded) == 2
    with proxied.app_context():  # the per-day salt comes from this application's secret key
        for device, day in recorded:
            assert device == scans.device_hash("198.51.100.7", PHONE["User-Agent"], day)
