"""The interactive API documentation at /api/v1/docs: Swagger UI from the swagger-ui-bundle package,
served by us (no CDN), reading /api/v1/openapi.json."""
from flask import Blueprint, abort, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
# Swagger UI sets style attributes and shows the schema's example images: the page's own policy allows
# exactly that beyond the site's, and still no script but ours.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@bp.route("")
def page():
    response = render_template("api/docs.html")
    return response, 200, {"Content-Security-Policy": DOCS_POLICY}


@bp.route("/assets/<asset>")
def asset(asset: str):
    if asset not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, asset, max_age=86400)
