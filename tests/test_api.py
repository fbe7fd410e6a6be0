"""JSON API v1: tokens, problem+json errors, cursor pagination, ETags and If-Match, idempotent creates,
the tenant boundary on every route, and a valid OpenAPI document."""
import json
import re
from datetime import date

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from app.models import ApiToken, Batch, Certification, DiaryEvent, IdempotencyKey, LabelRun, Product, User, Verification
from app.security import CONTENT_SECURITY_POLICY
from app.services import api_tokens, products
from tests.conftest import csrf_token, make_member, post_form
from tests.factories import product_with_batch

PROBLEM = "application/problem+json"


def member(login: str) -> User:
    from app.extensions import db

    return db.session.scalar(select(User).where(User.login == login))


def bearer(login: str, can_write: bool = True) -> dict:
    secret = api_tokens.create_token(member(login).id, {"name": "phone"}, can_write).secret
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def a_token(coop_a) -> dict:
    return bearer("a@htx.vn")


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] and body["title"] and body["detail"]
    return body


# --- framework ---------------------------------------------------------------------------------------

def test_openapi_document_validates_and_names_every_resource(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/products", "/api/v1/products/{product_id}", "/api/v1/batches", "/api/v1/batches/{batch_id}",
            "/api/v1/batches/{batch_id}/events/{event_id}",
            "/api/v1/products/{product_id}/certifications/{cert_id}"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_uses_our_own_swagger_files_under_the_sites_policy(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts and all(src.startswith("/") for src in scripts)  # nothing from another host
    assert "<script>" not in html  # no inline script
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for src in scripts + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        assert client.get(src).status_code == 200, src
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404


def test_unknown_address_and_wrong_method_are_problems_in_the_asked_language(client):
    body = assert_problem(client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"}), 404)
    assert body["detail"] == "Nothing was found at this address."
    body = assert_problem(client.get("/api/v1/nothing-here", headers={"Accept-Language": "vi"}), 404)
    assert body["detail"] == "Không tìm thấy gì ở địa chỉ này."
    response = client.put("/api/v1/openapi.json")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_old_communes_endpoint_still_answers(client):
    response = client.get("/api/communes?q=Lục Ngạn")
    assert response.status_code == 200 and response.get_json()["communes"]


def test_field_errors_are_listed(client, a_token):
    body = assert_problem(client.post("/api/v1/products", json={"name": "", "category": "spaceship"},
                                      headers={**a_token, "Accept-Language": "en"}), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "category"} <= fields
    assert all(e["in"] == "json" for e in body["errors"])


def test_service_rule_violation_is_a_422_naming_the_field(client, a_token):
    body = assert_problem(client.post("/api/v1/products", json={"name": "Mật ong", "category": "honey", "ocop_stars": 4},
                                      headers=a_token), 422)
    assert body["errors"] == [{"field": "ocop_certificate_no", "in": "json", "detail": "Nhập số giấy chứng nhận OCOP."}]
    assert products.list_products(member("a@htx.vn").cooperative_id) == []


def test_a_bad_cursor_is_a_field_error(client, a_token):
    body = assert_problem(client.get("/api/v1/products?cursor=forged", headers=a_token), 422)
    assert body["errors"][0]["field"] == "cursor" and body["errors"][0]["in"] == "query"


# --- tokens -------------------------------------------------------------------------------------------

def test_token_is_stored_hashed_and_acts_as_its_user(client, coop_a, db):
    new = api_tokens.create_token(member("a@htx.vn").id, {"name": "phone"}, False)
    stored = db.session.get(ApiToken, new.token.id)
    assert new.secret not in (stored.token_hash, stored.name) and len(stored.token_hash) == 64
    assert stored.last_used_at is None
    response = client.get("/api/v1/products", headers={"Authorization": f"Bearer {new.secret}"})
    assert response.status_code == 200 and response.get_json() == {"items": [], "next": None}
    db.session.expire_all()
    assert db.session.get(ApiToken, new.token.id).last_used_at is not None


def test_missing_wrong_revoked_or_disabled_token_is_401(client, coop_a, db):
    assert_problem(client.get("/api/v1/products"), 401)
    assert client.get("/api/v1/products").headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/api/v1/products", headers={"Authorization": "Bearer ocop_not-a-token"}), 401)
    user = member("a@htx.vn")
    new = api_tokens.create_token(user.id, {"name": "phone"}, True)
    headers = {"Authorization": f"Bearer {new.secret}"}
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    user.is_disabled = True
    db.session.commit()
    assert_problem(client.get("/api/v1/products", headers=headers), 401)
    user.is_disabled = False
    db.session.commit()
    api_tokens.revoke_token(user.id, new.token.id)
    assert_problem(client.get("/api/v1/products", headers=headers), 401)


def test_read_only_token_cannot_write(client, coop_a):
    headers = bearer("a@htx.vn", can_write=False)
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    assert_problem(client.post("/api/v1/products", json={"name": "Vải", "category": "fruit"}, headers=headers), 403)
    assert products.list_products(coop_a.id) == []


def test_officer_token_is_refused_member_resources(client, db):
    from app.models import Role
    from app.services import accounts

    officer = accounts.create_user(name="Cán bộ", login="canbo@xa.vn", password="mat-khau-thu-nghiem", role=Role.OFFICER, commune_codes=[7582])
    secret = api_tokens.create_token(officer.id, {"name": "x"}, True).secret
    assert_problem(client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}), 403)


def test_session_works_and_its_writes_need_the_csrf_token(member_client, coop_a):
    assert member_client.get("/api/v1/products").status_code == 200
    assert_problem(member_client.post("/api/v1/products", json={"name": "Vải", "category": "fruit"}), 400)
    token = csrf_token(member_client, "/account")
    response = member_client.post("/api/v1/products", json={"name": "Vải", "category": "fruit"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_token_requests_are_csrf_exempt(client, a_token):
    assert client.post("/api/v1/products", json={"name": "Vải", "category": "fruit"}, headers=a_token).status_code == 201


def test_tokens_page_shows_the_secret_once_and_revokes(member_client, coop_a, db):
    from app.models import AuditEvent

    trail_before = db.session.scalar(select(func.max(AuditEvent.id))) or 0  # the trail outlives each test
    assert "API" in member_client.get("/account").get_data(as_text=True)
    page = post_form(member_client, "/account/tokens", {"name": "Máy đóng gói", "access": "write"})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code id="new-token">(ocop_[^<]+)</code>', page.get_data(as_text=True)).group(1)
    token = db.session.scalar(select(ApiToken))
    assert token.can_write and token.name == "Máy đóng gói"
    listing = member_client.get("/account/tokens").get_data(as_text=True)
    assert "Máy đóng gói" in listing and secret not in listing
    assert post_form(member_client, "/account/tokens", {"name": "", "access": "read"}).status_code == 422
    token_id = token.id
    assert post_form(member_client, f"/account/tokens/{token_id}/revoke").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    trail = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.id > trail_before, AuditEvent.entity == "api_token", AuditEvent.entity_id == token_id)))
    assert [e.action for e in trail] == ["api_token_created", "api_token_revoked"]
    assert all(secret not in str(e.after) + str(e.before) + e.detail for e in trail)


