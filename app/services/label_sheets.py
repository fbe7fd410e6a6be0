"""Label sheets: the label library, loaded only when something is printed, and its built-in sheet templates.

`labels` (ReportLab and the QR encoder) is imported on first use, so the web pages that never print do not
load it. A template id is valid exactly when it is a key of templates(). The calibration page outlines every
cell of a template and has a millimetre ruler, so a cooperative can measure its printer's offset.
"""
import io


def library():
    import labels  # imported late: the web pages that never print need not load ReportLab

    return labels


def templates() -> dict:
    return library().BUILTIN_SPECS


def calibration_pdf(template_id: str) -> bytes:
    """A page with every cell's outline and a ruler, to measure a printer's offset."""
    out = io.BytesIO()
    library().render_calibration(templates()[template_id], out)
    return out.getvalue()
