"""What text goes on a label and where: fitted lines inside the layout's text box, least important dropped first."""
from dataclasses import dataclass, field, replace

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
    serial: int | None = None  # the stamp's number in its run, printed small under the code


@dataclass(frozen=True)
class LabelTexts:
    """The words printed before the values; Vietnamese by default."""

    lot: str = "Lô"
    packing: str = "NĐG"
    best_before: str = "HSD"
    ocop: str = "OCOP"
    serial: str = "Nº"


@dataclass(frozen=True)
class Line:
    text: str
    font: str
    size: float  # points
    x: float  # mm, from the cell's left edge
    baseline: float  # mm, from the cell's bottom edge


@dataclass(frozen=True)
class Composition:
    lines: tuple[Line, ...]  # everything but the code and serial: the same on every label of a batch
    code: tuple[Line, ...]  # where the per-stamp code goes: one line, or two on narrow labels
    serial: Line | None = None  # where the per-stamp serial goes, under the code (its text: the widest of its shape)
    stars: tuple[int, float, float, float] | None = None  # count, x, y (bottom), star size, all mm
    boxes: tuple[Box, ...] = field(default=())  # the ink box of every line (as wide as its text), for checking


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
SERIAL_FACTOR, SERIAL_MIN = 0.72, 3.5  # of the code's size; points
SERIAL_DIGITS = 6  # a run has at most 100,000 stamps: every serial of a run prints the same width
serial_digits = f"{{:0{SERIAL_DIGITS}d}}".format  # 123 → "000123"


def serial_parts(serial: int, texts: LabelTexts = LabelTexts()) -> tuple[str, str]:
    """The printed serial as (prefix, digits): "Nº " and "000123". The prefix is the same on every label."""
    return f"{texts.serial} ", serial_digits(serial)


def serial_shape(serial: int | None) -> int:
    """What a label's layout depends on in its serial: none (-1), padded (0), or wider than padding (its length)."""
    if serial is None:
        return -1
    return 0 if serial < 10 ** SERIAL_DIGITS else len(str(serial))


def serial_text(serial: int, texts: LabelTexts = LabelTexts()) -> str:
    """The serial exactly as printed on the label, e.g. "Nº 000123"."""
    return "".join(serial_parts(serial, texts))


def _dates_text(label: Label, texts: LabelTexts, packing: bool = True) -> str:
    pairs = ((texts.packing, label.packing_date if packing else None), (texts.best_before, label.best_before))
    return " · ".join(f"{name} {value}" for name, value in pairs if value)


