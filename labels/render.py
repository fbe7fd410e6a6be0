"""render_pdf(): label records and a sheet spec in, a printable PDF out, streaming in batches."""
import itertools
import tempfile
import time
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator


from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from labels import drawing, geometry, streaming
from labels.content import (CODE_ALPHABET, Composition, Label, LabelTexts, Line, compose, normalise, serial_digits,
                            serial_parts, serial_shape, serial_text, split_code)
from labels.fonts import register_fonts
from labels.qr import Encoder, QRMatrix, encode
from labels.specs import SheetSpec, validate

# Binary streams: ReportLab's default ASCII85 wrapping makes every label a quarter larger, for nothing.
rl_config.useA85 = 0

BATCH = 2_000  # labels encoded while the previous batch is drawn


@dataclass(frozen=True)
class RenderOptions:
    ecc: str = "M"
    offset_x_mm: float = 0.0  # positive moves the print right
    offset_y_mm: float = 0.0  # positive moves the print down
    crop_marks: bool = False
    outlines: bool = False
    qr_size_mm: float | None = None  # the symbol without its quiet zone; None: as large as fits
    printer_dpi: int | None = None  # None: the spec's own (thermal rolls)
    texts: LabelTexts = LabelTexts()
    workers: int | None = None  # QR encoding processes; None: one per core
    title: str = "Tem truy xuất nguồn gốc"


@dataclass(frozen=True)
class RenderStats:
    labels: int
    pages: int
    seconds: float
    qr_version: int | None


