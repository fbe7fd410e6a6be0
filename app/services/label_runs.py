"""Label runs: create once, mint all-or-nothing, render the PDF in a worker process, void and activate.

Minting inserts every stamp of a run in one transaction, so a crash leaves either no stamp or all of
them. Codes are derived from (run, serial) under STAMP_KEY, so a retried or re-downloaded run renders
the same PDF byte for byte.
"""
import hashlib
import io
import os
import subprocess
import sys
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, insert, select, update

from app.extensions import db
from app.i18n import format_quantity
from app.models import Batch, BatchStatus, LabelRun, Product, RangeAction, RunStatus, Stamp, StampRangeEvent, User
from app.models.mixins import utcnow
from app.services import audit, codes, compliance, identifiers
from app.services.batches import get_batch
from app.services.errors import NotFound, RuleViolation, lazy_text as _l
from app.services.products import get_product
from app.services.records import create

MINT_CHUNK = 5_000
RENDER_KEYS = ("ecc", "offset_x_mm", "offset_y_mm", "crop_marks", "outlines")
OPTION_KEYS = (*RENDER_KEYS, "gs1_link")


def library():
    import labels  # imported late: the web pages that never print need not load ReportLab

    return labels


def templates() -> dict:
    return library().BUILTIN_SPECS


def calibration_pdf(template_id: str) -> bytes:
    """A page with every cell's outline and a ruler, to measure a printer's offset."""
    out = io.BytesIO()
    library().render_calibration(templates()[template_id], out)
    return out.getvalue()


def stamp_key() -> bytes:
    return current_app.config["STAMP_KEY"].encode()


def stamp_url(code: str) -> str:
    """The QR payload: upper case so that the whole URL fits QR alphanumeric mode."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/Q/{code}".upper()


def pdf_path(run_id: int) -> Path:
    folder = Path(current_app.instance_path) / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.pdf"


def list_runs(coop_id: int, batch_id: int | None = None) -> list[LabelRun]:
    stmt = select(LabelRun).where(LabelRun.cooperative_id == coop_id).order_by(LabelRun.id.desc())
    if batch_id is not None:
        stmt = stmt.where(LabelRun.batch_id == batch_id)
    return list(db.session.scalars(stmt))


def get_run(coop_id: int, run_id: int) -> LabelRun:
    run = db.session.get(LabelRun, run_id)
    if run is None or run.cooperative_id != coop_id:
        raise NotFound
    return run


# A batch counted in these units says nothing about how many packs (and so stamps) it makes.
MEASURE_UNITS = frozenset({
    "mg", "g", "gr", "gam", "gram", "lạng", "kg", "kí", "ký", "kilogram", "yến", "tạ", "tấn",
    "ml", "l", "lít", "lit", "m3", "m³",
})


def is_measure_unit(unit: str) -> bool:
    """Whether a batch's unit is a weight or volume ("kg", "Tấn", "lít"), not a count of pieces ("chai", "hộp")."""
    return unicodedata.normalize("NFC", (unit or "").strip().lower().rstrip(".")) in MEASURE_UNITS


@dataclass(frozen=True)
class OverQuantity:
    """A run that would give a batch more stamps than it has pieces."""

    quantity: Decimal  # pieces in the batch
    unit: str
    count: int  # stamps in the new run
    already: int  # stamps already valid on the batch (earlier runs, activated ranges), not void

    def message(self):
        values = {"quantity": format_quantity(self.quantity), "unit": self.unit, "count": format_quantity(self.count)}
        if self.already:
            return _l("This batch has %(quantity)s %(unit)s and already %(already)s valid stamps; you are printing "
                      "%(count)s more. One stamp per %(unit)s is usual: check the number, or tick the box to print "
                      "them anyway.", already=format_quantity(self.already), **values)
        return _l("This batch has %(quantity)s %(unit)s; you are printing %(count)s stamps. One stamp per %(unit)s "
                  "is usual: check the number, or tick the box to print them anyway.", **values)

    def audit_values(self, batch: Batch) -> dict:
        return {"batch_id": batch.id, "lot_code": batch.lot_code, "quantity": format(self.quantity.normalize(), "f"),
                "unit": self.unit, "count": self.count, "already": self.already}


