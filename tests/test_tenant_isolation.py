"""A member of cooperative A gets 404 for every object of cooperative B, reading and writing."""
from datetime import date

import pytest
from sqlalchemy import select

from app.models import (Batch, BatchInput, Certification, DiaryEvent, FakeReport, LabelRun, LabelTemplate, Notice, NoticeKind,
                        Product, ProductPhoto, Shipment, Stamp)
from app.services import batch_inputs, label_templates, notices, shipments
from tests.conftest import post_form, sign_in
from tests.factories import minted_run, product_with_batch

ID_ARGUMENTS = {"product_id", "batch_id", "event_id", "photo_id", "cert_id", "run_id", "input_id", "shipment_id",
                "notice_id", "report_id", "template_id", "sheet"}


# Arguments naming a kind of record, a file format or a waiting upload, not an object: those routes only read or
# write the signed-in member's own cooperative (tests/test_imports.py and tests/test_exports.py show it).
SPREADSHEET_ARGUMENTS = {"kind", "file_format", "token", "suffix"}


def coop_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("coop.") and rule.arguments and not rule.arguments <= SPREADSHEET_ARGUMENTS:
            assert rule.arguments <= ID_ARGUMENTS, f"{rule.rule}: give this test an object for {rule.arguments - ID_ARGUMENTS}"
            yield rule


def snapshot(db):
    """Everything that belongs to a cooperative, to prove nothing changed."""
    rows = []
    for model in (Product, Batch, DiaryEvent, Certification, ProductPhoto, LabelRun, Stamp, BatchInput, Shipment, Notice,
                  FakeReport, LabelTemplate):
        for obj in db.session.scalars(select(model).order_by(model.id)):
            rows.append({c.name: getattr(obj, c.key) for c in obj.__table__.columns})
    db.session.rollback()
    return rows


@pytest.fixture
def b_objects(coop_b, db):
    product, batch = product_with_batch(coop_b, "Mật ong Phồn Nhi", "MO-2026-04")
    run = minted_run(coop_b, product, batch)
    item = batch_inputs.add_input(coop_b.id, batch.id, {"kind": "other", "name": "Thùng carton", "supplier_name": "Bao bì Việt"}, None)
    shipment = shipments.create_shipment(coop_b.id, batch.id, {"buyer_name": "Cửa hàng", "buyer_kind": "shop",
                                                               "shipped_on": date(2026, 6, 12), "quantity": 5}, None)
    notice = notices.post(coop_b.id, NoticeKind.BATCH_RECALLED, batch_id=batch.id, params={"reason": "x"})
    report = FakeReport(cooperative_id=coop_b.id, commune_code=coop_b.commune_code, message="Tem giả?")
    db.session.add(report)
    sheet = label_templates.save_template(coop_b.id, {"name": "Decal B", "page_size": "a4", "columns": 2, "rows": 7,
                                                      "label_width": 99.1, "label_height": 38.1, "margin_left": 4,
                                                      "margin_top": 15}, None)
    db.session.commit()
    return {
        "template_id": sheet.id, "sheet": f"custom-{sheet.id}",
        "input_id": item.id, "shipment_id": shipment.id, "notice_id": notice.id, "report_id": report.id,
        "product_id": product.id, "batch_id": batch.id, "event_id": batch.events[0].id,
        "photo_id": product.photos[0].id, "cert_id": product.certifications[0].id, "run_id": run.id,
    }


def test_every_coop_route_with_an_id_is_closed_to_other_cooperatives(app, db, client, coop_a, b_objects):
    sign_in(client, "a@htx.vn")
    before = snapshot(db)
    checked = 0
    for rule in coop_routes(app):
        path = rule.build({name: b_objects[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(path)
            else:
                response = post_form(client, path, {"name": "x", "lot_code": "x", "reason": "x", "first": "1", "last": "2", "count": "5", "template": "a4-65", "event_date": "2026-01-01", "kind": "other", "scheme": "x", "number": "x"})
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            checked += 1
    assert checked >= 25
    assert snapshot(db) == before


def test_cooperative_b_still_sees_its_own_objects(client, coop_b, b_objects):
    sign_in(client, "b@htx.vn")
    assert client.get(f"/coop/products/{b_objects['product_id']}").status_code == 200
    assert client.get(f"/coop/batches/{b_objects['batch_id']}").status_code == 200
    assert client.get(f"/coop/runs/{b_objects['run_id']}").status_code == 200


def test_lists_show_only_the_members_cooperative(client, coop_a, b_objects):
    sign_in(client, "a@htx.vn")
    for path in ("/coop/", "/coop/runs"):
        assert "Mật ong Phồn Nhi" not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/coop/", "/coop/products/new", "/coop/runs", "/coop/profile"])
def test_anonymous_users_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/sign-in?next=" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/admin/", "/commune/"])
def test_members_cannot_open_other_audiences(member_client, path):
    assert member_client.get(path).status_code == 403


def test_officers_and_admins_have_no_coop_dashboard(officer_client):
    assert officer_client.get("/coop/").status_code == 403


def test_admins_have_no_coop_dashboard(admin_client):
    assert admin_client.get("/coop/").status_code == 403
