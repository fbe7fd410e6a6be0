"""The public scan page: origin details and whether the stamp looks genuine."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from app import create_app
from app.i18n import local_today
from app.models import Batch, Role, Scan
from app.services import accounts, batches, codes, commune_watch, label_runs, products, run_processing, run_rendering, stamp_ranges
from tests.factories import on_sale_stamps, product_with_batch
from tests.scan_setups import earlier_scans, full_listing

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN,vi;q=0.9"}


@pytest.fixture
def stamp_codes(db, coop_a):
    return on_sale_stamps(db, coop_a, 5)


def scan(client, code, address="10.0.0.1", **headers):
    return client.get(f"/Q/{code}", headers={**PHONE, **headers}, environ_base={"REMOTE_ADDR": address})


def test_a_genuine_stamp_shows_origin_and_first_check(client, db, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    page = scan(client, code).get_data(as_text=True)
    assert "Tem chính hãng" in page and "Vải thiều Lục Ngạn" in page and "Xã Lục Ngạn" in page
    assert "Abamectin 3.6EC" in page and "VT-2026-06-A" in page
    assert "Đây là lần kiểm tra đầu tiên của tem này." in page
    again = scan(client, code.lower()).get_data(as_text=True)
    assert f"Tem này đã được quét 2 lần (kể cả lần này) trên 1 điện thoại kể từ ngày {local_today():%d/%m/%Y}." in again
    other_phone = scan(client, code, "10.0.7.9", **{"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"}).get_data(as_text=True)
    assert "đã được quét 3 lần (kể cả lần này) trên 2 điện thoại" in other_phone


def test_printed_grouping_and_misreads_find_the_stamp(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    response = client.get("/check", query_string={"code": codes.group(code).replace("0", "O").lower()}, headers=PHONE)
    assert response.status_code == 200


def well_formed(n: int) -> str:
    """A code of the right length, alphabet and check character that no stamp has."""
    body = codes._base32(n.to_bytes(10, "big"))
    return body + luhn.calc_check_digit(body, alphabet=codes.ALPHABET)


def with_wrong_check(code: str) -> str:
    return code[:-1] + next(c for c in codes.ALPHABET if c != code[-1])


def test_a_well_formed_code_of_no_stamp_is_not_genuine_with_404(client, stamp_codes):
    response = scan(client, well_formed(7))
    assert response.status_code == 404 and "Không phải tem chính hãng" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/Q/{typed}", "/check?code={typed}"])
def test_a_code_with_a_wrong_check_character_is_a_typo_not_a_fake(client, stamp_codes, path):
    (code, *_), _run, _batch = stamp_codes
    typed = codes.group(with_wrong_check(code))
    response = client.get(path.format(typed=typed), headers=PHONE)
    page = response.get_data(as_text=True)
    assert response.status_code == (422 if "check" in path else 404)
    assert "Mã có vẻ bị gõ sai — kiểm tra lại từng ký tự." in page and "Không phải tem chính hãng" not in page
    assert f'name="code" value="{typed}"' in page  # the box again, with what was typed
    assert "Báo cáo nghi ngờ hàng giả" not in page


@pytest.mark.parametrize("typed, hint", [("7KQ4 M2XD 9PTA 3HV", "Mã tem có 17 ký tự; mã bạn nhập có 15 ký tự."),
                                         ("7KQ4 M2XD 9PTA 3HU#F", "chỉ gồm các chữ số 0–9 và chữ cái A–Z")])
def test_a_code_of_the_wrong_length_or_characters_is_a_typo_too(client, typed, hint):
    response = client.get("/check", query_string={"code": typed}, headers=PHONE)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Mã có vẻ bị gõ sai" in page and hint in page


def test_a_family_and_its_shop_never_look_like_a_copy(client, db, stamp_codes):
    """The seller and the buyer, then the spouse and two children, then three guests, each guest twice:
    eight phones over three days (the old rule called the third phone of a day a copy)."""
    (code, *_), _run, _batch = stamp_codes
    earlier_scans(db, code, phones=5, days=2, today=local_today())
    for address in ["10.0.1.1", "10.0.2.1", "10.0.3.1"] * 2:
        page = scan(client, code, address).get_data(as_text=True)
    assert "có thể đã bị sao chép" not in page and 'class="v neutral" id="verdict"' in page
    assert "đã được quét 11 lần (kể cả lần này) trên 8 điện thoại" in page


def test_a_copy_is_many_phones_over_several_days_with_the_evidence_in_words(client, db, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    earlier_scans(db, code, phones=11, days=3, today=local_today())
    page = scan(client, code).get_data(as_text=True)
    since = (local_today() - timedelta(days=3)).strftime("%d/%m/%Y")
    assert "có thể đã bị sao chép" in page and 'class="v bad" id="verdict"' in page
    assert f"Tem này đã được quét 12 lần (kể cả lần này) trên 12 điện thoại kể từ ngày {since}." in page
    assert "có thể đã bị sao chép" in scan(client, code).get_data(as_text=True)  # and stays so


def test_many_phones_on_one_day_are_not_a_copy(client, db, stamp_codes):
    """A fair or a shop's display box: many phones, but all on a day or two."""
    (code, *_), _run, _batch = stamp_codes
    for n in range(15):
        page = scan(client, code, f"10.{n}.0.1").get_data(as_text=True)
    assert "có thể đã bị sao chép" not in page and "trên 15 điện thoại" in page


