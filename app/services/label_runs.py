"""Label runs: ordering a run of stamps once, finding and listing a cooperative's runs, recording a run's state.

A request token creates at most one run: a double submit returns the run it already created. A run is
ordered only for a product that is not archived and, when it is for a batch, a batch of that product that is
not recalled and passes the compliance gate, on a built-in sheet or one of the cooperative's own templates, whose dimensions the run keeps. A run that would give
its batch more stamps than pieces needs an explicit confirmation, which the audit trail records. Every
change of a run's state goes through set_state, which refreshes its heartbeat and commits at once.
"""
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.i18n import format_quantity
from app.models import Batch, BatchStatus, LabelRun, Stamp, User
from app.models.mixins import utcnow
from app.services import audit, compliance
from app.services.batches import get_batch
from app.services.errors import NotFound, RuleViolation, lazy_text as _l
from app.services import label_templates
from app.services.label_sheets import sheet_record
from app.services.products import get_product
from app.services.records import create

RENDER_KEYS = ("ecc", "offset_x_mm", "offset_y_mm", "crop_marks", "outlines")  # passed to the label library
OPTION_KEYS = (*RENDER_KEYS, "gs1_link")  # what a run keeps of the options it was ordered with


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
    label_templates.resolve(coop_id, template)  # a built-in sheet or the cooperative's own, else refused
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
        sheet=sheet_record(label_templates.resolve(coop_id, template)),  # frozen: the PDF stays as printed
        options={k: options[k] for k in OPTION_KEYS if k in options},
    )
    if excess:
        db.session.flush()  # the run's id, for the trail
        actor = db.session.get(User, actor_id) if actor_id else None
        audit.record("print_over_quantity", entity="label_run", entity_id=run.id, cooperative_id=coop_id,
                     after=excess.audit_values(batch), actor=actor)
    db.session.commit()
    return run, True


def set_state(run_id: int, **values) -> None:
    """Change a run's row (status, progress, error, …) with a fresh heartbeat, in a commit of its own."""
    db.session.execute(update(LabelRun).where(LabelRun.id == run_id).values(heartbeat_at=utcnow(), **values))
    db.session.commit()
