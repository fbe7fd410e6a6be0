"""Printing stamps: label runs, their progress, downloads, voiding and activation."""
import io
import secrets

from flask import flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from app.coop import bp
from app.csv_export import csv_response
from app.coop.views import coop_id
from app.pages import form_page, saved
from app.forms import ServiceForm, too_long, whole_number
from app.models import RunStatus
from app.services import batches, cooperatives, label_runs, label_sheets, label_templates, products, run_queue, run_rendering, stamp_export, stamp_ranges
from app.services.errors import RuleViolation
from app.services.identifiers import filename_part
from app.storage import KeyMissing, Stored, send_stored

ECC_CHOICES = [("M", _l("M: normal (recommended)")), ("Q", _l("Q: stronger")), ("H", _l("H: strongest")), ("L", _l("L: smallest code"))]


def _offset(label):
    return DecimalField(label, places=1, validators=[Optional(), NumberRange(-10, 10, message=_l("Enter an offset between -10 and 10 mm."))])


class RunForm(ServiceForm):
    count = whole_number(_l("Number of stamps"), 1, 100_000, is_required=True)
    template = SelectField(_l("Label sheet"))
    ecc = SelectField(_l("Error correction"), choices=ECC_CHOICES, default="M")
    offset_x_mm = _offset(_l("Printer offset, across (mm)"))
    offset_y_mm = _offset(_l("Printer offset, down (mm)"))
    crop_marks = BooleanField(_l("Crop marks (for a print shop)"))
    outlines = BooleanField(_l("Label outlines (test print on plain paper)"))
    gs1_link = BooleanField(_l("GS1 Digital Link (products with a GTIN)"))
    more_than_quantity = BooleanField(_l("Yes, print more stamps than the batch has"))
    request_token = HiddenField()

    def options(self) -> dict:
        values = self.values()
        return {
            "ecc": values["ecc"], "crop_marks": values["crop_marks"], "outlines": values["outlines"],
            "gs1_link": values["gs1_link"],
            "offset_x_mm": float(values["offset_x_mm"] or 0), "offset_y_mm": float(values["offset_y_mm"] or 0),
        }


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class RangeForm(ServiceForm):
    first = whole_number(_l("From serial"), 1, is_required=True)
    last = whole_number(_l("To serial"), 1, is_required=True)
    batch_id = SelectField(_l("Batch"), coerce=int, validate_choice=False)
    # Its own id: the page also shows the whole-run void form, whose field is "reason" too.
    reason = StringField(_l("Reason (required to void; a note when activating)"), id="range_reason", filters=[_stripped],
                         validators=[Optional(), too_long(300)])


VOID_REASON = _l("Reason (e.g. roll lost in transport)")


class VoidForm(ServiceForm):
    reason = StringField(VOID_REASON, filters=[_stripped],
                         validators=[InputRequired(stamp_ranges.REASON_REQUIRED), too_long(300)])


class OffsetForm(ServiceForm):
    print_offset_x_mm = _offset(_l("Printer offset, across (mm)"))
    print_offset_y_mm = _offset(_l("Printer offset, down (mm)"))


def _template_choices():
    """Every sheet the cooperative can print on, named in the user's language: the built-in ones, then its own."""
    own = {label_templates.sheet_id(t): t.name for t in label_templates.list_templates(coop_id())}
    choices = []
    for key, spec in label_templates.sheets_for(coop_id()).items():
        name = label_sheets.display_name(spec)
        choices.append((key, f"{own[key]} ({name})" if key in own else name))
    return choices


NOT_SENT = _l("The print queue cannot be reached right now. Your run is saved and waits: it will be sent automatically.")


