"""The labels/ library: every QR scans to its own URL, in order; text is intact; nothing leaves its label."""
import io
import re
import shutil
import subprocess
import sys
import zlib

import pypdfium2
import pytest
import zxingcpp

from labels import BUILTIN_SPECS, Label, LabelSpecError, RenderOptions, SheetSpec, render_calibration, render_pdf, validate
from labels.content import compose, serial_text
from labels.fonts import text_width
from labels.geometry import cell_origin, plan
from labels.qr import encode

PRODUCT, COOP = "Mật ong Phồn Nhi", "Hợp tác xã nuôi ong Phồn Nhi"
PT_PER_MM = 72 / 25.4


def code(i: int) -> str:
    return f"{i:05d}ABCDEFGHJKMN"[:16] + "X"


def make_labels(n: int, product: str = PRODUCT, first_serial: int = 1) -> list[Label]:
    return [
        Label(f"HTTPS://TRACE.EXAMPLE.VN/Q/{code(i)}", f"{code(i)[:4]} {code(i)[4:8]} {code(i)[8:12]} {code(i)[12:]}",
              product, COOP, "MO-2026-04", "20/04/2026", "20/04/2028", 3, serial=first_serial + i)
        for i in range(n)
    ]


def render(labels, spec_id="a4-65", **options) -> bytes:
    out = io.BytesIO()
    render_pdf(labels, BUILTIN_SPECS[spec_id], out, RenderOptions(workers=1, **options))
    return out.getvalue()


def decoded_in_reading_order(pdf_bytes: bytes) -> list[str]:
    texts = []
    document = pypdfium2.PdfDocument(pdf_bytes)
    for page in document:
        image = page.render(scale=300 / 72).to_pil()
        found = zxingcpp.read_barcodes(image)
        rows = sorted(found, key=lambda r: (round(r.position.top_left.y / 50), r.position.top_left.x))
        texts += [r.text for r in rows]
    return texts


def test_import_labels_pulls_in_no_flask_or_database():
    probe = "import labels, sys; bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'app'}); print(bad)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("spec_id, count", [("a4-65", 130), ("a4-14", 20), ("a4-40", 45), ("roll-30x20", 3), ("roll-50x30", 3)])
def test_every_qr_decodes_to_its_own_url_in_order(spec_id, count):
    labels = make_labels(count)
    assert decoded_in_reading_order(render(labels, spec_id)) == [label.qr_payload for label in labels]


def test_a_process_pool_gives_the_same_pdf():
    labels = make_labels(300)
    out = io.BytesIO()
    render_pdf(labels, BUILTIN_SPECS["a4-65"], out, RenderOptions(workers=2))
    assert out.getvalue() == render(labels)


def test_vietnamese_text_is_extracted_intact():
    document = pypdfium2.PdfDocument(render(make_labels(3), "a4-21"))
    text = document[0].get_textpage().get_text_range()
    for expected in (PRODUCT, COOP, "Lô MO-2026-04", "Quét mã để truy xuất nguồn gốc", "00000ABC"):
        assert expected in text.replace("\r\n", " ").replace("\n", " ") or expected.replace(" ", "") in text.replace(" ", ""), expected


def test_urls_stay_small_qr_versions():
    assert (encode("HTTPS://TRACE.EXAMPLE.VN/Q/7KQ4M2XD9PTA3HVBF").size - 17) // 4 <= 3


@pytest.mark.parametrize("spec_id", sorted(BUILTIN_SPECS))
@pytest.mark.parametrize("product", ["Vải", "Vải thiều Lục Ngạn loại đặc biệt, quả to đều, vỏ đỏ tươi, cùi dày, hạt nhỏ, thu hái sớm"])
def test_nothing_leaves_its_label(spec_id, product):
    spec = BUILTIN_SPECS[spec_id]
    layout = plan(spec, 29, dpi=spec.printer_dpi)
    assert layout.cell.contains(layout.qr) and layout.cell.contains(layout.text)
    assert layout.module >= 0.3 and (not spec.printer_dpi or layout.module >= 0.4)
    composition = compose(make_labels(1, product, first_serial=100_000)[0], layout)
    assert composition.serial is not None and composition.code
    for line in (*composition.lines, *composition.code, composition.serial):
        width = text_width(line.text, line.font, line.size) / PT_PER_MM
        assert layout.text.x - 1e-6 <= line.x and line.x + width <= layout.text.right + 1e-6, (line.text, spec_id)
        assert layout.text.y - 1e-6 <= line.baseline <= layout.text.top, (line.text, spec_id)
    assert all(layout.cell.contains(box) for box in composition.boxes)
    inks = sorted(composition.boxes, key=lambda box: box.y)
    assert all(lower.top <= upper.y + 1e-6 for lower, upper in zip(inks, inks[1:])), "two lines overlap"
    # the serial is the lowest line, under the code
    assert composition.serial.baseline < min(line.baseline for line in composition.code)
    if composition.stars:
        count, x, y, size = composition.stars
        assert x + count * size * 1.1 <= layout.text.right + 1e-6
    # the text never enters the quiet zone
    assert layout.text.x >= layout.qr.right - 1e-6 or layout.text.top <= layout.qr.y + 1e-6