class _Sheet:
    """The canvas, the current page and the forms already defined."""

    def __init__(self, out: BinaryIO, spec: SheetSpec, options: RenderOptions):
        regular, _bold = register_fonts()
        self.spec, self.options = spec, options
        self.canvas = Canvas(
            out, pagesize=(drawing.pt(spec.page_width), drawing.pt(spec.page_height)), invariant=1,
            pageCompression=1, initialFontName=regular, initialFontSize=6,
        )
        self.canvas.setViewerPreference("PrintScaling", "None")
        self.canvas.setTitle(options.title)
        self.canvas.setCreator("OCOP Trace")
        self.forms: dict[tuple, str] = {}
        self.layouts: dict[int, geometry.Layout] = {}
        self.cell = 0
        self.pages = 0
        self.code_subsets: dict[str, str] = {}  # font → TrueType subset name for direct code text
        self.serial_prefixes: dict[int, tuple[str, str]] = {}  # id of a form's serial line → its prefix, ready

    def layout(self, modules: int) -> geometry.Layout:
        if modules not in self.layouts:
            dpi = self.options.printer_dpi or self.spec.printer_dpi
            self.layouts[modules] = geometry.plan(self.spec, modules, self.options.qr_size_mm, dpi)
        return self.layouts[modules]

    def form_for(self, label: Label, layout: geometry.Layout) -> tuple[str, Composition]:
        key = (label.product, label.cooperative, label.lot, label.packing_date, label.best_before,
               label.ocop_stars, label.tagline, tuple(len(w) for w in label.code_text.split(" ")),
               serial_shape(label.serial), id(layout))
        found = self.forms.get(key)
        if found is None:
            composition = compose(normalise(label), layout, self.options.texts)
            name = f"L{len(self.forms)}"
            self.canvas.beginForm(name, lowerx=0, lowery=0, upperx=drawing.pt(layout.cell.width), uppery=drawing.pt(layout.cell.height))
            drawing.draw_static(self.canvas, composition)
            self.canvas.endForm()
            found = self.forms[key] = (name, composition)
        return found

    def origin(self) -> tuple[float, float]:
        return geometry.cell_origin(self.spec, self.cell, self.options.offset_x_mm, self.options.offset_y_mm)

    def draw(self, label: Label, matrix) -> None:
        c = self.canvas
        layout = self.layouts.get(matrix.size) or self.layout(matrix.size)
        name, composition = self.form_for(label, layout)
        x, y = self.origin()
        pt = drawing.pt
        c.addLiteral(f"q 1 0 0 1 {pt(x):.3f} {pt(y):.3f} cm")
        c.doForm(name)
        c.addLiteral("Q " + drawing.qr_operators(matrix, x + layout.qr.x, y + layout.qr.y, layout.module))
        for line, part in zip(composition.code, split_code(label.code_text, len(composition.code))):
            self.draw_code(line, part, pt(x + line.x), pt(y + line.baseline))
        if composition.serial is not None:
            line = composition.serial
            self.draw_serial(line, label.serial, pt(x + line.x), pt(y + line.baseline))
        if self.options.outlines:
            drawing.draw_outline(c, self.spec, x, y)
        if self.options.crop_marks:
            drawing.draw_crop_marks(c, self.spec, x, y)
        self.cell += 1
        if self.cell == self.spec.per_page:
            self.end_page()

    def draw_code(self, line, text: str, x: float, y: float) -> None:
        """One line of a stamp code, written as PDF text operators directly.

        Codes are upper-case letters, digits and spaces, which ReportLab's TrueType subsets keep at their
        ASCII values ("ascii readable"); so the bytes are the text itself, and the per-character encoding
        ReportLab would otherwise redo for every one of 40,000 labels can be skipped. Anything else goes
        through ReportLab's own text object.
        """
        subset = self.code_subsets.get(line.font) or self._register_code_font(line.font)
        if subset and text.isascii() and all(c.isalnum() or c == " " for c in text):
            self.canvas.addLiteral(f"BT {subset} {line.size:.2f} Tf 1 0 0 1 {x:.3f} {y:.3f} Tm ({text}) Tj ET")
            return
        self.canvas.saveState()
        self.canvas.setFillGray(0)
        drawing.draw_text(self.canvas, Line(text, line.font, line.size, x / drawing.PT_PER_MM, y / drawing.PT_PER_MM))
        self.canvas.restoreState()

    def draw_serial(self, line: Line, serial: int, x: float, y: float) -> None:
        """The serial, e.g. "Nº 000123", as one run of text: the prefix's bytes are looked up once per serial line
        (its "º" is not ASCII, so they are whatever code the font subset gave it), the digits are their own bytes."""
        found = self.serial_prefixes.get(id(line)) or self._serial_prefix(line)
        if found:
            operators, prefix = found
            self.canvas.addLiteral(f"BT 1 0 0 1 {x:.3f} {y:.3f} Tm {operators}({prefix}{serial_digits(serial)}) Tj ET")
            return
        self.canvas.saveState()
        self.canvas.setFillGray(0)
        text = serial_text(serial, self.options.texts)
        drawing.draw_text(self.canvas, Line(text, line.font, line.size, x / drawing.PT_PER_MM, y / drawing.PT_PER_MM))
        self.canvas.restoreState()

    def _serial_prefix(self, line: Line) -> tuple[str, str] | None:
        """The operators that show the serial's prefix and select the digits' subset, and the escaped bytes of
        the prefix's end when they share that subset (so prefix and digits make one string); None when the
        font's subset does not keep ASCII digits as themselves."""
        subset = self.code_subsets.get(line.font) or self._register_code_font(line.font)
        if not subset:
            return None
        font, doc, size = pdfmetrics.getFont(line.font), self.canvas._doc, f"{line.size:.2f}"
        parts = [(font.getSubsetInternalName(number, doc), self.canvas._escape(chunk))
                 for number, chunk in font.splitString(serial_parts(0, self.options.texts)[0], doc)]
        tail = parts.pop()[1] if parts and parts[-1][0] == subset else ""
        operators = "".join(f"{name} {size} Tf ({chunk}) Tj " for name, chunk in parts)
        found = self.serial_prefixes[id(line)] = (f"{operators}{subset} {size} Tf ", tail)
        return found

    def _register_code_font(self, font_name: str) -> str:
        """The subset resource name under which code characters are their own bytes, or "" if not."""
        font = pdfmetrics.getFont(font_name)
        alphabet = CODE_ALPHABET + " "
        chunks = font.splitString(alphabet, self.canvas._doc) if getattr(font, "_dynamicFont", False) else []
        readable = len(chunks) == 1 and chunks[0] == (0, alphabet.encode("ascii"))
        self.code_subsets[font_name] = font.getSubsetInternalName(0, self.canvas._doc) if readable else ""
        return self.code_subsets[font_name]

    def end_page(self) -> None:
        self.canvas.showPage()
        self.pages += 1
        self.cell = 0

    def finish(self) -> int:
        if self.cell:
            self.end_page()
        self.canvas.save()
        return self.pages


