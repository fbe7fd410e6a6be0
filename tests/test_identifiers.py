"""Identifiers users type are checked on every path (form, service, `flask` command) against control
characters and their own format; free text loses control characters; downloads named after a lot never fail."""
import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Callable
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update

from app.models import Batch, Certification, Cooperative, Product, User
from app.services import batches, cooperatives, products, run_processing
from app.services.errors import RuleViolation
from tests.conftest import LUC_NGAN, post_form
from tests.factories import minted_run, product_with_batch

CRLF, NUL, TAB = "\r\n", "\x00", "\t"


@dataclass(frozen=True)
class Code:
    """One kind of identifier: a valid value, the Vietnamese message that says what is allowed, its
    longest length, and a value with Vietnamese letters where they are not allowed (None: they are)."""

    field: str
    valid: str
    message: str
    too_long: str
    with_vietnamese: str | None

    def bad_values(self) -> dict[str, str]:
        head, tail = self.valid[:2], self.valid[2:]
        values = {"CR/LF": head + CRLF + tail, "NUL": head + NUL + tail, "TAB": head + TAB + tail, "too long": self.too_long}
        if self.with_vietnamese:
            values["Vietnamese letters"] = self.with_vietnamese
        return values


LOT = Code("lot_code", "VT-2026-06-B", "Mã lô có tối đa 20 ký tự", "VT-2026-06-B-00000001", "LÔ-2026-06")
REGISTRATION = Code("registration_no", "2401000777", "Mã số đăng ký có tối đa 20 ký tự", "2401000777-001-000001", "ĐK-2401000777")
GROWING_AREA = Code("growing_area_code", "VN-BGLN-0012", "Mã số vùng trồng có tối đa 40 ký tự", "VN-BGLN-" + "0" * 33, "VN-BẮCGIANG-0012")
GTIN = Code("gtin", "8938501234568", "Mã GTIN có 8, 12, 13 hoặc 14 chữ số.", "0" * 21, "893850123456đ")
OCOP_CERTIFICATE = Code("ocop_certificate_no", "OCOP-BG-2024-0187", "Số giấy chứng nhận có tối đa 60 ký tự", "OCOP-BG-" + "1" * 53, None)
CERTIFICATE = Code("number", "VietGAP-TT-23-12-24-0035", "Số giấy chứng nhận có tối đa 60 ký tự", "VietGAP " + "2" * 53, None)
PHONE = Code("phone", "0912 345 678", "Số điện thoại có tối đa 20 ký tự", "0912 345 678 999 8888", "0912 345 678 (anh Tư)")
LOGIN = Code("login", "lan@hongxuan.vn", "Nhập địa chỉ e-mail (không dấu, không có dấu cách)", "n" * 248 + "@htx.vn", "lân@hồngxuân.vn")


def cases(*codes: Code, skip: dict[str, set[str]] | None = None):
    """(code, what, value) for every bad value of every code, minus those the old forms already refused."""
    skip = skip or {}
    return [
        pytest.param(code, value, id=f"{code.field}-{what}")
        for code in codes for what, value in code.bad_values().items() if what not in skip.get(code.field, set())
    ]


def count(db, model) -> int:
    value = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return value


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)


# --- through the services: the path a future JSON API will take -------------------------------------

def create_with(code: Code, coop, product) -> Callable[[str], object]:
    """The service call that saves a value of this identifier."""
    return {
        "lot_code": lambda v: batches.create_batch(coop.id, product.id, {"lot_code": v, "packing_date": date(2026, 6, 20)}, None),
        "registration_no": lambda v: cooperatives.create_cooperative({"name": "HTX mới", "registration_no": v, "commune_code": LUC_NGAN}, None),
        "growing_area_code": lambda v: products.create_product(coop.id, {"name": "Vải", "category": "fruit", "growing_area_code": v}, None),
        "gtin": lambda v: products.create_product(coop.id, {"name": "Vải", "category": "fruit", "gtin": v}, None),
        "ocop_certificate_no": lambda v: products.create_product(coop.id, {"name": "Vải", "category": "fruit", "ocop_stars": 4, "ocop_certificate_no": v}, None),
        "number": lambda v: products.add_certification(coop.id, product.id, {"scheme": "VietGAP", "number": v}, None),
        "phone": lambda v: cooperatives.update_cooperative(coop.id, {"name": coop.name, "registration_no": coop.registration_no, "commune_code": LUC_NGAN, "phone": v}, None),
    }[code.field]


SERVICE_CODES = (LOT, REGISTRATION, GROWING_AREA, GTIN, OCOP_CERTIFICATE, CERTIFICATE, PHONE)


