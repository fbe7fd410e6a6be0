"""A cooperative's own label sheets, in millimetres: listed, read (another cooperative's is NotFound), saved
once the label library says they print labels that work, and previewed as a PNG page of sample labels.

The library (labels.specs.validate, the QR and code fitting) decides what fits; its refusals carry a reason and
numbers, which this module says in the user's language next to the form field at fault. Editing a template
never changes a run printed with it: the run keeps a frozen copy of the dimensions (LabelRun.sheet).
"""
import io

from sqlalchemy import select

from app.extensions import db
from app.models import Cooperative, LabelTemplate
from app.services.errors import NotFound, RuleViolation, lazy_text as _l
from app.services.label_sheets import CUSTOM_PREFIX, _mm, library, templates
from app.services.records import assign, create

PAGES = {"a4": (210.0, 297.0), "a5": (148.0, 210.0)}
NUMBER_FIELDS = ("page_width", "page_height", "label_width", "label_height", "margin_left", "margin_top", "gap_x",
                 "gap_y", "corner_radius")
FIELDS = ("name", "page_size", "columns", "rows", *NUMBER_FIELDS)
MAX_PER_PAGE = 200  # more would be labels too small for a QR code a phone reads, or a typing mistake
SAMPLE_PAYLOAD = "HTTPS://TRUYXUAT.EXAMPLE.VN/Q/7KQ4M2XD9PTA3HVBF"  # a full-length stamp URL: the real QR version
SAMPLE_CODE = "7KQ4 M2XD 9PTA 3HVBF"
PREVIEW_DPI = 96
# The library names spec attributes; the form names gaps, not pitches.
FORM_FIELD = {"pitch_x": "gap_x", "pitch_y": "gap_y"}


def sheet_id(template: LabelTemplate) -> str:
    return f"{CUSTOM_PREFIX}{template.id}"


def list_templates(coop_id: int) -> list[LabelTemplate]:
    stmt = select(LabelTemplate).where(LabelTemplate.cooperative_id == coop_id).order_by(LabelTemplate.name, LabelTemplate.id)
    return list(db.session.scalars(stmt))


def get_template(coop_id: int, template_id: int) -> LabelTemplate:
    template = db.session.get(LabelTemplate, template_id)
    if template is None or template.cooperative_id != coop_id:
        raise NotFound
    return template


def spec_of(values, id_: str = "custom"):
    """The library's SheetSpec of a template (a LabelTemplate or a dict of its form values)."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    return library().SheetSpec(
        id_, float(get("page_width")), float(get("page_height")), float(get("label_width")), float(get("label_height")),
        int(get("columns")), int(get("rows")), float(get("margin_left") or 0), float(get("margin_top") or 0),
        float(get("label_width")) + float(get("gap_x") or 0), float(get("label_height")) + float(get("gap_y") or 0),
        float(get("corner_radius") or 0),
    )


def sheets_for(coop_id: int) -> dict:
    """Every sheet the cooperative can print on, by id: the built-in ones, then its own templates."""
    own = {sheet_id(t): spec_of(t, sheet_id(t)) for t in list_templates(coop_id)}
    return {**templates(), **own}


def resolve(coop_id: int, sheet: str):
    """The SheetSpec of a sheet id the cooperative may use; RuleViolation on the form's template field if none."""
    if sheet in templates():
        return templates()[sheet]
    if sheet.startswith(CUSTOM_PREFIX) and sheet[len(CUSTOM_PREFIX):].isdigit():
        try:
            template = get_template(coop_id, int(sheet[len(CUSTOM_PREFIX):]))
        except NotFound:
            pass
        else:
            return spec_of(template, sheet)
    raise RuleViolation("template", _l("Choose a label sheet from the list."))


def _message(error) -> tuple[str, object]:
    """The form field and the user's-language message for one of the library's refusals."""
    n, reason = error.numbers, error.reason
    field = FORM_FIELD.get(error.field, error.field) or "label_width"
    messages = {
        "not_positive": _l("Enter a size larger than 0 mm."),
        "too_large": _l("At most %(limit)s mm.", limit=_mm(n.get("limit", 0))),
        "too_few": _l("At least 1."),
        "negative": _l("A margin cannot be negative."),
        "negative_gap": _l("A gap cannot be negative: labels would overlap."),
        "too_wide": _l("The labels do not fit across the page: they need %(needed)s mm, the page is %(page)s mm wide. "
                       "Use fewer columns, narrower labels, smaller gaps or a smaller left margin.",
                       needed=_mm(n.get("needed", 0)), page=_mm(n.get("page", 0))),
        "too_tall": _l("The labels do not fit down the page: they need %(needed)s mm, the page is %(page)s mm tall. "
                       "Use fewer rows, shorter labels, smaller gaps or a smaller top margin.",
                       needed=_mm(n.get("needed", 0)), page=_mm(n.get("page", 0))),
        "corner_radius": _l("The corner radius can be at most half the label's shorter side (%(limit)s mm).",
                            limit=_mm(n.get("limit", 0))),
        "qr_too_small": _l("This label is too small for a QR code that phones can scan (its dots would be %(module)s mm, "
                           "at least %(minimum)s mm are needed). Choose a larger label.",
                           module=_mm(n.get("module", 0)), minimum=_mm(n.get("minimum", 0.3))),
        "too_narrow_for_code": _l("This label is too narrow to print the stamp's code beside its QR code. Choose a wider label."),
    }
    return field, messages.get(reason, _l("These dimensions cannot print labels that work."))


