from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.commune import bp
from app.commune.forms import RejectForm, VerifyForm
from app.extensions import db
from app.models import Cooperative
from app.pages import saved
from app.services import listings
from app.services.listings import QUEUED, ListingStatus


@bp.route("/")
def index():
    codes = listings.officer_communes(current_user.id)
    coops = db.session.scalars(select(Cooperative).where(Cooperative.commune_code.in_(codes)).order_by(Cooperative.name))
    found = listings.officer_listings(current_user.id, date.today())
    counts = {status: sum(1 for item in found if item.status is status) for status in ListingStatus}
    return render_template("commune/index.html", cooperatives=list(coops), communes=current_user.communes, counts=counts,
                           queue=[item for item in found if item.status in QUEUED])


@bp.route("/listings")
def listing_index():
    return render_template("commune/listings.html", listings=listings.officer_listings(current_user.id, date.today()))


@bp.route("/listings/<int:batch_id>")
def listing(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    return _listing_page(batch, VerifyForm(formdata=None), RejectForm(formdata=None))


def _listing_page(batch, verify_form, reject_form):
    item = listings.listing(batch, date.today())
    page = render_template("commune/listing.html", item=item, batch=batch, product=batch.product,
                           decisions=listings.decisions(batch.id), verify_form=verify_form, reject_form=reject_form)
    return page, 422 if verify_form.errors or reject_form.errors else 200


@bp.route("/listings/<int:batch_id>/verify", methods=["POST"])
def verify(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    form = VerifyForm()
    if form.validate() and saved(form, lambda: listings.verify(current_user.id, batch_id, form.valid_until.data, date.today())):
        flash(_("Listing verified."), "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, form, RejectForm(formdata=None))


@bp.route("/listings/<int:batch_id>/reject", methods=["POST"])
def reject(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    form = RejectForm()
    if form.validate() and saved(form, lambda: listings.reject(current_user.id, batch_id, form.reason.data or "")):
        flash(_("Listing rejected. The cooperative sees the reason."), "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, VerifyForm(formdata=None), form)
