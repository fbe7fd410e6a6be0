"""Writing the audit trail.

Every create, change and delete of cooperative data is recorded by a session hook, in the same transaction
as the change itself, with the changed values before and after. Events that are not row changes (sign-ins,
refused access, stamp activations and voids done in bulk) are recorded by the code that does them.
"""
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import and_, event, func, insert, inspect, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.mixins import utcnow
from app.models import (AuditEvent, Batch, BatchInput, BatchStatus, Certification, Cooperative, DiaryEvent, GateOverride,
                        LabelRun, Product, ProductPhoto, Shipment, ShipmentRange, User, Verification)

AUDITED = {
    Cooperative: "cooperative", Product: "product", Certification: "certification", ProductPhoto: "photo",
    Batch: "batch", DiaryEvent: "diary_event", LabelRun: "label_run", Verification: "verification",
    GateOverride: "gate_override", User: "user", BatchInput: "batch_input", Shipment: "shipment",
    ShipmentRange: "shipment_range",
}
# Bookkeeping, secrets and a run's progress are not changes anybody made.
IGNORED = {"created_at", "updated_at", "created_by_id", "updated_by_id", "password_hash", "heartbeat_at", "progress",
           "facts"}  # a verification keeps its own copy of the facts; the trail keeps their fingerprint
IGNORED_RUN = {"status", "error", "finished_at", "pdf_bytes", "pdf_sha256"}


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (bytes, memoryview)):
        return None
    return value


def _columns(obj) -> list[str]:
    ignored = IGNORED | (IGNORED_RUN if isinstance(obj, LabelRun) else set())
    return [attr.key for attr in inspect(obj).mapper.column_attrs if attr.key not in ignored]


def _snapshot(obj) -> dict:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


def _changes(obj) -> tuple[dict, dict]:
    state, before, after = inspect(obj), {}, {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if history.has_changes():
            before[key] = _plain(history.deleted[0]) if history.deleted else None
            after[key] = _plain(history.added[0]) if history.added else None
    return before, after


def _actor() -> tuple[int | None, str]:
    # The user Flask-Login already loaded for this request; loading one here would query mid-flush.
    user = g.get("_login_user") if has_app_context() else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.name
    return None, ""


def _cooperative_id(connection, obj) -> int | None:
    if isinstance(obj, Cooperative):
        return obj.id
    if isinstance(obj, (Product, LabelRun, User)):
        return obj.cooperative_id
    product_id = getattr(obj, "product_id", None)
    batch_id = getattr(obj, "batch_id", None)
    if product_id is None and batch_id is not None:
        product_id = connection.scalar(select(Batch.product_id).where(Batch.id == batch_id))
    if product_id is None:
        return None
    return connection.scalar(select(Product.cooperative_id).where(Product.id == product_id))


def _action(obj, kind: str, after: dict) -> str:
    if kind == "create" and isinstance(obj, Verification):
        return obj.outcome.value  # "verified" or "rejected"
    if kind == "create" and isinstance(obj, GateOverride):
        return "gate_override"
    if kind == "create" and isinstance(obj, LabelRun):
        return "label_run"
    if kind == "update" and isinstance(obj, Batch) and after.get("status") == BatchStatus.RECALLED.value:
        return "recall"
    if kind == "update" and isinstance(obj, LabelRun) and after.get("voided_at"):
        return "void"
    return kind


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _context) -> None:
    rows = []
    connection = session.connection()
    actor_id, actor_name = _actor()
    communes: dict[int, int | None] = {}
    for kind, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            entity = AUDITED.get(type(obj))
            if entity is None:
                continue
            if kind == "update":
                before, after = _changes(obj)
                if not after and not before:
                    continue
            else:
                before, after = (None, _snapshot(obj)) if kind == "create" else (_snapshot(obj), None)
            coop_id = _cooperative_id(connection, obj)
            if coop_id is not None and coop_id not in communes:
                communes[coop_id] = connection.scalar(select(Cooperative.commune_code).where(Cooperative.id == coop_id))
            by, by_name = actor_id, actor_name
            if by is None:  # no signed-in user (a command, a worker): the row says who
                by = getattr(obj, "updated_by_id", None) or getattr(obj, "officer_id", None)
                by_name = connection.scalar(select(User.name).where(User.id == by)) if by else ""
            rows.append({
                "at": utcnow(), "actor_id": by,
                "actor_name": by_name, "action": _action(obj, kind, after or {}), "entity": entity,
                "entity_id": inspect(obj).identity[0] if inspect(obj).identity else None, "cooperative_id": coop_id,
                "commune_code": communes.get(coop_id) if coop_id else getattr(obj, "commune_code", None),
                "before": before, "after": after, "detail": "",
            })
    if rows:
        connection.execute(insert(AuditEvent), rows)


def record(action: str, *, entity: str = "", entity_id: int | None = None, cooperative_id: int | None = None,
           commune_code: int | None = None, before: dict | None = None, after: dict | None = None, detail: str = "",
           actor: User | None = None, commit: bool = False) -> None:
    """Record an event that is not a row change; with commit=True, in a transaction of its own."""
    actor_id, actor_name = (actor.id, actor.name) if actor is not None else _actor()
    if cooperative_id is not None and commune_code is None:
        commune_code = db.session.scalar(select(Cooperative.commune_code).where(Cooperative.id == cooperative_id))
    if has_request_context() and not detail:
        detail = f"{request.method} {request.path}"[:500]
    db.session.add(AuditEvent(actor_id=actor_id, actor_name=actor_name, action=action, entity=entity, entity_id=entity_id,
                              cooperative_id=cooperative_id, commune_code=commune_code, before=before, after=after,
                              detail=detail[:500]))
    if commit:
        db.session.commit()


