"""Templates and exports: the template's columns, instructions and lists; export → edit → import changes
exactly what was edited; cells that would run as formulas stay text."""
import codecs
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.models import Batch, DiaryEvent, EventKind, Product
from app.services import batches
from app.services.spreadsheets import KINDS
from tests.factories import product_with_batch
from tests.test_imports import commit, upload


def workbook(response):
    assert response.status_code == 200, response.status_code
    return load_workbook(io.BytesIO(response.data))


@pytest.mark.parametrize("kind", ["products", "batches", "diary"])
def test_the_xlsx_template_has_vietnamese_headers_instructions_and_lists(member_client, kind):
    book = workbook(member_client.get(f"/coop/imports/templates/{kind}.xlsx"))
    data = book.worksheets[0]
    assert [c.value for c in data[1]] == [c.header for c in KINDS[kind].columns]
    assert data.max_row == 1, "no example row among the data: it would be imported"
    instructions = book["Hướng dẫn"]
    text = "\n".join(str(v) for row in instructions.iter_rows(values_only=True) for v in row if v)
    assert "dd/mm/yyyy" in text and "20.000" in text and "Ví dụ một dòng" in text
    for column in KINDS[kind].columns:
        assert column.header in text and column.meaning in text
    if kind == "diary":
        assert "Phun thuốc" in text and "Bón phân" in text
        lists = [v.sqref for v in data.data_validations.dataValidation]
        assert any("E2" in str(ref) for ref in lists), "the kind of work is picked from a list"
    if kind == "products":
        assert "Trái cây" in text and "Mật ong" in text


@pytest.mark.parametrize("kind", ["products", "batches", "diary"])
def test_the_csv_template_is_utf8_with_a_bom_and_the_same_headers(member_client, kind):
    answer = member_client.get(f"/coop/imports/templates/{kind}.csv")
    assert answer.status_code == 200 and answer.data.startswith(codecs.BOM_UTF8)
    header = next(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert header == [c.header for c in KINDS[kind].columns]


def test_unknown_kinds_and_formats_are_not_found(member_client):
    assert member_client.get("/coop/imports/templates/stamps.xlsx").status_code == 404
    assert member_client.get("/coop/exports/diary.ods").status_code == 404


def test_exports_hold_only_the_cooperatives_own_rows(client, db, coop_a, coop_b):
    from tests.conftest import sign_in

    product_with_batch(coop_a)
    product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")
    sign_in(client, "b@htx.vn")
    rows = list(workbook(client.get("/coop/exports/diary.xlsx")).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [r[:3] for r in rows] == [("Mật ong Phồn Nhi", None, "MO-1")]


def test_formula_looking_cells_stay_text_in_both_formats(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 5, 20), "kind": "other", "description": "=HYPERLINK(\"http://x\",\"bấm\")", "done_by": "+84 912"}, None)
    sheet = workbook(member_client.get("/coop/exports/diary.xlsx")).worksheets[0]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert "'=HYPERLINK(\"http://x\",\"bấm\")" in [c.value for c in cells]
    text = member_client.get("/coop/exports/diary.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+84 912" in text


def _edit_and_import(client, kind: str, file_format: str, edit):
    exported = client.get(f"/coop/exports/{kind}.{file_format}").data
    if file_format == "xlsx":
        book = load_workbook(io.BytesIO(exported))
        edit(book.worksheets[0])
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
    else:
        rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
        edit(rows)
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        data = codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
    page = upload(client, kind, data, f"{kind}.{file_format}")
    assert page.status_code == 200, page.get_data(as_text=True)[-3000:]
    return page


def _snapshot(db):
    db.session.expire_all()
    return {
        "products": [(p.name, p.category, p.gtin, p.ocop_stars, p.ocop_issued_on, p.shelf_life_days, p.description) for p in db.session.scalars(select(Product).order_by(Product.id))],
        "batches": [(b.lot_code, b.harvest_date, b.packing_date, b.best_before, b.quantity, b.unit, b.notes) for b in db.session.scalars(select(Batch).order_by(Batch.id))],
        "diary": [(e.event_date, e.kind, e.description, e.input_used, e.dose, e.phi_days, e.done_by, e.quantity) for e in db.session.scalars(select(DiaryEvent).order_by(DiaryEvent.id))],
    }


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
@pytest.mark.parametrize("kind", ["products", "batches", "diary"])
def test_an_unedited_export_imports_as_zero_changes(member_client, db, coop_a, kind, file_format):
    _, batch = product_with_batch(coop_a)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 5, 20), "kind": "other", "description": "- dòng một\n- dòng hai"}, None)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 6, 10), "kind": "harvest", "quantity": "1250.5"}, None)
    page = _edit_and_import(member_client, kind, file_format, lambda sheet: None)
    assert "0 thay đổi" in page.get_data(as_text=True)


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_edit_one_cell_import_changes_exactly_that(member_client, db, coop_a, file_format):
    _, batch = product_with_batch(coop_a)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 5, 25), "kind": "fertilising", "description": "Bón thúc", "dose": "2 kg/gốc"}, None)
    before = _snapshot(db)
    dose_column = [c.key for c in KINDS["diary"].columns].index("dose")

    def edit(sheet):
        if file_format == "xlsx":
            row = next(r for r in sheet.iter_rows(min_row=2) if r[5].value == "Bón thúc")
            row[dose_column].value = "3 kg/gốc"
        else:
            row = next(r for r in sheet[1:] if r[5] == "Bón thúc")
            row[dose_column] = "3 kg/gốc"

    page = _edit_and_import(member_client, "diary", file_format, edit)
    assert "Cập nhật: 1" in page.get_data(as_text=True) and "Mới: 0" in page.get_data(as_text=True)
    assert commit(member_client, page).status_code == 302
    after = _snapshot(db)
    changed = [(b, a) for b, a in zip(before["diary"], after["diary"]) if b != a]
    assert changed == [(before["diary"][1], before["diary"][1][:4] + ("3 kg/gốc",) + before["diary"][1][5:])]
    assert before["products"] == after["products"] and before["batches"] == after["batches"]