@pytest.mark.parametrize("code, value", cases(*SERVICE_CODES))
def test_a_bad_identifier_is_refused_by_the_service(db, coop_a, lychee, code, value):
    product, _batch = lychee
    rows = {model: count(db, model) for model in (Batch, Cooperative, Product, Certification)}
    with pytest.raises(RuleViolation) as refused:
        create_with(code, coop_a, product)(value)
    db.session.rollback()
    assert refused.value.field == code.field
    assert code.message in str(refused.value.message)
    assert {model: count(db, model) for model in rows} == rows
    assert db.session.get(Cooperative, coop_a.id).phone == ""


STORED_IN = {"lot_code": Batch, "registration_no": Cooperative, "phone": Cooperative, "number": Certification}


@pytest.mark.parametrize("code", SERVICE_CODES, ids=lambda c: c.field)
def test_a_valid_identifier_is_saved_trimmed_and_in_nfc(db, coop_a, lychee, code):
    """Typed with surrounding spaces, and decomposed accents (NFD) where letters with accents are allowed."""
    product, _batch = lychee
    typed = " " + unicodedata.normalize("NFD", code.valid + ("/QĐ-Số" if code.with_vietnamese is None else "")) + TAB
    create_with(code, coop_a, product)(typed)
    model = STORED_IN.get(code.field, Product)
    stored = db.session.scalar(select(getattr(model, code.field)).order_by(model.id.desc()).limit(1))
    expected = unicodedata.normalize("NFC", typed.strip())
    assert stored == ("0" + expected if code is GTIN else expected)  # a GTIN is stored as GTIN-14


def test_an_update_is_checked_too(db, coop_a, lychee):
    product, batch = lychee
    with pytest.raises(RuleViolation):
        batches.update_batch(coop_a.id, batch.id, {"lot_code": "VT" + CRLF + "X"}, None)
    db.session.rollback()
    with pytest.raises(RuleViolation):
        products.update_product(coop_a.id, product.id, {"name": product.name, "gtin": "8938501" + NUL}, None)
    db.session.rollback()
    assert db.session.get(Batch, batch.id).lot_code == "VT-2026-06-A"


# --- through the forms: 422, the message next to the field, what was typed kept ---------------------

PRODUCT = {"name": "Cam lòng vàng", "category": "fruit", "gtin": "", "ocop_stars": "", "ocop_certificate_no": ""}
BATCH = {"lot_code": "CAM-01", "harvest_date": "2026-11-10", "packing_date": "2026-11-11", "quantity": "2500", "unit": "thùng"}
PROFILE = {"name": "HTX Vải thiều Lục Ngạn", "registration_no": "2401000001", "commune": "Xã Lục Ngạn, Bắc Ninh", "phone": "", "representative": "Nguyễn Văn Tư"}


def form_post(code: Code, client, product_id: int, value: str):
    """The page and form that take this identifier, and a field typed alongside it that must be kept."""
    if code.field == "lot_code":
        return post_form(client, f"/coop/products/{product_id}/batches/new", {**BATCH, "lot_code": value}), 'value="thùng"'
    if code.field in ("registration_no", "phone"):
        return post_form(client, "/coop/profile", {**PROFILE, code.field: value}), 'value="Nguyễn Văn Tư"'
    if code.field == "number":
        return post_form(client, f"/coop/products/{product_id}/certifications", {"scheme": "GlobalGAP", "number": value}), 'value="GlobalGAP"'
    typed = {**PRODUCT, code.field: value, **({"ocop_stars": "4"} if code.field == "ocop_certificate_no" else {})}
    return post_form(client, "/coop/products/new", typed), 'value="Cam lòng vàng"'


# A GTIN with NUL, letters or too many digits was already refused by the form, with the same message.
FORM_CASES = cases(LOT, REGISTRATION, GROWING_AREA, GTIN, OCOP_CERTIFICATE, CERTIFICATE, PHONE,
                   skip={"gtin": {"NUL", "too long", "Vietnamese letters"}})


@pytest.mark.parametrize("code, value", FORM_CASES)
def test_a_bad_identifier_is_refused_by_the_form(member_client, db, coop_a, lychee, code, value):
    product, _batch = lychee
    rows = {model: count(db, model) for model in (Batch, Product, Certification)}
    response, kept = form_post(code, member_client, product.id, value)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    field = page[page.index(f'name="{code.field}"'):]
    assert code.message in field[: field.index("</div>")]  # next to its field
    assert kept in page
    assert {model: count(db, model) for model in rows} == rows
    db.session.expire_all()
    assert db.session.get(Cooperative, coop_a.id).registration_no == "2401000001"


