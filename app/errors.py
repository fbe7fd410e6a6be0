"""Error pages in the user's language, with the right status code."""
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from app.services.errors import NotFound

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("We could not find this page. It may have been removed, or the address is wrong."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The file is too large. Please choose a smaller photo (at most 8 MB)."),
    429: lambda: _("Too many attempts. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Nothing you saved was lost; please try again."),
}


def render_error(status: int, message: str | None = None):
    text = message or MESSAGES.get(status, MESSAGES[500])()
    if request.path.startswith("/api/"):
        return jsonify(error=text, status=status), status
    return render_template("error.html", status=status, message=text), status


def register(app: Flask) -> None:
    for status in MESSAGES:
        app.register_error_handler(status, lambda e, s=status: render_error(s))
    # A service's NotFound is also what another cooperative's ids get: the same 404 as a missing page.
    app.register_error_handler(NotFound, lambda e: render_error(404))
    app.register_error_handler(
        CSRFError,
        lambda e: render_error(400, _("This form has expired. Please reload the page and submit it again.")),
    )
