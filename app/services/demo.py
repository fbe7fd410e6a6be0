"""Demo data from the field: Lục Ngạn lychee, Phồn Nhi honey, Lục Ngạn oranges and pomelo.

Every date is counted back (or forward) from the day the demo is loaded, so that the demo always shows what a
user would see that day: the lychee harvested a few days ago, before its best-before and verified; the honey
awaiting verification; the oranges harvested too soon after a spray, failing the compliance gate.
"""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.i18n import local_today
from app.models import Cooperative, EventKind, Role
from app.services import accounts, batch_inputs, batches, cooperatives, label_runs, listings, products, run_processing, shipments

DEMO_PASSWORD = "ocop-demo-2026"
LUC_NGAN, PHUC_HOA, NAM_DUONG = 7582, 7330, 7603  # commune codes (Bắc Ninh, since 1 July 2025)
DONG_DANG, HOAN_KIEM = 6184, 70  # the lychee's buyers: Xã Đồng Đăng (Lạng Sơn), Phường Hoàn Kiếm (Hà Nội)
OFFICERS = [
    (LUC_NGAN, "Phạm Văn Xã", "canbo.lucngan@ocop.vn"),
    (PHUC_HOA, "Đỗ Thị Hòa", "canbo.phuchoa@ocop.vn"),
    (NAM_DUONG, "Vũ Văn Dương", "canbo.namduong@ocop.vn"),
]
DEMO_STAMPS = 65  # one A4 sheet


