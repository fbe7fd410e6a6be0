"""Importing products, batches and diary entries from a spreadsheet: checking every row, planning what
changes, and applying the plan all or nothing.

Each row goes through the same rules as the forms: the services' own field rules (app.services.identifiers
via products.RULES, batches.RULES and batches.EVENT_RULES), their cross-field checks (ocop_errors,
date_order_errors), and finally the services' check functions, whose cleaned values are what is stored.

Rows are matched to what the cooperative already has by natural keys, so importing the same file twice
changes nothing the second time: a product by its GTIN, else by its name; a batch by its product and lot
code; a diary entry by its batch, date, kind and description. Only the cooperative's own products and
batches are ever looked up: another cooperative's batch is simply "not found".
"""
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Batch, DiaryEvent, Product
from app.services import audit, batches, products
from app.services.errors import RuleViolation, lazy_text
from app.services.spreadsheets import KINDS, Column, Kind, Row, read_rows

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row (and column, when it is about one)."""

    row: int
    column: str  # the column's header, or "" for the whole row
    message: Any

    def __str__(self) -> str:
        if self.column:
            return str(lazy_text("Row %(row)d, column «%(column)s»: %(message)s", row=self.row, column=self.column, message=str(self.message)))
        return str(lazy_text("Row %(row)d: %(message)s", row=self.row, message=str(self.message)))


@dataclass
class Change:
    """What one row will do: create a record, update one (with the fields that differ), or nothing."""

    row: int
    action: str  # create, update, unchanged
    label: str  # how the page names the record
    values: dict
    target: Any = None  # the existing record, for update and unchanged
    changed: dict = field(default_factory=dict)  # field -> (before, after)


@dataclass
class Plan:
    kind: Kind
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    choices: "dict[str, Choices]" = field(default_factory=dict)

    def __post_init__(self):
        self.choices = {c.key: Choices.of(c) for c in self.kind.columns if c.choices}

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def total_changes(self) -> int:
        return self.count("create") + self.count("update")


# -- reading one cell ---------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a GTIN or lot code typed as a number
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _same_name(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


@dataclass(frozen=True)
class Choices:
    """A choice column's names, read once per file: any spelling of a name (or the stored value) -> value."""

    by_name: dict
    names: str

    @classmethod
    def of(cls, column: Column) -> "Choices":
        labels = column.choices()
        by_name = {_same_name(name): key for key, name in labels.items()} | {key: key for key in labels}
        return cls(by_name, ", ".join(labels.values()))


def parse_cell(column: Column, value: Any, choices: Choices | None = None) -> Any:
    """A raw cell as the field's value (None when empty), or RuleViolation saying what is expected."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if column.required:
            raise RuleViolation(column.key, _l("This field is required."))
        return None if column.type != "text" else ""
    if column.type == "text":
        return _text(value)
    if column.type == "date":
        return _date(column, value)
    if column.type == "int":
        return _whole_number(column, value)
    if column.type == "decimal":
        return _decimal(column, value)
    choices = choices or Choices.of(column)
    found = choices.by_name.get(_same_name(_text(value)))
    if found is None:
        raise RuleViolation(column.key, lazy_text("Not in the list: choose one of %(names)s.", names=choices.names))
    return found


def _date(column: Column, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RuleViolation(column.key, lazy_text("“%(value)s” is not a date: write it as dd/mm/yyyy, e.g. 05/06/2026.", value=text[:40]))


def _whole_number(column: Column, value: Any) -> int:
    try:
        number = Decimal(str(value).strip())
        if number != number.to_integral_value():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise RuleViolation(column.key, _l("Not a valid integer value.")) from None
    low, high = column.bounds
    if not low <= number <= high:
        raise RuleViolation(column.key, lazy_text("Enter a whole number between %(min)s and %(max)s.", min=low, max=high))
    return int(number)


def _decimal(column: Column, value: Any) -> Decimal:
    text = str(value).strip().replace(" ", "")
    if isinstance(value, str) and "," in text:
        text = text.replace(".", "").replace(",", ".")  # Vietnamese writes 1.200,5
    try:
        number = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RuleViolation(column.key, _l("Not a valid decimal value.")) from None
    if number < 0 or number >= Decimal("1e10"):
        raise RuleViolation(column.key, _l("Enter a number that is not negative."))
    return number


# -- checking rows ------------------------------------------------------------------------------------

class _RowCheck:
    """Collects every problem of one row, column by column, instead of stopping at the first."""

    def __init__(self, plan: "Plan", row: Row):
        self.kind, self.row, self.problems, self.ok = plan.kind, row, plan.problems, True
        self.choices = plan.choices

    def add(self, field_name: str, message) -> None:
        column = self.kind.column(field_name)
        self.problems.append(Problem(self.row.number, column.header if column else "", message))
        self.ok = False

    def cells(self) -> dict:
        values = {}
        for column in self.kind.columns:
            try:
                values[column.key] = parse_cell(column, self.row.cells.get(column.key), self.choices.get(column.key))
            except RuleViolation as refused:
                self.add(column.key, refused.message)
        return values

    def rules(self, values: dict, rules: dict) -> None:
        """Each field's own rule, separately, so that every bad field is reported."""
        for name, rule in rules.items():
            if name in values and self.kind.column(name) is not None:
                try:
                    values[name] = rule.check(values[name], name)
                except RuleViolation as refused:
                    self.add(name, refused.message)

    def errors(self, errors: dict) -> None:
        for name, message in errors.items():
            self.add(name, message)

    def service(self, check, *args):
        """The service's own check, last: its cleaned values are what gets stored."""
        if not self.ok:
            return None
        try:
            return check(*args)
        except RuleViolation as refused:
            self.add(refused.field, refused.message)
            return None


