"""The audit trail in words: each event as one sentence in the reader's language.

"Chị Lan sửa ngày thu hoạch của lô VT-2026-06-A: 10/06/2026 → 12/06/2026": who (their display name), what they
did, the field by its label, the object by what users know it as (a lot code, a product's name, a run's number,
a range of stamps), and the values as users read them (dates dd/mm/yyyy, numbers with the language's
separators, choices by their labels, other records by their names). A sentence never shows a column name or a
database id: a field, action or object type that nobody mapped here still reads as "sửa một thông tin khác của
một bản ghi".

Every sentence is a LazyText: the words a user typed (names, lot codes, reasons) are shown escaped.
"""
import copy
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable

from sqlalchemy import JSON, Boolean, Date, DateTime, Enum as EnumType, Float, Integer, Numeric, inspect, select

from app.extensions import db
from app.i18n import format_day, format_moment, format_quantity
from app.models import AuditEvent, Batch, BatchInput, BatchStatus, Outcome, Product, ReportStatus, Role, User
from app.models.geo import Commune
from app.services import audit
from app.services.audit import AUDITED
from app.services.errors import LazyText, lazy_text as _l
from app.vocabulary import BUYER_LABELS, EVENT_LABELS, INPUT_LABELS

MODELS = {entity: model for model, entity in AUDITED.items()}

# Object types a reader can filter by, in the order the filter lists them.
ENTITY_LABELS = {
    "batch": _l("Lots"), "product": _l("Products"), "diary_event": _l("Diary entries"),
    "batch_input": _l("Inputs"), "shipment": _l("Shipments"), "label_run": _l("Stamp runs"),
    "verification": _l("Verifications"), "certification": _l("Certifications"), "photo": _l("Photos"),
    "cooperative": _l("Cooperative profile"), "user": _l("Accounts"),
}

# Each field by its label, lowercase: it stands inside a sentence ("sửa ngày thu hoạch của lô …").
FIELD_LABELS = {
    "lot_code": _l("lot code"), "harvest_date": _l("harvest date"), "packing_date": _l("packing date"),
    "best_before": _l("best-before date"), "quantity": _l("quantity"), "unit": _l("unit"),
    "growing_area": _l("growing area"), "notes": _l("notes"), "status": _l("status"),
    "recall_reason": _l("recall reason"), "recalled_on": _l("recall date"), "product_id": _l("product"),
    "name": _l("name"), "category": _l("product group"), "gtin": _l("GTIN barcode number"),
    "ocop_stars": _l("OCOP stars"), "ocop_certificate_no": _l("OCOP certificate number"),
    "ocop_issued_on": _l("OCOP issue date"), "ocop_expires_on": _l("OCOP expiry date"),
    "growing_area_code": _l("growing area code"), "description": _l("description"),
    "shelf_life_days": _l("shelf life in days"), "is_archived": _l("archived"), "cooperative_id": _l("cooperative"),
    "scheme": _l("certification scheme"), "number": _l("certificate number"), "issuer": _l("issuer"),
    "expires_on": _l("expiry date"), "image": _l("photo"), "caption": _l("caption"),
    "event_date": _l("date"), "kind": _l("kind"), "input_used": _l("input used"), "dose": _l("dose"),
    "phi_days": _l("pre-harvest interval in days"), "done_by": _l("done by"), "photo": _l("photo"),
    "input_id": _l("input"), "batch_id": _l("lot"), "count": _l("number of stamps"), "template": _l("label sheet"),
    "options": _l("print options"), "voided_at": _l("time voided"), "void_reason": _l("reason for voiding"),
    "commune_code": _l("commune"), "officer_id": _l("officer"), "outcome": _l("decision"), "reason": _l("reason"),
    "decided_at": _l("time of decision"), "valid_until": _l("valid until"), "login": _l("login"), "role": _l("role"),
    "is_disabled": _l("account locked"), "locale": _l("language"), "communes": _l("communes in charge"),
    "registration_no": _l("registration number"), "address_line": _l("address"), "phone": _l("phone number"),
    "email": _l("e-mail address"), "representative": _l("representative"), "logo": _l("logo"),
    "gln": _l("GLN location number"), "print_offset_x_mm": _l("print offset across (mm)"),
    "print_offset_y_mm": _l("print offset down (mm)"), "supplier_name": _l("supplier"),
    "supplier_address": _l("supplier's address"), "supplier_lot": _l("supplier's lot"), "received_on": _l("date received"),
    "buyer_name": _l("buyer"), "buyer_kind": _l("kind of buyer"), "buyer_address": _l("buyer's address"),
    "buyer_commune_code": _l("buyer's commune"), "buyer_phone": _l("buyer's phone number"),
    "shipped_on": _l("shipping date"), "note": _l("note"), "run_id": _l("stamp run"), "first_serial": _l("first stamp"),
    "last_serial": _l("last stamp"), "can_write": _l("may change data"),
}
FIELD_LABELS_OF = {("batch_input", "kind"): _l("kind of input"), ("diary_event", "kind"): _l("kind of work"),
                   ("diary_event", "description"): _l("what was done")}
