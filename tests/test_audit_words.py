"""The audit trail in words: each event one sentence in the reader's language (who, the verb, the field's label,
the object by the name users know, old → new as users read them), filters by person, object and dates, pages of
50, a cooperative's own trail, and a CSV that keeps the machine columns and adds the sentence."""
import csv
import html
import io
import re
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, inspect, select

from app.models import AuditEvent, BannedSubstance, Product, ReportStatus, Role, User
from app.services import (accounts, audit, audit_words, batches, codes, compliance, minting, products, report_inbox,
                          stamp_ranges)
from app.scan import scans
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, post_form, sign_in
from tests.factories import minted_run, product_with_batch

MEMBER = "Thành viên HTX Vải thiều Lục Ngạn"
# What a sentence must never show: a column or object-type name, a raw enum value, an ISO date, a Python value.
COLUMN_NAMES = sorted({attr.key for model in audit.AUDITED for attr in inspect(model).mapper.column_attrs if "_" in attr.key}
                      | {name for name in audit.AUDITED.values() if "_" in name})
RAW = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\bNone\b|\bTrue\b|\bFalse\b|[{}\[\]]|#\d")
# Every stored choice of the audited tables ("spraying", "queued", "verified"…): never shown raw in Vietnamese.
CHOICES = re.compile(r"(?<![\w/])(" + "|".join(sorted({member.value for model in audit.AUDITED for attr in inspect(model).mapper.column_attrs
                                                if getattr(attr.columns[0].type, "enum_class", None)
                                                for member in attr.columns[0].type.enum_class})) + r")(?![\w/])")


@pytest.fixture
def start(db):
    """The last event before this test: the trail is never emptied, not even between tests."""
    first = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    db.session.commit()
    return first


def sentences(page_html: str, after: int = 0) -> list[str]:
    """What a trail page says of each event, as text: its sentence, or the head of it followed by the changed
    fields joined by "; "; with `after`, only events after that one."""
    parts = re.split(r'<li class="audit-line" id="e(\d+)">', page_html.split('<ol class="audit-list">', 1)[-1].split("</ol>")[0])
    said = []
    for id_, item in zip(parts[1::2], parts[2::2]):
        if int(id_) <= after:
            continue
        head = re.search(r'<p class="audit-sentence">(.*?)</p>', item, re.S).group(1)
        fields = "; ".join(re.findall(r"<li>(.*?)</li>", item, re.S))
        said.append(" ".join(html.unescape(re.sub(r"<[^>]+>", "", f"{head} {fields}")).split()))
    return said


def raw_words(text: str) -> list[str]:
    found = [name for name in COLUMN_NAMES if name in text]
    return found + RAW.findall(text)


def edit_batch(client, batch, **changes):
    values = {"lot_code": batch.lot_code, "harvest_date": "2026-06-10", "packing_date": "2026-06-11", "unit": "kg", **changes}
    response = post_form(client, f"/coop/batches/{batch.id}/edit", values)
    assert response.status_code == 302, re.findall(r"class=\"error\">([^<]*)", response.get_data(as_text=True))


def test_a_harvest_date_changed_through_the_form_reads_as_a_sentence_in_vietnamese_and_english(member_client, db, coop_a, start):
    _product, batch = product_with_batch(coop_a, lot="VT-2026-06-A")
    edit_batch(member_client, batch, harvest_date="2026-06-12", packing_date="2026-06-13")
    accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[7582])
    officer = member_client.application.test_client()
    sign_in(officer, "canbo@xa.vn")

    for reader, path in ((member_client, "/coop/audit"), (officer, "/commune/audit")):
        shown = reader.get(path).get_data(as_text=True)
        said = [s for s in sentences(shown, start) if "VT-2026-06-A" in s and "sửa" in s]
        assert said == [f"{MEMBER} sửa lô VT-2026-06-A: ngày thu hoạch: 10/06/2026 → 12/06/2026; "
                        "ngày đóng gói: 11/06/2026 → 13/06/2026"], sentences(shown)[:5]
        assert "harvest_date" not in shown and "packing_date" not in shown and "2026-06-12" not in shown.replace('datetime="', "")

    edit_batch(member_client, batch, harvest_date="2026-06-13", packing_date="2026-06-13")
    shown = member_client.get("/coop/audit").get_data(as_text=True)
    assert sentences(shown, start)[0] == f"{MEMBER} sửa ngày thu hoạch của lô VT-2026-06-A: 12/06/2026 → 13/06/2026"

    post_form(member_client, "/language", {"lang": "en", "next": "/coop/audit"})
    shown = member_client.get("/coop/audit").get_data(as_text=True)
    assert sentences(shown, start)[0] == f"{MEMBER} changed the harvest date of lot VT-2026-06-A: Jun 12, 2026 → Jun 13, 2026"
    assert "harvest_date" not in shown