def _new_run(product_id: int, batch_id: int | None):
    product = products.get_product(coop_id(), product_id)
    batch = batches.get_batch(coop_id(), batch_id) if batch_id else None
    coop = cooperatives.get_cooperative(coop_id())
    form = RunForm()
    form.template.choices = _template_choices()
    if request.method == "GET":
        form.request_token.data = secrets.token_urlsafe(24)
        form.offset_x_mm.data, form.offset_y_mm.data = coop.print_offset_x_mm, coop.print_offset_y_mm
        form.template.data = "a4-65"
    previewing = request.method == "POST" and request.form.get("action") == "preview"  # only shows the chosen sheet
    if not previewing and form.validate_on_submit():
        result = saved(form, lambda: label_runs.create_run(
            coop_id(), product_id=product.id, batch_id=batch.id if batch else None, count=form.count.data,
            template=form.template.data, options=form.options(),
            request_token=form.request_token.data or secrets.token_urlsafe(24), actor_id=current_user.id,
            more_than_quantity=form.more_than_quantity.data,
        ))
        if result:
            run, created = result
            if created and not run_queue.announce(run.id):
                flash(NOT_SENT, "warning")
            return redirect(url_for(".run", run_id=run.id))
    chosen = form.template.data if form.template.data in dict(form.template.choices) else "a4-65"
    return form_page("coop/run_form.html", form, product=product, batch=batch, preview_sheet=chosen)


@bp.route("/batches/<int:batch_id>/runs/new", methods=["GET", "POST"])
def new_batch_run(batch_id: int):
    return _new_run(batches.get_batch(coop_id(), batch_id).product_id, batch_id)


@bp.route("/products/<int:product_id>/runs/new", methods=["GET", "POST"])
def new_blank_run(product_id: int):
    return _new_run(product_id, None)


@bp.route("/runs")
def runs():
    return render_template("coop/runs.html", runs=label_runs.list_runs(coop_id()))


def _range_form(run, **kwargs) -> RangeForm:
    """The serial-range form of this run: a blank run's can activate onto its product's batches; a batch
    run's can only void, so its reason field says just that."""
    form = RangeForm(**kwargs)
    form.batch_id.choices = [(b.id, b.lot_code) for b in batches.list_batches(coop_id(), run.product_id)]
    if run.batch_id is not None:
        form.reason.label.text = VOID_REASON
    return form


def _run_page(run, range_form=None, void_form=None, status=200):
    range_form = range_form or _range_form(run, formdata=None)
    return render_template(
        "coop/run.html", run=run, stale=run_queue.is_stale(run), position=run_queue.position(run),
        can_restart=run_queue.can_restart(run), counts=stamp_ranges.stamp_counts(run.id),
        range_form=range_form, void_form=void_form or VoidForm(formdata=None), history=stamp_ranges.range_history(run.id),
    ), status


@bp.route("/runs/<int:run_id>")
def run(run_id: int):
    return _run_page(label_runs.get_run(coop_id(), run_id))


@bp.route("/runs/<int:run_id>/status")
def run_status(run_id: int):
    item = label_runs.get_run(coop_id(), run_id)
    position = run_queue.position(item)
    return jsonify(status=item.status.value, progress=item.progress, stale=run_queue.is_stale(item), error=item.error,
                   position=position, waiting=waiting_text(position) if position is not None else "")


def waiting_text(position: int) -> str:
    """A waiting run's place in line, in words."""
    if position == 0:
        return _("Next in line")
    return _("Waiting: %(count)s runs ahead of yours", count=position)


@bp.route("/runs/<int:run_id>/retry", methods=["POST"])
def retry_run(run_id: int):
    restart = run_queue.restart(coop_id(), run_id)
    if restart.restarted and not restart.sent:
        flash(NOT_SENT, "warning")
    return redirect(url_for(".run", run_id=run_id))


