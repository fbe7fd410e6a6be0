"""The diary entry form: today's date, only the fields of the chosen kind, copying the previous entry, and
refusals in Vietnamese that keep what was typed."""
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import DiaryEvent, EventKind
from app.services import batch_inputs, batches, diary_kinds
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, post_form
from tests.factories import product_with_batch


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)[1]


def entries(db) -> list[DiaryEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(DiaryEvent).order_by(DiaryEvent.id)))


def vietnam_today() -> date:
    return datetime.now(timezone(timedelta(hours=7))).date()


def test_a_new_entry_is_dated_today_in_vietnam_and_asks_for_its_kind(member_client, lychee):
    page = member_client.get(f"/coop/batches/{lychee.id}/events/new").get_data(as_text=True)
    assert f'name="event_date" required type="date" value="{vietnam_today().isoformat()}"' in page
    assert '<option selected value="">— Chọn loại công việc —</option>' in page


def test_the_page_carries_the_rules_of_each_kind_for_its_script(member_client, lychee):
    page = member_client.get(f"/coop/batches/{lychee.id}/events/new").get_data(as_text=True)
    rules = json.loads(re.search(r'<script type="application/json" id="diary-kind-rules">(.*?)</script>', page, re.S).group(1))
    assert rules == diary_kinds.as_json()
    assert rules["kinds"]["spraying"] == {"fields": ["input_id", "input_used", "dose", "phi_days"], "required": ["input_used", "phi_days"]}
    assert rules["kinds"]["harvest"] == {"fields": ["quantity"], "required": ["quantity"]}
    for name in ("input_used", "dose", "phi_days", "quantity"):  # without the script every field is on the page
        assert f'data-kind-field="{name}"' in page


def test_the_photo_asks_the_phone_for_its_camera(member_client, lychee):
    page = member_client.get(f"/coop/batches/{lychee.id}/events/new").get_data(as_text=True)
    assert re.search(r'<input (?=[^>]*accept="image/\*")(?=[^>]*capture="environment")[^>]*name="photo"', page)


def test_a_harvest_keeps_its_quantity_and_drops_what_another_kind_would_have(member_client, db, lychee):
    response = post_form(member_client, f"/coop/batches/{lychee.id}/events/new", {
        "event_date": "2026-06-10", "kind": "harvest", "quantity": "1250.5", "description": "Thu hái sáng sớm",
        "input_used": "Abamectin", "dose": "10 ml/bình", "phi_days": "7"})  # typed before the kind was changed
    assert response.status_code == 302
    harvest = entries(db)[-1]
    assert (harvest.kind, harvest.quantity, harvest.description) == (EventKind.HARVEST, Decimal("1250.50"), "Thu hái sáng sớm")
    assert (harvest.input_used, harvest.dose, harvest.phi_days) == ("", "", None)
    page = member_client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)
    assert "Thu hoạch: 1.250,5 kg" in page


def test_a_spray_stores_no_harvest_quantity(member_client, db, lychee):
    for kind, extra in (("spraying", {"input_used": "Emamectin 5.5WG", "dose": "8 g/bình 16 lít", "phi_days": "7"}), ("harvest", {})):
        response = post_form(member_client, f"/coop/batches/{lychee.id}/events/new",
                             {"event_date": "2026-05-25", "kind": kind, "quantity": "300", **extra})
        assert response.status_code == 302
    spray, harvest = entries(db)[-2:]
    assert (spray.input_used, spray.dose, spray.phi_days, spray.quantity) == ("Emamectin 5.5WG", "8 g/bình 16 lít", 7, None)
    assert harvest.quantity == Decimal("300.00")  # the same typed quantity, kept where it belongs


@pytest.mark.parametrize("values, field, message", [
    ({"kind": "spraying", "phi_days": "7"}, "input_used", "Hãy ghi tên vật tư đã dùng, hoặc chọn trong danh sách vật tư của lô."),
    ({"kind": "spraying", "input_used": "Abamectin"}, "phi_days", "Hãy nhập thời gian cách ly ghi trên nhãn thuốc (ghi 0 nếu nhãn không ghi)."),
    ({"kind": "harvest"}, "quantity", "Hãy nhập sản lượng đã thu hoạch."),
    ({"kind": "harvest", "quantity": "0"}, "quantity", "Nhập sản lượng lớn hơn 0 và nhỏ hơn 10.000.000.000."),
    ({"kind": "harvest", "quantity": "10000000000"}, "quantity", "Nhập sản lượng lớn hơn 0 và nhỏ hơn 10.000.000.000."),
    ({"kind": "irrigation"}, "description", "Hãy ghi nội dung công việc đã làm."),
    ({}, "kind", "Hãy chọn loại công việc."),
])
def test_what_the_kind_needs_is_asked_for_in_vietnamese_and_the_typed_text_stays(member_client, db, lychee, values, field, message):
    typed = {"event_date": "2026-06-01", "done_by": "Trần Thị Lan", "description": "Ghi chú dài của chị Lan về buổi làm", **values}
    if values.get("kind") == "irrigation":
        typed["description"] = ""
    response = post_form(member_client, f"/coop/batches/{lychee.id}/events/new", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<div class="field has-error[^"]*">\s*<label for="{field}">.*?<p class="error">(.*?)</p>', page, re.S)
    assert error and error.group(1) == message, page[page.find("<form"):][:3000]
    assert 'value="Trần Thị Lan"' in page and 'value="2026-06-01"' in page
    assert len(entries(db)) == 1  # only the factory's spray


