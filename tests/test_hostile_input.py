"""Whatever anyone types shows as text, never as markup.

Hostile text goes into every text field of every form a person can fill, through the real forms of a live
server; then every page of the URL map is opened in Chromium and must show that text as text, with none of
the elements it spells out in the DOM and no dialog. Two fast checks come first: nothing in the code base
bypasses Jinja's escaping, and a rule's message stays text whatever it quotes.
"""
import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import render_template_string, url_for
from flask_babel import lazy_gettext
from markupsafe import escape
from sqlalchemy import select

from app.config import ROOT
from app.forms import ServiceForm, text
from app.models import Batch, BatchInput, Cooperative, DiaryEvent, LabelRun, LabelTemplate, Product, Role, Shipment, User
from app.services import accounts, compliance, minting
from app.services.errors import RuleViolation
from tests.browser import browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import post_form
from tests.factories import minted_run


@dataclass(frozen=True)
class Payload:
    text: str
    found_by: str  # a JavaScript expression: how many elements this text added to the page if it was read as HTML


PAYLOADS = (
    # (a run's own refresh sits in <noscript>, which a browser with scripts on reads as text, not as an element)
    Payload('<meta http-equiv="refresh" content="0;url=/x">', "document.querySelectorAll('meta[http-equiv=refresh i]').length"),
    Payload("<style>body{display:none}</style>", "[...document.querySelectorAll('style')].filter(s => s.textContent.includes('display:none')).length"),
    Payload("<img src=x onerror=alert(1)>", "document.querySelectorAll('img[src=x]').length"),
    Payload('"><svg onload=alert(1)>', "document.querySelectorAll('svg[onload]').length"),
    Payload("</textarea><b>x</b>", "[...document.querySelectorAll('b')].filter(b => b.textContent === 'x').length"),
    Payload("{{7*7}}", "0"),  # never evaluated: the text itself showing is the proof
    Payload("javascript:alert(1)", "document.querySelectorAll('[href^=\"javascript:\" i], [src^=\"javascript:\" i], [action^=\"javascript:\" i]').length"),
)
EVERY_PAYLOAD = " ".join(p.text for p in PAYLOADS)
FOUND_JS = "() => [" + ", ".join(p.found_by for p in PAYLOADS) + "]"


# ---------------------------------------------------------------------------------------------------------
# Fast checks

def _templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*"))


def _python_files() -> list[Path]:
    return sorted((ROOT / "app").rglob("*.py"))


def _lazy_gettext_aliases(tree: ast.Module) -> set[str]:
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "flask_babel"
            for alias in node.names if alias.name == "lazy_gettext"}


def _parameterised_lazy_strings_outside_a_rule(path: Path) -> list[str]:
    """Flask-Babel's lazy_gettext(..., name=value) is markup with the value unescaped in it; a RuleViolation
    turns whatever it is given into text, so that is the one place such a call may stand."""
    tree = ast.parse(path.read_text())
    aliases = _lazy_gettext_aliases(tree)
    inside_a_rule = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "RuleViolation"
                     for arg in node.args}
    return [f"{path.relative_to(ROOT)}:{node.lineno} lazy_gettext with parameters (use app.services.errors.lazy_text)"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in aliases and node.keywords and id(node) not in inside_a_rule]


def test_nothing_in_the_code_base_bypasses_escaping():
    found = []
    for path in _templates():
        if path.is_file():
            source = path.read_text()
            if path.suffix != ".html":
                found.append(f"{path.relative_to(ROOT)}: Flask escapes only .html (and .xml, .svg) templates")
            found += [f"{path.relative_to(ROOT)}: {m.group()}" for m in re.finditer(r"\|\s*safe\b|autoescape\s+false|\{%-?\s*raw|Markup\(", source)]
            found += [f"{path.relative_to(ROOT)}: unquoted attribute {m.group()}" for m in re.finditer(r"\s[\w-]+=\{\{", source)]
    for path in _python_files():
        source = path.read_text()
        found += _parameterised_lazy_strings_outside_a_rule(path)
        found += [f"{path.relative_to(ROOT)}: {word}" for word in ("render_template_string", "autoescape=False", "|safe") if word in source]
        # The one Markup: the scan page's origin part, rendered by a template and cached (app/scan/rendered.py).
        if "Markup(" in source and path != ROOT / "app/scan/rendered.py":
            found.append(f"{path.relative_to(ROOT)}: Markup(")
    assert found == []