def test_hostile_text_in_a_changed_field_shows_as_text(member_client, db, coop_a, start):
    _product, batch = product_with_batch(coop_a)
    edit_batch(member_client, batch, growing_area='<script>alert("x")</script><b>Đồi</b>')
    shown = member_client.get("/coop/audit").get_data(as_text=True)
    assert "<script>alert" not in shown and "<b>Đồi" not in shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Đồi&lt;/b&gt;" in shown
    assert sentences(shown, start)[0] == f'{MEMBER} sửa vùng trồng của lô VT-2026-06-A: (trống) → <script>alert("x")</script><b>Đồi</b>'


def _sample(model, key: str, column):
    """A value of the column's type, as the trail records it."""
    kind = column.type
    if getattr(kind, "enum_class", None):
        return next(iter(kind.enum_class)).value
    try:
        python = kind.python_type
    except NotImplementedError:
        return {"a": 1}
    if python is datetime:
        return "2026-06-10T03:00:00"
    if python is date:
        return "2026-06-10"
    if python is bool:
        return True
    if python in (int, float):
        return 7
    if python is dict:
        return {"a": 1}
    return "chữ"


def _walked_events() -> list[AuditEvent]:
    """Every mapped object type with every action the trail writes, each field of its model changed."""
    made = []
    actions = ["create", "update", "delete", "verified", "rejected", "gate_override", "recall", "label_run", "activate",
               "void", "print_over_quantity", "banned_list", "import", "sign_in", "sign_in_failed", "refused",
               "sign_out_others", "password_changed", "password_reset_link", "password_reset", "api_token_created",
               "api_token_revoked", "report_status", "something_new"]
    for entity in [*audit_words.OBJECTS, "something_new"]:
        model = audit_words.MODELS.get(entity)
        columns = {a.key: a.columns[0] for a in inspect(model).column_attrs} if model is not None else {"some_field": None}
        before = {k: (_sample(model, k, c) if c is not None else "x") for k, c in columns.items()}
        after = {k: (v + 1 if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in before.items()}
        for action in actions:
            made.append(AuditEvent(id=None, at=datetime(2026, 6, 10, 3), actor_id=None, actor_name="Chị Lan", action=action,
                                   entity=entity, entity_id=999_999, before=before, after=after,
                                   detail="login: lan@htx.vn" if action == "sign_in_failed" else "404 GET /coop/batches/7"))
    return made


def test_every_mapped_type_and_action_and_every_real_event_reads_without_ids_or_column_names(member_client, db, coop_a, start):
    # Real actions of a cooperative: a product, a lot, its diary, a stamp run activated and partly voided, a recall.
    product, batch = product_with_batch(coop_a, lot="VT-2026-06-B")
    edit_batch(member_client, batch, lot_code="VT-2026-06-B", quantity="1200.5", notes="Đợt 1")
    run = minted_run(coop_a, product, None, count=10, token="words")
    stamp_ranges.activate_range(coop_a.id, run.id, 1, 5, batch.id, None, "Đóng thùng 1")
    stamp_ranges.void_range(coop_a.id, run.id, 6, 7, None, reason="In nhòe")
    stamp_ranges.void_run(coop_a.id, minted_run(coop_a, product, batch, count=3, token="words-2").id, "Sai khổ giấy", None)
    products.update_product(coop_a.id, product.id, {"name": "Vải thiều loại 1", "gtin": "8938505974194"}, None)
    batches.update_event(coop_a.id, batch.id, batch.events[0].id, {"kind": "fertilising", "phi_days": 0}, None)
    substance = db.session.scalar(select(BannedSubstance).order_by(BannedSubstance.id))
    compliance.add_trade_name(substance.id, "Thuốc Thử Nghiệm 50EC", "Quyết định thử nghiệm")
    stamp_code = codes.derive_code(minting.stamp_key(), run.id, 1)
    report = scans.report_fake(stamp_code, "Tem có vẻ bị in lại")
    report_inbox.move(report, db.session.scalar(select(User.id).where(User.login == "a@htx.vn")),
                      report_inbox.Move(ReportStatus.CHECKING))
    # Only this test's events: the trail outlives each test, and earlier tests (the API's fuzzing among them)
    # leave user text such as "7g.[/E" or "None" that is rightly shown as typed.
    real = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > start).order_by(AuditEvent.id)))
    assert len(real) >= 8

    for language in ("vi", "en"):
        with member_client.application.test_request_context("/"), force_locale(language):
            for line in audit_words.lines(_walked_events() + real):
                text = str(line.sentence)
                assert text and not raw_words(text), (line.event.entity, line.event.action, text)
                for change in line.changes:
                    change_text = f"{change.label} {change.before} {change.after}"
                    assert not raw_words(change_text), (line.event.entity, change_text)
            if language == "vi":
                shown_raw = [(line.event.entity, str(line.sentence)) for line in audit_words.lines(_walked_events() + real)
                             if CHOICES.search(str(line.sentence) + " ".join(f"{c.before} {c.after}" for c in line.changes))]
                assert not shown_raw, shown_raw[:5]
                assert not [str(label) for label in audit_words.FIELD_LABELS.values() if str(label) in ("kind", "status", "date")]
                mine = [str(line.sentence) for line in audit_words.lines(real)]
                assert f"{MEMBER} sửa lô VT-2026-06-B: số lượng (trống) → 1.200,5; ghi chú (trống) → Đợt 1" in mine, mine
                assert "Hệ thống thêm tên thương mại Thuốc Thử Nghiệm 50EC của hoạt chất cấm " + substance.name in mine, [s for s in mine if "thương mại" in s or "kiểm tra" in s]
                assert f"{MEMBER} chuyển một báo cáo nghi tem giả từ “Mới” sang “Đang kiểm tra”" in mine, mine
                assert any("loại công việc của nhật ký ngày 18/05/2026 của lô VT-2026-06-B: Phun thuốc → Bón phân" in s
                           or "nhật ký ngày 18/05/2026 của lô VT-2026-06-B: loại công việc Phun thuốc → Bón phân" in s for s in mine), mine


