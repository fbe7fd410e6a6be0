"""/api/v1/batches and their production diary, through app/services/batches.py."""
from flask import url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select

from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.api.v1.conditional import IDEMPOTENCY_DOC, IF_MATCH_DOC, etag_header, idempotent, require_current
from app.api.v1.paging import PageQuerySchema, page_schema, paginate
from app.models import Batch, DiaryEvent, Product
from app.schemas.resources import BatchFilterSchema, BatchSchema, BatchUpdateSchema, DiaryEventSchema
from app.services import batches

blp = resource_blueprint("batches", "Batches (lots) and their production diary.")


class BatchListQuerySchema(PageQuerySchema, BatchFilterSchema):
    pass


@blp.route("/batches")
class BatchList(MethodView):
    @blp.arguments(BatchListQuerySchema, location="query")
    @blp.response(200, page_schema(BatchSchema))
    def get(self, args):
        """The cooperative's batches, oldest first; only one product's with product_id."""
        stmt = select(Batch).join(Product).where(Product.cooperative_id == coop_id())
        if args["product_id"] is not None:
            stmt = stmt.where(Batch.product_id == args["product_id"])
        return paginate(stmt, Batch.id, args)

    @idempotent
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(BatchSchema)
    @blp.response(201, BatchSchema)
    def post(self, values):
        """Create a batch of one of the cooperative's products. Send an Idempotency-Key to retry safely."""
        product_id = values.pop("product_id")
        batch = batches.create_batch(coop_id(), product_id, values, current_user.id)
        return batch, 201, {"Location": url_for(".BatchItem", batch_id=batch.id, _external=True)}


@blp.route("/batches/<id:batch_id>")
class BatchItem(MethodView):
    @blp.response(200, BatchSchema)
    def get(self, batch_id):
        """One batch, with its ETag."""
        batch = batches.get_batch(coop_id(), batch_id)
        return batch, 200, etag_header(batch)

    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(BatchUpdateSchema(partial=True))
    @blp.response(200, BatchSchema)
    def patch(self, values, batch_id):
        """Change some fields. If-Match is required."""
        require_current(batches.get_batch(coop_id(), batch_id))
        batch = batches.update_batch(coop_id(), batch_id, values, current_user.id)
        return batch, 200, etag_header(batch)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, batch_id):
        """Delete a batch and its diary; refused (422) once stamps were printed for it. If-Match is required."""
        require_current(batches.get_batch(coop_id(), batch_id))
        batches.delete_batch(coop_id(), batch_id)


@blp.route("/batches/<id:batch_id>/events")
class EventList(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(DiaryEventSchema))
    def get(self, args, batch_id):
        """The batch's production diary, in the order it was written."""
        batch = batches.get_batch(coop_id(), batch_id)
        return paginate(select(DiaryEvent).where(DiaryEvent.batch_id == batch.id), DiaryEvent.id, args)

    @idempotent
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(DiaryEventSchema)
    @blp.response(201, DiaryEventSchema)
    def post(self, values, batch_id):
        """Add a diary entry. Send an Idempotency-Key to retry safely."""
        event = batches.add_event(coop_id(), batch_id, values, current_user.id)
        location = url_for(".EventItem", batch_id=batch_id, event_id=event.id, _external=True)
        return event, 201, {"Location": location}


@blp.route("/batches/<id:batch_id>/events/<id:event_id>")
class EventItem(MethodView):
    @blp.response(200, DiaryEventSchema)
    def get(self, batch_id, event_id):
        """One diary entry, with its ETag."""
        event = batches.get_event(coop_id(), batch_id, event_id)
        return event, 200, etag_header(event)

    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(DiaryEventSchema(partial=True))
    @blp.response(200, DiaryEventSchema)
    def patch(self, values, batch_id, event_id):
        """Change some fields. If-Match is required."""
        require_current(batches.get_event(coop_id(), batch_id, event_id))
        event = batches.update_event(coop_id(), batch_id, event_id, values, current_user.id)
        return event, 200, etag_header(event)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, batch_id, event_id):
        """Delete a diary entry. If-Match is required."""
        require_current(batches.get_event(coop_id(), batch_id, event_id))
        batches.delete_event(coop_id(), batch_id, event_id)
