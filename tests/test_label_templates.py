"""Label sheets as cooperatives buy them: their own templates in millimetres (checked, previewed, kept per
cooperative), runs printed with them, names in the user's language, and the short name printed on labels."""
import io
import re

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from app.extensions import db as _db
from app.models import LabelRun, LabelTemplate
from app.services import cooperatives, label_runs, label_templates, minting, run_rendering
from tests.browser import browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, post_form
from tests.factories import product_with_batch

VALID = {"name": "Decal 40 tem", "page_size": "a4", "columns": "4", "rows": "10", "label_width": "45,7",
         "label_height": "25,4", "margin_left": "10", "margin_top": "22", "gap_x": "2,8", "gap_y": "0",
         "corner_radius": "1,5"}


def _template_count() -> int:
    return _db.session.query(LabelTemplate).count()


def _decoded(pdf: bytes) -> list[str]:
    found = []
    for page in pypdfium2.PdfDocument(pdf):
        found += [r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())]
    return found


def _text(pdf: bytes) -> str:
    return " ".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf))


def _print(coop, template: str, count: int = 3, token: str = "tok") -> LabelRun:
    product, batch = product_with_batch(coop)
    run, _ = label_runs.create_run(coop.id, product_id=product.id, batch_id=batch.id, count=count, template=template,
                                   options={}, request_token=token, actor_id=None)
    minting.mint(run.id)
    run_rendering.render(run.id)
    return run


def test_a_custom_template_is_saved_and_a_run_printed_with_it_scans(member_client, coop_a):
    response = post_form(member_client, "/coop/label-templates/new", VALID)
    assert response.status_code == 302
    template = _db.session.query(LabelTemplate).one()
    assert (template.cooperative_id, template.label_width, template.gap_x, template.page_width) == (coop_a.id, 45.7, 2.8, 210.0)
    run = _print(coop_a, f"custom-{template.id}", count=5)
    pdf = run_rendering.pdf_bytes(run.id)
    assert len(_decoded(pdf)) == 5 and all("/Q/" in url for url in _decoded(pdf))
    assert "custom-%d" % template.id in member_client.get(f"/coop/batches/{run.batch_id}/runs/new").get_data(as_text=True)


def test_a_run_keeps_the_sheet_it_was_printed_with_when_the_template_changes(member_client, coop_a):
    post_form(member_client, "/coop/label-templates/new", VALID)
    template = _db.session.query(LabelTemplate).one()
    run = _print(coop_a, f"custom-{template.id}")
    first = run_rendering.pdf_bytes(run.id)
    assert post_form(member_client, f"/coop/label-templates/{template.id}", {**VALID, "label_width": "40"}).status_code == 302
    assert _db.session.get(LabelTemplate, template.id).label_width == 40.0
    run_rendering.render(run.id)
    assert run_rendering.pdf_bytes(run.id) == first
    assert _db.session.get(LabelRun, run.id).sheet["label_width"] == 45.7


