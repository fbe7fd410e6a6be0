"""Label sheets of QR traceability stamps as PDF. A pure library: no Flask, no database.

    render_pdf(labels, BUILTIN_SPECS["a4-65"], out)  # labels: an iterable of Label
"""
from labels.content import Label, LabelTexts, serial_text
from labels.errors import LabelSpecError
from labels.render import RenderOptions, RenderStats, qr_version_for, render_calibration, render_pdf
from labels.specs import BUILTIN_SPECS, SheetSpec, validate

__all__ = [
    "BUILTIN_SPECS", "Label", "LabelSpecError", "LabelTexts", "RenderOptions", "RenderStats", "SheetSpec",
    "qr_version_for", "render_calibration", "render_pdf", "serial_text", "validate",
]