OTHER_FIELD = _l("another detail")
# Fields that are bookkeeping, not anything a person changed; never shown.
UNSHOWN = {"id", "request_token", "facts_hash", "client_id", "shipment_id", "token_hash"}
# Fields whose values mean nothing to a reader (file names, settings): "changed the photo", without values.
WITHOUT_VALUES = {"image", "photo", "logo", "options"}

ENUM_LABELS = {
    **EVENT_LABELS, **INPUT_LABELS, **BUYER_LABELS,
    BatchStatus.ACTIVE: _l("in use"), BatchStatus.RECALLED: _l("recalled"),
    Outcome.VERIFIED: _l("verified"), Outcome.REJECTED: _l("rejected"),
    Role.MEMBER: _l("cooperative member"), Role.OFFICER: _l("commune officer"), Role.ADMIN: _l("administrator"),
}
EMPTY = _l("(empty)")
OTHER_CHOICE = _l("(another choice)")
UNKNOWN = _l("(deleted)")
YES, NO = _l("yes"), _l("no")
IMPORT_KINDS = {"products": _l("products"), "batches": _l("lots"), "diary": _l("diary entries")}

SOMEONE = _l("The system")
VISITOR = _l("A visitor who was not signed in")


@dataclass(frozen=True)
class Change:
    """One changed field as a reader sees it: its label and both values already formatted."""
    label: LazyText
    before: str
    after: str
    shows_values: bool = True


@dataclass(frozen=True)
class Line:
    """One event of the trail, ready to show: the event itself (for the machine columns), its whole sentence (the
    CSV's), and what a page shows above the list of changed fields when there are several (else the sentence)."""
    event: AuditEvent
    sentence: LazyText
    changes: list[Change]
    headline: LazyText


