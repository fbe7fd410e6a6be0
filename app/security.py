"""Headers every response carries: no inline script, no plugins, no framing."""
from flask import Response

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


def add_security_headers(response: Response) -> Response:
    if "Content-Security-Policy" not in response.headers:  # a view may set its own policy
        response.headers.extend(SECURITY_HEADERS)
    return response
