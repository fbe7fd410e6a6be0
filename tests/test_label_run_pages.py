"""Stamp runs through the dashboard and a real label worker: once per submit, exports, voids (crashes: test_label_jobs.py)."""
import csv
import io
import re
import time

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from stdnum import ean

from app.models import AuditEvent, Batch, LabelRun, Stamp
from app.services import codes, label_runs, run_processing, run_rendering, stamp_ranges
from tests.conftest import post_form
from tests.factories import minted_run, product_with_batch
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.jobs import label_worker, start_label_worker  # noqa: F401 (fixtures)
from tests.test_labels_engine import decoded_in_reading_order


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)


def wait_until_done(client, run_id, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/coop/runs/{run_id}/status").get_json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {status}")


def test_a_double_submit_creates_one_run(member_client, db, lychee, label_worker):
    _product, batch = lychee
    form = member_client.get(f"/coop/batches/{batch.id}/runs/new").get_data(as_text=True)
    token = form.split('name="request_token" type="hidden" value="')[1].split('"')[0]
    data = {"count": "130", "template": "a4-65", "ecc": "M", "offset_x_mm": "0", "offset_y_mm": "0", "request_token": token}
    first = post_form(member_client, f"/coop/batches/{batch.id}/runs/new", data)
    second = post_form(member_client, f"/coop/batches/{batch.id}/runs/new", data)
    assert first.status_code == second.status_code == 302 and first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 1
    run_id = int(first.headers["Location"].rsplit("/", 1)[1])
    assert wait_until_done(member_client, run_id)["progress"] == 100
    pdf = member_client.get(f"/coop/runs/{run_id}/labels.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert db.session.scalar(select(func.count()).select_from(Stamp)) == 130


@pytest.mark.parametrize("count", ["0", "100001", "nhiều"])
def test_bad_counts_are_refused(member_client, db, lychee, count):
    _product, batch = lychee
    response = post_form(member_client, f"/coop/batches/{batch.id}/runs/new", {"count": count, "template": "a4-65", "ecc": "M", "request_token": "x"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 0


def test_csv_export_lists_every_serial_code_and_url(member_client, db, coop_a, lychee):
    product, batch = lychee
    run = minted_run(coop_a, product, batch, count=25)
    response = member_client.get(f"/coop/runs/{run.id}/stamps.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["sequence", "code", "url", "printed_serial"] and len(rows) == 26
    hashes = set(db.session.scalars(select(Stamp.code_hash).where(Stamp.run_id == run.id)))
    for number, (serial, code, url, printed) in enumerate(rows[1:], start=1):
        assert (serial, printed) == (str(number), f"Nº {number:06d}")
        assert codes.normalise(code) == code and codes.code_hash(code) in hashes
        assert url.endswith(f"/Q/{code}") and url == url.upper()


@pytest.mark.parametrize("gs1_link", [False, True])
def test_each_csv_url_is_what_the_printed_qr_encodes(member_client, db, coop_a, lychee, gs1_link):
    product, batch = lychee
    product.gtin = "0" + ean.calc_check_digit("893456789012").join(("893456789012", ""))  # a GTIN-14
    db.session.commit()
    run, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=70, template="a4-65",
                                   options={"gs1_link": gs1_link}, request_token=f"gs1-{gs1_link}", actor_id=None)
    run_rendering.render(run.id)
    scanned = decoded_in_reading_order(run_rendering.pdf_bytes(run.id))
    rows = list(csv.reader(io.StringIO(member_client.get(f"/coop/runs/{run.id}/stamps.csv").get_data(as_text=True))))[1:]
    assert [url for _serial, _code, url, _printed in rows] == scanned and len(scanned) == 70
    assert all(("/01/08934567890" in url) == gs1_link for url in scanned)



@pytest.mark.parametrize("lot", ["VT/2026/06", "VT 2026 06", "lô 6/A"])
def test_a_lot_code_saved_before_the_rule_still_links_to_its_stamps(member_client, db, coop_a, lychee, lot):
    """A lot code from before lot codes were restricted, with a "/" or a space: the GS1 Digital Link of the
    QR and of the CSV is the same URL, with the lot as one segment of its path, and it opens the stamp's page."""
    product, batch = lychee
    product.gtin = "0" + ean.calc_check_digit("893456789012").join(("893456789012", ""))  # a GTIN-14
    batch.best_before = date.today().replace(year=date.today().year + 1)
    db.session.commit()
    db.session.execute(update(Batch).where(Batch.id == batch.id).values(lot_code=lot))  # as old data holds it
    db.session.commit()
    run, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=5, template="a4-65",
                                   options={"gs1_link": True}, request_token="old-lot", actor_id=None)
    run_processing.process(run.id)
    scanned = decoded_in_reading_order(run_rendering.pdf_bytes(run.id))
    rows = list(csv.reader(io.StringIO(member_client.get(f"/coop/runs/{run.id}/stamps.csv").get_data(as_text=True))))[1:]
    assert [url for _serial, _code, url, _printed in rows] == scanned and len(scanned) == 5
    phone = member_client.application.test_client()
    for _serial, code, url, _printed in rows:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        assert path.count("/") == 6 and path.endswith(f"/21/{code}")  # /01/GTIN/10/LOT/21/CODE: the lot is one segment
        page = phone.get(path, headers={"Accept-Language": "vi-VN"})
        assert page.status_code == 200 and "Tem chính hãng" in page.get_data(as_text=True), (lot, path)
        assert phone.get(path.replace("/10/", "/10/X", 1), headers={"Accept-Language": "vi-VN"}).status_code == 404

def test_csv_cells_that_look_like_formulas_are_defused():
    from app.csv_export import safe_cell
    assert [safe_cell(v) for v in ("=1+1", "+84", "-2", "@x", "7KQ4")] == ["'=1+1", "'+84", "'-2", "'@x", "7KQ4"]


def test_voiding_and_activating_ranges_from_the_run_page(member_client, db, coop_a, lychee):
    product, batch = lychee
    run = minted_run(coop_a, product, None, count=50, token="blank")
    page = member_client.get(f"/coop/runs/{run.id}").get_data(as_text=True)
    assert "Kích hoạt cho lô hàng" in page
    response = post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "1", "last": "20", "batch_id": str(batch.id), "action": "activate"})
    assert response.status_code == 302
    response = post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "41", "last": "60", "batch_id": str(batch.id), "action": "void", "reason": "Rách"})
    assert response.status_code == 422 and "Số sê-ri từ 1 đến 50" in response.get_data(as_text=True)
    post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "41", "last": "50", "batch_id": str(batch.id), "action": "void", "reason": "Rách"})
    assert stamp_ranges.stamp_counts(run.id) == {"minted": 50, "active": 20, "voided": 10}
    response = post_form(member_client, f"/coop/runs/{run.id}/void", {"reason": "Mất cuộn tem"})
    assert response.status_code == 302
    assert "Mất cuộn tem" in member_client.get(f"/coop/runs/{run.id}").get_data(as_text=True)


