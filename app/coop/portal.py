"""The national traceability portal (Circular 02/2024/TT-BKHCN): what is still missing, and the downloads."""
import io
import json
from datetime import datetime, timezone

from flask import Response, render_template, send_file

from app.coop import bp
from app.coop.views import coop_id
from app.services import cooperatives, portal_export
from app.services.portal_completeness import ARTICLES
from app.services.identifiers import filename_part

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes, mimetype: str, extension: str) -> Response:
    coop = cooperatives.get_cooperative(coop_id())
    name = f"truy-xuat-{filename_part(coop.registration_no)}.{extension}"
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


def _document() -> dict:
    return portal_export.portal_document(coop_id(), datetime.now(timezone.utc))


@bp.route("/portal")
def portal():
    data = portal_export.portal_data(coop_id())
    return render_template("coop/portal.html", data=data, location_code=portal_export.location_trace_code(data.coop),
                           trace_code=portal_export.product_trace_code, articles=ARTICLES)


@bp.route("/portal/export.json")
def portal_json():
    body = json.dumps(_document(), ensure_ascii=False, indent=2).encode()
    return _download(body, "application/json", "json")


@bp.route("/portal/export.xlsx")
def portal_xlsx():
    return _download(portal_export.portal_workbook(_document()), XLSX_TYPE, "xlsx")


@bp.context_processor
def portal_summary():
    """The dashboard's short summary, computed only when a template calls it."""
    return {"portal_completeness": lambda: portal_export.portal_data(coop_id()).completeness}
