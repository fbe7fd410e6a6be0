"""The diary compliance gate: pre-harvest intervals counted to the day, banned substances found whatever the
case or accents, stamps refused for a failing batch, and an officer's written override."""
from datetime import date

import pytest
from flask import render_template_string
from markupsafe import escape
from sqlalchemy import select

from app.models import AuditEvent, Role, User
from app.services import accounts, batches, compliance, stamp_ranges
from app.services.errors import RuleViolation
from tests.conftest import LUC_NGAN, PASSWORD, post_form, sign_in
from tests.factories import minted_run, product_with_batch


def _spray(coop, batch, when, what="Abamectin 3.6EC", phi=7):
    return batches.add_event(coop.id, batch.id, {"event_date": when, "kind": "spraying", "input_used": what, "phi_days": phi}, None)


def _harvest_on(coop, batch, day):
    batches.update_batch(coop.id, batch.id, {"lot_code": batch.lot_code, "harvest_date": day, "packing_date": None, "best_before": None}, None)


@pytest.mark.parametrize("harvest, fails", [(date(2026, 6, 7), True), (date(2026, 6, 8), False), (date(2026, 6, 9), False)])
def test_the_pre_harvest_interval_is_counted_to_the_day(db, coop_a, harvest, fails):
    _product, batch = product_with_batch(coop_a)
    _spray(coop_a, batch, date(2026, 6, 1), phi=7)  # safe to harvest from 8 June
    _harvest_on(coop_a, batch, harvest)
    found = compliance.problems(batch)
    assert bool(found) is fails
    if fails:
        assert "08/06/2026" in str(found[0].message)


@pytest.mark.parametrize("written", ["PARAQUAT 20SL", "thuốc Paraquát", "Gramoxone (paraquat)", "2,4-D 720"])
def test_banned_names_are_found_whatever_the_case_or_accents(db, coop_a, written):
    _product, batch = product_with_batch(coop_a)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 5, 1), "kind": "spraying", "input_used": written}, None)
    problems = compliance.problems(batch)
    assert len(problems) == 1 and problems[0].event.input_used == written


@pytest.mark.parametrize("written", ["Kiểm tra Captanex mới", "Đ.D.T"])
def test_words_that_only_contain_a_banned_name_are_not_matched(db, coop_a, written):
    _product, batch = product_with_batch(coop_a)
    batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 5, 1), "kind": "other", "description": written}, None)
    assert compliance.problems(batch) == []


def test_stamps_are_refused_for_a_failing_batch_until_an_officer_overrides(db, coop_a, officer_client):
    product, batch = product_with_batch(coop_a)
    _spray(coop_a, batch, date(2026, 6, 5), phi=14)  # harvest on 10 June is too early
    with pytest.raises(RuleViolation) as refused:
        minted_run(coop_a, product, batch)
    assert "14" in refused.value.message and "19/06/2026" in refused.value.message
    blank = minted_run(coop_a, product, None, token="blank")
    with pytest.raises(RuleViolation):
        stamp_ranges.activate_range(coop_a.id, blank.id, 1, 2, batch.id, None)

    empty = post_form(officer_client, f"/commune/listings/{batch.id}/override", {"reason": ""})
    assert empty.status_code == 422
    post_form(officer_client, f"/commune/listings/{batch.id}/override", {"reason": "Đã lấy mẫu kiểm nghiệm: đạt"})
    assert stamp_ranges.activate_range(coop_a.id, blank.id, 1, 2, batch.id, None) == 2
    override = compliance.override(batch)
    assert override.reason == "Đã lấy mẫu kiểm nghiệm: đạt" and override.officer_id == db.session.query(User).filter_by(login="canbo@xa.vn").one().id

    _spray(coop_a, batch, date(2026, 6, 8), phi=3)  # the diary changed: the override no longer holds
    assert compliance.override(batch) is None
    with pytest.raises(RuleViolation):
        stamp_ranges.activate_range(coop_a.id, blank.id, 3, 4, batch.id, None)


def test_the_cooperative_sees_exactly_why(member_client, db, coop_a):
    _product, batch = product_with_batch(coop_a)
    _spray(coop_a, batch, date(2026, 6, 5), "Regent (Fipronil)", phi=3)
    page = member_client.get(f"/coop/batches/{batch.id}").get_data(as_text=True)
    assert "Fipronil".lower() in page.lower() and "05/06/2026" in page


