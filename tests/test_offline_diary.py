"""The phone diary: the service's one-entry-per-client-id rule, its JSON endpoints, the web app's manifest and
service worker, and (in Chromium, with the network switched off) entries written offline that reach the
server once each, photos made small on the phone."""
import io
import os
import json
import re
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text

from app.models import BatchStatus, DiaryEvent, User
from app.services import diary_sync
from app.services.errors import NotFound, RuleViolation
from tests.browser import PHONE_VIEW, browser, live_server, needs_chromium, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.factories import jpeg_bytes, product_with_batch

SPRAY = {"event_date": date(2026, 6, 1), "kind": "spraying", "input_used": "Abamectin 3.6EC", "dose": "10 ml/bình", "phi_days": 7}


def member_id(login: str) -> int:
    from app.extensions import db

    return db.session.scalar(select(User.id).where(User.login == login))


def entries_with(db, client_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(DiaryEvent).where(DiaryEvent.client_id == client_id))


# ---- the rule, in the service ----

def test_the_same_client_id_sent_twice_is_one_entry(db, coop_a):
    _, batch = product_with_batch(coop_a)
    client_id = str(uuid.uuid4())
    first = diary_sync.add_sent_entry(coop_a.id, batch.id, client_id, SPRAY, member_id("a@htx.vn"))
    again = diary_sync.add_sent_entry(coop_a.id, batch.id, client_id.upper(), SPRAY, member_id("a@htx.vn"))
    assert first.created and not again.created
    assert again.event.id == first.event.id
    assert entries_with(db, client_id) == 1


def test_another_cooperatives_client_id_is_refused_like_a_malformed_one(db, coop_a, coop_b):
    _, batch_a = product_with_batch(coop_a)
    _, batch_b = product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    client_id = str(uuid.uuid4())
    diary_sync.add_sent_entry(coop_b.id, batch_b.id, client_id, SPRAY, member_id("b@htx.vn"))
    with pytest.raises(RuleViolation) as theirs:
        diary_sync.add_sent_entry(coop_a.id, batch_a.id, client_id, SPRAY, member_id("a@htx.vn"))
    with pytest.raises(RuleViolation) as malformed:
        diary_sync.add_sent_entry(coop_a.id, batch_a.id, "not-a-uuid", SPRAY, member_id("a@htx.vn"))
    assert (theirs.value.field, str(theirs.value.message)) == (malformed.value.field, str(malformed.value.message)) == ("client_id", str(diary_sync.UNUSABLE_ID))
    assert entries_with(db, client_id) == 1
    assert db.session.scalar(select(DiaryEvent.batch_id).where(DiaryEvent.client_id == client_id)) == batch_b.id


def test_a_recalled_batch_takes_no_phone_entry(db, coop_a):
    _, batch = product_with_batch(coop_a)
    batch.status = BatchStatus.RECALLED
    db.session.commit()
    client_id = str(uuid.uuid4())
    with pytest.raises(RuleViolation) as refused:
        diary_sync.add_sent_entry(coop_a.id, batch.id, client_id, SPRAY, member_id("a@htx.vn"))
    assert refused.value.field == "batch"
    assert entries_with(db, client_id) == 0


def test_another_cooperatives_batch_is_not_found(db, coop_a, coop_b):
    _, batch_b = product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    with pytest.raises(NotFound):
        diary_sync.add_sent_entry(coop_a.id, batch_b.id, str(uuid.uuid4()), SPRAY, member_id("a@htx.vn"))


def test_a_phone_entry_fills_what_its_kind_asks_for(db, coop_a):
    _, batch = product_with_batch(coop_a)
    with pytest.raises(RuleViolation) as refused:
        diary_sync.add_sent_entry(coop_a.id, batch.id, str(uuid.uuid4()), {"event_date": date(2026, 6, 1), "kind": "harvest"}, member_id("a@htx.vn"))
    assert refused.value.field == "quantity"


