"""A batch's inputs (one step back) and shipments (one step forward): add, edit, delete from the batch page."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.coop import bp
from app.coop.forms import InputForm, ShipmentForm
from app.coop.views import coop_id
from app.pages import form_page, saved
from app.services import batch_inputs, batches, shipments
from app.services.geo import commune_label


def _back(batch_id: int, anchor: str):
    return redirect(url_for(".batch", batch_id=batch_id, _anchor=anchor))


@bp.route("/batches/<int:batch_id>/inputs/new", methods=["GET", "POST"])
def new_input(batch_id: int):
    item = batches.get_batch(coop_id(), batch_id)
    form = InputForm()
    if form.validate_on_submit() and saved(form, lambda: batch_inputs.add_input(coop_id(), batch_id, form.values(), current_user.id)):
        flash(_("Input saved."), "success")
        return _back(batch_id, "inputs")
    return form_page("coop/input_form.html", form, batch=item, item=None)


@bp.route("/batches/<int:batch_id>/inputs/<int:input_id>/edit", methods=["GET", "POST"])
def edit_input(batch_id: int, input_id: int):
    item = batch_inputs.get_input(coop_id(), batch_id, input_id)
    form = InputForm(obj=item)
    if request.method == "GET":
        form.kind.data = item.kind.value
    if form.validate_on_submit() and saved(form, lambda: batch_inputs.update_input(coop_id(), batch_id, input_id, form.values(), current_user.id)):
        flash(_("Input saved."), "success")
        return _back(batch_id, "inputs")
    return form_page("coop/input_form.html", form, batch=item.batch, item=item)


@bp.route("/batches/<int:batch_id>/inputs/<int:input_id>/delete", methods=["POST"])
def delete_input(batch_id: int, input_id: int):
    batch_inputs.delete_input(coop_id(), batch_id, input_id, current_user.id)
    flash(_("Input deleted. Diary entries that used it keep its name."), "success")
    return _back(batch_id, "inputs")


def _shipment_form(batch, shipment=None) -> ShipmentForm:
    runs = shipments.runs_on_batch(batch)
    form = ShipmentForm(obj=shipment, single_run=runs[0].id if len(runs) == 1 else None)
    form.runs = runs
    if request.method == "GET":
        form.unit.data = shipment.unit if shipment else batch.unit
        form.buyer_kind.data = shipment.buyer_kind.value if shipment else form.buyer_kind.choices[0][0]
        form.buyer_commune.data = commune_label(shipment.buyer_commune) if shipment and shipment.buyer_commune else ""
        form.ranges.data = shipments.format_ranges(shipment.ranges) if shipment else ""
    return form


def _saved_shipment(form, action):
    shipment = saved(form, action)
    if shipment is not None:
        flash(_("Shipment saved."), "success")
        if shipments.unit_not_checked(shipment):
            flash(_("This shipment is counted in %(unit)s and the batch in %(batch_unit)s: the quantity left was not checked.",
                    unit=shipment.unit, batch_unit=shipment.batch.unit), "warning")
    return shipment


@bp.route("/batches/<int:batch_id>/shipments/new", methods=["GET", "POST"])
def new_shipment(batch_id: int):
    item = batches.get_batch(coop_id(), batch_id)
    form = _shipment_form(item)
    if form.validate_on_submit() and _saved_shipment(form, lambda: shipments.create_shipment(coop_id(), batch_id, form.values(), current_user.id)):
        return _back(batch_id, "shipments")
    return form_page("coop/shipment_form.html", form, batch=item, shipment=None, left=shipments.left_to_ship(item))


@bp.route("/batches/<int:batch_id>/shipments/<int:shipment_id>/edit", methods=["GET", "POST"])
def edit_shipment(batch_id: int, shipment_id: int):
    shipment = shipments.get_shipment(coop_id(), batch_id, shipment_id)
    form = _shipment_form(shipment.batch, shipment)
    if form.validate_on_submit() and _saved_shipment(
            form, lambda: shipments.update_shipment(coop_id(), batch_id, shipment_id, form.values(), current_user.id)):
        return _back(batch_id, "shipments")
    return form_page("coop/shipment_form.html", form, batch=shipment.batch, shipment=shipment,
                     left=shipments.left_to_ship(shipment.batch))


@bp.route("/batches/<int:batch_id>/shipments/<int:shipment_id>/delete", methods=["POST"])
def delete_shipment(batch_id: int, shipment_id: int):
    shipments.delete_shipment(coop_id(), batch_id, shipment_id)
    flash(_("Shipment deleted."), "success")
    return _back(batch_id, "shipments")
