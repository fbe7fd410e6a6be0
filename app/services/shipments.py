"""A batch's shipments to buyers (one step forward), scoped by the caller's cooperative id.

A shipment names its buyer (kind, address or official commune, phone), the day, the quantity and unit, a note
(the vehicle…) and, optionally, the stamp serial ranges that went with it. Every range is stamps of a run on this
batch (a run printed for it, or blank stamps activated onto it), and no stamp goes in two shipments.

Quantities: a shipment in the batch's own unit may not take more than what is left of the batch (its quantity
less the earlier shipments in that unit). A shipment in another unit ("thùng" of a batch counted in kg) cannot be
compared, so it is saved and the page says that it was not checked.

Shipments are not facts the commune verifies (they are not in listings.facts()): recording one never sends a
verified listing back to the officer's queue. When a batch is recalled, its shipments are the buyers to call.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.i18n import format_day, format_quantity
from app.models import Batch, BatchStatus, BuyerKind, LabelRun, Shipment, ShipmentRange, Stamp
from app.services.batch_inputs import amount
from app.services.batches import get_batch, get_batch_record
from app.services.errors import RuleViolation, lazy_text as _l
from app.services.geo import get_commune
from app.services.identifiers import PHONE, REQUIRED, FreeText, clean_values
from app.services.records import assign, create

FIELDS = ("buyer_name", "buyer_kind", "buyer_address", "buyer_commune_code", "buyer_phone", "shipped_on", "quantity",
          "unit", "note")
RULES = {
    "buyer_name": FreeText(200, required=True), "buyer_address": FreeText(200), "buyer_phone": PHONE,
    "unit": FreeText(20), "note": FreeText(2000, multiline=True),
}
RANGES_HELP = _l("Write each run's number, a colon, then its serials: “#12: 1-500, 801-900”. "
                 "With a single run on this batch, “1-500” is enough.")


@dataclass(frozen=True, order=True)
class StampRange:
    """Serials first..last (inclusive) of label run `run_id`."""

    run_id: int
    first: int
    last: int

    def __str__(self) -> str:
        return f"#{self.run_id}: {self.first}–{self.last}" if self.first != self.last else f"#{self.run_id}: {self.first}"


# "#12: 1-500, 801-900; 13: 7" — a run number ends with ":", a serial range is "a-b" (or "a–b", "a đến b") or one serial.
_RUN = re.compile(r"#?\s*(\d+)\s*:\s*")
_SERIALS = re.compile(r"(\d+)(?:\s*(?:-|–|—|đến|to)\s*(\d+))?")
_SEPARATORS = re.compile(r"[\s,;]+")


def parse_ranges(text: str | None, single_run: int | None = None) -> list[StampRange]:
    """The ranges typed in the form, or RuleViolation("ranges"). Without a run number, serials belong to the run
    named before them, or to `single_run` (the batch's only run)."""
    text = unicodedata.normalize("NFC", text or "").strip()
    found, run, position = [], None, 0
    while position < len(text):
        gap = _SEPARATORS.match(text, position)
        if gap:
            position = gap.end()
            continue
        named = _RUN.match(text, position)
        if named:
            run, position = int(named.group(1)), named.end()
            continue
        serials = _SERIALS.match(text, position)
        if not serials or (run or single_run) is None:
            raise RuleViolation("ranges", RANGES_HELP)
        first, last = int(serials.group(1)), int(serials.group(2) or serials.group(1))
        if not 1 <= first <= last:
            raise RuleViolation("ranges", _l("A range goes from the smaller serial to the larger: %(range)s.", range=serials.group(0)))
        found.append(StampRange(run or single_run, first, last))
        position = serials.end()
    return found


def format_ranges(ranges) -> str:
    """Ranges as the form shows them back: "#12: 1–500, 801–900; #13: 7"."""
    by_run: dict[int, list[str]] = {}
    for r in sorted(StampRange(r.run_id, r.first_serial, r.last_serial) if isinstance(r, ShipmentRange) else r for r in ranges):
        by_run.setdefault(r.run_id, []).append(f"{r.first}-{r.last}" if r.first != r.last else str(r.first))
    return "; ".join(f"#{run}: {', '.join(parts)}" for run, parts in by_run.items())


def runs_on_batch(batch: Batch) -> list[LabelRun]:
    """The runs whose stamps are on this batch: printed for it, or blank stamps activated onto it."""
    activated = select(Stamp.run_id).where(Stamp.batch_id == batch.id).distinct()
    stmt = select(LabelRun).where((LabelRun.batch_id == batch.id) | LabelRun.id.in_(activated)).order_by(LabelRun.id)
    return list(db.session.scalars(stmt))


def same_unit(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", (a or "").strip().rstrip(".")).casefold() == \
        unicodedata.normalize("NFC", (b or "").strip().rstrip(".")).casefold()


def shipped(batch: Batch, excluding: int | None = None) -> Decimal:
    """What the batch's shipments in its own unit took, other than shipment `excluding`."""
    return sum((s.quantity for s in batch.shipments if s.id != excluding and same_unit(s.unit, batch.unit)), Decimal(0))


def left_to_ship(batch: Batch) -> Decimal | None:
    """The batch's quantity less what its shipments in its unit took; None when the batch has no quantity."""
    return None if batch.quantity is None else batch.quantity - shipped(batch)


def unit_not_checked(shipment: Shipment) -> bool:
    """Whether this shipment's quantity could not be checked against the batch's (another unit)."""
    return shipment.batch.quantity is not None and not same_unit(shipment.unit, shipment.batch.unit)


def list_shipments(coop_id: int, batch_id: int) -> list[Shipment]:
    return list(get_batch(coop_id, batch_id).shipments)


def get_shipment(coop_id: int, batch_id: int, shipment_id: int) -> Shipment:
    return get_batch_record(coop_id, batch_id, Shipment, shipment_id)


def _values(batch: Batch, values: dict, partial: bool) -> dict:
    """A shipment's values checked and cleaned (not yet against the batch's quantity)."""
    values = clean_values({k: values[k] for k in FIELDS if k in values}, RULES, partial)
    if "buyer_kind" in values or not partial:
        try:
            values["buyer_kind"] = BuyerKind(values.get("buyer_kind"))
        except ValueError as exc:
            raise RuleViolation("buyer_kind", REQUIRED if not values.get("buyer_kind") else _l("Not a valid choice.")) from exc
    if values.get("buyer_commune_code") is not None and get_commune(int(values["buyer_commune_code"])) is None:
        raise RuleViolation("buyer_commune", _l("Choose one commune from the list (type part of its current name, e.g. Lục Ngạn)."))
    for name in ("shipped_on", "quantity"):
        if (name in values or not partial) and values.get(name) in (None, ""):
            raise RuleViolation(name, REQUIRED)
    if "quantity" in values:
        values["quantity"] = amount(values["quantity"], "quantity", positive=True)
    if not values.get("unit") and (not partial or "unit" in values):
        values["unit"] = batch.unit
    shipped_on = values.get("shipped_on")
    if shipped_on and batch.harvest_date and shipped_on < batch.harvest_date:
        raise RuleViolation("shipped_on", _l("A shipment cannot leave before the harvest (%(date)s).", date=format_day(batch.harvest_date)))
    return values


def _check_quantity(batch: Batch, quantity: Decimal, unit: str, shipment_id: int | None) -> None:
    """Refuse a shipment in the batch's unit that takes more than is left of it."""
    if batch.quantity is None or not same_unit(unit, batch.unit):
        return
    before = shipped(batch, excluding=shipment_id)
    if before + quantity > batch.quantity:
        raise RuleViolation("quantity", _l(
            "Only %(left)s %(unit)s of this batch are left to ship (%(quantity)s %(unit)s, of which %(shipped)s shipped already).",
            left=format_quantity(max(batch.quantity - before, Decimal(0))), unit=batch.unit,
            quantity=format_quantity(batch.quantity), shipped=format_quantity(before)))


def _check_recall(batch: Batch, shipped_on: date) -> None:
    """A recalled batch may only get the shipments that left before its recall (recorded late), never new ones."""
    if batch.status is BatchStatus.RECALLED and batch.recalled_on and shipped_on > batch.recalled_on:
        raise RuleViolation("shipped_on", _l("This batch was recalled on %(date)s: it cannot be shipped after that.",
                                             date=format_day(batch.recalled_on)))


def _check_ranges(batch: Batch, ranges: list[StampRange], shipment_id: int | None) -> None:
    """Every range is stamps of this batch, the ranges do not overlap, and no stamp went in another shipment."""
    ordered = sorted(ranges)
    for before, after in zip(ordered, ordered[1:]):
        if before.run_id == after.run_id and after.first <= before.last:
            raise RuleViolation("ranges", _l("The ranges %(a)s and %(b)s overlap.", a=str(before), b=str(after)))
    for r in ordered:
        on_batch = db.session.scalar(select(func.count()).select_from(Stamp).where(
            Stamp.run_id == r.run_id, Stamp.serial.between(r.first, r.last), Stamp.batch_id == batch.id))
        if on_batch != r.last - r.first + 1:
            raise RuleViolation("ranges", _l(
                "Stamps %(range)s are not all stamps of this batch (%(n)s of them are). Check the run's number and serials.",
                range=str(r), n=format_quantity(on_batch)))
        clash = db.session.scalar(select(ShipmentRange).join(Shipment).where(
            ShipmentRange.batch_id == batch.id, ShipmentRange.run_id == r.run_id,
            ShipmentRange.first_serial <= r.last, ShipmentRange.last_serial >= r.first,
            *([ShipmentRange.shipment_id != shipment_id] if shipment_id else [])).limit(1))
        if clash is not None:
            raise RuleViolation("ranges", _l("Stamps %(range)s already went to %(buyer)s on %(date)s.", range=str(r),
                                             buyer=clash.shipment.buyer_name, date=format_day(clash.shipment.shipped_on)))


def _ranges(values: dict) -> list[StampRange] | None:
    """The ranges given (None: leave them as they are)."""
    if "ranges" not in values:
        return None
    return [r if isinstance(r, StampRange) else StampRange(*r) for r in values["ranges"] or ()]


def _set_ranges(shipment: Shipment, ranges: list[StampRange]) -> None:
    kept = {StampRange(r.run_id, r.first_serial, r.last_serial): r for r in shipment.ranges}
    shipment.ranges = [kept.get(r) or ShipmentRange(batch_id=shipment.batch.id, run_id=r.run_id, first_serial=r.first,
                                                     last_serial=r.last) for r in sorted(set(ranges))]


def create_shipment(coop_id: int, batch_id: int, values: dict, actor_id: int | None) -> Shipment:
    batch = get_batch(coop_id, batch_id)
    checked = _values(batch, values, partial=False)
    ranges = _ranges(values) or []
    _check_recall(batch, checked["shipped_on"])
    _check_quantity(batch, checked["quantity"], checked["unit"], None)
    _check_ranges(batch, ranges, None)
    shipment = create(Shipment, actor_id, batch=batch, **checked)
    _set_ranges(shipment, ranges)
    db.session.commit()
    return shipment


def update_shipment(coop_id: int, batch_id: int, shipment_id: int, values: dict, actor_id: int | None) -> Shipment:
    shipment = get_shipment(coop_id, batch_id, shipment_id)
    batch = shipment.batch
    checked = _values(batch, values, partial=True)
    ranges = _ranges(values)
    if checked.get("shipped_on") and checked["shipped_on"] != shipment.shipped_on:
        _check_recall(batch, checked["shipped_on"])
    _check_quantity(batch, checked.get("quantity", shipment.quantity), checked.get("unit", shipment.unit), shipment.id)
    if ranges is not None:
        _check_ranges(batch, ranges, shipment.id)
        _set_ranges(shipment, ranges)
    assign(shipment, checked, FIELDS, actor_id)
    db.session.commit()
    return shipment


def delete_shipment(coop_id: int, batch_id: int, shipment_id: int) -> None:
    db.session.delete(get_shipment(coop_id, batch_id, shipment_id))
    db.session.commit()


@dataclass
class Buyer:
    """Someone to call when a batch is recalled: one buyer (same name and phone) with every shipment they got."""

    name: str
    kind: BuyerKind
    phone: str
    place: str
    shipments: list[Shipment] = field(default_factory=list)

    @property
    def quantities(self) -> str:
        return ", ".join(f"{format_quantity(s.quantity)} {s.unit} ({format_day(s.shipped_on)})" for s in self.shipments)


def buyers_to_call(batch: Batch) -> list[Buyer]:
    """The batch's buyers, in the order they first got some of it: whom to call when it is recalled."""
    buyers: dict[tuple[str, str], Buyer] = {}
    for s in batch.shipments:
        key = (s.buyer_name.casefold(), re.sub(r"\D", "", s.buyer_phone))
        buyer = buyers.setdefault(key, Buyer(s.buyer_name, s.buyer_kind, s.buyer_phone, s.buyer_place))
        buyer.shipments.append(s)
    return list(buyers.values())
