"""/api/v1/batches/<batch_id>/shipments: a batch's shipments to buyers (one step forward), through
app/services/shipments.py, with the same ETag, If-Match and Idempotency-Key rules as the other resources."""
from flask import url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import select

from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.api.v1.conditional import IDEMPOTENCY_DOC, IF_MATCH_DOC, etag_header, idempotent, require_current
from app.api.v1.paging import PageQuerySchema, page_schema, paginate
from app.models import Shipment
from app.schemas.shipments import ShipmentSchema
from app.services import batches, shipments

blp = resource_blueprint("shipments", "A batch's shipments to buyers: whom to call if it is recalled.")


def _service_values(values: dict) -> dict:
    """The API's ranges ({run_id, first, last}) as the service takes them (run, first, last)."""
    if "ranges" in values:
        values["ranges"] = [(r["run_id"], r["first_serial"], r["last_serial"]) for r in values["ranges"] or ()]
    return values


@blp.route("/batches/<id:batch_id>/shipments")
class ShipmentList(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ShipmentSchema))
    def get(self, args, batch_id):
        """The batch's shipments, in the order they were recorded."""
        batch = batches.get_batch(coop_id(), batch_id)
        return paginate(select(Shipment).where(Shipment.batch_id == batch.id), Shipment.id, args)

    @idempotent
    @blp.doc(**IDEMPOTENCY_DOC)
    @blp.arguments(ShipmentSchema)
    @blp.response(201, ShipmentSchema)
    def post(self, values, batch_id):
        """Record a shipment. Send an Idempotency-Key to retry safely."""
        shipment = shipments.create_shipment(coop_id(), batch_id, _service_values(values), current_user.id)
        location = url_for(".ShipmentItem", batch_id=batch_id, shipment_id=shipment.id, _external=True)
        return shipment, 201, {"Location": location}


@blp.route("/batches/<id:batch_id>/shipments/<id:shipment_id>")
class ShipmentItem(MethodView):
    @blp.response(200, ShipmentSchema)
    def get(self, batch_id, shipment_id):
        """One shipment, with its ETag."""
        shipment = shipments.get_shipment(coop_id(), batch_id, shipment_id)
        return shipment, 200, etag_header(shipment)

    @blp.doc(**IF_MATCH_DOC)
    @blp.arguments(ShipmentSchema(partial=True))
    @blp.response(200, ShipmentSchema)
    def patch(self, values, batch_id, shipment_id):
        """Change some fields. If-Match is required."""
        require_current(shipments.get_shipment(coop_id(), batch_id, shipment_id))
        shipment = shipments.update_shipment(coop_id(), batch_id, shipment_id, _service_values(values), current_user.id)
        return shipment, 200, etag_header(shipment)

    @blp.doc(**IF_MATCH_DOC)
    @blp.response(204)
    def delete(self, batch_id, shipment_id):
        """Delete a shipment. If-Match is required."""
        require_current(shipments.get_shipment(coop_id(), batch_id, shipment_id))
        shipments.delete_shipment(coop_id(), batch_id, shipment_id)
