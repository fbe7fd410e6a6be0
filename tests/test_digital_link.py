"""The GS1 Digital Link resolver (GS1-Conformant Resolver 1.2.0): the description file, redirects to each
level's default link, link types, the linkset, fall-backs, malformed links, HEAD and OPTIONS. Our URIs are
parsed back with biip, a GS1 parser that shares no code with ours."""
import json
import urllib.parse
from datetime import date

import biip
import pytest
from sqlalchemy import func, select

from app.models import Scan
from app.services import products, run_rendering
from tests.factories import on_sale_stamps
from tests.served import start_gunicorn

GTIN = "08938501234568"
LOT = "VT-2026-06-A"
VI = {"Accept-Language": "vi-VN,vi;q=0.9"}
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", **VI}
VOC = "https://gs1.org/voc/"
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"


@pytest.fixture
def listing(db, coop_a):
    """Five stamps on sale of a product with a GTIN, and a certification: (codes, run, batch)."""
    stamp_codes, run, batch = on_sale_stamps(db, coop_a, 5)
    products.update_product(coop_a.id, run.product_id, {"gtin": GTIN}, None)
    products.add_certification(coop_a.id, run.product_id, {"scheme": "VietGAP", "number": "VG-42", "issuer": "Sở NN"}, None)
    return stamp_codes, run, batch


def elements(uri: str) -> list[tuple[str, str]]:
    """The (AI, value) pairs biip reads from a Digital Link URI. Scheme and host are case-insensitive
    (RFC 3986) and the printed QR spells them in capitals, which biip does not take: they are lowered."""
    scheme, rest = uri.split("://", 1)
    host, path = rest.split("/", 1)
    parsed = biip.parse(f"{scheme.lower()}://{host.lower()}/{path}")
    assert parsed.gs1_digital_link_uri is not None, (uri, parsed.gs1_digital_link_uri_error)
    return [(e.ai.ai, e.value) for e in parsed.gs1_digital_link_uri.element_strings]


def path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def stamp_path(code: str, lot: str = LOT) -> str:
    return f"/01/{GTIN}/10/{lot}/21/{code}"


def test_the_resolver_describes_itself(client, app):
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200 and response.mimetype == "application/json"
    description = response.get_json()
    assert description["name"] == "OCOP Trace"
    assert description["resolverRoot"] == app.config["PUBLIC_BASE_URL"].rstrip("/")
    assert description["supportedPrimaryKeys"] == ["01"]
    assert description["supportedLinkType"] == [{"namespace": VOC, "prefix": "gs1:"}]
    assert description["linkTypeDefaultCanBeLinkset"] is False
    assert description["jsonLdContextLocation"] == LINKSET_CONTEXT
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_printed_link_parses_as_gtin_lot_and_serial_and_opens_the_scan_page(client, db, coop_a, listing):
    stamp_codes, run, batch = listing
    run.options = {**run.options, "gs1_link": True}
    db.session.commit()
    printed = run_rendering.payload_prefix(run) + stamp_codes[0]
    assert elements(printed) == [("01", GTIN), ("10", LOT), ("21", stamp_codes[0])]
    page = client.get(path_of(printed), headers=PHONE)
    assert page.status_code == 200 and "Tem chính hãng" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    anchors = [entry["anchor"] for entry in client.get(path_of(printed), query_string={"linkType": "linkset"}).get_json()["linkset"]]
    assert path_of(anchors[0]).upper() == path_of(printed) and len(anchors) == 3  # the serial, its lot, its GTIN