class _NameForm(ServiceForm):
    name = text("Name")


MARKUP_PAYLOADS = [p for p in PAYLOADS if str(escape(p.text)) != p.text]


@pytest.mark.parametrize("payload", MARKUP_PAYLOADS, ids=lambda p: p.text)
def test_any_rule_violation_shows_what_it_quotes_as_text(app, payload):
    """A rule's message built with Flask-Babel's lazy_gettext (which claims to be markup) is text once it is a
    RuleViolation: as a field error, above the form, and flashed through the session cookie."""
    refused = RuleViolation("name", lazy_gettext("No single commune matches “%(name)s”.", name=payload.text))
    shown = str(escape(payload.text))
    with app.test_request_context(method="POST", data={}):
        form = _NameForm(meta={"csrf": False})
        form.add_error(refused)
        form.add_error(RuleViolation("nowhere", refused.message))
        page = render_template_string('{% from "macros/forms.html" import field, form_errors %}{{ form_errors(form) }}{{ field(form.name) }}', form=form)
        assert page.count(shown) == 2 and payload.text not in page.replace(shown, "")
        serializer = app.session_interface.get_signing_serializer(app)
        flashed = serializer.loads(serializer.dumps({"_flashes": [("error", refused.message)]}))["_flashes"][0][1]
        assert render_template_string("{{ m }}", m=flashed).count(shown) == 1


def test_an_unknown_commune_is_quoted_as_text(admin_client, db):
    payload = PAYLOADS[2].text
    response = post_form(admin_client, "/admin/users/new", {"name": "Cán bộ", "login": "canbo.moi@xa.vn", "password": "mat-khau-dai-du",
                                                            "role": "officer", "communes": payload})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and payload not in page and str(escape(payload)) in page


# ---------------------------------------------------------------------------------------------------------
# In the browser: every form, then every page

GTIN = "8931234567897"
PASSWORD = "mat-khau-thu-nghiem"
ADMIN = "quantri@ocop.vn"
MEMBER = "thanhvien@htx.vn"
OFFICER = "canbo.hostile@xa.vn"

# Fields whose format is checked (codes, addresses, the commune): the value that replaces a refused payload.
VALID = {
    "commune": "Lục Ngạn", "communes": "Xã Lục Ngạn", "email": "htx@example.vn", "phone": "0912345678",
    "registration_no": "2401999999", "gtin": GTIN, "ocop_certificate_no": "OCOP-1", "growing_area_code": "VN-BGLN-0012",
    "lot_code": "LO-2026-01", "scheme": "VietGAP", "number": "VG-1", "unit": "kg", "dose": "1 l/ha",
    "supplier_lot": "LOT 2405-12", "buyer_phone": "0912345678", "buyer_commune": "Lục Ngạn", "ranges": "",
    "gln": "0614141000005",
}

# Form → the pages that show what it saved (endpoints). Every form's refused page is checked when it is sent.
CO_OP = ("admin.index", "admin.edit_cooperative", "admin.audit_trail", "coop.dashboard", "coop.profile", "commune.index",
         "commune.listing", "commune.audit_trail", "public.scan", "public.gs1_stamp", "public.gs1_product",
         "public.product_page", "public.lot_page")
