"""One step forward: a batch's shipments to buyers, the stamps that went with them, and the buyers to call on a recall."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Shipment, ShipmentRange
from app.services import batches, commune_watch, listings, shipments
from app.services.errors import NotFound, RuleViolation
from app.services.shipments import StampRange
from tests.browser import browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import LUC_NGAN, post_form, sign_in
from tests.factories import minted_run, product_with_batch

TRADER = {"buyer_name": "Thương lái Hoàng Văn Nam", "buyer_kind": "trader", "buyer_address": "Chợ đầu mối Đồng Đăng",
          "buyer_phone": "0912 345 678", "shipped_on": date(2026, 6, 12), "quantity": "600", "unit": "kg",
          "note": "Xe tải 98C-123.45"}


@pytest.fixture
def lychee(coop_a):
    """A batch of 1,000 kg with a printed run of 5 stamps."""
    product, batch = product_with_batch(coop_a)
    batches.update_batch(coop_a.id, batch.id, {"quantity": Decimal(1000), "unit": "kg"}, None)
    batch.run = minted_run(coop_a, product, batch, count=5)
    return batch


def test_a_shipment_is_saved_with_its_ranges_and_recorded_in_the_trail(db, coop_a, lychee):
    before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    shipment = shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "buyer_commune_code": LUC_NGAN,
                                                                "ranges": [StampRange(lychee.run.id, 1, 3)]}, None)
    assert (shipment.quantity, shipment.buyer_commune.name, shipment.buyer_phone) == (Decimal("600.00"), "Xã Lục Ngạn", "0912 345 678")
    assert [(r.run_id, r.first_serial, r.last_serial) for r in shipment.ranges] == [(lychee.run.id, 1, 3)]
    assert shipments.left_to_ship(lychee) == Decimal(400)
    trail = {e.entity: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity.like("shipment%"), AuditEvent.id > before))}
    assert trail["shipment"].after["buyer_name"] == TRADER["buyer_name"] and trail["shipment"].cooperative_id == coop_a.id
    assert trail["shipment_range"].after["first_serial"] == 1 and trail["shipment_range"].cooperative_id == coop_a.id


@pytest.mark.parametrize("changes, field", [
    ({"buyer_name": ""}, "buyer_name"), ({"buyer_kind": "pirate"}, "buyer_kind"), ({"buyer_phone": "gọi tôi"}, "buyer_phone"),
    ({"shipped_on": None}, "shipped_on"), ({"shipped_on": date(2026, 6, 1)}, "shipped_on"),  # before the harvest
    ({"quantity": "0"}, "quantity"), ({"quantity": ""}, "quantity"), ({"buyer_commune_code": 1}, "buyer_commune"),
])
def test_bad_shipment_values_are_refused_on_their_field(db, coop_a, lychee, changes, field):
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, **changes}, None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(Shipment.id)) is None


def test_a_shipment_cannot_take_more_than_is_left_in_the_same_unit(db, coop_a, lychee):
    first = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "400.01", "unit": "KG"}, None)
    assert refused.value.field == "quantity" and "400" in str(refused.value.message)
    db.session.rollback()
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "400"}, None)  # exactly what is left
    shipments.update_shipment(coop_a.id, lychee.id, first.id, {"quantity": "600"}, None)  # its own quantity is not counted twice
    with pytest.raises(RuleViolation):
        shipments.update_shipment(coop_a.id, lychee.id, first.id, {"quantity": "601"}, None)


def test_a_shipment_in_another_unit_is_saved_and_said_unchecked(db, coop_a, lychee):
    boxes = shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "5000", "unit": "thùng"}, None)
    assert shipments.unit_not_checked(boxes)
    assert shipments.left_to_ship(lychee) == Decimal(1000)
    assert not shipments.unit_not_checked(shipments.create_shipment(coop_a.id, lychee.id, TRADER, None))


def test_stamp_ranges_must_be_stamps_of_this_batch_and_go_once(db, coop_a, lychee):
    blank = minted_run(coop_a, lychee.product, None, count=5, token="blank")
    other = product_with_batch(coop_a, "Vải sớm", "VS-1")
    other_run = minted_run(coop_a, other[0], other[1], count=5, token="other")
    bad = {
        "beyond the run": [StampRange(lychee.run.id, 4, 6)],
        "a blank run not activated": [StampRange(blank.id, 1, 2)],
        "another batch's run": [StampRange(other_run.id, 1, 2)],
        "overlapping": [StampRange(lychee.run.id, 1, 3), StampRange(lychee.run.id, 3, 4)],
    }
    for why, ranges in bad.items():
        with pytest.raises(RuleViolation) as refused:
            shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "1", "ranges": ranges}, None)
        assert refused.value.field == "ranges", why
        db.session.rollback()
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "1", "ranges": [StampRange(lychee.run.id, 1, 2)]}, None)
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "1", "ranges": [StampRange(lychee.run.id, 2, 2)]}, None)
    assert "Thương lái Hoàng Văn Nam" in str(refused.value.message)


def test_ranges_are_parsed_from_what_people_type():
    assert shipments.parse_ranges("#12: 1-500, 801–900; 13: 7") == [StampRange(12, 1, 500), StampRange(12, 801, 900), StampRange(13, 7, 7)]
    assert shipments.parse_ranges("1 đến 20", single_run=4) == [StampRange(4, 1, 20)]
    assert shipments.parse_ranges("  ") == []
    for typed in ("1-20", "#3: 20-1", "#3: abc"):  # no run named; backwards; not a number
        with pytest.raises(RuleViolation):
            shipments.parse_ranges(typed)
    assert shipments.format_ranges([StampRange(12, 801, 900), StampRange(12, 1, 500), StampRange(13, 7, 7)]) == "#12: 1-500, 801-900; #13: 7"


def test_a_recalled_batch_takes_only_shipments_that_left_before_the_recall(db, coop_a, lychee, officer_client):
    from app.models import User

    officer = db.session.scalar(select(User).where(User.login == "canbo@xa.vn"))
    commune_watch.recall(officer.id, lychee.id, "Dư lượng thuốc", date(2026, 6, 20))
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "shipped_on": date(2026, 6, 21)}, None)
    assert refused.value.field == "shipped_on"
    db.session.rollback()
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "shipped_on": date(2026, 6, 19)}, None)


def test_another_cooperatives_batch_and_shipment_are_not_found(db, coop_a, coop_b, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    for call in (lambda: shipments.create_shipment(coop_b.id, lychee.id, TRADER, None),
                 lambda: shipments.update_shipment(coop_b.id, lychee.id, shipment.id, {"quantity": "1"}, None),
                 lambda: shipments.delete_shipment(coop_b.id, lychee.id, shipment.id),
                 lambda: shipments.list_shipments(coop_b.id, lychee.id)):
        with pytest.raises(NotFound):
            call()


def test_shipments_are_not_verified_facts(db, coop_a, lychee):
    before = listings.fingerprint(listings.facts(lychee))
    shipment = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    shipments.update_shipment(coop_a.id, lychee.id, shipment.id, {"buyer_phone": "0987 000 111"}, None)
    db.session.expire_all()
    assert listings.fingerprint(listings.facts(lychee)) == before


def test_buyers_to_call_are_grouped_by_name_and_phone(db, coop_a, lychee):
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "100"}, None)
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "50", "buyer_phone": "0912345678",
                                                     "shipped_on": date(2026, 6, 13)}, None)
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "buyer_name": "Cửa hàng Quê Hương", "buyer_kind": "shop",
                                                     "buyer_phone": "024 3826 1234", "quantity": "20"}, None)
    buyers = shipments.buyers_to_call(lychee)
    assert [(b.name, len(b.shipments)) for b in buyers] == [("Thương lái Hoàng Văn Nam", 2), ("Cửa hàng Quê Hương", 1)]


def test_deleting_a_shipment_deletes_its_ranges(db, coop_a, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "ranges": [StampRange(lychee.run.id, 1, 5)]}, None)
    shipments.delete_shipment(coop_a.id, lychee.id, shipment.id)
    assert db.session.scalar(select(ShipmentRange.id)) is None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity == "shipment").order_by(AuditEvent.id.desc()).limit(1)) == "delete"


# Pages

FORM = {**TRADER, "shipped_on": "12/06/2026", "buyer_commune": "Xã Lục Ngạn, Bắc Ninh", "ranges": ""}


def test_the_form_saves_a_shipment_with_its_commune_and_stamps(member_client, db, lychee):
    response = post_form(member_client, f"/coop/batches/{lychee.id}/shipments/new", {**FORM, "ranges": "1-3"})
    assert response.status_code == 302
    shipment = db.session.scalar(select(Shipment))
    assert (shipment.buyer_commune_code, shipment.shipped_on) == (LUC_NGAN, date(2026, 6, 12))
    assert [(r.run_id, r.first_serial, r.last_serial) for r in shipment.ranges] == [(lychee.run.id, 1, 3)]
    page = member_client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)
    assert "Thương lái Hoàng Văn Nam" in page and 'href="tel:0912345678"' in page and "Xã Lục Ngạn, Bắc Ninh" in page
    assert "Còn lại chưa xuất: 400 trên 1.000 kg." in page and f"#{lychee.run.id}: 1–3" in page
    edit = member_client.get(f"/coop/batches/{lychee.id}/shipments/{shipment.id}/edit").get_data(as_text=True)
    assert 'value="Xã Lục Ngạn, Bắc Ninh"' in edit and f'value="#{lychee.run.id}: 1-3"' in edit


def test_a_bad_shipment_form_comes_back_422_with_messages_and_values(member_client, db, lychee):
    response = post_form(member_client, f"/coop/batches/{lychee.id}/shipments/new",
                         {**FORM, "buyer_phone": "gọi tôi", "buyer_commune": "Không Có Xã Này", "ranges": "#999: 1-2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Số điện thoại có tối đa 20 ký tự" in page and "Chọn một xã trong danh sách" in page
    assert 'value="gọi tôi"' in page and 'value="Không Có Xã Này"' in page and 'value="Thương lái Hoàng Văn Nam"' in page
    response = post_form(member_client, f"/coop/batches/{lychee.id}/shipments/new", {**FORM, "ranges": "#999: 1-2"})
    assert response.status_code == 422 and "không phải tất cả là tem của lô này" in response.get_data(as_text=True)
    response = post_form(member_client, f"/coop/batches/{lychee.id}/shipments/new", {**FORM, "quantity": "1200"})
    assert response.status_code == 422 and "Lô này chỉ còn 1.000 kg chưa xuất" in response.get_data(as_text=True)
    assert db.session.scalar(select(Shipment.id)) is None


def test_a_shipment_in_another_unit_is_saved_with_a_warning(member_client, db, lychee):
    response = post_form(member_client, f"/coop/batches/{lychee.id}/shipments/new", {**FORM, "quantity": "5000", "unit": "thùng"})
    assert response.status_code == 302
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Chuyến hàng tính bằng thùng còn lô tính bằng kg: chưa kiểm tra được số lượng còn lại." in page


def test_a_shipment_is_edited_and_deleted_from_its_pages(member_client, db, coop_a, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    url = f"/coop/batches/{lychee.id}/shipments/{shipment.id}"
    assert post_form(member_client, f"{url}/edit", {**FORM, "buyer_phone": "0987 000 111", "buyer_commune": ""}).status_code == 302
    db.session.expire_all()
    assert (shipment.buyer_phone, shipment.buyer_commune_code) == ("0987 000 111", None)
    assert post_form(member_client, f"{url}/delete").status_code == 302
    assert db.session.scalar(select(Shipment.id)) is None


def test_another_cooperatives_shipments_are_404_on_every_route(client, db, coop_a, coop_b, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    sign_in(client, "b@htx.vn")
    base = f"/coop/batches/{lychee.id}/shipments"
    assert client.get(f"{base}/new").status_code == 404
    assert client.get(f"{base}/{shipment.id}/edit").status_code == 404
    for path in (f"{base}/new", f"{base}/{shipment.id}/edit", f"{base}/{shipment.id}/delete"):
        assert post_form(client, path, FORM).status_code == 404
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).buyer_phone == "0912 345 678"


def test_the_officer_sees_where_the_batch_went_and_whom_to_call_on_a_recall(officer_client, db, coop_a, lychee):
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "ranges": [StampRange(lychee.run.id, 1, 2)]}, None)
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "buyer_name": "Cửa hàng Quê Hương", "buyer_kind": "shop",
                                                     "buyer_phone": "024 3826 1234", "quantity": "20"}, None)
    page = officer_client.get(f"/commune/listings/{lychee.id}").get_data(as_text=True)
    assert "Hàng của lô này đã đi đâu" in page and "Người mua cần gọi nếu lô này bị thu hồi" in page
    assert 'href="tel:02438261234"' in page and "Cửa hàng Quê Hương" in page and f"#{lychee.run.id}: 1–2" in page
    assert post_form(officer_client, f"/commune/listings/{lychee.id}/recall", {"reason": "Dư lượng thuốc"}).status_code == 302
    page = officer_client.get(f"/commune/listings/{lychee.id}").get_data(as_text=True)
    assert "Người mua cần gọi điện báo thu hồi" in page and 'href="tel:0912345678"' in page


def test_the_cooperatives_recalled_batch_page_shows_whom_to_call(client, db, coop_a, lychee):
    from app.models import Role
    from app.services import accounts
    from tests.conftest import PASSWORD

    shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    officer = accounts.create_user(name="Cán bộ", login="canbo2@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    sign_in(client, "a@htx.vn")
    assert "Người mua cần gọi" not in client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)
    commune_watch.recall(officer.id, lychee.id, "Dư lượng thuốc", date.today())
    page = client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)
    alert = page[page.index("Người mua cần gọi điện báo thu hồi"):]
    assert page.index("Người mua cần gọi điện báo thu hồi") < page.index("Nhật ký sản xuất")  # above the diary
    assert "Thương lái Hoàng Văn Nam" in alert and 'href="tel:0912345678"' in alert


def test_the_demo_lychee_has_inputs_and_two_shipments_and_stays_verified(db):
    from app.i18n import local_today
    from app.models import Batch
    from app.services import demo
    from app.services.listings import ListingStatus

    demo.load_demo()
    today = local_today()
    lychee = next(b for b in db.session.scalars(select(Batch)) if b.lot_code.startswith("VT-"))
    assert {i.kind.value for i in lychee.inputs} == {"fertiliser", "pesticide", "packaging"}
    spray = next(e for e in lychee.events if e.kind.value == "spraying")
    assert spray.input.name == "Abamectin 3.6EC"
    assert [(s.buyer_commune.province.name, s.shipped_on) for s in lychee.shipments] == [
        ("Lạng Sơn", today - timedelta(days=2)), ("Thành phố Hà Nội", today - timedelta(days=1))]
    assert sum(r.last_serial - r.first_serial + 1 for s in lychee.shipments for r in s.ranges) == demo.DEMO_STAMPS
    assert listings.listing(lychee, today).status is ListingStatus.VERIFIED


# In a real browser


@needs_chromium
@pytest.mark.browser
def test_journey_input_spray_shipment_recall(live_server, browser, db, coop_a, lychee, tmp_path):
    """A member records an input, a spray that used it and a shipment with stamps; the officer recalls the batch;
    both then see the buyer to call, with the phone number."""
    from app.models import Role
    from app.services import accounts
    from tests.conftest import PASSWORD

    accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    batch_id, run_id = lychee.id, lychee.run.id
    db.session.commit()  # and no lazy load after this: on SQLite a test's open transaction would hold the write lock
    coop = browser.new_context(locale="vi-VN", viewport={"width": 1000, "height": 900}).new_page()
    coop.set_default_timeout(15_000)
    sign_in_page(coop, live_server, "a@htx.vn", PASSWORD)
    coop.goto(f"{live_server}/coop/batches/{batch_id}")

    coop.get_by_role("link", name="+ Thêm vật tư đầu vào").click()
    coop.select_option("[name=kind]", "pesticide")
    coop.fill("[name=name]", "Emamectin 5.5WG")
    coop.fill("[name=supplier_name]", "Đại lý vật tư Hùng Mạnh")
    coop.fill("[name=supplier_lot]", "EMA 0524")
    coop.screenshot(path=str(tmp_path / "input_form.png"), full_page=True)
    coop.get_by_role("button", name="Lưu").click()
    coop.wait_for_selector("#inputs >> text=Emamectin 5.5WG")

    coop.get_by_role("link", name="+ Ghi nhật ký").click()
    coop.fill("[name=event_date]", "2026-05-25")
    coop.select_option("[name=kind]", "spraying")
    coop.select_option("[name=input_id]", label="Emamectin 5.5WG · Đại lý vật tư Hùng Mạnh · EMA 0524")
    coop.fill("[name=phi_days]", "7")
    coop.screenshot(path=str(tmp_path / "event_form.png"), full_page=True)
    coop.get_by_role("button", name="Lưu").click()
    coop.wait_for_selector("text=Emamectin 5.5WG (của Đại lý vật tư Hùng Mạnh, lô EMA 0524)")

    coop.get_by_role("link", name="+ Thêm chuyến hàng").click()
    coop.fill("[name=buyer_name]", "Thương lái Hoàng Văn Nam")
    coop.select_option("[name=buyer_kind]", "trader")
    coop.fill("[name=buyer_phone]", "0912 345 678")
    coop.fill("[name=buyer_commune]", "Xã Đồng Đăng, Lạng Sơn")
    coop.fill("[name=shipped_on]", "2026-06-12")
    coop.fill("[name=quantity]", "1200")  # more than the batch's 1,000 kg: refused, the typed values kept
    coop.fill("[name=ranges]", "1-3")
    coop.get_by_role("button", name="Lưu").click()
    coop.wait_for_selector("text=Lô này chỉ còn 1.000 kg chưa xuất")
    assert coop.input_value("[name=buyer_commune]") == "Xã Đồng Đăng, Lạng Sơn" and coop.input_value("[name=ranges]") == "1-3"
    coop.screenshot(path=str(tmp_path / "shipment_refused.png"), full_page=True)
    coop.fill("[name=quantity]", "600")
    coop.get_by_role("button", name="Lưu").click()
    coop.wait_for_selector(f"#shipments >> text=#{run_id}: 1–3")
    assert "Còn lại chưa xuất: 400 trên 1.000 kg." in coop.inner_text("#shipments")

    officer = browser.new_context(locale="vi-VN", viewport={"width": 1000, "height": 900}).new_page()
    officer.set_default_timeout(15_000)
    sign_in_page(officer, live_server, "canbo@xa.vn", PASSWORD, home="/commune/")
    officer.goto(f"{live_server}/commune/listings/{batch_id}")
    assert "Thương lái Hoàng Văn Nam" in officer.inner_text("#shipments")
    officer.on("dialog", lambda dialog: dialog.accept())
    officer.fill("form[action$='/recall'] [name=reason]", "Dư lượng Emamectin vượt mức cho phép")
    officer.get_by_role("button", name="Thu hồi lô hàng này").click()
    officer.wait_for_selector("text=Người mua cần gọi điện báo thu hồi")
    officer_calls = officer.inner_text(".recall-buyers")
    assert "Thương lái Hoàng Văn Nam" in officer_calls and "0912 345 678" in officer_calls
    officer.screenshot(path=str(tmp_path / "officer_recall.png"), full_page=True)

    coop.goto(f"{live_server}/coop/batches/{batch_id}")
    alert = coop.locator(".recall-buyers[role=alert]")
    assert "Thương lái Hoàng Văn Nam" in alert.inner_text() and "Xã Đồng Đăng, Lạng Sơn" in alert.inner_text()
    assert alert.locator("a[href='tel:0912345678']").count() == 1
    coop.screenshot(path=str(tmp_path / "coop_recalled.png"), full_page=True)
