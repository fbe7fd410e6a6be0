"""A cooperative's data for the national traceability portal (Circular 02/2024/TT-BKHCN), as JSON and XLSX.

The document carries, per product, the minimum information of Article 6.5 (name and images; the producer's
name and address; every production and business stage with its product trace code, location trace code and
event time; production and business times; brand, trademark, codes and stamp serials; expiry) and shows the
principles of Article 6.1: each lot's one step back (inputs and suppliers) and one step forward (shipments and
buyers), key data elements kept with every stage, and static master data (products, suppliers, customers,
production conditions). The XLSX is built from the JSON document, so both always hold the same data.

Codes: a product with a GTIN is traced by its GTIN-14 (GS1, TCVN 13274:2020 accepts GS1 keys) and a lot by
the GS1 element string (01)GTIN(10)LOT; without one, by codes of our own built from the cooperative's
registration number (see `product_trace_code`). Locations by the cooperative's GLN when it has one, else by its
commune code and registration number. Everything is read; nothing here writes.
"""
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, url_for
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.csv_export import safe_cell
from app.extensions import db
from app.models import (Batch, BatchInput, BatchStatus, BuyerKind, Cooperative, DiaryEvent, EventKind, LabelRun, Product, RangeAction,
                        Shipment, StampRangeEvent)
from app.services import cooperatives, portal_completeness
from app.services.portal_completeness import Completeness
from app.vocabulary import BUYER_LABELS, EVENT_LABELS

FORMAT = "ocop-trace/portal-export"
VERSION = 1
VIETNAM_GS1_PREFIX = "893"


@dataclass(frozen=True)
class Steps:
    """A lot's one step back (inputs with their supplier) and one step forward (shipments to buyers), as dicts."""

    back: list[dict]
    forward: list[dict]