def demo_cooperatives(today: date) -> list[dict]:
    """The demo cooperatives, their products, batches and diaries, dated from `today`."""
    def ago(days: int) -> date:
        return today - timedelta(days=days)

    return [
        {
            "key": "lychee",
            "values": {
                "name": "Hợp tác xã Hồng Xuân", "registration_no": "2401000123", "commune_code": LUC_NGAN,
                "address_line": "Thôn Hồng Xuân", "phone": "0204 3882 123", "email": "htxhongxuan@example.vn",
                "representative": "Nguyễn Văn Hùng",
                "description": "Vải thiều Lục Ngạn trồng theo VietGAP trên vùng trồng đã cấp mã số.",
            },
            "member": ("Trần Thị Lan", "lan@hongxuan.vn"),
            "products": [
                {
                    "values": {
                        "name": "Vải thiều Lục Ngạn", "category": "fruit", "gtin": "8938501234568",
                        "ocop_stars": 4, "ocop_certificate_no": "OCOP-BG-2024-0187",
                        "ocop_issued_on": ago(300), "growing_area_code": "VN-BGLN-0012",
                        "shelf_life_days": 14,
                        "description": "Quả tròn, vỏ đỏ tươi, cùi dày, hạt nhỏ, vị ngọt đậm.",
                    },
                    "certifications": [{"scheme": "VietGAP", "number": "VietGAP-TT-23-12-24-0035", "issuer": "Trung tâm Chứng nhận Phù hợp", "expires_on": ago(-400)}],
                    "batches": [
                        {
                            "values": {
                                "lot_code": f"VT-{ago(3):%Y-%m}-A", "harvest_date": ago(3), "packing_date": ago(2),
                                "quantity": Decimal("4200"), "unit": "kg", "growing_area": "Đội 3 và đội 5, 12 hộ",
                            },
                            "events": [
                                (ago(140), EventKind.FERTILISING, "Bón phân hữu cơ vi sinh sau thu hoạch vụ trước", "Phân hữu cơ vi sinh Sông Gianh", "2 kg/cây", None),
                                (ago(70), EventKind.IRRIGATION, "Tưới nhỏ giọt giai đoạn ra hoa", "", "", None),
                                (ago(12), EventKind.SPRAYING, "Phun phòng sâu đục cuống quả", "Abamectin 3.6EC", "10 ml/bình 16 lít", 7),
                                (ago(3), EventKind.HARVEST, "Thu hái sáng sớm, quả chín đỏ đều", "", "", None),
                                (ago(2), EventKind.PACKING, "Đóng thùng xốp 10 kg, bảo quản lạnh", "Thùng xốp 10 kg", "", None),
                            ],
                        },
                    ],
                },
            ],
        },
        {
            "key": "honey",
            "values": {
                "name": "Hợp tác xã nuôi ong Phồn Nhi", "registration_no": "2401000456", "commune_code": PHUC_HOA,
                "address_line": "Thôn Phồn Nhi", "phone": "0912 345 678", "email": "ongphonnhi@example.vn",
                "representative": "Lê Văn Phồn",
                "description": "Mật ong hoa vải và hoa rừng, nuôi ong tại vườn vải và đồi rừng Phúc Hòa.",
            },
            "member": ("Lê Thị Nhi", "0987654321"),
            "products": [
                {
                    "values": {
                        "name": "Mật ong Phồn Nhi", "category": "honey", "ocop_stars": 3,
                        "ocop_certificate_no": "OCOP-BG-2023-0542", "ocop_issued_on": ago(700),
                        "shelf_life_days": 730, "description": "Mật ong hoa vải nguyên chất, chai thủy tinh 500 ml.",
                    },
                    "certifications": [],
                    "batches": [
                        {
                            "values": {
                                "lot_code": f"MO-{ago(30):%Y-%m}", "harvest_date": ago(30), "packing_date": ago(25),
                                "quantity": Decimal("1800"), "unit": "chai", "growing_area": "Đàn ong 240 thùng, 9 hộ",
                            },
                            "events": [
                                (ago(80), EventKind.OTHER, "Đưa đàn ong vào vườn vải ra hoa", "", "", None),
                                (ago(30), EventKind.HARVEST, "Quay mật khi mật đã vít nắp", "", "", None),
                                (ago(28), EventKind.INSPECTION, "Kiểm tra độ ẩm mật: 19,5 %", "", "", None),
                                (ago(25), EventKind.PACKING, "Lọc và đóng chai 500 ml", "", "", None),
                            ],
                        },
                    ],
                },
            ],
        },
        {
            "key": "citrus",
            "values": {
                "name": "Hợp tác xã Cây ăn quả Nam Dương", "registration_no": "2401000789", "commune_code": NAM_DUONG,
                "address_line": "Thôn Đồng Giao", "phone": "0204 3881 789", "email": "",
                "representative": "Hoàng Văn Cam",
                "description": "Cam lòng vàng và bưởi da xanh trồng trên đồi Nam Dương.",
            },
            "member": ("Hoàng Thị Bưởi", "buoi@namduong.vn"),
            "products": [
                {
                    "values": {
                        "name": "Cam lòng vàng Lục Ngạn", "category": "fruit", "ocop_stars": 3,
                        "ocop_certificate_no": "OCOP-BG-2024-0311", "ocop_issued_on": ago(420),
                        "growing_area_code": "VN-BGLN-0027", "shelf_life_days": 30,
                        "description": "Cam ruột vàng, mọng nước, vị ngọt thanh.",
                    },
                    "certifications": [],
                    "batches": [
                        {
                            "values": {"lot_code": f"CAM-{ago(4):%Y-%m}", "harvest_date": ago(4), "packing_date": ago(3), "quantity": Decimal("2500"), "unit": "kg"},
                            # Fails the compliance gate: harvested 4 days ago, but the spray of 10 days ago needs 21 days.
                            "events": [
                                (ago(60), EventKind.FERTILISING, "Bón thúc kali trước thu hoạch", "Kali clorua", "0,5 kg/cây", None),
                                (ago(10), EventKind.SPRAYING, "Phun trừ ruồi vàng đục quả", "Chlorantraniliprole 5SC", "10 ml/bình 16 lít", 21),
                                (ago(4), EventKind.HARVEST, "Thu hoạch cam chín vàng", "", "", None),
                            ],
                        },
                    ],
                },
                {
                    "values": {
                        "name": "Bưởi da xanh", "category": "fruit", "ocop_stars": 3,
                        "ocop_certificate_no": "OCOP-BG-2024-0312", "ocop_issued_on": ago(420),
                        "shelf_life_days": 45, "description": "Bưởi da xanh ruột hồng, múi ráo.",
                    },
                    "certifications": [],
                    "batches": [],
                },
            ],
        },
    ]


def _load_cooperative(spec: dict, admin_id: int) -> Cooperative:
    coop = cooperatives.create_cooperative(spec["values"], admin_id)
    name, login = spec["member"]
    member = accounts.create_user(name=name, login=login, password=DEMO_PASSWORD, role=Role.MEMBER, cooperative_id=coop.id, actor_id=admin_id)
    for product_spec in spec["products"]:
        product = products.create_product(coop.id, product_spec["values"], member.id)
        for cert in product_spec["certifications"]:
            products.add_certification(coop.id, product.id, cert, member.id)
        for batch_spec in product_spec["batches"]:
            batch = batches.create_batch(coop.id, product.id, batch_spec["values"], member.id)
            for event_date, kind, description, input_used, dose, phi in batch_spec["events"]:
                picked = batch_spec["values"].get("quantity") if kind is EventKind.HARVEST else None  # the whole lot
                batches.add_event(coop.id, batch.id, {
                    "event_date": event_date, "kind": kind, "description": description,
                    "input_used": input_used, "dose": dose, "phi_days": phi, "done_by": name, "quantity": picked,
                }, member.id)
    return coop


