"""The national traceability portal export (Circular 02/2024/TT-BKHCN): Article 6.5's minimum information for a
complete product, exactly what an incomplete one lacks, the same data in JSON and XLSX, formula-looking cells
kept as text, and one cooperative's data never in another's export."""
import io
import json
from datetime import date, datetime, timezone

import openpyxl
import pytest

from app.models import Role
from app.services import accounts, batch_inputs, batches, commune_watch, cooperatives, portal_export, products, shipments, stamp_ranges
from app.services.shipments import StampRange
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import LUC_NGAN, PASSWORD
from tests.factories import jpeg_bytes, minted_run, product_with_batch

GTIN13 = "8938501234568"  # GS1 Vietnam's prefix 893


def _with_address(coop, address="Thôn Hồng Xuân"):
    return cooperatives.update_cooperative(coop.id, {"name": coop.name, "registration_no": coop.registration_no,
                                                     "commune_code": coop.commune_code, "address_line": address}, None)


def complete_product(coop):
    """A product with everything Article 6.5 asks for: photo, GTIN, shelf life, a lot with dates, diary and stamps."""
    _with_address(coop)
    product, lot = product_with_batch(coop)
    products.update_product(coop.id, product.id, {"gtin": GTIN13, "growing_area_code": "VN-BGLN-0012"}, None)
    batches.update_batch(coop.id, lot.id, {"best_before": date(2026, 6, 25), "growing_area": "Đội 3"}, None)
    run = minted_run(coop, product, lot, count=5)
    batch_inputs.add_input(coop.id, lot.id, {"kind": "pesticide", "name": "Abamectin 3.6EC", "supplier_name": "Đại lý vật tư Hùng Lan",
                                             "supplier_address": "Thị trấn Chũ", "supplier_lot": "AB-2605", "received_on": date(2026, 5, 10)}, None)
    shipments.create_shipment(coop.id, lot.id, {"buyer_name": "Công ty XNK Bắc Giang", "buyer_kind": "exporter",
                                                "buyer_address": "KCN Đình Trám", "shipped_on": date(2026, 6, 12), "quantity": "800",
                                                "unit": "kg", "ranges": [StampRange(run.id, 1, 3)]}, None)
    return product, lot, run


def incomplete_product(coop):
    """No photo, no shelf life; its lot has a packing date but no harvest date, no best-before, no diary and no area."""
    product = products.create_product(coop.id, {"name": "Bưởi Diễn", "category": "fruit"}, None)
    lot = batches.create_batch(coop.id, product.id, {"lot_code": "BD-01", "packing_date": date(2026, 10, 2)}, None)
    return product, lot