def day(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


# Codes ------------------------------------------------------------------------------------------------------

def location_trace_code(coop: Cooperative) -> str:
    """The cooperative's place of production: its GLN when it has one, else commune code (5 digits, the 2025
    register) and registration number."""
    if coop.gln:
        return coop.gln
    return f"VN-{coop.commune_code:05d}-{coop.registration_no}"


def product_trace_code(product: Product) -> str:
    """The product's GTIN-14 when it has one, else the cooperative's registration number and the product's number."""
    if product.gtin:
        return product.gtin
    return f"{product.cooperative.registration_no}-SP{product.id:05d}"


def lot_trace_code(product: Product, lot: Batch) -> str:
    """A lot: GS1 element string (01)GTIN(10)LOT when the product has a GTIN, else the product's code and the lot."""
    if product.gtin:
        return f"(01){product.gtin}(10){lot.lot_code}"
    return f"{product_trace_code(product)}-{lot.lot_code}"


def has_vietnam_prefix(gtin: str | None) -> bool:
    """Whether a GTIN-14 (stored with its leading indicator digit) carries GS1 Vietnam's prefix 893."""
    return bool(gtin) and gtin[1:4] == VIETNAM_GS1_PREFIX


# Reading -----------------------------------------------------------------------------------------------------

def _lots(coop_id: int) -> dict[int, list[Batch]]:
    """Each product's lots, oldest harvest first."""
    stmt = (select(Batch).join(Product).where(Product.cooperative_id == coop_id)
            .options(selectinload(Batch.events).joinedload(DiaryEvent.input), selectinload(Batch.inputs),
                     selectinload(Batch.shipments).selectinload(Shipment.ranges),
                     selectinload(Batch.shipments).joinedload(Shipment.buyer_commune))
            .order_by(Batch.harvest_date, Batch.packing_date, Batch.id))
    lots: dict[int, list[Batch]] = {}
    for lot in db.session.scalars(stmt):
        lots.setdefault(lot.product_id, []).append(lot)
    return lots


def _runs(coop_id: int) -> dict[int, list[LabelRun]]:
    """Each lot's label runs printed for it (blank runs are counted where their stamps were activated)."""
    runs: dict[int, list[LabelRun]] = {}
    for run in db.session.scalars(select(LabelRun).where(LabelRun.cooperative_id == coop_id, LabelRun.batch_id.is_not(None))
                                  .order_by(LabelRun.id)):
        runs.setdefault(run.batch_id, []).append(run)
    return runs


def _activations(coop_id: int) -> dict[int, list[StampRangeEvent]]:
    """Serial ranges of blank runs activated onto each lot."""
    stmt = (select(StampRangeEvent).join(LabelRun, LabelRun.id == StampRangeEvent.run_id)
            .where(LabelRun.cooperative_id == coop_id, StampRangeEvent.action == RangeAction.ACTIVATE,
                   StampRangeEvent.batch_id.is_not(None))
            .order_by(StampRangeEvent.id))
    found: dict[int, list[StampRangeEvent]] = {}
    for event in db.session.scalars(stmt):
        found.setdefault(event.batch_id, []).append(event)
    return found


def _number(value) -> str | None:
    return format(value.normalize(), "f") if value is not None else None


def _input_record(item: BatchInput) -> dict:
    """One step back: what went into the lot, from whom, and the supplier's own lot where known."""
    return {"kind": item.kind.value, "input": item.name,
            "supplier": {"name": item.supplier_name, "address": item.supplier_address or None},
            "supplier_lot": item.supplier_lot or None, "quantity": _number(item.quantity), "unit": item.unit or None,
            "received_on": day(item.received_on)}


def _shipment_record(shipment: Shipment) -> dict:
    """One step forward: to whom part of the lot went, when, how much, with which stamp serials."""
    commune = shipment.buyer_commune.full_name if shipment.buyer_commune else None
    return {"buyer": {"name": shipment.buyer_name, "kind": shipment.buyer_kind.value,
                      "address": ", ".join(p for p in (shipment.buyer_address, commune) if p) or None,
                      "commune_code": shipment.buyer_commune_code, "phone": shipment.buyer_phone or None},
            "shipped_on": day(shipment.shipped_on), "quantity": _number(shipment.quantity), "unit": shipment.unit,
            "note": shipment.note or None,
            "serials": [{"run": r.run_id, "from": r.first_serial, "to": r.last_serial} for r in shipment.ranges]}


def _steps(lots: list[Batch]) -> dict[int, Steps]:
    """Each lot's inputs (one step back) and shipments (one step forward)."""
    return {lot.id: Steps([_input_record(i) for i in lot.inputs], [_shipment_record(s) for s in lot.shipments])
            for lot in lots}


# Building the document -----------------------------------------------------------------------------------------

def _public_url(endpoint: str, **values) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def producer(coop: Cooperative) -> dict:
    """Article 6.5: name and address of the producer, with its location trace code."""
    address = ", ".join(part for part in (coop.address_line.strip(), coop.commune.name, coop.commune.province.name) if part)
    return {
        "name": coop.name, "registration_no": coop.registration_no, "address": address,
        "address_line": coop.address_line, "commune_code": coop.commune_code, "commune": coop.commune.name,
        "province": coop.commune.province.name, "phone": coop.phone, "email": coop.email,
        "representative": coop.representative, "location_trace_code": location_trace_code(coop), "gln": coop.gln,
    }


def _stage(stage: str, name: str, code: str, location: str, time: date | datetime | str, **key_data) -> dict:
    """One production or business stage: the three elements Article 6.5 asks of every stage, and its key data.
    `time` is a day or moment, or one already written as ISO 8601 (the step records)."""
    return {"stage": stage, "stage_name": name, "product_trace_code": code, "location_trace_code": location,
            "event_time": time if isinstance(time, str) else day(time), "key_data": {k: v for k, v in key_data.items() if v not in (None, "")}}


def _diary_stage(event: DiaryEvent, code: str, location: str) -> dict:
    return _stage(event.kind.value, str(EVENT_LABELS[event.kind]), code, location, event.event_date,
                  description=event.description, input_used=event.input_used, dose=event.dose,
                  pre_harvest_interval_days=event.phi_days, done_by=event.done_by,
                  supplier=event.input.supplier_name if event.input else None,
                  supplier_lot=event.input.supplier_lot if event.input else None)


def stages(product: Product, lot: Batch, location: str, runs: list[LabelRun], activations: list[StampRangeEvent],
           steps: Steps | None) -> list[dict]:
    """Every stage of a lot in time order: inputs received, the diary, stamps printed or activated, shipments,
    a recall."""
    code = lot_trace_code(product, lot)
    found = [_stage("receiving", "Nhận vật tư đầu vào", code, location, i["received_on"], input=i["input"],
                    supplier=i["supplier"]["name"], supplier_lot=i["supplier_lot"])
             for i in (steps.back if steps else []) if i["received_on"]]
    found += [_diary_stage(event, code, location) for event in lot.events]
    kinds = {event.kind for event in lot.events}
    # The lot's own harvest and packing dates are stages too, unless the diary already has them.
    if lot.harvest_date and EventKind.HARVEST not in kinds:
        found.append(_stage("harvest", str(EVENT_LABELS[EventKind.HARVEST]), code, location, lot.harvest_date,
                            growing_area=lot.growing_area))
    if lot.packing_date and EventKind.PACKING not in kinds:
        found.append(_stage("packing", str(EVENT_LABELS[EventKind.PACKING]), code, location, lot.packing_date,
                            quantity=_number(lot.quantity), unit=lot.unit))
    found += [_stage("commissioning", "In tem truy xuất", code, location, run.created_at, stamps=run.count,
                     serials=f"{run.id}:1-{run.count}") for run in runs]
    found += [_stage("commissioning", "Kích hoạt tem truy xuất", code, location, a.at, stamps=a.stamp_count,
                     serials=f"{a.run_id}:{a.first_serial}-{a.last_serial}") for a in activations]
    found += [_stage("shipping", "Xuất bán", code, location, s["shipped_on"], buyer=s["buyer"]["name"],
                     destination=s["buyer"]["address"], quantity=s["quantity"], unit=s["unit"],
                     serials="; ".join(f"{r['run']}:{r['from']}-{r['to']}" for r in s["serials"]))
               for s in (steps.forward if steps else [])]
    if lot.status == BatchStatus.RECALLED and lot.recalled_on:
        found.append(_stage("recalling", "Thu hồi", code, location, lot.recalled_on, reason=lot.recall_reason))
    return sorted(found, key=lambda s: s["event_time"] or "")


def lot_record(product: Product, lot: Batch, location: str, runs: list[LabelRun], activations: list[StampRangeEvent],
               steps: Steps | None) -> dict:
    best_before = lot.best_before
    return {
        "lot_code": lot.lot_code, "product_trace_code": lot_trace_code(product, lot),
        "production_time": {"harvest_date": day(lot.harvest_date), "packing_date": day(lot.packing_date)},
        "business_time": {"first_shipment": min((s["shipped_on"] for s in steps.forward), default=None) if steps else None},
        "expiry": {"best_before": day(best_before)},
        "quantity": _number(lot.quantity), "unit": lot.unit,
        "growing_area": lot.growing_area,
        "serials": [{"run": run.id, "from": 1, "to": run.count} for run in runs]
                   + [{"run": a.run_id, "from": a.first_serial, "to": a.last_serial} for a in activations],
        "status": lot.status.value,
        "recall": {"recalled_on": day(lot.recalled_on), "reason": lot.recall_reason} if lot.status == BatchStatus.RECALLED else None,
        "one_step_back": steps.back if steps else [],
        "one_step_forward": steps.forward if steps else [],
        "stages": stages(product, lot, location, runs, activations, steps),
    }


def _gap_record(gap: portal_completeness.Gap) -> dict:
    return {"element": gap.element, "article": gap.article, "message": str(gap.message),
            "fix_url": url_for(gap.endpoint, **gap.args)}


def product_record(product: Product, lots: list[Batch], location: str, runs: dict[int, list[LabelRun]],
                   activations: dict[int, list[StampRangeEvent]], steps_of: dict[int, Steps],
                   gaps: list[portal_completeness.Gap]) -> dict:
    """Article 6.5 for one product, with its lots and what it still lacks."""
    return {
        "name": product.name, "product_trace_code": product_trace_code(product), "archived": product.is_archived,
        "images": [_public_url("public.photo", name=photo.image) for photo in product.photos],
        "gtin": product.gtin, "gs1_prefix_893": has_vietnam_prefix(product.gtin),
        "brand": None, "trademark": None,  # not recorded: Article 6.5 asks for them only "if any"
        "category": product.category, "description": product.description,
        "ocop": {"stars": product.ocop_stars, "certificate_no": product.ocop_certificate_no or None,
                 "issued_on": day(product.ocop_issued_on), "expires_on": day(product.ocop_expires_on)},
        "expiry": {"shelf_life_days": product.shelf_life_days},
        "production_conditions": {
            "growing_area_code": product.growing_area_code or None,
            "certifications": [{"scheme": c.scheme, "number": c.number, "issuer": c.issuer, "expires_on": day(c.expires_on)}
                               for c in product.certifications],
        },
        "lots": [lot_record(product, lot, location, runs.get(lot.id, []), activations.get(lot.id, []),
                            steps_of.get(lot.id)) for lot in lots],
        "missing": [_gap_record(gap) for gap in gaps],
    }


def _parties(steps_of: dict[int, Steps], side: str, key: str) -> list[dict]:
    """Suppliers (one step back) or customers (one step forward), once each by name and address."""
    seen: dict[tuple, dict] = {}
    for steps in steps_of.values():
        for item in getattr(steps, side):
            party = item[key]
            seen.setdefault((party.get("name"), party.get("address")), party)
    return list(seen.values())


@dataclass(frozen=True)
class PortalData:
    """What the portal page and both downloads are made from."""

    coop: Cooperative
    products: list[Product]
    lots_of: dict[int, list[Batch]]
    steps_of: dict[int, Steps]
    completeness: Completeness


def portal_data(coop_id: int) -> PortalData:
    coop = cooperatives.get_cooperative(coop_id)
    products = list(db.session.scalars(
        select(Product).where(Product.cooperative_id == coop_id)
        .options(selectinload(Product.photos), selectinload(Product.certifications))
        .order_by(Product.name, Product.id)))
    lots_of = _lots(coop_id)
    steps_of = _steps([lot for lots in lots_of.values() for lot in lots])
    return PortalData(coop, products, lots_of, steps_of,
                      portal_completeness.completeness(coop, products, lots_of, steps_of))


def portal_document(coop_id: int, generated_at: datetime) -> dict:
    """The whole export of one cooperative, in Vietnamese wherever it has words (the portal is Vietnamese)."""
    data = portal_data(coop_id)
    location = location_trace_code(data.coop)
    runs, activations = _runs(coop_id), _activations(coop_id)
    with force_locale("vi"):
        products = [product_record(p, data.lots_of.get(p.id, []), location, runs, activations, data.steps_of,
                                   data.completeness.of(p.id) if not p.is_archived else [])
                    for p in data.products]
    return {
        "format": FORMAT, "version": VERSION, "legal_basis": "Thông tư 02/2024/TT-BKHCN, Điều 6",
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "producer": producer(data.coop),
        "products": products,
        "master_data": {
            "products": [{"product_trace_code": p["product_trace_code"], "name": p["name"], "gtin": p["gtin"]} for p in products],
            "suppliers": _parties(data.steps_of, "back", "supplier"),
            "customers": _parties(data.steps_of, "forward", "buyer"),
            "production_conditions": [{"product_trace_code": p["product_trace_code"], **p["production_conditions"],
                                       "growing_areas": sorted({lot["growing_area"] for lot in p["lots"] if lot["growing_area"]})}
                                      for p in products],
        },
        "principles": {
            "one_step_back": "products[].lots[].one_step_back", "one_step_forward": "products[].lots[].one_step_forward",
            "key_data_elements": "products[].lots[].stages[].key_data",
            "master_data": "master_data",
        },
    }


# XLSX -----------------------------------------------------------------------------------------------------------

PRODUCT_COLUMNS = ("Mã truy vết sản phẩm", "Tên sản phẩm", "Ảnh sản phẩm", "GTIN", "Mã quốc gia 893", "Thương hiệu",
                   "Nhãn hiệu", "Hạng OCOP", "Số giấy chứng nhận OCOP", "Hạn dùng (ngày)", "Mã vùng trồng", "Chứng nhận")
LOT_COLUMNS = ("Mã truy vết sản phẩm", "Tên sản phẩm", "Mã lô", "Mã truy vết lô", "Ngày thu hoạch", "Ngày đóng gói",
               "Hạn sử dụng", "Số lượng", "Đơn vị", "Vùng sản xuất", "Số seri tem", "Trạng thái", "Ngày thu hồi", "Lý do thu hồi")
STAGE_COLUMNS = ("Mã truy vết sản phẩm", "Mã truy vết địa điểm", "Thời gian", "Công đoạn", "Tên công đoạn", "Dữ liệu chính")
SUPPLIER_COLUMNS = ("Tên nhà cung cấp", "Địa chỉ")
CUSTOMER_COLUMNS = ("Tên khách hàng", "Loại", "Địa chỉ", "Điện thoại")
MISSING_COLUMNS = ("Tên sản phẩm", "Phần tử", "Điều", "Còn thiếu", "Sửa tại")
PRODUCER_ROWS = (("Tên hợp tác xã", "name"), ("Mã số đăng ký", "registration_no"), ("Địa chỉ", "address"),
                 ("Mã xã", "commune_code"), ("Điện thoại", "phone"), ("Email", "email"),
                 ("Người đại diện", "representative"), ("Mã truy vết địa điểm", "location_trace_code"), ("GLN", "gln"))


KEY_DATA_LABELS = {
    "description": "Mô tả", "input_used": "Vật tư đã dùng", "dose": "Liều lượng",
    "pre_harvest_interval_days": "Thời gian cách ly (ngày)", "done_by": "Người thực hiện", "growing_area": "Vùng sản xuất",
    "quantity": "Số lượng", "unit": "Đơn vị", "stamps": "Số tem", "serials": "Số seri", "input": "Vật tư",
    "supplier": "Nhà cung cấp", "supplier_lot": "Lô của nhà cung cấp", "buyer": "Người mua", "destination": "Nơi nhận",
    "reason": "Lý do",
}
LOT_STATUS = {"active": "đang lưu hành", "recalled": "đã thu hồi"}


def _key_data_text(key_data: dict) -> str:
    """A stage's key data in one cell, each element named in Vietnamese."""
    return "; ".join(f"{KEY_DATA_LABELS.get(k, k)}: {v}" for k, v in key_data.items())


def _sheet_rows(document: dict) -> dict[str, tuple[tuple, list[tuple]]]:
    """Each sheet's header and rows, read from the JSON document."""
    products = document["products"]
    lots = [(p, lot) for p in products for lot in p["lots"]]
    return {
        "Cơ sở sản xuất": (("Thông tin", "Giá trị"), [(label, document["producer"][key]) for label, key in PRODUCER_ROWS]),
        "Sản phẩm": (PRODUCT_COLUMNS, [(
            p["product_trace_code"], p["name"], "\n".join(p["images"]), p["gtin"], "có" if p["gs1_prefix_893"] else "không",
            p["brand"], p["trademark"], p["ocop"]["stars"], p["ocop"]["certificate_no"], p["expiry"]["shelf_life_days"],
            p["production_conditions"]["growing_area_code"],
            "; ".join(f"{c['scheme']} {c['number']}" for c in p["production_conditions"]["certifications"]),
        ) for p in products]),
        "Lô hàng": (LOT_COLUMNS, [(
            p["product_trace_code"], p["name"], lot["lot_code"], lot["product_trace_code"],
            lot["production_time"]["harvest_date"], lot["production_time"]["packing_date"], lot["expiry"]["best_before"],
            lot["quantity"], lot["unit"], lot["growing_area"],
            "; ".join(f"{s['run']}:{s['from']}-{s['to']}" for s in lot["serials"]), LOT_STATUS[lot["status"]],
            (lot["recall"] or {}).get("recalled_on"), (lot["recall"] or {}).get("reason"),
        ) for p, lot in lots]),
        "Công đoạn": (STAGE_COLUMNS, [(
            s["product_trace_code"], s["location_trace_code"], s["event_time"], s["stage"], s["stage_name"],
            _key_data_text(s["key_data"]),
        ) for _, lot in lots for s in lot["stages"]]),
        "Nhà cung cấp": (SUPPLIER_COLUMNS, [(s["name"], s["address"]) for s in document["master_data"]["suppliers"]]),
        "Khách hàng": (CUSTOMER_COLUMNS, [(c["name"], str(BUYER_LABELS[BuyerKind(c["kind"])]), c["address"], c["phone"])
                                          for c in document["master_data"]["customers"]]),
        "Thông tin còn thiếu": (MISSING_COLUMNS, [(p["name"], m["element"], m["article"], m["message"], m["fix_url"])
                                                  for p in products for m in p["missing"]]),
    }


def _cell(value):
    """Numbers stay numbers; text that a spreadsheet would run as a formula stays text."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return safe_cell(value)


def portal_workbook(document: dict) -> bytes:
    """The document as an XLSX workbook, one sheet per kind of row, Vietnamese names."""
    book = Workbook()
    book.remove(book.active)
    with force_locale("vi"):
        sheets = _sheet_rows(document)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            sheet.append([_cell(value) for value in row])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