def load_demo() -> str:
    """Load the demo data into an empty database; leave a database that has cooperatives alone."""
    if db.session.scalar(select(func.count(Cooperative.id))):
        return "The database already has cooperatives: demo data not loaded."
    admin = accounts.create_user(name="Quản trị viên", login="admin@ocop.vn", password=DEMO_PASSWORD, role=Role.ADMIN)
    coops = {spec["key"]: _load_cooperative(spec, admin.id) for spec in demo_cooperatives(local_today())}
    officers = {code: accounts.create_user(name=name, login=login, password=DEMO_PASSWORD, role=Role.OFFICER, commune_codes=[code], actor_id=admin.id)
                for code, name, login in OFFICERS}
    _verified_listing_with_stamps(coops["lychee"], officers[LUC_NGAN])
    _lychee_inputs_and_shipments(coops["lychee"], local_today())
    return "Demo data loaded."


def _verified_listing_with_stamps(coop: Cooperative, officer) -> None:
    """The lychee batch: verified by the commune, with a small printed run whose stamps show the badge."""
    batch = batches.list_batches(coop.id)[0]
    listings.verify(officer.id, batch.id, None, local_today())
    run, _ = label_runs.create_run(coop.id, product_id=batch.product_id, batch_id=batch.id, count=DEMO_STAMPS, template="a4-65",
                                   options={}, request_token="demo-lychee", actor_id=None)
    run_processing.process(run.id)  # here, not through the queue: loading the demo needs no worker


def _lychee_inputs_and_shipments(coop: Cooperative, today: date) -> None:
    """One step back and forward for the lychee batch: its inputs (the spray points at its pesticide) and two
    shipments, to a trader in Lạng Sơn with the first 40 stamps and to a shop in Hà Nội with the rest."""
    batch = batches.list_batches(coop.id)[0]
    member_id = batch.created_by_id
    inputs = [
        {"kind": "fertiliser", "name": "Phân hữu cơ vi sinh Sông Gianh", "supplier_name": "Đại lý vật tư nông nghiệp Hùng Mạnh",
         "supplier_address": "Thôn Kép, Xã Lục Ngạn, Bắc Ninh", "supplier_lot": "SG-2405-118", "quantity": Decimal("500"),
         "unit": "kg", "received_on": today - timedelta(days=145)},
        {"kind": "pesticide", "name": "Abamectin 3.6EC", "supplier_name": "Đại lý vật tư nông nghiệp Hùng Mạnh",
         "supplier_address": "Thôn Kép, Xã Lục Ngạn, Bắc Ninh", "supplier_lot": "ABA 36-0923", "quantity": Decimal("4"),
         "unit": "chai 450 ml", "received_on": today - timedelta(days=15)},
        {"kind": "packaging", "name": "Thùng xốp 10 kg", "supplier_name": "Công ty Bao bì Bắc Giang",
         "supplier_address": "Phường Bắc Giang, Bắc Ninh", "quantity": Decimal("420"), "unit": "thùng",
         "received_on": today - timedelta(days=5)},
    ]
    added = {values["kind"]: batch_inputs.add_input(coop.id, batch.id, values, member_id) for values in inputs}
    for event in batch.events:
        used = {EventKind.SPRAYING: "pesticide", EventKind.FERTILISING: "fertiliser", EventKind.PACKING: "packaging"}.get(event.kind)
        if used:
            batches.update_event(coop.id, batch.id, event.id, {"input_id": added[used].id}, member_id)
    run_id = label_runs.list_runs(coop.id, batch.id)[0].id
    shipments.create_shipment(coop.id, batch.id, {
        "buyer_name": "Thương lái Hoàng Văn Nam", "buyer_kind": "trader", "buyer_address": "Chợ đầu mối Đồng Đăng",
        "buyer_commune_code": DONG_DANG, "buyer_phone": "0912 468 135", "shipped_on": today - timedelta(days=2),
        "quantity": Decimal("3000"), "unit": "kg", "note": "Xe tải 98C-123.45",
        "ranges": [shipments.StampRange(run_id, 1, 40)],
    }, member_id)
    shipments.create_shipment(coop.id, batch.id, {
        "buyer_name": "Cửa hàng Nông sản Quê Hương", "buyer_kind": "shop", "buyer_address": "25 Hàng Bè",
        "buyer_commune_code": HOAN_KIEM, "buyer_phone": "024 3826 1234", "shipped_on": today - timedelta(days=1),
        "quantity": Decimal("800"), "unit": "kg", "note": "Gửi xe khách Bắc Giang – Hà Nội",
        "ranges": [shipments.StampRange(run_id, 41, DEMO_STAMPS)],
    }, member_id)
