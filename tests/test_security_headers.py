"""Headers that keep people's data off shared phones and proxies, and production on HTTPS.

tests/test_served.py checks the same over gunicorn, for every GET route with real ids and every role."""
from app.config import DevelopmentConfig, ProductionConfig
from app.security import PRIVATE_BLUEPRINTS
from tests.conftest import sign_in
from tests.factories import on_sale_stamps

HSTS = "max-age=31536000; includeSubDomains"
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN"}


def _get_paths(app, blueprints) -> list[str]:
    """Every GET route of these blueprints, with 999999 for each id (a missing row: 404, or the sign-in redirect)."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint.split(".")[0] in blueprints:
            paths.append(rule.build({name: 999999 for name in rule.arguments}, append_unknown=False)[1])
    return paths


def test_every_response_of_the_private_blueprints_is_no_store(app, client, member_client):
    paths = _get_paths(app, PRIVATE_BLUEPRINTS)
    assert {path.split("/")[1] for path in paths} >= {"coop", "commune", "admin", "sign-in"}
    anonymous = app.test_client()
    for path in paths:
        for who in (anonymous, member_client):
            response = who.get(path)
            assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code, response.headers)


def test_pages_shown_to_a_signed_in_user_are_no_store_public_files_keep_their_cache(app, db, coop_a):
    codes, _run, batch = on_sale_stamps(db, coop_a, 1)
    photo = batch.product.photos[0].image
    anonymous = app.test_client()
    signed_in = app.test_client()
    sign_in(signed_in, "a@htx.vn")
    for path in ("/", "/check", "/api/communes?q=luc", "/no-such-page"):
        assert "no-store" not in anonymous.get(path).headers.get("Cache-Control", ""), path
        assert signed_in.get(path).headers.get("Cache-Control") == "no-store", path
    for who in (anonymous, signed_in):
        photo_response = who.get(f"/media/{photo}.jpg")
        assert photo_response.status_code == 200
        assert photo_response.headers["Cache-Control"] == "public, max-age=31536000"
        assert "no-store" not in who.get("/static/app.css").headers.get("Cache-Control", "")
        assert who.get(f"/Q/{codes[0]}").headers["Cache-Control"] == "no-store"


def test_production_sends_hsts_development_does_not():
    assert ProductionConfig.STRICT_TRANSPORT_SECURITY == HSTS
    assert DevelopmentConfig.STRICT_TRANSPORT_SECURITY == ""


def test_hsts_is_on_every_response_when_configured(app, app_with, client, db, coop_a):
    (first, second), _run, _batch = on_sale_stamps(db, coop_a, 2)
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = app_with(STRICT_TRANSPORT_SECURITY=HSTS).test_client()
    secure.get(f"/Q/{first}", headers=PHONE)  # the view renders the listing's page: the next plain scan takes the fast path
    for path in ("/", f"/Q/{second}", "/static/app.css", "/sign-in", "/coop/", "/no-such-page", "/Q/7KQ4M2XD9PTA3HVBF"):
        response = secure.get(path, headers=PHONE)
        assert response.headers.get("Strict-Transport-Security") == HSTS, (path, response.status_code)
    assert "Strict-Transport-Security" not in client.get(f"/Q/{second}", headers=PHONE).headers