FORM_PAGES = {
    "admin: banned substances": ("admin.banned_substances", "coop.batch", "commune.listing"),
    "admin: cooperative": CO_OP,
    "admin: accounts": ("admin.index",),
    "cooperative: profile": CO_OP,
    "cooperative: product": ("coop.dashboard", "coop.product", "coop.edit_product", "coop.new_batch", "coop.new_blank_run",
                             "coop.batch", "coop.edit_batch", "coop.new_event", "coop.edit_event", "coop.new_batch_run",
                             "coop.runs", "coop.run", "commune.index", "commune.listing_index", "commune.listing",
                             "public.scan", "public.gs1_stamp", "public.gs1_product", "public.product_page", "public.lot_page",
                             "public.certifications_page"),
    "cooperative: certification": ("coop.product", "commune.listing", "public.scan", "public.gs1_product",
                                   "public.certifications_page"),
    "cooperative: batch": ("coop.batch", "coop.edit_batch", "commune.listing", "coop.audit_trail"),
    "cooperative: diary entry": ("coop.batch", "coop.edit_event", "commune.listing", "public.scan", "public.gs1_stamp",
                                 "public.lot_page"),
    "cooperative: batch input": ("coop.batch", "coop.edit_input"),
    "cooperative: shipment": ("coop.batch", "coop.edit_shipment", "commune.listing"),
    "cooperative: label template": ("coop.label_template_list", "coop.new_batch_run", "coop.new_blank_run"),
    "cooperative: label run (void reason)": ("coop.run",),
    "officer: gate override reason": ("commune.listing", "coop.batch"),
    "officer: reject reason": ("commune.listing", "coop.batch"),
    "officer: recall reason": ("commune.listing", "coop.batch", "public.scan", "public.gs1_stamp"),
    "public: fake report": ("commune.reports",),
    "public: typed code on /check": (),
    "sign-in login": ("admin.audit_trail",),
    "cooperative: API token name": ("api_tokens.index",),
}
SHOWN = {endpoint for pages in FORM_PAGES.values() for endpoint in pages}

# Pages that are not HTML: never rendered by a template.
NOT_PAGES = {
    "static": "files", "public.photo": "JPEG", "api.communes": "JSON", "coop.run_status": "JSON", "coop.run_pdf": "PDF",
    "coop.calibration_pdf": "PDF", "coop.run_csv": "CSV", "admin.audit_csv": "CSV (app/csv_export.py defuses formulas)",
    "commune.audit_csv": "CSV (app/csv_export.py defuses formulas)", "coop.audit_csv": "CSV (app/csv_export.py defuses formulas)",
    **dict.fromkeys(("coop.cooperative_epcis", "coop.product_epcis", "coop.batch_epcis", "coop.epcis_events",
                     "commune.listing_epcis", "epcis.EpcisEvents", "public.lot_epcis"), "GS1 EPCIS JSON-LD"),
    "coop.portal_json": "JSON", "coop.portal_xlsx": "XLSX (safe_cell defuses formulas)",
    "coop.import_template": "XLSX or CSV", "coop.sheet_preview": "PNG", "coop.export_records": "XLSX or CSV (safe_cell defuses formulas)",
}
ROLE_OF_BLUEPRINT = {"public": ("public",), "auth": ("public",), "coop": ("member",), "commune": ("officer",), "admin": ("admin",)}
ROLES = {"auth.account": ("member", "officer", "admin"), "api_tokens.index": ("member",), "api_docs.page": ("public",)}
API = "/api/v1/"  # JSON answers (tests/test_api*.py), but for the pages named in ROLES
TEXT_BOXES = "input[type=text], input:not([type]), input[type=email], input[type=tel], input[type=search], textarea"


