"""Commune officers verify listings in their own communes; a later change to a verified fact sends the
listing back to the queue and takes the badge off the scan page."""
from datetime import date, timedelta

import pytest

from app.i18n import local_today
from app.models import User
from app.scan import scans
from app.services import batches, compliance, listings, products
from app.services.listings import ListingStatus
from tests.conftest import post_form, sign_in
from tests.factories import on_sale_stamps, product_with_batch
from tests.scan_setups import earlier_scans

BADGE = "Đã xác minh bởi UBND xã Lục Ngạn"
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN"}


def _officer_id(db) -> int:
    return db.session.query(User).filter_by(login="canbo@xa.vn").one().id


def _scan(client, code):
    """A consumer's phone, not the officer's browser."""
    return client.application.test_client().get(f"/Q/{code}", headers=PHONE).get_data(as_text=True)


def _batch_values(batch, **changes):
    values = {"lot_code": batch.lot_code, "harvest_date": batch.harvest_date, "packing_date": batch.packing_date,
              "best_before": batch.best_before, "notes": batch.notes}
    return {**values, **changes}


@pytest.fixture
def other_commune_batch(db, coop_b):
    _product, batch = product_with_batch(coop_b, "Mật ong Phồn Nhi", "MO-2026-03")
    return batch


@pytest.mark.parametrize("method, path", [
    ("get", "/commune/listings/{id}"),
    ("post", "/commune/listings/{id}/verify"),
    ("post", "/commune/listings/{id}/reject"),
    ("post", "/commune/listings/{id}/override"),
    ("post", "/commune/listings/{id}/recall"),
])
def test_an_officer_gets_404_for_another_communes_listing(officer_client, other_commune_batch, db, method, path):
    url = path.format(id=other_commune_batch.id)
    if method == "get":
        response = officer_client.get(url)
    else:
        response = post_form(officer_client, url, {"reason": "Sai", "valid_until": ""})
    assert response.status_code == 404
    assert listings.decisions(other_commune_batch.id) == [] and compliance.override(other_commune_batch) is None
    db.session.refresh(other_commune_batch)
    assert other_commune_batch.status.value == "active"
    assert "Mật ong Phồn Nhi" not in officer_client.get("/commune/").get_data(as_text=True)
    assert "Mật ong Phồn Nhi" not in officer_client.get("/commune/listings").get_data(as_text=True)


def test_verify_then_a_changed_fact_takes_the_badge_off(officer_client, db, coop_a):
    (code, *_), run, batch = on_sale_stamps(db, coop_a, 2)
    assert "VT-2026-06-A" in officer_client.get("/commune/").get_data(as_text=True)  # in the queue
    assert BADGE not in _scan(officer_client, code)

    response = post_form(officer_client, f"/commune/listings/{batch.id}/verify", {"valid_until": ""})
    assert response.status_code == 302
    assert BADGE in _scan(officer_client, code)
    decision = listings.decisions(batch.id)[0]
    assert decision.valid_until == local_today().replace(year=local_today().year + 1)
    assert decision.facts["batch"]["harvest_date"] == "2026-06-10"

    batches.update_batch(coop_a.id, batch.id, _batch_values(batch, notes="Ghi chú mới"), None)
    assert listings.listing(batch, local_today()).status is ListingStatus.VERIFIED  # not a verified fact
    assert BADGE in _scan(officer_client, code)

    batches.update_batch(coop_a.id, batch.id, _batch_values(batch, harvest_date=date(2026, 6, 9)), None)
    assert listings.listing(batch, local_today()).status is ListingStatus.CHANGED
    assert BADGE not in _scan(officer_client, code)
    assert "VT-2026-06-A" in officer_client.get("/commune/").get_data(as_text=True)  # back in the queue

    post_form(officer_client, f"/commune/listings/{batch.id}/verify", {"valid_until": ""})
    assert BADGE in _scan(officer_client, code)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 6, 2), "kind": "fertilising", "input_used": "NPK"}, None)
    assert BADGE not in _scan(officer_client, code)
    post_form(officer_client, f"/commune/listings/{batch.id}/verify", {"valid_until": ""})
    products.add_certification(coop_a.id, run.product_id, {"scheme": "HACCP", "number": "H-1", "issuer": "Cục"}, None)
    assert BADGE not in _scan(officer_client, code)


def test_the_validity_window(db, coop_a, officer_client):
    _product, batch = product_with_batch(coop_a)
    today = date(2026, 11, 22)
    listings.verify(_officer_id(db), batch.id, today + timedelta(days=1), today)
    assert listings.listing(batch, today + timedelta(days=1)).status is ListingStatus.VERIFIED  # the last valid day
    assert listings.listing(batch, today + timedelta(days=2)).status is ListingStatus.EXPIRED
    assert listings.current_verification(batch, today + timedelta(days=2)) is None