class Names:
    """What users call the records a page of events mentions, read with one query per kind of record.

    Holds the current row of every object the events name (a deleted one is simply absent) and the lot codes,
    product names, input names, people and communes their fields point at, each record with its cooperative:
    `of(event)` keeps those of the event's own cooperative, so that an id another cooperative's record took
    since never lends that record's name to the event."""

    def __init__(self, events: list[AuditEvent]):
        ids = defaultdict(set)
        for e in events:
            if e.entity in MODELS and e.entity_id:
                ids[e.entity].add(e.entity_id)
        self.rows = {}
        for entity, wanted in ids.items():
            model = MODELS[entity]
            for row in db.session.scalars(select(model).where(model.id.in_(wanted))):
                self.rows[entity, row.id] = {a.key: getattr(row, a.key) for a in inspect(model).column_attrs}
        refs = defaultdict(set)
        for e in events:
            for facts in (self.current(e), e.before or {}, e.after or {}):
                for field, kind in (("batch_id", "batch"), ("product_id", "product"), ("input_id", "input"),
                                    ("officer_id", "user"), ("commune_code", "commune"), ("buyer_commune_code", "commune")):
                    if isinstance(facts.get(field), int):
                        refs[kind].add(facts[field])
                if isinstance(facts.get("communes"), list):
                    refs["commune"].update(facts["communes"])
            if e.actor_id and not e.actor_name:
                refs["user"].add(e.actor_id)
        self.lots, self.lot_coops = self._owned(select(Batch.id, Batch.lot_code, Product.cooperative_id).join(Product),
                                                Batch.id, refs["batch"])
        self.products, self.product_coops = self._owned(select(Product.id, Product.name, Product.cooperative_id),
                                                        Product.id, refs["product"])
        self.inputs, self.input_coops = self._owned(
            select(BatchInput.id, BatchInput.name, Product.cooperative_id).join(Batch, BatchInput.batch_id == Batch.id).join(Product),
            BatchInput.id, refs["input"])
        self.people = self._names(User.id, User.name, refs["user"])
        self.communes = self._names(Commune.code, Commune.name, refs["commune"])

    @staticmethod
    def _names(key, name, wanted: set) -> dict:
        return {k: v for k, v in db.session.execute(select(key, name).where(key.in_(wanted)))} if wanted else {}

    @staticmethod
    def _owned(query, key, wanted: set) -> tuple[dict, dict]:
        """Names by id, and each id's cooperative."""
        names, coops = {}, {}
        for id_, name, coop_id in (db.session.execute(query.where(key.in_(wanted))) if wanted else ()):
            names[id_], coops[id_] = name, coop_id
        return names, coops

    def _row_coop(self, row: dict) -> int | None:
        if "cooperative_id" in row:
            return row["cooperative_id"]
        if row.get("product_id") in self.product_coops:
            return self.product_coops[row["product_id"]]
        return self.lot_coops.get(row.get("batch_id"))

    def of(self, e: AuditEvent) -> "Names":
        """The names this event may use: only records of its own cooperative (all, for an event of none)."""
        if e.cooperative_id is None:
            return self
        own = e.cooperative_id
        view = copy.copy(self)
        view.lots = {k: v for k, v in self.lots.items() if self.lot_coops[k] == own}
        view.products = {k: v for k, v in self.products.items() if self.product_coops[k] == own}
        view.inputs = {k: v for k, v in self.inputs.items() if self.input_coops[k] == own}
        row = self.rows.get((e.entity, e.entity_id))
        if row is not None and e.entity != "user" and self._row_coop(row) not in (None, own):
            view.rows = {key: facts for key, facts in self.rows.items() if key != (e.entity, e.entity_id)}
        return view

    def current(self, e: AuditEvent) -> dict:
        return self.rows.get((e.entity, e.entity_id), {})

    def facts(self, e: AuditEvent) -> dict:
        """Everything known about the object: its row now, overlaid by what the event recorded of it."""
        return {**self.current(e), **(e.before or {}), **(e.after or {})}

    def lot(self, batch_id) -> str:
        return self.lots.get(batch_id) or str(UNKNOWN)


def _column(entity: str, field: str):
    model = MODELS.get(entity)
    attr = inspect(model).column_attrs.get(field) if model is not None else None
    return attr.columns[0] if attr is not None else None


