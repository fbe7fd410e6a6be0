"""What a cooperative's data still lacks before the national traceability portal can take it.

Circular 02/2024/TT-BKHCN, Article 6.5, lists the minimum a product's record carries (name and image, the
producer's name and address, the production and business stages with their times, expiry if any…), and
Article 6.1 the principles the data must show (one step back, one step forward, key data elements for every
critical event, static master data). Each Gap here names one element that is missing, the article that asks
for it, a sentence the cooperative understands, and the page where it is filled in. Nothing here writes.
"""
from dataclasses import dataclass, field
from typing import Protocol

from app.models import Batch, Cooperative, EventKind, Product
from app.services.errors import LazyText, lazy_text as _l


class Steps(Protocol):
    """A lot's one step back (what went into it, from which supplier) and one step forward (where it went)."""

    back: list
    forward: list


ARTICLES = {
    "6.5": _l("Art. 6.5: minimum information"),
    "6.1": _l("Art. 6.1: principles"),
}


@dataclass(frozen=True)
class Gap:
    """One missing element: `element` is a stable name (tests and the JSON use it), `message` the sentence shown."""

    element: str
    article: str  # "6.5" (minimum information) or "6.1" (principles)
    message: LazyText
    endpoint: str  # where it is filled in, with `args`
    args: dict = field(default_factory=dict)
    batch_id: int | None = None


@dataclass(frozen=True)
class Completeness:
    """The cooperative's own gaps (shared by every product) and each product's, by product id."""

    cooperative: list[Gap]
    products: dict[int, list[Gap]]

    def of(self, product_id: int) -> list[Gap]:
        """Everything a product's portal record lacks: the cooperative's gaps and its own."""
        return [*self.cooperative, *self.products.get(product_id, [])]

    @property
    def count(self) -> int:
        return len(self.cooperative) + sum(len(gaps) for gaps in self.products.values())

    @property
    def products_with_gaps(self) -> int:
        return sum(1 for gaps in self.products.values() if gaps)


def cooperative_gaps(coop: Cooperative) -> list[Gap]:
    gaps = []
    if not coop.address_line.strip():
        gaps.append(Gap("producer_address", "6.5", _l("missing cooperative address"), "coop.profile"))
    return gaps


def product_gaps(product: Product, lots: list[Batch], steps_of: dict[int, Steps] | None = None) -> list[Gap]:
    """A product's own gaps, then each lot's, in the order the lots are given."""
    edit = {"product_id": product.id}
    gaps = []
    if not product.photos:
        gaps.append(Gap("product_image", "6.5", _l("missing product photo"), "coop.edit_product", edit))
    if product.shelf_life_days is None and (not lots or any(lot.best_before is None for lot in lots)):
        gaps.append(Gap("expiry", "6.5", _l("missing shelf life"), "coop.edit_product", edit))
    if not lots:
        gaps.append(Gap("stages", "6.5", _l("no batch yet: the portal needs a lot with its production stages"),
                        "coop.new_batch", edit))
    for lot in lots:
        gaps += lot_gaps(product, lot, (steps_of or {}).get(lot.id))
    return gaps


def lot_gaps(product: Product, lot: Batch, steps: Steps | None = None) -> list[Gap]:
    """A lot's gaps: its production times, its stages and their key data, and, when `steps` is given, where
    it came from and where it went."""
    here, edit = {"batch_id": lot.id}, "coop.edit_batch"
    name = lot.lot_code
    gaps = []
    if lot.harvest_date is None:
        gaps.append(Gap("harvest_date", "6.5", _l("batch %(lot)s has no harvest date", lot=name), edit, here, lot.id))
    if lot.packing_date is None:
        gaps.append(Gap("packing_date", "6.5", _l("batch %(lot)s has no packing date", lot=name), edit, here, lot.id))
    if not lot.events:
        gaps.append(Gap("diary", "6.5", _l("batch %(lot)s has no production diary entry", lot=name),
                        "coop.new_event", here, lot.id))
    for event in lot.events:
        if event.kind == EventKind.SPRAYING and not event.input_used.strip():
            gaps.append(Gap("key_data", "6.1", _l("batch %(lot)s: the spraying on %(day)s does not name the product used",
                                                   lot=name, day=event.event_date.strftime("%d/%m/%Y")),
                            "coop.edit_event", {"batch_id": lot.id, "event_id": event.id}, lot.id))
    if not product.growing_area_code.strip() and not lot.growing_area.strip():
        gaps.append(Gap("production_conditions", "6.1", _l("batch %(lot)s has no growing area", lot=name), edit, here, lot.id))
    if steps is not None and not steps.back:  # None: the caller does not know the lot's inputs and shipments
        gaps.append(Gap("one_step_back", "6.1", _l("batch %(lot)s records no input and its supplier (one step back)", lot=name),
                        "coop.new_input", here, lot.id))
    if steps is not None and not steps.forward:
        gaps.append(Gap("one_step_forward", "6.1", _l("batch %(lot)s records no shipment to a buyer (one step forward)", lot=name),
                        "coop.new_shipment", here, lot.id))
    return gaps


def completeness(coop: Cooperative, products: list[Product], lots_of: dict[int, list[Batch]],
                 steps_of: dict[int, Steps] | None = None) -> Completeness:
    """The gaps of the cooperative and of each product that is not archived (archived ones are not on sale)."""
    return Completeness(
        cooperative_gaps(coop),
        {p.id: product_gaps(p, lots_of.get(p.id, []), steps_of) for p in products if not p.is_archived},
    )