def test_a_harvests_quantity_goes_out_and_comes_back_in(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 6, 10), "kind": "harvest", "quantity": "1250.5"}, None)
    before = _snapshot(db)
    quantity = [c.key for c in KINDS["diary"].columns].index("quantity")
    harvest = next(i for i, e in enumerate(before["diary"]) if e[1] == EventKind.HARVEST and e[-1] is not None)

    def edit(sheet):
        row = next(r for r in sheet.iter_rows(min_row=2) if r[quantity].value not in (None, ""))
        assert float(row[quantity].value) == 1250.5  # exported as the number it is
        row[quantity].value = "1300,25"

    page = _edit_and_import(member_client, "diary", "xlsx", edit)
    assert "Cập nhật: 1" in page.get_data(as_text=True)
    assert commit(member_client, page).status_code == 302
    after = _snapshot(db)
    assert after["diary"][harvest][-1] == Decimal("1300.25")
    assert [e for i, e in enumerate(after["diary"]) if i != harvest] == [e for i, e in enumerate(before["diary"]) if i != harvest]


def test_export_edit_a_batch_date_import_changes_exactly_that(member_client, db, coop_a):
    product_with_batch(coop_a)
    before = _snapshot(db)
    best_before = [c.key for c in KINDS["batches"].columns].index("best_before")

    def edit(sheet):
        sheet.cell(2, best_before + 1).value = "30/06/2026"

    page = _edit_and_import(member_client, "batches", "xlsx", edit)
    assert commit(member_client, page).status_code == 302
    after = _snapshot(db)
    assert after["batches"] == [before["batches"][0][:3] + (date(2026, 6, 30),) + before["batches"][0][4:]]
    assert before["products"] == after["products"] and before["diary"] == after["diary"]


def test_the_data_sheet_is_found_by_its_name_even_when_moved(member_client, db, coop_a):
    book = workbook(member_client.get("/coop/imports/templates/products.xlsx"))
    book["Sản phẩm"].append(["Bưởi Diễn", "Trái cây"])
    book.move_sheet("Sản phẩm", offset=2)  # behind the instructions, as a user may drag it
    assert book.worksheets[0].title != "Sản phẩm"
    out = io.BytesIO()
    book.save(out)
    preview = upload(member_client, "products", out.getvalue(), "san-pham.xlsx")
    assert preview.status_code == 200 and "Mới: 1" in preview.get_data(as_text=True)
