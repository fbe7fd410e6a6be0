"""Scan-page set-ups: a listing with every field the page shows, and a stamp's scans on earlier days."""
import io
import os
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.models import Stamp
from app.services import batches, codes, cooperatives, products
from app.scan.scan_log import ScanLog
from tests.factories import jpeg_bytes, on_sale_stamps

DIARY = [
    (date(2026, 1, 12), "fertilising", "Bón phân hữu cơ vi sinh sau thu hoạch vụ trước", "Phân hữu cơ vi sinh Sông Gianh", "2 kg/cây", None),
    (date(2026, 2, 20), "other", "Tỉa cành, tạo tán thông thoáng cho cây ra hoa đều", "", "", None),
    (date(2026, 3, 20), "irrigation", "Tưới nhỏ giọt giai đoạn ra hoa", "", "", None),
    (date(2026, 4, 2), "spraying", "Phun phòng bệnh sương mai trên chùm hoa", "Mancozeb 80WP", "40 g/bình 16 lít", 10),
    (date(2026, 4, 28), "fertilising", "Bón thúc kali giai đoạn nuôi quả", "Kali sunphat", "0,5 kg/cây", None),
    (date(2026, 5, 18), "spraying", "Phun phòng sâu đục cuống quả", "Abamectin 3.6EC", "10 ml/bình 16 lít", 7),
    (date(2026, 6, 5), "inspection", "Kiểm tra độ chín, lấy mẫu kiểm nghiệm dư lượng", "", "", None),
    (date(2026, 6, 10), "harvest", "Thu hái sáng sớm, quả chín đỏ đều", "", "", None),
]


def full_listing(db, coop, count: int = 1):
    """A batch on sale whose page has every field filled: the cooperative's address and phone, the product's
    description and OCOP certificate, and a diary of eight entries, each with a photo. As on_sale_stamps."""
    cooperatives.update_cooperative(coop.id, {"name": coop.name, "registration_no": coop.registration_no, "commune_code": coop.commune_code,
                                              "address_line": "Thôn Hồng Xuân", "phone": "0204 3882 123"}, None)
    stamp_codes, run, batch = on_sale_stamps(db, coop, count)
    products.update_product(coop.id, run.product_id, {"description": "Quả tròn, vỏ đỏ tươi, cùi dày, hạt nhỏ, vị ngọt đậm; "
                                                                     "trồng theo VietGAP trên vùng trồng đã cấp mã số."}, None)
    for event in list(batch.events):
        batches.delete_event(coop.id, batch.id, event.id)
    for n, (day, kind, description, input_used, dose, phi) in enumerate(DIARY):
        batches.add_event(coop.id, batch.id, {"event_date": day, "kind": kind, "description": description, "input_used": input_used,
                                              "dose": dose, "phi_days": phi, "done_by": "Trần Thị Lan"}, None,
                          photo=io.BytesIO(jpeg_bytes((800, 600), color=(40 * n % 255, 120, 60))))
    return stamp_codes, run, batch


def earlier_scans(db, code: str, phones: int, days: int, today: date) -> None:
    """`phones` different phones scanned the stamp once each, the first of them `days` days ago, one new
    phone a day after that (round robin), none today."""
    stamp_id = db.session.scalar(select(Stamp.id).where(Stamp.code_hash == codes.code_hash(codes.normalise(code))))
    db.session.commit()
    log = ScanLog(db.engine, delay=0)
    for n in range(phones):
        day = today - timedelta(days=days - n % days)
        log.record({"stamp_id": stamp_id, "scanned_at": datetime.combine(day, time(9)), "day": day, "device_class": "android",
                    "device_hash": os.urandom(16), "phone_hash": os.urandom(16)})
