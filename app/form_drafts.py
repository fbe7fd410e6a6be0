"""No form loses what was typed: the browser keeps a draft until the server has accepted the form.

The drafts live in the browser (static/app.js): every form of the signed-in area is saved in localStorage as it
is typed, one draft per account and form address (never passwords, CSRF tokens, hidden fields or files), and
put back, with a notice, when its page is opened again while the server has not taken it. The server says
which drafts are done:

- a browser form's POST answered with a redirect (the Post/Redirect/Get every form here follows) was accepted:
  its path is noted in the session, the next page lists it in `data-drafts-done` and the script drops that
  draft; signing out drops them all;
- a POST turned back because the session ended on the server, or because the form's CSRF token expired or no
  longer matches, is answered with a redirect too, but is marked kept: the draft stays, and the member is sent
  to sign in again (then on to the form's page) or straight back to the form's page, where the text comes back.
  A 503 ("busy") or a refused form (422) is no redirect, so its draft stays as well.
"""
from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

DONE_KEY = "drafts_done"
ALL_DONE = "*"
# Enough for the forms one person sends between two pages.
DONE_KEPT = 10
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_browser_form() -> bool:
    """A form a browser sent from one of our pages (not the JSON API, not a script that asks for JSON; a client
    that says nothing of what it accepts is taken for a browser)."""
    accepted = request.accept_mimetypes
    return (request.method == "POST" and request.mimetype in FORM_TYPES and not request.path.startswith("/api/")
            and (not accepted or accepted.best_match(["text/html", "application/json"]) == "text/html"))


def form_page_path() -> str:
    """The page of the form a POST came from, to come back to: the form's own address when it also answers GET
    (most forms here post to their page; the new-entry form copied from the previous entry posts to the
    new-entry page), else the same-site page it was sent from, else the home page."""
    if request.url_rule is not None and "GET" in request.url_rule.methods:
        return request.full_path.rstrip("?")
    referrer = request.referrer or ""
    host = request.host_url.rstrip("/")
    if referrer.startswith(host + "/"):
        return referrer[len(host):]
    return "/"


def _kept() -> None:
    g.form_kept = True


def sign_in_again():
    """The answer to a request of the signed-in area without a live session. A browser form is kept: the member
    is told so, signs in and comes back to the form's page; anything else goes to sign in as before."""
    if not is_browser_form():
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    _kept()
    flash(_("Your session has ended. Sign in again: what you typed is kept."), "warning")
    return redirect(url_for("auth.sign_in", next=form_page_path()))


def expired_form():
    """The answer to a browser form whose CSRF token expired or no longer matches the session (not one that has
    none: a page of ours always sends one): back to the form's page, or to sign in first, with the text kept."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return sign_in_again()
    _kept()
    flash(_("This form had expired, so it was not sent. What you typed is kept: check it and send it again."), "warning")
    return redirect(form_page_path())


# Forms of people not yet signed in: no draft is ever kept of them.
SIGNED_OUT_FORMS = ("auth.sign_in", "auth.reset_password")


def note_accepted(response):
    """After a browser form's POST that the server accepted (answered with a redirect), note its path as done."""
    if (is_browser_form() and 300 <= response.status_code < 400 and not g.get("form_kept")
            and request.endpoint not in SIGNED_OUT_FORMS):
        path = ALL_DONE if request.endpoint == "auth.sign_out" else request.path
        session[DONE_KEY] = [*session.get(DONE_KEY, []), path][-DONE_KEPT:]
    return response


def take_done_drafts() -> list[str]:
    """The forms accepted since the last page (paths, or "*" for all), handed to this page's script once."""
    return session.pop(DONE_KEY, []) if DONE_KEY in session else []


def register(app: Flask) -> None:
    app.after_request(note_accepted)
    app.jinja_env.globals["take_done_drafts"] = take_done_drafts
