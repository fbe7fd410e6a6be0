"""One step forward: a batch's shipments to buyers, the stamps that went with them, and the buyers to call on a recall."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Shipment, ShipmentRange
from app.services import batches, commune_watch, listings, shipments
from app.services.errors import NotFound, RuleViolation
from app.services.shipments import StampRange
from tests.conftest import LUC_NGAN, post_form, sign_in
from tests.factories import minted_run, product_with_batch

TRADER = {"buyer_name": "Thương lái Hoàng Văn Nam", "buyer_kind": "trader", "buyer_address": "Chợ đầu mối Đồng Đăng",
          "buyer_phone": "0912 345 678", "shipped_on": date(2026, 6, 12), "quantity": "600", "unit": "kg",
          "note": "Xe tải 98C-123.45"}


@pytest.fixture
def lychee(coop_a):
    """A batch of 1,000 kg with a printed run of 5 stamps."""
    product, batch = product_with_batch(coop_a)
    batches.update_batch(coop_a.id, batch.id, {"quantity": Decimal(1000), "unit": "kg"}, None)
    batch.run = minted_run(coop_a, product, batch, count=5)
    return batch


def test_a_shipment_is_saved_with_its_ranges_and_recorded_in_the_trail(db, coop_a, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "buyer_commune_code": LUC_NGAN,
                                                                "ranges": [StampRange(lychee.run.id, 1, 3)]}, None)
    assert (shipment.quantity, shipment.buyer_commune.name, shipment.buyer_phone) == (Decimal("600.00"), "Xã Lục Ngạn", "0912 345 678")
    assert [(r.run_id, r.first_serial, r.last_serial) for r in shipment.ranges] == [(lychee.run.id, 1, 3)]
    assert shipments.left_to_ship(lychee) == Decimal(400)
    trail = {e.entity: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity.like("shipment%")))}
    assert trail["shipment"].after["buyer_name"] == TRADER["buyer_name"] and trail["shipment"].cooperative_id == coop_a.id
    assert trail["shipment_range"].after["first_serial"] == 1 and trail["shipment_range"].cooperative_id == coop_a.id


@pytest.mark.parametrize("changes, field", [
    ({"buyer_name": ""}, "buyer_name"), ({"buyer_kind": "pirate"}, "buyer_kind"), ({"buyer_phone": "gọi tôi"}, "buyer_phone"),
    ({"shipped_on": None}, "shipped_on"), ({"shipped_on": date(2026, 6, 1)}, "shipped_on"),  # before the harvest
    ({"quantity": "0"}, "quantity"), ({"quantity": ""}, "quantity"), ({"buyer_commune_code": 1}, "buyer_commune"),
])
def test_bad_shipment_values_are_refused_on_their_field(db, coop_a, lychee, changes, field):
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, **changes}, None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(Shipment.id)) is None


def test_a_shipment_cannot_take_more_than_is_left_in_the_same_unit(db, coop_a, lychee):
    first = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "400.01", "unit": "KG"}, None)
    assert refused.value.field == "quantity" and "400" in str(refused.value.message)
    db.session.rollback()
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "400"}, None)  # exactly what is left
    shipments.update_shipment(coop_a.id, lychee.id, first.id, {"quantity": "600"}, None)  # its own quantity is not counted twice
    with pytest.raises(RuleViolation):
        shipments.update_shipment(coop_a.id, lychee.id, first.id, {"quantity": "601"}, None)


def test_a_shipment_in_another_unit_is_saved_and_said_unchecked(db, coop_a, lychee):
    boxes = shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "5000", "unit": "thùng"}, None)
    assert shipments.unit_not_checked(boxes)
    assert shipments.left_to_ship(lychee) == Decimal(1000)
    assert not shipments.unit_not_checked(shipments.create_shipment(coop_a.id, lychee.id, TRADER, None))


def test_stamp_ranges_must_be_stamps_of_this_batch_and_go_once(db, coop_a, lychee):
    blank = minted_run(coop_a, lychee.product, None, count=5, token="blank")
    other = product_with_batch(coop_a, "Vải sớm", "VS-1")
    other_run = minted_run(coop_a, other[0], other[1], count=5, token="other")
    bad = {
        "beyond the run": [StampRange(lychee.run.id, 4, 6)],
        "a blank run not activated": [StampRange(blank.id, 1, 2)],
        "another batch's run": [StampRange(other_run.id, 1, 2)],
        "overlapping": [StampRange(lychee.run.id, 1, 3), StampRange(lychee.run.id, 3, 4)],
    }
    for why, ranges in bad.items():
        with pytest.raises(RuleViolation, match="") as refused:
            shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "1", "ranges": ranges}, None)
        assert refused.value.field == "ranges", why
        db.session.rollback()
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "1", "ranges": [StampRange(lychee.run.id, 1, 2)]}, None)
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "1", "ranges": [StampRange(lychee.run.id, 2, 2)]}, None)
    assert "Thương lái Hoàng Văn Nam" in str(refused.value.message)


def test_ranges_are_parsed_from_what_people_type():
    assert shipments.parse_ranges("#12: 1-500, 801–900; 13: 7") == [StampRange(12, 1, 500), StampRange(12, 801, 900), StampRange(13, 7, 7)]
    assert shipments.parse_ranges("1 đến 20", single_run=4) == [StampRange(4, 1, 20)]
    assert shipments.parse_ranges("  ") == []
    for typed in ("1-20", "#3: 20-1", "#3: abc"):  # no run named; backwards; not a number
        with pytest.raises(RuleViolation):
            shipments.parse_ranges(typed)
    assert shipments.format_ranges([StampRange(12, 801, 900), StampRange(12, 1, 500), StampRange(13, 7, 7)]) == "#12: 1-500, 801-900; #13: 7"


def test_a_recalled_batch_takes_only_shipments_that_left_before_the_recall(db, coop_a, lychee, officer_client):
    from app.models import User

    officer = db.session.scalar(select(User).where(User.login == "canbo@xa.vn"))
    commune_watch.recall(officer.id, lychee.id, "Dư lượng thuốc", date(2026, 6, 20))
    with pytest.raises(RuleViolation) as refused:
        shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "shipped_on": date(2026, 6, 21)}, None)
    assert refused.value.field == "shipped_on"
    db.session.rollback()
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "shipped_on": date(2026, 6, 19)}, None)


def test_another_cooperatives_batch_and_shipment_are_not_found(db, coop_a, coop_b, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    for call in (lambda: shipments.create_shipment(coop_b.id, lychee.id, TRADER, None),
                 lambda: shipments.update_shipment(coop_b.id, lychee.id, shipment.id, {"quantity": "1"}, None),
                 lambda: shipments.delete_shipment(coop_b.id, lychee.id, shipment.id),
                 lambda: shipments.list_shipments(coop_b.id, lychee.id)):
        with pytest.raises(NotFound):
            call()


def test_shipments_are_not_verified_facts(db, coop_a, lychee):
    before = listings.fingerprint(listings.facts(lychee))
    shipment = shipments.create_shipment(coop_a.id, lychee.id, TRADER, None)
    shipments.update_shipment(coop_a.id, lychee.id, shipment.id, {"buyer_phone": "0987 000 111"}, None)
    db.session.expire_all()
    assert listings.fingerprint(listings.facts(lychee)) == before


def test_buyers_to_call_are_grouped_by_name_and_phone(db, coop_a, lychee):
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "100"}, None)
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "quantity": "50", "buyer_phone": "0912345678",
                                                     "shipped_on": date(2026, 6, 13)}, None)
    shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "buyer_name": "Cửa hàng Quê Hương", "buyer_kind": "shop",
                                                     "buyer_phone": "024 3826 1234", "quantity": "20"}, None)
    buyers = shipments.buyers_to_call(lychee)
    assert [(b.name, len(b.shipments)) for b in buyers] == [("Thương lái Hoàng Văn Nam", 2), ("Cửa hàng Quê Hương", 1)]


def test_deleting_a_shipment_deletes_its_ranges(db, coop_a, lychee):
    shipment = shipments.create_shipment(coop_a.id, lychee.id, {**TRADER, "ranges": [StampRange(lychee.run.id, 1, 5)]}, None)
    shipments.delete_shipment(coop_a.id, lychee.id, shipment.id)
    assert db.session.scalar(select(ShipmentRange.id)) is None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity == "shipment").order_by(AuditEvent.id.desc()).limit(1)) == "delete"