def test_a_rejection_needs_a_reason_and_the_cooperative_sees_it(officer_client, db, coop_a):
    _product, batch = product_with_batch(coop_a)
    empty = post_form(officer_client, f"/commune/listings/{batch.id}/reject", {"reason": "  "})
    assert empty.status_code == 422 and listings.decisions(batch.id) == []
    post_form(officer_client, f"/commune/listings/{batch.id}/reject", {"reason": "Thiếu ngày phun thuốc"})
    assert listings.listing(batch, local_today()).status is ListingStatus.REJECTED
    member = officer_client.application.test_client()
    sign_in(member, "a@htx.vn")
    page = member.get(f"/coop/batches/{batch.id}").get_data(as_text=True)
    assert "Thiếu ngày phun thuốc" in page


def test_the_officer_recalls_a_batch_and_sees_reports_and_copy_warnings_of_their_communes(officer_client, db, coop_a, coop_b):
    (code, second, *_), _run, batch = on_sale_stamps(db, coop_a, 3)
    (other_code, *_), _other_run, _other = on_sale_stamps(db, coop_b, 1)
    scans.report_fake(code, "Tem mờ, nghi giả", "Chợ Long Biên")
    scans.report_fake(other_code, "Báo cáo ở xã khác")
    earlier_scans(db, second, phones=11, days=3, today=local_today())
    officer_client.application.test_client().get(f"/Q/{second}", headers=PHONE)  # the twelfth phone
    page = officer_client.get("/commune/reports").get_data(as_text=True)
    assert "Tem mờ, nghi giả" in page and "Báo cáo ở xã khác" not in page
    assert "Vải thiều Lục Ngạn" in page and "Mật ong" not in page  # the copied stamp, in this commune only
    overview = officer_client.get("/commune/").get_data(as_text=True)
    assert overview.count('/commune/reports">1</a>') == 2  # one report, one copied stamp, in this commune
    assert "<svg" in overview and "Vải thiều Lục Ngạn · 12 lượt quét" in overview  # an inline chart, no script library

    empty = post_form(officer_client, f"/commune/listings/{batch.id}/recall", {"reason": ""})
    assert empty.status_code == 422
    post_form(officer_client, f"/commune/listings/{batch.id}/recall", {"reason": "Dư lượng thuốc vượt ngưỡng"})
    assert "Dư lượng thuốc vượt ngưỡng" in _scan(officer_client, code)


def test_a_recalled_batch_is_shown_as_recalled_and_cannot_be_verified(officer_client, db, coop_a):
    from app.services import commune_watch
    from app.services.errors import RuleViolation

    _product, batch = product_with_batch(coop_a)
    listings.verify(_officer_id(db), batch.id, None, local_today())
    commune_watch.recall(_officer_id(db), batch.id, "Dư lượng thuốc vượt ngưỡng", local_today())
    recalled_on = f"Đã thu hồi ngày {local_today():%d/%m/%Y}"
    for path in ("/commune/listings", f"/commune/listings/{batch.id}"):
        page = officer_client.get(path).get_data(as_text=True)
        assert recalled_on in page and "Đã xác minh, hiệu lực đến" not in page, path
    page = officer_client.get(f"/commune/listings/{batch.id}").get_data(as_text=True)
    assert f'action="/commune/listings/{batch.id}/verify"' not in page and "Lô hàng này đã bị thu hồi: không thể xác minh." in page
    with pytest.raises(RuleViolation):
        listings.verify(_officer_id(db), batch.id, None, local_today())
    refused = post_form(officer_client, f"/commune/listings/{batch.id}/verify", {"valid_until": ""})
    assert refused.status_code == 422 and len(listings.decisions(batch.id)) == 1
    assert listings.listing(batch, local_today()).status is ListingStatus.RECALLED


def test_officers_reasons_lose_control_characters_and_one_made_of_them_alone_is_refused(officer_client, db, coop_a):
    from app.services import commune_watch
    from app.services.errors import RuleViolation

    _product, batch = product_with_batch(coop_a)
    with pytest.raises(RuleViolation):
        listings.reject(_officer_id(db), batch.id, "\x00\x07 \u202e")
    commune_watch.recall(_officer_id(db), batch.id, "Dư lượng\x00 thuốc\u202e vượt mức", local_today())
    assert batch.recall_reason == "Dư lượng thuốc vượt mức"
