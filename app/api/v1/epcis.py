"""/api/v1/epcis/events: the cooperative's GS1 EPCIS 2.0 events query for programs, with a personal access token.

The same query and answer as the dashboard's /coop/epcis/events (app/coop/epcis.py): an EPCISQueryDocument
(application/ld+json), a Link header to the next page, 400 problem+json for a bad parameter."""
from flask.views import MethodView

from app.api.v1.access import coop_id
from app.api.v1.blueprints import resource_blueprint
from app.coop.epcis import query_response
from app.services.epcis import documents

blp = resource_blueprint("epcis", "GS1 EPCIS 2.0 events of the cooperative (read only).")


def _parameter(name: str, description: str, schema: dict | None = None) -> dict:
    return {"in": "query", "name": name, "required": False, "description": description, "schema": schema or {"type": "string"}}


QUERY_PARAMETERS = [
    _parameter("GE_eventTime", "Events at or after this time (ISO 8601 with an offset, e.g. 2026-06-01T00:00:00+07:00).",
               {"type": "string", "format": "date-time"}),
    _parameter("LT_eventTime", "Events before this time.", {"type": "string", "format": "date-time"}),
    _parameter("EQ_bizStep", "Business steps, separated by |: CBV words (packing) or URIs."),
    _parameter("MATCH_epc", "Stamp URIs as printed in the QR codes, separated by |; a trailing * matches a prefix."),
    _parameter("perPage", "Events per page (1 to 1000, default 100).", {"type": "integer", "minimum": 1, "maximum": 1000}),
    _parameter("nextPageToken", "The token of the next page, from the Link header of the previous one."),
]


@blp.route("/epcis/events")
class EpcisEvents(MethodView):
    @blp.doc(parameters=QUERY_PARAMETERS, responses={
        "200": {"description": "An EPCISQueryDocument (JSON-LD) of the events asked for.",
                "content": {documents.MEDIA_TYPE: {"schema": {"type": "object"}}}},
        "400": {"description": "A query parameter is not valid.", "content": {"application/problem+json": {"schema": {"type": "object"}}}},
    })
    def get(self):
        """The cooperative's EPCIS events, earliest first, filtered by time, business step and stamp."""
        return query_response(coop_id(), "epcis.EpcisEvents")
