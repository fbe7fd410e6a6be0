"""A cooperative's GS1 Global Location Number: 13 digits with a right check digit, optional, set on the
cooperative's profile or by the administrator; when present it names the cooperative's place and party in every
EPCIS document (GS1 Digital Link, AI 414 and 417) and fills the national-portal export."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Cooperative
from app.services import cooperatives, products
from app.services.errors import RuleViolation
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, post_form
from tests.test_epcis import PUBLIC_GTIN, assert_valid, download, event_list, lychee  # noqa: F401  (lychee: a fixture)
from tests.test_portal_export import complete_product, download_json

# GS1's own example company prefix (0614141), and a German one (4012345): foreign GLNs are as valid as 893… ones.
GLN = "0614141000005"
FOREIGN_GLN = "4012345000009"
WRONG_CHECK_DIGIT = "0614141000006"
CHECK_DIGIT_MESSAGE = "Chữ số cuối của GLN (số kiểm tra) không đúng"
LENGTH_MESSAGE = "GLN gồm 13 chữ số."


def _profile(coop, **changes) -> dict:
    return {"name": coop.name, "registration_no": coop.registration_no, "commune": "Xã Lục Ngạn, Tỉnh Bắc Ninh", **changes}


def _stored_gln(coop_id: int) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Cooperative.gln).where(Cooperative.id == coop_id))


def _set_gln(coop, gln) -> Cooperative:
    return cooperatives.update_cooperative(coop.id, {"name": coop.name, "registration_no": coop.registration_no,
                                                     "commune_code": coop.commune_code, "gln": gln}, None)


# --- The rule: in the service, whatever path the value comes by ----------------------------------------------

@pytest.mark.parametrize("gln", [WRONG_CHECK_DIGIT, "061414100000", "06141410000055", "0614141-00000-5", "GLN0614141000"])
def test_the_service_refuses_a_bad_gln_and_keeps_the_old_one(db, coop_a, gln):
    _set_gln(coop_a, GLN)
    with pytest.raises(RuleViolation) as refused:
        _set_gln(coop_a, gln)
    assert refused.value.field == "gln"
    db.session.rollback()
    assert _stored_gln(coop_a.id) == GLN


def test_the_service_stores_the_13_digits_and_a_blank_gln_is_none(db, coop_a):
    assert _set_gln(coop_a, " 0614141 00000 5 ").gln == GLN
    assert _set_gln(coop_a, FOREIGN_GLN).gln == FOREIGN_GLN
    assert _set_gln(coop_a, "").gln is None
    assert _stored_gln(coop_a.id) is None


# --- The forms: the cooperative's profile and the administrator's cooperative form ---------------------------

@pytest.mark.parametrize("gln, message", [(WRONG_CHECK_DIGIT, CHECK_DIGIT_MESSAGE), ("12345", LENGTH_MESSAGE)])
def test_the_profile_refuses_a_bad_gln_next_to_the_field(member_client, coop_a, gln, message):
    response = post_form(member_client, "/coop/profile", _profile(coop_a, gln=gln))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{gln}"' in page  # what was typed stays in the field
    assert "Mã địa điểm toàn cầu GLN (nếu có)" in page
    assert _stored_gln(coop_a.id) is None


def test_the_profile_stores_a_valid_gln(member_client, coop_a):
    response = post_form(member_client, "/coop/profile", _profile(coop_a, gln="0614141 00000 5"))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert _stored_gln(coop_a.id) == GLN
    assert f'value="{GLN}"' in member_client.get("/coop/profile").get_data(as_text=True)


def test_the_admin_form_refuses_a_bad_gln_and_stores_a_valid_one(admin_client, coop_a):
    path = f"/admin/cooperatives/{coop_a.id}/edit"
    refused = post_form(admin_client, path, _profile(coop_a, gln=WRONG_CHECK_DIGIT))
    assert refused.status_code == 422 and CHECK_DIGIT_MESSAGE in refused.get_data(as_text=True)
    assert _stored_gln(coop_a.id) is None
    saved = post_form(admin_client, path, _profile(coop_a, gln=FOREIGN_GLN))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    assert _stored_gln(coop_a.id) == FOREIGN_GLN


# --- EPCIS: the GLN names the place and the party ------------------------------------------------------------

def _places_and_parties(events: list[dict]) -> set[str]:
    found = set()
    for event in events:
        found |= {event[key]["id"] for key in ("readPoint", "bizLocation") if key in event}
        found |= {item["source"] for item in event.get("sourceList", [])}
        found |= {item["destination"] for item in event.get("destinationList", [])}
    return found


def test_epcis_documents_name_the_cooperative_by_its_gln_and_by_our_uris_without_one(member_client, lychee, coop_a):
    without = event_list(download(member_client, "/coop/epcis.jsonld"))
    assert {e["bizLocation"]["id"].rsplit("/", 3)[-3:] == ["loc", "coop", str(coop_a.id)] for e in without} == {True}
    assert not [uri for uri in _places_and_parties(without) if "id.gs1.org/41" in uri]
    _set_gln(coop_a, GLN)
    document = download(member_client, "/coop/epcis.jsonld")
    assert_valid(document)
    events = event_list(document)
    assert all(e["readPoint"]["id"] == e["bizLocation"]["id"] == f"https://id.gs1.org/414/{GLN}" for e in events)
    named = _places_and_parties(events)
    assert f"https://id.gs1.org/417/{GLN}" in named
    assert not [uri for uri in named if "/coop/" in uri]


def test_the_public_lot_document_names_the_cooperative_by_its_gln(client, lychee, coop_a):
    _set_gln(coop_a, GLN)
    products.update_product(coop_a.id, lychee["product"].id, {"gtin": PUBLIC_GTIN}, None)
    response = client.get(f"/p/{PUBLIC_GTIN}/lots/{lychee['batch'].lot_code}/epcis.jsonld")
    assert response.status_code == 200
    document = response.get_json(force=True)
    assert_valid(document)
    assert {e["bizLocation"]["id"] for e in event_list(document)} == {f"https://id.gs1.org/414/{GLN}"}


# --- The national-portal export ------------------------------------------------------------------------------

def test_the_portal_export_carries_the_gln_as_the_location_trace_code(member_client, coop_a):
    complete_product(coop_a)
    _set_gln(coop_a, GLN)
    document = download_json(member_client)
    assert document["producer"]["gln"] == GLN
    assert document["producer"]["location_trace_code"] == GLN
    stages = [stage for product in document["products"] for lot in product["lots"] for stage in lot["stages"]]
    assert stages and {stage["location_trace_code"] for stage in stages} == {GLN}


# --- In Chromium ---------------------------------------------------------------------------------------------

@pytest.mark.browser
@needs_chromium
def test_the_profile_form_in_chromium(live_server, page, coop_a, tmp_path):
    """The field carries its Vietnamese label and hint; a wrong check digit is refused next to it with the typed
    value kept; the corrected GLN is saved."""
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/profile")
    box = page.get_by_label("Mã địa điểm toàn cầu GLN (nếu có)")
    box.fill(WRONG_CHECK_DIGIT)
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_load_state()
    assert CHECK_DIGIT_MESSAGE in page.inner_text("main")
    assert box.input_value() == WRONG_CHECK_DIGIT
    page.screenshot(path=str(tmp_path / "profile-gln-refused.png"), full_page=True)
    box.fill(GLN)
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_load_state()
    assert _stored_gln(coop_a.id) == GLN
