"""Headers every response carries: no inline script, no plugins, no framing; no copy of a signed-in
person's pages kept by a browser or a proxy; HTTPS only, in production."""
from flask import Response, current_app, request
from flask_login import current_user

# Inline <style> stays allowed: the scan page inlines its CSS to load in one round trip.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)

# Sent only by views marked open_to_any_origin (the GS1 Digital Link resolver, read by other sites' scripts
# and by apps): every other page stays same-origin.
CROSS_ORIGIN_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
    ("Access-Control-Allow-Headers", "Accept, Accept-Language"),
    ("Access-Control-Expose-Headers", "Link, Location"),
)

# Every response of these is about one person, one cooperative or one commune, signed in or signing in.
PRIVATE_BLUEPRINTS = frozenset({"coop", "commune", "admin", "auth"})


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS:  # a view may set its own policy (the API docs page does)
        response.headers.setdefault(name, value)
    if _private(response):
        # A shared phone's browser, or a proxy, must not keep one person's data to show to the next.
        response.headers["Cache-Control"] = "no-store"
    if getattr(current_app.view_functions.get(request.endpoint), "open_to_any_origin", False):
        response.headers.extend(CROSS_ORIGIN_HEADERS)
    return response


def _private(response: Response) -> bool:
    """Whether the response may show a signed-in person's data: all of the dashboards and sign-in pages,
    and any other page while signed in. Files that are the same for everybody (static files, photos
    served with a public cache lifetime) are not."""
    if request.blueprint in PRIVATE_BLUEPRINTS:
        return True
    if request.endpoint == "static" or response.cache_control.public:
        return False
    return current_user.is_authenticated


class StrictTransportSecurity:
    """WSGI middleware adding Strict-Transport-Security to every response, the scan page's fast path
    (app/scan/fast_path.py) and static files included: browsers then refuse plain http for the site."""

    def __init__(self, wsgi_app, value: str):
        self.wsgi_app = wsgi_app
        self.header = ("Strict-Transport-Security", value)

    def __call__(self, environ, start_response):
        def start_with_header(status, headers, exc_info=None):
            return start_response(status, [*headers, self.header], exc_info)

        return self.wsgi_app(environ, start_with_header)
