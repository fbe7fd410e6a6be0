"""/api/v1/stamps/<code>/verdict: a stamp's verdict as JSON, for anybody, without a token.

It is judge()'s verdict (app/scan/verdict.py), the one the scan page shows, computed from scans.look():
asking is NOT recorded as a scan. The scan log stays the record of people scanning stamps, which the copy
check and the officers' scans-per-day chart read; a program polling a stamp must neither make it look copied
nor swell a product's scan figures. The evidence counts this request as the page would count a scan, without
keeping it. Unknown codes count against the same limit as on the scan page (429 past it)."""
import dataclasses

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from app.api.v1 import problems
from app.extensions import csrf
from app.rate_limits import allowed
from app.schemas.verdict import VerdictSchema
from app.scan import scans, verdict
from app.services import codes
from app.services.codes import Shape
from app.services.errors import lazy_text as _l

blp = Blueprint("stamps", __name__, url_prefix="/api/v1", description="Public: what the scan page says about a stamp.")
csrf.exempt(blp)
UNKNOWN_CODE_RETRY_AFTER = "60"


@blp.route("/stamps/<code>/verdict")
class StampVerdict(MethodView):
    @blp.doc(security=[])
    @blp.response(200, VerdictSchema)
    def get(self, code):
        """The verdict of the stamp with this code (as printed, spaces and dashes allowed). Not recorded as a scan."""
        if codes.read(code).shape is not Shape.WELL_FORMED:
            abort(422, messages={"path": {"code": [str(_l("This is not a stamp code: check its characters and their number."))]}})
        looked = scans.look(code, request.remote_addr or "", request.headers.get("User-Agent", ""))
        if looked is None:
            if not allowed("unknown-code", "UNKNOWN_CODE_LIMIT"):
                return problems.problem(429, headers={"Retry-After": UNKNOWN_CODE_RETRY_AFTER})
            abort(404)
        result, _unrecorded_scan = looked
        judged = verdict.judge(result)
        facts = {field.name: getattr(judged, field.name) for field in dataclasses.fields(judged)}
        return {"code": result.code, "product": result.stamp, **facts}, 200, {"Cache-Control": "no-store"}
