"""Reference data from the migrations, the commune search, the JSON API and the demo data."""
from sqlalchemy import func, select

from app.models import Batch, Commune, Cooperative, DiaryEvent, Product, Province, User
from app.services import demo, geo
from tests.conftest import sign_in


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_2025_administrative_units_are_loaded(db):
    assert count(db, Province) == 34
    assert count(db, Commune) == 3321
    for name in ("Xã Lục Ngạn", "Xã Phúc Hòa"):
        commune = db.session.scalar(select(Commune).where(Commune.name == name, Commune.province_code == 24))
        assert commune.province.name.endswith("Bắc Ninh")


def test_commune_search_ignores_case_and_diacritics(db):
    for query in ("luc ngan", "Lục Ngạn", "LUC NGAN", "xã lục ngạn"):
        assert "Xã Lục Ngạn" in [c.name for c in geo.search_communes(query)], query


def test_commune_api(client):
    response = client.get("/api/communes", query_string={"q": "luc ngan"})
    assert response.status_code == 200
    labels = [c["label"] for c in response.get_json()["communes"]]
    assert any(label.startswith("Xã Lục Ngạn, ") and label.endswith("Bắc Ninh") for label in labels)
    for bad in ({}, {"q": ""}, {"q": "x" * 81}, {"q": "a", "limit": "500"}):
        response = client.get("/api/communes", query_string=bad)
        assert response.status_code == 400 and "error" in response.get_json()


def test_demo_data_loads_once_and_its_accounts_sign_in(app, db):
    runner = app.test_cli_runner()
    assert "loaded" in runner.invoke(args=["demo"]).output
    counts = [count(db, model) for model in (Cooperative, Product, Batch, DiaryEvent, User)]
    assert counts[0] == 3 and counts[1] == 4 and counts[2] == 3 and counts[3] >= 10
    assert "not loaded" in runner.invoke(args=["demo"]).output
    assert [count(db, model) for model in (Cooperative, Product, Batch, DiaryEvent, User)] == counts
    db.session.commit()
    homes = {"lan@hongxuan.vn": "/coop/", "0987654321": "/coop/", "buoi@namduong.vn": "/coop/",
             "canbo.lucngan@ocop.vn": "/commune/", "canbo.phuchoa@ocop.vn": "/commune/", "canbo.namduong@ocop.vn": "/commune/",
             "admin@ocop.vn": "/admin/"}
    for login, home in homes.items():
        fresh = app.test_client()
        assert sign_in(fresh, login, demo.DEMO_PASSWORD).headers["Location"] == home
        assert fresh.get(home).status_code == 200


def test_demo_data_has_a_verified_listing_one_awaiting_and_one_failing_the_gate(app, db):
    from sqlalchemy import select

    from app.i18n import local_today
    from app.models import LabelRun
    from app.services import codes, compliance, listings, minting

    app.test_cli_runner().invoke(args=["demo"])
    # Demo lot codes carry the month of their harvest, which follows the day the demo is loaded.
    by_kind = {batch.lot_code.split("-")[0]: batch for batch in db.session.scalars(select(Batch))}
    status = {kind: listings.listing(batch, local_today()).status.value for kind, batch in by_kind.items()}
    assert status == {"VT": "verified", "MO": "awaiting", "CAM": "awaiting"}
    assert compliance.problems(by_kind["CAM"]) and not compliance.problems(by_kind["VT"])
    run = db.session.scalar(select(LabelRun))
    code = codes.derive_code(minting.stamp_key(), run.id, 1)
    db.session.commit()
    page = app.test_client().get(f"/Q/{code}", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "Đã xác minh bởi UBND xã Lục Ngạn" in page
