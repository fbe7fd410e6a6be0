"""Rendered parts of the scan page, kept per worker in an LRU cache.

Thousands of stamps share one batch, so almost all of their page is the same: it is rendered once per listing
revision, state of the stamp and its scans, day and language, and only the stamp's own code is filled in per
scan. Keys hold the `updated_at` of the product, batch and cooperative (a change to a diary entry, certificate
or photo moves its parent's, see app/models/revisions.py, and a recall moves the batch's), the latest commune
decision and gate override, and everything verdict.judge() reads of the scan (verdict.scan_key), so an edit, a
decision or a new scan shows on the next scan, in every worker.
"""
from datetime import date
from threading import Lock
from typing import Callable, Hashable

from cachetools import LRUCache
from flask import current_app, render_template
from markupsafe import Markup, escape

from app.extensions import db
from app.i18n import language_code
from app.models import Batch, Product
from app.services import verdict
from app.services.scans import ScanResult, StampFacts

CACHED_PARTS = 4096
CODE_SLOT = "\x00code\x00"  # stands for the stamp's code in a cached page; no typed code can contain it
_lock = Lock()


def cached(key: Hashable, render: Callable[[], str]) -> str:
    cache = current_app.extensions.setdefault("rendered_parts", LRUCache(maxsize=CACHED_PARTS))
    with _lock:
        text = cache.get(key)
    if text is None:
        text = render()
        with _lock:
            cache[key] = text
    return text


def listing_key(stamp: StampFacts, today: date, language: str) -> tuple:
    """What the origin part of a stamp's page, and the listing's side of its verdict, depend on."""
    return (stamp.product_id, stamp.batch_id, stamp.product_revision, stamp.batch_revision,
            stamp.cooperative_revision, stamp.decision_id, stamp.override_id, today, language)


def page_key(result: ScanResult, language: str, query: tuple) -> tuple:
    """What a whole scan page depends on, but for the stamp's own code."""
    return ("page", listing_key(result.stamp, result.today, language), verdict.scan_key(result), query)


def render_scan_page(result: ScanResult, render: Callable[[verdict.Verdict], str]) -> str:
    """The page for one verdict: judged and rendered in one go, then the session handed back."""
    try:
        return render(verdict.judge(result))
    finally:
        db.session.rollback()  # a read: hand the connection (and, on SQLite, the write lock) back at once


def origin_html(stamp: StampFacts, today: date) -> Markup:
    key = ("origin", listing_key(stamp, today, language_code()))
    return Markup(cached(key, lambda: _render_origin(stamp.product_id, stamp.batch_id, today)))


def _render_origin(product_id: int, batch_id: int | None, today: date) -> str:
    product = db.session.get(Product, product_id)
    batch = db.session.get(Batch, batch_id) if batch_id else None
    try:
        return render_template("public/_origin.html", p=product, b=batch, today=today)
    finally:
        db.session.rollback()  # a read: hand the connection (and, on SQLite, the write lock) back at once


def page_with_code(key: Hashable, render: Callable[[], str], code: str) -> str:
    """A page rendered once per key with CODE_SLOT where the code goes, and this stamp's code put in."""
    return _with_code(cached(key, render), code)


def cached_page_with_code(key: Hashable, code: str) -> str | None:
    """The page if it is already rendered, with this stamp's code put in; else None."""
    cache = current_app.extensions.get("rendered_parts")
    with _lock:
        text = cache.get(key) if cache is not None else None
    return None if text is None else _with_code(text, code)


def _with_code(page: str, code: str) -> str:
    return page.replace(CODE_SLOT, str(escape(code)))
