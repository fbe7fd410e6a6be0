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
from app.services.scan_log import ScanLog
from tests.conftest import post_form
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
    assert "42,9 %" in totals(text)["share"]  # 3 of 7 activated stamps
    assert "Hệ thống không ghi vị trí người quét" in text