class _Catalogue:
    """The cooperative's products and batches, read once, matched by natural keys."""

    def __init__(self, coop_id: int, with_batches: bool):
        self.products = list(db.session.scalars(select(Product).where(Product.cooperative_id == coop_id)))
        self.by_gtin = {p.gtin: p for p in self.products if p.gtin}
        self.by_name = {_same_name(p.name): p for p in self.products}
        self.batches = {}
        if with_batches:
            stmt = select(Batch).join(Product).where(Product.cooperative_id == coop_id)
            self.batches = {(b.product_id, b.lot_code): b for b in db.session.scalars(stmt)}

    def product_for(self, check: _RowCheck, values: dict) -> Product | None:
        gtin, name = values.get("product_gtin"), values.get("product_name")
        if not gtin and not name:
            check.add("product_name", _l("Name the product (or give its GTIN)."))
            return None
        if gtin:
            try:
                gtin = products.RULES["gtin"].check(gtin, "product_gtin")
            except RuleViolation as refused:
                check.add("product_gtin", refused.message)
                return None
            found = self.by_gtin.get(gtin)
            if found is None:
                check.add("product_gtin", _l("No product of your cooperative has this GTIN."))
            return found
        found = self.by_name.get(_same_name(name))
        if found is None:
            check.add("product_name", _l("No product of your cooperative has this name."))
        return found


def _comparable(value: Any) -> Any:
    """Empty text and no value are the same thing in a cell; 12 and 12.00 are the same quantity."""
    if value == "" or value is None:
        return None
    if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return getattr(value, "value", value)


def _differences(target, values: dict, fields) -> dict:
    """The fields whose value in the row differs from the stored record: name -> (before, after)."""
    return {name: (getattr(target, name), values[name]) for name in fields
            if name in values and _comparable(getattr(target, name)) != _comparable(values[name])}


def _classify(row: Row, label: str, values: dict, target, fields) -> Change:
    if target is None:
        return Change(row.number, "create", label, values)
    changed = _differences(target, values, fields)
    return Change(row.number, "update" if changed else "unchanged", label, values, target, changed)


def _duplicate(check: _RowCheck, seen: dict, key, field_name: str) -> bool:
    if key in seen:
        check.add(field_name, lazy_text("The same record is already in row %(row)d.", row=seen[key]))
        return True
    seen[key] = check.row.number
    return False


def _plan_products(coop_id: int, rows: list[Row], plan: Plan) -> None:
    catalogue, seen = _Catalogue(coop_id, with_batches=False), {}
    for row in rows:
        check = _RowCheck(plan, row)
        values = check.cells()
        check.rules(values, products.RULES)
        check.errors(products.ocop_errors(values))
        values = check.service(products.check_values, values)
        if values is None:
            continue
        target = catalogue.by_gtin.get(values["gtin"]) if values.get("gtin") else None
        target = target or catalogue.by_name.get(_same_name(values["name"]))
        if target is not None and target.gtin and values.get("gtin") and target.gtin != values["gtin"]:
            check.add("gtin", _l("A product of this name already has another GTIN: correct the GTIN or the name."))
            continue
        if _duplicate(check, seen, target.id if target else (values.get("gtin") or _same_name(values["name"])), "name"):
            continue
        plan.changes.append(_classify(row, values["name"], values, target, products.FIELDS))


def _plan_batches(coop_id: int, rows: list[Row], plan: Plan) -> None:
    catalogue, seen = _Catalogue(coop_id, with_batches=True), {}
    for row in rows:
        check = _RowCheck(plan, row)
        values = check.cells()
        product = catalogue.product_for(check, values)
        check.rules(values, batches.RULES)
        check.errors(batches.date_order_errors(values.get("harvest_date"), values.get("packing_date"), values.get("best_before")))
        if product is None or not check.ok:
            continue
        target = catalogue.batches.get((product.id, values["lot_code"]))
        fields = {k: values[k] for k in batches.FIELDS if k in values}
        if target is None and not fields.get("best_before"):
            fields["best_before"] = batches.suggested_best_before(product, fields.get("packing_date"))
        fields = check.service(batches.check_values, product.id, fields, target.id if target else None)
        if fields is None or _duplicate(check, seen, (product.id, fields["lot_code"]), "lot_code"):
            continue
        fields["product_id"] = product.id
        plan.changes.append(_classify(row, f"{product.name} · {fields['lot_code']}", fields, target, batches.FIELDS))


