from tests.conftest import post_form


def test_member_creates_product_batch_and_diary(member_client, db):
    r = post_form(member_client, "/coop/products/new", {"name": "Vải thiều Lục Ngạn", "category": "fruit", "ocop_stars": "4", "ocop_certificate_no": "OCOP-1", "ocop_issued_on": "2024-08-15", "gtin": "8938501234568"})
    assert r.status_code == 302, r.get_data(as_text=True)
    page = member_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Vải thiều Lục Ngạn" in page and "15/08/2027" in page
