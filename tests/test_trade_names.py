"""Banned substances as farmers write them: trade names found in the diary like active ingredients, the seed
file sourced row by row, an administrator's edits of the trade names, and the live batches they block."""
import csv
import itertools
from datetime import date
from pathlib import Path

import pytest
from flask_migrate import upgrade
from markupsafe import escape
from sqlalchemy import select

from app import create_app
from app.extensions import db as _db
from app.models import AuditEvent, BannedSubstance, BannedTradeName, Notice, NoticeKind, Role
from app.services import accounts, batches, compliance
from app.services.errors import RuleViolation
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import LUC_NGAN, PASSWORD, _config, post_form, sign_in
from tests.factories import minted_run, product_with_batch

DATA = Path(__file__).resolve().parents[1] / "app" / "data"
# An endosulfan trade name that the seed file does not list (EXTOXNET/PMEP: "Thiodan, Tiovel").
UNLISTED = "Tiovel"


def _rows(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as seed:
        return list(csv.DictReader(line for line in seed if not line.startswith("#")))


SEED_TRADE_NAMES = _rows("banned_trade_names.csv")


@pytest.fixture
def seeded(db):
    """The seed list and its trade names on the live list, whatever earlier tests did to it (replacing the list
    with a shorter one takes the trade names of the substances it drops)."""
    compliance.replace_banned_list([f"{row['name']}; {row['group']}" for row in _rows("banned_substances.csv")])
    substances = {s.name: s.id for s in compliance.banned_list()}
    present = set(db.session.scalars(select(BannedTradeName.name)))
    db.session.add_all(BannedTradeName(substance_id=substances[row["substance"]], name=row["trade_name"], source=row["source"])
                       for row in SEED_TRADE_NAMES if row["trade_name"] not in present)
    db.session.commit()
    yield
    for name in db.session.scalars(select(BannedTradeName).where(BannedTradeName.name.contains(UNLISTED))):
        db.session.delete(name)
    db.session.commit()


def _diary(coop, batch, written: str, kind: str = "spraying"):
    return batches.add_event(coop.id, batch.id, {"event_date": date(2026, 5, 1), "kind": kind, "input_used": written}, None)


@pytest.mark.parametrize("written", ["Regent 800WG", "REGENT 800 WG", "regent", "regent800wg", "Rê-gent 5SC và Regent-800WG"])
def test_a_trade_name_fails_the_gate_naming_what_was_written_and_the_substance(app, db, coop_a, seeded, written):
    _product, batch = product_with_batch(coop_a)
    _diary(coop_a, batch, written)
    found = compliance.problems(batch)
    assert len(found) == 1
    message = str(found[0].message)
    assert "fipronil" in message
    quoted = written.split(" và ")[-1]
    assert f"“{quoted}”" in message


def test_the_gate_message_in_vietnamese(app, db, coop_a, seeded):
    _product, batch = product_with_batch(coop_a)
    _diary(coop_a, batch, "Regent 800WG")
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        message = str(compliance.problems(batch)[0].message)
    assert message == "Nhật ký ngày 01/05/2026 ghi “Regent 800WG”: là tên thương mại của fipronil, chất bị cấm."


@pytest.mark.parametrize("written", ["Regentino", "agent", "Phun Regentino 5SC", "Tổ đội Agent 2"])
def test_words_that_only_contain_a_trade_name_are_not_matched(db, coop_a, seeded, written):
    _product, batch = product_with_batch(coop_a)
    _diary(coop_a, batch, written)
    regent = _diary(coop_a, batch, "Regent 5SC")
    assert [problem.event.id for problem in compliance.problems(batch)] == [regent.id]


def test_every_trade_name_of_the_seed_file_matches_its_substance_and_has_a_source(db, seeded):
    listed = {row["name"] for row in _rows("banned_substances.csv")}
    names = compliance.matcher()
    assert len(SEED_TRADE_NAMES) >= 40
    for row in SEED_TRADE_NAMES:
        assert row["substance"] in listed, row
        assert row["source"].strip(), row
        for written in (row["trade_name"], f"Phun {row['trade_name'].upper()} 20SC, 2 lần"):
            found = names.find(written)
            assert found is not None and found.name.substance == row["substance"], (written, found)
    assert len({row["trade_name"].casefold() for row in SEED_TRADE_NAMES}) == len(SEED_TRADE_NAMES)


def test_a_fresh_install_has_the_trade_names(tmp_path):
    app = create_app(_config(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path))
    with app.app_context():
        upgrade()
        seeded = _db.session.execute(select(BannedSubstance.name, BannedTradeName.name).join(BannedTradeName.substance)).all()
        _db.session.remove()
        _db.engine.dispose()
    assert sorted(seeded) == sorted((row["substance"], row["trade_name"]) for row in SEED_TRADE_NAMES)


def _submitted(client, path: str, data: dict) -> str:
    """Post a form as the browser does and read the page it is sent back to (with the flashed messages)."""
    response = post_form(client, path, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


_lots = itertools.count(1)


def _live_batch(coop, written: str, stamps: int = 5):
    """A batch whose diary names `written`, with a run of stamps printed while that passed the gate."""
    number = next(_lots)
    product, batch = product_with_batch(coop, name=f"Sản phẩm {number}", lot=f"LO-{number}")
    _diary(coop, batch, written)
    minted_run(coop, product, batch, count=stamps, token=f"live-{batch.id}")
    return batch


def _blocked_notices(db, batch) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.batch_id == batch.id,
                                                        Notice.kind == NoticeKind.BATCH_BLOCKED_BY_BANNED_LIST)))