@dataclass
class Scenario:
    coop_id: int = 0
    member_id: int = 0
    product_id: int = 0
    batch_id: int = 0
    lot_code: str = ""
    event_id: int = 0
    input_id: int = 0
    shipment_id: int = 0
    template_id: int = 0
    runs: tuple[int, ...] = ()
    code: str = ""

    def url_args(self) -> dict[str, list[dict]]:
        """Each page with parts in its address, with the objects the scenario made."""
        product, batch = {"product_id": self.product_id}, {"batch_id": self.batch_id}
        return {
            "coop.product": [product], "coop.edit_product": [product], "coop.new_batch": [product], "coop.new_blank_run": [product],
            "coop.batch": [batch], "coop.edit_batch": [batch], "coop.new_event": [batch], "coop.new_batch_run": [batch],
            "coop.edit_event": [{**batch, "event_id": self.event_id}], "coop.run": [{"run_id": run} for run in self.runs],
            "coop.new_input": [batch], "coop.edit_input": [{**batch, "input_id": self.input_id}],
            "coop.new_shipment": [batch], "coop.edit_shipment": [{**batch, "shipment_id": self.shipment_id}],
            "commune.listing": [batch], "admin.edit_cooperative": [{"coop_id": self.coop_id}],
            "admin.edit_user": [{"user_id": self.member_id}], "auth.reset_password": [{"token": "not-a-token"}],
            "public.scan": [{"code": self.code}], "public.gs1_product": [{"gtin": GTIN}],
            "public.gs1_stamp": [{"gtin": GTIN, "lot": self.lot_code, "code": self.code}],
            "public.gs1_lot": [{"gtin": GTIN, "lot": self.lot_code}], "public.gs1_serial": [{"gtin": GTIN, "code": self.code}],
            "public.gs1_malformed": [{"elements": "10/ABC"}], "public.product_page": [{"gtin": GTIN}],
            "public.lot_page": [{"gtin": GTIN, "lot": self.lot_code}], "public.certifications_page": [{"gtin": GTIN}],
            "coop.copy_event": [batch], "coop.label_template": [{"template_id": self.template_id}],
            "coop.product_scans": [product], "coop.run_scans": [{"run_id": run} for run in self.runs],
            "commune.product_scans": [product], "commune.run_scans": [{"run_id": run} for run in self.runs],
        }


@dataclass
class Tour:
    """Browser contexts per role, and what went wrong anywhere (reported together at the end)."""
    base: str
    browser: object
    pages: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    turn: int = 0

    def open(self, role: str, login: str | None = None, home: str = "/"):
        context = self.browser.new_context(locale="vi-VN", viewport={"width": 1000, "height": 900})
        context.on("dialog", lambda dialog: self._dialog(role, dialog))
        page = context.new_page()
        page.set_default_timeout(15_000)
        if login:
            sign_in_page(page, self.base, login, PASSWORD, home=home)
        self.pages[role] = page
        return page

    def _dialog(self, role, dialog) -> None:
        if dialog.type != "confirm":  # our own "are you sure?" buttons ask with confirm(); a payload would alert()
            self.problems.append(f"{role}: a {dialog.type} dialog fired: {dialog.message!r}")
        dialog.accept()

    def check(self, page, where: str, shows: bool) -> None:
        """Nothing the payloads spell out is in the DOM; on a page that shows hostile text, each payload is there as text."""
        try:
            found = page.evaluate(FOUND_JS)
            text = page.inner_text("body") + "\n" + "\n".join(page.eval_on_selector_all(TEXT_BOXES, "boxes => boxes.map(b => b.value)"))
        except Exception as error:  # noqa: BLE001 (a refresh that navigated away destroys the page under our feet)
            self.problems.append(f"{where}: the page went away ({error})")
            return
        self.problems += [f"{where}: {p.text!r} became markup" for p, count in zip(PAYLOADS, found) if count]
        if "/x" in page.url:
            self.problems.append(f"{where}: a meta refresh took the browser to {page.url}")
        if shows:
            missing = [p.text for p in PAYLOADS if p.text not in text]
            if missing:
                self.problems.append(f"{where}: not shown as text: {missing}")

    def check_before_going_on(self, page, where: str) -> None:
        """A check in the middle of the story: a page broken by a payload (hidden, navigated away) stops it here."""
        self.check(page, where, shows=True)
        assert self.problems == [], "\n".join(self.problems)

    def payload_for(self, box) -> str:
        room = int(box.get_attribute("maxlength") or 100_000)
        if len(EVERY_PAYLOAD) <= room:
            return EVERY_PAYLOAD
        fitting = [p.text for p in PAYLOADS if len(p.text) <= room]
        self.turn += 1
        return fitting[self.turn % len(fitting)]

    def submit(self, page, form_css: str, values: dict, button: str = "button") -> int:
        """Type a payload into every text field of the form, then `values`; send it; the response's status."""
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # the fake-report form folds away
        form = page.locator(form_css)
        text_names = set()
        for box in form.locator(TEXT_BOXES).all():
            name = box.get_attribute("name")
            text_names.add(name)
            box.fill(values[name] if name in values else self.payload_for(box))
        for name, value in values.items():
            box = form.locator(f"[name='{name}']")
            if box.evaluate("b => b.tagName") == "SELECT":
                box.select_option(value)
            elif name not in text_names:  # dates, numbers, passwords
                box.fill(value)
        with page.expect_navigation() as navigation:
            form.locator(button).first.click()
        return navigation.value.status

    def fill_in(self, page, where: str, form_css: str, values: dict | None = None, button: str = "button") -> None:
        """Send the form with payloads everywhere; while it comes back refused, check the refused page (typed values
        kept, nothing injected), replace each refused field's payload with a valid value, and send it again."""
        values = dict(values or {})
        for _attempt in range(5):
            if self.submit(page, form_css, values, button) < 400:
                return
            self.check_before_going_on(page, f"{where} (refused)")
            refused = [name for name in page.locator(f"{form_css} .has-error [name]").evaluate_all("boxes => boxes.map(b => b.name)")
                       if name not in values]
            assert refused, f"{where}: refused, but no field says why:\n{page.inner_text('main')[:800]}"
            assert all(name in VALID for name in refused), f"{where}: give a valid value for {refused}"
            values.update({name: VALID[name] for name in refused})
        raise AssertionError(f"{where}: still refused with {values}")


