from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.audit_page import audit_csv as audit_csv_download, audit_page
from app.coop import bp
from app.coop.forms import BatchForm, CertificationForm, CooperativeForm, EventForm, ProductForm
from app.i18n import local_today
from app.pages import form_page, saved, upload
from app.services import (audit, batches, compliance, cooperatives, diary_kinds, expiring, expiry_notices, listings,
                          notices, products, report_inbox, shipments)
from app.services import gtin
from app.services.errors import RuleViolation
from app.services.geo import commune_label


def coop_id() -> int:
    return current_user.cooperative_id


@bp.route("/")
def dashboard():
    return render_template(
        "coop/dashboard.html",
        cooperative=cooperatives.get_cooperative(coop_id()),
        products=products.list_products(coop_id(), include_archived=True),
        batches=batches.list_batches(coop_id())[:10],
        **_notice_block(),
    )


def _notice_block() -> dict:
    """The dashboard's "Notices": unread notices, what expires soon (worked out now, never stored) and is not
    already told by one of those notices, new reports."""
    unread = notices.unread(coop_id())
    return {"notices": unread, "notice_counts": notices.counts(coop_id()),
            "expiring": expiry_notices.not_told_by(expiring.for_cooperative(coop_id(), local_today()), unread),
            "new_reports": report_inbox.new_count(coop_id())}


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    coop = cooperatives.get_cooperative(coop_id())
    form = CooperativeForm(obj=coop)
    if request.method == "GET":
        form.commune.data = commune_label(coop.commune)
    if form.validate_on_submit() and saved(form, lambda: cooperatives.update_cooperative(coop.id, form.values(), current_user.id, upload("logo"))):
        flash(_("Saved."), "success")
        return redirect(url_for(".profile"))
    return form_page("coop/profile.html", form, cooperative=coop)


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    form = ProductForm()
    if form.validate_on_submit():
        product = saved(form, lambda: products.create_product(coop_id(), form.values(), current_user.id, upload("photo")))
        if product:
            flash(_("Product saved."), "success")
            return redirect(url_for(".product", product_id=product.id))
    return form_page("coop/product_form.html", form, product=None)


@bp.route("/products/<int:product_id>")
def product(product_id: int):
    item = products.get_product(coop_id(), product_id)
    return render_template(
        "coop/product.html",
        product=item,
        batches=batches.list_batches(coop_id(), product_id),
        cert_form=CertificationForm(formdata=None),
    )


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id: int):
    item = products.get_product(coop_id(), product_id)
    form = ProductForm(obj=item)
    if request.method == "GET":
        form.ocop_stars.data = item.ocop_stars
        form.gtin.data = gtin.as_entered(item.gtin)  # the digits under the barcode, not the stored GTIN-14
    if form.validate_on_submit() and saved(form, lambda: products.update_product(coop_id(), product_id, form.values(), current_user.id, upload("photo"))):
        flash(_("Product saved."), "success")
        return redirect(url_for(".product", product_id=product_id))
    return form_page("coop/product_form.html", form, product=item)


@bp.route("/products/<int:product_id>/archive", methods=["POST"])
def archive_product(product_id: int):
    archive = request.form.get("archived", "1") == "1"
    products.set_archived(coop_id(), product_id, archive, current_user.id)
    flash(_("Product archived.") if archive else _("Product restored."), "success")
    return redirect(url_for(".product", product_id=product_id))


@bp.route("/products/<int:product_id>/photos/<int:photo_id>/delete", methods=["POST"])
def delete_product_photo(product_id: int, photo_id: int):
    products.remove_photo(coop_id(), product_id, photo_id, current_user.id)
    flash(_("Photo removed."), "success")
    return redirect(url_for(".edit_product", product_id=product_id))


@bp.route("/products/<int:product_id>/certifications", methods=["POST"])
def add_certification(product_id: int):
    item = products.get_product(coop_id(), product_id)
    form = CertificationForm()
    if form.validate_on_submit():
        products.add_certification(coop_id(), product_id, form.values(), current_user.id)
        flash(_("Certification added."), "success")
        return redirect(url_for(".product", product_id=product_id))
    page = render_template("coop/product.html", product=item, batches=batches.list_batches(coop_id(), product_id), cert_form=form)
    return page, 422


@bp.route("/products/<int:product_id>/certifications/<int:cert_id>/delete", methods=["POST"])
def delete_certification(product_id: int, cert_id: int):
    products.remove_certification(coop_id(), product_id, cert_id, current_user.id)
    flash(_("Certification removed."), "success")
    return redirect(url_for(".product", product_id=product_id))


