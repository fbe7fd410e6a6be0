"""Rendered parts of the scan page, kept per worker in an LRU cache.

Thousands of stamps share one batch, so almost all of their page is the same: it is rendered once per listing
revision, state of the stamp and its scans, day and language, and only the stamp's own code is filled in per
scan. Keys hold the `updated_at` of the product, batch and cooperative (a change to a diary entry, certificate
or photo moves its parent's, see app/models/revisions.py, and a recall moves the batch's), the latest commune
decision and gate override, and everything verdict.judge() reads of the scan (verdict.scan_key), so an edit, a
decision or a new scan shows on the next scan, in every worker.
"""
from dataclasses import dataclass
from datetime import date
from threading import Lock
from typing import Callable, Hashable

from cachetools import LRUCache
from flask import current_app, render_template
from markupsafe import Markup, escape

from app.extensions import db
from app.i18n import format_day_in, language_code
from app.models import Batch, Product
from app.scan import verdict
from app.services import codes
from app.scan.scans import ScanEvidence, ScanResult, StampFacts

CACHED_PARTS = 4096
# What stands in a cached page for what differs from scan to scan; no typed text can contain a NUL.
CODE_SLOT = "\x00code\x00"
SCANS_SLOT, PHONES_SLOT, SINCE_SLOT = "\x00scans\x00", "\x00phones\x00", "\x00since\x00"
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


@dataclass(frozen=True)
class EvidenceSlots:
    """A scan's evidence as a cached page is rendered with it: the words its wording decides, and slots for the
    numbers and the day, which each scan fills in. So a stamp's tenth scan is served from the same page as
    every other stamp's tenth, or hundredth."""
    first_check: bool
    phones: int  # 1 or 2: all ngettext needs to choose its words
    scans: str = SCANS_SLOT
    phones_text: str = PHONES_SLOT
    since: str = SINCE_SLOT

    @classmethod
    def of(cls, evidence: ScanEvidence) -> "EvidenceSlots":
        first_check, one_phone = evidence.wording
        return cls(first_check, 1 if one_phone else 2)


def page_for_scan(key: Hashable, render: Callable[[], str], result: ScanResult, language: str) -> str:
    """A page rendered once per key with slots for what differs between scans, filled in for this one."""
    return _fill_in(cached(key, render), result, language)


def cached_page_for_scan(key: Hashable, result: ScanResult, language: str) -> str | None:
    """The page if it is already rendered, filled in for this scan; else None."""
    cache = current_app.extensions.get("rendered_parts")
    with _lock:
        text = cache.get(key) if cache is not None else None
    return None if text is None else _fill_in(text, result, language)


def _fill_in(page: str, result: ScanResult, language: str) -> str:
    evidence = result.evidence
    return (page.replace(CODE_SLOT, str(escape(codes.group(result.code))))
            .replace(SCANS_SLOT, str(evidence.scans)).replace(PHONES_SLOT, str(evidence.phones))
            .replace(SINCE_SLOT, format_day_in(evidence.since, language)))