def test_the_linkset_has_one_entry_per_level_anchored_at_its_own_digital_link(client, listing):
    (code, *_), _run, _batch = listing
    for response in (client.get(stamp_path(code), query_string={"linkType": "linkset"}, headers=PHONE),
                     client.get(stamp_path(code), headers={"Accept": "application/linkset+json"})):
        assert response.status_code == 200 and response.mimetype == "application/linkset+json"
        assert response.headers["Link"] == f'<{LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        entries = response.get_json()["linkset"]
        assert [elements(entry["anchor"]) for entry in entries] == [
            [("01", GTIN), ("10", LOT), ("21", code)], [("01", GTIN), ("10", LOT)], [("01", GTIN)]]
        assert [path_of(entry["anchor"]) for entry in entries] == [stamp_path(code), f"/01/{GTIN}/10/{LOT}", f"/01/{GTIN}"]
        for entry in entries:
            link_types = set(entry) - {"anchor"}
            assert all(key.startswith(VOC) for key in link_types), link_types
            assert len(entry[VOC + "defaultLink"]) == 1
    serial, lot, product = entries
    assert path_of(serial[VOC + "defaultLink"][0]["href"]) == f"/Q/{code}"
    assert path_of(lot[VOC + "defaultLink"][0]["href"]) == f"/p/{GTIN}/lots/{LOT}"
    assert path_of(product[VOC + "defaultLink"][0]["href"]) == f"/p/{GTIN}"
    assert {link["hreflang"][0] for link in product[VOC + "pip"]} == {"vi", "en", "zh"}
    assert VOC + "certificationInfo" in product
    assert VOC + "traceability" not in product  # a product's events are the cooperative's own
    [traceability] = lot[VOC + "traceability"]
    assert path_of(traceability["href"]) == f"/p/{GTIN}/lots/{LOT}/epcis.jsonld" and traceability["type"] == "application/ld+json"


def test_a_plain_get_of_the_gtin_or_the_lot_redirects_to_its_default_link(client, listing):
    (code, *_), _run, batch = listing
    product = client.get(f"/01/{GTIN}", headers=PHONE)
    assert product.status_code == 307 and path_of(product.headers["Location"]) == f"/p/{GTIN}"
    assert product.headers["Link"].endswith('rel="linkset"; type="application/linkset+json"')
    product_page = client.get(f"/p/{GTIN}", headers=PHONE).get_data(as_text=True)
    assert "Vải thiều Lục Ngạn" in product_page and "Tem chính hãng" not in product_page
    assert path_of(client.get("/01/8938501234568", headers=PHONE).headers["Location"]) == f"/p/{GTIN}"  # a GTIN-13
    lot = client.get(f"/01/{GTIN}/10/{LOT.lower()}", headers=PHONE)
    assert lot.status_code == 307 and path_of(lot.headers["Location"]) == f"/p/{GTIN}/lots/{LOT}"
    lot_page = client.get(f"/p/{GTIN}/lots/{LOT}", headers=PHONE)
    text = lot_page.get_data(as_text=True)
    assert lot_page.status_code == 200 and LOT in text and "Abamectin 3.6EC" in text
    assert "Tem chính hãng" not in text and "Trang này nói về cả lô hàng" in text
    scan = client.get(stamp_path(code), headers=PHONE)
    assert scan.status_code == 200 and "Tem chính hãng" in scan.get_data(as_text=True)


def test_a_recalled_lot_says_so_on_its_page(client, db, coop_a, listing):
    _codes, _run, batch = listing
    batch.recalled_on, batch.recall_reason = date(2026, 6, 20), "Dư lượng thuốc"
    db.session.commit()
    text = client.get(f"/p/{GTIN}/lots/{LOT}", headers=PHONE).get_data(as_text=True)
    assert "Lô hàng này đã bị thu hồi ngày 20/06/2026" in text and "Dư lượng thuốc" in text


