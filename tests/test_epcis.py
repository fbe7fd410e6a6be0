"""GS1 EPCIS 2.0: every document we export is valid against GS1's own schema (format checks on), events carry
the right CBV steps and dispositions, the stamps' URIs are the printed ones, event IDs are the EPCIS event hash,
and the events query filters, pages and keeps to the signed-in cooperative."""
import copy
import json
from datetime import date
from pathlib import Path

import pytest
import rfc3987
from epcis_event_hash_generator import hash_generator, json_to_py
from jsonschema import Draft7Validator, FormatChecker
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.services import accounts, api_tokens, batch_inputs, codes, batches, commune_watch, label_runs, minting, products, shipments, stamp_export, stamp_ranges
from app.services.epcis import documents, events as build, hashing, vocabulary
from app.services.shipments import StampRange as ShippedRange
from tests.conftest import LUC_NGAN, PASSWORD, PHUC_HOA, sign_in
from tests.factories import minted_run, product_with_batch

DATA = Path(__file__).parent / "data" / "epcis"
SCHEMA = json.loads((DATA / "EPCIS-JSON-Schema.json").read_text())
# Every format jsonschema can check; `uri` through rfc3987 (without it, jsonschema lets any string pass as a URI).
FORMATS = FormatChecker()


@FORMATS.checks("uri", raises=ValueError)
def uri_or_blank_node(value) -> bool:
    """An RFC 3987 URI, or a JSON-LD blank node identifier (`_:name`), which JSON-LD allows wherever a node's id
    goes: GS1's own Digital Link example names its document `_:document1`. We never write one."""
    if not isinstance(value, str) or (value.startswith("_:") and len(value) > 2 and not any(c.isspace() for c in value)):
        return True
    return rfc3987.parse(value, rule="URI") is not None


VALIDATOR = Draft7Validator(SCHEMA, format_checker=FORMATS)
MEDIA_TYPE = "application/ld+json"
DIARY = [
    ("planting", date(2026, 1, 5)), ("fertilising", date(2026, 3, 2)), ("irrigation", date(2026, 4, 1)),
    ("harvest", date(2026, 6, 10)), ("packing", date(2026, 6, 11)), ("inspection", date(2026, 6, 11)),
    ("transport", date(2026, 6, 12)), ("other", date(2026, 6, 12)),
]
FERTILISER = {"kind": "fertiliser", "name": "NPK 16-16-8", "supplier_name": "Đại lý vật tư Hùng Mạnh", "supplier_lot": "NPK-0326",
              "supplier_address": "Thôn Kép", "quantity": "50", "unit": "kg", "received_on": date(2026, 3, 1)}
TRADER = {"buyer_name": "Thương lái Hoàng Văn Nam", "buyer_kind": "trader", "buyer_address": "Chợ đầu mối Đồng Đăng",
          "buyer_phone": "0912 345 678", "buyer_commune_code": LUC_NGAN, "shipped_on": date(2026, 6, 12), "quantity": "600",
          "unit": "kg"}


def schema_errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def assert_valid(document: dict) -> None:
    assert schema_errors(document) == []


def event_list(document: dict) -> list[dict]:
    body = document["epcisBody"]
    return body["queryResults"]["resultsBody"]["eventList"] if "queryResults" in body else body["eventList"]