def download_json(client) -> dict:
    response = client.get("/coop/portal/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    return json.loads(response.data)


def download_xlsx(client) -> openpyxl.Workbook:
    response = client.get("/coop/portal/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.data))


def by_name(document: dict, name: str) -> dict:
    (found,) = [p for p in document["products"] if p["name"] == name]
    return found


def test_a_complete_product_carries_every_element_of_article_6_5(member_client, coop_a):
    product, lot, run = complete_product(coop_a)
    document = download_json(member_client)
    record = by_name(document, product.name)

    producer = document["producer"]  # name and address of the producer
    assert producer["name"] == coop_a.name
    assert "Thôn Hồng Xuân" in producer["address"] and "Lục Ngạn" in producer["address"]
    location = producer["location_trace_code"]
    assert location == f"VN-07582-{coop_a.registration_no}"

    assert record["images"] and record["images"][0].startswith("http")  # name and image
    assert record["product_trace_code"] == "0" + GTIN13 and record["gtin"] == "0" + GTIN13  # code
    assert record["gs1_prefix_893"] is True
    assert "brand" in record and "trademark" in record  # "if any": present, empty when not recorded
    assert record["expiry"]["shelf_life_days"] == 14  # expiry

    (lot_record,) = record["lots"]
    assert lot_record["product_trace_code"] == f"(01)0{GTIN13}(10){lot.lot_code}"
    assert lot_record["production_time"] == {"harvest_date": "2026-06-10", "packing_date": "2026-06-11"}
    assert lot_record["expiry"]["best_before"] == "2026-06-25"
    assert lot_record["serials"] == [{"run": run.id, "from": 1, "to": 5}]  # serial numbers

    (supplied,) = lot_record["one_step_back"]  # one step back: what went in, from whom
    assert supplied["supplier"] == {"name": "Đại lý vật tư Hùng Lan", "address": "Thị trấn Chũ"}
    assert supplied["supplier_lot"] == "AB-2605" and supplied["input"] == "Abamectin 3.6EC"
    (shipped,) = lot_record["one_step_forward"]  # one step forward: to whom, when, which stamps
    assert shipped["buyer"]["name"] == "Công ty XNK Bắc Giang" and shipped["shipped_on"] == "2026-06-12"
    assert shipped["serials"] == [{"run": run.id, "from": 1, "to": 3}]
    assert lot_record["business_time"] == {"first_shipment": "2026-06-12"}

    stages = lot_record["stages"]
    assert [s["stage"] for s in stages] == ["receiving", "spraying", "harvest", "packing", "shipping", "commissioning"]
    for stage in stages:  # each stage: product trace code, location trace code, event time
        assert stage["product_trace_code"] == lot_record["product_trace_code"]
        assert stage["location_trace_code"] == location
        assert stage["event_time"]
    assert stages[1]["key_data"] == {"input_used": "Abamectin 3.6EC", "pre_harvest_interval_days": 7}
    assert stages[1]["stage_name"] == "Phun thuốc"
    assert stages[0]["key_data"]["supplier"] == "Đại lý vật tư Hùng Lan"
    assert stages[4]["key_data"]["buyer"] == "Công ty XNK Bắc Giang"

    assert record["missing"] == []
    master = document["master_data"]
    assert master["products"] == [{"product_trace_code": "0" + GTIN13, "name": product.name, "gtin": "0" + GTIN13}]
    assert master["production_conditions"][0]["growing_area_code"] == "VN-BGLN-0012"
    assert master["production_conditions"][0]["certifications"][0]["scheme"] == "VietGAP"
    assert master["suppliers"] == [{"name": "Đại lý vật tư Hùng Lan", "address": "Thị trấn Chũ"}]
    assert [(c["name"], c["kind"]) for c in master["customers"]] == [("Công ty XNK Bắc Giang", "exporter")]


def test_the_missing_list_names_exactly_what_an_incomplete_product_lacks(member_client, coop_a):
    product, lot = incomplete_product(coop_a)
    record = by_name(download_json(member_client), product.name)
    assert {(m["element"], m["fix_url"]) for m in record["missing"]} == {
        ("producer_address", "/coop/profile"),
        ("product_image", f"/coop/products/{product.id}/edit"),
        ("expiry", f"/coop/products/{product.id}/edit"),
        ("harvest_date", f"/coop/batches/{lot.id}/edit"),
        ("diary", f"/coop/batches/{lot.id}/events/new"),
        ("production_conditions", f"/coop/batches/{lot.id}/edit"),
        ("one_step_back", f"/coop/batches/{lot.id}/inputs/new"),
        ("one_step_forward", f"/coop/batches/{lot.id}/shipments/new"),
    }
    assert len(record["missing"]) == 8
    assert "thiếu ảnh sản phẩm" in {m["message"] for m in record["missing"]}

    page = member_client.get("/coop/portal").get_data(as_text=True)
    for sentence in ("thiếu ảnh sản phẩm", "thiếu thời hạn sử dụng", "thiếu địa chỉ hợp tác xã",
                     "lô BD-01 chưa có ngày thu hoạch", "lô BD-01 chưa có nhật ký sản xuất",
                     "lô BD-01 chưa ghi vật tư đầu vào và nhà cung cấp (một bước trước)",
                     "lô BD-01 chưa ghi lần xuất bán cho người mua (một bước sau)"):
        assert sentence in page
    assert "lô BD-01 chưa có ngày đóng gói" not in page
    assert f'href="/coop/products/{product.id}/edit"' in page and 'href="/coop/profile"' in page

    dashboard = member_client.get("/coop/").get_data(as_text=True)
    assert "Còn thiếu 8 mục cho Cổng truy xuất quốc gia, ở 1 sản phẩm." in dashboard
    assert 'href="/coop/portal"' in dashboard


def test_filling_in_what_was_missing_empties_the_list(member_client, coop_a):
    product, lot = incomplete_product(coop_a)
    _with_address(coop_a)
    products.update_product(coop_a.id, product.id, {"shelf_life_days": 60}, None, photo=io.BytesIO(jpeg_bytes((64, 64))))
    batches.update_batch(coop_a.id, lot.id, {"harvest_date": date(2026, 10, 1), "growing_area": "Đội 2"}, None)
    batches.add_event(coop_a.id, lot.id, {"event_date": date(2026, 10, 1), "kind": "harvest"}, None)
    batch_inputs.add_input(coop_a.id, lot.id, {"kind": "packaging", "name": "Thùng carton", "supplier_name": "Bao bì Minh Phát"}, None)
    shipments.create_shipment(coop_a.id, lot.id, {"buyer_name": "Chợ đầu mối Long Biên", "buyer_kind": "market",
                                                  "shipped_on": date(2026, 10, 3), "quantity": "50", "unit": "kg"}, None)
    assert by_name(download_json(member_client), product.name)["missing"] == []
    _with_address(coop_a, "")
    assert "Còn thiếu 1 mục cho Cổng truy xuất quốc gia." in member_client.get("/coop/").get_data(as_text=True)
    _with_address(coop_a)
    assert "Mọi sản phẩm đã có đủ thông tin tối thiểu" in member_client.get("/coop/").get_data(as_text=True)


def test_a_diary_entry_that_used_a_recorded_input_names_its_supplier(member_client, coop_a):
    product, lot = product_with_batch(coop_a, name="Cam Nam Dương", lot="CAM-01")
    fertiliser = batch_inputs.add_input(coop_a.id, lot.id, {"kind": "fertiliser", "name": "NPK 16-16-8",
                                                            "supplier_name": "Công ty Phân bón Bình Điền", "supplier_lot": "BD-77"}, None)
    batches.add_event(coop_a.id, lot.id, {"event_date": date(2026, 5, 1), "kind": "fertilising", "input_used": "NPK 16-16-8",
                                          "input_id": fertiliser.id}, None)
    (lot_record,) = by_name(download_json(member_client), "Cam Nam Dương")["lots"]
    (fertilising,) = [s for s in lot_record["stages"] if s["stage"] == "fertilising"]
    assert fertilising["key_data"] == {"input_used": "NPK 16-16-8", "supplier": "Công ty Phân bón Bình Điền",
                                       "supplier_lot": "BD-77"}


def test_a_spraying_without_its_product_is_a_missing_key_data_element(member_client, coop_a):
    product, lot, _ = complete_product(coop_a)
    batches.add_event(coop_a.id, lot.id, {"event_date": date(2026, 5, 25), "kind": "spraying"}, None)
    missing = by_name(download_json(member_client), product.name)["missing"]
    assert [(m["element"], m["article"], m["message"]) for m in missing] == [
        ("key_data", "6.1", "lô VT-2026-06-A: lần phun thuốc ngày 25/05/2026 chưa ghi tên thuốc đã dùng")]


def test_blank_stamps_activated_onto_a_lot_and_its_recall_are_stages(member_client, coop_a, db):
    product, lot, _ = complete_product(coop_a)
    blank = minted_run(coop_a, product, None, count=10, token="blank")
    stamp_ranges.activate_range(coop_a.id, blank.id, 4, 7, lot.id, None)
    officer = accounts.create_user(name="Cán bộ xã", login="canbo2@xa.vn", password=PASSWORD, role=Role.OFFICER,
                                   commune_codes=[LUC_NGAN])
    commune_watch.recall(officer.id, lot.id, "Dư lượng thuốc vượt ngưỡng", date(2026, 6, 20))
    (lot_record,) = by_name(download_json(member_client), product.name)["lots"]
    assert {"run": blank.id, "from": 4, "to": 7} in lot_record["serials"]
    activated = [s for s in lot_record["stages"] if s["key_data"].get("serials") == f"{blank.id}:4-7"]
    assert [(s["stage"], s["key_data"]["stamps"]) for s in activated] == [("commissioning", 4)]
    recalled = [s for s in lot_record["stages"] if s["stage"] == "recalling"]
    assert recalled == [{"stage": "recalling", "stage_name": "Thu hồi", "product_trace_code": lot_record["product_trace_code"],
                         "location_trace_code": f"VN-07582-{coop_a.registration_no}", "event_time": "2026-06-20",
                         "key_data": {"reason": "Dư lượng thuốc vượt ngưỡng"}}]
    assert lot_record["status"] == "recalled" and lot_record["recall"]["recalled_on"] == "2026-06-20"


def test_the_xlsx_opens_and_holds_the_same_data_as_the_json(member_client, coop_a):
    complete_product(coop_a)
    incomplete_product(coop_a)
    document = download_json(member_client)
    book = download_xlsx(member_client)
    assert book.sheetnames == ["Cơ sở sản xuất", "Sản phẩm", "Lô hàng", "Công đoạn", "Nhà cung cấp", "Khách hàng",
                               "Thông tin còn thiếu"]

    def rows(title):
        return [list(row) for row in book[title].iter_rows(min_row=2, values_only=True)]

    producer = dict((label, value) for label, value in rows("Cơ sở sản xuất"))
    assert producer["Tên hợp tác xã"] == document["producer"]["name"]
    assert producer["Mã truy vết địa điểm"] == document["producer"]["location_trace_code"]
    assert [r[:2] for r in rows("Sản phẩm")] == [[p["product_trace_code"], p["name"]] for p in document["products"]]
    assert [r[2:4] for r in rows("Lô hàng")] == [[lot["lot_code"], lot["product_trace_code"]]
                                                  for p in document["products"] for lot in p["lots"]]
    stages = [s for p in document["products"] for lot in p["lots"] for s in lot["stages"]]
    assert [r[:4] for r in rows("Công đoạn")] == [
        [s["product_trace_code"], s["location_trace_code"], s["event_time"], s["stage"]] for s in stages]
    assert len(stages) >= 5
    assert "Vật tư đã dùng: Abamectin 3.6EC; Thời gian cách ly (ngày): 7" in [r[5] for r in rows("Công đoạn")]
    assert [r[:2] for r in rows("Khách hàng")] == [["Công ty XNK Bắc Giang", "Doanh nghiệp xuất khẩu"]]
    assert [r[0] for r in rows("Nhà cung cấp")] == ["Đại lý vật tư Hùng Lan"]
    assert [r[3] for r in rows("Thông tin còn thiếu")] == [m["message"] for p in document["products"] for m in p["missing"]]
    assert "thiếu ảnh sản phẩm" in [r[3] for r in rows("Thông tin còn thiếu")]


def test_formula_looking_cells_stay_text_in_the_xlsx(member_client, coop_a):
    product = products.create_product(coop_a.id, {"name": "=HYPERLINK(\"http://x.example\",\"Vải\")", "category": "fruit"}, None)
    lot = batches.create_batch(coop_a.id, product.id, {"lot_code": "F-01", "harvest_date": date(2026, 6, 1),
                                                       "growing_area": "+SUM(A1:A9)"}, None)
    batch_inputs.add_input(coop_a.id, lot.id, {"kind": "other", "name": "Giống", "supplier_name": "@cmd|' /C calc'!A0"}, None)
    batches.add_event(coop_a.id, lot.id, {"event_date": date(2026, 6, 1), "kind": "other", "description": "@SUM(1+1)"}, None)
    book = download_xlsx(member_client)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    names = [row[1] for row in book["Sản phẩm"].iter_rows(min_row=2, values_only=True)]
    assert names == ["'=HYPERLINK(\"http://x.example\",\"Vải\")"]
    assert [row[9] for row in book["Lô hàng"].iter_rows(min_row=2, values_only=True)] == ["'+SUM(A1:A9)"]
    assert [row[0] for row in book["Nhà cung cấp"].iter_rows(min_row=2, values_only=True)] == ["'@cmd|' /C calc'!A0"]
    details = [row[5] for row in book["Công đoạn"].iter_rows(min_row=2, values_only=True)]
    assert "Mô tả: @SUM(1+1)" in details  # not at the start of its cell: harmless, left as typed


def test_another_cooperatives_data_is_never_in_the_export(app, member_client, coop_a, coop_b):
    complete_product(coop_a)
    hidden, hidden_lot = incomplete_product(coop_b)
    products.update_product(coop_b.id, hidden.id, {"name": "Mật ong bí mật"}, None)
    body = member_client.get("/coop/portal/export.json").get_data(as_text=True)
    book = member_client.get("/coop/portal/export.xlsx").data
    page = member_client.get("/coop/portal").get_data(as_text=True)
    for text in (body, page):
        assert "Mật ong bí mật" not in text and "BD-01" not in text and coop_b.registration_no not in text
    sheets = openpyxl.load_workbook(io.BytesIO(book))
    values = {str(c) for s in sheets.worksheets for row in s.iter_rows(values_only=True) for c in row if c is not None}
    assert not {v for v in values if "Mật ong bí mật" in v or "BD-01" in v or coop_b.registration_no in v}

    # The pages B's missing list sends its members to are B's own: to A's member they do not exist.
    with app.test_request_context():
        b_missing = by_name(portal_export.portal_document(coop_b.id, datetime.now(timezone.utc)), "Mật ong bí mật")["missing"]
    b_links = {m["fix_url"] for m in b_missing} - {"/coop/profile"}
    assert b_links
    for link in b_links:
        assert member_client.get(link).status_code == 404, link


PORTAL_PATHS = ("/coop/portal", "/coop/portal/export.json", "/coop/portal/export.xlsx")


@pytest.mark.parametrize("signed_in", ["officer_client", "admin_client"])
def test_only_members_reach_the_portal_pages(request, signed_in):
    client = request.getfixturevalue(signed_in)
    for path in PORTAL_PATHS:
        assert client.get(path).status_code == 403, path


def test_a_visitor_is_sent_to_sign_in(client):
    for path in PORTAL_PATHS:
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


@pytest.mark.browser
@needs_chromium
def test_the_portal_page_in_chromium(live_server, page, coop_a, db, tmp_path):
    complete_product(coop_a)
    incomplete_product(coop_a)
    cooperatives.update_cooperative(coop_a.id, {"name": coop_a.name, "registration_no": coop_a.registration_no,
                                                "commune_code": coop_a.commune_code, "address_line": ""}, None)
    db.session.commit()
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    summary = page.locator("#portal-summary")
    assert "Còn thiếu" in summary.inner_text()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    summary.get_by_role("link", name="Xem những mục còn thiếu").click()
    page.wait_for_url(f"{live_server}/coop/portal")
    assert page.locator("h1").inner_text() == "Cổng truy xuất quốc gia"
    assert "lô BD-01 chưa có ngày thu hoạch" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "portal.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải tệp Excel (XLSX)").click()
    assert download.value.suggested_filename == f"truy-xuat-{coop_a.registration_no}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert "Công đoạn" in book.sheetnames
    page.get_by_role("link", name="Bổ sung").first.click()
    page.wait_for_url(f"{live_server}/coop/profile")