def _read(db, read):
    """Read what the server's requests wrote, without keeping the transaction (on SQLite it holds the write lock)."""
    db.session.commit()
    try:
        return read()
    finally:
        db.session.commit()


def _last_id(db, model) -> int:
    return _read(db, lambda: db.session.scalar(select(model.id).order_by(model.id.desc()).limit(1)))


def _id_in_url(page) -> int:
    return int(re.search(r"/(\d+)(?:/edit)?$", page.url).group(1))


def admin_enters(tour: Tour, db, s: Scenario) -> None:
    admin = tour.open("admin", ADMIN, home="/admin/")
    admin.goto(f"{tour.base}/admin/banned-substances")
    seed = admin.locator("textarea[name=substances]").input_value()
    # A line is "name; group": the payload is the group, whole, and (up to its first ";") the name.
    hostile_lines = "\n".join(f"{p.text}; {p.text}" for p in PAYLOADS)
    tour.fill_in(admin, "banned substances", "main form", {"substances": f"{seed}\n{hostile_lines}"})
    admin.goto(f"{tour.base}/admin/cooperatives/new")
    tour.fill_in(admin, "new cooperative", "main form.card")
    s.coop_id = _last_id(db, Cooperative)
    accounts_to_make = {  # the officer's communes first get a payload, refused with the payload quoted
        "member": {"login": MEMBER, "role": "member", "cooperative_id": str(s.coop_id), "communes": ""},
        "officer": {"login": OFFICER, "role": "officer", "cooperative_id": ""},
    }
    for role, values in accounts_to_make.items():
        admin.goto(f"{tour.base}/admin/users/new")
        tour.fill_in(admin, f"new {role} account", "main form.card", {**values, "password": PASSWORD})
    s.member_id = _read(db, lambda: db.session.scalar(select(User.id).where(User.login == MEMBER)))


