"""Label sheets: the label library, loaded only when something is printed, the sheets a cooperative can print on
(the built-in ones and its own templates), and their names in the user's language.

`labels` (ReportLab and the QR encoder) is imported on first use, so the web pages that never print do not
load it. A sheet id is a key of templates() or "custom-<id>" for a cooperative's own template; a run keeps the
sheet's dimensions as printed (sheet_record), so its PDF renders the same whatever changes later. The library's
specs are language-neutral: display_name builds the name a user reads, numbers in the user's locale
(38,1 in Vietnamese, 38.1 in English). The calibration page outlines every cell of a sheet and has a
millimetre ruler, so a cooperative can measure its printer's offset.
"""
import dataclasses
import io

from flask_babel import format_decimal, gettext as _

CUSTOM_PREFIX = "custom-"
SPEC_FIELDS = ("page_width", "page_height", "label_width", "label_height", "columns", "rows", "margin_left",
               "margin_top", "pitch_x", "pitch_y", "corner_radius", "printer_dpi")


def library():
    import labels  # imported late: the web pages that never print need not load ReportLab

    return labels


def templates() -> dict:
    """The built-in sheets, by id."""
    return library().BUILTIN_SPECS


def _mm(value: float) -> str:
    return format_decimal(round(value, 2), format="#,##0.##")


def display_name(spec) -> str:
    """The sheet's name in the user's language, e.g. "A4, 65 tem 38,1×21,2 mm (5×13) · Avery L7651"."""
    values = {"w": _mm(spec.label_width), "h": _mm(spec.label_height)}
    if spec.is_roll:
        return _("Roll %(w)s×%(h)s mm (thermal printer, %(dpi)s dpi)", dpi=spec.printer_dpi or 203, **values)
    paper = spec.paper or _("%(w)s×%(h)s mm page", w=_mm(spec.page_width), h=_mm(spec.page_height))
    name = _("%(paper)s, %(n)s labels %(w)s×%(h)s mm (%(c)s×%(r)s)", paper=paper, n=spec.per_page, c=spec.columns,
             r=spec.rows, **values)
    return f"{name} · {spec.brand}" if spec.brand else name


def sheet_record(spec) -> dict:
    """The dimensions a run keeps of the sheet it is printed on."""
    return {name: getattr(spec, name) for name in SPEC_FIELDS if getattr(spec, name) is not None}


def spec_from_record(sheet_id: str, record: dict):
    """A SheetSpec from a run's frozen dimensions."""
    known = {field.name for field in dataclasses.fields(library().SheetSpec)}
    return library().SheetSpec(sheet_id, **{k: v for k, v in record.items() if k in known})


def run_spec(run):
    """The sheet a run is printed on: its frozen copy, else (a run ordered before copies were kept) the built-in."""
    if run.sheet:
        return spec_from_record(run.template, run.sheet)
    return templates()[run.template]


def calibration_pdf(spec) -> bytes:
    """A page with every cell's outline and a ruler, to measure a printer's offset."""
    out = io.BytesIO()
    library().render_calibration(spec, out, title=display_name(spec))
    return out.getvalue()
