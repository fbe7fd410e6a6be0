"""A 10,000-row diary import against one ORM insert and commit per row, in the same process and database.

Run as `python -m bench.imports [--rows 10000]` from the project root. It builds a fresh SQLite file by the
migrations in a temporary folder (WAL, as the application runs it), so nothing of instance/ is touched, and
prints: the preview (reading the XLSX and checking every row), the commit (checking again and writing), and
the same rows saved one by one through the service the diary form uses, with the ratio.
"""
import argparse
import io
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=10_000)
args = parser.parse_args()

folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
os.environ["INSTANCE_PATH"] = str(folder)

from flask_migrate import upgrade  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import AuditEvent, DiaryEvent  # noqa: E402
from app.services import batches, cooperatives, imports, products  # noqa: E402
from app.services.spreadsheets import KINDS  # noqa: E402

KIND_NAMES = ["Bón phân", "Tưới nước", "Phun thuốc", "Kiểm tra"]
KIND_VALUES = ["fertilising", "irrigation", "spraying", "inspection"]


def diary_file(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Nhật ký")
    sheet.append([c.header for c in KINDS["diary"].columns])
    start = date(2026, 1, 1)
    for n in range(rows):
        sheet.append(["Vải thiều Lục Ngạn", None, "VT-BENCH-1", start + timedelta(days=n % 150), KIND_NAMES[n % 4],
                      f"Việc số {n}", "Phân NPK", "2 kg/gốc", 7 if n % 4 == 2 else None, "Anh Lâm"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


app = create_app()
with app.app_context():
    upgrade()
    coop = cooperatives.create_cooperative({"name": "HTX Bench", "registration_no": "BENCH-1", "commune_code": 7582}, None)
    product = products.create_product(coop.id, {"name": "Vải thiều Lục Ngạn", "category": "fruit"}, None)
    bulk_batch = batches.create_batch(coop.id, product.id, {"lot_code": "VT-BENCH-1"}, None)
    one_by_one = batches.create_batch(coop.id, product.id, {"lot_code": "VT-BENCH-2"}, None)
    data = diary_file(args.rows)
    audit_before = count(AuditEvent)

    started = time.perf_counter()
    plan = imports.plan_import(coop.id, "diary", data, "nhat-ky.xlsx")
    preview = time.perf_counter() - started
    assert not plan.problems and plan.count("create") == args.rows, plan.problems[:3]
    db.session.rollback()

    started = time.perf_counter()
    imports.apply_import(coop.id, "diary", data, "nhat-ky.xlsx", None)
    committed = time.perf_counter() - started
    assert count(DiaryEvent) == args.rows
    import_audit = count(AuditEvent) - audit_before

    audit_before = count(AuditEvent)
    start = date(2026, 1, 1)
    started = time.perf_counter()
    for n in range(args.rows):
        batches.add_event(coop.id, one_by_one.id, {"event_date": start + timedelta(days=n % 150), "kind": KIND_VALUES[n % 4],
                                                   "description": f"Việc số {n}", "input_used": "Phân NPK", "dose": "2 kg/gốc",
                                                   "phi_days": 7 if n % 4 == 2 else None, "done_by": "Anh Lâm"}, None)
    per_row = time.perf_counter() - started
    row_audit = count(AuditEvent) - audit_before

print(f"{args.rows:,} diary rows, XLSX of {len(data) / 1024:.0f} KiB, SQLite in {folder}")
print(f"  preview (read + check every row):          {preview:6.2f} s")
print(f"  import commit (check again + bulk insert): {committed:6.2f} s   audit events: {import_audit}")
print(f"  one ORM insert + commit per row:           {per_row:6.2f} s   audit events: {row_audit}")
print(f"  ratio, per-row / import commit:            {per_row / committed:6.1f}x")
