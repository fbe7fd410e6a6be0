"""Error pages in the user's language, with the right status code."""
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app.extensions import db
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


def refused(status: int):
    """A signed-in user turned away (another audience's page, another cooperative's or commune's data):
    recorded in the audit trail, then the same page as for anybody."""
    from app.services import audit

    db.session.rollback()
    if current_user.is_authenticated:
        audit.record("refused", detail=f"{status} {request.method} {request.path}", commit=True)
    return render_error(status)


def register(app: Flask) -> None:
    for status in MESSAGES:
        app.register_error_handler(status, lambda e, s=status: render_error(s))
    app.register_error_handler(403, lambda e: refused(403))
    # A service's NotFound is also what another cooperative's ids get: the same 404 as a missing page.
    app.register_error_handler(NotFound, lambda e: refused(404))
    app.register_error_handler(
        CSRFError,
        lambda e: render_error(400, _("This form has expired. Please reload the page and submit it again.")),
    )