def test_another_users_token_cannot_be_revoked(member_client, coop_a, coop_b, db):
    other = api_tokens.create_token(member("b@htx.vn").id, {"name": "b"}, True)
    assert post_form(member_client, f"/account/tokens/{other.token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, other.token.id) is not None


# --- resources, ETags, idempotency ----------------------------------------------------------------------

def test_product_lifecycle_with_etags(client, a_token, coop_a):
    created = client.post("/api/v1/products", json={"name": "Vải thiều", "category": "fruit", "shelf_life_days": 14}, headers=a_token)
    assert created.status_code == 201
    url = created.headers["Location"]
    got = client.get(url, headers=a_token)
    etag = got.headers["ETag"]
    assert got.get_json()["name"] == "Vải thiều" and etag.startswith('"')
    assert_problem(client.patch(url, json={"name": "Vải thiều Lục Ngạn"}, headers=a_token), 428)
    changed = client.patch(url, json={"name": "Vải thiều Lục Ngạn"}, headers={**a_token, "If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert_problem(client.patch(url, json={"name": "Cũ"}, headers={**a_token, "If-Match": etag}), 412)
    assert client.get(url, headers=a_token).get_json()["name"] == "Vải thiều Lục Ngạn"
    assert_problem(client.delete(url, headers={**a_token, "If-Match": etag}), 412)
    assert client.delete(url, headers={**a_token, "If-Match": changed.headers["ETag"]}).status_code == 204
    assert client.get(url, headers=a_token).get_json()["is_archived"] is True


def test_batch_and_diary_through_the_services(client, a_token, coop_a):
    product = client.post("/api/v1/products", json={"name": "Vải", "category": "fruit", "shelf_life_days": 10}, headers=a_token).get_json()
    batch = client.post("/api/v1/batches", json={"product_id": product["id"], "lot_code": "VT-1", "packing_date": "2026-06-11",
                                                 "quantity": "120.5"}, headers=a_token)
    assert batch.status_code == 201
    body = batch.get_json()
    assert body["best_before"] == "2026-06-21" and body["quantity"] == "120.50" and body["status"] == "active"
    clash = client.post("/api/v1/batches", json={"product_id": product["id"], "lot_code": "VT-1"}, headers=a_token)
    assert assert_problem(clash, 422)["errors"][0]["field"] == "lot_code"
    order = client.post("/api/v1/batches", json={"product_id": product["id"], "lot_code": "VT-2", "harvest_date": "2026-06-12",
                                                 "packing_date": "2026-06-11"}, headers=a_token)
    assert assert_problem(order, 422)["errors"][0]["field"] == "packing_date"
    events = f"/api/v1/batches/{body['id']}/events"
    spray = client.post(events, json={"event_date": "2026-05-18", "kind": "spraying", "input_used": "Abamectin", "phi_days": 7}, headers=a_token)
    assert spray.status_code == 201 and spray.get_json()["phi_days"] == 7
    harvest = client.post(events, json={"event_date": "2026-06-10", "kind": "harvest", "phi_days": 7, "quantity": "1250.5"}, headers=a_token)
    assert harvest.get_json()["phi_days"] is None  # the service keeps an interval for sprays only
    assert harvest.get_json()["quantity"] == "1250.50"  # what the harvest picked, in the batch's unit
    assert client.get(spray.headers["Location"], headers=a_token).get_json()["quantity"] is None
    listed = client.get(events, headers=a_token).get_json()["items"]
    assert [e["kind"] for e in listed] == ["spraying", "harvest"]
    event_url = spray.headers["Location"]
    etag = client.get(event_url, headers=a_token).headers["ETag"]
    assert client.delete(event_url, headers={**a_token, "If-Match": etag}).status_code == 204


def test_batch_with_stamps_cannot_be_deleted(client, a_token, coop_a):
    from tests.factories import minted_run

    product, batch = product_with_batch(coop_a)
    minted_run(coop_a, product, batch, count=2)
    url = f"/api/v1/batches/{batch.id}"
    etag = client.get(url, headers=a_token).headers["ETag"]
    body = assert_problem(client.delete(url, headers={**a_token, "If-Match": etag}), 422)
    assert body["errors"][0]["field"] == "batch"


def test_certifications(client, a_token, coop_a, db):
    product, _ = product_with_batch(coop_a)
    base = f"/api/v1/products/{product.id}/certifications"
    assert [c["scheme"] for c in client.get(base, headers=a_token).get_json()["items"]] == ["VietGAP"]
    created = client.post(base, json={"scheme": "Hữu cơ", "number": "HC-01", "expires_on": "2028-01-01"}, headers=a_token)
    assert created.status_code == 201
    etag = client.get(created.headers["Location"], headers=a_token).headers["ETag"]
    assert client.delete(created.headers["Location"], headers={**a_token, "If-Match": etag}).status_code == 204
    assert db.session.scalar(select(func.count()).select_from(Certification)) == 1


def test_idempotent_retry_creates_once_and_replays_the_first_answer(client, a_token, coop_a, db):
    headers = {**a_token, "Idempotency-Key": "4b2f-retry-1"}
    body = {"name": "Mật ong hoa vải", "category": "honey"}
    first = client.post("/api/v1/products", json=body, headers=headers)
    again = client.post("/api/v1/products", json={"category": "honey", "name": "Mật ong hoa vải"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1
    different = client.post("/api/v1/products", json={"name": "Khác", "category": "honey"}, headers=headers)
    assert assert_problem(different, 422)["errors"][0]["field"] == "Idempotency-Key"
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1
    # Another user's identical key is theirs alone.
    make_member(coop_a, "a2@htx.vn")
    other = client.post("/api/v1/products", json=body, headers={**bearer("a2@htx.vn"), "Idempotency-Key": "4b2f-retry-1"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def test_refused_create_frees_its_key(client, a_token, db):
    headers = {**a_token, "Idempotency-Key": "k-2"}
    assert client.post("/api/v1/products", json={"name": "X", "category": "fruit", "ocop_stars": 4}, headers=headers).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert client.post("/api/v1/products", json={"name": "X", "category": "fruit"}, headers=headers).status_code == 201


def test_expired_key_is_forgotten(client, a_token, db):
    from datetime import timedelta

    headers = {**a_token, "Idempotency-Key": "old"}
    client.post("/api/v1/products", json={"name": "X", "category": "fruit"}, headers=headers)
    row = db.session.scalar(select(IdempotencyKey))
    row.created_at -= timedelta(hours=25)
    db.session.commit()
    assert client.post("/api/v1/products", json={"name": "X", "category": "fruit"}, headers=headers).get_json()["id"]
    assert db.session.scalar(select(func.count()).select_from(Product)) == 2


def test_pagination_walks_250_products_exactly_once(client, a_token, coop_a, db):
    db.session.add_all(Product(cooperative_id=coop_a.id, name=f"Sản phẩm {i:03}", category="fruit") for i in range(250))
    db.session.commit()
    seen, url, pages = [], "/api/v1/products?limit=40", 0
    while url:
        response = client.get(url, headers=a_token)
        assert response.status_code == 200
        page = response.get_json()
        seen += [p["id"] for p in page["items"]]
        url = page["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
        pages += 1
    assert pages == 7 and len(seen) == 250 == len(set(seen))
    assert set(seen) == set(db.session.scalars(select(Product.id)))


# --- tenant sweep over the URL map ------------------------------------------------------------------------

PUBLIC_V1 = {"api-docs.openapi_json", "api_docs.page", "api_docs.asset", "stamps.StampVerdict"}


def _v1_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and r.endpoint not in PUBLIC_V1]


def _fill(rule, ids: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def test_every_v1_route_is_covered_by_this_sweep(app):
    known = {"product_id", "cert_id", "batch_id", "event_id", "run_id", "shipment_id", "photo_id"}
    for rule in _v1_rules(app):
        assert set(rule.arguments) <= known, rule.rule


# A body each create accepts, so that what answers is the ownership check and not the schema.
VALID_BODIES = {
    ("batches.BatchList", "POST"): lambda ids: {"product_id": ids["product_id"], "lot_code": "SWEEP-1"},
    ("batches.EventList", "POST"): lambda ids: {"event_date": "2026-06-01", "kind": "other"},
    ("products.CertificationList", "POST"): lambda ids: {"scheme": "VietGAP", "number": "VG-9"},
    ("runs.RunList", "POST"): lambda ids: {"product_id": ids["product_id"], "batch_id": ids["batch_id"], "count": 1},
    ("runs.RunRanges", "POST"): lambda ids: {"action": "void", "first": 1, "last": 1, "reason": "sweep"},
    ("runs.RunVoid", "POST"): lambda ids: {"reason": "sweep"},
    ("shipments.ShipmentList", "POST"): lambda ids: {"buyer_name": "X", "buyer_kind": "shop", "shipped_on": "2026-06-12",
                                                      "quantity": "1"},
    ("listings.ListingReject", "POST"): lambda ids: {"reason": "sweep"},
    ("listings.ListingRecall", "POST"): lambda ids: {"reason": "sweep"},
}


def _shipment(coop, batch):
    from app.services import shipments

    return shipments.create_shipment(coop.id, batch.id, {"buyer_name": "Thương lái", "buyer_kind": "trader",
                                                         "shipped_on": date(2026, 6, 12), "quantity": "10"}, None)


OFFICER_BLUEPRINTS = {"listings"}


def _role_of(rule) -> str:
    """Whose token a route is for: the officers' blueprints', or a cooperative member's."""
    return "officer" if rule.endpoint.split(".")[0] in OFFICER_BLUEPRINTS else "member"


def _officer_of_a(can_write: bool) -> dict:
    """A token of an officer of cooperative A's commune (Lục Ngạn), B being in Phúc Hòa."""
    from app.models import Role
    from app.services import accounts
    from tests.conftest import LUC_NGAN

    officer = member("canbo@xa.vn") or accounts.create_user(
        name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password="mat-khau-thu-nghiem", role=Role.OFFICER, commune_codes=[LUC_NGAN])
    return {"Authorization": f"Bearer {api_tokens.create_token(officer.id, {'name': 'sweep'}, can_write).secret}"}


def _text_of(response) -> str:
    return json.dumps(response.get_json(force=True), ensure_ascii=False)


def test_sweep_no_token_401_and_other_cooperatives_ids_404(app, client, coop_a, coop_b, db):
    from tests.factories import minted_run

    product, batch = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-2026-06-B")
    run = minted_run(coop_b, product, batch, count=2, token="b-sweep")
    shipment = _shipment(coop_b, batch)
    ids = {"product_id": product.id, "cert_id": product.certifications[0].id, "batch_id": batch.id,
           "event_id": batch.events[0].id, "run_id": run.id, "shipment_id": shipment.id,
           "photo_id": product.photos[0].id}
    a_headers = {"member": bearer("a@htx.vn"), "officer": _officer_of_a(True)}
    checked = 0
    for rule in _v1_rules(app):
        url = _fill(rule, ids)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert_problem(client.open(url, method=method, json={}), 401)
            body = VALID_BODIES.get((rule.endpoint, method), lambda ids: {})(ids)
            headers = {**a_headers[_role_of(rule)], "If-Match": "*"}
            response = client.open(url, method=method, json=body, headers=headers)
            if rule.arguments or "product_id" in body:
                assert_problem(response, 404)
                checked += 1
            elif method == "GET":  # a list or query of one's own: nothing of B's in it
                assert response.status_code == 200, url
                text = _text_of(response)
                assert "Mật ong Phồn Nhi" not in text and "MO-2026-06-B" not in text, url
    assert checked >= 12
    b_sees = _text_of(client.get("/api/v1/batches", headers=bearer("b@htx.vn")))
    assert "MO-2026-06-B" in b_sees  # the check above can see B's data when it is there
    assert client.get(f"/api/v1/batches?product_id={product.id}", headers=a_headers["member"]).get_json()["items"] == []
    # Nothing of B's was touched.
    assert db.session.get(Product, product.id).is_archived is False
    assert len(db.session.get(Product, product.id).photos) == 1
    assert db.session.get(Batch, batch.id) is not None and db.session.scalar(select(func.count()).select_from(DiaryEvent)) == 1
    assert db.session.get(LabelRun, run.id).voided_at is None
    assert db.session.get(Batch, batch.id).status.value == "active"
    from app.models import Shipment

    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 1
    assert db.session.scalar(select(func.count()).select_from(Verification)) == 0


def test_sweep_read_only_token_on_every_write_is_403(app, client, coop_a, db):
    from tests.factories import minted_run

    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=2, token="a-sweep")
    shipment = _shipment(coop_a, batch)
    ids = {"product_id": product.id, "cert_id": product.certifications[0].id, "batch_id": batch.id,
           "event_id": batch.events[0].id, "run_id": run.id, "shipment_id": shipment.id,
           "photo_id": product.photos[0].id}
    read_only = {"member": bearer("a@htx.vn", can_write=False), "officer": _officer_of_a(False)}
    writes = 0
    for rule in _v1_rules(app):
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            headers = {**read_only[_role_of(rule)], "If-Match": "*"}
            assert_problem(client.open(_fill(rule, ids), method=method, json={}, headers=headers), 403)
            writes += 1
    assert writes >= 10
    assert db.session.get(Product, product.id).is_archived is False


# --- public stamp verdict -------------------------------------------------------------------------------

def _scan_count(db) -> int:
    from app.models import Scan

    return db.session.scalar(select(func.count()).select_from(Scan))


def test_stamp_verdict_is_the_scan_pages_and_is_not_recorded(client, coop_a, db):
    from tests.factories import on_sale_stamps

    stamp_codes, run, batch = on_sale_stamps(db, coop_a, 2)
    answer = client.get(f"/api/v1/stamps/{stamp_codes[0]}/verdict", headers={"User-Agent": "phone-1"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["code"] == stamp_codes[0] and body["stamp"] == "genuine"
    assert body["headline"] == "awaiting" and body["tone"] == "neutral" and body["badge"] is None  # not yet verified
    assert body["product"] == {"name": "Vải thiều Lục Ngạn", "gtin": None, "lot_code": "VT-2026-06-A"}
    assert body["evidence"]["scans"] == 1
    assert _scan_count(db) == 0
    client.get(f"/api/v1/stamps/{stamp_codes[0]}/verdict", headers={"User-Agent": "phone-1"})
    assert _scan_count(db) == 0
    assert client.get(f"/q/{stamp_codes[0]}", headers={"User-Agent": "phone-1"}).status_code == 200
    assert _scan_count(db) == 1  # the page records; the API does not
    again = client.get(f"/api/v1/stamps/{stamp_codes[0]}/verdict", headers={"User-Agent": "phone-1"}).get_json()
    assert again["evidence"]["scans"] == 2  # the recorded scan, and this request counted as the page would


def test_stamp_verdict_follows_a_recall(client, coop_a, db):
    from app.models import BatchStatus
    from tests.factories import on_sale_stamps

    stamp_codes, run, batch = on_sale_stamps(db, coop_a, 1)
    batch.status, batch.recalled_on, batch.recall_reason = BatchStatus.RECALLED, date(2026, 6, 20), "Dư lượng thuốc"
    db.session.commit()
    body = client.get(f"/api/v1/stamps/{stamp_codes[0]}/verdict").get_json()
    assert body["headline"] == "recalled" and body["tone"] == "bad" and body["recall"]["reason"] == "Dư lượng thuốc"


def test_stamp_verdict_of_a_mistyped_or_unknown_code_is_a_problem(client, db):
    from app.services import codes

    body = assert_problem(client.get("/api/v1/stamps/ABC/verdict"), 422)
    assert body["errors"][0]["field"] == "code" and body["errors"][0]["in"] == "path"
    unknown = codes.derive_code(b"another key", 1, 1)
    assert_problem(client.get(f"/api/v1/stamps/{unknown}/verdict"), 404)
    assert client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/stamps/{code}/verdict"]["get"]["security"] == []


def test_absurd_ids_are_404_or_field_errors_not_overflows(client, a_token):
    assert_problem(client.get("/api/v1/products/5453738471277340917760", headers=a_token), 404)
    assert_problem(client.get("/api/v1/batches/0", headers=a_token), 404)
    body = assert_problem(client.post("/api/v1/batches", json={"product_id": 2**63, "lot_code": "X"}, headers=a_token), 422)
    assert body["errors"][0]["field"] == "product_id"
    assert_problem(client.get(f"/api/v1/batches?product_id={2**40}", headers=a_token), 422)


def test_times_carry_their_utc_offset(client, a_token):
    created = client.post("/api/v1/products", json={"name": "Vải", "category": "fruit"}, headers=a_token).get_json()
    assert created["created_at"].endswith("+00:00") and created["updated_at"].endswith("+00:00")


def test_malformed_json_is_a_400_problem_and_options_lists_the_methods(client, a_token):
    bad = client.post("/api/v1/products", data="{not json", headers={**a_token, "Content-Type": "application/json"})
    assert_problem(bad, 400)
    options = client.open("/api/v1/products", method="OPTIONS")
    assert options.status_code == 200 and {"GET", "POST"} <= set(options.headers["Allow"].split(", "))