@bp.route("/runs/<int:run_id>/cancel", methods=["POST"])
def cancel_run(run_id: int):
    """Cancel a waiting run at once, or ask the worker printing it to stop; another cooperative's run is a 404."""
    label_runs.get_run(coop_id(), run_id)
    try:
        status = run_queue.cancel(coop_id(), run_id, current_user.id)
    except RuleViolation as refused:
        flash(refused.message, "error")
        return redirect(url_for(".run", run_id=run_id))
    if status is RunStatus.CANCELLED:
        flash(_("The run is cancelled. No stamps of it exist."), "success")
    else:
        flash(_("Stopping the run: its stamps are being removed."), "info")
    return redirect(url_for(".run", run_id=run_id))


@bp.route("/runs/<int:run_id>/labels.pdf")
def run_pdf(run_id: int):
    item = label_runs.get_run(coop_id(), run_id)  # another cooperative's run: 404, before anything is signed
    # A lot code saved before codes were checked may hold anything: only a safe form goes into the header.
    name = f"tem-{filename_part(item.batch.lot_code) if item.batch else 'trang'}-{run_id}.pdf"
    try:
        if item.status is RunStatus.DONE:
            return send_stored(Stored(run_rendering.pdf_key(run_id), run_rendering.PDF_TYPE, name))
    except KeyMissing:
        pass
    flash(_("The PDF is not ready yet."), "info")
    return redirect(url_for(".run", run_id=run_id))


@bp.route("/runs/<int:run_id>/stamps.csv")
def run_csv(run_id: int):
    item = label_runs.get_run(coop_id(), run_id)
    return csv_response(stamp_export.EXPORT_HEADER, stamp_export.export_rows(item), f"tem-{run_id}.csv")


@bp.route("/runs/<int:run_id>/void", methods=["POST"])
def void_run(run_id: int):
    item = label_runs.get_run(coop_id(), run_id)
    form = VoidForm()
    if form.validate_on_submit() and saved(form, lambda: stamp_ranges.void_run(coop_id(), run_id, form.reason.data, current_user.id)):
        flash(_("All stamps of this run are void."), "success")
        return redirect(url_for(".run", run_id=run_id))
    return _run_page(item, void_form=form, status=422)


@bp.route("/runs/<int:run_id>/range", methods=["POST"])
def run_range(run_id: int):
    """Activate a serial range onto a batch, or void it, depending on the button pressed."""
    item = label_runs.get_run(coop_id(), run_id)
    form = _range_form(item)
    if form.validate_on_submit():
        first, last, reason = form.first.data, form.last.data, form.reason.data or ""
        if request.form.get("action") == "void":
            done = saved(form, lambda: stamp_ranges.void_range(coop_id(), run_id, first, last, current_user.id, reason=reason))
            message = _("%(n)s stamps are now void.", n=done)
        else:
            done = saved(form, lambda: stamp_ranges.activate_range(coop_id(), run_id, first, last, form.batch_id.data, current_user.id, reason))
            message = _("%(n)s stamps activated.", n=done)
        if done is not None:
            flash(message, "success")
            return redirect(url_for(".run", run_id=run_id))
    return _run_page(item, range_form=form, status=422)


@bp.route("/printing", methods=["GET", "POST"])
def printing():
    coop = cooperatives.get_cooperative(coop_id())
    form = OffsetForm(obj=coop)
    if form.validate_on_submit():
        cooperatives.set_print_offset(coop.id, float(form.print_offset_x_mm.data or 0), float(form.print_offset_y_mm.data or 0), current_user.id)
        flash(_("Printer offset saved. New runs use it."), "success")
        return redirect(url_for(".printing"))
    return form_page("coop/printing.html", form, templates=_template_choices())


@bp.route("/printing/calibration.pdf")
def calibration_pdf():
    template = request.args.get("template", "a4-65")
    specs = label_templates.sheets_for(coop_id())
    if template not in specs:
        template = "a4-65"
    out = io.BytesIO(label_sheets.calibration_pdf(specs[template]))
    return send_file(out, mimetype="application/pdf", as_attachment=True, download_name=f"can-chinh-{template}.pdf", max_age=0)