def test_traceability_redirects_to_the_lots_public_epcis_document(client, listing):
    (code, *_), _run, _batch = listing
    epcis = f"/p/{GTIN}/lots/{LOT}/epcis.jsonld"
    for path in (f"/01/{GTIN}/10/{LOT}", f"/01/{GTIN}/10/{LOT.lower()}", stamp_path(code)):
        for link_type in ("gs1:traceability", VOC + "traceability"):
            response = client.get(path, query_string={"linkType": link_type}, headers=PHONE)
            assert response.status_code == 307 and path_of(response.headers["Location"]) == epcis, path
    document = client.get(epcis)
    assert document.status_code == 200 and document.mimetype == "application/ld+json"
    assert document.get_json(force=True)["type"] == "EPCISDocument"
    assert document.headers["Access-Control-Allow-Origin"] == "*"  # read by other sites' tools, like the resolver
    assert client.get(f"/01/{GTIN}", query_string={"linkType": "gs1:traceability"}).status_code == 404


def test_link_types_redirect_to_their_link_and_pass_other_parameters_on(client, listing):
    (code, *_), _run, _batch = listing
    pip = client.get(f"/01/{GTIN}", query_string={"linkType": "gs1:pip"}, headers=VI)
    assert pip.status_code == 307 and path_of(pip.headers["Location"]) == f"/p/{GTIN}?lang=vi"
    same = client.get(f"/01/{GTIN}", query_string={"linkType": VOC + "pip"}, headers={"Accept-Language": "en"})
    assert path_of(same.headers["Location"]) == f"/p/{GTIN}?lang=en"
    lot_pip = client.get(stamp_path(code), query_string={"linkType": "gs1:pip"}, headers=VI)  # serial → its lot
    assert lot_pip.status_code == 307 and path_of(lot_pip.headers["Location"]) == f"/p/{GTIN}/lots/{LOT}?lang=vi"
    certificates = client.get(f"/01/{GTIN}/10/{LOT}", query_string={"linkType": "gs1:certificationInfo", "utm_source": "qr"}, headers=VI)
    assert certificates.status_code == 307
    assert path_of(certificates.headers["Location"]) == f"/p/{GTIN}/certifications?lang=vi&utm_source=qr"
    text = client.get(path_of(certificates.headers["Location"])).get_data(as_text=True)
    assert "VietGAP VG-42" in text and "OCOP-1" in text and "Chứng nhận khác" in text
    plain = client.get(f"/01/{GTIN}", query_string={"lang": "en", "utm_source": "qr"}, headers=VI)
    assert path_of(plain.headers["Location"]) == f"/p/{GTIN}?lang=en&utm_source=qr"
    default = client.get(f"/01/{GTIN}", query_string={"linkType": "gs1:defaultLink"})
    assert default.status_code == 307 and path_of(default.headers["Location"]) == f"/p/{GTIN}"
    assert client.get(f"/01/{GTIN}", query_string={"linkType": "gs1:recipeInfo"}, headers=VI).status_code == 404
    assert client.get(f"/01/{GTIN}", query_string={"linkType": "schema:url"}, headers=VI).status_code == 404
    several = client.get(f"/01/{GTIN}", query_string={"linkType": "gs1:pip"})  # no language to choose by
    assert several.status_code == 300 and several.mimetype == "application/linkset+json"
    assert len(several.get_json()["linkset"][0][VOC + "pip"]) == 3
    from_the_lot = client.get(stamp_path(code), query_string={"linkType": "gs1:pip"}).get_json()["linkset"]
    assert [path_of(entry["anchor"]) for entry in from_the_lot] == [f"/01/{GTIN}/10/{LOT}"]  # the level that has them


