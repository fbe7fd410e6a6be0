"""A live server and a headless Chromium page for browser tests (Debian's chromium, never a download)."""
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# A cheap phone, as the pages must fit it: 360 px wide, a touch screen, twice as many pixels as CSS pixels.
PHONE_VIEW = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture
def live_server(app, db):
    """The test app served on a free loopback port, in a thread."""
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path, request):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1000, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
    context.close()


def sign_in_page(page, base: str, login: str, password: str, home: str = "/coop/") -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email hoặc số điện thoại").fill(login)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}{home}")
