"""After printing: a cooperative's statistics of one product's and one run's stamps, made from real scans of the
scan page (phones told apart by their address and browser, as tests/test_scan_page.py does)."""
import os
import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.i18n import local_today
from app.models import Stamp, StampRangeEvent
from app.services import batches, minting, codes, stamp_ranges
from app.scan.scan_log import ScanLog
from tests.browser import browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, post_form
from tests.factories import minted_run, on_sale_stamps, product_with_batch
from tests.scan_setups import earlier_scans

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN,vi;q=0.9"}


def scan(app, code: str, phone: int = 1):
    """One look at a stamp's page from phone number `phone` (its own network and browser), signed in as nobody."""
    headers = {**PHONE, "User-Agent": f"{PHONE['User-Agent']} phone-{phone}"}
    answer = app.test_client().get(f"/Q/{code}", headers=headers, environ_base={"REMOTE_ADDR": f"10.{phone}.0.1"})
    assert answer.status_code == 200
    return answer


def run_codes(run) -> list[str]:
    key = minting.stamp_key()
    return [codes.derive_code(key, run.id, serial) for serial in range(1, run.count + 1)]


def day_counts(page: str, section: str) -> dict[date, int]:
    """The bars of a section's chart: each bar's title is "dd/mm/yyyy: N"."""
    block = re.search(rf'id="{section}".*?</figure>', page, re.S).group(0)
    return {datetime.strptime(day, "%d/%m/%Y").date(): int(n) for day, n in re.findall(r"<title>(\d\d/\d\d/\d{4}): (\d+)</title>", block)}


def totals(page: str) -> dict[str, str]:
    return dict(re.findall(r'<dd data-total="(\w+)">([^<]*)</dd>', page))


def place_rows(page: str) -> dict[str, tuple[str, int, int]]:
    """The places table: data-place → (first cell's text, first scans, scans)."""
    rows = {}
    for key, cell, first, scans in re.findall(
            r'<tr data-place="([^"]+)">\s*<td>(.*?)</td>\s*<td data-count="first">([\d.]+)</td><td data-count="scans">([\d.]+)</td>', page, re.S):
        rows[key] = (" ".join(re.sub(r"<[^>]+>", "", cell).split()), int(first.replace(".", "")), int(scans.replace(".", "")))
    return rows


def test_product_page_counts_the_scans_and_first_scans_per_day_and_batch(app, member_client, db, coop_a):
    stamp_codes, run, batch = on_sale_stamps(db, coop_a, 4)
    other = batches.create_batch(coop_a.id, batch.product_id, {"lot_code": "VT-2026-06-B", "harvest_date": date(2026, 6, 12),
                                                                "packing_date": date(2026, 6, 13)}, None)
    other_run = minted_run(coop_a, batch.product, other, count=3, token="other-batch")
    other_codes = run_codes(other_run)
    # Lot A: stamp 1 by two phones (twice by the first), stamp 2 once; lot B: stamp 1 once. Stamps 3 and 4 unseen.
    for code, phone in [(stamp_codes[0], 1), (stamp_codes[0], 1), (stamp_codes[0], 2), (stamp_codes[1], 3), (other_codes[0], 4)]:
        scan(app, code, phone)
    page = member_client.get(f"/coop/products/{batch.product_id}/scans")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    today = local_today()
    scans, firsts = day_counts(text, "scans-per-day"), day_counts(text, "first-scans")
    assert len(scans) == 30 and max(scans) == today and scans[today] == 5 and sum(scans.values()) == 5
    assert firsts[today] == 3 and sum(firsts.values()) == 3
    rows = place_rows(text)
    assert rows[str(batch.id)] == ("VT-2026-06-A", 2, 4) and rows[str(other.id)] == ("VT-2026-06-B", 1, 1)
    assert totals(text) | {"share": ""} == {"printed": "7", "activated": "7", "voided": "0", "scanned": "3", "copied": "0", "share": ""}
    assert totals(text)["share"] == "42,9\u00a0%"  # 3 of 7 activated stamps
    assert "Hệ thống không ghi vị trí người quét" in text


