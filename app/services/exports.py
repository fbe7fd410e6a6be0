"""A cooperative's products, batches and diary as rows in exactly the template's columns, so that a file
exported, edited and imported again changes only what was edited."""
from typing import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import Batch, DiaryEvent, Product
from app.services.spreadsheets import KINDS, Kind, csv_bytes, xlsx_bytes


def _product_rows(coop_id: int) -> Iterable[list]:
    stmt = select(Product).where(Product.cooperative_id == coop_id).order_by(Product.name, Product.id)
    columns = [c.key for c in KINDS["products"].columns]
    for product in db.session.scalars(stmt):
        yield [getattr(product, key) for key in columns]


def _batch_rows(coop_id: int) -> Iterable[list]:
    stmt = (select(Batch, Product).join(Product).where(Product.cooperative_id == coop_id)
            .order_by(Product.name, Batch.harvest_date, Batch.lot_code))
    for batch, product in db.session.execute(stmt):
        yield [product.name, product.gtin, batch.lot_code, batch.harvest_date, batch.packing_date, batch.best_before,
               batch.quantity, batch.unit, batch.growing_area, batch.notes]


def _diary_rows(coop_id: int) -> Iterable[list]:
    stmt = (select(DiaryEvent, Batch.lot_code, Product.name, Product.gtin).join(Batch, DiaryEvent.batch_id == Batch.id)
            .join(Product).where(Product.cooperative_id == coop_id)
            .order_by(Product.name, Batch.lot_code, DiaryEvent.event_date, DiaryEvent.id))
    for event, lot_code, name, gtin in db.session.execute(stmt).yield_per(1000):
        yield [name, gtin, lot_code, event.event_date, event.kind, event.description, event.input_used, event.dose,
               event.phi_days, event.done_by, event.quantity]


ROWS = {"products": _product_rows, "batches": _batch_rows, "diary": _diary_rows}


def export_file(coop_id: int, kind_name: str, file_format: str) -> bytes:
    """The cooperative's records of one kind as an XLSX or CSV file (the template's columns and layout)."""
    kind: Kind = KINDS[kind_name]
    rows = ROWS[kind_name](coop_id)
    return xlsx_bytes(kind, rows) if file_format == "xlsx" else csv_bytes(kind, rows)


def template_file(kind_name: str, file_format: str) -> bytes:
    """An empty file to fill in: the headers (and, in XLSX, the instructions and lists to pick from)."""
    kind = KINDS[kind_name]
    return xlsx_bytes(kind, []) if file_format == "xlsx" else csv_bytes(kind, [])
