"""/api/v1/scans/daily for a cooperative's members: scans per product and day in Vietnam, their own
cooperative only, a range of at most 366 days."""
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.i18n import local_today
from app.models import Scan, Stamp
from tests.factories import minted_run, on_sale_stamps, product_with_batch
from tests.test_api import assert_problem, bearer


def _scan_at(db, stamp_id: int, utc: datetime, vietnam_day: date) -> None:
    """A scan as scans.look records it: the UTC moment, and the day it was in Vietnam."""
    db.session.add(Scan(stamp_id=stamp_id, scanned_at=utc, day=vietnam_day, device_class="android",
                        device_hash=bytes(16)))
    db.session.commit()


def _stamp_ids(db, run) -> list[int]:
    return list(db.session.scalars(select(Stamp.id).where(Stamp.run_id == run.id).order_by(Stamp.serial)))


def test_scans_fall_on_vietnams_day_not_utcs(client, coop_a, db):
    _, run, batch = on_sale_stamps(db, coop_a, 2)
    first, second = _stamp_ids(db, run)
    # 16:59 and 17:00 UTC on 1 June are 23:59 on 1 June and 00:00 on 2 June in Vietnam (UTC+7).
    _scan_at(db, first, datetime(2026, 6, 1, 16, 59), date(2026, 6, 1))
    _scan_at(db, second, datetime(2026, 6, 1, 17, 0), date(2026, 6, 2))
    _scan_at(db, second, datetime(2026, 6, 2, 16, 0), date(2026, 6, 2))
    body = client.get("/api/v1/scans/daily?from=2026-05-31&to=2026-06-03", headers=bearer("a@htx.vn")).get_json()
    assert body["from"] == "2026-05-31" and body["to"] == "2026-06-03"
    [series] = body["series"]
    assert series["product"] == batch.product.name and series["product_id"] == batch.product_id
    assert series["days"] == ["2026-05-31", "2026-06-01", "2026-06-02", "2026-06-03"]
    assert series["counts"] == [0, 1, 2, 0]


def test_a_scan_through_the_scan_page_counts_today_in_vietnam(client, coop_a, db):
    stamp_codes, _, _ = on_sale_stamps(db, coop_a, 1)
    client.get(f"/q/{stamp_codes[0]}", headers={"User-Agent": "phone-1"})
    body = client.get("/api/v1/scans/daily", headers=bearer("a@htx.vn")).get_json()
    [series] = body["series"]
    assert body["to"] == local_today().isoformat() and len(series["days"]) == 30
    assert series["days"][-1] == local_today().isoformat() and series["counts"][-1] == 1 and sum(series["counts"]) == 1


def test_only_the_members_own_cooperative_and_another_cooperatives_product_is_404(client, coop_a, coop_b, db):
    _, run_a, batch_a = on_sale_stamps(db, coop_a, 1)
    product_b, batch_b = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")
    run_b = minted_run(coop_b, product_b, batch_b, count=1, token="b-scans")
    day = date(2026, 6, 1)
    _scan_at(db, _stamp_ids(db, run_a)[0], datetime(2026, 6, 1, 3), day)
    _scan_at(db, _stamp_ids(db, run_b)[0], datetime(2026, 6, 1, 3), day)
    url = "/api/v1/scans/daily?from=2026-06-01&to=2026-06-01"
    a_sees = client.get(url, headers=bearer("a@htx.vn")).get_json()["series"]
    assert [(s["product_id"], s["counts"]) for s in a_sees] == [(batch_a.product_id, [1])]
    b_sees = client.get(url, headers=bearer("b@htx.vn")).get_json()["series"]
    assert [(s["product_id"], s["counts"]) for s in b_sees] == [(product_b.id, [1])]
    assert_problem(client.get(f"{url}&product_id={product_b.id}", headers=bearer("a@htx.vn")), 404)
    own = client.get(f"{url}&product_id={batch_a.product_id}", headers=bearer("a@htx.vn")).get_json()["series"]
    assert [s["product_id"] for s in own] == [batch_a.product_id]
    assert_problem(client.get(url), 401)


def test_officers_are_refused(client, db):
    from app.models import Role
    from app.services import accounts, api_tokens
    from tests.conftest import LUC_NGAN

    officer = accounts.create_user(name="Cán bộ xã", login="canbo@xa.vn", password="mat-khau-thu-nghiem",
                                   role=Role.OFFICER, commune_codes=[LUC_NGAN])
    token = api_tokens.create_token(officer.id, {"name": "tablet"}, False).secret
    assert_problem(client.get("/api/v1/scans/daily", headers={"Authorization": f"Bearer {token}"}), 403)


def test_range_limits(client, coop_a):
    headers = {**bearer("a@htx.vn"), "Accept-Language": "vi"}
    first = date(2025, 1, 1)
    longest = client.get(f"/api/v1/scans/daily?from={first}&to={first + timedelta(days=365)}", headers=headers)
    assert longest.status_code == 200 and longest.get_json()["series"] == []
    too_long = assert_problem(client.get(f"/api/v1/scans/daily?from={first}&to={first + timedelta(days=366)}", headers=headers), 422)
    assert too_long["errors"][0]["field"] == "to" and "366" in too_long["errors"][0]["detail"]
    assert "ngày" in too_long["errors"][0]["detail"]
    backwards = assert_problem(client.get("/api/v1/scans/daily?from=2026-06-02&to=2026-06-01", headers=headers), 422)
    assert backwards["errors"][0]["field"] == "from"
    assert_problem(client.get("/api/v1/scans/daily?from=2026-13-01", headers=headers), 422)
