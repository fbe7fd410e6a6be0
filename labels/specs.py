"""Sheet specs in millimetres: A4 and A5 sticker sheets and thermal roll labels.

A spec is language-neutral data: sizes, counts, the brand and part number it follows (a trade name, the same
in every language) and where its dimensions come from. Applications build the name they show from it, in
their user's language. Every built-in spec cites its source; "derived" marks a layout computed from a
source that gives only the label size and count (centred, with the stated gaps).
"""
from dataclasses import dataclass

from labels.errors import LabelSpecError

A4 = (210.0, 297.0)
A5 = (148.0, 210.0)
PT = 25.4 / 72  # mm per PostScript point: gLabels' templates give their numbers in points
GLABELS = "gLabels templates, github.com/jimevins/glabels-qt/blob/2da9b2d/templates/"


@dataclass(frozen=True)
class SheetSpec:
    id: str
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int = 1
    rows: int = 1
    margin_left: float = 0.0
    margin_top: float = 0.0
    pitch_x: float | None = None  # left edge to left edge; label_width when there is no gap
    pitch_y: float | None = None
    corner_radius: float = 0.0
    printer_dpi: int | None = None  # thermal roll printers: QR modules snap to whole printer dots
    brand: str = ""  # the sheet it follows as sold, e.g. "Avery L7163"; empty for a generic size
    source: str = ""  # where the dimensions come from

    @property
    def step_x(self) -> float:
        return self.pitch_x or self.label_width

    @property
    def step_y(self) -> float:
        return self.pitch_y or self.label_height

    @property
    def gap_x(self) -> float:
        return self.step_x - self.label_width

    @property
    def gap_y(self) -> float:
        return self.step_y - self.label_height

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def is_roll(self) -> bool:
        return self.per_page == 1 and self.page_width == self.label_width and self.page_height == self.label_height

    @property
    def paper(self) -> str:
        """"A4", "A5" (either way round) or "" for any other page."""
        size = sorted((round(self.page_width), round(self.page_height)))
        return {(210, 297): "A4", (148, 210): "A5"}.get(tuple(size), "")

    @property
    def summary(self) -> str:
        """A short neutral description, for logs, the command line and the calibration page."""
        size = f"{self.label_width:g}×{self.label_height:g} mm"
        if self.is_roll:
            return f"{size}, {self.printer_dpi or '-'} dpi"
        return f"{self.paper or f'{self.page_width:g}×{self.page_height:g} mm'}: {self.per_page} × {size} ({self.columns}×{self.rows})"


# Largest sheet a spec may ask for: a roll label wider or a sheet larger than A3 is a mistake, not a sheet.
MAX_PAGE_MM = 420.0


def validate(spec: SheetSpec) -> SheetSpec:
    """Return the spec, or raise LabelSpecError saying what does not fit (with a reason, numbers and field)."""
    for name in ("page_width", "page_height", "label_width", "label_height"):
        if getattr(spec, name) <= 0:
            raise LabelSpecError(f"{name} must be positive.", "not_positive", name)
        if getattr(spec, name) > MAX_PAGE_MM:
            raise LabelSpecError(f"{name} is larger than {MAX_PAGE_MM:g} mm.", "too_large", name, limit=MAX_PAGE_MM)
    for name in ("columns", "rows"):
        if getattr(spec, name) < 1:
            raise LabelSpecError(f"At least one of {name}.", "too_few", name)
    for name in ("margin_left", "margin_top"):
        if getattr(spec, name) < 0:
            raise LabelSpecError(f"{name} cannot be negative.", "negative", name)
    for name, step, size in (("pitch_x", spec.step_x, spec.label_width), ("pitch_y", spec.step_y, spec.label_height)):
        if step < size - 1e-9:
            raise LabelSpecError("The distance between labels cannot be smaller than the label itself.",
                                 "negative_gap", name, gap=round(step - size, 2))
    right = spec.margin_left + (spec.columns - 1) * spec.step_x + spec.label_width
    bottom = spec.margin_top + (spec.rows - 1) * spec.step_y + spec.label_height
    for name, needed, page in (("columns", right, spec.page_width), ("rows", bottom, spec.page_height)):
        if needed > page + 0.01:
            raise LabelSpecError(
                f"{spec.columns}×{spec.rows} labels of {spec.label_width:g}×{spec.label_height:g} mm do not fit on a "
                f"{spec.page_width:g}×{spec.page_height:g} mm page with these margins ({needed:.1f} mm needed, {page:g} mm there).",
                "too_wide" if name == "columns" else "too_tall", name, needed=round(needed, 1), page=page,
            )
    if spec.corner_radius < 0 or spec.corner_radius * 2 > min(spec.label_width, spec.label_height):
        raise LabelSpecError("The corner radius is larger than the label.", "corner_radius", "corner_radius",
                             limit=min(spec.label_width, spec.label_height) / 2)
    return spec


def _sheet(id_, page, width, height, columns, rows, left, top, pitch_x=None, pitch_y=None, radius=0.0, brand="", source=""):
    return SheetSpec(id_, *page, width, height, columns, rows, left, top, pitch_x, pitch_y, radius, brand=brand, source=source)