def test_the_form_shows_every_bad_identifier_at_once(member_client, db):
    typed = {**PRODUCT, "gtin": "893850123456" + CRLF + "8", "growing_area_code": "VN" + TAB + "1", "ocop_stars": "4", "ocop_certificate_no": "X" + NUL}
    page = post_form(member_client, "/coop/products/new", typed).get_data(as_text=True)
    for code in (GTIN, GROWING_AREA, OCOP_CERTIFICATE):
        assert code.message in page


@pytest.mark.parametrize("value", LOGIN.bad_values().values(), ids=LOGIN.bad_values().keys())
def test_a_bad_login_is_refused_by_the_account_form(admin_client, db, value):
    before = count(db, User)
    response = post_form(admin_client, "/admin/users/new", {"name": "Trần Thị Hoa", "login": value, "password": "mat-khau-rat-dai", "role": "admin"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert LOGIN.message in page and 'value="Trần Thị Hoa"' in page
    assert count(db, User) == before


# --- through the command line ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [*LOGIN.bad_values().values(), "0912" + CRLF + "345678"],
                         ids=[*LOGIN.bad_values().keys(), "phone with CR/LF"])
def test_a_bad_login_is_refused_by_the_users_command(app, db, value):
    before = count(db, User)
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--name", "Trần Thị Hoa", "--login", value, "--password", "mat-khau-rat-dai", "--role", "admin",
    ])
    assert result.exit_code != 0
    assert f"login: {LOGIN.message}" in result.output
    assert count(db, User) == before


def test_the_users_command_cleans_the_name(app, db):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--name", "Trần Thị" + CRLF + "Hoa" + NUL, "--login", " 0912 345 678 ", "--password", "mat-khau-rat-dai", "--role", "admin",
    ])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.login == "0912345678"))
    assert user.name == "Trần Thị Hoa"


# --- free text: control characters go, line breaks stay where the text is multi-line -----------------

def test_free_text_loses_control_characters_and_keeps_line_breaks_where_multi_line(db, coop_a):
    product = products.create_product(coop_a.id, {
        "name": "Vải thiều\x1b[31m" + CRLF + "Lục Ngạn" + NUL,
        "category": "fruit",
        "description": "Dòng một\r\nDòng hai\rDòng ba" + TAB + "(cuối)\x07\u202e",
    }, None)
    batch = batches.create_batch(coop_a.id, product.id, {"lot_code": "VT-1", "unit": "k" + NUL + "g", "notes": "Ghi chú" + CRLF + "tiếp" + "\x0b"}, None)
    db.session.expire_all()
    product, batch = db.session.get(Product, product.id), db.session.get(Batch, batch.id)
    assert product.name == "Vải thiều[31m Lục Ngạn"
    assert product.description == "Dòng một\nDòng hai\nDòng ba (cuối)"
    assert (batch.unit, batch.notes) == ("kg", "Ghi chú\ntiếp")


def test_free_text_too_long_for_its_column_is_refused_by_the_service(db, coop_a):
    with pytest.raises(RuleViolation) as refused:
        products.create_product(coop_a.id, {"name": "V" * 201, "category": "fruit"}, None)
    db.session.rollback()
    assert refused.value.field == "name" and "tối đa 200 ký tự" in str(refused.value.message)
    assert count(db, Product) == 0


# --- downloads named after a lot ---------------------------------------------------------------------

def test_runs_download_their_pdf_and_csv_whatever_the_lot_code(member_client, db, coop_a):
    """An unusual but valid lot code, and one saved before codes were checked (a line break, accents and
    a colon, written straight into the database as old data would be), both give a PDF and a CSV."""
    product = products.create_product(coop_a.id, {"name": "Vải thiều", "category": "fruit", "gtin": "8938501234568"}, None)
    for token, lot, safe in (("unusual", "x.Y_z-0", "x.Y_z-0"), ("old", "LÔ 7\r\nX-Evil: 1", "LÔ_7_X-Evil_1")):
        batch = batches.create_batch(coop_a.id, product.id, {"lot_code": token, "packing_date": date(2026, 6, 11)}, None)
        db.session.execute(update(Batch).where(Batch.id == batch.id).values(lot_code=lot))
        db.session.commit()
        run = minted_run(coop_a, product, batch, count=3, token=token)
        run_processing.process(run.id)
        pdf = member_client.get(f"/coop/runs/{run.id}/labels.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        disposition = pdf.headers["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        name = f"tem-{safe}-{run.id}.pdf"  # non-ASCII names travel in RFC 5987's filename*
        assert (f"filename={name}" if name.isascii() else f"filename*=UTF-8''{quote(name)}") in disposition
        rows = list(csv.reader(io.StringIO(member_client.get(f"/coop/runs/{run.id}/stamps.csv").get_data(as_text=True))))
        assert len(rows) == 4 and rows[0][:3] == ["sequence", "code", "url"]