# ---- the endpoints ----

def send(client, batch_id, client_id, token, **fields):
    data = {"batch_id": str(batch_id), "client_id": client_id, "event_date": "2026-06-02", "kind": "spraying",
            "input_used": "Abamectin 3.6EC", "dose": "10 ml/bình", "phi_days": "7", **fields}
    return client.post("/coop/diary/entries", data=data, headers={"X-CSRFToken": token, "Accept": "application/json"})


def test_a_retried_send_answers_the_saved_entry(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    token = member_client.get("/coop/diary/data.json").get_json()["csrf_token"]
    client_id = str(uuid.uuid4())
    first = send(member_client, batch.id, client_id, token, photo=(io.BytesIO(jpeg_bytes()), "photo.jpg"))
    again = send(member_client, batch.id, client_id, token, photo=(io.BytesIO(jpeg_bytes()), "photo.jpg"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["has_photo"]
    assert entries_with(db, client_id) == 1


def test_another_cooperatives_client_id_learns_nothing_through_the_endpoint(client, db, coop_a, coop_b):
    _, batch_a = product_with_batch(coop_a)
    _, batch_b = product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    theirs = str(uuid.uuid4())
    diary_sync.add_sent_entry(coop_b.id, batch_b.id, theirs, {**SPRAY, "description": "Bí mật của HTX B"}, member_id("b@htx.vn"))
    sign_in(client, "a@htx.vn")
    token = client.get("/coop/diary/data.json").get_json()["csrf_token"]
    refused = send(client, batch_a.id, theirs, token)
    malformed = send(client, batch_a.id, "xyz", token)
    assert refused.status_code == malformed.status_code == 422
    assert refused.get_json() == malformed.get_json()
    assert refused.get_json()["field"] == "client_id"
    assert str(batch_b.id) not in refused.get_data(as_text=True) and "HTX B" not in refused.get_data(as_text=True)


def test_recalled_and_deleted_batches_answer_a_vietnamese_conflict(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    batch.status = BatchStatus.RECALLED
    db.session.commit()
    token = member_client.get("/coop/diary/data.json").get_json()["csrf_token"]
    recalled = send(member_client, batch.id, str(uuid.uuid4()), token)
    gone = send(member_client, 999_999, str(uuid.uuid4()), token)
    assert recalled.status_code == 422 and "đã bị thu hồi" in recalled.get_json()["message"]
    assert gone.status_code == 404 and "không còn nữa" in gone.get_json()["message"]


def test_a_refused_value_names_its_field_in_vietnamese(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    token = member_client.get("/coop/diary/data.json").get_json()["csrf_token"]
    client_id = str(uuid.uuid4())
    bad_interval = send(member_client, batch.id, client_id, token, phi_days="bảy")
    no_input = send(member_client, batch.id, client_id, token, input_used="")
    assert bad_interval.status_code == no_input.status_code == 422
    assert bad_interval.get_json()["field"] == "phi_days"
    assert no_input.get_json() == {"field": "input_used", "message": "Vui lòng điền mục này."}
    assert entries_with(db, client_id) == 0


def test_a_send_without_the_csrf_token_is_refused(member_client, db, coop_a):
    _, batch = product_with_batch(coop_a)
    client_id = str(uuid.uuid4())
    assert send(member_client, batch.id, client_id, "wrong").status_code == 400
    assert entries_with(db, client_id) == 0


def test_the_data_lists_only_the_cooperatives_open_batches(member_client, db, coop_a, coop_b):
    _, open_batch = product_with_batch(coop_a)
    _, recalled = product_with_batch(coop_a, name="Cam", lot="CAM-1")
    product_with_batch(coop_b, name="Mật ong", lot="MO-1")
    recalled.status = BatchStatus.RECALLED
    db.session.commit()
    answer = member_client.get("/coop/diary/data.json")
    data = answer.get_json()
    assert [b["id"] for b in data["batches"]] == [open_batch.id]
    assert data["batches"][0]["recent"][0]["input_used"] == "Abamectin 3.6EC"
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_diary_screen_carries_the_kinds_field_rules(member_client, coop_a):
    page = member_client.get("/coop/diary").get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="diary-config">(.*?)</script>', page, re.S).group(1))
    assert config["rules"]["kinds"]["spraying"]["fields"][-2:] == ["dose", "phi_days"]
    assert config["rules"]["kinds"]["harvest"]["required"] == ["quantity"]
    assert 'rel="manifest"' in page and "Nhật ký" in page


def test_the_manifest_and_the_service_worker_are_served_at_the_root(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    document = manifest.get_json(force=True)
    assert (document["start_url"], document["display"], document["lang"], document["scope"]) == ("/coop/diary", "standalone", "vi", "/")
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in document["icons"]}
    assert any(icon["purpose"] == "maskable" for icon in document["icons"])
    for icon in document["icons"]:
        assert client.get(icon["src"]).status_code == 200
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and "no-cache" in worker.headers["Cache-Control"]
    shell = json.loads(re.search(r"const SHELL_URLS = (.*);", worker.get_data(as_text=True)).group(1))
    assert shell[0] == "/coop/diary" and "/static/diary.js" in shell and "/static/photo_resize.js" in shell


def test_signing_out_wipes_the_sites_storage_on_the_phone(member_client):
    answer = member_client.post("/sign-out", data={"csrf_token": csrf_token(member_client, "/coop/")})
    assert answer.status_code == 302
    assert answer.headers["Clear-Site-Data"] == '"storage"'
    assert "Clear-Site-Data" not in member_client.get("/").headers


# ---- in Chromium, with the network switched off ----

PHONE = {**PHONE_VIEW, "locale": "vi-VN"}
SENT_LIMIT = 400 * 1024  # what the phone may send for one entry with its photo
SCREENSHOTS = os.environ.get("DIARY_SCREENSHOTS")


def camera_photo(path, seed: int) -> int:
    """A 12-megapixel JPEG as a phone camera writes it (soft shapes and sensor grain, quality 95): about 5 MB."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    shapes = Image.frombytes("RGB", (40, 30), rng.randbytes(40 * 30 * 3)).resize((4000, 3000), Image.BICUBIC)
    grain = Image.frombytes("L", (4000, 3000), rng.randbytes(4000 * 3000)).convert("RGB")
    Image.blend(shapes, grain, 0.08).save(path, "JPEG", quality=95)
    return path.stat().st_size


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def open_diary_online(page, base: str) -> None:
    """Open the screen once with the network, and wait until the service worker keeps its copy and the
    batches are on the phone."""
    page.goto(f"{base}/coop/diary")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => caches.keys()).then((k) => k.length > 0)")
    page.wait_for_function("() => document.querySelectorAll('#diary-batch option').length > 0")


def add_entry(page, kind: str, fields: dict, photo=None, batch_label: str | None = None) -> None:
    if batch_label:
        page.select_option("#diary-batch", label=batch_label)
    page.select_option("#diary-kind", kind)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    if photo:
        page.set_input_files("#diary-photo", str(photo))
    before = page.locator("#diary-outbox li.diary-entry").count()
    page.get_by_role("button", name="Lưu mục").click()
    page.wait_for_function(f"() => document.querySelectorAll('#diary-outbox li.diary-entry').length > {before}")


def uploads_received(app, path: str) -> list[int]:
    """The body size (Content-Length) of every POST to path, as the server receives it from now on: what the
    phone sent, before the server rebuilds the photo. (Chromium's tools do not show a body holding a Blob.)"""
    sizes = []
    inner = app.wsgi_app

    def observed(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == path:
            sizes.append(int(environ.get("CONTENT_LENGTH") or 0))
        return inner(environ, start_response)

    app.wsgi_app = observed
    return sizes


def sign_out(page) -> None:
    menu = page.locator("header summary")  # a phone's header folds its links into a menu
    if menu.count() and menu.first.is_visible() and not page.get_by_role("button", name=re.compile("Đăng xuất")).is_visible():
        menu.first.click()
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()


def stored(database_url: str, sql: str, **params) -> list:
    """Rows read through a connection of the test's own, as any other program would read the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


@pytest.mark.browser
@needs_chromium
def test_three_entries_written_offline_reach_the_timeline_once_each(app, live_server, browser, db, coop_a, database_url, tmp_path):
    _, batch = product_with_batch(coop_a)
    batch_id = batch.id
    db.session.commit()  # the test holds no transaction while the server writes
    photos = [tmp_path / f"camera-{n}.jpg" for n in range(3)]
    assert all(camera_photo(path, n) > 4_000_000 for n, path in enumerate(photos))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    open_diary_online(page, live_server)
    shot(page, "diary-online")

    context.set_offline(True)
    add_entry(page, "spraying", {"Vật tư sử dụng (phân bón, thuốc BVTV…)": "Abamectin 3.6EC", "Liều lượng": "10 ml/bình 16 lít", "Thời gian cách ly (ngày)": "7"}, photos[0])
    add_entry(page, "fertilising", {"Vật tư sử dụng (phân bón, thuốc BVTV…)": "Phân NPK 16-16-8", "Liều lượng": "2 kg/gốc"}, photos[1])
    page.get_by_role("button", name="Chép lại mục trước").click()
    assert page.get_by_label("Vật tư sử dụng (phân bón, thuốc BVTV…)", exact=True).input_value() == "Phân NPK 16-16-8"
    add_entry(page, "harvest", {"Sản lượng thu hoạch (kg)": "1250,5"}, photos[2])
    assert page.locator("#diary-waiting").inner_text() == "Đang chờ gửi: 3"
    assert page.locator("#diary-network").is_visible()
    shot(page, "diary-offline-3-waiting")
    page.close()

    sent = uploads_received(app, "/coop/diary/entries")
    page = context.new_page()
    page.set_default_timeout(20_000)
    # Still offline: the diary screen opens from the service worker's copy; no other page was kept.
    from playwright.sync_api import Error as BrowserError

    for elsewhere in ("/coop/", f"/coop/batches/{batch_id}", "/Q/7KQ4M2XD9PTA3HVBF"):
        other = context.new_page()
        with pytest.raises(BrowserError, match="ERR_INTERNET_DISCONNECTED"):
            other.goto(live_server + elsewhere)
        other.close()
    assert page.goto(f"{live_server}/coop/diary").from_service_worker
    page.wait_for_function("() => document.getElementById('diary-waiting').textContent === 'Đang chờ gửi: 3'")
    assert stored(database_url, "SELECT count(*) FROM diary_events WHERE client_id IS NOT NULL")[0][0] == 0

    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('diary-waiting').textContent === 'Đã gửi hết.'", timeout=60_000)
    assert page.locator("#diary-outbox .diary-sent").count() == 3
    rows = stored(database_url, "SELECT client_id, kind, input_used, quantity, photo FROM diary_events WHERE batch_id = :b AND client_id IS NOT NULL", b=batch_id)
    assert len(rows) == 3 and len({row.client_id for row in rows}) == 3
    assert {row.kind.lower() for row in rows} == {"spraying", "fertilising", "harvest"}
    assert all(row.photo for row in rows)
    assert [float(row.quantity) for row in rows if row.kind.lower() == "harvest"] == [1250.5]
    assert len(sent) == 3 and all(50_000 < size < SENT_LIMIT for size in sent), sent
    print("bytes sent per entry with its photo:", sent)

    kept = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        }
        return urls.sort();
    }""")
    shell = json.loads(re.search(r"const SHELL_URLS = (.*);", page.request.get(f"{live_server}/sw.js").text()).group(1))
    assert kept == sorted(shell)  # the shell only: no answer with the cooperative's data

    page.goto(f"{live_server}/coop/batches/{batch_id}")
    timeline = page.locator("main").inner_text()
    assert timeline.count("Phân NPK 16-16-8") == 1 and timeline.count("10 ml/bình 16 lít") == 1

    # Signing out leaves nothing of the account on the phone for the next person.
    page.goto(f"{live_server}/coop/diary")
    page.wait_for_function("() => document.getElementById('diary-waiting').textContent === 'Đã gửi hết.'")
    sign_out(page)
    page.wait_for_url(f"{live_server}/")
    left = page.evaluate("""async () => ({
        caches: await caches.keys(),
        databases: (await indexedDB.databases()).map((d) => d.name),
        workers: (await navigator.serviceWorker.getRegistrations()).length,
    })""")
    assert left == {"caches": [], "databases": [], "workers": 0}
    context.close()


@pytest.mark.browser
@needs_chromium
def test_an_entry_for_a_recalled_batch_stays_on_the_phone_until_moved(live_server, browser, db, coop_a, database_url):
    _, lychee = product_with_batch(coop_a)
    _, honey = product_with_batch(coop_a, name="Mật ong", lot="MO-2026-06")
    lychee_id, honey_id = lychee.id, honey.id
    db.session.commit()  # the test holds no transaction while the server writes
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    open_diary_online(page, live_server)

    context.set_offline(True)
    add_entry(page, "other", {"Nội dung công việc": "Tỉa cành sau mưa"}, batch_label="VT-2026-06-A · Vải thiều Lục Ngạn")
    # Meanwhile the batch is recalled, and the session ends on the server.
    stored_recall = "UPDATE batches SET status = 'RECALLED' WHERE id = :b"
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(stored_recall), {"b": lychee_id})
        connection.execute(text("DELETE FROM user_sessions"))
    engine.dispose()

    context.set_offline(False)
    page.get_by_role("button", name="Gửi ngay").click()
    sign_in_again = page.get_by_role("link", name="Đăng nhập lại")
    sign_in_again.wait_for()
    assert page.locator("#diary-waiting").inner_text() == "Đang chờ gửi: 1"
    sign_in_again.click()
    page.get_by_label("Email hoặc số điện thoại").fill("a@htx.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server}/coop/diary")

    conflict = page.locator("#diary-outbox .diary-conflict")
    conflict.wait_for()
    assert "Lô này đã bị thu hồi" in conflict.inner_text() and "Tỉa cành sau mưa" in conflict.inner_text()
    assert page.locator("#diary-waiting").inner_text() == "Cần sửa: 1"
    page.reload()
    page.locator("#diary-outbox .diary-conflict").wait_for()  # kept on the phone
    shot(page, "diary-conflict")

    # Signing out, from any page, would wipe it: the phone asks first, and "no" keeps everything.
    page.goto(f"{live_server}/coop/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    sign_out(page)
    page.wait_for_timeout(500)
    assert asked == ["Còn 1 mục chưa gửi. Đăng xuất sẽ xoá các mục này khỏi điện thoại. Vẫn đăng xuất?"]
    assert page.url == f"{live_server}/coop/"
    page.goto(f"{live_server}/coop/diary")
    page.locator("#diary-outbox .diary-conflict").wait_for()

    page.locator("#diary-outbox .diary-conflict").get_by_role("button", name="Sửa").click()
    page.select_option("#diary-batch", label="MO-2026-06 · Mật ong")
    page.get_by_role("button", name="Lưu mục").click()
    page.wait_for_function("() => document.getElementById('diary-waiting').textContent === 'Đã gửi hết.'")
    rows = stored(database_url, "SELECT batch_id, description FROM diary_events WHERE client_id IS NOT NULL")
    assert [(row.batch_id, row.description) for row in rows] == [(honey_id, "Tỉa cành sau mưa")]
    context.close()