def test_unknown_lots_and_serials_fall_back_to_the_level_above(client, listing):
    (code, *_), _run, _batch = listing
    unknown_lot = client.get(f"/01/{GTIN}/10/NOPE-1", headers=PHONE)
    assert unknown_lot.status_code == 307 and path_of(unknown_lot.headers["Location"]) == f"/p/{GTIN}"
    links = client.get(f"/01/{GTIN}/10/NOPE-1", query_string={"linkType": "linkset"}).get_json()["linkset"]
    assert [path_of(entry["anchor"]) for entry in links] == [f"/01/{GTIN}"]
    unknown_serial = stamp_path("7KQ4M2XD9PTA3HVBF")
    links = client.get(unknown_serial, query_string={"linkType": "linkset"}).get_json()["linkset"]
    assert [path_of(entry["anchor"]) for entry in links] == [f"/01/{GTIN}/10/{LOT}", f"/01/{GTIN}"]
    lot_page = client.get(unknown_serial, query_string={"linkType": "gs1:pip"}, headers=VI)
    assert lot_page.status_code == 307 and path_of(lot_page.headers["Location"]) == f"/p/{GTIN}/lots/{LOT}?lang=vi"
    # The consumer's scan of a serial that names no stamp (or another lot's) still says "not genuine".
    assert client.get(unknown_serial, headers=PHONE).status_code == 404
    assert client.get(stamp_path(code, "OTHER"), headers=PHONE).status_code == 404
    # A GTIN of nobody's has nothing to fall back to.
    assert client.get("/01/04006381333931", headers=PHONE).status_code == 404


@pytest.mark.parametrize("path, says", [
    (f"/01/{GTIN[:-1]}9", "chữ số kiểm tra"),
    ("/01/12345678", "chữ số kiểm tra"),
    ("/01/123456789", "8, 12, 13 hoặc 14 chữ số"),
    ("/01/abc", "8, 12, 13 hoặc 14 chữ số"),
    (f"/01/{GTIN[:-1]}9/10/{LOT}/21/7KQ4M2XD9PTA3HVBF", "chữ số kiểm tra"),
    (f"/01/{GTIN}/21/7KQ4M2XD9PTA3HVBF/10/{LOT}", "theo thứ tự"),
    (f"/01/{GTIN}/99/1", "theo thứ tự"),
    (f"/01/{GTIN}/10/{LOT}/21", "theo thứ tự"),
    (f"/01/{GTIN}/10/{LOT}/21/7KQ4M2XD9PTA3HVBF/99/1", "theo thứ tự"),
])
def test_a_malformed_digital_link_is_a_400_that_says_why(client, listing, path, says):
    response = client.get(path, headers=PHONE)
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "không phải là liên kết GS1 Digital Link hợp lệ" in text and says in text
    assert "Vải thiều Lục Ngạn" not in text


def test_head_answers_like_get_without_counting_a_scan(client, db, listing):
    (code, *_), _run, _batch = listing
    head = client.head(stamp_path(code), headers=PHONE)
    assert head.status_code == 200 and head.get_data() == b""
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 0
    assert client.head(stamp_path("7KQ4M2XD9PTA3HVBF"), headers=PHONE).status_code == 404
    product = client.head(f"/01/{GTIN}", headers=PHONE)
    assert product.status_code == 307 and path_of(product.headers["Location"]) == f"/p/{GTIN}"
    client.get(stamp_path(code), headers=PHONE)
    assert "đã được quét 2 lần" in client.get(stamp_path(code), headers=PHONE).get_data(as_text=True)