def cooperative_enters(tour: Tour, db, s: Scenario) -> None:
    coop = tour.open("member", MEMBER, home="/coop/")
    coop.goto(f"{tour.base}/coop/profile")
    tour.fill_in(coop, "cooperative profile", "main form.card")
    for _payload in PAYLOADS:  # a token's name is short: one token a payload, so that the list shows them all
        coop.goto(f"{tour.base}/account/tokens")
        tour.fill_in(coop, "API token name", "form[action$='/account/tokens']")
    coop.goto(f"{tour.base}/coop/products/new")
    tour.fill_in(coop, "new product", "main form.card")
    s.product_id = _id_in_url(coop)
    tour.fill_in(coop, "certification", "form[action$='/certifications']")
    coop.goto(f"{tour.base}/coop/products/{s.product_id}/batches/new")
    tour.fill_in(coop, "new batch", "main form.card", {"harvest_date": "2026-06-10"})
    s.batch_id = _id_in_url(coop)
    s.lot_code = _read(db, lambda: db.session.get(Batch, s.batch_id).lot_code)
    coop.goto(f"{tour.base}/coop/batches/{s.batch_id}/events/new")
    # Sprayed five days before the harvest with a 30-day interval, and naming banned "substances": the gate fails.
    tour.fill_in(coop, "diary entry", "main form.card", {"event_date": "2026-06-05", "kind": "spraying", "phi_days": "30"})
    s.event_id = _last_id(db, DiaryEvent)
    coop.goto(f"{tour.base}/coop/batches/{s.batch_id}/inputs/new")
    tour.fill_in(coop, "batch input", "main form.card", {"kind": "pesticide", "quantity": "2"})
    s.input_id = _last_id(db, BatchInput)
    coop.goto(f"{tour.base}/coop/batches/{s.batch_id}/shipments/new")
    tour.fill_in(coop, "shipment", "main form.card", {"buyer_kind": "trader", "shipped_on": "2026-06-12", "quantity": "10"})
    s.shipment_id = _last_id(db, Shipment)
    for _payload in PAYLOADS:  # a sheet's name is short: one sheet a payload; the list and the run forms name them all
        coop.goto(f"{tour.base}/coop/label-templates/new")
        tour.fill_in(coop, "label template", "main form.card", {
            "columns": "2", "rows": "7", "label_width": "99,1", "label_height": "38,1", "margin_left": "4,65",
            "margin_top": "15,15", "gap_x": "2,5", "gap_y": "0", "corner_radius": "2", "page_width": "", "page_height": ""})
    s.template_id = _last_id(db, LabelTemplate)

    coop.goto(f"{tour.base}/coop/batches/{s.batch_id}/runs/new")
    assert tour.submit(coop, "main form.card", {"count": "5"}) == 422
    tour.check_before_going_on(coop, "print refused by the gate")
    s.runs = _read(db, lambda: tuple(
        minted_run(db.session.get(Cooperative, s.coop_id), db.session.get(Product, s.product_id), None, count=5, token=f"hostile-{n}").id
        for n in range(2)))
    coop.goto(f"{tour.base}/coop/runs/{s.runs[0]}")
    assert tour.submit(coop, "form[action$='/range']", {"first": "1", "last": "3", "batch_id": str(s.batch_id)}, "button[value=activate]") == 422
    tour.check_before_going_on(coop, "activation refused by the gate")


def officer_lets_it_through(tour: Tour, s: Scenario) -> None:
    officer = tour.open("officer", OFFICER, home="/commune/")
    for action in ("override", "reject"):
        officer.goto(f"{tour.base}/commune/listings/{s.batch_id}")
        tour.fill_in(officer, f"{action} reason", f"form[action$='/{action}']")


def cooperative_prints(tour: Tour, db, s: Scenario) -> None:
    coop = tour.pages["member"]
    coop.goto(f"{tour.base}/coop/runs/{s.runs[0]}")
    assert tour.submit(coop, "form[action$='/range']", {"first": "1", "last": "3", "batch_id": str(s.batch_id)}, "button[value=activate]") == 200
    coop.goto(f"{tour.base}/coop/runs/{s.runs[1]}")
    tour.fill_in(coop, "void reason", "form[action$='/void']")
    s.code = _read(db, lambda: minting.derive_codes(db.session.get(LabelRun, s.runs[0]))[0])


