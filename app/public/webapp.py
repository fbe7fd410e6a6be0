"""The installable web app: its manifest and service worker at the site's root, and a signed-out phone that
keeps nothing of the account.

The service worker (static/sw.js) is served at /sw.js so that its scope is the whole site; it is preceded here
by its shell list and a version made from the shell files' contents, so that a changed file is a changed
worker, which the phone installs anew with fresh copies.
"""
import hashlib
import json
from pathlib import Path

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _

from app.public import bp

# What the diary screen needs to open with no network, besides the screen itself (static/ paths).
SHELL_FILES = ("app.css", "app.js", "diary.js", "diary_guard.js", "photo_resize.js", "icons/icon-192.png", "icons/icon-512.png")
THEME_COLOUR = "#1b6b3a"  # the header's green (static/app.css --green)
SAME_FOR_EVERYONE = "public, no-cache"  # any cache may keep it, but asks the server each time


def _static(name: str) -> Path:
    return Path(current_app.static_folder) / name


def shell_urls() -> list[str]:
    """What the worker keeps: the diary screen first (static/sw.js asks the network for it first), then the
    manifest and the static files."""
    return [url_for("coop.diary_app"), url_for("public.manifest"),
            *(url_for("static", filename=name) for name in SHELL_FILES)]


def shell_version() -> str:
    """A digest of the worker's code and of every shell file: it changes whenever one of them does."""
    digest = hashlib.sha256()
    for name in ("sw.js", *SHELL_FILES):
        digest.update(_static(name).read_bytes())
    return digest.hexdigest()[:16]


@bp.route("/sw.js")
def service_worker():
    prelude = f"const SHELL_VERSION = {json.dumps(shell_version())};\nconst SHELL_URLS = {json.dumps(shell_urls())};\n"
    body = prelude + _static("sw.js").read_text(encoding="utf-8")
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = SAME_FOR_EVERYONE
    return response


def _icon(name: str, size: int, purpose: str) -> dict:
    return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}


@bp.route("/manifest.webmanifest")
def manifest():
    document = {
        "name": "OCOP Trace",
        "short_name": "OCOP Trace",
        "description": _("The cooperative's production diary, on the phone, with or without a network."),
        "lang": "vi",
        "start_url": url_for("coop.diary_app"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": "#ffffff",
        "icons": [
            _icon("icon-192.png", 192, "any"), _icon("icon-512.png", 512, "any"), _icon("maskable-512.png", 512, "maskable"),
        ],
    }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = SAME_FOR_EVERYONE
    return response


@bp.after_app_request
def forget_the_device_at_sign_out(response: Response) -> Response:
    """Signing out wipes the site's storage on the device (the diary's cached screen, its batches and its
    outbox, the service worker): the next person on a shared phone finds nothing of this account."""
    if request.endpoint == "auth.sign_out" and response.status_code in (302, 303):
        response.headers["Clear-Site-Data"] = '"storage"'
    return response