def over_quantity(batch: Batch | None, count: int) -> OverQuantity | None:
    """What is wrong when this run would give the batch more stamps than pieces; None when nothing is, or when
    nobody can tell: a blank run, a batch without a quantity, or one counted by weight or volume (kg, lít)."""
    if batch is None or batch.quantity is None or is_measure_unit(batch.unit):
        return None
    already = db.session.scalar(
        select(func.count()).select_from(Stamp).where(Stamp.batch_id == batch.id, Stamp.voided_at.is_(None))
    )
    if already + count <= batch.quantity:
        return None
    return OverQuantity(batch.quantity, batch.unit.strip(), count, already)


def _check_request(coop_id: int, product_id: int, batch_id: int | None, count: int, template: str) -> Batch | None:
    """The batch the run is for (None: blank stamps), once everything about the request is allowed."""
    product = get_product(coop_id, product_id)
    batch = None
    if product.is_archived:
        raise RuleViolation("product_id", _l("This product is archived: restore it before printing stamps."))
    if batch_id is not None:
        batch = get_batch(coop_id, batch_id)
        if batch.product_id != product.id:
            raise NotFound
        if batch.status is BatchStatus.RECALLED:
            raise RuleViolation("batch_id", _l("This batch has been recalled: no new stamps can be printed for it."))
        compliance.check_passes(batch)
    if not 1 <= count <= current_app.config["MAX_RUN_STAMPS"]:
        raise RuleViolation("count", _l("A run has between 1 and %(max)s stamps.", max=f"{current_app.config['MAX_RUN_STAMPS']:,}".replace(",", ".")))
    if template not in templates():
        raise RuleViolation("template", _l("Choose a label sheet from the list."))
    return batch


def create_run(
    coop_id: int, *, product_id: int, batch_id: int | None, count: int, template: str,
    options: dict, request_token: str, actor_id: int | None, more_than_quantity: bool = False,
) -> tuple[LabelRun, bool]:
    """Create a run, or return the one this request token already created (a double submit).

    A run that would give its batch more stamps than pieces is refused unless more_than_quantity confirms
    it; the confirmation is written to the audit trail with the batch's quantity and the count.
    """
    existing = db.session.scalar(select(LabelRun).where(LabelRun.request_token == request_token))
    if existing is not None:
        if existing.cooperative_id != coop_id:
            raise NotFound
        return existing, False
    batch = _check_request(coop_id, product_id, batch_id, count, template)
    excess = over_quantity(batch, count)
    if excess and not more_than_quantity:
        raise RuleViolation("more_than_quantity", excess.message())
    run = create(
        LabelRun, actor_id, cooperative_id=coop_id, product_id=product_id, batch_id=batch_id,
        count=count, template=template, request_token=request_token,
        options={k: options[k] for k in OPTION_KEYS if k in options},
    )
    if excess:
        db.session.flush()  # the run's id, for the trail
        audit.record("print_over_quantity", entity="label_run", entity_id=run.id, cooperative_id=coop_id,
                     after=excess.audit_values(batch), actor=_user(actor_id))
    db.session.commit()
    return run, True


def _set_state(run_id: int, **values) -> None:
    db.session.execute(update(LabelRun).where(LabelRun.id == run_id).values(heartbeat_at=utcnow(), **values))
    db.session.commit()


def payload_prefix(run: LabelRun) -> str:
    """What comes before the code in each QR: /Q/, or a GS1 Digital Link when asked and possible.

    The one place a stamp's URL is made: the PDF's QR codes and the print shop's CSV both use it.
    """
    product, batch = run.product, run.batch
    if run.options.get("gs1_link") and product.gtin and batch:
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        return f"{base}/01/{product.gtin}/10/{batch.lot_code}/21/".upper()
    return stamp_url("")


