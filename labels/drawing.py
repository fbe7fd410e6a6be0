"""Drawing on a ReportLab canvas, in millimetres. Black is DeviceGray 0 (K only), never RGB."""
import math

from reportlab.pdfgen.canvas import Canvas

from labels.content import Composition, Line
from labels.qr import QUIET_ZONE, QRMatrix
from labels.specs import SheetSpec

PT_PER_MM = 72 / 25.4
OUTLINE_GRAY = 0.55
CROP_MARK_MM, CROP_GAP_MM = 3.0, 1.0


def pt(mm: float) -> float:
    return mm * PT_PER_MM


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def draw_text(canvas: Canvas, line: Line) -> None:
    canvas.setFont(line.font, line.size)
    canvas.drawString(pt(line.x), pt(line.baseline), line.text)


def draw_star(canvas: Canvas, x: float, y: float, size: float) -> None:
    """A filled five-pointed star in the size×size square at (x, y)."""
    cx, cy, outer = x + size / 2, y + size / 2, size / 2
    inner = outer * 0.42
    path = canvas.beginPath()
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi / 2 + i * math.pi / 5
        px, py = pt(cx + radius * math.cos(angle)), pt(cy + radius * math.sin(angle))
        path.moveTo(px, py) if i == 0 else path.lineTo(px, py)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)


def draw_static(canvas: Canvas, composition: Composition) -> None:
    """Everything on a label but the QR and the code: drawn once per batch, as a form."""
    canvas.setFillGray(0)
    for line in composition.lines:
        draw_text(canvas, line)
    if composition.stars:
        count, x, y, size = composition.stars
        for i in range(count):
            draw_star(canvas, x + i * size * 1.1, y, size)


def qr_operators(matrix: QRMatrix, x: float, y: float, module: float) -> str:
    """The symbol as one exact 1-bit image mask painted in the fill colour: no seams, crisp at any resolution."""
    left, bottom = x + QUIET_ZONE * module, y + QUIET_ZONE * module
    side = matrix.size * module
    return (
        f"q 0 g {_num(pt(side))} 0 0 {_num(pt(side))} {_num(pt(left))} {_num(pt(bottom))} cm "
        f"BI /W {matrix.size} /H {matrix.size} /IM true /D [1 0] /F /AHx ID {matrix.bits.hex()}> EI Q"
    )


def draw_qr(canvas: Canvas, matrix: QRMatrix, x: float, y: float, module: float) -> None:
    canvas.addLiteral(qr_operators(matrix, x, y, module))


def draw_outline(canvas: Canvas, spec: SheetSpec, x: float, y: float, gray: float = OUTLINE_GRAY) -> None:
    canvas.setStrokeGray(gray)
    canvas.setLineWidth(0.3)
    canvas.roundRect(pt(x), pt(y), pt(spec.label_width), pt(spec.label_height), pt(spec.corner_radius), stroke=1, fill=0)


def draw_crop_marks(canvas: Canvas, spec: SheetSpec, x: float, y: float) -> None:
    canvas.setStrokeGray(0)
    canvas.setLineWidth(0.25)
    for cx, dx in ((x, -1), (x + spec.label_width, 1)):
        for cy, dy in ((y, -1), (y + spec.label_height, 1)):
            canvas.line(pt(cx + dx * CROP_GAP_MM), pt(cy), pt(cx + dx * (CROP_GAP_MM + CROP_MARK_MM)), pt(cy))
            canvas.line(pt(cx), pt(cy + dy * CROP_GAP_MM), pt(cx), pt(cy + dy * (CROP_GAP_MM + CROP_MARK_MM)))


def draw_ruler(canvas: Canvas, spec: SheetSpec, font: str) -> None:
    """Millimetre rulers along the top and left page edges, labelled every 10 mm."""
    canvas.setStrokeGray(0)
    canvas.setFillGray(0)
    canvas.setLineWidth(0.2)
    canvas.setFont(font, 5)
    top = spec.page_height
    for mm in range(0, int(spec.page_width) + 1):
        length = 4.0 if mm % 10 == 0 else 2.5 if mm % 5 == 0 else 1.5
        canvas.line(pt(mm), pt(top), pt(mm), pt(top - length))
        if mm % 10 == 0 and 0 < mm < spec.page_width - 3:
            canvas.drawCentredString(pt(mm), pt(top - 6.5), str(mm))
    for mm in range(0, int(spec.page_height) + 1):
        length = 4.0 if mm % 10 == 0 else 2.5 if mm % 5 == 0 else 1.5
        canvas.line(0, pt(top - mm), pt(length), pt(top - mm))
        if mm % 10 == 0 and 0 < mm < spec.page_height - 3:
            canvas.drawString(pt(5), pt(top - mm - 0.6), str(mm))
