"""The scan page's fast path answers plain scans from the rendered-page cache with what the Flask view would
send, records the scan, and hands everything else to the view."""
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from app.models import Scan
from app.scan.fast_path import ScanFastPath
from app.services import codes
from tests.factories import on_sale_stamps

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN"}


class FlaskView:
    """Stands where the Flask app would be called, to see whether the fast path passed the request on."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        start_response("418 I'm a teapot", [])
        return [b""]


def _call(app, path, **builder):
    view, response = FlaskView(), {}
    environ = EnvironBuilder(path=path, headers={**PHONE, **builder.pop("headers", {})}, **builder).get_environ()
    body = b"".join(ScanFastPath(app, view)(environ, lambda status, headers: response.update(status=status, headers=dict(headers))))
    return view.calls, response, body.decode()


def _scans(db) -> int:
    count = db.session.scalar(select(func.count()).select_from(Scan))
    db.session.commit()
    return count


def test_a_plain_scan_is_answered_from_the_cache_like_the_view(app, client, db, coop_a):
    (first, second, third), _run, _batch = on_sale_stamps(db, coop_a, 3)
    via_view = client.get(f"/Q/{first}", headers=PHONE)  # renders and caches the listing's page
    passed_on, response, body = _call(app, f"/Q/{second}")
    assert passed_on == 0 and response["status"] == "200 OK"
    assert body == via_view.get_data(as_text=True).replace(codes.group(first), codes.group(second))
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Cache-Control"):
        assert response["headers"][name] == via_view.headers[name]
    assert _scans(db) == 2


def test_everything_else_goes_to_the_view(app, client, db, coop_a):
    (first, second), _run, _batch = on_sale_stamps(db, coop_a, 2)
    client.get(f"/Q/{first}", headers=PHONE)
    before = _scans(db)
    for path, extra in ((f"/Q/{second}", {"query_string": "lang=en"}), (f"/Q/{second}", {"headers": {"Cookie": "session=x"}}),
                        ("/Q/7KQ4M2XD9PTA3HVBF", {}), (f"/Q/{second}", {"method": "POST"}), (f"/Q/{second}", {"headers": {"Accept-Language": "zh-CN"}})):
        passed_on, _response, _body = _call(app, path, **extra)
        assert passed_on == 1, (path, extra)
    assert _scans(db) == before  # what the fast path passes on, it has not recorded


def test_a_page_is_not_served_from_the_cache_once_an_input_of_its_verdict_changed(app, client, db, coop_a):
    """Decisions, overrides, recalls and the stamp's own scans all change what the page says first."""
    from app.i18n import local_today
    from app.models import Role
    from app.services import accounts, commune_watch, compliance, listings

    officer = accounts.create_user(name="Cán bộ", login="canbo@xa.vn", password="mat-khau-thu-nghiem", role=Role.OFFICER, commune_codes=[coop_a.commune_code])
    stamp_codes, _run, batch = on_sale_stamps(db, coop_a, 6)
    client.get(f"/Q/{stamp_codes[0]}", headers=PHONE)
    assert _call(app, f"/Q/{stamp_codes[1]}")[0] == 0  # a first scan of another stamp: the same page
    assert _call(app, f"/Q/{stamp_codes[1]}")[0] == 1  # its second scan says "scanned 2 times": not rendered yet
    changes = [
        lambda: listings.verify(officer.id, batch.id, None, local_today()),
        lambda: compliance.override_gate(officer.id, batch.id, "Đã kiểm nghiệm"),
        lambda: commune_watch.recall(officer.id, batch.id, "Dư lượng thuốc", local_today()),
    ]
    for code, change in zip(stamp_codes[2:], changes):
        change()
        passed_on, _response, _body = _call(app, f"/Q/{code}")
        assert passed_on == 1
        client.get(f"/Q/{code}", headers=PHONE)  # the view renders the page for the new key, for the next change to miss
    assert "đã bị thu hồi" in client.get(f"/Q/{stamp_codes[5]}", headers=PHONE).get_data(as_text=True)


def test_repeated_scans_share_one_cached_page_and_each_gets_its_own_numbers(app, client, db, coop_a):
    from app.i18n import local_today

    (first, second), _run, _batch = on_sale_stamps(db, coop_a, 2)
    client.get(f"/Q/{first}", headers=PHONE)
    client.get(f"/Q/{first}", headers=PHONE)  # the view renders the page of a stamp's second scan by one phone
    pages = len(app.extensions["rendered_parts"])
    since = local_today().strftime("%d/%m/%Y")
    for code, times in ((second, 1), (second, 2), (first, 3), (first, 4), (second, 3)):
        passed_on, _response, body = _call(app, f"/Q/{code}", environ_base={"REMOTE_ADDR": "127.0.0.1"})  # one phone, as above
        assert passed_on == 0, (code, times)
        assert codes.group(code) in body and "\x00" not in body
        if times == 1:
            assert "Đây là lần kiểm tra đầu tiên của tem này." in body
        else:
            assert f"Tem này đã được quét {times} lần (kể cả lần này) trên 1 điện thoại kể từ ngày {since}." in body
    assert len(app.extensions["rendered_parts"]) == pages  # no page rendered per scan
    assert _scans(db) == 7