PAGE_SIZE = 50


@dataclass(frozen=True)
class Scope:
    """Whose events a reader may see: everything (an administrator), the events in some communes (an officer's),
    or those of one cooperative (its members)."""
    commune_codes: list[int] | None = None
    cooperative_id: int | None = None

    def where(self, query):
        if self.commune_codes is not None:
            query = query.where(AuditEvent.commune_code.in_(self.commune_codes))
        if self.cooperative_id is not None:
            query = query.where(AuditEvent.cooperative_id == self.cooperative_id)
        return query


@dataclass(frozen=True)
class Filter:
    """What a reader narrows the trail to: one person, one kind of object, objects whose lot code or product name
    contains some text, and Vietnam's days from first_day to last_day, both included. Empty fields filter nothing."""
    actor_id: int | None = None
    entity: str = ""
    search: str = ""
    first_day: date | None = None
    last_day: date | None = None

    def where(self, query):
        if self.actor_id is not None:
            query = query.where(AuditEvent.actor_id == self.actor_id)
        if self.entity:
            query = query.where(AuditEvent.entity == self.entity)
        if self.search:
            query = query.where(_about(self.search))
        if self.first_day is not None:
            query = query.where(AuditEvent.at >= _utc_start(self.first_day))
        if self.last_day is not None:
            query = query.where(AuditEvent.at < _utc_start(self.last_day + timedelta(days=1)))
        return query


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    number: int  # from 1
    pages: int  # at least 1
    total: int


def _utc_start(day: date) -> datetime:
    """When a day in Vietnam begins, as the trail stores times (UTC, without a zone)."""
    local = datetime.combine(day, time.min, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _about(text: str):
    """Events about a lot or product whose lot code or product name contains `text`, or about a record of one
    (a diary entry, input, shipment, stamp run, verification, certificate or photo). Rows deleted since are not
    found: their events still show under the person and the dates."""
    products = select(Product.id).where(Product.name.icontains(text, autoescape=True))
    lots = select(Batch.id).where(or_(Batch.lot_code.icontains(text, autoescape=True), Batch.product_id.in_(products)))
    of_lot = {DiaryEvent: "diary_event", BatchInput: "batch_input", Shipment: "shipment", Verification: "verification",
              GateOverride: "gate_override", ShipmentRange: "shipment_range"}
    of_product = {Certification: "certification", ProductPhoto: "photo"}
    runs = select(LabelRun.id).where(or_(LabelRun.batch_id.in_(lots), LabelRun.product_id.in_(products)))
    # A creation is recorded before its row has an id in entity_id: the id is in the snapshot after it.
    object_id = func.coalesce(AuditEvent.entity_id, AuditEvent.after["id"].as_integer())
    return or_(
        and_(AuditEvent.entity == "batch", object_id.in_(lots)),
        and_(AuditEvent.entity == "product", object_id.in_(products)),
        and_(AuditEvent.entity == "label_run", object_id.in_(runs)),
        *(and_(AuditEvent.entity == name, object_id.in_(select(model.id).where(model.batch_id.in_(lots))))
          for model, name in of_lot.items()),
        *(and_(AuditEvent.entity == name, object_id.in_(select(model.id).where(model.product_id.in_(products))))
          for model, name in of_product.items()),
    )


def page(scope: Scope, where: Filter, number: int = 1) -> Page:
    """One page of PAGE_SIZE events, newest first; a number past the last page gives the last page."""
    query = where.where(scope.where(select(AuditEvent)))
    total = db.session.scalar(query.with_only_columns(func.count(AuditEvent.id)).order_by(None))
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    rows = db.session.scalars(query.order_by(AuditEvent.id.desc()).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return Page(list(rows), number, pages, total)


def matching(scope: Scope, where: Filter):
    """Every event a reader may see that matches, newest first, read a thousand rows at a time."""
    query = where.where(scope.where(select(AuditEvent))).order_by(AuditEvent.id.desc())
    return db.session.scalars(query.execution_options(yield_per=1000))


def actors(scope: Scope) -> list[tuple[int, str]]:
    """The people who appear in the events a reader may see, by name (for the "who" filter)."""
    query = scope.where(select(AuditEvent.actor_id, func.max(AuditEvent.actor_name)).where(AuditEvent.actor_id.is_not(None)))
    rows = db.session.execute(query.group_by(AuditEvent.actor_id))
    return sorted(((id_, name or "") for id_, name in rows), key=lambda row: row[1].casefold())


CSV_HEADER = ["id", "at_utc", "actor_id", "actor_name", "action", "entity", "entity_id", "cooperative_id", "commune_code",
              "before", "after", "detail", "sentence"]


def csv_row(e: AuditEvent, sentence: str) -> list:
    """The machine-readable columns of CSV_HEADER, then the event as a sentence."""
    return [e.id, e.at.isoformat(), e.actor_id, e.actor_name, e.action, e.entity, e.entity_id, e.cooperative_id,
            e.commune_code, json.dumps(e.before, ensure_ascii=False) if e.before else "",
            json.dumps(e.after, ensure_ascii=False) if e.after else "", e.detail, sentence]