@pytest.fixture
def lychee(db, coop_a):
    """Cooperative A's lychee batch with a diary of every kind, stamps printed for it, blank stamps partly
    activated onto it and partly voided, a run voided whole, and the batch recalled."""
    product, batch = product_with_batch(coop_a)
    for kind, day in DIARY:
        picked = {"quantity": "1250.5"} if kind == "harvest" else {}
        batches.add_event(coop_a.id, batch.id, {"event_date": day, "kind": kind, "description": f"{kind} Lục Ngạn", **picked}, None)
    batch_run = minted_run(coop_a, product, batch, count=3, token="batch-run")
    blank_run = minted_run(coop_a, product, None, count=4, token="blank-run")
    stamp_ranges.activate_range(coop_a.id, blank_run.id, 1, 2, batch.id, None)
    stamp_ranges.void_range(coop_a.id, blank_run.id, 3, 3, None, reason="Tem bị rách")
    spoilt_run = minted_run(coop_a, product, batch, count=2, token="spoilt-run")
    stamp_ranges.void_run(coop_a.id, spoilt_run.id, "Máy in kẹt giấy", None)
    fertiliser = batch_inputs.add_input(coop_a.id, batch.id, FERTILISER, None)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 3, 9), "kind": "fertilising", "input_id": fertiliser.id,
                                            "input_used": fertiliser.name, "dose": "2 kg/cây"}, None)
    shipments.create_shipment(coop_a.id, batch.id, {**TRADER, "ranges": [ShippedRange(batch_run.id, 1, 2)]}, None)
    shipments.create_shipment(coop_a.id, batch.id, {**TRADER, "buyer_commune_code": None, "quantity": "20", "unit": "thùng"}, None)
    officer = accounts.create_user(name="Cán bộ", login="canbo.epcis@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    commune_watch.recall(officer.id, batch.id, "Dư lượng thuốc vượt ngưỡng", date(2026, 6, 20))
    return {"product": product, "batch": batch, "batch_run": batch_run, "blank_run": blank_run, "spoilt_run": spoilt_run,
            "fertiliser": fertiliser}


def download(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == MEDIA_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment")
    return json.loads(response.get_data(as_text=True))


# --- The validator itself: format checks on, and they bite ---------------------------------------------------

def test_the_validator_checks_uri_formats():
    """jsonschema checks `format: uri` only when rfc3987 is installed, and ours only lets blank nodes through besides."""
    assert "uri" in Draft7Validator.FORMAT_CHECKER.checkers
    for not_uri in ("spraying", "inputs", "http://host/a b", "_:", "_:a b", ""):
        assert not FORMATS.conforms(not_uri, "uri"), not_uri
    for uri in ("ocop:phiDays", "https://ref.gs1.org/cbv/BizStep-packing", "ni:///sha-256;ab?ver=CBV2.0", "_:document1"):
        assert FORMATS.conforms(uri, "uri"), uri


@pytest.mark.parametrize("name", sorted(path.name for path in DATA.glob("gs1-example-*.json")))
def test_gs1_examples_pass_the_same_validator(name):
    assert_valid(json.loads((DATA / name).read_text()))


def _spraying_document(app_context_doc: dict, change) -> dict:
    document = copy.deepcopy(app_context_doc)
    spraying = next(e for e in event_list(document) if e.get("ocop:diaryKind") == "spraying")
    change(spraying)
    return document


@pytest.mark.parametrize("reason, change", [
    # A space cannot stand in a URI: the read point must be refused, not taken as text.
    ("bad URI", lambda event: event["readPoint"].update(id="http://127.0.0.1:5000/loc/coop 1")),
    # "spraying" is no CBV business step, and a bare word is not a URI: ours must be written out in full.
    ("made-up bizStep", lambda event: event.update(bizStep="spraying")),
    # ILMD keys must be URIs or CURIEs (ocop:input); a bare key means nothing outside our app.
    ("bare ilmd key", lambda event: event.update(ilmd={"inputs": "Abamectin"})),
])
def test_schema_refuses_what_is_not_epcis(app, lychee, reason, change):
    valid = documents.document(documents.scope_events(documents.batch_scope(lychee["batch"].product.cooperative_id, lychee["batch"].id)))
    assert_valid(valid)
    broken = _spraying_document(valid, change)
    assert schema_errors(broken), reason


def test_bad_uri_is_caught_only_with_format_checks(app, lychee):
    """Proof that the format checker matters: without it the schema alone lets a URI with a space through."""
    valid = documents.document(documents.scope_events(documents.batch_scope(lychee["batch"].product.cooperative_id, lychee["batch"].id)))
    broken = _spraying_document(valid, lambda event: event["readPoint"].update(id="http://127.0.0.1:5000/loc/coop 1"))
    assert list(Draft7Validator(SCHEMA).iter_errors(broken)) == []
    assert schema_errors(broken)


# --- Every exported document is valid ------------------------------------------------------------------------

def test_every_download_is_valid_epcis(member_client, lychee):
    batch, product = lychee["batch"], lychee["product"]
    for path in (f"/coop/batches/{batch.id}/epcis.jsonld", f"/coop/products/{product.id}/epcis.jsonld", "/coop/epcis.jsonld"):
        document = download(member_client, path)
        assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
        assert event_list(document), path
        assert_valid(document)
    response = member_client.get("/coop/epcis/events")
    assert response.status_code == 200 and response.mimetype == MEDIA_TYPE
    assert response.json["type"] == "EPCISQueryDocument"
    assert_valid(response.json)


def test_officer_downloads_a_listing_of_their_commune(client, lychee):
    accounts.create_user(name="Cán bộ xã", login="officer.dl@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    sign_in(client, "officer.dl@xa.vn")
    document = download(client, f"/commune/listings/{lychee['batch'].id}/epcis.jsonld")
    assert_valid(document)
    assert {e["bizStep"] for e in event_list(document)} >= {"commissioning", "holding", "packing"}


def test_every_download_page_links_its_file(member_client, lychee):
    batch, product = lychee["batch"], lychee["product"]
    assert f"/coop/batches/{batch.id}/epcis.jsonld" in member_client.get(f"/coop/batches/{batch.id}").get_data(as_text=True)
    assert f"/coop/products/{product.id}/epcis.jsonld" in member_client.get(f"/coop/products/{product.id}").get_data(as_text=True)
    assert "/coop/epcis.jsonld" in member_client.get("/coop/profile").get_data(as_text=True)


# --- What the events say -------------------------------------------------------------------------------------

def _batch_events(lychee) -> list[dict]:
    batch = lychee["batch"]
    return documents.scope_events(documents.batch_scope(batch.product.cooperative_id, batch.id))


def test_diary_kinds_map_to_cbv_steps_or_our_uris(app, lychee):
    ours = vocabulary.namespace() + "bizstep/"
    expected = {"planting": ours + "planting", "fertilising": ours + "fertilising", "spraying": ours + "spraying",
                "irrigation": ours + "irrigation", "harvest": ours + "harvesting", "packing": "packing",
                "inspection": "inspecting", "transport": "transporting", "other": "other"}
    diary = {e["ocop:diaryKind"]: e for e in _batch_events(lychee) if "ocop:diaryKind" in e}
    assert {kind: e["bizStep"] for kind, e in diary.items()} == expected
    assert diary["harvest"]["action"] == "ADD" and diary["harvest"]["ilmd"]["cbvmda:lotNumber"] == "VT-2026-06-A"
    batch_class = f"{vocabulary.base_url()}/id/batch/{lychee['batch'].id}"
    assert diary["harvest"]["quantityList"] == [{"epcClass": batch_class, "quantity": 1250.5, "uom": "KGM"}]
    assert (diary["harvest"]["ocop:quantity"], diary["harvest"]["ocop:unit"]) == (1250.5, "kg")
    spraying = diary["spraying"]
    assert spraying["action"] == "OBSERVE" and spraying["ocop:input"] == "Abamectin 3.6EC" and spraying["ocop:phiDays"] == 7
    assert spraying["eventTime"] == "2026-05-18T00:00:00.000+07:00" and spraying["eventTimeZoneOffset"] == "+07:00"
    assert spraying["quantityList"] == [{"epcClass": f"{vocabulary.base_url()}/id/batch/{lychee['batch'].id}"}]
    assert spraying["readPoint"] == spraying["bizLocation"] == {"id": f"{vocabulary.base_url()}/loc/coop/{lychee['product'].cooperative_id}"}


def test_commissioned_stamps_are_the_printed_uris(app, lychee):
    run = lychee["batch_run"]
    printed = [row[2] for row in stamp_export.export_rows(run)]  # the print shop's CSV: sequence, code, url, …
    event = next(e for e in _batch_events(lychee) if e.get("ocop:labelRun") == run.id and e["action"] == "ADD")
    assert (event["bizStep"], event["disposition"]) == ("commissioning", "active")
    assert event["epcList"] == printed and len(printed) == 3
    assert event["ilmd"] == {"cbvmda:lotNumber": "VT-2026-06-A", "cbvmda:bestBeforeDate": lychee["batch"].best_before.isoformat()}
    assert event["eventTime"].endswith("+07:00")


def test_activations_voids_and_the_recall(app, lychee):
    blank, spoilt = lychee["blank_run"], lychee["spoilt_run"]
    blank_uris = [row[2] for row in stamp_export.export_rows(blank)]
    found = _batch_events(lychee)
    activation = next(e for e in found if e.get("ocop:labelRun") == blank.id and e["action"] == "ADD")
    assert (activation["bizStep"], activation["disposition"], activation["epcList"]) == ("commissioning", "active", blank_uris[:2])
    # The blank run's printing and its void of serial 3 concern the product, not this batch.
    assert not [e for e in found if e.get("ocop:labelRun") == blank.id and e["action"] != "ADD"]
    run_void = next(e for e in found if e.get("ocop:labelRun") == spoilt.id and e["action"] == "DELETE")
    assert (run_void["bizStep"], run_void["disposition"], run_void["ocop:reason"]) == ("decommissioning", "inactive", "Máy in kẹt giấy")
    assert len(run_void["epcList"]) == 2
    recall = next(e for e in found if e.get("disposition") == "recalled")
    assert (recall["bizStep"], recall["eventTime"], recall["ocop:reason"]) == ("holding", "2026-06-20T00:00:00.000+07:00", "Dư lượng thuốc vượt ngưỡng")

    product_events = documents.scope_events(documents.product_scope(blank.cooperative_id, blank.product_id))
    printed = next(e for e in product_events if e.get("ocop:labelRun") == blank.id and e["bizStep"] == "encoding")
    assert (printed["action"], printed["disposition"], printed["epcList"]) == ("ADD", "encoded", blank_uris)
    void = next(e for e in product_events if e.get("ocop:labelRun") == blank.id and e["action"] == "DELETE")
    assert (void["epcList"], void["ocop:reason"]) == (blank_uris[2:3], "Tem bị rách")


def test_shipments_go_from_the_cooperative_to_the_buyer(app, lychee):
    coop_id, batch = lychee["product"].cooperative_id, lychee["batch"]
    base = vocabulary.base_url()
    with_stamps, boxes = [e for e in _batch_events(lychee) if e["bizStep"] == "shipping"]
    assert (with_stamps["action"], with_stamps["disposition"], with_stamps["eventTime"]) == ("OBSERVE", "in_transit", "2026-06-12T00:00:00.000+07:00")
    assert with_stamps["epcList"] == [row[2] for row in stamp_export.export_rows(lychee["batch_run"])][:2]
    assert with_stamps["quantityList"] == [{"epcClass": f"{base}/id/batch/{batch.id}", "quantity": 600.0, "uom": "KGM"}]
    assert with_stamps["sourceList"] == [{"type": "owning_party", "source": f"{base}/party/coop/{coop_id}"},
                                         {"type": "location", "source": f"{base}/loc/coop/{coop_id}"}]
    shipment_ids = [s.id for s in batch.shipments]
    assert with_stamps["destinationList"] == [{"type": "owning_party", "destination": f"{base}/party/shipment/{shipment_ids[0]}/buyer"},
                                              {"type": "location", "destination": f"{base}/loc/commune/{LUC_NGAN}"}]
    assert with_stamps["ocop:buyerName"] == "Thương lái Hoàng Văn Nam" and "0912 345 678" not in json.dumps(with_stamps, ensure_ascii=False)
    # Twenty crates are no UN/CEFACT unit: counted in our own words, the lot named without a quantity.
    assert boxes["quantityList"] == [{"epcClass": f"{base}/id/batch/{batch.id}"}] and "epcList" not in boxes
    assert (boxes["ocop:quantity"], boxes["ocop:unit"]) == (20.0, "thùng")
    assert boxes["destinationList"] == [{"type": "owning_party", "destination": f"{base}/party/shipment/{shipment_ids[1]}/buyer"}]


def test_inputs_are_received_from_their_supplier_and_linked_from_the_diary(app, lychee):
    item, batch = lychee["fertiliser"], lychee["batch"]
    base = vocabulary.base_url()
    found = _batch_events(lychee)
    received = next(e for e in found if e["bizStep"] == "receiving")
    assert received["quantityList"] == [{"epcClass": f"{base}/id/input/{item.id}", "quantity": 50.0, "uom": "KGM"}]
    assert received["sourceList"] == [{"type": "owning_party", "source": f"{base}/party/input/{item.id}/supplier"}]
    assert (received["ocop:inputName"], received["ocop:supplierLot"], received["ocop:forLot"]) == ("NPK 16-16-8", "NPK-0326", f"{base}/id/batch/{batch.id}")
    assert received["eventTime"] == "2026-03-01T00:00:00.000+07:00"
    fertilising = next(e for e in found if e.get("ocop:inputClass"))
    assert (fertilising["ocop:inputClass"], fertilising["ocop:dose"]) == (f"{base}/id/input/{item.id}", "2 kg/cây")


def test_big_runs_are_counted_with_their_serial_range(app, db, coop_a):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=build.EPC_LIST_LIMIT + 1, token="big")
    event = next(e for e in documents.scope_events(documents.batch_scope(coop_a.id, batch.id)) if e.get("ocop:labelRun") == run.id)
    assert "epcList" not in event
    assert event["quantityList"] == [{"epcClass": f"{vocabulary.base_url()}/id/batch/{batch.id}", "quantity": build.EPC_LIST_LIMIT + 1}]
    first_url = next(iter(stamp_export.export_rows(run)))[2]
    assert event["ocop:stampRange"] == {"ocop:labelRun": run.id, "ocop:firstSerial": 1, "ocop:lastSerial": build.EPC_LIST_LIMIT + 1,
                                        "ocop:uriPrefix": first_url[:first_url.rindex("/") + 1]}
    assert_valid(documents.document([event]))


def test_query_finds_a_stamp_inside_a_big_range(member_client, coop_a, coop_b):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=build.EPC_LIST_LIMIT + 1, token="big-query")
    product_b, batch_b = product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    run_b = minted_run(coop_b, product_b, batch_b, count=2, token="b-query")
    key = minting.stamp_key()
    last_uri = f"{vocabulary.base_url()}/Q/{codes.derive_code(key, run.id, build.EPC_LIST_LIMIT + 1)}".upper()
    found = query(member_client, MATCH_epc=last_uri.lower())
    assert [(e["ocop:stampRange"]["ocop:labelRun"], e["bizStep"]) for e in found] == [(run.id, "commissioning")]
    theirs = f"{vocabulary.base_url()}/Q/{codes.derive_code(key, run_b.id, 1)}".upper()
    assert query(member_client, MATCH_epc=theirs) == []


def test_gs1_digital_link_stamps_and_gtin_classes(app, db, coop_a):
    product = products.create_product(coop_a.id, {"name": "Mật ong", "category": "honey", "gtin": "08935049500018"}, None)
    batch = batches.create_batch(coop_a.id, product.id, {"lot_code": "MO-1", "harvest_date": date(2026, 6, 10)}, None)
    run, _ = label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=2, template="a4-65",
                                   options={"gs1_link": True}, request_token="dl", actor_id=None)
    minting.mint(run.id)
    event = documents.scope_events(documents.batch_scope(coop_a.id, batch.id))[0]
    assert event["epcList"] == [row[2] for row in stamp_export.export_rows(run)]
    assert all("/01/08935049500018/10/MO-1/21/" in uri for uri in event["epcList"])
    assert_valid(documents.document([event]))