def _encoded(records: Iterator[Label], encoder: Encoder) -> Iterator[tuple[Label, QRMatrix]]:
    """Labels with their QR matrices, the next batch encoding on other cores while this one is drawn."""
    batch = list(itertools.islice(records, BATCH))
    pending = encoder.submit([label.qr_payload for label in batch]) if batch else None
    while batch:
        following = list(itertools.islice(records, BATCH))
        queued = encoder.submit([label.qr_payload for label in following]) if following else None
        yield from zip(batch, pending.get())
        batch, pending = following, queued


def render_pdf(
    labels: Iterable[Label], spec: SheetSpec, out: BinaryIO, options: RenderOptions = RenderOptions(),
    progress: Callable[[int], None] | None = None,
) -> RenderStats:
    """Write one label per record, cell by cell, page by page; return what was written.

    Finished pages wait compressed in a temporary file and the PDF is written object by object
    (labels/streaming.py), so memory stays flat whether a run has 10,000 labels or 100,000.
    """
    started = time.perf_counter()
    validate(spec)
    done, version = 0, None
    with tempfile.TemporaryFile(prefix="labels-") as spill, Encoder(options.ecc, options.workers) as encoder:
        sheet = _Sheet(out, spec, options)
        streaming.spill_pages(sheet.canvas, spill)
        for label, matrix in _encoded(iter(labels), encoder):
            sheet.draw(label, matrix)
            version = version or (matrix.size - 17) // 4
            done += 1
            if progress and done % 500 == 0:
                progress(done)
        with streaming.written_as_formatted(out):
            pages = sheet.finish()
    if progress:
        progress(done)
    return RenderStats(done, pages, time.perf_counter() - started, version)


def render_calibration(spec: SheetSpec, out: BinaryIO, options: RenderOptions = RenderOptions(), note: str | None = None,
                       title: str | None = None) -> None:
    """One page: the outline of every cell (with the offset applied), a millimetre ruler, the sheet's title (the
    caller's words for it, else its neutral summary) and a note."""
    validate(spec)
    regular, bold = register_fonts()
    sheet = _Sheet(out, spec, options)
    c = sheet.canvas
    drawing.draw_ruler(c, spec, regular)
    for index in range(spec.per_page):
        x, y = geometry.cell_origin(spec, index, options.offset_x_mm, options.offset_y_mm)
        drawing.draw_outline(c, spec, x, y, gray=0)
        c.setFont(regular, 5)
        c.drawCentredString(drawing.pt(x + spec.label_width / 2), drawing.pt(y + spec.label_height / 2), str(index + 1))
    text = note or (
        "In ở 100 % (Kích thước thực), không chọn “Vừa trang”. Đo độ lệch giữa khung in và mép tem thật (mm), "
        "rồi nhập vào Cài đặt máy in."
    )
    c.setFont(bold, 7)
    c.drawString(drawing.pt(12), drawing.pt(3), title or spec.summary)
    if spec.page_width > 150:  # a roll label has no room for the note
        c.setFont(regular, 6)
        c.drawString(drawing.pt(72), drawing.pt(3), text)
    sheet.end_page()
    c.save()


def qr_version_for(payload: str, ecc: str = "M") -> int:
    return (encode(payload, ecc).size - 17) // 4