def test_every_word_of_the_mapping_has_its_vietnamese(app):
    words = [*audit_words.FIELD_LABELS.values(), *audit_words.FIELD_LABELS_OF.values(), *audit_words.ENTITY_LABELS.values(),
             *audit_words.ENUM_LABELS.values(), *audit_words.IMPORT_KINDS.values(), audit_words.EMPTY, audit_words.UNKNOWN,
             audit_words.OTHER_FIELD, audit_words.SOMEONE, audit_words.VISITOR]
    with app.test_request_context("/"), force_locale("vi"):
        untranslated = [w._args[0] for w in words if str(w) == w._args[0] and w._args[0] not in ("logo",)]
    assert untranslated == []


def _people(db, coop):
    lan = accounts.create_user(name="Chị Lan", login="lan@htx.vn", password=PASSWORD, role=Role.MEMBER, cooperative_id=coop.id)
    hung = accounts.create_user(name="Anh Hùng", login="hung@htx.vn", password=PASSWORD, role=Role.MEMBER, cooperative_id=coop.id)
    return lan, hung


def test_filters_by_person_object_and_days_return_exactly_the_right_rows(client, db, coop_a, start):
    lan, hung = _people(db, coop_a)
    _p, vai = product_with_batch(coop_a, "Vải thiều Lục Ngạn", "VT-LOC-1")
    _p, cam = product_with_batch(coop_a, "Cam lòng vàng", "CAM-LOC-2")
    batches.update_batch(coop_a.id, vai.id, {"lot_code": "VT-LOC-1", "notes": "Lan ghi"}, lan.id)
    sign_in(client, "lan@htx.vn")
    post_form(client, f"/coop/batches/{vai.id}/edit", {"lot_code": "VT-LOC-1", "harvest_date": "2026-06-11", "unit": "kg"})
    client.post("/sign-out", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)})
    sign_in(client, "hung@htx.vn")
    edited = post_form(client, f"/coop/batches/{cam.id}/edit", {"lot_code": "CAM-LOC-2", "harvest_date": "2026-06-12", "packing_date": "2026-06-13", "unit": "kg"})
    assert edited.status_code == 302, re.findall(r"class=\"error\">([^<]*)", edited.get_data(as_text=True))
    # Two events on either side of midnight in Vietnam (UTC+7): 16:59 UTC on 9 June is the 9th there, 17:00 the 10th.
    for at in (datetime(2026, 6, 9, 16, 59), datetime(2026, 6, 9, 17, 0)):
        db.session.add(AuditEvent(at=at, actor_id=hung.id, actor_name=hung.name, action="sign_in", entity="user",
                                  entity_id=hung.id, cooperative_id=coop_a.id, commune_code=coop_a.commune_code))
    db.session.commit()
    new = [e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.id > start).order_by(AuditEvent.id.desc()))]

    def ids(**args):
        answer = client.get("/coop/audit", query_string=args)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:3000]
        scope, where = audit.Scope(cooperative_id=coop_a.id), audit.Filter(
            actor_id=int(args["who"]) if "who" in args else None, entity=args.get("entity", ""), search=args.get("q", ""),
            first_day=date.fromisoformat(args["first_day"]) if "first_day" in args else None,
            last_day=date.fromisoformat(args["last_day"]) if "last_day" in args else None)
        found = [e.id for e in audit.page(scope, where).events if e.id > start]
        assert len(sentences(answer.get_data(as_text=True))) == min(50, audit.page(scope, where).total)
        return found

    by_lan = ids(who=str(lan.id))
    assert by_lan == [e.id for e in new if e.actor_id == lan.id] and len(by_lan) >= 3  # her edits and her sign-in
    assert ids(who=str(hung.id)) == [e.id for e in new if e.actor_id == hung.id]
    about_vai = ids(q="vt-loc")  # a lot code, any case: the lot, its diary entry, its product's certificate and photo
    assert about_vai and not any(e.id in about_vai and "CAM" in str(e.after) for e in new)
    lots_of_vai = {e.id for e in new if e.entity == "batch" and (e.entity_id or e.after["id"]) == vai.id}
    assert [e.action for e in new if e.id in lots_of_vai] == ["update", "update", "create"]  # its creation too
    assert lots_of_vai <= set(about_vai) and not {e.id for e in new if e.entity == "batch" and e.entity_id == cam.id} & set(about_vai)
    cam_product = db.session.get(Product, cam.product_id)
    of_cam = {("batch", cam.id), ("product", cam_product.id), *(("diary_event", d.id) for d in cam.events),
              *(("certification", c.id) for c in cam_product.certifications), *(("photo", p.id) for p in cam_product.photos)}
    assert ids(q="Cam lòng") == [e.id for e in new if (e.entity, e.entity_id or (e.after or {}).get("id")) in of_cam]
    assert len(ids(q="Cam lòng")) == 6  # the product, its photo and certificate, the lot made and changed, its diary entry
    assert ids(entity="batch") == [e.id for e in new if e.entity == "batch"]
    assert ids(entity="batch", q="VT-LOC-1") == sorted(lots_of_vai, reverse=True)
    ninth, tenth = [e.id for e in new if e.at == datetime(2026, 6, 9, 16, 59)], [e.id for e in new if e.at == datetime(2026, 6, 9, 17, 0)]
    assert ids(first_day="2026-06-09", last_day="2026-06-09") == ninth
    assert ids(first_day="2026-06-10", last_day="2026-06-10") == tenth
    assert ids(who=str(hung.id), last_day="2026-06-10") == tenth + ninth