# --- Event IDs -----------------------------------------------------------------------------------------------

def test_event_ids_are_the_epcis_event_hash(member_client, lychee):
    document = download(member_client, "/coop/epcis.jsonld")
    exported = event_list(document)
    assert all(e["eventID"].startswith("ni:///sha-256;") and e["eventID"].endswith("?ver=CBV2.0") for e in exported)
    # The downloaded file itself, read by GS1's reference generator, gives back every eventID.
    recomputed = hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(document))
    assert recomputed == [e["eventID"] for e in exported]
    assert len({e["eventID"] for e in exported}) == len(exported)


def test_remembered_hashes_are_the_computed_ones(app, lychee):
    """Each worker remembers hashes by the event's content: what it answers from memory is what it would compute."""
    found = [{k: v for k, v in e.items() if k != "eventID"} for e in _batch_events(lychee)]
    assert hashing.event_hashes(found) == hashing._computed_hashes(vocabulary.context(), found)
    changed = [found[0] | {"eventTime": "2020-01-01T00:00:00.000+07:00"}]
    assert hashing.event_hashes(changed) == hashing._computed_hashes(vocabulary.context(), changed) != hashing.event_hashes(found[:1])


def test_equal_events_hash_equal_and_different_ones_differ(app, lychee):
    spraying = next(e for e in _batch_events(lychee) if e.get("ocop:diaryKind") == "spraying")
    bare = {key: value for key, value in spraying.items() if key != "eventID"}
    recorded_later = bare | {"recordTime": "2027-01-01T08:00:00.000+07:00"}  # recordTime is not part of the event
    longer_interval = bare | {"ocop:phiDays": 14}
    other_day = bare | {"eventTime": "2026-05-19T00:00:00.000+07:00"}
    same, later, longer, moved = hashing.event_hashes([bare, recorded_later, longer_interval, other_day])
    assert same == later == spraying["eventID"]
    assert len({same, longer, moved}) == 3