REASON_MISSING = "Hãy ghi lý do hủy các tem này (ví dụ: mất cuộn tem khi vận chuyển)."


def _error_of(page: str, field: str) -> str:
    """The error message shown in the form field whose input has this id."""
    block = page.split(f'id="{field}"')[1].split("</div>")[0]
    return block.split('<p class="error">')[1].split("</p>")[0] if '<p class="error">' in block else ""


def test_voiding_without_a_reason_says_so_next_to_the_field_and_keeps_what_was_typed(member_client, db, coop_a, lychee):
    product, batch = lychee
    run = minted_run(coop_a, product, batch, count=30)
    response = post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "3", "last": "7", "action": "void", "reason": "  "})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _error_of(page, "range_reason") == REASON_MISSING
    assert 'name="first" type="text" value="3"' in page or 'value="3"' in page.split('id="first"')[1][:80]
    response = post_form(member_client, f"/coop/runs/{run.id}/void", {"reason": ""})
    assert response.status_code == 422 and REASON_MISSING in response.get_data(as_text=True)
    assert stamp_ranges.stamp_counts(run.id)["voided"] == 0


def test_the_run_page_lists_activations_and_voids(member_client, db, coop_a, lychee):
    product, batch = lychee
    run = minted_run(coop_a, product, None, count=50, token="blank")
    post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "1", "last": "20", "batch_id": str(batch.id), "action": "activate", "reason": "Đóng hộp sáng 11/6"})
    post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "15", "last": "25", "batch_id": str(batch.id), "action": "void", "reason": "Tem bị ướt"})
    page = member_client.get(f"/coop/runs/{run.id}").get_data(as_text=True)
    history = page.split('id="range-history"')[1]
    rows = [row.split("</tr>")[0] for row in history.split("<tr>")[2:]]
    assert len(rows) == 2
    voided, activated = rows
    assert all("Thành viên HTX Vải thiều Lục Ngạn" in row for row in rows)
    assert "Hủy tem" in voided and "15–25" in voided and "Tem bị ướt" in voided and ">11<" in voided
    assert "Kích hoạt" in activated and "1–20" in activated and batch.lot_code in activated and "Đóng hộp sáng 11/6" in activated


def _new_run_form(client, batch_id: int, count: str, **extra):
    form = client.get(f"/coop/batches/{batch_id}/runs/new").get_data(as_text=True)
    token = form.split('name="request_token" type="hidden" value="')[1].split('"')[0]
    data = {"count": count, "template": "a4-65", "ecc": "M", "offset_x_mm": "0", "offset_y_mm": "0", "request_token": token, **extra}
    return post_form(client, f"/coop/batches/{batch_id}/runs/new", data)