def test_refused_filters_say_why_next_to_the_field_and_keep_the_others(member_client, db, coop_a, coop_b):
    answer = member_client.get("/coop/audit", query_string={"first_day": "31/02/2026", "q": "VT"})
    shown = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Nhập ngày, ví dụ 25/06/2026." in shown and 'value="VT"' in shown
    answer = member_client.get("/coop/audit", query_string={"first_day": "2026-06-10", "last_day": "2026-06-01"})
    assert answer.status_code == 422 and "Ngày kết thúc đang trước ngày bắt đầu." in answer.get_data(as_text=True)
    # Only the people of the reader's own trail are choices: a person of another cooperative is not offered, and
    # an id nobody in it has is refused.
    accounts.create_user(name="Người HTX khác", login="khac@htx.vn", password=PASSWORD, role=Role.MEMBER, cooperative_id=coop_b.id)
    shown = member_client.get("/coop/audit").get_data(as_text=True)
    assert "Người HTX khác" not in shown
    answer = member_client.get("/coop/audit", query_string={"who": "987654"})
    assert answer.status_code == 422 and "Lựa chọn không hợp lệ" in answer.get_data(as_text=True)


def test_page_two_of_120_events_has_50_rows_and_links_tall_enough_for_a_thumb(admin_client, db, coop_a, start):
    lan, _hung = _people(db, coop_a)
    for _ in range(120):
        audit.record("sign_in", entity="user", entity_id=lan.id, cooperative_id=coop_a.id, actor=lan)
    db.session.commit()
    mine = [e.id for e in db.session.scalars(select(AuditEvent).where(AuditEvent.id > start, AuditEvent.actor_id == lan.id).order_by(AuditEvent.id.desc()))]
    assert len(mine) == 120
    second = admin_client.get("/admin/audit", query_string={"who": lan.id, "page": 2}).get_data(as_text=True)
    assert sentences(second) == ["Chị Lan đăng nhập"] * 50
    shown = [int(i) for i in re.findall(r'<li class="audit-line" id="e(\d+)"', second)]
    assert shown == mine[50:100]
    assert 'aria-current="page">2<' in second and f"who={lan.id}" in re.search(r'<a href="([^"]+)" rel="next"', second).group(1)
    third = admin_client.get("/admin/audit", query_string={"who": lan.id, "page": 3}).get_data(as_text=True)
    assert len(sentences(third)) >= 20 and [int(i) for i in re.findall(r'id="e(\d+)"', third)][:20] == mine[100:]


