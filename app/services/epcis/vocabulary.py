"""The words of our EPCIS events: CBV 2.0 business steps and dispositions where one fits, our own URIs elsewhere.

Our own terms live under `<PUBLIC_BASE_URL>/voc/` (prefix `ocop:` in every document's context): business
steps with no CBV equivalent (`ocop:bizstep/spraying`) and the extension and ILMD fields we add
(`ocop:input`, `ocop:phiDays`). A cooperative with a GLN is named by GS1 Digital Link URIs
(`https://id.gs1.org/414/<gln>` its place, `/417/<gln>` its party): GS1's examples write places as
`urn:epc:id:sgln:…`, but that URN needs the length of the GS1 company prefix, which the 13 digits do not
tell, while EPCIS 2.0 takes a Digital Link URI for any identifier. Without a GLN, places and parties are URIs
under our host (`/loc/coop/<id>`, `/party/coop/<id>`).
"""
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app

from app.extensions import db
from app.models import Cooperative, EventKind

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
PREFIX = "ocop"
# Vietnam has one time zone and no daylight saving time.
VIETNAM_OFFSET = "+07:00"


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def namespace() -> str:
    """The URI our `ocop:` prefix stands for."""
    return f"{base_url()}/voc/"


def context() -> list:
    """A document's @context: GS1's, then our prefix."""
    return [EPCIS_CONTEXT, {PREFIX: namespace()}]


def term(name: str) -> str:
    """One of our own terms as a compact IRI (`ocop:phiDays`), valid wherever EPCIS wants a URI or CURIE."""
    return f"{PREFIX}:{name}"


def own_step(name: str) -> str:
    """A business step of ours, as a full URI (EPCIS allows bare words only for CBV's own steps)."""
    return f"{namespace()}bizstep/{name}"


@dataclass(frozen=True)
class DiaryStep:
    """How one kind of diary entry is told in EPCIS: its business step, and whether it creates the lot (ADD)."""
    biz_step: str
    action: str = "OBSERVE"


def diary_step(kind: EventKind) -> DiaryStep:
    """The business step of a diary entry: CBV's word when CBV has the step, else our own URI."""
    cbv = {EventKind.PACKING: "packing", EventKind.TRANSPORT: "transporting", EventKind.INSPECTION: "inspecting",
           EventKind.OTHER: "other"}
    if kind in cbv:
        return DiaryStep(cbv[kind])
    if kind is EventKind.HARVEST:  # the lot comes into being: its ILMD (lot, best-before) travels with this event
        return DiaryStep(own_step("harvesting"), "ADD")
    return DiaryStep(own_step(kind.value))  # planting, fertilising, spraying, irrigation


GS1_DIGITAL_LINK = "https://id.gs1.org"


def _coop_gln(coop_id: int) -> str | None:
    # The session's identity map answers every event after the first, so a document costs one lookup.
    coop = db.session.get(Cooperative, coop_id)
    return coop.gln if coop is not None else None


def coop_location(coop_id: int) -> str:
    """A cooperative's place (read point and business location): its GLN as a Digital Link (AI 414), else our URI."""
    gln = _coop_gln(coop_id)
    return f"{GS1_DIGITAL_LINK}/414/{gln}" if gln else f"{base_url()}/loc/coop/{coop_id}"


def coop_party(coop_id: int) -> str:
    """A cooperative as a party (owner, source, destination): its GLN as a party GLN (AI 417), else our URI."""
    gln = _coop_gln(coop_id)
    return f"{GS1_DIGITAL_LINK}/417/{gln}" if gln else f"{base_url()}/party/coop/{coop_id}"


def buyer_party(shipment) -> str:
    """A shipment's buyer: we keep no register of buyers, so the party is named by the shipment."""
    return f"{base_url()}/party/shipment/{shipment.id}/buyer"


def supplier_party(batch_input) -> str:
    return f"{base_url()}/party/input/{batch_input.id}/supplier"


def commune_location(code: int) -> str:
    """A commune by its official code (the 2025 register of administrative units)."""
    return f"{base_url()}/loc/commune/{code}"


def input_class(batch_input) -> str:
    """An input of a batch (the supplier's lot of seedlings, fertiliser, pesticide…) as an EPC class."""
    return f"{base_url()}/id/input/{batch_input.id}"


# UN/CEFACT Recommendation 20 codes of the units cooperatives write; counts (chai, hộp, thùng…) have none.
UNECE_UNITS = {
    "g": "GRM", "gr": "GRM", "gam": "GRM", "gram": "GRM", "kg": "KGM", "kí": "KGM", "ký": "KGM", "kilogram": "KGM",
    "tấn": "TNE", "l": "LTR", "lít": "LTR", "lit": "LTR", "ml": "MLT",
}


def unece_unit(unit: str) -> str | None:
    return UNECE_UNITS.get(unicodedata.normalize("NFC", (unit or "").strip().lower().rstrip(".")))


def product_class(product) -> str:
    """A product as an EPC class: its GS1 Digital Link when it has a GTIN (our resolver answers it), else our URI."""
    if product.gtin:
        return f"{base_url()}/01/{product.gtin}"
    return f"{base_url()}/id/product/{product.id}"


def batch_class(batch) -> str:
    """A batch (lot) as an EPC class: GTIN + lot as a Digital Link, else our URI."""
    lot = quote(batch.lot_code, safe="")
    if batch.product.gtin:
        return f"{product_class(batch.product)}/10/{lot}"
    return f"{base_url()}/id/batch/{batch.id}"
