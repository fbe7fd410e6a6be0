"""Fitting text into a width: NFC first, then shrink to a minimum size, then wrap, then ellipsis."""
import unicodedata
from dataclasses import dataclass

from labels.fonts import text_width

ELLIPSIS = "…"
SHRINK_STEP = 0.25


@dataclass(frozen=True)
class Fitted:
    lines: tuple[str, ...]
    size: float
    font: str

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LEADING


LEADING = 1.12


def nfc(text: str) -> str:
    """Precomposed Vietnamese letters: the PDF library does not position combining accents."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _ellipsize(text: str, font: str, size: float, width: float) -> str:
    if text_width(text, font, size) <= width:
        return text
    while text and text_width(text.rstrip() + ELLIPSIS, font, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS if text else ""


def _wrap(words: list[str], font: str, size: float, width: float, max_lines: int) -> list[str] | None:
    """Greedy wrap; None when the words need more than max_lines lines."""
    lines, current = [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if text_width(candidate, font, size) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    if len(lines) > max_lines or any(text_width(line, font, size) > width for line in lines):
        return None
    return lines


WRAP_BELOW = 0.85  # a text that may wrap is wrapped rather than shrunk below this share of its size


def _one_line(text: str, font: str, width: float, size: float, down_to: float) -> Fitted | None:
    current = size
    while current >= down_to - 1e-9:
        if text_width(text, font, current) <= width:
            return Fitted((text,), current, font)
        current -= SHRINK_STEP
    return None


def _wrapped(words: list[str], font: str, width: float, size: float, min_size: float, max_lines: int) -> Fitted | None:
    current = size
    while current >= min_size - 1e-9:
        lines = _wrap(words, font, current, width, max_lines)
        if lines:
            return Fitted(tuple(lines), current, font)
        current -= SHRINK_STEP
    return None


def fit(text: str, font: str, width: float, size: float, min_size: float, max_lines: int = 1,
        wrap_first: bool = False) -> Fitted:
    """The largest size ≥ min_size at which text fits in max_lines of width; else ellipsis at min_size.

    Shrunk on one line first, then wrapped; with wrap_first, a text allowed several lines is wrapped at a size
    near its own before it is shrunk far on one line (two lines of 9 points read better than one of 5)."""
    text = nfc(text)
    words = text.split(" ")
    if max_lines > 1 and wrap_first:
        attempts = (lambda: _one_line(text, font, width, size, max(min_size, size * WRAP_BELOW)),
                    lambda: _wrapped(words, font, width, size, min_size, max_lines),
                    lambda: _one_line(text, font, width, size, min_size))
    else:
        attempts = (lambda: _one_line(text, font, width, size, min_size),
                    lambda: _wrapped(words, font, width, size, min_size, max_lines) if max_lines > 1 else None)
    for attempt in attempts:
        found = attempt()
        if found:
            return found
    if max_lines > 1:
        lines = _wrap(words, font, min_size, width, 10_000) or [text]
        kept = lines[: max_lines - 1] + [_ellipsize(" ".join(lines[max_lines - 1:]), font, min_size, width)]
        return Fitted(tuple(_ellipsize(line, font, min_size, width) for line in kept), min_size, font)
    return Fitted((_ellipsize(text, font, min_size, width),), min_size, font)
