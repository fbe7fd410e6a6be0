"""The API's pages in Chromium: the documentation runs Swagger UI under the site's policy with nothing
refused, and a member makes a token, sees it once, and the token then reads the API."""
import re
import urllib.request

import pytest

from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.browser]


def test_docs_page_shows_every_operation_without_a_policy_violation(page, live_server, tmp_path):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    page.goto(f"{live_server}/api/v1/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 12
    assert "OCOP Trace API" in page.locator(".info .title").inner_text()
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
    assert problems == []


def test_member_makes_a_token_sees_it_once_and_it_reads_the_api(page, live_server, coop_a, tmp_path):
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/account")
    page.get_by_role("link", name="Mã truy cập API").click()
    page.get_by_label("Tên").fill("Điện thoại xưởng đóng gói")
    page.get_by_label("Đọc và ghi").check()
    page.get_by_role("button", name="Tạo mã truy cập").click()
    secret = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"ocop_[A-Za-z0-9_-]{40,}", secret)
    page.screenshot(path=str(tmp_path / "tokens.png"), full_page=True)
    row = page.locator("tbody tr", has_text="Điện thoại xưởng đóng gói")
    assert "Đọc và ghi" in row.inner_text() and "Chưa dùng" in row.inner_text()
    request = urllib.request.Request(f"{live_server}/api/v1/products", headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    page.goto(f"{live_server}/account/tokens")
    assert page.locator("#new-token").count() == 0 and secret not in page.content()
    assert "Chưa dùng" not in page.locator("tbody tr", has_text="Điện thoại xưởng đóng gói").inner_text()
