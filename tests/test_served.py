"""The application as it runs: gunicorn with the shipped gunicorn.conf.py, the demo data in a real SQLite file,
and every route of the URL map requested by an anonymous visitor and by each signed-in role, downloads included.

Nothing may answer 5xx, every HTML page speaks Vietnamese unless asked otherwise, and every response that may
show a signed-in person's data is no-store. A route added to the application without a value for its arguments
here fails `test_every_route_is_requested_or_skipped_with_a_reason`, so none can be forgotten.
"""
import csv
import io
import json
import re
from dataclasses import dataclass

import pypdfium2
import pytest

from app import create_app
from app.config import TestingConfig
from app.security import PRIVATE_BLUEPRINTS
from app.services import codes
from app.services.audit import CSV_HEADER
from app.services.demo import DEMO_PASSWORD, DEMO_STAMPS, LUC_NGAN
from tests.served import Answer, ServedApp, Visitor, start_gunicorn

pytestmark = pytest.mark.served

LOGINS = {"member": "lan@hongxuan.vn", "officer": "canbo.lucngan@ocop.vn", "admin": "admin@ocop.vn"}
ROLES = ("anonymous", *LOGINS)
# Who each blueprint's pages are for (else anonymous): that role must get 200 from every GET route of it.
OWNER = {"coop": "member", "commune": "officer", "admin": "admin", "products": "member", "batches": "member", "epcis": "member", "runs": "member", "listings": "officer", "shipments": "member", "scans": "member", "photos": "member"}
OWNER_OF_ENDPOINT = {"auth.account": "member", "api_tokens.index": "member"}  # any signed-in person's own account page
# Query strings a route needs to answer 200 to its owner.
QUERIES = {"api.communes": "?q=Luc"}
# GET routes that are deliberately not requested, with the reason. (Empty: all are.)
SKIPPED: dict[str, str] = {}
# GET routes whose right answer to their owner is not 200 (the GS1 resolver redirects to a level's default
# link; a path under /01/ that is no Digital Link is a 400), and routes that answer data, not a page.
EXPECTED_STATUS = {"public.gs1_product": 307, "public.gs1_lot": 307, "public.gs1_malformed": 400}
NOT_PAGES = frozenset({"public.photo", "public.resolver_description", "public.lot_epcis", "public.service_worker", "public.manifest"})
# Routes that do not answer GET are requested all the same: they must say 405, never 5xx.
ADD_PHOTO = """
import io
from PIL import Image
from sqlalchemy import select
from app import create_app
from app.extensions import db
from app.models import Batch, DiaryEvent, Product, User
from app.services import batches, products
app = create_app()
with app.app_context():
    member = db.session.scalar(select(User).where(User.login == "lan@hongxuan.vn"))
    product = db.session.scalar(select(Product).where(Product.cooperative_id == member.cooperative_id, Product.gtin.is_not(None)))
    jpeg = io.BytesIO()
    Image.new("RGB", (800, 600), (190, 30, 50)).save(jpeg, "JPEG")
    jpeg.seek(0)
    products.update_product(product.cooperative_id, product.id, {}, member.id, photo=jpeg)
    # The first diary entry of each of its batches gets a photo too (the API's diary photo route reads it).
    for batch in db.session.scalars(select(Batch).where(Batch.product_id == product.id)):
        event = db.session.scalar(select(DiaryEvent).where(DiaryEvent.batch_id == batch.id).order_by(DiaryEvent.id))
        jpeg.seek(0)
        batches.update_event(product.cooperative_id, batch.id, event.id, {}, member.id, photo=jpeg)
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start_gunicorn(tmp_path_factory.mktemp("served"))
    try:
        server.run_python(ADD_PHOTO)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def url_map(tmp_path_factory):
    """The routes of the application (built here only for its URL map; the served one is in gunicorn)."""
    class Config(TestingConfig):
        INSTANCE_PATH = str(tmp_path_factory.mktemp("url-map"))
        UPLOAD_FOLDER = str(tmp_path_factory.mktemp("url-map-uploads"))

    return create_app(Config).url_map


@dataclass(frozen=True)
class Demo:
    """Real rows of the demo database, the member's cooperative (lychee) and the officer's commune."""
    arguments: dict  # a value for each URL argument name
    run_id: int
    stamp_codes: list[str]


@pytest.fixture(scope="module")
def demo(served: ServedApp, visitors) -> Demo:
    (coop_id,) = served.query("SELECT cooperative_id FROM users WHERE login = ?", LOGINS["member"])[0]
    # The lychee: the product with a GTIN, whose batch has the demo's printed run.
    run_id, batch_id, lot, product_id, gtin = served.query(
        "SELECT r.id, b.id, b.lot_code, p.id, p.gtin FROM label_runs r JOIN batches b ON b.id = r.batch_id"
        " JOIN products p ON p.id = b.product_id WHERE p.cooperative_id = ? AND p.gtin IS NOT NULL", coop_id)[0]
    (event_id,) = served.query("SELECT id FROM diary_events WHERE batch_id = ? ORDER BY id", batch_id)[0]
    (input_id,) = served.query("SELECT id FROM batch_inputs WHERE batch_id = ? ORDER BY id", batch_id)[0]
    (shipment_id,) = served.query("SELECT id FROM shipments WHERE batch_id = ? ORDER BY id", batch_id)[0]
    (cert_id,) = served.query("SELECT id FROM certifications WHERE product_id = ?", product_id)[0]
    photo_id, photo = served.query("SELECT id, image FROM product_photos WHERE product_id = ?", product_id)[0]
    (user_id,) = served.query("SELECT id FROM users WHERE login = ?", LOGINS["member"])[0]
    (session_id,) = served.query("SELECT id FROM user_sessions WHERE user_id = ?", user_id)[0]
    # A one-time password link, made by the administrator for an account nobody here uses.
    (other_id,) = served.query("SELECT id FROM users WHERE login = 'buoi@namduong.vn'")[0]
    link_page = visitors["admin"].post_form(f"/admin/users/{other_id}/reset-link", {}, token_from=f"/admin/users/{other_id}/edit")
    token = re.search(r"/reset/([A-Za-z0-9_-]+)", link_page.text).group(1)
    visitors["member"].post_form("/account/tokens", {"name": "Máy đóng gói", "access": "read"}, token_from="/account/tokens")
    (token_id,) = served.query("SELECT id FROM api_tokens")[0]
    key = (served.instance / "stamp_key").read_text().strip().encode()
    stamp_codes = [codes.derive_code(key, run_id, serial) for serial in range(1, DEMO_STAMPS + 1)]
    # A buyer's report of a fake, so that both inboxes show one; the demo's verification left a notice.
    visitors["anonymous"].request("POST", "/report", {"code": stamp_codes[0], "message": "Tem bị bóc ra dán lại"})
    (report_id,) = served.query("SELECT id FROM fake_reports ORDER BY id")[0]
    (notice_id,) = served.query("SELECT id FROM notices WHERE cooperative_id = ? ORDER BY id", coop_id)[0]
    (trade_name_id,) = served.query("SELECT min(id) FROM banned_trade_names")[0]
    # The member's own label sheet, so that its page and its preview are requested too.
    visitors["member"].post_form("/coop/label-templates/new", {
        "name": "Decal 40 tem", "page_size": "a4", "columns": "4", "rows": "10", "label_width": "45,7", "label_height": "25,4",
        "margin_left": "10", "margin_top": "22", "gap_x": "2,8", "gap_y": "0", "corner_radius": "1,5"},
        token_from="/coop/label-templates/new")
    (template_id,) = served.query("SELECT id FROM label_templates WHERE cooperative_id = ?", coop_id)[0]
    arguments = {
        "product_id": product_id, "batch_id": batch_id, "event_id": event_id, "run_id": run_id, "cert_id": cert_id,
        "input_id": input_id, "shipment_id": shipment_id, "notice_id": notice_id, "report_id": report_id,
        "photo_id": photo_id, "user_id": user_id, "code": stamp_codes[0], "gtin": gtin, "lot": lot, "name": photo,
        "filename": "app.css", "asset": "swagger-ui.css", "coop_id": coop_id, "session_id": session_id, "token": token, "token_id": token_id,
        "elements": f"{gtin}/99/1",  # an AI no resolver path allows
        "kind": "diary", "file_format": "xlsx", "suffix": "xlsx",  # spreadsheet templates, exports and imports
        "trade_name_id": trade_name_id,
        "template_id": template_id, "sheet": f"custom-{template_id}",  # a label sheet of the member's cooperative
    }
    return Demo(arguments, run_id, stamp_codes)


@pytest.fixture(scope="module")
def visitors(served: ServedApp) -> dict[str, Visitor]:
    signed_in = {"anonymous": served.visitor()}
    for role, login in LOGINS.items():
        signed_in[role] = served.visitor()
        signed_in[role].sign_in(login, DEMO_PASSWORD)
    return signed_in


@dataclass(frozen=True)
class Route:
    endpoint: str
    path: str
    answers_get: bool

    @property
    def blueprint(self) -> str:
        return self.endpoint.split(".")[0] if "." in self.endpoint else ""


def routes(url_map, demo: Demo) -> list[Route]:
    found = []
    for rule in url_map.iter_rules():
        missing = rule.arguments - demo.arguments.keys()
        assert not missing, f"{rule.rule} ({rule.endpoint}): give {sorted(missing)} a real value in Demo.arguments"
        path = rule.build({name: demo.arguments[name] for name in rule.arguments}, append_unknown=False)[1]
        found.append(Route(rule.endpoint, path + QUERIES.get(rule.endpoint, ""), "GET" in rule.methods))
    return found


def html_lang(answer: Answer) -> str | None:
    match = re.search(r'<html lang="([^"]+)"', answer.text)
    return match.group(1) if match else None


def _problems(route: Route, role: str, answer: Answer) -> list[str]:
    said = f"{role} GET {route.path} → {answer.status}"
    problems = []
    if answer.status >= 500:
        problems.append(said)
    if not route.answers_get and answer.status != 405:
        problems.append(f"{said}, not 405")
    owner = OWNER_OF_ENDPOINT.get(route.endpoint) or OWNER.get(route.blueprint, "anonymous")
    expected = EXPECTED_STATUS.get(route.endpoint, 200)
    if route.answers_get and owner == role and answer.status != expected:
        problems.append(f"{said}, not {expected} for the role the page is for")
    if answer.content_type == "text/html" and not 300 <= answer.status < 400 and html_lang(answer) != "vi":
        problems.append(f"{said}: html lang {html_lang(answer)!r}, not 'vi'")
    shared_file = route.endpoint in ("static", "public.photo", "api_docs.asset", "public.service_worker", "public.manifest") and answer.status == 200
    # A 405 is answered by the routing, before any blueprint: to a visitor it shows nothing of anybody's.
    private = (route.blueprint in PRIVATE_BLUEPRINTS and answer.status != 405) or role != "anonymous"
    if private and not shared_file:
        if answer.headers.get("Cache-Control") != "no-store":
            problems.append(f"{said}: Cache-Control {answer.headers.get('Cache-Control')!r}, not no-store")
    return problems


def test_every_route_answers_every_role_without_a_server_error(served, url_map, demo, visitors):
    problems = []
    for route in routes(url_map, demo):
        if route.endpoint in SKIPPED:
            continue
        for role in ROLES:
            problems += _problems(route, role, visitors[role].get(route.path))
    assert not problems, "\n".join(problems)
    assert '" 500 ' not in served.access_log and '" 200 ' in served.access_log


def test_every_route_is_requested_or_skipped_with_a_reason(url_map, demo):
    """`routes` fails for a route whose arguments have no value; a skip needs a reason and a route that exists."""
    endpoints = {route.endpoint for route in routes(url_map, demo)}
    assert len(endpoints) >= 40
    for endpoint, reason in SKIPPED.items():
        assert endpoint in endpoints and reason.strip()


@pytest.mark.parametrize("asking", [{"query": "?lang=en"}, {"headers": {"Accept-Language": "en-US,en;q=0.9"}}])
def test_public_pages_answer_in_the_language_asked_for(served, url_map, demo, asking):
    pages = [r for r in routes(url_map, demo) if r.blueprint == "public" and r.answers_get and r.endpoint not in NOT_PAGES | EXPECTED_STATUS.keys()]
    assert len(pages) >= 5
    for route in pages:
        separator = "&" if "?" in route.path else "?"
        path = route.path + (separator + asking["query"][1:] if "query" in asking else "")
        answer = served.visitor().get(path, headers=asking.get("headers"))
        assert answer.status == 200 and html_lang(answer) == "en", (path, answer.status, html_lang(answer))


def test_a_plain_scan_through_gunicorn_twice(served, demo):
    """The first scan of a listing renders its page in the view; the next plain scan comes from the fast path."""
    for code in demo.stamp_codes[1:3]:
        answer = served.visitor().get(f"/Q/{code}", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile"})
        assert answer.status == 200 and html_lang(answer) == "vi"
        assert codes.group(code) in answer.text
        assert answer.headers["Cache-Control"] == "no-store"


def test_the_run_pdf_downloads_as_rendered(served, demo, visitors):
    answer = visitors["member"].get(f"/coop/runs/{demo.run_id}/labels.pdf")
    assert answer.status == 200 and answer.content_type == "application/pdf"
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert answer.body == (served.instance / "runs" / f"run-{demo.run_id}.pdf").read_bytes()
    assert len(pypdfium2.PdfDocument(answer.body)) >= 1
    calibration = visitors["member"].get("/coop/printing/calibration.pdf")
    assert calibration.status == 200 and calibration.body.startswith(b"%PDF")


def test_the_stamps_csv_lists_every_code(served, demo, visitors):
    answer = visitors["member"].get(f"/coop/runs/{demo.run_id}/stamps.csv")
    assert answer.status == 200 and answer.content_type == "text/csv"
    assert answer.headers.get_content_disposition() == "attachment"
    assert answer.headers.get_filename() == f"tem-{demo.run_id}.csv"
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(row["code"], row["url"]) for row in rows] == [(code, f"{served.base}/Q/{code}".upper()) for code in demo.stamp_codes]
    assert visitors["officer"].get(f"/coop/runs/{demo.run_id}/stamps.csv").status in (403, 404)


def test_the_audit_csvs_hold_the_whole_trail_each_reader_may_see(served, visitors):
    admin_rows = list(csv.DictReader(io.StringIO(visitors["admin"].get("/admin/audit.csv").text), fieldnames=CSV_HEADER))
    assert list(admin_rows[0].values()) == CSV_HEADER
    assert {int(row["id"]) for row in admin_rows[1:]} == {id_ for (id_,) in served.query("SELECT id FROM audit_events")}
    officer_answer = visitors["officer"].get("/commune/audit.csv")
    assert officer_answer.status == 200 and officer_answer.content_type == "text/csv"
    officer_rows = list(csv.DictReader(io.StringIO(officer_answer.text)))
    in_commune = served.query("SELECT id FROM audit_events WHERE commune_code = ?", LUC_NGAN)
    assert officer_rows and {int(row["id"]) for row in officer_rows} == {id_ for (id_,) in in_commune}
    assert visitors["member"].get("/admin/audit.csv").status in (403, 404)


def test_the_run_status_answers_json(visitors, demo):
    answer = visitors["member"].get(f"/coop/runs/{demo.run_id}/status")
    assert answer.status == 200 and answer.content_type == "application/json"
    assert '"status":"done"' in answer.text.replace(" ", "")


def test_the_epcis_files_download_valid_through_the_server(served, demo, visitors):
    """The batch's GS1 EPCIS file, for its cooperative and its commune's officer alike: valid against GS1's schema,
    its stamps named by the URIs printed on the demo's sheet."""
    from tests.test_epcis import schema_errors

    batch_id = demo.arguments["batch_id"]
    for role, path in (("member", f"/coop/batches/{batch_id}/epcis.jsonld"), ("officer", f"/commune/listings/{batch_id}/epcis.jsonld")):
        answer = visitors[role].get(path)
        assert answer.status == 200 and answer.content_type == "application/ld+json"
        assert answer.headers.get_content_disposition() == "attachment" and answer.headers["Cache-Control"] == "no-store"
        document = json.loads(answer.text)
        assert schema_errors(document) == []
        epcs = {epc for event in document["epcisBody"]["eventList"] for epc in event.get("epcList", ())}
        assert {f"{served.base}/Q/{code}".upper() for code in demo.stamp_codes} <= epcs
    query = visitors["member"].get("/coop/epcis/events?EQ_bizStep=commissioning")
    assert query.status == 200 and schema_errors(json.loads(query.text)) == [] and query.headers["Cache-Control"] == "no-store"
    assert visitors["anonymous"].get("/coop/epcis/events").status != 200
