"""The label fonts: Source Sans Pro from the font-source-sans-pro package (full Vietnamese coverage).

ReportLab embeds TrueType fonts as subsets, so a PDF carries only the glyphs it uses. Its built-in
fonts (Helvetica…) have no Vietnamese letters and are never embedded, so they are never used here.
"""
from functools import cache
from pathlib import Path

import font_source_sans_pro
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "OCOPSans"
BOLD = "OCOPSans-Bold"
_FILES = {REGULAR: "SourceSansPro-Regular.ttf", BOLD: "SourceSansPro-Bold.ttf"}


def font_path(name: str) -> Path:
    return Path(font_source_sans_pro.__file__).parent / "files" / _FILES[name]


@cache
def register_fonts() -> tuple[str, str]:
    for name in _FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
    return REGULAR, BOLD


def text_width(text: str, font: str, size: float) -> float:
    """Width in points."""
    return pdfmetrics.stringWidth(text, font, size)
