"""The cooperative's forms: bad input is refused next to the field, in Vietnamese, and nothing is lost."""
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import Batch, Cooperative, DiaryEvent, Product
from app.services import products
from tests.conftest import make_cooperative, post_form
from tests.factories import product_with_batch

PRODUCT = {"name": "Cam lòng vàng", "category": "fruit", "gtin": "", "ocop_stars": "", "ocop_certificate_no": ""}
BATCH = {"lot_code": "CAM-01", "harvest_date": "2026-11-10", "packing_date": "2026-11-11", "best_before": "", "quantity": "2500", "unit": "kg"}


def count(db, model) -> int:
    value = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return value


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)


@pytest.mark.parametrize("changes, field_error", [
    ({"name": ""}, "Vui lòng điền mục này."),
    ({"gtin": "8938501234567"}, "Chữ số cuối (số kiểm tra) của mã GTIN không đúng"),
    ({"gtin": "123456"}, "Mã GTIN có 8, 12, 13 hoặc 14 chữ số."),
    ({"ocop_stars": "7"}, "Lựa chọn không hợp lệ."),
    ({"ocop_stars": "4", "ocop_certificate_no": ""}, "Nhập số giấy chứng nhận OCOP."),
    ({"ocop_stars": "4", "ocop_certificate_no": "X", "ocop_issued_on": "2026-01-01", "ocop_expires_on": "2025-01-01"}, "Ngày hết hạn phải sau ngày cấp."),
    ({"name": "x" * 201}, "Nội dung quá dài (tối đa 200 ký tự)."),
    ({"shelf_life_days": "mười"}, "Giá trị phải là số nguyên."),
    ({"ocop_issued_on": "31/02/2026"}, "Nhập ngày, ví dụ 25/06/2026."),
])
def test_bad_product_input(member_client, db, changes, field_error):
    typed = {**PRODUCT, "name": "Bưởi da xanh ruột hồng", **changes}
    response = post_form(member_client, "/coop/products/new", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error in page
    assert "Vui lòng sửa các mục đánh dấu đỏ. Chưa có gì được lưu." in page
    if typed["name"] and len(typed["name"]) <= 200:
        assert f'value="{typed["name"]}"' in page  # what the user typed is kept
    assert count(db, Product) == 0


def test_product_is_created_and_edited(member_client, db, coop_a):
    typed = {**PRODUCT, "gtin": "893 8501 23456 8", "ocop_stars": "4", "ocop_certificate_no": "OCOP-BG-1", "ocop_issued_on": "15/08/2024"}
    response = post_form(member_client, "/coop/products/new", typed)
    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert product.gtin == "08938501234568" and product.ocop_expires_on == date(2027, 8, 15)
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "15/08/2027" in page and "Cam lòng vàng" in page
    response = post_form(member_client, f"/coop/products/{product.id}/edit", {**typed, "name": "Cam lòng vàng Lục Ngạn"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).name == "Cam lòng vàng Lục Ngạn"


def test_a_refused_edit_changes_nothing(member_client, db, lychee):
    product, _batch = lychee
    response = post_form(member_client, f"/coop/products/{product.id}/edit", {**PRODUCT, "name": "", "gtin": "1"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Product, product.id).name == "Vải thiều Lục Ngạn"


@pytest.mark.parametrize("changes, field_error", [
    ({"lot_code": ""}, "Vui lòng điền mục này."),
    ({"packing_date": "2026-11-01"}, "Ngày đóng gói không được trước ngày thu hoạch."),
    ({"best_before": "2026-11-10"}, "Hạn sử dụng không được trước ngày đóng gói."),
    ({"quantity": "nhiều"}, "Giá trị phải là một số."),
    ({"quantity": "-5"}, "Nhập số không âm."),
    ({"lot_code": "VT-2026-06-A"}, "Sản phẩm này đã có lô hàng với mã lô này."),
])
def test_bad_batch_input(member_client, db, lychee, changes, field_error):
    product, _batch = lychee
    before = count(db, Batch)
    response = post_form(member_client, f"/coop/products/{product.id}/batches/new", {**BATCH, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and field_error in page
    if changes.get("lot_code", "x"):
        assert f'value="{changes.get("lot_code", "CAM-01")}"' in page
    assert count(db, Batch) == before


def test_the_same_lot_code_is_fine_for_another_product(member_client, db, coop_a, lychee):
    other = products.create_product(coop_a.id, {"name": "Mật ong", "category": "honey"}, None)
    response = post_form(member_client, f"/coop/products/{other.id}/batches/new", {**BATCH, "lot_code": "VT-2026-06-A"})
    assert response.status_code == 302


def test_best_before_is_suggested_from_shelf_life(member_client, db, lychee):
    product, _batch = lychee
    response = post_form(member_client, f"/coop/products/{product.id}/batches/new", BATCH)
    assert response.status_code == 302
    batch = db.session.scalar(select(Batch).where(Batch.lot_code == "CAM-01"))
    assert batch.best_before == date(2026, 11, 25)  # packing + 14 days


def test_diary_events_are_added_edited_and_deleted(member_client, db, lychee):
    _product, batch = lychee
    base = f"/coop/batches/{batch.id}/events"
    response = post_form(member_client, f"{base}/new", {"event_date": "2026-06-10", "kind": "harvest", "description": "Thu hái sáng sớm", "phi_days": "9", "quantity": "1200"})
    assert response.status_code == 302
    event = db.session.scalar(select(DiaryEvent).where(DiaryEvent.kind == "harvest"))
    assert event.phi_days is None  # the pre-harvest interval belongs to sprays only
    page = member_client.get(f"/coop/batches/{batch.id}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">'):]
    assert timeline.index("18/05/2026") < timeline.index("10/06/2026")  # in date order
    assert "Thu hái sáng sớm" in page and "thời gian cách ly 7 ngày" in page
    response = post_form(member_client, f"{base}/{event.id}/edit", {"event_date": "2026-06-11", "kind": "harvest", "description": "Thu hái đợt 2", "quantity": "800"})
    assert response.status_code == 302
    assert post_form(member_client, f"{base}/{event.id}/delete").status_code == 302
    assert count(db, DiaryEvent) == 1


def test_bad_diary_input(member_client, db, lychee):
    _product, batch = lychee
    response = post_form(member_client, f"/coop/batches/{batch.id}/events/new", {"event_date": "", "kind": "spraying", "phi_days": "-1", "input_used": "Abamectin"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vui lòng điền mục này." in page and "Nhập số nguyên từ 0 đến 365." in page
    assert 'value="Abamectin"' in page and count(db, DiaryEvent) == 1


def test_archive_restore_certifications_and_batch_delete(member_client, db, lychee):
    product, batch = lychee
    assert post_form(member_client, f"/coop/products/{product.id}/archive", {"archived": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).is_archived
    assert "Sản phẩm đã được lưu trữ" in member_client.get(f"/coop/products/{product.id}").get_data(as_text=True)
    post_form(member_client, f"/coop/products/{product.id}/archive", {"archived": "0"})
    db.session.expire_all()
    assert not db.session.get(Product, product.id).is_archived
    response = post_form(member_client, f"/coop/products/{product.id}/certifications", {"scheme": "GlobalGAP", "number": "GG-9", "expires_on": "2027-12-31"})
    assert response.status_code == 302
    assert "GlobalGAP" in member_client.get(f"/coop/products/{product.id}").get_data(as_text=True)
    response = post_form(member_client, f"/coop/products/{product.id}/certifications", {"scheme": "", "number": ""})
    assert response.status_code == 422
    assert post_form(member_client, f"/coop/batches/{batch.id}/delete").status_code == 302
    assert count(db, Batch) == 0 and count(db, DiaryEvent) == 0


def test_profile_edit_and_duplicate_registration_number(member_client, db, coop_a):
    make_cooperative("HTX khác", "2401000999")
    typed = {"name": "HTX Vải thiều Lục Ngạn", "registration_no": "2401000999", "commune": "Xã Lục Ngạn, Bắc Ninh", "email": ""}
    response = post_form(member_client, "/coop/profile", typed)
    assert response.status_code == 422
    assert "Mã số đăng ký này đã thuộc về hợp tác xã khác." in response.get_data(as_text=True)
    response = post_form(member_client, "/coop/profile", {**typed, "registration_no": "2401000001", "commune": "Xã Phúc Hòa, Bắc Ninh", "phone": "0912 345 678"})
    assert response.status_code == 302
    db.session.expire_all()
    coop = db.session.get(Cooperative, coop_a.id)
    assert coop.commune.name == "Xã Phúc Hòa" and coop.phone == "0912 345 678"


def test_english_on_request(member_client):
    post_form(member_client, "/language", {"lang": "en", "next": "/coop/products/new"})
    page = member_client.get("/coop/products/new").get_data(as_text=True)
    assert "Product name" in page and "Tên sản phẩm" not in page


def state_changing_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("coop.") and rule.methods == {"POST", "OPTIONS"}:
            yield rule


def test_state_changes_refuse_get_and_need_a_csrf_token(app, db, client, coop_a, lychee):
    from tests.conftest import sign_in
    sign_in(client, "a@htx.vn")
    product, batch = lychee
    ids = {"product_id": product.id, "batch_id": batch.id, "event_id": batch.events[0].id, "photo_id": product.photos[0].id, "cert_id": product.certifications[0].id, "run_id": 1,
           "kind": "diary", "token": "a" * 32, "suffix": "xlsx",  # an import waiting for its commit
           "input_id": 1, "shipment_id": 1, "notice_id": 1, "report_id": 1, "template_id": 1}
    rules = list(state_changing_routes(app))
    assert len(rules) >= 9
    for rule in rules:
        path = rule.build({k: ids[k] for k in rule.arguments})[1]
        assert client.get(path).status_code == 405, path
        assert client.post(path, data={"archived": "1"}).status_code == 400, path
    db.session.expire_all()
    assert db.session.get(Product, product.id).is_archived is False and db.session.get(Batch, batch.id) is not None