# --- The events query ----------------------------------------------------------------------------------------

def query(client, **params) -> list[dict]:
    response = client.get("/coop/epcis/events", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_valid(response.json)
    return event_list(response.json)


def test_query_filters_by_time_step_and_epc(member_client, lychee):
    everything = query(member_client)
    in_june = query(member_client, GE_eventTime="2026-06-11T00:00:00+07:00", LT_eventTime="2026-06-12T00:00:00+07:00")
    assert sorted(e["ocop:diaryKind"] for e in in_june) == ["inspection", "packing"]
    assert [e["ocop:diaryKind"] for e in query(member_client, EQ_bizStep="https://ref.gs1.org/cbv/BizStep-packing")] == ["packing"]
    steps = {e["bizStep"] for e in query(member_client, EQ_bizStep=f"inspecting|{vocabulary.namespace()}bizstep/spraying")}
    assert steps == {"inspecting", vocabulary.namespace() + "bizstep/spraying"}

    uri = next(iter(stamp_export.export_rows(lychee["batch_run"])))[2]
    for pattern in (uri, uri.lower()):  # printed, then shipped
        assert sorted(e["bizStep"] for e in query(member_client, MATCH_epc=pattern)) == ["commissioning", "shipping"]
    blank_uri = next(iter(stamp_export.export_rows(lychee["blank_run"])))[2]
    # Printed blank, then activated onto the batch: both events name the stamp.
    assert [e["bizStep"] for e in query(member_client, MATCH_epc=blank_uri)] == ["encoding", "commissioning"]
    assert len(query(member_client, MATCH_epc=uri[:-5] + "*")) >= 1
    assert len(everything) > len(in_june)


def test_query_pages_with_a_next_link(member_client, lychee):
    everything = query(member_client)
    response = member_client.get("/coop/epcis/events", query_string={"perPage": 5})
    first = event_list(response.json)
    assert len(first) == 5 and "nextPageToken=5" in response.headers["Link"] and 'rel="next"' in response.headers["Link"]
    collected, link = list(first), response.headers["Link"]
    while link:
        url = link[1:link.index(">")]
        page = member_client.get(url)
        collected += event_list(page.json)
        link = page.headers.get("Link")
    assert [e["eventID"] for e in collected] == [e["eventID"] for e in everything]


@pytest.mark.parametrize("params", [{"GE_eventTime": "yesterday"}, {"LT_eventTime": "2026-06-01T00:00:00"}, {"perPage": "0"}, {"nextPageToken": "x"}])
def test_query_refuses_bad_parameters(member_client, params):
    response = member_client.get("/coop/epcis/events", query_string=params)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["parameter"] == next(iter(params))


# --- One cooperative never sees another's ----------------------------------------------------------------------

def test_another_cooperatives_exports_are_404_and_its_events_never_queried(member_client, lychee, coop_b):
    product_b, batch_b = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-2026-B")
    run_b = minted_run(coop_b, product_b, batch_b, count=2, token="coop-b")
    assert member_client.get(f"/coop/batches/{batch_b.id}/epcis.jsonld").status_code == 404
    assert member_client.get(f"/coop/products/{product_b.id}/epcis.jsonld").status_code == 404
    theirs = {f"{vocabulary.base_url()}/loc/coop/{coop_b.id}"}
    mine = query(member_client)
    assert mine and not [e for e in mine if e["readPoint"]["id"] in theirs]
    b_uri = next(iter(stamp_export.export_rows(run_b)))[2]
    assert query(member_client, MATCH_epc=b_uri) == []
    everything = event_list(download(member_client, "/coop/epcis.jsonld"))
    assert not [e for e in everything if e["readPoint"]["id"] in theirs]


def test_officer_of_another_commune_gets_404(client, lychee):
    accounts.create_user(name="Cán bộ xã khác", login="officer.other@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[PHUC_HOA])
    sign_in(client, "officer.other@xa.vn")
    assert client.get(f"/commune/listings/{lychee['batch'].id}/epcis.jsonld").status_code == 404


# --- The same query for programs, with a personal access token -------------------------------------------------

def test_api_query_with_a_token_answers_the_cooperatives_events(client, lychee, coop_b):
    def bearer(login: str) -> dict:
        user = db.session.scalar(select(User).where(User.login == login))
        return {"Authorization": f"Bearer {api_tokens.create_token(user.id, {'name': 'epcis'}, False).secret}"}

    assert client.get("/api/v1/epcis/events").status_code == 401
    mine = client.get("/api/v1/epcis/events", headers=bearer("a@htx.vn"), query_string={"EQ_bizStep": "shipping"})
    assert mine.status_code == 200 and mine.mimetype == MEDIA_TYPE
    assert_valid(mine.json)
    assert [e["bizStep"] for e in event_list(mine.json)] == ["shipping", "shipping"]
    paged = client.get("/api/v1/epcis/events", headers=bearer("a@htx.vn"), query_string={"perPage": 2})
    assert '/api/v1/epcis/events?perPage=2&nextPageToken=2>; rel="next"' in paged.headers["Link"]
    theirs = client.get("/api/v1/epcis/events", headers=bearer("b@htx.vn"))
    assert theirs.status_code == 200 and event_list(theirs.json) == []
    refused = client.get("/api/v1/epcis/events", headers=bearer("a@htx.vn"), query_string={"GE_eventTime": "June"})
    assert refused.status_code == 400 and refused.json["parameter"] == "GE_eventTime"


# --- The public document of a lot (the resolver's gs1:traceability link) -------------------------------------

PUBLIC_GTIN = "08938501234568"


def _public_document(client, lychee) -> tuple[dict, str]:
    products.update_product(lychee["product"].cooperative_id, lychee["product"].id, {"gtin": PUBLIC_GTIN}, None)
    response = client.get(f"/p/{PUBLIC_GTIN}/lots/{lychee['batch'].lot_code}/epcis.jsonld")
    assert response.status_code == 200 and response.mimetype == MEDIA_TYPE, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True)
    return json.loads(text), text


def test_the_public_lot_document_is_valid_epcis_without_buyers_stamp_codes_or_voids(client, lychee):
    """No sign-in; valid against GS1's schema with format checks. No buyer's name or phone, no stamp's code (so
    nobody can harvest codes to print copies), no void, no supplier's lot, no free-text description."""
    document, text = _public_document(client, lychee)
    assert_valid(document)
    private = [TRADER["buyer_name"], TRADER["buyer_phone"], TRADER["buyer_address"], FERTILISER["supplier_lot"],
               FERTILISER["supplier_address"], "Máy in kẹt giấy", "Tem bị rách", "Lục Ngạn\"", "/party/shipment/"]
    for run in (lychee["batch_run"], lychee["blank_run"], lychee["spoilt_run"]):
        for row in stamp_export.export_rows(run):
            private += [row[1], row[2], row[2].rsplit("/", 1)[1]]  # the code as printed, the URL, the bare code
    assert [words for words in private if words in text] == []
    steps = [event["bizStep"] for event in event_list(document)]
    assert "shipping" not in steps and "decommissioning" not in steps and "epcList" not in text


def test_the_public_lot_document_counts_stamps_and_holds_the_diary_inputs_and_recall(client, lychee):
    document, _text = _public_document(client, lychee)
    found = event_list(document)
    lot_class = vocabulary.batch_class(lychee["batch"])
    assert lot_class.endswith(f"/01/{PUBLIC_GTIN}/10/VT-2026-06-A")
    commissioned = [e for e in found if e["bizStep"] == "commissioning"]
    # The run printed for the lot (3) and the blank stamps activated onto it (2); the run voided whole is left out.
    assert sorted(e["quantityList"][0]["quantity"] for e in commissioned) == [2, 3]
    assert all(e["quantityList"][0]["epcClass"] == lot_class and e["ilmd"]["cbvmda:lotNumber"] == "VT-2026-06-A" for e in commissioned)
    diary = [e for e in found if "ocop:diaryKind" in e]
    assert len(diary) == len(lychee["batch"].events) >= len(DIARY) + 1
    fertilising = next(e for e in diary if e.get("ocop:input") == "NPK 16-16-8")
    assert "ocop:dose" not in fertilising and "ocop:description" not in fertilising
    received = next(e for e in found if e["bizStep"] == "receiving")
    assert (received["ocop:inputName"], received["ocop:supplierName"]) == ("NPK 16-16-8", FERTILISER["supplier_name"])
    assert "ocop:supplierLot" not in received
    recall = next(e for e in found if e.get("disposition") == "recalled")
    assert recall["ocop:reason"] == "Dư lượng thuốc vượt ngưỡng"
    assert all(e["eventID"].startswith("ni:///sha-256;") for e in found)


def test_the_public_lot_document_is_404_for_unknown_lots_and_products_without_that_gtin(client, lychee):
    lot = lychee["batch"].lot_code
    assert client.get(f"/p/{PUBLIC_GTIN}/lots/{lot}/epcis.jsonld").status_code == 404  # the product has no GTIN yet
    products.update_product(lychee["product"].cooperative_id, lychee["product"].id, {"gtin": PUBLIC_GTIN}, None)
    assert client.get(f"/p/{PUBLIC_GTIN}/lots/NOPE-1/epcis.jsonld").status_code == 404
    assert client.get(f"/p/08935049500018/lots/{lot}/epcis.jsonld").status_code == 404
    assert client.get(f"/p/12345/lots/{lot}/epcis.jsonld").status_code == 404
    assert client.get(f"/p/{PUBLIC_GTIN}/lots/{lot.lower()}/epcis.jsonld").status_code == 200  # printed links are upper case