def derive_codes(run: LabelRun) -> list[str]:
    """Every code of a run, in serial order (derived, never read from the database)."""
    key = stamp_key()
    return [codes.derive_code(key, run.id, serial) for serial in range(1, run.count + 1)]


def mint(run_id: int, run_codes: Sequence[str] | None = None) -> int:
    """Insert every stamp of the run in one transaction; a run already minted is left as it is."""
    run = db.session.get(LabelRun, run_id)
    already = db.session.scalar(select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id))
    if already:
        db.session.commit()
        return already
    run_codes = run_codes or derive_codes(run)
    batch_id, activated = run.batch_id, (utcnow() if run.batch_id else None)
    table = Stamp.__table__
    for start in range(0, run.count, MINT_CHUNK):
        rows = [
            {"run_id": run_id, "serial": start + i + 1, "code_hash": codes.code_hash(code), "batch_id": batch_id, "activated_at": activated}
            for i, code in enumerate(run_codes[start:start + MINT_CHUNK])
        ]
        db.session.execute(insert(table), rows)
    run.status, run.heartbeat_at = RunStatus.RENDERING, utcnow()
    db.session.commit()  # the one commit: all stamps or none
    return run.count


def run_labels(run: LabelRun, run_codes: Sequence[str] | None = None) -> Iterator:
    """The label records of a run, in serial order, computed on the fly."""
    lib = library()
    product, batch = run.product, run.batch
    common = {
        "product": product.name,
        "cooperative": product.cooperative.name,
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


def vietnam_day(moment: datetime) -> date:
    """The day in Vietnam of a stored (UTC) moment."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).date()


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


def render(run_id: int, progress: Callable[[int], None] | None = None, run_codes: Sequence[str] | None = None) -> Path:
    """Write the run's PDF to instance/runs/ (atomically) and record its size and hash."""
    tmp = write_pdf(run_id, progress, run_codes)
    return publish_pdf(run_id, tmp)


def write_pdf(run_id: int, progress: Callable[[int], None] | None = None, run_codes: Sequence[str] | None = None) -> Path:
    run = db.session.get(LabelRun, run_id)
    records, spec, options = run_labels(run, run_codes), templates()[run.template], render_options(run)
    # Everything is read: end the transaction, so that rendering holds no database lock.
    db.session.commit()
    tmp = pdf_path(run_id).with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as out:
        library().render_pdf(records, spec, out, options=options, progress=progress)
    return tmp


def publish_pdf(run_id: int, tmp: Path) -> Path:
    target = pdf_path(run_id)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    tmp.replace(target)
    _set_state(run_id, status=RunStatus.DONE, progress=100, finished_at=utcnow(), pdf_bytes=target.stat().st_size, pdf_sha256=digest, error="")
    return target


def _progress_reporter(run: LabelRun, minted: threading.Event) -> Callable[[int], None]:
    """Report rendering progress at most every 2 %; not while the minting transaction holds the database."""
    last = [0]
    total, run_id = run.count, run.id

    def report(done: int, *_ignored) -> None:
        percent = 99 * done // max(total, 1)
        if minted.is_set() and percent >= last[0] + 2:
            last[0] = percent
            _set_state(run_id, progress=percent)

    return report


def process(run_id: int, progress: Callable[[int], None] | None = None) -> LabelRun:
    """Mint and render a run side by side; record a failure on the run instead of losing it.

    Minting (one database transaction) runs in a thread while this thread renders, so the two overlap;
    the PDF is published only once every stamp is committed.
    """
    run = db.session.get(LabelRun, run_id)
    if run is None:
        raise NotFound
    app = current_app._get_current_object()
    minted, failure = threading.Event(), []
    try:
        _set_state(run_id, status=RunStatus.MINTING, progress=0, error="")
        run = db.session.get(LabelRun, run_id)
        run_codes = derive_codes(run)
        record_progress = _progress_reporter(run, minted)

        def reporter(done: int) -> None:
            record_progress(done)
            if progress:
                progress(done)

        def mint_stamps() -> None:
            with app.app_context():
                try:
                    mint(run_id, run_codes)
                    minted.set()
                except Exception as exc:  # reported by the main thread
                    failure.append(exc)
                    db.session.rollback()

        minter = threading.Thread(target=mint_stamps, name=f"mint-run-{run_id}")
        minter.start()
        try:
            tmp = write_pdf(run_id, reporter, run_codes)
        finally:
            minter.join()
        if failure:
            tmp.unlink(missing_ok=True)
            raise failure[0]
        publish_pdf(run_id, tmp)
    except Exception as exc:  # the run page must say what happened, whatever it was
        db.session.rollback()
        _set_state(run_id, status=RunStatus.FAILED, error=str(exc)[:2000])
        raise
    return db.session.get(LabelRun, run_id)


def is_stale(run: LabelRun) -> bool:
    if run.status in (RunStatus.DONE, RunStatus.FAILED):
        return False
    seen = run.heartbeat_at or run.created_at
    return utcnow() - seen > timedelta(seconds=current_app.config["RUN_STALE_SECONDS"])


def worker_environment() -> dict:
    """The worker process gets exactly this app's configuration."""
    config = current_app.config
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_PATH": current_app.instance_path,
        "SECRET_KEY": config["SECRET_KEY"], "STAMP_KEY": config["STAMP_KEY"],
        "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
    })
    return env