def check(values: dict):
    """The template's SheetSpec once it prints labels that work, or RuleViolation on the field at fault."""
    if values.setdefault("page_size", "a4") in PAGES:
        values["page_width"], values["page_height"] = PAGES[values["page_size"]]
    for name in ("columns", "rows", "label_width", "label_height"):
        if values.get(name) in (None, ""):
            raise RuleViolation(name, _l("Enter a size larger than 0 mm.") if "label" in name else _l("At least 1."))
    for name in ("page_width", "page_height"):
        if values.get(name) is None:
            raise RuleViolation(name, _l("Enter the page size in millimetres, or choose A4 or A5."))
    if int(values["columns"]) * int(values["rows"]) > MAX_PER_PAGE:
        raise RuleViolation("rows", _l("At most %(max)s labels on a page.", max=MAX_PER_PAGE))
    for name in ("gap_x", "gap_y"):
        if float(values.get(name) or 0) < 0:
            raise RuleViolation(name, _l("A gap cannot be negative: labels would overlap."))
    lib = library()
    spec = spec_of(values)
    try:
        lib.validate(spec)
        sample_composition(spec)
    except lib.LabelSpecError as error:
        raise RuleViolation(*_message(error)) from None
    return spec


def sample_composition(spec):
    """Lay out one sample label with a full-length code and the widest serial, as a run would: raises
    LabelSpecError when the QR or the code does not fit."""
    from labels.content import compose
    from labels.geometry import plan
    from labels.qr import encode

    layout = plan(spec, encode(SAMPLE_PAYLOAD).size, dpi=spec.printer_dpi)
    return compose(sample_labels(1)[0], layout)


def sample_labels(count: int, cooperative: str = "HTX Phồn Nhi") -> list:
    lib = library()
    return [lib.Label(SAMPLE_PAYLOAD, SAMPLE_CODE, "Mật ong Phồn Nhi", cooperative, "MO-2026-04", "20/04/2026",
                      "20/04/2028", 3, serial=100_000 + i) for i in range(count)]


def save_template(coop_id: int, values: dict, actor_id: int | None, template_id: int | None = None) -> LabelTemplate:
    """Create (template_id None) or change a template, once its dimensions print labels that work."""
    template = get_template(coop_id, template_id) if template_id is not None else None
    values = dict(values)
    name = (values.get("name") or "").strip()
    if not name:
        raise RuleViolation("name", _l("Give the template a name, e.g. the sheet's brand and number."))
    values["name"] = name[:80]
    check(values)
    clean = {k: values.get(k) for k in FIELDS}
    clean.update({k: float(clean[k] or 0) for k in NUMBER_FIELDS})  # an empty margin, gap or radius is 0 mm
    if template is None:
        template = create(LabelTemplate, actor_id, cooperative_id=coop_id, **clean)
    else:
        assign(template, clean, FIELDS, actor_id)
    db.session.commit()
    return template


def preview_png(spec, cooperative: str = "HTX Phồn Nhi") -> bytes:
    """One page of the sheet filled with sample labels, as a PNG (PREVIEW_DPI): what a run will print."""
    import pypdfium2

    lib = library()
    pdf = io.BytesIO()
    lib.render_pdf(sample_labels(spec.per_page, cooperative), spec, pdf, lib.RenderOptions(workers=1, outlines=True))
    page = pypdfium2.PdfDocument(pdf.getvalue())[0]
    image = page.render(scale=PREVIEW_DPI / 72).to_pil()
    out = io.BytesIO()
    image.convert("L").save(out, format="PNG", optimize=True)
    return out.getvalue()


def label_name_of(coop: Cooperative) -> str:
    """The cooperative's name as labels print it: its short name for labels when set, else its full name."""
    return (coop.label_name or "").strip() or coop.name