@bp.route("/products/<int:product_id>/batches/new", methods=["GET", "POST"])
def new_batch(product_id: int):
    item = products.get_product(coop_id(), product_id)
    form = BatchForm()
    if request.method == "GET":
        form.unit.data = "kg"
    if form.validate_on_submit():
        batch = saved(form, lambda: batches.create_batch(coop_id(), product_id, form.values(), current_user.id))
        if batch:
            flash(_("Batch saved."), "success")
            return redirect(url_for(".batch", batch_id=batch.id))
    return form_page("coop/batch_form.html", form, product=item, batch=None)


@bp.route("/batches/<int:batch_id>")
def batch(batch_id: int):
    item = batches.get_batch(coop_id(), batch_id)
    return render_template("coop/batch.html", batch=item, product=item.product,
                           listing=listings.cooperative_listing(coop_id(), batch_id, local_today()),
                           problems=compliance.problems(item), override=compliance.override(item),
                           buyers=shipments.buyers_to_call(item), left=shipments.left_to_ship(item),
                           latest_event=batches.latest_event(coop_id(), batch_id))


@bp.route("/batches/<int:batch_id>/edit", methods=["GET", "POST"])
def edit_batch(batch_id: int):
    item = batches.get_batch(coop_id(), batch_id)
    form = BatchForm(obj=item)
    if form.validate_on_submit() and saved(form, lambda: batches.update_batch(coop_id(), batch_id, form.values(), current_user.id)):
        flash(_("Batch saved."), "success")
        return redirect(url_for(".batch", batch_id=batch_id))
    return form_page("coop/batch_form.html", form, product=item.product, batch=item)


@bp.route("/batches/<int:batch_id>/delete", methods=["POST"])
def delete_batch(batch_id: int):
    product_id = batches.get_batch(coop_id(), batch_id).product_id
    try:
        batches.delete_batch(coop_id(), batch_id)
    except RuleViolation as refused:
        flash(refused.message, "error")
        return redirect(url_for(".batch", batch_id=batch_id))
    flash(_("Batch deleted."), "success")
    return redirect(url_for(".product", product_id=product_id))


def _event_form_page(form: EventForm, batch, event=None, **context):
    """The diary entry form, with the rules of each kind for the script that shows only the kind's fields."""
    return form_page("coop/event_form.html", form, batch=batch, event=event, kind_rules=diary_kinds.as_json(), **context)


@bp.route("/batches/<int:batch_id>/events/new", methods=["GET", "POST"])
def new_event(batch_id: int):
    item = batches.get_batch(coop_id(), batch_id)
    form = EventForm(inputs=item.inputs)
    if request.method == "GET":
        form.event_date.data = local_today()
        if request.args.get("kind") in {k for k, _ in form.kind.choices}:
            form.kind.data = request.args["kind"]
    if form.validate_on_submit() and saved(form, lambda: batches.add_event(coop_id(), batch_id, form.values(), current_user.id, upload("photo"))):
        flash(_("Diary entry saved."), "success")
        return redirect(url_for(".batch", batch_id=batch_id))
    return _event_form_page(form, item, latest_event=batches.latest_event(coop_id(), batch_id))


@bp.route("/batches/<int:batch_id>/events/copy")
def copy_event(batch_id: int):
    """A new entry filled in from the batch's latest entry (its kind, input, dose, interval and who did it), dated
    today; it is sent to the new-entry form, so nothing is saved until the member sends it."""
    item = batches.get_batch(coop_id(), batch_id)
    latest = batches.latest_event(coop_id(), batch_id)
    if latest is None:
        return redirect(url_for(".new_event", batch_id=batch_id))
    form = EventForm(data={**diary_kinds.copied_values(latest), "event_date": local_today()}, inputs=item.inputs)
    return _event_form_page(form, item, action=url_for(".new_event", batch_id=batch_id), copied_from=latest)


@bp.route("/batches/<int:batch_id>/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(batch_id: int, event_id: int):
    event = batches.get_event(coop_id(), batch_id, event_id)
    form = EventForm(obj=event, inputs=event.batch.inputs)
    if form.validate_on_submit() and saved(form, lambda: batches.update_event(coop_id(), batch_id, event_id, form.values(), current_user.id, upload("photo"))):
        flash(_("Diary entry saved."), "success")
        return redirect(url_for(".batch", batch_id=batch_id))
    return _event_form_page(form, event.batch, event)


@bp.route("/batches/<int:batch_id>/events/<int:event_id>/delete", methods=["POST"])
def delete_event(batch_id: int, event_id: int):
    batches.delete_event(coop_id(), batch_id, event_id)
    flash(_("Diary entry deleted."), "success")
    return redirect(url_for(".batch", batch_id=batch_id))


@bp.route("/audit")
def audit_trail():
    """What was changed in the member's own cooperative, by whom and when."""
    return audit_page("coop/audit.html", audit.Scope(cooperative_id=coop_id()), "coop.audit_csv")


@bp.route("/audit.csv")
def audit_csv():
    return audit_csv_download(audit.Scope(cooperative_id=coop_id()), "nhat-ky-thay-doi")
