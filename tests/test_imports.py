"""Importing products, batches and diary entries from XLSX and CSV files: preview, commit, hostile files."""
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.models import AuditEvent, Batch, DiaryEvent, EventKind, Product
from app.services import imports
from app.services.spreadsheets import KINDS, MAX_ROWS
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.factories import product_with_batch

PRODUCT_HEADERS = [c.header for c in KINDS["products"].columns]
BATCH_HEADERS = [c.header for c in KINDS["batches"].columns]
DIARY_HEADERS = [c.header for c in KINDS["diary"].columns]


def xlsx(headers, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(headers, rows) -> str:
    lines = [",".join(headers)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def upload(client, kind: str, data: bytes, filename: str):
    return client.post("/coop/imports/check", data={"csrf_token": csrf_token(client, "/coop/imports"), "kind": kind,
                                              "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def commit_url(page_text: str) -> str:
    match = re.search(r'action="(/coop/imports/[a-z]+/[A-Za-z0-9_-]{32}\.(?:xlsx|csv))"', page_text)
    assert match, page_text[:3000]
    return match.group(1)


def commit(client, preview):
    text = preview.get_data(as_text=True)
    return client.post(commit_url(text), data={"csrf_token": csrf_token(client, "/coop/imports"), "filename": "f"})


def upload_and_commit(client, kind, data, filename):
    preview = upload(client, kind, data, filename)
    assert preview.status_code == 200, preview.get_data(as_text=True)[:3000]
    return commit(client, preview)


def diary_row(lot="VT-2026-06-A", day="18/05/2026", kind="Phun thuốc", description="Phun trừ sâu", phi=7, product="Vải thiều Lục Ngạn"):
    return [product, "", lot, day, kind, description, "Abamectin 3.6EC", "10 ml/bình", phi, "Anh Lâm"]


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def waiting_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "imports"
    return list(folder.glob("*")) if folder.exists() else []


# -- products ------------------------------------------------------------------------------------------

def test_products_import_creates_then_a_second_import_changes_nothing(member_client, db, coop_a, app):
    data = xlsx(PRODUCT_HEADERS, [
        ["Vải thiều Lục Ngạn", "Trái cây", "8936012345674", 4, "125/QĐ-UBND", date(2024, 8, 15), None, "VN-BG-LN-001", 14, "Vải chín cây"],
        ["Mật ong hoa vải", "Mật ong", None, None, None, None, None, None, 365, None],
    ])
    preview = upload(member_client, "products", data, "san-pham.xlsx")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Mới: 2" in text, text
    assert count(db, Product) == 0, "the preview writes nothing"
    assert len(waiting_files(app)) == 1
    done = commit(member_client, preview)
    assert done.status_code == 302
    assert waiting_files(app) == [], "the waiting file goes after the commit"
    lychee = db.session.scalar(select(Product).where(Product.gtin == "08936012345674"))
    assert (lychee.name, lychee.category, lychee.ocop_stars, lychee.ocop_expires_on) == ("Vải thiều Lục Ngạn", "fruit", 4, date(2027, 8, 15))
    assert lychee.cooperative_id == coop_a.id
    again = upload(member_client, "products", data, "san-pham.xlsx")
    assert "0 thay đổi" in again.get_data(as_text=True)
    assert 'action="/coop/imports/products/' not in again.get_data(as_text=True), "nothing to confirm"
    assert count(db, Product) == 2


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_saved(member_client, db):
    data = xlsx(PRODUCT_HEADERS, [
        ["Vải thiều", "Trái cây", "8936012345670", 4, None, None, None, None, None, None],  # wrong check digit, stars without certificate
        [None, None, None, None, None, None, None, None, None, None],  # an empty row is skipped
        ["Cam", "Hoa quả lạ", None, 7, "C-1", "31/02/2026", None, "vùng trồng có dấu", None, None],
        ["Bưởi", "Trái cây", None, None, None, None, None, None, None, None],
    ])
    preview = upload(member_client, "products", data, "san-pham.xlsx")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "Dòng 2, cột «GTIN»" in text
    assert "Dòng 2, cột «Số chứng nhận OCOP»" in text
    assert "Dòng 4, cột «Loại sản phẩm»" in text and "Trái cây" in text
    assert "Dòng 4, cột «Số sao OCOP»" in text
    assert "Dòng 4, cột «Ngày cấp chứng nhận OCOP»" in text and "dd/mm/yyyy" in text
    assert "Dòng 4, cột «Mã vùng trồng»" in text
    assert "Dòng 3" not in text
    assert 'action="/coop/imports/products/' not in text, "no commit button while there are problems"
    assert count(db, Product) == 0


# -- batches -------------------------------------------------------------------------------------------

def test_batches_import_matches_products_by_gtin_or_name_and_checks_the_dates(member_client, db, coop_a):
    product, batch = product_with_batch(coop_a)
    rows = [
        ["Vải thiều Lục Ngạn", None, "VT-2026-06-B", date(2026, 6, 12), "2026-06-13", None, 800, "kg", "Thôn Hồng Xuân", None],
        ["Vải thiều Lục Ngạn", None, "VT-2026-06-C", "14/06/2026", "12/06/2026", None, 5, "kg", None, None],  # packed before harvest
        ["Không có", None, "X-1", None, None, None, None, None, None, None],
        ["Vải thiều Lục Ngạn", None, "VT 06 C", None, None, None, None, None, None, None],
    ]
    preview = upload(member_client, "batches", xlsx(BATCH_HEADERS, rows), "lo.xlsx")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "Dòng 3, cột «Ngày đóng gói»: Ngày đóng gói không được trước ngày thu hoạch." in text
    assert "Dòng 4, cột «Tên sản phẩm»" in text
    assert "Dòng 5, cột «Mã lô»" in text
    good = upload_and_commit(member_client, "batches", xlsx(BATCH_HEADERS, rows[:1]), "lo.xlsx")
    assert good.status_code == 302
    created = db.session.scalar(select(Batch).where(Batch.lot_code == "VT-2026-06-B"))
    assert (created.product_id, created.harvest_date, created.packing_date, created.quantity) == (product.id, date(2026, 6, 12), date(2026, 6, 13), 800)
    assert created.best_before == date(2026, 6, 27), "the best-before is suggested from the shelf life, as the form does"


# -- diary ---------------------------------------------------------------------------------------------

def test_diary_import_is_idempotent_and_records_one_audit_event(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    rows = [diary_row(description=f"Lần {n}", day=f"{n:02d}/05/2026") for n in range(1, 21)]
    rows.append(diary_row(kind="Thu hoạch", description="Hái", phi=3, day=datetime(2026, 6, 10)))
    audit_before = count(db, AuditEvent)
    assert upload_and_commit(member_client, "diary", xlsx(DIARY_HEADERS, rows), "nhat-ky.xlsx").status_code == 302
    events = db.session.scalars(select(DiaryEvent).where(DiaryEvent.batch_id == batch.id)).all()
    assert len(events) == 1 + 21
    harvest = next(e for e in events if e.kind is EventKind.HARVEST)
    assert (harvest.event_date, harvest.phi_days) == (date(2026, 6, 10), None), "a pre-harvest interval is kept for sprays only"
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.id > 0).order_by(AuditEvent.id.desc())).all()[: count(db, AuditEvent) - audit_before]
    assert [e.action for e in trail] == ["import"]
    assert trail[0].after["created"] == 21 and trail[0].cooperative_id == coop_a.id
    again = upload(member_client, "diary", xlsx(DIARY_HEADERS, rows), "nhat-ky.xlsx")
    assert "0 thay đổi" in again.get_data(as_text=True)
    assert "Không đổi: 21" in again.get_data(as_text=True)


def test_another_cooperatives_batch_is_not_found_and_nothing_is_written(client, db, coop_a, coop_b):
    product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")
    product_with_batch(coop_a)
    sign_in(client, "a@htx.vn")
    before = count(db, DiaryEvent)
    rows = [diary_row(), diary_row(product="Mật ong Phồn Nhi", lot="MO-1", description="Ghi trộm")]
    preview = upload(client, "diary", xlsx(DIARY_HEADERS, rows), "nhat-ky.xlsx")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "Dòng 3, cột «Tên sản phẩm»: Hợp tác xã của bạn không có sản phẩm nào tên này." in text
    assert count(db, DiaryEvent) == before


def test_another_cooperative_cannot_commit_a_waiting_file(client, db, coop_a, coop_b, app):
    product_with_batch(coop_a)
    sign_in(client, "a@htx.vn")
    preview = upload(client, "diary", xlsx(DIARY_HEADERS, [diary_row(description="Mới")]), "nhat-ky.xlsx")
    url = commit_url(preview.get_data(as_text=True))
    other = app.test_client()
    sign_in(other, "b@htx.vn")
    answer = other.post(url, data={"csrf_token": csrf_token(other, "/coop/imports")})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/coop/imports")
    assert db.session.scalar(select(func.count()).select_from(DiaryEvent).where(DiaryEvent.description == "Mới")) == 0


def test_the_commit_checks_again_and_applies_all_or_nothing(member_client, db, coop_a):
    product, batch = product_with_batch(coop_a)
    rows = [diary_row(description="Một"), diary_row(description="Hai")]
    preview = upload(member_client, "diary", xlsx(DIARY_HEADERS, rows), "nhat-ky.xlsx")
    assert preview.status_code == 200
    # Between the preview and the commit, the batch is renamed: the file's rows no longer find it.
    batch.lot_code = "VT-KHAC"
    db.session.commit()
    before = count(db, DiaryEvent)
    answer = commit(member_client, preview)
    assert answer.status_code == 422 and "Dòng 2, cột «Mã lô»" in answer.get_data(as_text=True)
    assert count(db, DiaryEvent) == before


def test_a_failure_while_writing_rolls_back_every_row(member_client, db, coop_a, app):
    """A database failure half-way (here a row refused by the database itself) leaves nothing behind."""
    from sqlalchemy import event as sa_event

    _, batch = product_with_batch(coop_a)
    before, audit_before = count(db, DiaryEvent), count(db, AuditEvent)
    data = xlsx(DIARY_HEADERS, [diary_row(description="Một"), diary_row(description="Hai")])

    def fail_on_audit(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
            raise RuntimeError("disk full")  # after the diary rows were inserted in the same transaction

    sa_event.listen(db.engine, "before_cursor_execute", fail_on_audit)
    try:
        with pytest.raises(RuntimeError):
            imports.apply_import(coop_a.id, "diary", data, "nhat-ky.xlsx", None)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", fail_on_audit)
    assert count(db, DiaryEvent) == before and count(db, AuditEvent) == audit_before


def test_a_row_repeated_in_the_file_is_a_problem_not_a_second_record(member_client, db, coop_a):
    product_with_batch(coop_a)
    preview = upload(member_client, "diary", xlsx(DIARY_HEADERS, [diary_row(description="Tưới"), diary_row(description="Tưới")]), "nhat-ky.xlsx")
    assert preview.status_code == 422
    assert "Dòng 3, cột «Mô tả công việc»: Bản ghi này đã có ở dòng 2." in preview.get_data(as_text=True)


def test_an_updated_row_is_in_the_audit_trail_with_before_and_after(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    batch_id = batch.id
    upload_and_commit(member_client, "diary", xlsx(DIARY_HEADERS, [diary_row(description="Phun lần 2")]), "a.xlsx")
    changed = diary_row(description="Phun lần 2")
    changed[7] = "15 ml/bình"
    preview = upload(member_client, "diary", xlsx(DIARY_HEADERS, [changed]), "b.xlsx")
    assert "Cập nhật: 1" in preview.get_data(as_text=True) and "10 ml/bình → 15 ml/bình" in preview.get_data(as_text=True)
    assert commit(member_client, preview).status_code == 302
    event = db.session.scalar(select(DiaryEvent).where(DiaryEvent.batch_id == batch_id, DiaryEvent.description == "Phun lần 2"))
    assert event.dose == "15 ml/bình"
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update", AuditEvent.entity == "diary_event",
                                                        AuditEvent.entity_id == event.id).order_by(AuditEvent.id.desc()).limit(1))
    # (the trail outlives each test's rows, so an older test's entry may share the id: the newest is this one)
    assert (update.before, update.after) == ({"dose": "10 ml/bình"}, {"dose": "15 ml/bình"})


def test_free_text_cells_lose_controls_as_in_the_forms(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    batch_id = batch.id
    body = csv_text(DIARY_HEADERS, [diary_row(description="Bón\u202e phân\x07 hữu cơ")]).encode()  # XLSX cannot hold \x07
    upload_and_commit(member_client, "diary", body, "a.csv")
    descriptions = set(db.session.scalars(select(DiaryEvent.description).where(DiaryEvent.batch_id == batch_id)))
    assert "Bón phân hữu cơ" in descriptions


def test_a_quoted_cell_shows_as_text_on_the_preview(member_client, db, coop_a):
    product_with_batch(coop_a)
    preview = upload(member_client, "diary", xlsx(DIARY_HEADERS, [diary_row(day="<b>x</b>&"), diary_row(product="<i>y</i>")]), "a.xlsx")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "“&lt;b&gt;x&lt;/b&gt;&amp;”" in text and "<b>x</b>" not in text and "<i>y</i>" not in text


def test_a_commit_after_the_file_was_removed_asks_for_it_again(member_client, db, coop_a, app):
    preview = upload(member_client, "products", xlsx(PRODUCT_HEADERS, [["Bưởi", "Trái cây"] + [None] * 8]), "san-pham.xlsx")
    for path in waiting_files(app):
        path.unlink()  # as the clean-up does a day later
    answer = commit(member_client, preview)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/coop/imports")
    assert "Hãy tải lên lại" in member_client.get("/coop/imports").get_data(as_text=True)
    assert count(db, Product) == 0


# -- hostile and malformed files -----------------------------------------------------------------------

def test_wrong_or_missing_columns_are_refused_clearly(member_client, db, coop_a):
    headers = [h for h in DIARY_HEADERS if h != "Ngày"] + ["Ghi chú lạ"]
    preview = upload(member_client, "diary", xlsx(headers, [["x"] * len(headers)]), "nhat-ky.xlsx")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "Thiếu cột: «Ngày»" in text and "Cột không nhận ra: «Ghi chú lạ»" in text
    assert waiting_files(member_client.application) == []


def test_too_many_rows_are_refused_with_the_limit(member_client, db, coop_a):
    body = csv_text(DIARY_HEADERS, [["Vải", "", "A", "01/01/2026", "Trồng", n, "", "", "", ""] for n in range(100_000)]).encode()
    assert len(body) < 8 * 1024 * 1024
    preview = upload(member_client, "diary", body, "nhat-ky.csv")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert f"{MAX_ROWS}" in text.replace(".", "") and "nhiều hơn" in text
    assert count(db, DiaryEvent) == 0


def test_a_zip_bomb_posing_as_xlsx_is_refused_before_it_is_unpacked(member_client, db):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    preview = upload(member_client, "products", out.getvalue(), "bom.xlsx")
    assert preview.status_code == 422 and "nhiều dữ liệu hơn" in preview.get_data(as_text=True)


@pytest.mark.parametrize("payload", [b"PK\x03\x04 not really a zip", "Tên sản phẩm,Loại\nVải,Trái cây\n".encode(), b"\x89PNG\r\n\x1a\n"])
def test_a_file_that_is_not_xlsx_but_named_so_is_refused(member_client, db, payload):
    preview = upload(member_client, "products", payload, "san-pham.xlsx")
    assert preview.status_code == 422 and "không phải tệp Excel" in preview.get_data(as_text=True)


def test_other_file_types_are_refused(member_client, db):
    preview = upload(member_client, "products", b"hello", "san-pham.ods")
    assert preview.status_code == 422 and ".xlsx" in preview.get_data(as_text=True)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "utf-16", "cp1258"])
def test_csv_encodings_are_read_or_refused_clearly(member_client, db, encoding):
    text = csv_text(PRODUCT_HEADERS, [["Bưởi Diễn Nam Dương", "Trái cây", "", "", "", "", "", "", "", "Quả mọng nước"]])
    body = _cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    assert upload_and_commit(member_client, "products", body, "san-pham.csv").status_code == 302
    assert db.session.scalar(select(Product.name)) == "Bưởi Diễn Nam Dương"


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letters with combining tone marks."""
    import unicodedata

    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:  # "ễ" -> "ê" + combining tilde
            letters = unicodedata.normalize("NFD", char)
            tone = next(m for m in letters if m in "\u0300\u0301\u0303\u0309\u0323")
            out += (unicodedata.normalize("NFC", letters.replace(tone, "")) + tone).encode("cp1258")
    return bytes(out)


def test_a_csv_mixing_utf8_and_windows_1258_is_refused(member_client, db):
    good = csv_text(PRODUCT_HEADERS, [["Bưởi", "Trái cây"] + [""] * 8]).encode("utf-8")
    preview = upload(member_client, "products", good + _cp1258("Cam Đường,Trái cây,,,,,,,,\r\n"), "san-pham.csv")
    assert preview.status_code == 422 and "UTF-8" in preview.get_data(as_text=True)
    assert count(db, Product) == 0


def test_excel_formulas_give_their_saved_value_and_merged_cells_read_once(member_client, db, coop_a):
    product_with_batch(coop_a)
    book = Workbook()
    sheet = book.active
    sheet.append(DIARY_HEADERS)
    sheet.append(diary_row(description="Bón thúc"))
    sheet["F2"] = "=HYPERLINK(\"http://evil\",\"x\")"  # openpyxl saves no value with it: read as empty, never run
    sheet.append(diary_row(description="Tưới"))
    sheet.append([None] * len(DIARY_HEADERS))
    sheet.merge_cells("A5:J5")
    sheet["A5"] = "Ghi chú gộp ô"
    out = io.BytesIO()
    book.save(out)
    preview = upload(member_client, "diary", out.getvalue(), "nhat-ky.xlsx")
    text = preview.get_data(as_text=True)
    assert "Dòng 5, cột «Ngày»" in text, "a merged note row is read as one row, its other cells empty"
    assert "Dòng 2" not in text and "Dòng 3" not in text


# Waiting files older than a day are removed by a periodic job: tests/test_periodic.py.


# -- in a browser --------------------------------------------------------------------------------------


def fill_and_upload(page, template, path, date_cell):
    book = load_workbook(template)
    sheet = book.worksheets[0]
    sheet.append(["Vải thiều Lục Ngạn", None, "VT-2026-06-A", date_cell, "Bón phân", "Bón thúc sau thu hoạch", "NPK 16-16-8", "2 kg/gốc", None, "Chị Hoa"])
    sheet.append(["Vải thiều Lục Ngạn", None, "VT-2026-06-A", "02/06/2026", "Tưới nước", "Tưới gốc", None, None, None, "Anh Lâm"])
    book.save(path)
    page.get_by_label("Tệp chứa gì").select_option("diary")
    page.get_by_label("Tệp (.xlsx hoặc .csv)").set_input_files(str(path))
    page.get_by_role("button", name="Kiểm tra tệp").click()


@needs_chromium
@pytest.mark.browser
def test_download_fill_upload_fix_and_commit_a_diary(live_server, page, coop_a, db, tmp_path):
    _, batch = product_with_batch(coop_a)
    batch_id = batch.id
    db.session.commit()  # and no more queries here: SQLite would give this thread the write lock
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.get_by_role("link", name="Nhập và xuất dữ liệu").first.click()
    page.screenshot(path=str(tmp_path / "imports.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("tr", has_text="Nhật ký sản xuất").get_by_role("link", name="Excel (.xlsx)").first.click()
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)

    fill_and_upload(page, template, tmp_path / "sai.xlsx", "31/06/2026")
    page.wait_for_selector("h1:has-text('Kiểm tra trước khi nhập')")
    problems = page.locator(".problems li").all_inner_texts()
    assert problems and problems[0].startswith("Dòng 2, cột «Ngày»: “31/06/2026” không phải là ngày")
    assert page.get_by_role("button", name="Lưu 2 thay đổi").count() == 0
    page.screenshot(path=str(tmp_path / "preview-problem.png"), full_page=True)

    page.get_by_role("link", name="Tải lên tệp đã sửa").click()
    fill_and_upload(page, template, tmp_path / "dung.xlsx", "01/06/2026")
    page.wait_for_selector("text=Mới: 2")
    page.screenshot(path=str(tmp_path / "preview-ok.png"), full_page=True)
    page.get_by_role("button", name="Lưu 2 thay đổi").click()
    page.wait_for_selector("text=Đã nhập: 2 mới, 0 cập nhật, 0 không đổi.")

    page.goto(f"{live_server}/coop/batches/{batch_id}")
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)
    assert page.locator(".event p", has_text="Bón thúc sau thu hoạch").count() == 1
    assert page.locator(".event p", has_text="Tưới gốc").count() == 1

