"""render_pdf(): label records and a sheet spec in, a printable PDF out, streaming in batches."""
import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import pikepdf

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from labels import drawing, geometry
from labels.content import Composition, Label, LabelTexts, compose, normalise, split_code
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
    chunk_labels: int = 5_000  # labels per part file (memory stays flat)
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
        self.codes = None  # the page's text object for the codes
        self.code_font = None

    def layout(self, modules: int) -> geometry.Layout:
        if modules not in self.layouts:
            dpi = self.options.printer_dpi or self.spec.printer_dpi
            self.layouts[modules] = geometry.plan(self.spec, modules, self.options.qr_size_mm, dpi)
        return self.layouts[modules]

    def form_for(self, label: Label, layout: geometry.Layout) -> tuple[str, Composition]:
        key = (label.product, label.cooperative, label.lot, label.packing_date, label.best_before,
               label.ocop_stars, label.tagline, tuple(len(w) for w in label.code_text.split(" ")), id(layout))
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
        codes = self.codes
        if codes is None:
            codes = self.codes = c.beginText()
        lines = composition.code
        for line, part in zip(lines, split_code(label.code_text, len(lines))):
            if (line.font, line.size) != self.code_font:
                codes.setFont(line.font, line.size)
                self.code_font = (line.font, line.size)
            codes.setTextOrigin(pt(x + line.x), pt(y + line.baseline))
            codes.textOut(part)
        if self.options.outlines:
            drawing.draw_outline(c, self.spec, x, y)
        if self.options.crop_marks:
            drawing.draw_crop_marks(c, self.spec, x, y)
        self.cell += 1
        if self.cell == self.spec.per_page:
            self.end_page()

    def end_page(self) -> None:
        if self.codes is not None:
            # All the codes of a page in one text object: far less to write than one per label.
            self.canvas.drawText(self.codes)
            self.codes, self.code_font = None, None
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


def _chunk_size(spec: SheetSpec, options: RenderOptions) -> int:
    """Labels per part file: whole pages, about options.chunk_labels."""
    pages = max(1, round(options.chunk_labels / spec.per_page))
    return pages * spec.per_page


def render_pdf(
    labels: Iterable[Label], spec: SheetSpec, out: BinaryIO, options: RenderOptions = RenderOptions(),
    progress: Callable[[int], None] | None = None,
) -> RenderStats:
    """Write one label per record, cell by cell, page by page; return what was written.

    ReportLab holds a whole document in memory until it saves, so a long run is drawn as part files of
    a few thousand labels on disk, then joined into one PDF by qpdf (pikepdf), which streams them:
    memory stays flat whether a run has 10,000 labels or 100,000.
    """
    started = time.perf_counter()
    validate(spec)
    per_part = _chunk_size(spec, options)
    labelled = iter(labels)
    done, pages, version = 0, 0, None
    with tempfile.TemporaryDirectory(prefix="labels-") as folder, Encoder(options.ecc, options.workers) as encoder:
        parts = []
        stream = _encoded(labelled, encoder)
        while True:
            chunk = list(itertools.islice(stream, per_part))
            if not chunk:
                break
            path = Path(folder) / f"part-{len(parts):05d}.pdf"
            with open(path, "wb") as part:
                sheet = _Sheet(part, spec, options)
                for label, matrix in chunk:
                    sheet.draw(label, matrix)
                    version = version or (matrix.size - 17) // 4
                    done += 1
                    if progress and done % 500 == 0:
                        progress(done)
                pages += sheet.finish()
            parts.append(path)
            del chunk
        if not parts:  # no label at all: an empty but valid document
            path = Path(folder) / "empty.pdf"
            with open(path, "wb") as part:
                _Sheet(part, spec, options).finish()
            parts.append(path)
        _join(parts, out)
    if progress:
        progress(done)
    return RenderStats(done, pages, time.perf_counter() - started, version)


def _join(parts: list[Path], out: BinaryIO) -> None:
    if len(parts) == 1:
        with open(parts[0], "rb") as only:
            shutil.copyfileobj(only, out)
        return
    # Read the parts as streams, not memory maps: mapped pages would count as this process's memory.
    sources = [pikepdf.open(path, access_mode=pikepdf.AccessMode.stream) for path in parts]
    try:
        with pikepdf.Pdf.new() as joined:
            for source in sources:
                joined.pages.extend(source.pages)
            first = sources[0]
            joined.Root.ViewerPreferences = joined.copy_foreign(first.Root.ViewerPreferences)
            joined.docinfo = joined.copy_foreign(first.trailer.Info)
            # Streams pass through untouched; the /ID comes from the content, so a re-render is identical.
            joined.save(out, deterministic_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    finally:
        for source in sources:
            source.close()


def render_calibration(spec: SheetSpec, out: BinaryIO, options: RenderOptions = RenderOptions(), note: str | None = None) -> None:
    """One page: the outline of every cell (with the offset applied), a millimetre ruler and a note."""
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
    c.drawString(drawing.pt(12), drawing.pt(3), spec.name)
    c.setFont(regular, 6)
    c.drawString(drawing.pt(12 + drawing.pt(0) + 60), drawing.pt(3), text[:140]) if spec.page_width > 150 else None
    sheet.end_page()
    c.save()


def qr_version_for(payload: str, ecc: str = "M") -> int:
    return (encode(payload, ecc).size - 17) // 4
