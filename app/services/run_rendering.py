"""Run rendering: a run's labels and its PDF, the same bytes however often and whenever it is rendered.

A stamp's URL is made in one place, payload_prefix, for the QR codes of the PDF and the print shop's CSV
alike; it is upper case (QR alphanumeric mode) and its lot code is percent-encoded. Nothing printed depends
on the day of rendering (the stars follow label_day), so a retry or a later download is the same PDF byte
for byte. The PDF is written to a local temporary file with no database transaction open, then published:
put into the file storage (app/storage.py, key runs/run-<id>.pdf) whole, and only then its size and hash
recorded and the run marked done, so a done run always has its PDF.
"""
import hashlib
import os
import threading
import urllib.parse
from datetime import date
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Sequence

from flask import current_app

from app.extensions import db
from app.i18n import vietnam_day
from app.models import LabelRun, Product, RunStatus
from app.models.mixins import utcnow
from app.services import codes
from app.services.label_runs import RENDER_KEYS, set_state
from app.services.label_sheets import library, run_spec
from app.services.label_templates import label_name_of
from app.services.minting import stamp_key
from app.storage import storage

PDF_TYPE = "application/pdf"


def stamp_url(code: str) -> str:
    """The QR payload: upper case so that the whole URL fits QR alphanumeric mode."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/Q/{code}".upper()


def payload_prefix(run: LabelRun) -> str:
    """What comes before the code in each QR: /Q/, or a GS1 Digital Link when asked and possible.

    The one place a stamp's URL is made: the PDF's QR codes and the print shop's CSV both use it. The lot
    code is percent-encoded, so that one saved before lot codes were restricted (with a "/" or a space)
    stays one segment of the path.
    """
    product, batch = run.product, run.batch
    if run.options.get("gs1_link") and product.gtin and batch:
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        lot = urllib.parse.quote(batch.lot_code, safe="")
        return f"{base}/01/{product.gtin}/10/{lot}/21/".upper()
    return stamp_url("")


def pdf_key(run_id: int) -> str:
    """The run's PDF in the file storage."""
    return f"runs/run-{run_id}.pdf"


def pdf_path(run_id: int) -> Path:
    """The local working file of a run on this machine (instance/runs/run-<id>.pdf): the renderer's temporary
    file and the worker's log are named after it. The published PDF is read through storage, not here."""
    folder = Path(current_app.instance_path) / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.pdf"


def has_pdf(run_id: int) -> bool:
    """Whether the run's published PDF is stored (and so can be downloaded)."""
    return storage().exists(pdf_key(run_id))


def open_pdf(run_id: int) -> BinaryIO:
    """The published PDF as a stream, read in chunks (KeyMissing when there is none)."""
    return storage().open(pdf_key(run_id))


def pdf_bytes(run_id: int) -> bytes:
    """The whole published PDF: for a small run or a check, never for serving a download."""
    with open_pdf(run_id) as stream:
        return stream.read()


def run_labels(run: LabelRun, run_codes: Sequence[str] | None = None) -> Iterator:
    """The label records of a run, in serial order, computed on the fly."""
    lib = library()
    product, batch = run.product, run.batch
    common = {
        "product": product.name,
        "cooperative": label_name_of(product.cooperative),
        "lot": batch.lot_code if batch else "",
        "packing_date": batch.packing_date.strftime("%d/%m/%Y") if batch and batch.packing_date else None,
        "best_before": batch.best_before.strftime("%d/%m/%Y") if batch and batch.best_before else None,
        "ocop_stars": valid_stars(product, label_day(run)),
    }
    key, run_id, count, url_prefix = stamp_key(), run.id, run.count, payload_prefix(run)

    def generate():
        for serial in range(1, count + 1):
            code = run_codes[serial - 1] if run_codes is not None else codes.derive_code(key, run_id, serial)
            yield lib.Label(qr_payload=url_prefix + code, code_text=codes.group(code), serial=serial, **common)

    return generate()


def label_day(run: LabelRun) -> date:
    """The day a run's labels speak for: its batch's packing day, else the day in Vietnam it was ordered.
    Never the day it happens to be rendered, so that a retry or a later download is the same PDF."""
    batch = run.batch
    return batch.packing_date if batch and batch.packing_date else vietnam_day(run.created_at)


def valid_stars(product: Product, day: date) -> int | None:
    """The OCOP stars to print: only while the certificate is valid on that day (its expiry day included)."""
    if not product.ocop_stars:
        return None
    if product.ocop_expires_on and product.ocop_expires_on < day:
        return None
    return product.ocop_stars


def render_options(run: LabelRun):
    lib = library()
    return lib.RenderOptions(**{k: v for k, v in run.options.items() if k in RENDER_KEYS and v is not None})


def render(run_id: int, progress: Callable[[int], None] | None = None, run_codes: Sequence[str] | None = None) -> str:
    """Render the run's PDF, store it (atomically) and record its size and hash; return its storage key."""
    tmp = write_pdf(run_id, progress, run_codes)
    return publish_pdf(run_id, tmp)


def write_pdf(run_id: int, progress: Callable[[int], None] | None = None, run_codes: Sequence[str] | None = None) -> Path:
    run = db.session.get(LabelRun, run_id)
    records, spec, options = run_labels(run, run_codes), run_spec(run), render_options(run)
    # Everything is read: end the transaction, so that rendering holds no database lock.
    db.session.commit()
    tmp = pdf_path(run_id).with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as out:
        library().render_pdf(records, spec, out, options=options, progress=progress)
    return tmp


def publish_pdf(run_id: int, tmp: Path) -> str:
    """Put the rendered temporary file into storage, then mark the run done with its size and hash (in that
    order: a run is never done without its PDF). The temporary file is removed; the key is returned."""
    with open(tmp, "rb") as rendered:
        digest = hashlib.file_digest(rendered, "sha256").hexdigest()
    size, key = tmp.stat().st_size, pdf_key(run_id)
    try:
        storage().put_file(key, tmp, PDF_TYPE)
    finally:
        tmp.unlink(missing_ok=True)
    set_state(run_id, status=RunStatus.DONE, progress=100, finished_at=utcnow(), pdf_bytes=size, pdf_sha256=digest, error="")
    return key