def _char_boxes_of(page, text: str) -> list[tuple[float, float, float, float]]:
    """Where each occurrence of text is on the page: (left, bottom, right, top) in points."""
    textpage = page.get_textpage()
    searcher = textpage.search(text, match_case=True)
    found = []
    while (hit := searcher.get_next()) is not None:
        index, count = hit
        boxes = [textpage.get_charbox(i) for i in range(index, index + count)]
        found.append((min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)))
    return found


@pytest.mark.parametrize("spec_id", sorted(BUILTIN_SPECS))
def test_every_label_of_every_template_prints_its_serial_inside_its_cell_beside_the_quiet_zone(spec_id):
    spec = BUILTIN_SPECS[spec_id]
    count = spec.per_page + 2 if spec.per_page > 1 else 3  # onto a second page
    labels = make_labels(count, first_serial=99_999)  # the widest serials a run can have, 6 digits
    layout = plan(spec, encode(labels[0].qr_payload).size, dpi=spec.printer_dpi)
    document = pypdfium2.PdfDocument(render(labels, spec_id))
    for number, label in enumerate(labels):
        page = document[number // spec.per_page]
        boxes = _char_boxes_of(page, serial_text(label.serial))
        assert len(boxes) == 1, (serial_text(label.serial), spec_id)
        left, bottom, right, top = (value / PT_PER_MM for value in boxes[0])
        x, y = cell_origin(spec, number % spec.per_page)
        assert x <= left and right <= x + spec.label_width and y <= bottom and top <= y + spec.label_height, spec_id
        qr_right, qr_top = x + layout.qr.right, y + layout.qr.top  # the symbol with its quiet zone
        assert left >= qr_right or top <= y + layout.qr.y or bottom >= qr_top, f"{spec_id}: serial in the quiet zone"
    assert serial_text(100_000) == "Nº 100000" and serial_text(7) == "Nº 000007"


def test_small_labels_keep_the_best_before_date_when_the_serial_takes_a_line():
    layout = plan(BUILTIN_SPECS["a4-65"], 29)
    texts = [line.text for line in compose(make_labels(1)[0], layout).lines]
    assert "HSD 20/04/2028" in texts and not any("NĐG" in text for text in texts)


def test_offsets_move_every_cell():
    spec = BUILTIN_SPECS["a4-24"]
    for index in range(spec.per_page):
        x, y = cell_origin(spec, index)
        moved = cell_origin(spec, index, 1.5, -0.5)
        assert moved == pytest.approx((x + 1.5, y + 0.5))


def test_only_embedded_fonts_black_k_and_no_print_scaling():
    pdf = render(make_labels(10))
    assert b"/PrintScaling /None" in pdf
    assert b"Helvetica" not in pdf
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
        lines = listing.splitlines()[2:]
        assert lines and all(re.search(r"\byes\s+yes\b", line) for line in lines), listing
    content = b"".join(zlib.decompress(m.group(1)) for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S) if _is_flate(m.group(1)))
    assert content.count(b"BI /W 29 /H 29 /IM true") == 10
    assert b" rg" not in content and b" k\n" not in content  # no RGB or CMYK colour at all: gray 0 is K only


def _is_flate(data: bytes) -> bool:
    try:
        zlib.decompress(data)
        return True
    except zlib.error:
        return False


def test_same_input_same_bytes():
    labels = make_labels(70)
    assert render(labels) == render(labels)


def test_modules_smaller_than_three_tenths_of_a_millimetre_are_refused():
    tiny = SheetSpec("tiny", 20, 10, 15, 10)
    with pytest.raises(LabelSpecError, match="smaller than 0.3 mm"):
        render_pdf(make_labels(1), tiny, io.BytesIO())


@pytest.mark.parametrize("spec", [
    SheetSpec("too-many", 210, 297, 100, 50, columns=3, rows=1),
    SheetSpec("negative", 210, 297, -1, 50),
    SheetSpec("overlap", 210, 297, 50, 30, columns=2, rows=1, pitch_x=40),
])
def test_invalid_specs_are_refused(spec):
    with pytest.raises(LabelSpecError):
        validate(spec)


