"""The interactive API documentation at /api/v1/docs: Swagger UI from the swagger-ui-bundle package,
served by us (no CDN), reading /api/v1/openapi.json."""
from flask import Blueprint, abort, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


@bp.route("")
def page():
    """Served under the site's Content-Security-Policy: Swagger UI needs nothing more (its starter is a file of
    ours, not an inline script; inline styles and data: images are allowed site-wide; it fetches the document
    from this origin), as tests/test_api_browser.py checks in Chromium."""
    return render_template("api/docs.html")


@bp.route("/assets/<asset>")
def asset(asset: str):
    if asset not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, asset, max_age=86400)
