"""In a real browser: a cooperative enters a batch and prints stamps, the commune officer verifies it, a phone
scanning a stamp sees the badge; the cooperative changes the harvest date and the badge is gone."""
import re

import pytest

from app.models import LabelRun
from app.services import demo, minting
from tests.jobs import label_worker, start_label_worker  # noqa: F401 (fixtures)
from tests.browser import browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)

pytestmark = [needs_chromium, pytest.mark.browser]
BADGE = "Đã xác minh bởi UBND xã Lục Ngạn"


@pytest.fixture
def demo_data(db):
    demo.load_demo()
    db.session.commit()


def _context_page(browser, **options):
    context = browser.new_context(locale="vi-VN", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_verified_then_changed(live_server, browser, demo_data, db, tmp_path, label_worker):
    base = live_server
    coop = _context_page(browser, viewport={"width": 1000, "height": 900})
    sign_in_page(coop, base, "lan@hongxuan.vn", demo.DEMO_PASSWORD)
    coop.get_by_role("link", name="Vải thiều Lục Ngạn").first.click()
    coop.get_by_role("link", name="+ Thêm lô hàng").click()
    coop.get_by_label("Mã lô").fill("VT-2026-07-B")
    coop.get_by_label("Ngày thu hoạch").fill("2026-07-02")
    coop.get_by_label("Ngày đóng gói").fill("2026-07-03")
    coop.get_by_role("button", name="Lưu").click()
    coop.wait_for_selector("h1:has-text('VT-2026-07-B')")
    assert "Chờ xác minh" in coop.inner_text("main")
    coop.get_by_role("link", name="In tem QR").click()
    coop.get_by_label("Số lượng tem").fill("5")
    coop.get_by_role("button", name="Tạo tem").click()
    coop.wait_for_url(re.compile(r".*/coop/runs/\d+$"))
    coop.wait_for_selector("#run-downloads", state="visible")
    run_id = int(coop.url.rsplit("/", 1)[1])
    code = minting.derive_codes(db.session.get(LabelRun, run_id))[0]
    db.session.commit()

    officer = _context_page(browser, viewport={"width": 1000, "height": 900})
    sign_in_page(officer, base, "canbo.lucngan@ocop.vn", demo.DEMO_PASSWORD, home="/commune/")
    officer.get_by_role("link", name="VT-2026-07-B").click()
    officer.get_by_role("button", name="Xác minh thông tin này").click()
    officer.wait_for_selector("text=Đã xác minh.")

    phone = _context_page(browser, viewport={"width": 360, "height": 640}, is_mobile=True)
    phone.goto(f"{base}/Q/{code}")
    assert BADGE in phone.inner_text("main")
    phone.screenshot(path=str(tmp_path / "badge.png"), full_page=True)

    coop.goto(f"{base}/coop/")
    coop.get_by_role("link", name="VT-2026-07-B").first.click()
    coop.get_by_role("link", name="Sửa").first.click()
    coop.get_by_label("Ngày thu hoạch").fill("2026-07-01")
    coop.get_by_role("button", name="Lưu").click()
    coop.wait_for_selector("text=Đã thay đổi sau khi xác minh")

    phone.reload()
    assert "Tem chính hãng" in phone.inner_text("main") and BADGE not in phone.inner_text("main")
    officer.goto(f"{base}/commune/")
    assert "VT-2026-07-B" in officer.inner_text("main")  # back in the queue