def the_public_writes(tour: Tour, s: Scenario) -> None:
    phone = tour.open("public")
    phone.goto(f"{tour.base}/Q/{s.code}")
    tour.fill_in(phone, "fake report", "form[action$='/report']", {"code": s.code})
    phone.goto(f"{tour.base}/Q/{s.code}")
    assert tour.submit(phone, "form[action$='/report']", {"message": ""}) == 422
    tour.check_before_going_on(phone, "fake report (refused)")
    phone.goto(f"{tour.base}/check")
    assert tour.submit(phone, "main form", {}) >= 400  # not a stamp's code
    tour.check_before_going_on(phone, "typed code on /check")
    phone.goto(f"{tour.base}/sign-in")
    assert tour.submit(phone, "main form", {"password": "not-the-password"}) == 422
    tour.check_before_going_on(phone, "sign-in (refused)")


def officer_recalls(tour: Tour, s: Scenario) -> None:
    officer = tour.pages["officer"]
    officer.goto(f"{tour.base}/commune/listings/{s.batch_id}")
    tour.fill_in(officer, "recall reason", "form[action$='/recall']")


def every_page(app) -> list[tuple[str, tuple[str, ...]]]:
    """Each HTML page of the URL map (GET) with the roles that see it."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.endpoint in {e for e, _ in found}:
            continue
        if rule.rule.startswith(API) and rule.endpoint not in ROLES:
            continue
        blueprint = rule.endpoint.partition(".")[0]
        found.append((rule.endpoint, ROLES.get(rule.endpoint) or ROLE_OF_BLUEPRINT.get(blueprint, ())))
    return found


def visit_every_page(tour: Tour, app, s: Scenario) -> None:
    args = s.url_args()
    for endpoint, roles in every_page(app):
        rule = next(app.url_map.iter_rules(endpoint))
        if not roles or (rule.arguments and endpoint not in args):
            tour.problems.append(f"{endpoint}: a page this test does not know: add it to ROLE_OF_BLUEPRINT/ROLES or Scenario.url_args")
            continue
        for values in args.get(endpoint, [{}]):
            with app.test_request_context():
                path = url_for(endpoint, **values)
            for role in roles:
                page = tour.pages[role]
                page.goto(tour.base + path)
                tour.check(page, f"{endpoint} ({role}) {path}", shows=endpoint in SHOWN)
                tour.visited.add(endpoint)


@pytest.fixture
def seed_banned_list(db):
    """The banned list is reference data kept between tests: put the seed list back."""
    seed = [f"{b.name}; {b.group}" for b in compliance.banned_list()]
    yield
    compliance.replace_banned_list(seed)


@needs_chromium
@pytest.mark.browser
def test_hostile_text_shows_as_text_on_every_page(live_server, browser, app, db, seed_banned_list):
    accounts.create_user(name="Quản trị", login=ADMIN, password=PASSWORD, role=Role.ADMIN)
    db.session.commit()
    tour, s = Tour(live_server, browser), Scenario()
    admin_enters(tour, db, s)
    cooperative_enters(tour, db, s)
    officer_lets_it_through(tour, s)
    cooperative_prints(tour, db, s)
    the_public_writes(tour, s)
    officer_recalls(tour, s)
    visit_every_page(tour, app, s)
    officer = tour.pages["officer"]
    officer.goto(f"{live_server}/commune/")  # the scans chart names the product, then its count, in an SVG attribute
    label = officer.locator("figure.chart svg").first.get_attribute("aria-label")
    assert label.startswith(EVERY_PAYLOAD + " · ") and label.endswith(" lượt quét trong 30 ngày"), label
    assert tour.problems == [], "\n".join(tour.problems)
    assert SHOWN <= tour.visited, f"pages of FORM_PAGES never opened: {SHOWN - tour.visited}"