def test_calibration_page_has_a_ruler_and_every_cell():
    out = io.BytesIO()
    render_calibration(BUILTIN_SPECS["a4-65"], out)
    document = pypdfium2.PdfDocument(out.getvalue())
    assert len(document) == 1
    text = document[0].get_textpage().get_text_range()
    assert "65" in text and "100" in text  # the last cell number and a ruler mark


def test_pages_spilled_to_disk_make_a_valid_pdf_that_scans_in_order():
    labels = make_labels(150)
    pdf = render(labels, "a4-40")
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 4
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\s+(\d+)", pdf).group(1))
    assert pdf[xref:xref + 4] == b"xref"  # offsets are right although the file was written piece by piece
    assert decoded_in_reading_order(pdf) == [label.qr_payload for label in labels]


def test_qr_matrix_has_finder_patterns_where_the_standard_puts_them():
    matrix = encode("HTTPS://TRACE.EXAMPLE.VN/Q/7KQ4M2XD9PTA3HVBF")
    size = matrix.size
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        ring = [matrix.is_dark(top, left + i) for i in range(7)] + [matrix.is_dark(top + i, left) for i in range(7)]
        assert all(ring) and not matrix.is_dark(top + 1, left + 1) and matrix.is_dark(top + 3, left + 3)


@pytest.mark.parametrize("spec_id", sorted(BUILTIN_SPECS))
def test_every_built_in_sheet_is_valid_and_a_full_page_scans_at_300_dpi(spec_id):
    spec = validate(BUILTIN_SPECS[spec_id])
    assert spec.source, f"{spec_id}: every built-in sheet cites where its dimensions come from"
    labels = make_labels(spec.per_page)
    assert decoded_in_reading_order(render(labels, spec_id)) == [label.qr_payload for label in labels]


def test_wide_labels_set_their_text_large_and_across_the_width():
    """On a 99.1×38.1 mm label the QR takes the height and the text the rest of the width, at a size read at arm's
    length: measured from the ink boxes of the composition (each as wide as its text)."""
    spec = BUILTIN_SPECS["a4-14"]
    layout = plan(spec, 29)
    composition = compose(make_labels(1)[0], layout)
    used = (max(box.right for box in composition.boxes) - layout.qr.x) / spec.label_width
    assert used >= 0.8, used
    assert layout.qr.height >= spec.label_height - 1.0  # the QR as tall as the label allows
    assert min(line.size for line in composition.lines) >= 8.5 and composition.lines[0].size >= 14
    assert [line.text for line in composition.lines][:2] == [PRODUCT, COOP]  # the whole names, not cut short


@pytest.mark.parametrize("spec_id", ["a4-14", "a5-28", "roll-50x30", "roll-40x30-300dpi"])
def test_vietnamese_abbreviations_and_letters_come_back_out_of_the_pdf(spec_id):
    """NĐG with its Đ (never "NDG"), HSD, Lô, the serial's Nº and a product name with Vietnamese capitals and
    stacked accents, decoded from the PDF's text: every font path (static text, code, serial) keeps them."""
    product = "ĐẶC SẢN Ứng Hòa"
    text = pypdfium2.PdfDocument(render(make_labels(2, product), spec_id))[0].get_textpage().get_text_range()
    flat = " ".join(text.split())
    assert "NDG" not in flat and "Nº 000001" in flat, (spec_id, flat)
    assert "HSD 20/04/2028" in flat, (spec_id, flat)
    if spec_id != "a5-28":  # the narrowest labels keep the best-before date only
        assert "NĐG 20/04/2026" in flat, (spec_id, flat)
    assert product in flat or "ĐẶC SẢN" in flat, (spec_id, flat)


def test_sheet_specs_are_language_neutral_and_refusals_say_why_in_numbers():
    assert not any(hasattr(spec, "name") for spec in BUILTIN_SPECS.values())
    assert BUILTIN_SPECS["a4-14"].summary == "A4: 14 × 99.1×38.1 mm (2×7)"
    with pytest.raises(LabelSpecError) as refused:
        validate(SheetSpec("wide", 210, 297, 50, 30, columns=5, rows=1, margin_left=5))
    assert (refused.value.reason, refused.value.field, refused.value.numbers) == ("too_wide", "columns", {"needed": 255.0, "page": 210})
    with pytest.raises(LabelSpecError) as refused:
        validate(SheetSpec("gap", 210, 297, 50, 30, columns=2, rows=1, pitch_x=45))
    assert (refused.value.reason, refused.value.field) == ("negative_gap", "pitch_x")