def scan_logged(db, stamp_id: int, utc: datetime, phone: bytes) -> None:
    """A scan written as scans.look records it: the UTC moment and the day it was in Vietnam (UTC+7)."""
    vietnam_day = (utc + timedelta(hours=7)).date()
    db.session.commit()  # the log writes on its own connection: the test's transaction would hold SQLite's lock
    ScanLog(db.engine, delay=0).record({"stamp_id": stamp_id, "scanned_at": utc, "day": vietnam_day, "device_class": "android",
                                        "device_hash": os.urandom(16), "phone_hash": phone})


def stamp_ids(db, run) -> list[int]:
    return list(db.session.scalars(select(Stamp.id).where(Stamp.run_id == run.id).order_by(Stamp.serial)))


def test_days_are_vietnams_scans_and_voids_after_17_utc_fall_on_the_next_day(member_client, db, coop_a):
    _codes, run, batch = on_sale_stamps(db, coop_a, 3)
    first, second, third = stamp_ids(db, run)
    # 16:59 UTC on 1 June is 23:59 that day in Vietnam; 17:00 UTC is 00:00 on 2 June.
    scan_logged(db, first, datetime(2026, 6, 1, 16, 59), b"phone-a".ljust(16, b"\0"))
    scan_logged(db, second, datetime(2026, 6, 1, 17, 0), b"phone-b".ljust(16, b"\0"))
    scan_logged(db, first, datetime(2026, 6, 2, 2, 0), b"phone-a".ljust(16, b"\0"))  # its second scan: not a first
    stamp_ranges.void_range(coop_a.id, run.id, 3, 3, None, reason="Rách khi dán")
    db.session.execute(update(StampRangeEvent).where(StampRangeEvent.run_id == run.id).values(at=datetime(2026, 6, 1, 17, 30)))
    db.session.commit()
    text = member_client.get(f"/coop/runs/{run.id}/scans?from=2026-05-31&to=2026-06-03").get_data(as_text=True)
    june = {day: date(2026, 6, day) for day in (1, 2, 3)}
    assert day_counts(text, "scans-per-day") == {date(2026, 5, 31): 0, june[1]: 1, june[2]: 2, june[3]: 0}
    assert day_counts(text, "first-scans") == {date(2026, 5, 31): 0, june[1]: 1, june[2]: 1, june[3]: 0}
    assert day_counts(text, "voided-chart") == {date(2026, 5, 31): 0, june[1]: 0, june[2]: 1, june[3]: 0}
    assert "Đang xem từ ngày 31/05/2026 đến ngày 03/06/2026" in text
    assert totals(text)["voided"] == "1" and totals(text)["scanned"] == "2"


def test_a_copied_stamp_is_listed_with_its_evidence_and_can_be_voided_from_the_page(app, member_client, db, coop_a):
    stamp_codes, run, _batch = on_sale_stamps(db, coop_a, 3)
    today = local_today()
    earlier_scans(db, stamp_codes[1], phones=11, days=3, today=today)
    assert "có thể đã bị sao chép" in scan(app, stamp_codes[1], phone=40).get_data(as_text=True)
    scan(app, stamp_codes[0], phone=41)
    path = f"/coop/products/{run.product_id}/scans"
    text = member_client.get(path).get_data(as_text=True)
    row = re.search(rf'<li class="card copy" data-stamp="{run.id}-2">(.*?)</li>', text, re.S).group(1)
    assert re.search(r'data-count="phones">12<', row) and re.search(r'data-count="scans">12<', row)
    assert f"{today:%d/%m/%Y}" in row and f"quét lần đầu {today - timedelta(days=3):%d/%m/%Y}" in row
    assert f'data-stamp="{run.id}-1"' not in text and totals(text)["copied"] == "1"
    # The row's form voids the stamp through the run's range action, and the page then says so.
    answer = post_form(member_client, f"/coop/runs/{run.id}/range", {"first": "2", "last": "2", "action": "void",
                                                                       "reason": "Nghi bị sao chép: nhiều điện thoại quét"})
    assert answer.status_code == 302
    text = member_client.get(path).get_data(as_text=True)
    row = re.search(rf'<li class="card copy" data-stamp="{run.id}-2">(.*?)</li>', text, re.S).group(1)
    assert "Đã hủy" in row and "<form" not in row
    assert totals(text)["voided"] == "1" and day_counts(text, "voided-chart")[today] == 1


