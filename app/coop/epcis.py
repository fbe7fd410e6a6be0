"""GS1 EPCIS 2.0: a batch's, a product's or the cooperative's events as a JSON-LD download, and the events query."""
import io
import json

from flask import Response, jsonify, request, send_file, url_for

from app.coop import bp
from app.coop.views import coop_id
from app.services.epcis import documents, query
from app.services.errors import RuleViolation
from app.services.identifiers import filename_part


def jsonld_download(document: dict, filename: str) -> Response:
    """An EPCIS document as a file to save (UTF-8, Vietnamese kept readable)."""
    body = io.BytesIO(json.dumps(document, ensure_ascii=False, indent=2).encode())
    return send_file(body, mimetype=documents.MEDIA_TYPE, as_attachment=True, download_name=filename, max_age=0)


@bp.route("/epcis.jsonld")
def cooperative_epcis():
    scope = documents.cooperative_scope(coop_id())
    return jsonld_download(documents.document(documents.scope_events(scope)), f"epcis-htx-{coop_id()}.jsonld")


@bp.route("/products/<int:product_id>/epcis.jsonld")
def product_epcis(product_id: int):
    scope = documents.product_scope(coop_id(), product_id)
    return jsonld_download(documents.document(documents.scope_events(scope)), f"epcis-san-pham-{product_id}.jsonld")


@bp.route("/batches/<int:batch_id>/epcis.jsonld")
def batch_epcis(batch_id: int):
    scope = documents.batch_scope(coop_id(), batch_id)
    name = f"epcis-lo-{filename_part(scope.batches[0].lot_code)}-{batch_id}.jsonld"
    return jsonld_download(documents.document(documents.scope_events(scope)), name)


def query_response(coop_id: int, endpoint: str) -> Response:
    """The EPCIS events query over the cooperative's events: an EPCISQueryDocument, a Link to the next page if
    any, or 400 with the parameter at fault (RFC 7807, as EPCIS 2.0's REST binding answers)."""
    try:
        asked = query.parse(request.args, coop_id)
    except RuleViolation as refusal:
        problem = {"type": "epcisException:QueryParameterException", "title": str(refusal.message),
                   "status": 400, "parameter": refusal.field}
        return Response(json.dumps(problem), status=400, mimetype="application/problem+json")
    page = query.run(asked, documents.scope_events(documents.cooperative_scope(coop_id)))
    response = jsonify(documents.query_document(page.events))
    response.mimetype = documents.MEDIA_TYPE
    if page.next_page_token is not None:
        args = request.args.to_dict(flat=False) | {"nextPageToken": page.next_page_token}
        response.headers["Link"] = f'<{url_for(endpoint, _external=True, **args)}>; rel="next"'
    return response


@bp.route("/epcis/events")
def epcis_events():
    return query_response(coop_id(), ".epcis_events")