@pytest.mark.parametrize("change, field, message", [
    ({"columns": "5"}, "columns", "Các tem không vừa chiều ngang trang giấy: cần 249,7 mm, trang chỉ rộng 210 mm."),
    ({"gap_y": "-1"}, "gap_y", "Khoảng cách không được là số âm"),
    ({"columns": "20", "rows": "40", "label_width": "5", "label_height": "5"}, "rows", "Tối đa 200 tem trên một trang."),
    ({"label_width": "12", "label_height": "8", "columns": "10", "rows": "20", "gap_x": "1"}, "label_height", "quá nhỏ để in mã QR"),
    ({"margin_left": "-2"}, "margin_left", "Lề không được là số âm."),
])
def test_a_template_that_cannot_print_is_refused_next_to_its_field_and_nothing_is_saved(member_client, coop_a, change, field, message):
    response = post_form(member_client, "/coop/label-templates/new", {**VALID, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    block = re.search(rf'<div class="field has-error[^"]*">\s*<label for="{field}".*?</div>', page, re.S)
    assert block and message in block.group(0), page[page.find("has-error") - 200:][:1500]
    assert f'value="{change.get(field, VALID.get(field))}"' in block.group(0)  # what was typed stays
    assert _template_count() == 0


def test_the_preview_is_a_png_of_the_page(member_client, coop_a):
    post_form(member_client, "/coop/label-templates/new", {**VALID, "page_size": "a5", "columns": "2", "rows": "5"})
    template = _db.session.query(LabelTemplate).one()
    response = member_client.get(f"/coop/sheets/custom-{template.id}/preview.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    width, height = Image.open(io.BytesIO(response.data)).size
    assert height / width == pytest.approx(210 / 148, rel=0.01)
    built_in = member_client.get("/coop/sheets/a4-14/preview.png")
    image = Image.open(io.BytesIO(built_in.data))
    assert image.size[1] / image.size[0] == pytest.approx(297 / 210, rel=0.01)
    assert len(zxingcpp.read_barcodes(image)) >= 1  # the sample labels carry real QR codes


def test_another_cooperatives_template_is_not_found(client, member_client, coop_a, coop_b):
    b_template = label_templates.save_template(coop_b.id, {**VALID, "columns": 4, "rows": 10, "label_width": 45.7,
                                                           "label_height": 25.4, "gap_x": 2.8, "corner_radius": 1.5}, None)
    assert member_client.get(f"/coop/label-templates/{b_template.id}").status_code == 404
    assert post_form(member_client, f"/coop/label-templates/{b_template.id}", VALID).status_code == 404
    assert member_client.get(f"/coop/sheets/custom-{b_template.id}/preview.png").status_code == 404
    assert b_template.name not in member_client.get("/coop/label-templates").get_data(as_text=True)
    product, batch = product_with_batch(coop_a)
    with pytest.raises(label_runs.RuleViolation):
        label_runs.create_run(coop_a.id, product_id=product.id, batch_id=batch.id, count=1,
                              template=f"custom-{b_template.id}", options={}, request_token="x", actor_id=None)
    assert _db.session.get(LabelTemplate, b_template.id).label_width == 45.7


def test_the_short_name_is_printed_on_roll_labels_instead_of_the_long_name_cut_short(db, coop_a):
    long_name = "Hợp tác xã nuôi ong Phồn Nhi và dịch vụ nông nghiệp"
    cooperatives.update_cooperative(coop_a.id, {"name": long_name, "registration_no": coop_a.registration_no,
                                                "commune_code": coop_a.commune_code}, None)
    before = _text(run_rendering.pdf_bytes(_print(coop_a, "roll-40x30", token="a").id))
    assert "HTX Phồn Nhi" not in before and "…" in before  # the long name, cut short
    cooperatives.update_cooperative(coop_a.id, {"name": long_name, "registration_no": coop_a.registration_no,
                                                "commune_code": coop_a.commune_code, "label_name": "HTX Phồn Nhi"}, None)
    after = _text(run_rendering.pdf_bytes(_print(coop_a, "roll-40x30", token="b").id))
    assert after.count("HTX Phồn Nhi") == 3 and "Hợp tác xã nuôi" not in after


def test_the_short_name_is_set_on_the_profile_and_refused_when_longer_than_30(member_client, coop_a):
    values = {"name": coop_a.name, "registration_no": coop_a.registration_no, "commune": "Lục Ngạn, Bắc Ninh"}
    too_long = post_form(member_client, "/coop/profile", {**values, "label_name": "H" * 31})
    assert too_long.status_code == 422 and "tối đa 30" in too_long.get_data(as_text=True).lower()
    assert post_form(member_client, "/coop/profile", {**values, "label_name": "HTX Vải Lục Ngạn"}).status_code == 302
    assert cooperatives.get_cooperative(coop_a.id).label_name == "HTX Vải Lục Ngạn"


def test_packing_and_best_before_abbreviations_keep_their_d_with_stroke(db, coop_a):
    for template in ("a4-14", "roll-50x30-300dpi"):
        text = _text(run_rendering.pdf_bytes(_print(coop_a, template, token=template).id))
        assert "NĐG 11/06/2026" in text and "NDG" not in text, template


def test_the_english_run_form_names_sheets_in_english(member_client, coop_a):
    product, batch = product_with_batch(coop_a)
    vietnamese = member_client.get(f"/coop/batches/{batch.id}/runs/new").get_data(as_text=True)
    assert "A4, 14 tem 99,1×38,1 mm (2×7)" in vietnamese and "Cuộn 50×30 mm (máy in nhiệt 300 dpi)" in vietnamese
    post_form(member_client, "/language", {"lang": "en", "next": "/coop/"})
    english = member_client.get(f"/coop/batches/{batch.id}/runs/new").get_data(as_text=True)
    options = " ".join(re.findall(r"<option[^>]*>([^<]*)</option>", english))
    assert "A4, 14 labels 99.1×38.1 mm (2×7)" in options and "Roll 50×30 mm (thermal printer, 300 dpi)" in options
    assert not re.search(r"tem|Cuộn|máy in|[ăâđêôơưĐ]", options), options


@pytest.mark.browser
@needs_chromium
def test_a_phone_defines_a_sheet_sees_the_refusal_by_the_field_then_the_preview(live_server, browser, coop_a):
    context = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 760})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/label-templates/new")
    for label, value in (("Tên (ví dụ hãng và số hiệu tờ decal)", "Decal 40 tem"), ("Số cột (tem theo chiều ngang)", "5"),
                         ("Số hàng (tem theo chiều dọc)", "10"), ("Chiều rộng tem (mm)", "45,7"), ("Chiều cao tem (mm)", "25,4"),
                         ("Lề trái (mm)", "10"), ("Lề trên (mm)", "22"), ("Khoảng cách giữa các cột (mm)", "2,8")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Lưu và xem trước").click()
    columns = page.locator(".field.has-error", has=page.get_by_label("Số cột (tem theo chiều ngang)", exact=True))
    assert "không vừa chiều ngang" in columns.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_label("Số cột (tem theo chiều ngang)", exact=True).fill("4")
    page.get_by_role("button", name="Lưu và xem trước").click()
    preview = page.locator(".sheet-preview img")
    preview.wait_for()
    for _ in range(100):  # the preview is rendered on request: wait until the image has loaded
        if preview.evaluate("image => image.complete && image.naturalWidth > 0"):
            break
        page.wait_for_timeout(200)
    box = preview.bounding_box()
    assert box["width"] <= 360 and box["height"] / box["width"] == pytest.approx(297 / 210, rel=0.02)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_show_preview_on_the_run_form_shows_the_chosen_sheet_and_prints_nothing(member_client, coop_a):
    product, batch = product_with_batch(coop_a)
    path = f"/coop/batches/{batch.id}/runs/new"
    assert 'src="/coop/sheets/a4-65/preview.png"' in member_client.get(path).get_data(as_text=True)
    response = post_form(member_client, path, {"count": "", "template": "a5-28", "action": "preview", "request_token": "t"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'src="/coop/sheets/a5-28/preview.png"' in page
    assert re.search(r'<option selected value="a5-28">|<option value="a5-28" selected>', page)
    assert _db.session.query(LabelRun).count() == 0
