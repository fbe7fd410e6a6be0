"""/api/v1/listings for commune officers: their communes' listings only (another commune's batch is a 404),
decisions and recalls through the services, each needing the listing's ETag; scans per product and day."""
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import BatchStatus, Role, Verification
from app.services import accounts, api_tokens, batches
from tests.conftest import LUC_NGAN
from tests.factories import on_sale_stamps, product_with_batch
from tests.test_api import assert_problem, bearer


def officer_token(can_write: bool = True) -> dict:
    officer = accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password="mat-khau-thu-nghiem",
                                   role=Role.OFFICER, commune_codes=[LUC_NGAN])
    return {"Authorization": f"Bearer {api_tokens.create_token(officer.id, {'name': 'tablet'}, can_write).secret}"}


def test_officer_lists_and_verifies_the_facts_as_read(client, coop_a, coop_b):
    product, batch = product_with_batch(coop_a)
    product_with_batch(coop_b, name="Mật ong", lot="MO-1")  # in Phúc Hòa: not this officer's
    headers = officer_token()
    items = client.get("/api/v1/listings", headers=headers).get_json()["items"]
    assert [(i["batch_id"], i["status"]) for i in items] == [(batch.id, "awaiting")]
    url = f"/api/v1/listings/{batch.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    assert_problem(client.post(f"{url}/verify", json={}, headers=headers), 428)
    # The cooperative changes the diary after the officer read the listing: that reading is stale.
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 6, 1), "kind": "spraying", "input_used": "Thuốc X", "phi_days": 3}, None)
    assert_problem(client.post(f"{url}/verify", json={}, headers={**headers, "If-Match": etag}), 412)
    assert db.session.scalar(select(func.count()).select_from(Verification)) == 0
    etag = client.get(url, headers=headers).headers["ETag"]
    until = (date.today() + timedelta(days=400)).isoformat()
    verified = client.post(f"{url}/verify", json={"valid_until": until}, headers={**headers, "If-Match": etag})
    assert verified.status_code == 201 and verified.get_json()["outcome"] == "verified"
    assert client.get(url, headers=headers).get_json()["status"] == "verified"


def test_reject_needs_a_reason_and_recall_reaches_the_batch(client, coop_a, db):
    product, batch = product_with_batch(coop_a)
    headers = officer_token()
    url = f"/api/v1/listings/{batch.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    body = assert_problem(client.post(f"{url}/reject", json={"reason": "   "}, headers={**headers, "If-Match": etag}), 422)
    assert body["errors"][0]["field"] == "reason"
    rejected = client.post(f"{url}/reject", json={"reason": "Thiếu nhật ký bón phân"}, headers={**headers, "If-Match": etag})
    assert rejected.status_code == 201
    etag = client.get(url, headers=headers).headers["ETag"]
    recalled = client.post(f"{url}/recall", json={"reason": "Dư lượng thuốc"}, headers={**headers, "If-Match": etag})
    assert recalled.status_code == 200 and recalled.get_json()["status"] == "recalled"
    db.session.expire_all()
    assert batch.status is BatchStatus.RECALLED and batch.recall_reason == "Dư lượng thuốc"


def test_another_communes_batch_is_404_and_members_and_read_only_tokens_are_refused(client, coop_a, coop_b, db):
    _, batch_b = product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    headers = officer_token()
    for method, path, body in (("GET", "", None), ("POST", "/verify", {}), ("POST", "/reject", {"reason": "x"}),
                               ("POST", "/recall", {"reason": "x"})):
        response = client.open(f"/api/v1/listings/{batch_b.id}{path}", method=method, json=body,
                               headers={**headers, "If-Match": "*"})
        assert_problem(response, 404)
    assert db.session.get(type(batch_b), batch_b.id).status is BatchStatus.ACTIVE
    assert_problem(client.get("/api/v1/listings", headers=bearer("a@htx.vn")), 403)
    read_only = {"Authorization": f"Bearer {api_tokens.create_token(db.session.scalar(select(accounts.User).where(accounts.User.login == 'canbo@xa.vn')).id, {'name': 'ro'}, False).secret}"}
    assert_problem(client.post(f"/api/v1/listings/{batch_b.id}/recall", json={"reason": "x"}, headers={**read_only, "If-Match": "*"}), 403)


def test_scans_per_day_are_the_dashboards_chart(client, coop_a, db):
    stamp_codes, run, batch = on_sale_stamps(db, coop_a, 2)
    client.get(f"/q/{stamp_codes[0]}", headers={"User-Agent": "phone-1"})
    client.get(f"/q/{stamp_codes[1]}", headers={"User-Agent": "phone-2"})
    series = client.get("/api/v1/scans/per-day?days=7", headers=officer_token()).get_json()["series"]
    assert len(series) == 1 and series[0]["product"] == "Vải thiều Lục Ngạn"
    assert len(series[0]["days"]) == 7 and sum(series[0]["counts"]) == 2 and series[0]["counts"][-1] == 2
