"""A cooperative's own label sheets: list, define and change in millimetres, and preview any sheet as a PNG."""
from flask import Response, redirect, render_template, request, url_for
from flask_babel import format_decimal, lazy_gettext as _l
from flask_login import current_user
from wtforms import DecimalField, SelectField
from wtforms.widgets import TextInput

from app.coop import bp
from app.coop.views import coop_id
from app.forms import ServiceForm, text, whole_number
from app.pages import form_page, saved
from app.services import cooperatives, label_templates
from app.services.errors import NotFound, RuleViolation

PAGE_CHOICES = [("a4", "A4 (210×297 mm)"), ("a5", "A5 (148×210 mm)"), ("custom", _l("Other size"))]


class MillimetreField(DecimalField):
    """A length in millimetres, typed with a decimal comma (38,1) as in Vietnamese or a point (38.1): a text box
    with the phone's decimal keyboard, since a number box refuses the comma."""

    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed, as typed
        return "" if self.data is None else format_decimal(self.data, format="0.##")  # 45,7 in Vietnamese

    def process_formdata(self, valuelist):
        super().process_formdata([value.strip().replace(",", ".") for value in valuelist])


def _mm(label, is_required=False):
    from wtforms.validators import InputRequired, Optional

    message = _l("Enter a number of millimetres, e.g. 38,1.")
    return MillimetreField(label, places=2, validators=[InputRequired(message) if is_required else Optional()],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})


class LabelTemplateForm(ServiceForm):
    name = text(_l("Name (e.g. the sheet's brand and number)"), 80, is_required=True)
    page_size = SelectField(_l("Page size"), choices=PAGE_CHOICES, default="a4")
    page_width = _mm(_l("Page width (mm)"))
    page_height = _mm(_l("Page height (mm)"))
    columns = whole_number(_l("Columns (labels across)"), 1, 50, is_required=True)
    rows = whole_number(_l("Rows (labels down)"), 1, 100, is_required=True)
    label_width = _mm(_l("Label width (mm)"), is_required=True)
    label_height = _mm(_l("Label height (mm)"), is_required=True)
    margin_left = _mm(_l("Left margin (mm)"))
    margin_top = _mm(_l("Top margin (mm)"))
    gap_x = _mm(_l("Gap between columns (mm)"))
    gap_y = _mm(_l("Gap between rows (mm)"))
    corner_radius = _mm(_l("Corner radius (mm)"))


def _save(template_id: int | None):
    template = label_templates.get_template(coop_id(), template_id) if template_id is not None else None
    form = LabelTemplateForm(obj=template)
    if form.validate_on_submit():
        saved_template = saved(form, lambda: label_templates.save_template(coop_id(), form.values(), current_user.id, template_id))
        if saved_template:
            return redirect(url_for(".label_template", template_id=saved_template.id, saved=1))
    return form_page("coop/label_template_form.html", form, sheet=template)


@bp.route("/label-templates")
def label_template_list():
    return render_template("coop/label_templates.html", templates=label_templates.list_templates(coop_id()),
                           sheet_id=label_templates.sheet_id)


@bp.route("/label-templates/new", methods=["GET", "POST"])
def new_label_template():
    return _save(None)


@bp.route("/label-templates/<int:template_id>", methods=["GET", "POST"])
def label_template(template_id: int):
    return _save(template_id)


@bp.route("/sheets/<sheet>/preview.png")
def sheet_preview(sheet: str):
    """One page of a sheet (built-in or the cooperative's own) filled with sample labels, before printing."""
    try:
        spec = label_templates.resolve(coop_id(), sheet)
    except RuleViolation:
        raise NotFound from None
    coop = cooperatives.get_cooperative(coop_id())
    png = label_templates.preview_png(spec, label_templates.label_name_of(coop))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})
