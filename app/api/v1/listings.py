"""/api/v1/listings: a commune officer's listings (the batches of cooperatives in the officer's communes),
decisions (verify, reject) and recalls, through app/services/listings.py and commune_watch.py; and the scans
per product and day that the officer's dashboard charts. A batch outside the officer's communes is a 404.

A listing's ETag names the facts a verification vouches for (listings.facts: origin, product, batch, diary,
certifications), the batch's state and the latest decision: a decision needs it in If-Match, so an officer
never verifies or rejects facts other than those they read."""
import hashlib

from flask import abort, request, url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select

from app.api.v1.blueprints import resource_blueprint
from app.api.v1.conditional import IF_MATCH_DOC
from app.api.v1.paging import PageQuerySchema, page_schema, paginate
from app.i18n import local_today
from app.models import Batch, Cooperative, Product, Role
from app.schemas.listings import (
    VerificationSchema, ListingSchema, ReasonSchema, ScanQuerySchema, ScanSeriesListSchema, VerifySchema,
)
from app.services import commune_watch, listings

blp = resource_blueprint("listings", "Commune officers: listings to verify, decisions, recalls, scans per day.",
                         members_only=False)


@blp.before_request
def require_officer() -> None:
    if request.method != "OPTIONS" and current_user.role is not Role.OFFICER:
        abort(403)


def listing_etag(listing: listings.Listing) -> str:
    batch, decision = listing.batch, listing.decision
    version = f"{listings.fingerprint(listings.facts(batch))}|{batch.status.value}|{decision.id if decision else 0}"
    return f"{batch.id}-{hashlib.sha256(version.encode()).hexdigest()[:20]}"


def _listing(batch_id: int) -> listings.Listing:
    return listings.listing(listings.officer_batch(current_user.id, batch_id), local_today())


def _require_current(batch_id: int) -> None:
    if not request.if_match:
        abort(428)
    if not request.if_match.contains(listing_etag(_listing(batch_id))):
        abort(412)


@blp.route("/listings")
class ListingList(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ListingSchema))
    def get(self, args):
        """The listings of the officer's communes, oldest batch first, with their state."""
        stmt = (select(Batch).join(Product).join(Cooperative)
                .where(Cooperative.commune_code.in_(listings.officer_communes(current_user.id))))
        page, status, headers = paginate(stmt, Batch.id, args)
        page.items = [listings.listing(batch, local_today()) for batch in page.items]
        return page, status, headers


@blp.route("/listings/<id:batch_id>")
class ListingItem(MethodView):
    @blp.response(200, ListingSchema)
    def get(self, batch_id):
        """One listing, with the ETag a decision must send back."""
        found = _listing(batch_id)
        return found, 200, {"ETag": f'"{listing_etag(found)}"'}


@blp.route("/listings/<id:batch_id>/verify")
class ListingVerify(MethodView):
    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(VerifySchema)
    @blp.response(201, VerificationSchema)
    def post(self, values, batch_id):
        """Verify the listing's facts as read (If-Match)."""
        _require_current(batch_id)
        decision = listings.verify(current_user.id, batch_id, values["valid_until"], local_today())
        return decision, 201, {"Location": url_for(".ListingItem", batch_id=batch_id, _external=True)}


@blp.route("/listings/<id:batch_id>/reject")
class ListingReject(MethodView):
    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(ReasonSchema)
    @blp.response(201, VerificationSchema)
    def post(self, values, batch_id):
        """Reject the listing's facts as read (If-Match), with the reason the cooperative will see."""
        _require_current(batch_id)
        decision = listings.reject(current_user.id, batch_id, values["reason"])
        return decision, 201, {"Location": url_for(".ListingItem", batch_id=batch_id, _external=True)}


@blp.route("/listings/<id:batch_id>/recall")
class ListingRecall(MethodView):
    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(ReasonSchema)
    @blp.response(200, ListingSchema)
    def post(self, values, batch_id):
        """Recall the batch (If-Match): every scan of its stamps then says so, with the reason."""
        _require_current(batch_id)
        commune_watch.recall(current_user.id, batch_id, values["reason"], local_today())
        found = _listing(batch_id)
        return found, 200, {"ETag": f'"{listing_etag(found)}"'}


@blp.route("/scans/per-day")
class ScansPerDay(MethodView):
    @blp.arguments(ScanQuerySchema, location="query")
    @blp.response(200, ScanSeriesListSchema)
    def get(self, args):
        """Scans per product and day in the officer's communes, over the last `days` days (the dashboard's chart)."""
        codes = listings.officer_communes(current_user.id)
        return {"series": commune_watch.scans_per_product(codes, local_today(), args["days"])}