def _number(value) -> str:
    try:
        return format_quantity(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def _as_day(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _as_moment(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def value_text(entity: str, field: str, value, names: Names) -> str:
    """A recorded value as the reader reads it: never an id, a column's raw code or an ISO date."""
    if value is None or value == "" or value == []:
        return str(EMPTY)
    by_reference = {"batch_id": names.lots, "product_id": names.products, "input_id": names.inputs,
                    "officer_id": names.people, "commune_code": names.communes, "buyer_commune_code": names.communes}
    if field in by_reference:
        return by_reference[field].get(value) or str(UNKNOWN)
    if field == "communes" and isinstance(value, list):
        return ", ".join(names.communes.get(code) or str(UNKNOWN) for code in value)
    if field == "template":
        return _sheet_name(value)
    column = _column(entity, field)
    kind = column.type if column is not None else None
    try:
        if isinstance(kind, EnumType):
            member = kind.enum_class(value)
            return str(ENUM_LABELS.get(member, OTHER_CHOICE))
        if isinstance(kind, DateTime):
            return format_moment(_as_moment(value))
        if isinstance(kind, Date):
            return format_day(_as_day(value))
    except (ValueError, TypeError):
        return str(value)
    if isinstance(kind, Boolean) or isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(kind, (Numeric, Integer, Float)) or isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, (list, dict)) or isinstance(kind, JSON):
        return ", ".join(str(v) for v in (value.values() if isinstance(value, dict) else value))
    return str(value)


def _sheet_name(sheet_id: str) -> str:
    """A label sheet by its name in the reader's language, not its id ("a4-65")."""
    from app.services import label_sheets

    spec = label_sheets.templates().get(sheet_id)
    return label_sheets.display_name(spec) if spec is not None else str(_l("a label sheet of the cooperative's own"))


def field_label(entity: str, field: str) -> LazyText:
    return FIELD_LABELS_OF.get((entity, field)) or FIELD_LABELS.get(field) or OTHER_FIELD


def changes(e: AuditEvent, names: Names) -> list[Change]:
    before, after = e.before or {}, e.after or {}
    found = []
    for field in [*before, *(k for k in after if k not in before)]:
        if field in UNSHOWN:
            continue
        found.append(Change(field_label(e.entity, field), value_text(e.entity, field, before.get(field), names),
                            value_text(e.entity, field, after.get(field), names), field not in WITHOUT_VALUES))
    return found


# What users know each kind of object as.
def _object(e: AuditEvent, names: Names) -> LazyText:
    facts = names.facts(e)
    namer = OBJECTS.get(e.entity)
    return namer(facts, names) if namer else _l("a record")


def _text(value) -> str:
    return str(value) if value not in (None, "") else str(UNKNOWN)


OBJECTS: dict[str, Callable[[dict, Names], LazyText]] = {
    "batch": lambda f, n: _l("lot %(lot)s", lot=_text(f.get("lot_code"))),
    "product": lambda f, n: _l("product %(name)s", name=_text(f.get("name"))),
    "cooperative": lambda f, n: _l("the profile of %(name)s", name=_text(f.get("name"))),
    "certification": lambda f, n: _l("the %(scheme)s certificate of product %(product)s", scheme=_text(f.get("scheme")),
                                     product=_text(n.products.get(f.get("product_id")))),
    "photo": lambda f, n: _l("a photo of product %(product)s", product=_text(n.products.get(f.get("product_id")))),
    "diary_event": lambda f, n: _l("the diary entry of %(day)s in lot %(lot)s",
                                   day=format_day(_as_day(f.get("event_date"))) or str(UNKNOWN), lot=n.lot(f.get("batch_id"))),
    "label_run": lambda f, n: _l("stamp run %(number)s", number=f.get("id")),
    "verification": lambda f, n: _l("lot %(lot)s", lot=n.lot(f.get("batch_id"))),
    "gate_override": lambda f, n: _l("lot %(lot)s", lot=n.lot(f.get("batch_id"))),
    "user": lambda f, n: _l("the account of %(name)s", name=_text(f.get("name"))),
    "batch_input": lambda f, n: _l("the input %(name)s of lot %(lot)s", name=_text(f.get("name")), lot=n.lot(f.get("batch_id"))),
    "shipment": lambda f, n: _l("the shipment to %(buyer)s from lot %(lot)s", buyer=_text(f.get("buyer_name")),
                                lot=n.lot(f.get("batch_id"))),
    "shipment_range": lambda f, n: _l("stamps %(first)s–%(last)s of stamp run %(run)s", first=_text(f.get("first_serial")),
                                      last=_text(f.get("last_serial")), run=_text(f.get("run_id"))),
    "api_token": lambda f, n: _l("the API key %(name)s", name=_text(f.get("name"))),
    "banned_substances": lambda f, n: _l("the list of banned substances"),
    "banned_trade_names": lambda f, n: _l("the list of banned substances"),
    "fake_report": lambda f, n: _l("a report of a suspected fake stamp"),
}


def who(e: AuditEvent, names: Names) -> str:
    if e.actor_name:
        return e.actor_name
    if e.actor_id and e.actor_id in names.people:
        return names.people[e.actor_id]
    return str(VISITOR if e.action in ("refused", "sign_in_failed") else SOMEONE)


def _update(e: AuditEvent, names: Names, person: str, what: LazyText, found: list[Change]) -> LazyText:
    if not found:
        return _l("%(who)s changed %(object)s", who=person, object=what)
    if len(found) == 1:
        c = found[0]
        if not c.shows_values:
            return _l("%(who)s changed the %(field)s of %(object)s", who=person, field=c.label, object=what)
        return _l("%(who)s changed the %(field)s of %(object)s: %(before)s → %(after)s", who=person, field=c.label,
                  object=what, before=c.before, after=c.after)
    parts = "; ".join(str(_l("%(field)s %(before)s → %(after)s", field=c.label, before=c.before, after=c.after))
                      if c.shows_values else str(c.label) for c in found)
    return _l("%(who)s changed %(object)s: %(changes)s", who=person, object=what, changes=parts)


def _report_status(value) -> str:
    from app.services.report_inbox import STATUS_LABELS

    try:
        return str(STATUS_LABELS[ReportStatus(value)])
    except ValueError:
        return str(UNKNOWN)


def _login_tried(detail: str) -> str:
    login = detail.removeprefix("login: ")
    return login.removesuffix(" (too many failed attempts)")


def _refused_page(detail: str) -> tuple[str, str]:
    status, _method, path = (detail.split(" ", 2) + ["", ""])[:3]
    return status, path


def sentence(e: AuditEvent, names: Names, found: list[Change]) -> LazyText:
    """The event as one sentence in the reader's language."""
    person, what = who(e, names), _object(e, names)
    after, before = e.after or {}, e.before or {}
    facts = names.facts(e)
    reason = _text(facts.get("reason") or facts.get("recall_reason") or facts.get("void_reason"))
    match e.action:
        case "create":
            return _l("%(who)s added %(object)s", who=person, object=what)
        case "delete":
            return _l("%(who)s deleted %(object)s", who=person, object=what)
        case "update":
            return _update(e, names, person, what, found)
        case "verified":
            return _l("%(who)s verified %(object)s", who=person, object=what)
        case "rejected":
            return _l("%(who)s rejected %(object)s: %(reason)s", who=person, object=what, reason=reason)
        case "gate_override":
            return _l("%(who)s allowed the stamps of %(object)s despite the compliance check: %(reason)s", who=person,
                      object=what, reason=reason)
        case "recall":
            return _l("%(who)s recalled %(object)s: %(reason)s", who=person, object=what, reason=reason)
        case "label_run":
            return _l("%(who)s ordered %(object)s: %(count)s stamps", who=person, object=what, count=_number(facts.get("count") or 0))
        case "activate":
            return _l("%(who)s activated stamps %(first)s–%(last)s of %(object)s for lot %(lot)s (%(count)s stamps)",
                      who=person, first=_text(after.get("first")), last=_text(after.get("last")), object=what,
                      lot=names.lot(after.get("batch_id")), count=_number(after.get("stamps") or 0))
        case "void" if "first" in after:
            return _l("%(who)s voided stamps %(first)s–%(last)s of %(object)s (%(count)s stamps): %(reason)s", who=person,
                      first=_text(after.get("first")), last=_text(after.get("last")), object=what,
                      count=_number(after.get("stamps") or 0), reason=_text(after.get("reason")))
        case "void":
            return _l("%(who)s voided %(object)s: %(reason)s", who=person, object=what, reason=reason)
        case "print_over_quantity":
            return _l("%(who)s printed %(count)s stamps for lot %(lot)s, more than its %(quantity)s %(unit)s"
                      " (%(already)s stamps already in use)", who=person, count=_number(after.get("count") or 0),
                      lot=_text(after.get("lot_code")), quantity=_number(after.get("quantity") or 0),
                      unit=_text(after.get("unit")), already=_number(after.get("already") or 0))
        case "banned_list" if e.entity == "banned_trade_names":
            if after:
                return _l("%(who)s added the trade name %(name)s of the banned substance %(substance)s", who=person,
                          name=_text(after.get("trade_name")), substance=_text(after.get("substance")))
            return _l("%(who)s removed the trade name %(name)s of the banned substance %(substance)s", who=person,
                      name=_text(before.get("trade_name")), substance=_text(before.get("substance")))
        case "report_status":
            return _l("%(who)s moved a report of a suspected fake stamp from “%(before)s” to “%(after)s”", who=person,
                      before=_report_status(before.get("status")), after=_report_status(after.get("status")))
        case "banned_list":
            old, new = set(before.get("names") or ()), set(after.get("names") or ())
            return _l("%(who)s changed the list of banned substances: %(added)s added, %(removed)s removed", who=person,
                      added=_number(len(new - old)), removed=_number(len(old - new)))
        case "import":
            return _l("%(who)s imported %(kind)s from the file %(file)s: %(created)s new, %(updated)s changed,"
                      " %(unchanged)s unchanged", who=person, kind=IMPORT_KINDS.get(e.entity, _l("records")),
                      file=_text(after.get("file")), created=_number(after.get("created") or 0),
                      updated=_number(after.get("updated") or 0), unchanged=_number(after.get("unchanged") or 0))
        case "sign_in":
            return _l("%(who)s signed in", who=person)
        case "sign_in_failed":
            return _l("Failed sign-in as %(login)s", login=_login_tried(e.detail))
        case "refused":
            status, path = _refused_page(e.detail)
            return _l("%(who)s was refused the page %(path)s (error %(status)s)", who=person, path=path or "/", status=status)
        case "sign_out_others":
            return _l("%(who)s signed out of all other devices", who=person)
        case "password_changed":
            return _l("%(who)s changed their password", who=person)
        case "password_reset_link":
            return _l("%(who)s made a password reset link for %(object)s", who=person, object=what)
        case "password_reset":
            return _l("%(who)s set a new password with a reset link", who=person)
        case "api_token_created":
            return _l("%(who)s made %(object)s", who=person, object=what)
        case "api_token_revoked":
            return _l("%(who)s revoked %(object)s", who=person, object=what)
    return _l("%(who)s changed %(object)s", who=person, object=what)


def lines(events: Iterable[AuditEvent]) -> list[Line]:
    """The events as sentences, in the reader's language (call inside the request)."""
    events = list(events)
    names = Names(events)
    result = []
    for e in events:
        own = names.of(e)
        found = changes(e, own) if e.action == "update" else []
        whole = sentence(e, own, found)
        headline = _l("%(who)s changed %(object)s:", who=who(e, own), object=_object(e, own)) if len(found) > 1 else whole
        result.append(Line(e, whole, found, headline))
    return result


def csv_rows(scope: audit.Scope, where: audit.Filter):
    """The CSV export: machine-readable columns and the sentence, a thousand events at a time, so that a long
    trail never sits in memory whole."""
    chunk = []
    for e in audit.matching(scope, where):
        chunk.append(e)
        if len(chunk) == 1000:
            yield from _csv_chunk(chunk)
            chunk = []
    yield from _csv_chunk(chunk)


def _csv_chunk(events: list[AuditEvent]):
    for line in lines(events):
        yield audit.csv_row(line.event, str(line.sentence))
