from flask import jsonify, request
from marshmallow import ValidationError

from app.api import bp
from app.schemas import CommuneQuerySchema, CommuneSchema
from app.services.geo import search_communes


@bp.route("/communes")
def communes():
    try:
        query = CommuneQuerySchema().load(request.args.to_dict())
    except ValidationError as exc:
        return jsonify(error="invalid query", fields=exc.messages), 400
    found = search_communes(query["q"], query["limit"])
    return jsonify(communes=CommuneSchema(many=True).dump(found))