def test_an_added_trade_name_blocks_a_live_batch_once_and_removing_it_unblocks(app, admin_client, db, coop_a, seeded):
    batch = _live_batch(coop_a, f"{UNLISTED} 35EC, 1 lít/ha", stamps=7)
    endosulfan = db.session.scalar(select(BannedSubstance).where(BannedSubstance.name == "Endosulfan"))

    page = _submitted(admin_client, "/admin/banned-substances/trade-names",
                      {"trade-substance_id": str(endosulfan.id), "trade-name": UNLISTED,
                       "trade-source": "EXTOXNET: endosulfan (Thiodan, Tiovel)"})
    assert "Thay đổi này chặn 1 lô với 7 tem đang lưu hành" in page
    assert compliance.problems(batch) and "endosulfan" in str(compliance.problems(batch)[0].message)
    with pytest.raises(RuleViolation):
        compliance.check_passes(batch)
    [notice] = _blocked_notices(db, batch)
    assert notice.cooperative_id == coop_a.id and notice.params["stamps"] == "7"
    assert notice.params["substance"] == f"{UNLISTED} 35EC (Endosulfan)"
    officer = app.test_client()  # the commune's officer sees why on the listing
    accounts.create_user(name="Cán bộ xã", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    sign_in(officer, "canbo@xa.vn")
    listing = officer.get(f"/commune/listings/{batch.id}").get_data(as_text=True)
    assert f"ghi “{UNLISTED} 35EC”: là tên thương mại của endosulfan, chất bị cấm." in listing
    member = app.test_client()  # and the cooperative reads the notice on its dashboard
    sign_in(member, "a@htx.vn")
    dashboard = member.get("/coop/").get_data(as_text=True)
    assert f"nhật ký của lô ghi {UNLISTED} 35EC (Endosulfan), chất nay đã bị cấm. 7 tem của lô đang lưu hành" in dashboard
    change = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "banned_trade_names")
                                .order_by(AuditEvent.id.desc())).first()
    assert change.action == "banned_list" and change.after["trade_name"] == UNLISTED and change.before is None
    trail = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f"thêm tên thương mại {UNLISTED}" in trail and "Endosulfan" in trail

    # A later change that does not touch this batch tells nobody again.
    compliance.add_trade_name(endosulfan.id, f"{UNLISTED} Extra", "test")
    assert len(_blocked_notices(db, batch)) == 1

    trade_name = db.session.scalar(select(BannedTradeName).where(BannedTradeName.name == UNLISTED))
    removed = _submitted(admin_client, f"/admin/banned-substances/trade-names/{trade_name.id}/delete", {})
    assert "1 lô có tem đang lưu hành không còn bị chặn" in removed
    assert compliance.problems(batch) == []
    change = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "banned_trade_names")
                                .order_by(AuditEvent.id.desc())).first()
    assert change.before["trade_name"] == UNLISTED and change.after is None
    trail = admin_client.get("/admin/audit").get_data(as_text=True)
    assert f"bỏ tên thương mại {UNLISTED}" in trail


def test_replacing_the_whole_list_counts_the_batches_it_blocks(admin_client, db, coop_a, coop_b, seeded):
    original = "\n".join(f"{b.name}; {b.group}" for b in compliance.banned_list())
    _live_batch(coop_a, "Methomyl 40SP", stamps=3)
    other = _live_batch(coop_b, "Phun methomyl", stamps=4)
    _live_batch(coop_a, "Abamectin 3.6EC", stamps=2)
    try:
        page = _submitted(admin_client, "/admin/banned-substances", {"substances": original + "\nMethomyl; Thuốc trừ sâu"})
        assert "Thay đổi này chặn 2 lô với 7 tem đang lưu hành" in page
        assert [n.cooperative_id for n in _blocked_notices(db, other)] == [coop_b.id]
        assert db.session.scalar(select(BannedTradeName).where(BannedTradeName.name == "Regent")) is not None
    finally:
        compliance.replace_banned_list(original.splitlines())


def test_a_substance_taken_off_the_list_leaves_its_trade_names_in_the_audit_trail(db, seeded):
    original = [f"{b.name}; {b.group}" for b in compliance.banned_list()]
    compliance.replace_banned_list([line for line in original if not line.startswith("Fipronil;")])
    assert db.session.scalar(select(BannedTradeName).where(BannedTradeName.name == "Regent")) is None
    change = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "banned_substances")
                                .order_by(AuditEvent.id.desc())).first()
    [regent] = change.before["trade_names"]["Fipronil"]
    assert regent["name"] == "Regent" and "Bình Thuận" in regent["source"]
    compliance.replace_banned_list(original)


