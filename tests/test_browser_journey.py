"""A cooperative's day in a real browser: product with photo, batch, diary, then a run of QR stamps."""
import re

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from app.services import demo
from tests.jobs import label_worker, start_label_worker  # noqa: F401 (fixtures)
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)

pytestmark = [needs_chromium, pytest.mark.browser]


@pytest.fixture
def demo_data(db):
    demo.load_demo()
    db.session.commit()


def test_product_batch_and_diary_in_vietnamese(live_server, page, demo_data, tmp_path):
    base = live_server
    photo = tmp_path / "vai-thieu.jpg"
    Image.new("RGB", (900, 600), (190, 30, 50)).save(photo, "JPEG")
    sign_in_page(page, base, "lan@hongxuan.vn", demo.DEMO_PASSWORD)

    page.get_by_role("link", name="+ Thêm sản phẩm").click()
    page.get_by_label("Tên sản phẩm").fill("Vải thiều sớm Phúc Hòa")
    page.get_by_label("Xếp hạng OCOP", exact=True).select_option("3")
    page.get_by_label("Số giấy chứng nhận OCOP").fill("OCOP-BN-2026-0042")
    page.get_by_label("Ngày cấp chứng nhận OCOP").fill("2026-03-01")
    page.get_by_label("Thêm ảnh").set_input_files(str(photo))
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("h1:has-text('Vải thiều sớm Phúc Hòa')")
    assert page.locator("text=01/03/2029").count() == 1  # OCOP valid 36 months
    assert page.locator("img[alt='Vải thiều sớm Phúc Hòa']").evaluate("img => img.complete && img.naturalWidth > 0")

    page.get_by_role("link", name="+ Thêm lô hàng").click()
    page.get_by_label("Mã lô").fill("VS-2026-05")
    page.get_by_label("Ngày thu hoạch").fill("2026-05-20")
    page.get_by_label("Ngày đóng gói").fill("2026-05-18")  # before the harvest: refused
    page.get_by_role("button", name="Lưu").click()
    assert page.locator(".error", has_text="Ngày đóng gói không được trước ngày thu hoạch.").is_visible()
    assert page.get_by_label("Mã lô").input_value() == "VS-2026-05"
    page.get_by_label("Ngày đóng gói").fill("2026-05-21")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("h1:has-text('VS-2026-05')")

    # Only the fields of the chosen kind show: a harvest asks for its quantity, a spray for the product and its interval.
    for kind, date, fields in (("harvest", "2026-05-20", {"Sản lượng thu hoạch": "1200"}),
                               ("spraying", "2026-05-08", {"Vật tư sử dụng (phân bón, thuốc BVTV…)": "Abamectin 3.6EC", "Thời gian cách ly (ngày)": "7"})):
        page.get_by_role("link", name="+ Ghi nhật ký").click()
        page.get_by_label("Ngày", exact=True).fill(date)
        page.get_by_label("Loại công việc").select_option(kind)
        for label, value in fields.items():
            page.get_by_label(label).fill(value)
        page.get_by_role("button", name="Lưu").click()
        page.wait_for_selector("text=Đã lưu nhật ký.")

    events = page.locator("ol.timeline > li")
    assert events.count() == 2
    assert re.search(r"08/05/2026\s+Phun thuốc", events.nth(0).inner_text())
    assert "thời gian cách ly 7 ngày" in events.nth(0).inner_text()
    assert re.search(r"20/05/2026\s+Thu hoạch", events.nth(1).inner_text())
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)


def test_a_run_of_stamps_shows_progress_and_downloads_a_pdf_that_scans(live_server, page, demo_data, tmp_path, label_worker):
    base = live_server
    sign_in_page(page, base, "lan@hongxuan.vn", demo.DEMO_PASSWORD)
    page.get_by_role("link", name=re.compile(r"^VT-\d{4}-\d{2}-A$")).first.click()  # the demo lychee lot, named by its harvest month
    page.get_by_role("link", name="In tem QR").click()
    page.get_by_label("Số lượng tem").fill("3000")
    page.get_by_label("Khổ giấy tem").select_option("a4-40")
    page.get_by_role("button", name="Tạo tem").click()
    page.wait_for_url(re.compile(r".*/coop/runs/\d+$"))
    seen = set()
    for _ in range(600):
        seen.add(page.locator("progress").get_attribute("value"))
        if page.locator("#run-downloads").is_visible():
            break
        page.wait_for_timeout(100)
    assert page.locator("progress").get_attribute("value") == "100"
    assert len(seen) >= 2, "the bar should move while the run is made"
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải PDF").click()
    path = tmp_path / "tem.pdf"
    download.value.save_as(path)
    pdf = pypdfium2.PdfDocument(str(path))
    assert len(pdf) == 75  # 3,000 stamps, 40 a page
    first_page = pdf[0].render(scale=300 / 72).to_pil()
    found = zxingcpp.read_barcodes(first_page)
    assert len(found) == 40 and all(r.text.startswith("HTTP://127.0.0.1:") and "/Q/" in r.text for r in found)
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
