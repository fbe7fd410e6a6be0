from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.audit_page import audit_csv as audit_csv_download, audit_page
from app.commune import bp
from app.commune.forms import OverrideForm, RecallForm, RejectForm, VerifyForm
from app.coop.epcis import jsonld_download
from app.coop.notices import ReportStatusForm, move_report
from app.extensions import db
from app.i18n import local_today
from app.models import Cooperative
from app.pages import saved
from app.services import (audit, commune_watch, compliance, expiring, expiry_notices, listings, notices, report_inbox,
                          shipments)
from app.services.epcis import documents as epcis_documents
from app.services.identifiers import filename_part
from app.services.listings import QUEUED, ListingStatus
from app.vocabulary import BUYER_LABELS


@bp.route("/")
def index():
    codes = listings.officer_communes(current_user.id)
    coops = db.session.scalars(select(Cooperative).where(Cooperative.commune_code.in_(codes)).order_by(Cooperative.name))
    found = listings.officer_listings(current_user.id, local_today())
    counts = {status: sum(1 for item in found if item.status is status) for status in ListingStatus}
    return render_template("commune/index.html", cooperatives=list(coops), communes=current_user.communes, counts=counts,
                           queue=[item for item in found if item.status in QUEUED], reports=commune_watch.report_count(codes),
                           copied=commune_watch.copied_count(codes), charts=commune_watch.scans_per_product(codes, local_today()),
                           **_notices(codes))


def _notices(codes: list[int]) -> dict:
    """The officer's unread notices, and what expires soon (worked out now) that none of them already tells."""
    unread = notices.officer_unread(current_user.id, codes)
    return {"notices": unread, "unread_notices": notices.officer_unread_count(current_user.id, codes),
            "expiring": expiry_notices.not_told_by(expiring.for_communes(codes, local_today()),
                                                   [item.notice for item in unread])}


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
def read_notice(notice_id: int):
    """The officer marks a notice of their communes read, for themselves only; another commune's is a 404."""
    notices.officer_mark_read(current_user.id, listings.officer_communes(current_user.id), notice_id)
    return redirect(url_for(".index", _anchor="commune-notices"))


@bp.route("/notices/read-all", methods=["POST"])
def read_all_notices():
    notices.officer_mark_all_read(current_user.id, listings.officer_communes(current_user.id))
    flash(_("All notices marked as read."), "success")
    return redirect(url_for(".index", _anchor="commune-notices"))


@bp.route("/reports")
def reports():
    codes = listings.officer_communes(current_user.id)
    return render_template("commune/reports.html", items=report_inbox.officer_reports(current_user.id),
                           copied=commune_watch.copied_stamps(codes))


@bp.route("/reports/<int:report_id>/status", methods=["POST"])
def report_status(report_id: int):
    """The officer moves a report of their communes along; a refused change shows on the report (422)."""
    report = report_inbox.officer_report(current_user.id, report_id)
    form = ReportStatusForm()
    if form.validate() and saved(form, lambda: move_report(report, form)):
        flash(_("Report updated."), "success")
        return redirect(url_for(".reports", _anchor=f"report-{report_id}"))
    codes = listings.officer_communes(current_user.id)
    return render_template("commune/reports.html", items=report_inbox.officer_reports(current_user.id),
                           copied=commune_watch.copied_stamps(codes), failed_id=report_id, failed_form=form), 422


@bp.route("/listings")
def listing_index():
    return render_template("commune/listings.html", listings=listings.officer_listings(current_user.id, local_today()))


@bp.route("/listings/<int:batch_id>")
def listing(batch_id: int):
    batch = listings.officer_batch(current_user.id, batch_id)
    return _listing_page(batch)


@bp.route("/listings/<int:batch_id>/epcis.jsonld")
def listing_epcis(batch_id: int):
    """The listing's batch as a GS1 EPCIS 2.0 document, the same as its cooperative downloads."""
    batch = listings.officer_batch(current_user.id, batch_id)
    scope = epcis_documents.batch_scope(batch.product.cooperative_id, batch.id)
    name = f"epcis-lo-{filename_part(batch.lot_code)}-{batch.id}.jsonld"
    return jsonld_download(epcis_documents.document(epcis_documents.scope_events(scope)), name)


LISTING_FORMS = {"verify": VerifyForm, "reject": RejectForm, "override": OverrideForm, "recall": RecallForm}


def _listing_page(batch, submitted: str | None = None, form=None):
    """The listing with its four action forms; the one just submitted shows its errors (422)."""
    forms = {f"{name}_form": form if name == submitted else cls(formdata=None) for name, cls in LISTING_FORMS.items()}
    page = render_template("commune/listing.html", item=listings.listing(batch, local_today()), batch=batch, product=batch.product,
                           decisions=listings.decisions(batch.id), problems=compliance.problems(batch),
                           override=compliance.override(batch), buyers=shipments.buyers_to_call(batch),
                           buyer_labels=BUYER_LABELS, **forms)
    return page, 422 if form is not None and form.errors else 200


def _act(batch_id: int, name: str, action, done: str):
    """Run one of the listing's actions from its form: back to the listing, or the form with its errors."""
    batch = listings.officer_batch(current_user.id, batch_id)
    form = LISTING_FORMS[name]()
    if form.validate() and saved(form, lambda: action(form)):
        flash(done, "success")
        return redirect(url_for(".listing", batch_id=batch_id))
    return _listing_page(batch, name, form)


@bp.route("/listings/<int:batch_id>/verify", methods=["POST"])
def verify(batch_id: int):
    return _act(batch_id, "verify", lambda form: listings.verify(current_user.id, batch_id, form.valid_until.data, local_today()),
                _("Listing verified."))


@bp.route("/listings/<int:batch_id>/reject", methods=["POST"])
def reject(batch_id: int):
    return _act(batch_id, "reject", lambda form: listings.reject(current_user.id, batch_id, form.reason.data or ""),
                _("Listing rejected. The cooperative sees the reason."))


@bp.route("/listings/<int:batch_id>/override", methods=["POST"])
def override_gate(batch_id: int):
    return _act(batch_id, "override", lambda form: compliance.override_gate(current_user.id, batch_id, form.reason.data or ""),
                _("Override recorded: the cooperative can activate stamps for this batch."))


@bp.route("/listings/<int:batch_id>/recall", methods=["POST"])
def recall(batch_id: int):
    return _act(batch_id, "recall", lambda form: commune_watch.recall(current_user.id, batch_id, form.reason.data or "", local_today()),
                _("Batch recalled. Every scan of its stamps now shows the recall."))


@bp.route("/audit")
def audit_trail():
    return audit_page("commune/audit.html", audit.Scope(commune_codes=listings.officer_communes(current_user.id)),
                      "commune.audit_csv")


@bp.route("/audit.csv")
def audit_csv():
    return audit_csv_download(audit.Scope(commune_codes=listings.officer_communes(current_user.id)), "nhat-ky-kiem-toan")