def test_a_cooperative_sees_its_own_trail_only_and_the_csv_adds_the_sentence(member_client, db, coop_a, coop_b, start):
    _p, mine = product_with_batch(coop_a, lot="VT-CUA-TOI")
    _p, theirs = product_with_batch(coop_b, "Mật ong", "MO-CUA-HO")
    edit_batch(member_client, mine, notes="ghi chú mới")
    shown = member_client.get("/coop/audit").get_data(as_text=True)
    assert "VT-CUA-TOI" in shown and "MO-CUA-HO" not in shown
    rows = list(csv.DictReader(io.StringIO(member_client.get("/coop/audit.csv").get_data(as_text=True))))
    assert rows and list(rows[0]) == audit.CSV_HEADER and all(int(r["cooperative_id"]) == coop_a.id for r in rows)
    [row] = [r for r in rows if int(r["id"]) > start and r["action"] == "update" and r["entity"] == "batch"]
    assert row["sentence"] == f"{MEMBER} sửa ghi chú của lô VT-CUA-TOI: (trống) → ghi chú mới" and '"notes"' in row["after"]
    filtered = list(csv.DictReader(io.StringIO(member_client.get("/coop/audit.csv?entity=batch").get_data(as_text=True))))
    assert filtered and {r["entity"] for r in filtered} == {"batch"}
    assert member_client.get("/admin/audit").status_code == 403 and member_client.get("/commune/audit").status_code == 403
    assert not [r for r in rows if int(r["id"]) > start and r["entity_id"] == str(theirs.id) and r["entity"] == "batch"]


@pytest.mark.browser
@needs_chromium
def test_on_a_360_px_phone_the_trail_fits_and_its_page_links_take_a_thumb(live_server, page, db, coop_a, tmp_path):
    member = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    for _ in range(60):
        audit.record("sign_in", entity="user", entity_id=member.id, cooperative_id=coop_a.id, actor=member)
    db.session.commit()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/audit")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    links = page.locator(".pager a, .pager [aria-current]")
    assert links.count() >= 2
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
    page.locator(".pager a[rel=next]").click()
    assert "page=2" in page.url and page.locator(".audit-line").count() >= 10
    for field in ("#who", "#entity", "#q", "#first_day", "#last_day"):
        assert page.locator(field).bounding_box()["height"] >= 44
    page.screenshot(path=str(tmp_path / "audit-360.png"), full_page=True)


def test_an_id_another_cooperative_took_since_never_lends_its_name_to_an_old_event(member_client, db, coop_a, coop_b, start):
    """Ids can come back (SQLite gives the highest deleted id again): an event of cooperative A about its lot,
    whose id is now a lot of cooperative B, shows A's member nothing of B's."""
    _p, theirs = product_with_batch(coop_b, "Mật ong Phồn Nhi", "MO-CUA-HO")
    audit.record("update", entity="batch", entity_id=theirs.id, cooperative_id=coop_a.id,
                 before={"notes": "", "product_id": theirs.product_id}, after={"notes": "đã sửa", "product_id": theirs.product_id})
    db.session.commit()
    shown = member_client.get("/coop/audit").get_data(as_text=True)
    said = sentences(shown, start)
    assert said[0] == "Hệ thống sửa lô (đã xóa): ghi chú: (trống) → đã sửa; sản phẩm: (đã xóa) → (đã xóa)", said
    assert "MO-CUA-HO" not in shown and "Mật ong Phồn Nhi" not in shown
