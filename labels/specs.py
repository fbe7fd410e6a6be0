"""Sheet specs in millimetres: the sticker sheets sold in Vietnam and abroad, and thermal roll labels.

Names are in Vietnamese, as the sheets are sold and as the dashboard shows them.
"""
from dataclasses import dataclass

from labels.errors import LabelSpecError

A4 = (210.0, 297.0)


@dataclass(frozen=True)
class SheetSpec:
    id: str
    name: str
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

    @property
    def step_x(self) -> float:
        return self.pitch_x or self.label_width

    @property
    def step_y(self) -> float:
        return self.pitch_y or self.label_height

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def is_roll(self) -> bool:
        return self.per_page == 1 and self.page_width == self.label_width and self.page_height == self.label_height


def validate(spec: SheetSpec) -> SheetSpec:
    """Return the spec, or raise LabelSpecError saying what does not fit."""
    positive = ("page_width", "page_height", "label_width", "label_height")
    if any(getattr(spec, name) <= 0 for name in positive) or spec.columns < 1 or spec.rows < 1:
        raise LabelSpecError("Page and label sizes must be positive, with at least one column and one row.")
    if spec.step_x < spec.label_width or spec.step_y < spec.label_height:
        raise LabelSpecError("The distance between labels cannot be smaller than the label itself.")
    right = spec.margin_left + (spec.columns - 1) * spec.step_x + spec.label_width
    bottom = spec.margin_top + (spec.rows - 1) * spec.step_y + spec.label_height
    if spec.margin_left < 0 or spec.margin_top < 0 or right > spec.page_width + 0.01 or bottom > spec.page_height + 0.01:
        raise LabelSpecError(
            f"{spec.columns}×{spec.rows} labels of {spec.label_width}×{spec.label_height} mm do not fit on a "
            f"{spec.page_width}×{spec.page_height} mm page with these margins."
        )
    if spec.corner_radius < 0 or spec.corner_radius * 2 > min(spec.label_width, spec.label_height):
        raise LabelSpecError("The corner radius is larger than the label.")
    return spec


def _a4(id_, name, width, height, columns, rows, left, top, pitch_x=None, pitch_y=None, radius=0.0):
    return SheetSpec(id_, name, *A4, width, height, columns, rows, left, top, pitch_x, pitch_y, radius)


def _roll(width, height, dpi=203):
    name = f"Cuộn {width:g}×{height:g} mm (máy in nhiệt {dpi} dpi)"
    return SheetSpec(f"roll-{width:g}x{height:g}", name, width, height, width, height, printer_dpi=dpi)


BUILTIN_SPECS: dict[str, SheetSpec] = {
    spec.id: validate(spec)
    for spec in (
        _a4("a4-65", "A4, 65 tem 38,1×21,2 mm (5×13)", 38.1, 21.2, 5, 13, 4.67, 10.7, 40.64, 21.2, 1.5),
        _a4("a4-40", "A4, 40 tem 48,5×25,4 mm (4×10)", 48.5, 25.4, 4, 10, 8.0, 21.5),
        _a4("a4-24", "A4, 24 tem 64×33,9 mm (3×8)", 64.0, 33.9, 3, 8, 6.5, 12.9, 66.5, 33.9, 2.0),
        _a4("a4-21", "A4, 21 tem 63,5×38,1 mm (3×7)", 63.5, 38.1, 3, 7, 7.21, 15.15, 66.04, 38.1, 2.5),
        _a4("a4-14", "A4, 14 tem 99,1×38,1 mm (2×7)", 99.1, 38.1, 2, 7, 4.65, 15.15, 101.6, 38.1, 2.5),
        _roll(40, 30),
        _roll(50, 30),
        _roll(30, 20),
    )
}
