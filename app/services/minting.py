"""Minting: a run's codes, derived from (run, serial) under STAMP_KEY, and its stamps, inserted all or nothing.

Codes are never read back from the database, which holds only their hashes: derive_codes computes them
again, so a retried or re-downloaded run has the same codes. mint inserts every stamp of a run in one
transaction and leaves a run already minted as it is, so a crash leaves either no stamp or all of them, and
a retry finishes the same stamps.
"""
from typing import Sequence

from flask import current_app
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import LabelRun, RunStatus, Stamp
from app.models.mixins import utcnow
from app.services import codes

MINT_CHUNK = 5_000


def stamp_key() -> bytes:
    return current_app.config["STAMP_KEY"].encode()


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
