"""The audit trail: every change with who, when, before and after; append-only in the database itself;
officers see their communes' events, admins all; the CSV export cannot smuggle formulas."""
import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from app.models import AuditEvent, Role
from app.services import accounts, batches
from tests.conftest import PASSWORD, post_form, sign_in
from tests.factories import product_with_batch


@pytest.fixture
def since(db):
    """Events recorded during this test (the trail is never emptied, not even between tests)."""
    start = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    db.session.commit()

    def events(**where):
        db.session.commit()
        query = select(AuditEvent).where(AuditEvent.id > start).filter_by(**where).order_by(AuditEvent.id)
        return list(db.session.scalars(query))
    return events


def test_a_change_is_recorded_with_who_before_and_after(member_client, db, coop_a, since):
    _product, batch = product_with_batch(coop_a)
    response = post_form(member_client, f"/coop/batches/{batch.id}/edit", {"lot_code": batch.lot_code, "harvest_date": "2026-06-12", "packing_date": "2026-06-13", "unit": "kg"})
    assert response.status_code == 302, [line for line in response.get_data(as_text=True).splitlines() if "error" in line]
    [change] = since(entity="batch", action="update")
    assert change.before["harvest_date"] == "2026-06-10" and change.after["harvest_date"] == "2026-06-12"
    assert change.actor_name == "Thành viên HTX Vải thiều Lục Ngạn" and change.cooperative_id == coop_a.id
    assert change.commune_code == coop_a.commune_code
    created = since(entity="diary_event", action="create")  # the factory's own entries, made without a user
    assert created == [] or created[0].after["input_used"]


def test_the_database_refuses_to_change_or_delete_the_trail(db, coop_a, since):
    product_with_batch(coop_a)
    event = since()[0]
    for statement in (f"UPDATE audit_events SET action = 'x' WHERE id = {event.id}", f"DELETE FROM audit_events WHERE id = {event.id}"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
            db.session.commit()
        db.session.rollback()
    assert db.session.get(AuditEvent, event.id).action == event.action


def test_sign_ins_and_refused_access_are_recorded(client, db, coop_a, coop_b, since):
    post_form(client, "/sign-in", {"login": "a@htx.vn", "password": "sai-mat-khau"})
    assert since(action="sign_in_failed")[0].detail == "login: a@htx.vn"
    sign_in(client, "a@htx.vn", PASSWORD)
    assert since(action="sign_in")[0].actor_name.startswith("Thành viên")
    _product, other = product_with_batch(coop_b, "Mật ong Phồn Nhi", "MO-1")
    assert client.get(f"/coop/batches/{other.id}").status_code == 404
    assert client.get("/admin/").status_code == 403
    refused = since(action="refused")
    assert [r.detail.split()[0] for r in refused] == ["404", "403"]


def test_officers_see_their_communes_admins_see_all_and_csv_is_formula_safe(officer_client, db, coop_a, coop_b, since):
    accounts.create_user(name="Quản trị", login="admin@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    admin_client = officer_client.application.test_client()
    sign_in(admin_client, "admin@ocop.vn")
    _p, batch_a = product_with_batch(coop_a)
    _p, batch_b = product_with_batch(coop_b, "=HYPERLINK(\"http://x\")", "MO-1")
    batches.update_batch(coop_a.id, batch_a.id, {"lot_code": "VT-LUC-NGAN", "harvest_date": date(2026, 6, 10)}, None)
    officer_page = officer_client.get("/commune/audit").get_data(as_text=True)
    assert "VT-LUC-NGAN" in officer_page and "HYPERLINK" not in officer_page
    rows = list(csv.reader(io.StringIO(admin_client.get("/admin/audit.csv").get_data(as_text=True))))
    cells = [cell for row in rows for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not any(cell.startswith("=") for cell in cells)
    officer_rows = officer_client.get("/commune/audit.csv").get_data(as_text=True)
    assert "HYPERLINK" not in officer_rows and "VT-LUC-NGAN" in officer_rows
