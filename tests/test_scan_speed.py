"""The scan page on a cheap phone: small, no overflow at 360 px, painted within 2.5 s on Slow 3G."""
import gzip

import pytest

from tests.browser import browser, live_server, needs_chromium  # noqa: F401 (fixtures)
from tests.factories import on_sale_stamps
from tests.scan_setups import full_listing

# Chrome DevTools' "Slow 3G" preset: 400 kbit/s each way (× 0.8) and 400 ms round trips (× 5).
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}


@pytest.fixture(params=["plain", "every_field"])
def stamp_code(request, db, coop_a):
    """A stamp of a bare listing, and of one with every field the page shows (phone, address, description,
    OCOP certificate, eight diary entries with photos and intervals)."""
    make = on_sale_stamps if request.param == "plain" else full_listing
    (code,), _run, _batch = make(db, coop_a, 1)
    return code


def test_the_page_is_small(client, stamp_code):
    response = client.get(f"/Q/{stamp_code}", headers={"User-Agent": "Android"})
    size = len(gzip.compress(response.data))
    print(f"scan page: {len(response.data)} bytes, {size} gzipped")
    assert size <= 14 * 1024
    assert b"<script" not in response.data and b"<link" not in response.data  # nothing else to fetch first
    assert all('loading="lazy"' in tag for tag in response.get_data(as_text=True).split("<img")[1:])  # photos after the first paint


@needs_chromium
@pytest.mark.browser
def test_origin_is_painted_within_2_5_s_on_slow_3g_at_360_px(live_server, browser, stamp_code):
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, locale="vi-VN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    page.goto(f"{live_server}/Q/{stamp_code}", wait_until="domcontentloaded")
    painted = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    if painted is None:
        page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0")
        painted = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    print(f"first contentful paint on Slow 3G: {painted:.0f} ms")
    assert painted <= 2500, f"first paint after {painted:.0f} ms"
    assert page.get_by_text("Xã Lục Ngạn").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size >= 16
    context.close()