def test_one_phone_on_another_address_of_its_network_counts_once(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    for address in ("10.1.2.3", "10.1.2.200", "2001:db8:1:2::1", "2001:db8:1:2:aaaa::9"):
        page = scan(client, code, address).get_data(as_text=True)
    assert "đã được quét 4 lần (kể cả lần này) trên 2 điện thoại" in page


def test_void_and_recalled(client, db, coop_a, stamp_codes):
    (_first, second, third, *_), run, batch = stamp_codes
    stamp_ranges.void_range(coop_a.id, run.id, 2, 2, None, reason="Mất cuộn tem")
    assert "đã bị hợp tác xã hủy" in scan(client, second).get_data(as_text=True)
    officer = accounts.create_user(name="Cán bộ", login="cb@xa.vn", password="mat-khau-dai-du", role=Role.OFFICER, commune_codes=[coop_a.commune_code])
    commune_watch.recall(officer.id, batch.id, "Dư lượng thuốc vượt ngưỡng. Không sử dụng.", local_today())
    page = scan(client, third).get_data(as_text=True)
    assert page.count("Dư lượng thuốc vượt ngưỡng. Không sử dụng.") == 1  # quoted as written, once
    assert "<q>Dư lượng thuốc vượt ngưỡng. Không sử dụng.</q>" in page and "Không sử dụng.." not in page
    assert f"Lô hàng này đã bị thu hồi ngày {local_today():%d/%m/%Y}." in page
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 2


def test_no_ip_address_is_stored(client, db, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    scan(client, code, "203.0.113.77")
    row = db.session.scalar(select(Scan))
    assert row.device_class == "android" and len(row.device_hash) == 16
    assert b"203.0.113.77" not in row.device_hash


def test_english_from_the_phone_language(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    page = scan(client, code, **{"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    assert "Genuine stamp" in page and 'lang="en"' in page


def test_past_best_before_is_a_notice(client, db, stamp_codes):
    (code, *_), _run, batch = stamp_codes
    stored = db.session.get(Batch, batch.id)
    stored.best_before = date(2026, 6, 25)
    db.session.commit()
    page = scan(client, code).get_data(as_text=True)
    assert "Tem chính hãng. Sản phẩm đã quá hạn sử dụng (25/06/2026)." in page and 'class="v warn" id="verdict"' in page


def test_guessing_unknown_codes_is_throttled_but_genuine_scans_are_not(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    statuses = [scan(client, well_formed(i)).status_code for i in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    assert scan(client, code).status_code == 200  # a real stamp still opens
    typo = scan(client, with_wrong_check(code))
    assert typo.status_code == 404 and "Mã có vẻ bị gõ sai" in typo.get_data(as_text=True)  # a typo is not refused
    other = scan(client, well_formed(99), address="10.9.9.9")
    assert other.status_code == 404  # another client is not affected


def test_typos_are_not_counted_against_the_unknown_code_limit(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    assert {scan(client, with_wrong_check(well_formed(i))).status_code for i in range(25)} == {404}
    assert scan(client, well_formed(1)).status_code == 404


def test_security_headers(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    response = scan(client, code)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "<script" not in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_chinese_from_the_phone_language_and_a_visible_switch(client, stamp_codes):
    (code, *_), _run, _batch = stamp_codes
    page = scan(client, code, **{"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "正品标签" in page and "产地" in page and 'lang="zh"' in page
    assert 'hreflang="vi"' in page and 'hreflang="en"' in page
    english = client.get(f"/Q/{code}?lang=en", headers=PHONE).get_data(as_text=True)
    assert "Genuine stamp" in english


def test_a_suspected_fake_is_reported_for_the_cooperative(client, db, coop_a, stamp_codes):
    from app.models import FakeReport
    (code, *_), _run, _batch = stamp_codes
    page = scan(client, code).get_data(as_text=True)
    assert "Báo cáo nghi ngờ hàng giả" in page
    response = client.post("/report", data={"code": codes.group(code), "message": "Hộp vải bị bóc tem, dán lại", "place": "Chợ Đồng Xuân"}, headers=PHONE)
    assert response.status_code == 200 and "Cảm ơn" in response.get_data(as_text=True)
    report = db.session.scalar(select(FakeReport))
    assert report.cooperative_id == coop_a.id and report.commune_code == coop_a.commune_code and report.place == "Chợ Đồng Xuân"


def test_reports_need_a_message_and_are_rate_limited(client, db, stamp_codes):
    from app.models import FakeReport
    empty = client.post("/report", data={"code": "X", "message": " "}, headers=PHONE, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert empty.status_code == 422 and "Vui lòng cho biết điều gì bất thường." in empty.get_data(as_text=True)
    statuses = [client.post("/report", data={"code": "", "message": f"Tem lạ {i}"}, headers=PHONE).status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]
    assert db.session.scalar(select(func.count()).select_from(FakeReport)) == 5


def test_gs1_digital_link_stamps_scan_and_resolve(client, db, coop_a):

    import pypdfium2
    import zxingcpp

    from app.services import products
    product, batch = product_with_batch(coop_a)
    products.update_product(coop_a.id, product.id, {"gtin": "08938501234568"}, None)
    batch.best_before = date.today().replace(year=date.today().year + 1)
    db.session.commit()
    run, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=3, template="a4-14",
                                   options={"gs1_link": True}, request_token="gs1", actor_id=None)
    run_processing.process(run.id)
    image = pypdfium2.PdfDocument(run_rendering.pdf_bytes(run.id))[0].render(scale=300 / 72).to_pil()
    urls = sorted(r.text for r in zxingcpp.read_barcodes(image))
    assert len(urls) == 3 and all("/01/08938501234568/10/VT-2026-06-A/21/" in url for url in urls)
    path = urls[0].split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path, headers=PHONE)
    assert page.status_code == 200 and "Tem chính hãng" in page.get_data(as_text=True)
    wrong_lot = client.get("/" + path.replace("VT-2026-06-A", "OTHER"), headers=PHONE)
    assert wrong_lot.status_code == 404
    product_link = client.get("/01/8938501234568", headers=PHONE)
    assert product_link.status_code == 307  # to the product's page, its default link
    assert "Vải thiều Lục Ngạn" in client.get(product_link.headers["Location"], headers=PHONE).get_data(as_text=True)
    linkset = client.get("/01/08938501234568", headers={"Accept": "application/linkset+json"})
    assert linkset.mimetype == "application/linkset+json"
    links = linkset.get_json()["linkset"][0]
    assert links["anchor"].endswith("/01/08938501234568")
    assert {"https://gs1.org/voc/pip", "https://gs1.org/voc/defaultLink"} <= set(links)
    assert client.get("/01/12345678", headers=PHONE).status_code == 400  # wrong check digit: not a Digital Link


def test_an_edit_shows_on_the_next_scan(client, db, coop_a, stamp_codes):
    """The origin part is cached per listing revision: diary entries, certificates and batch dates all move it."""
    (code, *_), run, batch = stamp_codes
    assert "Ủ hoa" not in scan(client, code).get_data(as_text=True)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 6, 1), "kind": "other", "input_used": "Ủ hoa"}, None)
    assert "Ủ hoa" in scan(client, code).get_data(as_text=True)
    products.add_certification(coop_a.id, run.product_id, {"scheme": "HACCP", "number": "HC-77", "issuer": "Cục"}, None)
    assert "HC-77" in scan(client, code).get_data(as_text=True)
    batches.update_batch(coop_a.id, batch.id, {"lot_code": batch.lot_code, "harvest_date": date(2026, 6, 9), "packing_date": batch.packing_date, "best_before": batch.best_before}, None)
    assert "09/06/2026" in scan(client, code).get_data(as_text=True)
    event = batch.events[-1]
    batches.delete_event(coop_a.id, batch.id, event.id)
    assert "Ủ hoa" not in scan(client, code).get_data(as_text=True)


def test_unknown_code_limits_are_shared_by_all_workers(database_url, tmp_path, db, stamp_codes):
    """Two app instances (as two gunicorn workers) on one database count against the same limit."""
    from tests.conftest import RequestClient, _config

    workers = []
    for n in range(2):
        worker = create_app(_config(database_url, tmp_path / f"worker{n}"))
        worker.test_client_class = RequestClient
        workers.append(worker.test_client())
    statuses = [scan(workers[i % 2], well_formed(i)).status_code for i in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    assert scan(workers[1], stamp_codes[0][0]).status_code == 200


def test_the_page_shows_the_cooperatives_phone_and_address_the_ocop_certificate_diary_photos_and_intervals(client, db, coop_a):
    (code,), _run, _batch = full_listing(db, coop_a)
    page = scan(client, code).get_data(as_text=True)
    assert '<a href="tel:02043882123">0204 3882 123</a>' in page
    assert "Thôn Hồng Xuân, Xã Lục Ngạn, Bắc Ninh" in page
    assert "Quả tròn, vỏ đỏ tươi, cùi dày" in page
    assert "4 sao · giấy chứng nhận số OCOP-1 · hiệu lực đến 15/08/2027" in page
    assert "thời gian cách ly: 7 ngày" in page and "thời gian cách ly: 10 ngày" in page
    thumbnails = re.findall(r'<img src="/media/[0-9a-f]+\.jpg\?size=thumb" alt="[^"]+" width="160" loading="lazy">', page)
    assert len(thumbnails) == 8


def test_an_expired_ocop_certificate_says_so_and_loses_its_stars(client, db, coop_a, stamp_codes):
    (code, *_), run, _batch = stamp_codes
    products.update_product(coop_a.id, run.product_id, {"ocop_issued_on": date(2022, 1, 1), "ocop_expires_on": date(2025, 1, 1)}, None)
    page = scan(client, code).get_data(as_text=True)
    assert "giấy chứng nhận số OCOP-1 · đã hết hạn ngày 01/01/2025" in page and "★" not in page


def test_a_path_that_is_not_a_gtin_is_not_found(client, db, coop_a, stamp_codes):
    """A product without a GTIN must not answer /01/<anything that is not a GTIN> (None compared with None):
    such a path is not a Digital Link (400), and no product's page or link is given for it."""
    (code, *_), _run, _batch = stamp_codes
    for gtin in ("12345678", "8938501234567", "abc"):
        response = client.get(f"/01/{gtin}", headers=PHONE)
        assert response.status_code == 400 and "Vải thiều Lục Ngạn" not in response.get_data(as_text=True), gtin
        assert "Location" not in response.headers
    stamp_link = client.get(f"/01/12345678/10/VT-2026-06-A/21/{code}", headers=PHONE)
    assert stamp_link.status_code == 400 and "Vải thiều Lục Ngạn" not in stamp_link.get_data(as_text=True)