def test_options_allows_any_origin_on_resolver_paths_only(client, listing):
    (code, *_), _run, _batch = listing
    for path in ("/.well-known/gs1resolver", f"/01/{GTIN}", f"/01/{GTIN}/10/{LOT}", stamp_path(code), f"/01/{GTIN}/21/{code}"):
        response = client.options(path, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert {"GET", "HEAD", "OPTIONS"} <= {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    for path in ("/", f"/p/{GTIN}", f"/Q/{code}"):
        assert "Access-Control-Allow-Origin" not in client.options(path).headers, path


def test_a_serial_without_its_lot_is_a_digital_link_too(client, listing):
    (code, *_), _run, _batch = listing
    page = client.get(f"/01/{GTIN}/21/{code}", headers=PHONE)
    assert page.status_code == 200 and "Tem chính hãng" in page.get_data(as_text=True)
    links = client.get(f"/01/{GTIN}/21/{code}", query_string={"linkType": "linkset"}).get_json()["linkset"]
    assert [path_of(entry["anchor"]) for entry in links] == [stamp_path(code), f"/01/{GTIN}/10/{LOT}", f"/01/{GTIN}"]


def test_the_linked_pages_speak_the_language_asked_for_and_know_only_listed_products(client, listing):
    english = client.get(f"/p/{GTIN}/certifications", query_string={"lang": "en"})
    assert english.status_code == 200 and '<html lang="en">' in english.get_data(as_text=True)
    assert client.get("/p/04006381333931").status_code == 404 and client.get(f"/p/{GTIN}/lots/NOPE").status_code == 404


# --- Through gunicorn, as deployed: redirects, HEAD and OPTIONS on the wire ------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("resolver"))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.served
def test_redirects_head_and_options_through_gunicorn(served):
    gtin, lot = served.query("SELECT p.gtin, b.lot_code FROM label_runs r JOIN batches b ON b.id = r.batch_id"
                             " JOIN products p ON p.id = b.product_id WHERE p.gtin IS NOT NULL")[0]
    visitor = served.visitor()
    product = visitor.get(f"/01/{gtin}", headers=VI)
    assert product.status == 307 and path_of(product.headers["Location"]) == f"/p/{gtin}"
    assert product.headers["Access-Control-Allow-Origin"] == "*"
    head = visitor.request("HEAD", f"/01/{gtin}/10/{lot}", headers=VI)
    assert head.status == 307 and head.body == b"" and path_of(head.headers["Location"]) == f"/p/{gtin}/lots/{lot}"
    options = visitor.request("OPTIONS", f"/01/{gtin}/10/{lot}", headers={"Origin": "https://example.org"})
    assert options.status == 200 and options.headers["Access-Control-Allow-Origin"] == "*"
    assert "HEAD" in options.headers["Access-Control-Allow-Methods"]
    linkset = visitor.get(f"/01/{gtin}/10/{lot}?linkType=linkset")
    assert linkset.status == 200 and linkset.content_type == "application/linkset+json"
    assert linkset.headers["Link"].startswith(f"<{LINKSET_CONTEXT}>")
    assert [elements(entry["anchor"]) for entry in json.loads(linkset.text)["linkset"]] == [[("01", gtin), ("10", lot)], [("01", gtin)]]
    malformed = visitor.get(f"/01/{gtin[:-1]}0/10/{lot}" if gtin[-1] != "0" else f"/01/{gtin[:-1]}1/10/{lot}", headers=VI)
    assert malformed.status == 400 and "GS1 Digital Link" in malformed.text


def _selects_of(db, client, path: str) -> list[str]:
    """The SELECT statements SQLite runs while the app answers path (on every connection it checks out)."""
    from sqlalchemy import event

    statements = []

    def trace(dbapi_connection, _record, _proxy):
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(db.engine, "checkout", trace)
    try:
        assert client.get(path, headers=PHONE).status_code == 200
    finally:
        event.remove(db.engine, "checkout", trace)
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_the_stamps_digital_link_costs_the_same_lookups_as_its_scan_page(client, db, listing):
    """The consumer's scan stays one lookup: the GS1 route parses the GTIN in Python and adds no query to
    what /Q/<code> runs (compared on the view's path, with a query string, the page already rendered)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("counts statements with SQLite's trace callback (the scan's lookup bypasses SQLAlchemy's events); "
                    "the routes run the same statements on PostgreSQL")
    (first, second, third, *_), _run, _batch = listing
    client.get(stamp_path(first) + "?lang=vi", headers=PHONE)  # render and cache the page of a first scan
    gs1 = _selects_of(db, client, stamp_path(second) + "?lang=vi")
    plain = _selects_of(db, client, f"/Q/{third}?lang=vi")
    assert len(gs1) == len(plain), (gs1, plain)
    # One lookup of the stamp by its code (the scan log's write, in the request here, reads the stamp's serial by id).
    assert sum("stamps.code_hash" in s for s in gs1) == 1, [s[:300] for s in gs1 if " stamps" in s]