def test_run_page_counts_first_scans_per_activated_range(app, member_client, db, coop_a):
    product, lot_a = product_with_batch(coop_a)
    lot_b = batches.create_batch(coop_a.id, product.id, {"lot_code": "VT-2026-06-B", "harvest_date": date(2026, 6, 12),
                                                         "packing_date": date(2026, 6, 13)}, None)
    run = minted_run(coop_a, product, None, count=10, token="blank")
    stamp_ranges.activate_range(coop_a.id, run.id, 1, 4, lot_a.id, None)
    stamp_ranges.activate_range(coop_a.id, run.id, 5, 8, lot_b.id, None)
    blank = run_codes(run)
    for serial, phone in [(2, 1), (2, 2), (6, 3), (9, 4)]:  # serial 9 is still blank: scanned all the same
        scan(app, blank[serial - 1], phone)
    text = member_client.get(f"/coop/runs/{run.id}/scans").get_data(as_text=True)
    assert place_rows(text) == {"0": ("1–4 · VT-2026-06-A", 1, 2), "1": ("5–8 · VT-2026-06-B", 1, 1),
                                "none": ("Các số sê-ri khác", 1, 1)}
    assert {k: v for k, v in totals(text).items() if k != "share"} == {"printed": "10", "activated": "8", "voided": "0",
                                                                     "scanned": "3", "copied": "0"}
    assert totals(text)["share"] == "37,5\u00a0%"  # 3 stamps of the 8 put on a batch
    assert day_counts(text, "activated-chart")[local_today()] == 8


def test_a_run_printed_for_a_batch_is_cut_in_blocks_of_serials(app, member_client, db, coop_a):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=45, token="blocks")
    stamp_codes = run_codes(run)
    for serial in (1, 12, 45, 45):
        scan(app, stamp_codes[serial - 1], phone=serial)
    text = member_client.get(f"/coop/runs/{run.id}/scans").get_data(as_text=True)
    assert place_rows(text) == {"0": ("1–10", 1, 1), "1": ("11–20", 1, 1), "2": ("21–30", 0, 0), "3": ("31–40", 0, 0),
                                "4": ("41–45", 1, 2)}
    assert day_counts(text, "activated-chart")[local_today()] == 45  # printed for the batch: active at once


def test_another_cooperatives_product_and_run_are_404(member_client, db, coop_a, coop_b):
    product_b, batch_b = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")
    run_b = minted_run(coop_b, product_b, batch_b, count=2, token="b-run")
    assert member_client.get(f"/coop/products/{product_b.id}/scans").status_code == 404
    assert member_client.get(f"/coop/runs/{run_b.id}/scans").status_code == 404
    assert member_client.get("/coop/runs/999999/scans").status_code == 404


@pytest.mark.parametrize("query, field, message", [
    ("from=2026-06-02&to=2026-06-01", "from", "Ngày bắt đầu không được sau ngày kết thúc."),
    ("from=2025-01-01&to=2026-01-02", "to", "Mỗi lần chỉ xem được tối đa 366 ngày."),
    ("from=2026-13-01&to=2026-06-01", "from", "Nhập ngày, ví dụ 25/06/2026."),
])
def test_a_bad_range_is_refused_next_to_its_field_with_what_was_typed(member_client, db, coop_a, query, field, message):
    _codes, run, _batch = on_sale_stamps(db, coop_a, 1)
    answer = member_client.get(f"/coop/products/{run.product_id}/scans?{query}")
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    box = re.search(rf'<div class="field has-error">\s*<label for="{field}">.*?</div>', text, re.S).group(0)
    assert message in box
    for name, typed in re.findall(r"(from|to)=([^&]+)", query):
        assert f'name="{name}" type="date" value="{typed}"' in text
    last = local_today()
    assert f"Đang xem từ ngày {last - timedelta(days=29):%d/%m/%Y} đến ngày {last:%d/%m/%Y}" in text  # the default days instead


