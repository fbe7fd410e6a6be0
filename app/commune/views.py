from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.commune import bp
from app.commune.forms import OverrideForm, RecallForm, RejectForm, VerifyForm
from app.csv_export import csv_response
from app.extensions import db
from app.i18n import local_today
from app.models import Cooperative
from app.pages import saved
from app.services import audit, commune_watch, compliance, listings
from app.services.listings import QUEUED, ListingStatus
from app.vocabulary import AUDIT_ACTIONS


@bp.route("/")
def index():
    codes = listings.officer_communes(current_user.id)
    coops = db.session.scalars(select(Cooperative).where(Cooperative.commune_code.in_(codes)).order_by(Cooperative.name))
    found = listings.officer_listings(current_user.id, local_today())
    counts = {status: sum(1 for item in found if item.status is status) for status in ListingStatus}
    return render_template("commune/index.html", cooperatives=list(coops), communes=current_user.communes, counts=counts,
                           queue=[item for item in found if item.status in QUEUED], reports=len(commune_watch.reports(codes)),
                           copied=len(commune_watch.copied_stamps(codes)), charts=commune_watch.scans_per_product(codes, local_today()))


@bp.route("/reports")
def reports():
    codes = listings.officer_communes(current_user.id)
    return render_template("commune/reports.html", reports=commune_watch.reports(codes), copied=commune_watch.copied_stamps(codes))


@bp.route("/listings")
def listing_index():
    return render_template("commune/listings.html", listings=listings.officer_listings(current_user.id, local_today()))


@bp.route("/listings/<int:batch_id>")
def listing(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    return _listing_page(batch)


def _listing_page(batch, verify_form=None, reject_form=None, override_form=None, recall_form=None):
    forms = {"verify_form": verify_form or VerifyForm(formdata=None), "reject_form": reject_form or RejectForm(formdata=None),
             "override_form": override_form or OverrideForm(formdata=None), "recall_form": recall_form or RecallForm(formdata=None)}
    page = render_template("commune/listing.html", item=listings.listing(batch, local_today()), batch=batch, product=batch.product,
                           decisions=listings.decisions(batch.id), problems=compliance.problems(batch),
                           override=compliance.override(batch), **forms)
    return page, 422 if any(form.errors for form in forms.values()) else 200


@bp.route("/listings/<int:batch_id>/verify", methods=["POST"])
def verify(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    form = VerifyForm()
    if form.validate() and saved(form, lambda: listings.verify(current_user.id, batch_id, form.valid_until.data, local_today())):
        flash(_("Listing verified."), "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, verify_form=form)


@bp.route("/listings/<int:batch_id>/reject", methods=["POST"])
def reject(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    form = RejectForm()
    if form.validate() and saved(form, lambda: listings.reject(current_user.id, batch_id, form.reason.data or "")):
        flash(_("Listing rejected. The cooperative sees the reason."), "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, reject_form=form)


@bp.route("/listings/<int:batch_id>/override", methods=["POST"])
def override_gate(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    form = OverrideForm()
    if form.validate() and saved(form, lambda: compliance.override_gate(current_user.id, batch_id, form.reason.data or "")):
        flash(_("Override recorded: the cooperative can activate stamps for this batch."), "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, override_form=form)


@bp.route("/audit")
def audit_trail():
    return render_template("commune/audit.html", events=list(audit.events(listings.officer_communes(current_user.id))),
                           action_labels=AUDIT_ACTIONS)


@bp.route("/audit.csv")
def audit_csv():
    rows = audit.csv_rows(listings.officer_communes(current_user.id))
    return csv_response(audit.CSV_HEADER, rows, f"nhat-ky-kiem-toan-{local_today().isoformat()}.csv")


@bp.route("/listings/<int:batch_id>/recall", methods=["POST"])
def recall(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    form = RecallForm()
    if form.validate() and saved(form, lambda: commune_watch.recall(current_user.id, batch_id, form.reason.data or "", local_today())):
        flash(_("Batch recalled. Every scan of its stamps now shows the recall."), "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, recall_form=form)