def test_a_change_that_blocks_nothing_says_so(admin_client, db, coop_a, seeded):
    substance = db.session.scalar(select(BannedSubstance).where(BannedSubstance.name == "Endosulfan"))
    page = _submitted(admin_client, "/admin/banned-substances/trade-names",
                      {"trade-substance_id": str(substance.id), "trade-name": UNLISTED, "trade-source": "EXTOXNET"})
    assert "Thay đổi này không chặn lô nào có tem đang lưu hành" in page


def test_a_trade_name_needs_a_name_a_source_and_no_other_spelling_of_a_listed_one(admin_client, db, seeded):
    substance = db.session.scalar(select(BannedSubstance).where(BannedSubstance.name == "Fipronil"))
    for typed, field in [({"trade-name": "REGENT", "trade-source": "nhãn"}, "name"),
                         ({"trade-name": "—", "trade-source": "nhãn"}, "name"),
                         ({"trade-name": UNLISTED, "trade-source": ""}, "source")]:
        response = post_form(admin_client, "/admin/banned-substances/trade-names",
                             {"trade-substance_id": str(substance.id), **typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, typed
        assert f'id="trade-{field}"' in page and 'aria-invalid="true"' in page
        assert str(escape(typed["trade-name"])) in page  # what was typed is kept
    assert db.session.scalar(select(BannedTradeName).where(BannedTradeName.name == UNLISTED)) is None


HOSTILE = '<img src=x onerror="alert(1)">Tiovel'


def test_hostile_text_in_a_trade_name_shows_as_text(admin_client, db, coop_a, seeded):
    substance = db.session.scalar(select(BannedSubstance).where(BannedSubstance.name == "Endosulfan"))
    compliance.add_trade_name(substance.id, HOSTILE, f"<script>alert(2)</script> {UNLISTED}")
    page = admin_client.get("/admin/banned-substances").get_data(as_text=True)
    assert str(escape(HOSTILE)) in page and HOSTILE not in page
    assert "<script>alert(2)" not in page and str(escape("<script>alert(2)</script>")) in page


def test_only_an_administrator_edits_trade_names(app, member_client, db, seeded):
    fipronil = db.session.scalar(select(BannedSubstance).where(BannedSubstance.name == "Fipronil"))
    regent = db.session.scalar(select(BannedTradeName).where(BannedTradeName.name == "Regent"))
    officer_client = app.test_client()
    accounts.create_user(name="Cán bộ xã", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    sign_in(officer_client, "canbo@xa.vn")
    for client in (member_client, officer_client):
        added = post_form(client, "/admin/banned-substances/trade-names",
                          {"trade-substance_id": str(fipronil.id), "trade-name": UNLISTED, "trade-source": "x"})
        removed = post_form(client, f"/admin/banned-substances/trade-names/{regent.id}/delete")
        assert (added.status_code, removed.status_code) == (403, 403)
    anonymous = app.test_client()
    refused = post_form(anonymous, f"/admin/banned-substances/trade-names/{regent.id}/delete")
    assert refused.status_code == 302 and "/sign-in" in refused.headers["Location"]
    assert db.session.scalar(select(BannedTradeName).where(BannedTradeName.name == UNLISTED)) is None
    assert db.session.get(BannedTradeName, regent.id) is not None


@pytest.mark.browser
@needs_chromium
def test_in_chromium_an_administrator_adds_a_trade_name_on_a_phone_and_is_told_what_it_blocks(
        live_server, page, db, coop_a, seeded, tmp_path):
    accounts.create_user(name="Quản trị", login="admin@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    _live_batch(coop_a, f"Phun {UNLISTED} 35EC", stamps=12)
    db.session.commit()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in_page(page, live_server, "admin@ocop.vn", PASSWORD, home="/admin/")
    page.goto(f"{live_server}/admin/banned-substances")
    form = page.locator("#add-trade-name")
    form.get_by_label("Hoạt chất").select_option(label="Endosulfan")
    form.get_by_label("Tên thương mại").fill(UNLISTED)
    form.get_by_label("Nguồn (quyết định, giấy đăng ký hoặc nhãn thuốc)").fill("EXTOXNET: endosulfan (Thiodan, Tiovel)")
    form.get_by_role("button", name="Thêm").click()
    page.wait_for_url(f"{live_server}/admin/banned-substances")
    assert page.get_by_text("Thay đổi này chặn 1 lô với 12 tem đang lưu hành").is_visible()
    page.screenshot(path=str(tmp_path / "banned-substances-360-told.png"))
    endosulfan = page.locator("summary", has_text="Endosulfan")
    assert UNLISTED in endosulfan.inner_text()
    endosulfan.click()
    assert page.locator(".trade-name", has_text=UNLISTED).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "banned-substances-360-top.png"))
    page.locator(".banned-substances > li", has=endosulfan).screenshot(path=str(tmp_path / "banned-substances-360-endosulfan.png"))
    page.locator("#add-trade-name").screenshot(path=str(tmp_path / "banned-substances-360-form.png"))