def start_worker(run_id: int) -> subprocess.Popen:
    """Mint and render in a separate process, so the web request returns at once."""
    _set_state(run_id, status=RunStatus.QUEUED, progress=0)
    root = Path(current_app.root_path).parent
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "labels", "work", str(run_id)]
    with open(pdf_path(run_id).with_suffix(".log"), "ab") as log:  # the worker keeps its own copy
        return subprocess.Popen(command, cwd=root, env=worker_environment(), stdout=log, stderr=log, start_new_session=True)


REASON_REQUIRED = _l("Write why these stamps are voided (for example: roll lost in transport).")


def _required_reason(reason: str | None) -> str:
    reason = identifiers.clean_multiline(reason or "")
    if not reason:
        raise RuleViolation("reason", REASON_REQUIRED)
    return reason


def _user(actor_id: int | None) -> User | None:
    return db.session.get(User, actor_id) if actor_id else None


def _record_range(run: LabelRun, action: RangeAction, first: int, last: int, stamp_count: int, actor: User | None,
                  reason: str = "", batch_id: int | None = None) -> None:
    """A line of the run's range history, in the caller's transaction."""
    db.session.add(StampRangeEvent(
        run_id=run.id, action=action, first_serial=first, last_serial=last, stamp_count=stamp_count,
        batch_id=batch_id, reason=reason, actor_id=actor.id if actor else None, actor_name=actor.name if actor else "",
        at=utcnow(),
    ))


def range_history(run_id: int) -> list[StampRangeEvent]:
    """A run's activations and voids, newest first."""
    stmt = select(StampRangeEvent).where(StampRangeEvent.run_id == run_id).order_by(StampRangeEvent.id.desc())
    return list(db.session.scalars(stmt))


def void_run(coop_id: int, run_id: int, reason: str, actor_id: int | None) -> LabelRun:
    """Void every stamp of the run; a reason is required. The trail records the change to the run's row."""
    run = get_run(coop_id, run_id)
    reason = _required_reason(reason)
    now = utcnow()
    run.voided_at, run.void_reason, run.updated_by_id = now, reason, actor_id
    result = db.session.execute(update(Stamp).where(Stamp.run_id == run_id, Stamp.voided_at.is_(None)).values(voided_at=now))
    _record_range(run, RangeAction.VOID_RUN, 1, run.count, result.rowcount, _user(actor_id), reason)
    db.session.commit()
    return run


def _check_range(run: LabelRun, first: int, last: int) -> None:
    if not 1 <= first <= last <= run.count:
        raise RuleViolation("first", _l("Serial numbers run from 1 to %(count)s, first ≤ last.", count=run.count))