def _event_key(batch_id: int, event_date: date, kind, description: str) -> tuple:
    return batch_id, event_date, getattr(kind, "value", kind), description


def _plan_diary(coop_id: int, rows: list[Row], plan: Plan) -> None:
    catalogue, seen = _Catalogue(coop_id, with_batches=True), {}
    batch_ids = [b.id for b in catalogue.batches.values()]
    existing = {}
    if batch_ids:
        for event in db.session.scalars(select(DiaryEvent).where(DiaryEvent.batch_id.in_(batch_ids))):
            existing.setdefault(_event_key(event.batch_id, event.event_date, event.kind, event.description), event)
    for row in rows:
        check = _RowCheck(plan, row)
        values = check.cells()
        product = catalogue.product_for(check, values)
        batch = catalogue.batches.get((product.id, values.get("lot_code"))) if product and values.get("lot_code") else None
        if product is not None and values.get("lot_code") and batch is None:
            check.add("lot_code", _l("No batch of this product has this lot code in your cooperative."))
        check.rules(values, batches.EVENT_RULES)
        if batch is None or not check.ok:
            continue
        fields = check.service(batches.check_event_values, {k: values[k] for k in batches.EVENT_FIELDS if k in values})
        if fields is None:
            continue
        key = _event_key(batch.id, fields["event_date"], fields["kind"], fields["description"])
        if _duplicate(check, seen, key, "description"):
            continue
        fields["batch_id"] = batch.id
        label = f"{batch.lot_code} · {fields['event_date'].strftime('%d/%m/%Y')}"
        plan.changes.append(_classify(row, label, fields, existing.get(key), ("input_used", "dose", "phi_days", "done_by", "quantity")))


PLANNERS = {"products": _plan_products, "batches": _plan_batches, "diary": _plan_diary}


def plan_import(coop_id: int, kind_name: str, data: bytes, filename: str) -> Plan:
    """Every problem of the file, and what each good row would do; writes nothing.
    FileRefused (from reading) when the file as a whole cannot be taken."""
    kind = KINDS[kind_name]
    plan = Plan(kind)
    PLANNERS[kind_name](coop_id, read_rows(data, filename, kind), plan)
    plan.problems.sort(key=lambda p: p.row)
    return plan


# -- applying -----------------------------------------------------------------------------------------

MODELS = {"products": Product, "batches": Batch, "diary": DiaryEvent}
CREATED_FIELDS = {"products": products.FIELDS, "batches": ("product_id",) + batches.FIELDS, "diary": ("batch_id",) + batches.EVENT_FIELDS}


class ImportRefused(Exception):
    """The file has problems (found again at commit): nothing was written."""

    def __init__(self, plan: Plan):
        super().__init__(f"{len(plan.problems)} problems")
        self.plan = plan


def apply_import(coop_id: int, kind_name: str, data: bytes, filename: str, actor_id: int, shown_name: str = "") -> Plan:
    """Check the file again and apply it in one transaction: every row or none.

    New rows are inserted in bulk (one INSERT of many rows, which the audit trail's per-row session hook
    does not see); changed rows go through the ORM, so each update is in the trail with its before and
    after; and one "import" event records the file with its counts."""
    plan = plan_import(coop_id, kind_name, data, filename)
    if plan.problems:
        raise ImportRefused(plan)
    model, fields = MODELS[kind_name], CREATED_FIELDS[kind_name]
    try:
        new_rows = [_new_row(change.values, fields, coop_id, kind_name, actor_id) for change in plan.changes if change.action == "create"]
        if new_rows:
            db.session.execute(insert(model), new_rows)
        for change in plan.changes:
            if change.action == "update":
                for name, (_, after) in change.changed.items():
                    setattr(change.target, name, after)
                change.target.updated_by_id = actor_id
        audit.record("import", entity=kind_name, cooperative_id=coop_id, after={
            "file": (shown_name or filename)[:200], "created": plan.count("create"), "updated": plan.count("update"),
            "unchanged": plan.count("unchanged"),
        })
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return plan


def _new_row(values: dict, fields, coop_id: int, kind_name: str, actor_id: int) -> dict:
    row = {name: values.get(name) for name in fields if name in values}
    if kind_name == "products":
        row["cooperative_id"] = coop_id
    if kind_name == "products" and not row.get("gtin"):
        row["gtin"] = None  # no GTIN is no value, as the form stores it
    if kind_name == "batches" and not row.get("unit"):
        row.pop("unit", None)  # the model's default unit, as the form offers it
    for name, value in list(row.items()):
        if value is None and name in ("description", "unit", "growing_area", "notes", "input_used", "dose", "done_by",
                                       "ocop_certificate_no", "growing_area_code", "category"):
            row[name] = ""
    row["created_by_id"] = row["updated_by_id"] = actor_id
    return row
