"""What text goes on a label and where: fitted lines inside the layout's text box, least important dropped first."""
from dataclasses import dataclass, field

from labels.errors import LabelSpecError
from labels.fonts import register_fonts, text_width
from labels.geometry import Box, Layout
from labels.text import ELLIPSIS, LEADING, Fitted, fit, nfc

PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Label:
    """One stamp: its QR payload and the text printed beside it."""

    qr_payload: str
    code_text: str
    product: str
    cooperative: str = ""
    lot: str = ""
    packing_date: str | None = None
    best_before: str | None = None
    ocop_stars: int | None = None
    tagline: str = "Quét mã để truy xuất nguồn gốc"


@dataclass(frozen=True)
class LabelTexts:
    """The words printed before the values; Vietnamese by default."""

    lot: str = "Lô"
    packing: str = "NĐG"
    best_before: str = "HSD"
    ocop: str = "OCOP"


@dataclass(frozen=True)
class Line:
    text: str
    font: str
    size: float  # points
    x: float  # mm, from the cell's left edge
    baseline: float  # mm, from the cell's bottom edge


@dataclass(frozen=True)
class Composition:
    lines: tuple[Line, ...]  # everything but the code: the same on every label of a batch
    code: tuple[Line, ...]  # where the per-stamp code goes: one line, or two on narrow labels
    stars: tuple[int, float, float, float] | None = None  # count, x, y (bottom), star size, all mm
    boxes: tuple[Box, ...] = field(default=())  # the ink box of every line, for checking


# (field, bold, size factor, minimum points, lines, priority: the lowest goes first when space runs out)
FIELDS = (
    ("product", True, 1.25, 5.0, 2, 9),
    ("cooperative", False, 0.85, 4.2, 1, 3),
    ("stars", False, 0.9, 4.5, 1, 5),
    ("lot", False, 0.85, 4.2, 1, 6),
    ("dates", False, 0.85, 4.2, 2, 4),
    ("tagline", False, 0.75, 4.0, 2, 1),
)
WHOLE_OR_NOTHING = {"lot", "dates", "stars"}
CODE_FACTOR, CODE_MIN, CODE_SMALLEST = 1.0, 4.6, 3.6


def _field_texts(label: Label, texts: LabelTexts) -> dict[str, str]:
    dates = " · ".join(
        f"{name} {value}" for name, value in ((texts.packing, label.packing_date), (texts.best_before, label.best_before)) if value
    )
    return {
        "product": label.product,
        "cooperative": label.cooperative,
        "stars": texts.ocop if label.ocop_stars else "",
        "lot": f"{texts.lot} {label.lot}" if label.lot else "",
        "dates": dates,
        "tagline": label.tagline,
    }


CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _widest_like(code: str, font: str) -> str:
    widest = max(CODE_ALPHABET, key=lambda c: text_width(c, font, 10))
    return "".join(widest if c.isalnum() else c for c in code)


def split_code(code_text: str, lines: int) -> tuple[str, ...]:
    """The code on one line, or cut between its groups onto two."""
    if lines == 1:
        return (code_text,)
    words = code_text.split(" ")
    half = (len(words) + 1) // 2
    return (" ".join(words[:half]), " ".join(words[half:]))


def _fit_code(code_text: str, font: str, width: float, size: float) -> Fitted:
    """A size at which every code of this shape fits whole (a code is never cut short): one line, else two."""
    widest = _widest_like(code_text, font)
    for lines, smallest in ((1, CODE_MIN), (2, CODE_SMALLEST)):
        parts = split_code(widest, lines)
        current = size
        while current >= smallest - 1e-9:
            if all(text_width(part, font, current) <= width for part in parts):
                return Fitted(split_code(code_text, lines), current, font)
            current -= 0.1
    raise LabelSpecError("This label is too narrow to print the stamp code; choose a larger label.")


def base_size(layout: Layout) -> float:
    """Body text size in points, from the room there is."""
    room = min(layout.text.height * PT_PER_MM / 7.5, layout.text.width * PT_PER_MM / 7)
    return max(4.5, min(10.0, room))


def compose(label: Label, layout: Layout, texts: LabelTexts = LabelTexts()) -> Composition:
    regular, bold = register_fonts()
    box = layout.text
    width_pt = box.width * PT_PER_MM
    size = base_size(layout)
    code = _fit_code(label.code_text, bold, width_pt, size * CODE_FACTOR)
    values = _field_texts(label, texts)
    chosen: dict[str, Fitted] = {}
    star_room = {}
    for name, is_bold, factor, minimum, max_lines, _priority in FIELDS:
        value = values[name]
        if not value:
            continue
        font = bold if is_bold else regular
        if name == "stars":
            star_size = size * factor
            label_width = width_pt - label.ocop_stars * star_size * 1.1 - star_size * 0.4
            if label_width <= 0:
                continue
            fitted = fit(value, font, label_width, star_size, minimum)
            if fitted.lines[0].endswith(ELLIPSIS):
                continue
            star_room[name] = star_size
            chosen[name] = fitted
        else:
            fitted = fit(value, font, width_pt, size * factor, min(minimum, size * factor), max_lines)
            if name in WHOLE_OR_NOTHING and any(line.endswith(ELLIPSIS) for line in fitted.lines):
                continue  # a cut lot code or date misleads: leave it off instead
            chosen[name] = fitted
    # Drop the least important fields until everything fits above the code line.
    by_priority = sorted((p, n) for n, _b, _f, _m, _l, p in FIELDS if n in chosen)
    available = box.height * PT_PER_MM - code.height
    while sum(f.height for f in chosen.values()) > available and by_priority:
        _p, name = by_priority.pop(0)
        if name == "product" and len(chosen[name].lines) > 1:
            chosen[name] = fit(values[name], bold, width_pt, chosen[name].size, chosen[name].size, 1)
            by_priority.insert(0, (_p, name))
            continue
        del chosen[name]
    return _place(label, layout, chosen, code, star_room)


def _place(label: Label, layout: Layout, chosen: dict[str, Fitted], code: Fitted, star_room: dict) -> Composition:
    box = layout.text
    lines: list[Line] = []
    inks: list[Box] = []
    top = box.top
    stars = None
    for name, *_rest in FIELDS:
        fitted = chosen.get(name)
        if fitted is None:
            continue
        for text in fitted.lines:
            height = fitted.size * LEADING / PT_PER_MM
            baseline = top - fitted.size * 0.92 / PT_PER_MM
            x = box.x
            if name == "stars":
                star = star_room[name] / PT_PER_MM
                stars = (label.ocop_stars, box.x, baseline - star * 0.05, star)
                x = box.x + label.ocop_stars * star * 1.1 + star * 0.4
            lines.append(Line(text, fitted.font, fitted.size, x, baseline))
            inks.append(Box(box.x, top - height, box.width, height))
            top -= height
    code_lines = []
    line_height = code.size * LEADING / PT_PER_MM
    for i, text in enumerate(code.lines):
        baseline = box.y + code.size * 0.25 / PT_PER_MM + (len(code.lines) - 1 - i) * line_height
        code_lines.append(Line(text, code.font, code.size, box.x, baseline))
    inks.append(Box(box.x, box.y, box.width, code.height))
    return Composition(tuple(lines), tuple(code_lines), stars, tuple(inks))


def normalise(label: Label) -> Label:
    return Label(
        label.qr_payload, nfc(label.code_text), nfc(label.product), nfc(label.cooperative), nfc(label.lot),
        label.packing_date, label.best_before, label.ocop_stars, nfc(label.tagline),
    )