def void_range(coop_id: int, run_id: int, first: int, last: int, actor_id: int | None, *, reason: str) -> int:
    """Void the stamps first..last of a run (those not void already); a reason is required."""
    run = get_run(coop_id, run_id)
    _check_range(run, first, last)
    reason = _required_reason(reason)
    result = db.session.execute(
        update(Stamp).where(Stamp.run_id == run_id, Stamp.serial.between(first, last), Stamp.voided_at.is_(None)).values(voided_at=utcnow())
    )
    actor = _user(actor_id)
    audit.record("void", entity="label_run", entity_id=run.id, cooperative_id=run.cooperative_id,
                 after={"first": first, "last": last, "stamps": result.rowcount, "reason": reason}, actor=actor)
    _record_range(run, RangeAction.VOID, first, last, result.rowcount, actor, reason)
    run.updated_by_id = actor_id
    db.session.commit()
    return result.rowcount


def activate_range(coop_id: int, run_id: int, first: int, last: int, batch_id: int, actor_id: int | None,
                   reason: str = "") -> int:
    """Put a serial range of a blank run onto a batch of the run's product (at packing time); a note is optional."""
    run = get_run(coop_id, run_id)
    batch = get_batch(coop_id, batch_id)
    if run.batch_id is not None:
        raise RuleViolation("batch_id", _l("This run was printed for a batch already."))
    if batch.product_id != run.product_id:
        raise RuleViolation("batch_id", _l("Choose a batch of the product these stamps were printed for."))
    if batch.status is BatchStatus.RECALLED:
        raise RuleViolation("batch_id", _l("This batch has been recalled: its stamps cannot be activated."))
    compliance.check_passes(batch)
    _check_range(run, first, last)
    taken = db.session.scalar(
        select(func.count()).select_from(Stamp).where(
            Stamp.run_id == run_id, Stamp.serial.between(first, last), Stamp.batch_id.is_not(None)
        )
    )
    if taken:
        raise RuleViolation("first", _l("%(n)s stamps in this range are already activated.", n=taken))
    result = db.session.execute(
        update(Stamp).where(Stamp.run_id == run_id, Stamp.serial.between(first, last), Stamp.voided_at.is_(None))
        .values(batch_id=batch.id, activated_at=utcnow())
    )
    reason = identifiers.clean_multiline(reason or "")
    actor = _user(actor_id)
    audit.record("activate", entity="label_run", entity_id=run.id, cooperative_id=run.cooperative_id,
                 after={"first": first, "last": last, "batch_id": batch.id, "stamps": result.rowcount, "reason": reason},
                 actor=actor)
    _record_range(run, RangeAction.ACTIVATE, first, last, result.rowcount, actor, reason, batch.id)
    run.updated_by_id = actor_id
    db.session.commit()
    return result.rowcount


def stamp_counts(run_id: int) -> dict[str, int]:
    base = select(func.count()).select_from(Stamp).where(Stamp.run_id == run_id)
    return {
        "minted": db.session.scalar(base),
        "active": db.session.scalar(base.where(Stamp.batch_id.is_not(None), Stamp.voided_at.is_(None))),
        "voided": db.session.scalar(base.where(Stamp.voided_at.is_not(None))),
    }


# The first three columns are as they always were, so a print shop's variable-data set-up keeps working.
EXPORT_HEADER = ["sequence", "code", "url", "printed_serial"]


def export_rows(run: LabelRun) -> Iterator[tuple[int, str, str, str]]:
    """Every stamp as a print shop needs it: serial number, code, the URL its QR encodes (made by the same
    function as the PDF's), and the serial as the label prints it ("Nº 000123")."""
    key, url_prefix, printed = stamp_key(), payload_prefix(run), library().serial_text
    for serial in range(1, run.count + 1):
        code = codes.derive_code(key, run.id, serial)
        yield serial, code, url_prefix + code, printed(serial)
