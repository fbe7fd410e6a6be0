"""The scan page's fast path answers plain scans from the rendered-page cache with what the Flask view would
send, records the scan, and hands everything else to the view."""
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from app.models import Scan
from app.public.fast_path import ScanFastPath
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
