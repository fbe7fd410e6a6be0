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
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "batch_input").order_by(AuditEvent.id.desc()).limit(1))
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
    unlinked = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "diary_event", AuditEvent.action == "update")
                                 .order_by(AuditEvent.id.desc()).limit(1))
    assert unlinked.after == {"input_id": None}


def test_inputs_are_not_verified_facts(db, coop_a, lychee):
    before = listings.fingerprint(listings.facts(lychee))
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    batch_inputs.update_input(coop_a.id, lychee.id, item.id, {"supplier_name": "Công ty khác", "quantity": "5"}, None)
    db.session.expire_all()
    assert listings.fingerprint(listings.facts(lychee)) == before


# Pages


def test_the_batch_page_lists_inputs_and_the_form_adds_one(member_client, db, lychee):
    response = post_form(member_client, f"/coop/batches/{lychee.id}/inputs/new",
                         {**PESTICIDE, "received_on": "10/05/2026"})
    assert response.status_code == 302
    page = member_client.get(f"/coop/batches/{lychee.id}").get_data(as_text=True)
    assert "Abamectin 3.6EC" in page and "Đại lý vật tư Hùng Mạnh" in page and "LOT 2405-12" in page


def test_a_bad_input_form_comes_back_422_with_messages_and_values(member_client, db, lychee):
    response = post_form(member_client, f"/coop/batches/{lychee.id}/inputs/new",
                         {**PESTICIDE, "supplier_name": "", "supplier_lot": "LÔ-Ư", "received_on": "10/05/2026"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vui lòng điền mục này." in page and "Số lô của nhà cung cấp có tối đa 40 ký tự" in page
    assert 'value="LÔ-Ư"' in page and 'value="Abamectin 3.6EC"' in page
    assert db.session.scalar(select(BatchInput.id)) is None


def test_an_input_is_edited_and_deleted_from_its_pages(member_client, db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    url = f"/coop/batches/{lychee.id}/inputs/{item.id}"
    assert member_client.get(f"{url}/edit").status_code == 200
    assert post_form(member_client, f"{url}/edit", {**PESTICIDE, "name": "Abamectin 1.8EC", "received_on": ""}).status_code == 302
    db.session.expire_all()
    assert (item.name, item.received_on) == ("Abamectin 1.8EC", None)
    assert post_form(member_client, f"{url}/delete").status_code == 302
    assert db.session.scalar(select(BatchInput.id)) is None


def test_the_diary_form_offers_the_batchs_inputs(member_client, db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    page = member_client.get(f"/coop/batches/{lychee.id}/events/new?kind=spraying").get_data(as_text=True)
    assert f'<option value="{item.id}">' in page
    response = post_form(member_client, f"/coop/batches/{lychee.id}/events/new",
                         {"event_date": "2026-05-20", "kind": "spraying", "input_id": str(item.id), "phi_days": "7"})
    assert response.status_code == 302
    assert db.session.scalar(select(DiaryEvent.input_id).where(DiaryEvent.event_date == date(2026, 5, 20))) == item.id


def test_another_cooperatives_inputs_are_404_on_every_route(client, db, coop_a, coop_b, lychee):
    from tests.conftest import sign_in

    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    sign_in(client, "b@htx.vn")
    base = f"/coop/batches/{lychee.id}/inputs"
    assert client.get(f"{base}/new").status_code == 404
    assert client.get(f"{base}/{item.id}/edit").status_code == 404
    for path in (f"{base}/new", f"{base}/{item.id}/edit", f"{base}/{item.id}/delete"):
        assert post_form(client, path, PESTICIDE | {"received_on": ""}).status_code == 404
    db.session.expire_all()
    assert db.session.get(BatchInput, item.id).name == "Abamectin 3.6EC"


def test_a_batch_without_stamps_is_deleted_with_its_inputs_and_the_entries_using_them(db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "kind": "spraying", "input_id": item.id}, None)
    batches.delete_batch(coop_a.id, lychee.id)
    assert db.session.scalar(select(BatchInput.id)) is None and db.session.scalar(select(DiaryEvent.id)) is None


def test_the_officer_reads_the_supplier_of_a_diary_entrys_input(officer_client, db, coop_a, lychee):
    item = batch_inputs.add_input(coop_a.id, lychee.id, PESTICIDE, None)
    batches.add_event(coop_a.id, lychee.id, {"event_date": date(2026, 5, 20), "kind": "spraying", "input_id": item.id}, None)
    page = officer_client.get(f"/commune/listings/{lychee.id}").get_data(as_text=True)
    assert "Abamectin 3.6EC (của Đại lý vật tư Hùng Mạnh, lô LOT 2405-12)" in page
