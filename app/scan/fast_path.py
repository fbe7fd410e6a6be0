"""The scan page without Flask's request machinery, for the common case.

A phone scanning a stamp sends a plain GET /Q/<code>: no cookie, no query. Once the page for that stamp's
listing, verdict, day and language has been rendered (the Flask view renders and caches it the first time),
this answers from the cache: one lookup, the scan recorded, the code filled in. Anything else (an unknown
code, a cookie, a query string, a page not rendered yet) goes to the Flask view, which answers the same way,
only slower. Measured with bench/scan_load.sh: Flask's request handling alone costs about as much as the
page's own work.
"""
import re

from flask import Flask

from app.i18n import phone_language
from app.scan.rendered import cached_page_for_scan, page_key
from app.security import SECURITY_HEADERS
from app.scan import scans

SCAN_PATH = re.compile(r"/[qQ]/([^/]+)")


class ScanFastPath:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        match = SCAN_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match and environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING") and not environ.get("HTTP_COOKIE"):
            try:
                page = self._cached_page(environ, match.group(1))
            except Exception:  # a shortcut only: whatever went wrong, the view answers (or shows the error page)
                self.app.logger.exception("scan fast path failed; the view answers instead")
                page = None
            if page is not None:
                body = page.encode()
                start_response("200 OK", [
                    ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"), *SECURITY_HEADERS,  # as the view sends them
                ])
                return [body]
        return self.wsgi_app(environ, start_response)

    def _cached_page(self, environ, typed: str) -> str | None:
        with self.app.app_context():
            looked = scans.look(typed, environ.get("REMOTE_ADDR", ""), environ.get("HTTP_USER_AGENT", ""))
            if looked is None:
                return None
            result, this_scan = looked
            language = phone_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
            page = cached_page_for_scan(page_key(result, language, ()), result, language)
            if page is not None:
                scans.record(this_scan)  # only now: a miss goes to the view, which records the scan itself
            return page