def test_an_admin_updates_the_banned_list(admin_client, db, coop_a):
    original = "\n".join(f"{b.name}; {b.group}" for b in compliance.banned_list())
    try:
        response = post_form(admin_client, "/admin/banned-substances", {"substances": "Chất thử nghiệm X; Thuốc trừ sâu\nParaquat"})
        assert response.status_code == 302
        assert sorted(compliance.banned_names()) == ["Chất thử nghiệm X", "Paraquat"]
        change = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "banned_list").order_by(AuditEvent.id.desc())).first()
        assert change.after["names"] == ["Chất thử nghiệm X", "Paraquat"] and "Glyphosate" in change.before["names"]
        _product, batch = product_with_batch(coop_a)
        batches.add_event(coop_a.id, batch.id, {"event_date": date(2026, 5, 1), "kind": "spraying", "input_used": "chat thu nghiem x"}, None)
        assert len(compliance.problems(batch)) == 1
    finally:
        compliance.replace_banned_list(original.splitlines())


HOSTILE_INPUT = '<meta http-equiv="refresh" content="0;url=https://evil.example"><style>body{display:none}</style>'
HOSTILE_NAME = "<b>Paraquat</b>"


@pytest.fixture
def hostile_banned_list(db):
    """The live list with a name an administrator typed with markup in it; the seed list is put back after."""
    original = [f"{b.name}; {b.group}" for b in compliance.banned_list()]
    compliance.replace_banned_list([*original, HOSTILE_NAME])
    yield
    compliance.replace_banned_list(original)


def _shows_as_text(page: str, typed: str) -> bool:
    return str(escape(typed)) in page and typed not in page


def test_gate_messages_show_the_diary_and_the_banned_name_as_text(app, member_client, db, coop_a, hostile_banned_list):
    product, batch = product_with_batch(coop_a)
    _spray(coop_a, batch, date(2026, 6, 5), HOSTILE_INPUT, phi=14)  # too late for the harvest on 10 June
    _spray(coop_a, batch, date(2026, 5, 1), f"{HOSTILE_NAME} 20SL", phi=None)
    blank = minted_run(coop_a, product, None, token="blank")
    officer = app.test_client()
    accounts.create_user(name="Cán bộ xã", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    sign_in(officer, "canbo@xa.vn")

    shown = {
        "batch page": member_client.get(f"/coop/batches/{batch.id}"),
        "refused print": post_form(member_client, f"/coop/batches/{batch.id}/runs/new",
                                   {"count": "5", "template": "a4-65", "ecc": "M", "request_token": "refused"}),
        "refused activation": post_form(member_client, f"/coop/runs/{blank.id}/range",
                                        {"first": "1", "last": "2", "batch_id": str(batch.id), "action": "activate"}),
        "officer's listing": officer.get(f"/commune/listings/{batch.id}"),
    }
    assert [r.status_code for r in shown.values()] == [200, 422, 422, 200]
    for where, response in shown.items():
        page = response.get_data(as_text=True)
        assert _shows_as_text(page, HOSTILE_INPUT), where
        assert _shows_as_text(page, HOSTILE_NAME.lower()), where  # the gate quotes the name as it matched


def test_a_gate_message_is_text_wherever_it_goes(app, coop_a, db):
    """Escaped in a template, plain in str() (CSV, logs), and still escaped after a trip through the session
    (a flashed message comes back from the cookie as Markup when it claims to be markup)."""
    _product, batch = product_with_batch(coop_a)
    _spray(coop_a, batch, date(2026, 6, 5), HOSTILE_INPUT, phi=14)
    with app.test_request_context():
        message = compliance.problems(batch)[0].message
        with pytest.raises(RuleViolation) as refused:
            compliance.check_passes(batch)
        serializer = app.session_interface.get_signing_serializer(app)
        for value in (message, refused.value.message):
            assert HOSTILE_INPUT in str(value)
            assert _shows_as_text(render_template_string("{{ m }}", m=value), HOSTILE_INPUT)
            flashed = serializer.loads(serializer.dumps({"_flashes": [("error", value)]}))["_flashes"][0][1]
            assert _shows_as_text(render_template_string("{{ m }}", m=flashed), HOSTILE_INPUT)
