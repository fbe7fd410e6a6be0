"""Where things go, in millimetres from a cell's bottom-left corner (PDF coordinates: y grows upwards)."""
import math
from dataclasses import dataclass

from labels.errors import LabelSpecError
from labels.qr import QUIET_ZONE
from labels.specs import SheetSpec

MIN_MODULE_MM = 0.3
ROLL_MIN_MODULE_MM = 0.4
MM_PER_INCH = 25.4
QR_EDGE_MM = 0.4  # white between the cell edge and the quiet zone, for die-cut tolerance


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def contains(self, other: "Box", tolerance: float = 1e-6) -> bool:
        return (
            other.x >= self.x - tolerance and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance and other.top <= self.top + tolerance
        )


@dataclass(frozen=True)
class Layout:
    cell: Box  # the label itself, at the origin
    qr: Box  # the symbol with its quiet zone
    module: float  # mm per QR module
    text: Box  # where the text lines go
    orientation: str  # "wide" or "tall"


def padding(spec: SheetSpec) -> float:
    return min(2.0, max(0.8, 0.06 * min(spec.label_width, spec.label_height)))


def cell_origin(spec: SheetSpec, index: int, offset_x: float = 0.0, offset_y: float = 0.0) -> tuple[float, float]:
    """Bottom-left corner of the index-th cell on a page (row by row from the top left), in mm.

    A positive offset_x moves the print right; a positive offset_y moves it down the page.
    """
    row, column = divmod(index, spec.columns)
    x = spec.margin_left + column * spec.step_x + offset_x
    top = spec.margin_top + row * spec.step_y + offset_y
    return x, spec.page_height - top - spec.label_height


def _module_size(spec: SheetSpec, room: float, modules: int, qr_size: float | None, dpi: int | None) -> float:
    total = modules + 2 * QUIET_ZONE
    if qr_size:  # the caller asks for the symbol's size (without quiet zone)
        module = qr_size / modules
        if module * total > room + 1e-9:
            raise LabelSpecError(f"A {qr_size:g} mm QR code does not fit on a {spec.label_width:g}×{spec.label_height:g} mm label.",
                                 "qr_does_not_fit", None, size=qr_size)
    else:
        module = room / total
    if dpi:
        dot = MM_PER_INCH / dpi
        wanted = max(module if qr_size else 0, ROLL_MIN_MODULE_MM)
        snapped = math.ceil(wanted / dot - 1e-9) * dot
        if snapped * total > room + 1e-9:
            snapped = math.floor(room / total / dot) * dot
        module = snapped
    if module < MIN_MODULE_MM - 1e-9:
        raise LabelSpecError(
            f"On a {spec.label_width:g}×{spec.label_height:g} mm label the QR modules would be {module:.2f} mm, "
            f"smaller than {MIN_MODULE_MM} mm: phones would struggle to scan it. Choose a larger label.",
            "qr_too_small", "label_width" if spec.label_width <= spec.label_height else "label_height",
            module=round(module, 2), minimum=MIN_MODULE_MM,
        )
    return module


def plan(spec: SheetSpec, modules: int, qr_size: float | None = None, dpi: int | None = None) -> Layout:
    """Lay out one label: QR on the left of wide labels, on top of tall ones."""
    w, h = spec.label_width, spec.label_height
    pad = padding(spec)
    cell = Box(0.0, 0.0, w, h)
    total = modules + 2 * QUIET_ZONE
    if h >= w * 1.15:
        module = _module_size(spec, min(w, h * 0.62) - 2 * QR_EDGE_MM, modules, qr_size, dpi)
        side = module * total
        qr = Box((w - side) / 2, h - QR_EDGE_MM - side, side, side)
        text = Box(pad, pad, w - 2 * pad, max(0.0, qr.y - pad))
        return Layout(cell, qr, module, text, "tall")
    # Thermal rolls give the QR more of the width: their modules must be whole printer dots of ≥ 0.4 mm.
    share = 0.66 if dpi else 0.5
    module = _module_size(spec, min(h, w * share) - 2 * QR_EDGE_MM, modules, qr_size, dpi)
    side = module * total
    qr = Box(QR_EDGE_MM, (h - side) / 2, side, side)
    left = qr.right  # text never enters the quiet zone
    text = Box(left, pad, max(0.0, w - pad - left), h - 2 * pad)
    return Layout(cell, qr, module, text, "wide")