def test_an_input_picked_and_then_hidden_by_another_kind_is_not_linked(member_client, db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, {"kind": "pesticide", "name": "Abamectin 3.6EC", "supplier_name": "Đại lý Hùng Mạnh"}, None)
    response = post_form(member_client, f"/coop/batches/{lychee.id}/events/new",
                         {"event_date": "2026-06-10", "kind": "harvest", "input_id": str(item.id), "quantity": "80"})
    assert response.status_code == 302
    assert (entries(db)[-1].input_id, entries(db)[-1].input_used, entries(db)[-1].quantity) == (None, "", Decimal("80.00"))


def test_changing_a_spray_into_a_harvest_clears_the_spray_fields(member_client, db, lychee):
    spray = entries(db)[0]
    response = post_form(member_client, f"/coop/batches/{lychee.id}/events/{spray.id}/edit",
                         {"event_date": "2026-06-10", "kind": "harvest", "quantity": "900", "input_used": "Abamectin 3.6EC", "phi_days": "7"})
    assert response.status_code == 302
    changed = entries(db)[0]
    assert (changed.kind, changed.quantity, changed.input_used, changed.phi_days) == (EventKind.HARVEST, Decimal("900.00"), "", None)


def test_the_service_clears_other_kinds_fields_whatever_path_the_values_come_by(db, coop_a, lychee):
    spray = entries(db)[0]
    batches.update_event(coop_a.id, lychee.id, spray.id, {"kind": "harvest"}, None)
    assert (spray.input_used, spray.phi_days) == ("", None)
    batches.update_event(coop_a.id, lychee.id, spray.id, {"dose": "2 kg/cây", "quantity": "12,5"}, None)  # the kind stays a harvest
    assert (spray.dose, spray.quantity) == ("", Decimal("12.50"))


def test_copy_the_previous_entry_fills_the_form_dated_today(member_client, db, coop_a, lychee):
    batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 1), "kind": "spraying", "input_used": "Mancozeb 80WP",
                                             "dose": "40 g/bình 16 lít", "phi_days": 10, "done_by": "Trần Văn Hùng",
                                             "description": "Phun phòng sương mai"}, None)
    batch_page = member_client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)
    assert f'href="/coop/batches/{lychee.id}/events/copy">Chép lại mục trước</a>' in batch_page
    form = member_client.get(f"/coop/batches/{lychee.id}/events/new").get_data(as_text=True)
    assert f'href="/coop/batches/{lychee.id}/events/copy">Chép lại mục trước</a>' in form
    page = member_client.get(f"/coop/batches/{lychee.id}/events/copy").get_data(as_text=True)
    assert f'action="/coop/batches/{lychee.id}/events/new"' in page
    assert '<option selected value="spraying">' in page
    for value in ("Mancozeb 80WP", "40 g/bình 16 lít", "10", "Trần Văn Hùng", vietnam_today().isoformat()):
        assert f'value="{value}"' in page
    assert "Phun phòng sương mai" not in page  # the description is today's to write
    assert "Đã điền sẵn theo mục ngày 01/05/2026 (Phun thuốc)" in page
    response = post_form(member_client, f"/coop/batches/{lychee.id}/events/new", {
        "event_date": vietnam_today().isoformat(), "kind": "spraying", "input_used": "Mancozeb 80WP", "phi_days": "10"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(DiaryEvent.id)).where(DiaryEvent.input_used == "Mancozeb 80WP")) == 2


def test_copy_without_a_previous_entry_opens_the_empty_form(member_client, db, coop_a, lychee):
    for event in entries(db):
        batches.delete_event(coop_a.id, lychee.id, event.id)
    response = member_client.get(f"/coop/batches/{lychee.id}/events/copy")
    assert response.status_code == 302 and response.location.endswith(f"/coop/batches/{lychee.id}/events/new")
    assert "Chép lại mục trước" not in member_client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)


def test_another_cooperatives_batch_cannot_be_copied(client, db, coop_a, coop_b, lychee):
    from tests.conftest import sign_in

    own = product_with_batch(coop_b, "Mật ong hoa vải", "MO-2026-01")[1]
    sign_in(client, "b@htx.vn")
    assert client.get(f"/coop/batches/{own.id}/events/copy").status_code == 200
    assert client.get(f"/coop/batches/{lychee.id}/events/copy").status_code == 404


@needs_chromium
@pytest.mark.browser
def test_a_camera_photo_is_made_small_on_the_phone_before_it_is_sent(app, db, live_server, page, coop_a, tmp_path):
    from PIL import Image

    batch_id = product_with_batch(coop_a)[1].id
    db.session.commit()
    photo = tmp_path / "camera.jpg"
    Image.effect_noise((4000, 3000), 80).convert("RGB").save(photo, "JPEG", quality=95)  # a detailed 12-megapixel shot
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/batches/{batch_id}/events/new")
    page.select_option("[name=kind]", "harvest")
    page.fill("[name=quantity]", "320")
    page.set_input_files("[name=photo]", str(photo))
    page.wait_for_selector("[name=photo][data-resized]", state="attached")
    sent = page.evaluate("() => { const f = document.querySelector('[name=photo]').files[0]; return [f.name, f.type, f.size]; }")
    assert sent[0] == "camera.jpg" and sent[1] == "image/jpeg"
    assert sent[2] < 400 * 1024 < photo.stat().st_size
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("text=Đã lưu nhật ký.")
    db.session.commit()
    assert db.session.scalar(select(DiaryEvent.photo).where(DiaryEvent.quantity == Decimal("320")))  # the photo arrived
    db.session.commit()
