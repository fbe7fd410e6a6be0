"""Error pages in the user's language, with the right status code."""
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from app.database import is_lock_timeout
from app.extensions import db, login_manager
from app.services.errors import NotFound

BUSY_RETRY_AFTER_SECONDS = 5

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("We could not find this page. It may have been removed, or the address is wrong."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _(
        "The file is too large (at most %(size)s MB). Nothing was saved: go back, choose a smaller photo and send the form again.",
        size=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    ),
    429: lambda: _("Too many attempts. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Nothing you saved was lost; please try again."),
    503: lambda: _("The system is busy. Please try again in a few seconds."),
}


def render_error(status: int, message: str | None = None):
    if request.path.startswith("/api/v1/"):
        from app.api.v1.problems import problem

        return problem(status, message), status
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


def database_busy(error: OperationalError):
    """503 with Retry-After when a statement gave up waiting for another transaction's lock: the request's
    transaction is rolled back whole, so nothing half-done is kept and nothing saved before is touched, and
    the browser keeps the form as typed for the user to go back and send again. Any other database error
    goes on to the 500 page (and the log)."""
    if not is_lock_timeout(error):
        raise error
    current_app.logger.warning("database busy, answered 503: %s %s", request.method, request.path)
    db.session.rollback()
    # The rollback expires every loaded row, and reading the signed-in user again would queue for the
    # same lock: the page is drawn as for a visitor, without the database (the sign-in itself is kept).
    login_manager._update_request_context_with_user()
    response, status = render_error(503)
    response = current_app.make_response((response, status))
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    for status in MESSAGES:
        app.register_error_handler(status, lambda e, s=status: render_error(s))
    app.register_error_handler(403, lambda e: refused(403))
    # A service's NotFound is also what another cooperative's ids get: the same 404 as a missing page.
    app.register_error_handler(NotFound, lambda e: refused(404))
    app.register_error_handler(OperationalError, database_busy)
    app.register_error_handler(CSRFError, csrf_refused)


# A browser form whose token is there but expired or no longer matches was typed by someone who waited too long
# or whose session was renewed: it goes back to its page with the text kept. A form with no token at all was not
# sent from a page of ours, and a request that is not a browser form gets the plain refusal.
KEPT_CSRF_REASONS = ("The CSRF token has expired.", "The CSRF token is invalid.", "The CSRF session token is missing.",
                     "The CSRF tokens do not match.")


def csrf_refused(error: CSRFError):
    from app import form_drafts

    if form_drafts.is_browser_form() and error.description in KEPT_CSRF_REASONS:
        return form_drafts.expired_form()
    return render_error(400, _("This form has expired. Please reload the page and submit it again."))