def test_printing_more_stamps_than_bottles_is_confirmed_with_a_checkbox(member_client, db, coop_a, lychee, label_worker):
    _product, batch = lychee
    batch.quantity, batch.unit = Decimal("12"), "chai"
    db.session.commit()
    trail_so_far = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    response = _new_run_form(member_client, batch.id, "15")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    box = page.split('id="more-than-quantity"')[1].split("</div>")[0]  # the message, then the checkbox it asks for
    assert "Lô này có 12 chai; bạn đang in 15 tem." in box and 'type="checkbox"' in box
    assert 'value="15"' in page.split('id="count"')[1][:80]  # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(LabelRun)) == 0
    response = _new_run_form(member_client, batch.id, "15", more_than_quantity="y")
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.id > trail_so_far, AuditEvent.action == "print_over_quantity"))
    assert event.actor_name == "Thành viên HTX Vải thiều Lục Ngạn" and event.entity_id == run_id
    assert (event.after["quantity"], event.after["unit"], event.after["count"]) == ("12", "chai", 15)
    wait_until_done(member_client, run_id)


def test_printer_offset_and_calibration_page(member_client, db, coop_a):
    response = post_form(member_client, "/coop/printing", {"print_offset_x_mm": "1.5", "print_offset_y_mm": "-0.5"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (coop_a.print_offset_x_mm, coop_a.print_offset_y_mm) == (1.5, -0.5)
    assert post_form(member_client, "/coop/printing", {"print_offset_x_mm": "25"}).status_code == 422
    pdf = member_client.get("/coop/printing/calibration.pdf?template=a4-21")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_batch_with_printed_stamps_cannot_be_deleted(member_client, db, coop_a, lychee):
    product, batch = lychee
    minted_run(coop_a, product, batch, count=3)
    response = post_form(member_client, f"/coop/batches/{batch.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/coop/batches/{batch.id}")
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "không thể xóa" in page
    db.session.expire_all()
    assert db.session.get(type(batch), batch.id) is not None


@needs_chromium
@pytest.mark.browser
def test_in_a_browser_over_printing_is_confirmed_and_a_void_needs_a_reason(live_server, page, db, tmp_path, label_worker):
    from app.services import demo

    demo.load_demo()
    db.session.commit()
    base = live_server
    sign_in_page(page, base, "0987654321", demo.DEMO_PASSWORD)
    page.get_by_role("link", name=re.compile(r"^MO-")).first.click()
    page.get_by_role("link", name="In tem QR").click()
    assert page.locator("text=Số lượng của lô này: 1.800 chai.").is_visible()
    assert page.locator("#more_than_quantity").count() == 0  # asked only when needed
    page.get_by_label("Số lượng tem").fill("2000")
    page.get_by_role("button", name="Tạo tem").click()
    warning = page.locator("#more-than-quantity .error")
    assert warning.inner_text().startswith("Lô này có 1.800 chai; bạn đang in 2.000 tem.")
    assert page.get_by_label("Số lượng tem").input_value() == "2000"
    page.screenshot(path=str(tmp_path / "run-form-over-quantity.png"), full_page=True)
    page.get_by_label("Tôi xác nhận in nhiều tem hơn số lượng của lô").check()
    page.get_by_role("button", name="Tạo tem").click()
    page.wait_for_url(re.compile(r".*/coop/runs/\d+$"))
    page.wait_for_selector("#run-downloads:not([hidden])", timeout=60_000)
    page.reload()

    page.get_by_label("Từ số sê-ri").fill("11")
    page.get_by_label("Đến số sê-ri").fill("20")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Hủy khoảng tem").click()
    page.wait_for_selector("#range_reason[aria-invalid=true]")
    assert "Hãy ghi lý do hủy các tem này" in page.locator(".field.has-error").inner_text()
    assert page.locator("label[for=range_reason]").inner_text() == "Lý do (ví dụ: mất cuộn tem khi vận chuyển)"  # a batch run: voids only
    assert page.get_by_label("Từ số sê-ri").input_value() == "11"
    page.screenshot(path=str(tmp_path / "run-void-needs-reason.png"), full_page=True)
    page.locator("#range_reason").fill("Tem dán hỏng khi đóng chai")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Hủy khoảng tem").click()
    page.wait_for_selector("text=Đã hủy 10 tem.")
    row = page.locator("#range-history tbody tr")
    assert row.count() == 1
    assert re.search(r"Lê Thị Nhi\s+Hủy tem\s+11–20\s+10\s+—\s+Tem dán hỏng khi đóng chai", row.inner_text())
    page.screenshot(path=str(tmp_path / "run-history.png"), full_page=True)