def _roll(width, height, dpi):
    """A thermal roll label: one label per page, the page the label. Its QR modules are whole printer dots."""
    suffix = "" if dpi == 203 else f"-{dpi}dpi"  # the 203 dpi ids predate the 300 dpi ones: runs keep them
    return SheetSpec(f"roll-{width:g}x{height:g}{suffix}", width, height, width, height, printer_dpi=dpi,
                     source="the roll's label size; the printer's resolution (203 or 300 dpi) as its maker states it")


def _pt(value: float) -> float:
    """gLabels' points in millimetres, to a hundredth."""
    return round(value * PT, 2)


BUILTIN_SPECS: dict[str, SheetSpec] = {
    spec.id: validate(spec)
    for spec in (
        # Avery L7651 / 8651 family, 65 per A4, 38.1×21.2 mm (5×13), the size Vietnamese shops sell as A4 decal
        # "65 tem": gLabels 8651 (width 108 pt, x0 13.32 pt, y0 30.90 pt, dx 115.09 pt, dy 60.09 pt, round 5 pt).
        _sheet("a4-65", A4, 38.1, 21.2, 5, 13, _pt(13.32), _pt(30.90), _pt(115.09), 21.2, _pt(5), "Avery L7651",
               GLABELS + "avery-iso-templates.xml (8651 family)"),
        # Avery L7654 / L4770 family, 40 per A4, 45.7×25.4 mm (4×10): gLabels x0 10 mm, y0 22 mm, dx 48.5 mm.
        _sheet("a4-40", A4, 45.7, 25.4, 4, 10, 10.0, 22.0, 48.5, 25.4, 1.5, "Avery L7654",
               GLABELS + "avery-iso-templates.xml (L4770 family)"),
        # 24 per A4, 63.5×33.9 mm (3×8), the Avery L7159 format: gLabels Endisch 6406333x (x0 7.21 mm, y0 12.9 mm,
        # dx 66.04 mm, dy 33.9 mm, round 3 mm).
        _sheet("a4-24", A4, 63.5, 33.9, 3, 8, 7.21, 12.9, 66.04, 33.9, 3.0, "",
               GLABELS + "endisch-templates.xml (6406333x)"),
        # Avery L7160 family, 21 per A4, 63.5×38.1 mm (3×7): gLabels x0 21.2 pt, y0 43.9 pt, dx 187.2 pt, dy 108 pt.
        _sheet("a4-21", A4, 63.5, 38.1, 3, 7, _pt(21.2), _pt(43.9), _pt(187.2), 38.1, 1.76, "Avery L7160",
               GLABELS + "avery-iso-templates.xml (7160 family)"),
        # Avery L7161 family, 18 per A4, 63.5×46.6 mm (3×6): gLabels x0 21 pt, y0 23 pt, dx 186.9 pt, dy 132.5 pt.
        _sheet("a4-18", A4, 63.5, 46.6, 3, 6, _pt(21), _pt(23), _pt(186.9), _pt(132.5), 2.47, "Avery L7161",
               GLABELS + "avery-iso-templates.xml (7161 family)"),
        # Avery L7162 family, 16 per A4, 99.1×33.9 mm (2×8): gLabels x0 11.3 pt, y0 36.8 pt, dx 290.5 pt, dy 96.1 pt.
        _sheet("a4-16", A4, 99.1, 33.9, 2, 8, _pt(11.3), _pt(36.8), _pt(290.5), 33.9, 1.76, "Avery L7162",
               GLABELS + "avery-iso-templates.xml (7162 family)"),
        # Avery L7163 family, 14 per A4, 99.1×38.1 mm (2×7): gLabels x0 9.5 pt, y0 43 pt, dx 292 pt, dy 108 pt.
        _sheet("a4-14", A4, 99.1, 38.1, 2, 7, _pt(9.5), _pt(43), _pt(292), 38.1, 1.76, "Avery L7163",
               GLABELS + "avery-iso-templates.xml (7163 family)"),
        # Avery L7165 family, 8 per A4, 99.1×67.7 mm (2×4): gLabels x0 13.2378 pt, y0 36.9638 pt, dx 288.113 pt.
        _sheet("a4-8", A4, 99.1, 67.7, 2, 4, _pt(13.2378), _pt(36.9638), _pt(288.113), 67.73, 0.0, "Avery L7165",
               GLABELS + "avery-iso-templates.xml (7165 family)"),
        # Agipa 114036, 28 per A5, 18.5 wide × 48.5 mm tall (7×4): gLabels x0 4 mm, y0 2 mm, dx 20 mm, dy 49 mm.
        _sheet("a5-28", A5, 18.5, 48.5, 7, 4, 4.0, 2.0, 20.0, 49.0, _pt(10), "Agipa 114036",
               GLABELS + "misc-iso-templates.xml (Agipa 114036)"),
        _roll(40, 30, 203),
        _roll(50, 30, 203),
        _roll(30, 20, 203),
        _roll(40, 30, 300),
        _roll(50, 30, 300),
        _roll(30, 20, 300),
    )
}
