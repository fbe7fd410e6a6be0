"""One step back: a batch's inputs and their suppliers, and diary entries that point at them."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import AuditEvent, BatchInput, DiaryEvent
from app.services import batch_inputs, batches, compliance, listings
from app.services.errors import NotFound, RuleViolation
from tests.conftest import post_form
from tests.factories import product_with_batch

PESTICIDE = {"kind": "pesticide", "name": "Abamectin 3.6EC", "supplier_name": "Đại lý vật tư Hùng Mạnh",
             "supplier_address": "Thôn Kép, Xã Lục Ngạn", "supplier_lot": "LOT 2405-12", "quantity": "2",
             "unit": "chai", "received_on": date(2026, 5, 10)}


@pytest.fixture
def lychee(coop_a):
    return product_with_batch(coop_a)[1]


def test_an_input_is_saved_cleaned_and_recorded_in_the_trail(db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, {**PESTICIDE, "name": "Abamectin\t3.6EC\x00"}, None)
    assert (item.name, item.supplier_lot, item.quantity) == ("Abamectin 3.6EC", "LOT 2405-12", Decimal("2.00"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "batch_input"))
    assert (event.action, event.cooperative_id) == ("create", coop_a.id)
    assert event.after["supplier_name"] == "Đại lý vật tư Hùng Mạnh"


@pytest.mark.parametrize("changes, field", [
    ({"name": " "}, "name"), ({"supplier_name": ""}, "supplier_name"), ({"kind": "rocket"}, "kind"),
    ({"supplier_lot": "LÔ 12"}, "supplier_lot"), ({"supplier_lot": "x" * 41}, "supplier_lot"),
    ({"quantity": "-1"}, "quantity"), ({"quantity": "nhiều"}, "quantity"),
])
def test_bad_input_values_are_refused_on_their_field(db, coop_a, lychee, changes, field):
    with pytest.raises(RuleViolation) as refused:
        batch_inputs.add_input(coop_a.id, lychee.id, {**PESTICIDE, **changes}, None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(BatchInput.id)) is None


def test_another_cooperatives_batch_and_input_are_not_found(db, coop_a, coop_b, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    for call in (lambda: batch_inputs.add_input(coop_b.id, lychee.id, PESTICIDE, None),
                 lambda: batch_inputs.update_input(coop_b.id, lychee.id, item.id, {"name": "x"}, None),
                 lambda: batch_inputs.delete_input(coop_b.id, lychee.id, item.id, None),
                 lambda: batch_inputs.get_input(coop_b.id, lychee.id, item.id)):
        with pytest.raises(NotFound):
            call()
    other = product_with_batch(coop_a, "Vải sớm", "VS-1")[1]
    with pytest.raises(NotFound):  # the input exists, but on another batch of the same cooperative
        batch_inputs.get_input(coop_a.id, other.id, item.id)


def test_a_spray_points_at_an_input_and_keeps_its_name_as_text(db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    spray = batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "kind": "spraying", "input_used": "",
                                                     "input_id": str(item.id), "phi_days": 7}, None)
    assert (spray.input_id, spray.input_used) == (item.id, "Abamectin 3.6EC")
    typed = batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 21), "kind": "fertilising",
                                                     "input_used": "Phân NPK 16-16-8", "input_id": item.id}, None)
    assert typed.input_used == "Phân NPK 16-16-8"  # what was typed stays


def test_a_banned_input_picked_without_text_still_fails_the_gate(db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, {**PESTICIDE, "name": "Carbofuran 3GR"}, None)
    spray = batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "kind": "spraying", "input_id": item.id}, None)
    assert [p.event.id for p in compliance.problems(lychee) if "carbofuran" in str(p.message).lower()] == [spray.id]


@pytest.mark.parametrize("values", [
    {"kind": "harvest"},  # a harvest uses no input
    {"kind": "spraying", "input_id": "999999"},
    {"kind": "spraying", "input_id": "abc"},
])
def test_a_diary_entry_points_only_at_its_own_batchs_input_and_only_when_it_uses_one(db, coop_a, lychee, values):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    with pytest.raises(RuleViolation) as refused:
        batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "input_id": item.id, **values}, None)
    assert refused.value.field == "input_id"


def test_an_input_of_another_batch_is_refused(db, coop_a, lychee):
    other = product_with_batch(coop_a, "Vải sớm", "VS-1")[1]
    item = batch_inputs.add_input(coop_a.id, other.id, PESTICIDE, None)
    with pytest.raises(RuleViolation) as refused:
        batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "kind": "spraying", "input_id": item.id}, None)
    assert refused.value.field == "input_id"


def test_deleting_an_input_unlinks_its_entries_which_keep_the_text(db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    spray = batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "kind": "spraying", "input_id": item.id}, None)
    batch_inputs.delete_input(coop_a.id, lychee.id, item.id, None)
    db.session.expire_all()
    entry = db.session.get(DiaryEvent, spray.id)
    assert (entry.input_id, entry.input_used) == (None, "Abamectin 3.6EC")
    unlinked = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "diary_event", AuditEvent.action == "update"))
    assert unlinked.after == {"input_id": None}


def test_inputs_are_not_verified_facts(db, coop_a, lychee):
    before = listings.fingerprint(listings.facts(lychee))
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    batch_inputs.update_input(coop_a.id, lychee.id, item.id, {"supplier_name": "Công ty khác", "quantity": "5"}, None)
    db.session.expire_all()
    assert listings.fingerprint(listings.facts(lychee)) == before