def _field_texts(label: Label, texts: LabelTexts, joined: bool = False) -> dict[str, str]:
    """The text of each field; joined puts the lot and the dates on one line (wide labels have the width)."""
    dates = _dates_text(label, texts)
    lot = f"{texts.lot} {label.lot}" if label.lot else ""
    if joined and lot and dates:
        lot, dates = f"{lot} · {dates}", ""
    return {
        "product": label.product,
        "cooperative": label.cooperative,
        "stars": texts.ocop if label.ocop_stars else "",
        "lot": lot,
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


def _fit_serial(serial: int, texts: LabelTexts, font: str, width: float, code_size: float) -> Fitted:
    """A size at which the serial fits on one line, whatever its digits (the code is fitted first)."""
    prefix, digits = serial_parts(serial, texts)
    widest = prefix + max("0123456789", key=lambda d: text_width(d, font, 10)) * len(digits)
    current = max(SERIAL_MIN, code_size * SERIAL_FACTOR)
    while current >= SERIAL_MIN - 1e-9:
        if text_width(widest, font, current) <= width:
            return Fitted((widest,), current, font)
        current -= 0.1
    raise LabelSpecError("This label is too narrow to print the stamp's serial number; choose a larger label.",
                         "too_narrow_for_code", "label_width")


def _fit_code(code_text: str, font: str, width: float, size: float) -> Fitted:
    """A size at which every code of this shape fits whole (a code is never cut short): one line, else two."""
    widest = _widest_like(code_text, font)
    # One line near the text's size, else two lines (read better than one tiny line), else one line at its smallest.
    for lines, largest, smallest in ((1, size, max(CODE_MIN, size * EVEN)), (2, size, CODE_SMALLEST), (1, size, CODE_MIN)):
        parts = split_code(widest, lines)
        current = largest
        while current >= smallest - 1e-9:
            if all(text_width(part, font, current) <= width for part in parts):
                return Fitted(split_code(code_text, lines), current, font)
            current -= 0.1
    raise LabelSpecError("This label is too narrow to print the stamp code; choose a larger label.",
                         "too_narrow_for_code", "label_width")


BODY_MAX_PT = 13.0  # a large label's body text: read at arm's length on a shelf, yet not a poster
BODY_MIN_PT = 4.5
SIZE_STEP = 0.5


def base_size(layout: Layout) -> float:
    """Body text size in points, from the room there is: the text box's height for about seven lines, and its
    width for about seven millimetres a point, so that a wide label's text grows into its width."""
    room = min(layout.text.height * PT_PER_MM / 7.5, layout.text.width * PT_PER_MM / 7)
    return max(BODY_MIN_PT, min(BODY_MAX_PT, room))


def compose(label: Label, layout: Layout, texts: LabelTexts = LabelTexts()) -> Composition:
    """The label's lines at the largest body size (from base_size down by a quarter at most) at which nothing is
    shortened, left off or shrunk far below its size; when none is, at base_size with the least important fields
    shortened or dropped."""
    size = base_size(layout)
    first = None
    candidate = size
    # A wide label's text box has the width for the lot and the dates on one line, and so room for larger text.
    ways = (True, False) if layout.orientation == "wide" and layout.text.width >= JOINED_MIN_MM else (False,)
    while candidate >= max(BODY_MIN_PT, size * 0.75) - 1e-9:
        for joined in ways:
            composition, complete = _compose_at(label, layout, texts, candidate, joined)
            if complete:
                return composition
            first = first or composition
        candidate -= SIZE_STEP
    return first


JOINED_MIN_MM = 45.0
EVEN = 0.85  # a line may be fitted this much smaller than its size before a smaller body size is tried


def _compose_at(label: Label, layout: Layout, texts: LabelTexts, size: float, joined: bool = False) -> tuple[Composition, bool]:
    """The label's lines at this body size, and whether every field printed whole (nothing shortened or dropped)."""
    regular, bold = register_fonts()
    box = layout.text
    width_pt = box.width * PT_PER_MM
    code = _fit_code(label.code_text, bold, width_pt, size * CODE_FACTOR)
    serial = _fit_serial(label.serial, texts, regular, width_pt, code.size) if label.serial is not None else None
    values = _field_texts(label, texts, joined)
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
            smallest = size * factor if joined and name == "lot" else min(minimum, size * factor)  # joined: whole or not at all
            fitted = fit(value, font, width_pt, size * factor, smallest, max_lines, wrap_first=name == "tagline")
            squeezed = fitted.size < size * factor * EVEN or len(fitted.lines) > 1
            if name == "dates" and squeezed and label.packing_date and label.best_before:
                fitted = _dates_on_two_lines(label, texts, font, width_pt, size * factor, smallest) or fitted
            if name == "dates" and any(line.endswith(ELLIPSIS) for line in fitted.lines) and label.best_before:
                # Too narrow for both dates: the best-before date alone matters more to a buyer than none.
                fitted = fit(_dates_text(label, texts, packing=False), font, width_pt, size * factor, smallest)
            if name in WHOLE_OR_NOTHING and any(line.endswith(ELLIPSIS) for line in fitted.lines):
                continue  # a cut lot code or date misleads: leave it off instead
            chosen[name] = fitted
    # Shorten, then drop, the least important fields until everything fits above the code and serial.
    wanted = {name for name, *_rest in FIELDS if values[name]}
    complete = set(chosen) == wanted and not any(line.endswith(ELLIPSIS) for f in chosen.values() for line in f.lines)
    # Whole, and each line near the size it was meant to have: a long line shrunk far below its neighbours (or
    # the code far below the text) reads worse than every line a little smaller.
    factors = {name: factor for name, _b, factor, *_rest in FIELDS}
    shrunk = [f.size < size * factors[name] * EVEN - 1e-9 for name, f in chosen.items() if name != "stars"]
    if any(shrunk) or code.size < size * CODE_FACTOR * EVEN - 1e-9:
        complete = False
    by_priority = sorted((p, n) for n, _b, _f, _m, _l, p in FIELDS if n in chosen)
    available = box.height * PT_PER_MM - code.height - (serial.height if serial else 0.0)
    if sum(f.height for f in chosen.values()) > available:
        complete = False
    while sum(f.height for f in chosen.values()) > available and by_priority:
        _p, name = by_priority.pop(0)
        shorter = _shorter(name, chosen[name], label, texts, width_pt)
        if shorter is not None:
            chosen[name] = shorter
            by_priority.insert(0, (_p, name))
            continue
        del chosen[name]
    return _place(label, layout, chosen, code, serial, star_room), complete


def _dates_on_two_lines(label: Label, texts: LabelTexts, font: str, width_pt: float, size: float, smallest: float) -> Fitted | None:
    """The packing date on one line and the best-before date on the next, each name with its date (never a date
    cut from its name), at the largest size ≥ smallest at which both fit; None when they do not."""
    pairs = ((texts.packing, label.packing_date), (texts.best_before, label.best_before))
    lines = tuple(nfc(f"{name} {value}") for name, value in pairs)
    current = size
    while current >= smallest - 1e-9:
        if all(text_width(line, font, current) <= width_pt for line in lines):
            return Fitted(lines, current, font)
        current -= 0.25
    return None


def _shorter(name: str, fitted: Fitted, label: Label, texts: LabelTexts, width_pt: float) -> Fitted | None:
    """A one-line form of a two-line field, before it is dropped: the product name cut short, or the
    best-before date alone (it matters more to a buyer than the packing date). None: there is none."""
    if len(fitted.lines) < 2:
        return None
    if name == "product":
        return fit(label.product, fitted.font, width_pt, fitted.size, fitted.size, 1)
    if name == "dates" and label.packing_date and label.best_before:
        alone = fit(_dates_text(label, texts, packing=False), fitted.font, width_pt, fitted.size, fitted.size, 1)
        return None if alone.lines[0].endswith(ELLIPSIS) else alone
    return None


def _place(label: Label, layout: Layout, chosen: dict[str, Fitted], code: Fitted, serial: Fitted | None,
           star_room: dict) -> Composition:
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
            inks.append(Box(box.x, top - height, x - box.x + _ink_width(text, fitted.font, fitted.size), height))
            top -= height
    bottom, serial_line = box.y, None
    if serial is not None:  # the lowest line of the label
        serial_line = Line(serial.lines[0], serial.font, serial.size, box.x, box.y + serial.size * 0.25 / PT_PER_MM)
        inks.append(Box(box.x, box.y, _ink_width(serial.lines[0], serial.font, serial.size), serial.height / PT_PER_MM))
        bottom += serial.height / PT_PER_MM
    code_lines = []
    line_height = code.size * LEADING / PT_PER_MM
    for i, text in enumerate(code.lines):
        baseline = bottom + code.size * 0.25 / PT_PER_MM + (len(code.lines) - 1 - i) * line_height
        code_lines.append(Line(text, code.font, code.size, box.x, baseline))
    code_width = max(_ink_width(_widest_like(text, code.font), code.font, code.size) for text in code.lines)
    inks.append(Box(box.x, bottom, code_width, code.height / PT_PER_MM))
    return Composition(tuple(lines), tuple(code_lines), serial_line, stars, tuple(inks))


def _ink_width(text: str, font: str, size: float) -> float:
    """How far a line reaches from where it starts, in mm."""
    return text_width(text, font, size) / PT_PER_MM


def normalise(label: Label) -> Label:
    return replace(
        label, code_text=nfc(label.code_text), product=nfc(label.product), cooperative=nfc(label.cooperative),
        lot=nfc(label.lot), tagline=nfc(label.tagline),
    )