@needs_chromium
@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(360, 740), (1280, 800)])
def test_the_pages_fit_a_phone_and_a_desktop(app, live_server, browser, db, coop_a, width, height, tmp_path):
    stamp_codes, run, _batch = on_sale_stamps(db, coop_a, 3)
    earlier_scans(db, stamp_codes[1], phones=11, days=3, today=local_today())
    scan(app, stamp_codes[1], phone=40)
    scan(app, stamp_codes[0], phone=41)
    paths = ((f"/coop/products/{run.product_id}/scans", "product"), (f"/coop/runs/{run.id}/scans", "run"))
    db.session.commit()  # the test's own transaction would hold SQLite's write lock against the served pages
    context = browser.new_context(locale="vi-VN", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    for path, name in paths:
        page.goto(live_server + path)
        page.locator("details.void-copy summary").first.click()
        shot = os.environ.get("SCREENSHOT_DIR", str(tmp_path))
        page.screenshot(path=f"{shot}/scan-stats-{name}-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        chart = page.locator("#scans-per-day svg").bounding_box()
        assert chart["width"] <= width - 16  # the chart scales to the screen
        for tap in ("details.void-copy summary", "#copies button.danger", ".stats-range button"):
            assert page.locator(tap).first.bounding_box()["height"] >= 44, tap
    context.close()


def test_the_communes_officer_reads_the_same_numbers_without_the_void_forms(app, client, db, coop_a, coop_b):
    from app.models import Role
    from app.services import accounts
    from tests.conftest import LUC_NGAN, PHUC_HOA, sign_in

    stamp_codes, run, batch = on_sale_stamps(db, coop_a, 3)  # coop A is in Xã Lục Ngạn
    earlier_scans(db, stamp_codes[1], phones=11, days=3, today=local_today())
    scan(app, stamp_codes[1], phone=40)
    for login, commune in (("canbo@lucngan.vn", LUC_NGAN), ("canbo@phuchoa.vn", PHUC_HOA)):
        accounts.create_user(name="Cán bộ xã", login=login, password=PASSWORD, role=Role.OFFICER, commune_codes=[commune])
    product_path, run_path = f"/commune/products/{batch.product_id}/scans", f"/commune/runs/{run.id}/scans"
    sign_in(client, "canbo@lucngan.vn")
    text = client.get(product_path).get_data(as_text=True)
    assert totals(text)["copied"] == "1" and totals(text)["scanned"] == "1" and sum(day_counts(text, "scans-per-day").values()) == 12
    assert f'data-stamp="{run.id}-2"' in text and "void-copy" not in text and "/coop/" not in re.sub(r"<nav.*?</nav>|<header.*?</header>", "", text, flags=re.S)
    assert client.get(run_path).status_code == 200
    assert client.get(f"/commune/listings/{batch.id}").get_data(as_text=True).count(product_path) == 1  # linked from the listing
    product_b, _batch_b = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")  # coop B: Xã Phúc Hòa
    assert client.get(f"/commune/products/{product_b.id}/scans").status_code == 404
    other = app.test_client()
    sign_in(other, "canbo@phuchoa.vn")  # Xã Phúc Hòa's officer: coop A is not theirs
    assert other.get(product_path).status_code == 404 and other.get(run_path).status_code == 404
    assert other.get(f"/commune/products/{product_b.id}/scans").status_code == 200
