"""/api/v1/batches/<id>/shipments: recorded through app/services/shipments.py (quantity left, stamp ranges of
this batch), with ETags, If-Match and idempotent creates like every other resource."""
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models import Shipment
from app.services import batches
from tests.factories import minted_run, product_with_batch
from tests.test_api import assert_problem, bearer


def test_record_change_and_delete_a_shipment_with_its_stamps(client, coop_a):
    product, batch = product_with_batch(coop_a)
    batches.update_batch(coop_a.id, batch.id, {"quantity": Decimal("500"), "unit": "kg"}, None)
    run = minted_run(coop_a, product, batch, count=10)
    headers = {**bearer("a@htx.vn"), "Idempotency-Key": "ship-1"}
    base = f"/api/v1/batches/{batch.id}/shipments"
    body = {"buyer_name": "Công ty XNK Bắc Giang", "buyer_kind": "exporter", "shipped_on": "2026-06-12",
            "quantity": "300", "ranges": [{"run_id": run.id, "first": 1, "last": 5}]}
    created = client.post(base, json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    shipment = created.get_json()
    assert shipment["unit"] == "kg" and shipment["quantity"] == "300.00"
    assert shipment["ranges"] == [{"run_id": run.id, "first": 1, "last": 5}]
    assert client.post(base, json=body, headers=headers).get_json()["id"] == shipment["id"]  # a retry
    too_much = {**body, "quantity": "250", "ranges": []}
    refused = assert_problem(client.post(base, json=too_much, headers=bearer("a@htx.vn")), 422)
    assert refused["errors"][0]["field"] == "quantity"
    again = assert_problem(client.post(base, json={**body, "quantity": "1"}, headers=bearer("a@htx.vn")), 422)
    assert again["errors"][0]["field"] == "ranges"  # stamps 1–5 already went
    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 1
    url = created.headers["Location"]
    etag = client.get(url, headers=headers).headers["ETag"]
    assert_problem(client.patch(url, json={"note": "Xe 98C-123.45"}, headers=bearer("a@htx.vn")), 428)
    changed = client.patch(url, json={"note": "Xe 98C-123.45"}, headers={**bearer("a@htx.vn"), "If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["note"] == "Xe 98C-123.45"
    assert_problem(client.delete(url, headers={**bearer("a@htx.vn"), "If-Match": etag}), 412)
    assert client.delete(url, headers={**bearer("a@htx.vn"), "If-Match": changed.headers["ETag"]}).status_code == 204
    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 0


def test_a_range_out_of_order_is_a_field_error(client, coop_a):
    product, batch = product_with_batch(coop_a)
    body = {"buyer_name": "Chợ Lục Ngạn", "buyer_kind": "market", "shipped_on": "2026-06-12", "quantity": "10",
            "ranges": [{"run_id": 1, "first": 9, "last": 2}]}
    errors = assert_problem(client.post(f"/api/v1/batches/{batch.id}/shipments", json=body, headers=bearer("a@htx.vn")), 422)["errors"]
    assert errors[0]["field"] == "ranges.0.last" and errors[0]["detail"] == "Phải lớn hơn hoặc bằng số đầu (first)."
