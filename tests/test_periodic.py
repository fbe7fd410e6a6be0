"""Periodic jobs: expiry notices written once for the cooperative and the officers of its commune, the clean-ups
that no request does any more, and a real celery beat + worker that runs them on schedule."""
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.i18n import local_today
from app.models import IdempotencyKey, Notice, NoticeKind, PasswordReset, Role, User, UserSession, rate_limit_counters
from app.models.mixins import utcnow
from app.models.notice import NoticeRead
from app.services import accounts, expiry_notices, housekeeping, notices
from app.services.errors import NotFound
from app.storage import storage
from tests.conftest import LUC_NGAN, PASSWORD, post_form, sign_in
from tests.factories import certified_batch, product_with_batch

ROOT = Path(__file__).resolve().parent.parent


def _officer(login: str, commune: int = LUC_NGAN) -> User:
    return accounts.create_user(name=f"Cán bộ {login}", login=login, password=PASSWORD, role=Role.OFFICER,
                                commune_codes=[commune])


def _expiry_notices(db, **where) -> list[Notice]:
    return list(db.session.scalars(select(Notice).filter_by(**where)
                                   .where(Notice.kind.in_(notices.OFFICER_KINDS)).order_by(Notice.id)))


# Expiry notices -----------------------------------------------------------------------------------------

def test_expiry_job_writes_one_notice_per_item_and_date_and_never_twice(db, coop_a):
    officer = _officer("canbo@xa.vn")
    today = local_today()
    certified_batch(db, coop_a, officer.id, "Vải thiều", "VT-29", 29)
    certified_batch(db, coop_a, officer.id, "Nhãn lồng", "NL-31", 31)
    certified_batch(db, coop_a, officer.id, "Bưởi Diễn", "BD-HET", -1)

    assert expiry_notices.write_expiry_notices(today) == expiry_notices.Written(soon=3, expired=3)
    written = _expiry_notices(db)
    assert sorted((n.kind, n.params["item"], n.params["product"]) for n in written) == sorted(
        [(NoticeKind.EXPIRES_SOON, item, "Vải thiều") for item in ("ocop", "certification", "verification")]
        + [(NoticeKind.EXPIRED, item, "Bưởi Diễn") for item in ("ocop", "certification", "verification")])
    assert all(n.cooperative_id == coop_a.id for n in written)
    assert not any(n.params["product"] == "Nhãn lồng" for n in written)  # 31 days out: nothing yet

    assert expiry_notices.write_expiry_notices(today) == expiry_notices.Written(soon=0, expired=0)
    assert len(_expiry_notices(db)) == 6

    # A month on: the 29-day items have expired (one more notice each), the 31-day ones come within 30 days.
    later = today + timedelta(days=30)
    assert expiry_notices.write_expiry_notices(later) == expiry_notices.Written(soon=3, expired=3)
    assert expiry_notices.write_expiry_notices(later) == expiry_notices.Written(soon=0, expired=0)
    by_product = {}
    for n in _expiry_notices(db):
        by_product.setdefault(n.params["product"], []).append(n.kind)
    assert sorted(by_product["Vải thiều"]) == sorted([NoticeKind.EXPIRES_SOON] * 3 + [NoticeKind.EXPIRED] * 3)
    assert by_product["Nhãn lồng"] == [NoticeKind.EXPIRES_SOON] * 3
    assert by_product["Bưởi Diễn"] == [NoticeKind.EXPIRED] * 3  # its expired notices are not written again


def test_a_renewed_certificate_is_a_new_item_and_old_history_writes_nothing(db, coop_a):
    today = local_today()
    product, _batch = product_with_batch(coop_a, "Mật ong", "MO-1")
    product.ocop_expires_on = today + timedelta(days=10)
    db.session.commit()
    assert expiry_notices.write_expiry_notices(today).soon == 1
    product.ocop_expires_on = today + timedelta(days=20)  # renewed, but again within the window
    db.session.commit()
    assert expiry_notices.write_expiry_notices(today).soon == 1

    product.ocop_expires_on = today - timedelta(days=400)  # long expired before the job ever saw it
    db.session.commit()
    assert expiry_notices.write_expiry_notices(today) == expiry_notices.Written(soon=0, expired=0)


def test_the_notices_sentence_and_the_cooperatives_dashboard(db, member_client, coop_a):
    today = local_today()
    product, _batch = product_with_batch(coop_a, "Vải <b>thiều</b>", "VT-1")
    product.ocop_certificate_no, product.ocop_expires_on = "OCOP-9", today + timedelta(days=12)
    db.session.commit()
    expiry_notices.write_expiry_notices(today)
    page = member_client.get("/coop/").get_data(as_text=True)
    block = page.split('id="notices"')[1].split("</section>")[0]
    assert "Sắp hết hạn" in block and "Giấy chứng nhận OCOP số OCOP-9 của sản phẩm Vải &lt;b&gt;thiều&lt;/b&gt; sẽ hết hạn" in block
    assert f'href="/coop/products/{product.id}"' in block
    assert block.count("OCOP-9") == 1  # the notice tells it; the list worked out on reading does not repeat it
    notices.mark_all_read(coop_a.id)
    block = member_client.get("/coop/").get_data(as_text=True).split('id="notices"')[1].split("</section>")[0]
    assert block.count("OCOP-9") == 1  # read, the notice leaves the dashboard; the item is still due, so it shows


def test_the_officer_reads_his_communes_notices_for_himself_and_never_anothers(app, db, client, coop_a, coop_b):
    today = local_today()
    officer = _officer("canbo@xa.vn")
    colleague = _officer("canbo2@xa.vn")
    certified_batch(db, coop_a, officer.id, "Vải thiều", "VT-9", 9)
    honey, _ = product_with_batch(coop_b, "Mật ong Phồn Nhi", "MO-9")
    honey.ocop_certificate_no, honey.ocop_expires_on = "OCOP-ONG", today + timedelta(days=9)
    db.session.commit()
    expiry_notices.write_expiry_notices(today)
    theirs = _expiry_notices(db, cooperative_id=coop_b.id)[0]

    sign_in(client, "canbo@xa.vn")
    overview = client.get("/commune/").get_data(as_text=True)
    block = overview.split('id="commune-notices"')[1].split("</section>")[0]
    assert "HTX Vải thiều Lục Ngạn" in block and "OCOP-VT-9" in block and "VG-VT-9" in block
    assert "Mật ong Phồn Nhi" not in block and "OCOP-ONG" not in block
    assert notices.officer_unread_count(officer.id, [LUC_NGAN]) == 3
    assert overview.count("OCOP-VT-9") == 1  # told by its notice, not repeated by the list worked out on reading

    assert post_form(client, f"/commune/notices/{theirs.id}/read").status_code == 404  # another commune's
    mine = _expiry_notices(db, cooperative_id=coop_a.id)
    assert post_form(client, f"/commune/notices/{mine[0].id}/read").status_code == 302
    assert notices.officer_unread_count(officer.id, [LUC_NGAN]) == 2
    assert notices.officer_unread_count(colleague.id, [LUC_NGAN]) == 3  # read per officer
    db.session.expire_all()
    assert all(n.read_at is None for n in _expiry_notices(db))  # the cooperative's own copy stays unread

    assert post_form(client, "/commune/notices/read-all").status_code == 302
    assert notices.officer_unread_count(officer.id, [LUC_NGAN]) == 0
    assert "commune-notices" not in client.get("/commune/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NoticeRead).where(NoticeRead.user_id == officer.id)) == 3
    try:
        notices.officer_mark_read(colleague.id, [LUC_NGAN], theirs.id)
        raise AssertionError("an officer marked another commune's notice")
    except NotFound:
        pass


def test_other_notices_are_the_cooperatives_own(db, coop_a):
    officer = _officer("canbo@xa.vn")
    notices.post(coop_a.id, NoticeKind.FAKE_REPORTED)
    db.session.commit()
    assert notices.officer_unread(officer.id, [LUC_NGAN]) == []


# Clean-ups that requests no longer do -----------------------------------------------------------------------

def test_idle_sessions_are_purged_and_live_ones_kept(db, coop_a):
    member = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    idle = accounts.open_session(member, "Chrome")
    live = accounts.open_session(member, "Firefox")
    rows = {row.device: row for row in db.session.scalars(select(UserSession))}
    rows["Chrome"].last_seen_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert housekeeping.purge_idle_sessions() == 1
    assert accounts.session_user(member.id, live) is not None and accounts.session_user(member.id, idle) is None
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_expired_reset_links_are_purged(db, coop_a):
    member = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    admin = accounts.create_user(name="Quản trị", login="admin@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    accounts.create_reset_link(admin, member.id)
    assert housekeeping.purge_expired_reset_links() == 0
    assert housekeeping.purge_expired_reset_links(utcnow() + timedelta(hours=25)) == 1
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 0


def test_old_idempotency_keys_are_purged(db, coop_a):
    member = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    db.session.add_all([IdempotencyKey(user_id=member.id, key="old", request_hash="x", created_at=utcnow() - timedelta(hours=25)),
                        IdempotencyKey(user_id=member.id, key="new", request_hash="x")])
    db.session.commit()
    assert housekeeping.purge_idempotency_keys() == 1
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["new"]


def test_ended_rate_limit_windows_are_purged(app, db):
    from app.rate_limit_storage import DatabaseStorage

    storage = DatabaseStorage("db+" + app.config["SQLALCHEMY_DATABASE_URI"])
    storage.incr("ended", expiry=0.01)
    storage.incr("running", expiry=600)
    storage.engine.dispose()
    time.sleep(0.05)
    assert housekeeping.purge_rate_limit_counters() == 1
    assert db.session.scalars(select(rate_limit_counters.c.key)).all() == ["running"]


def test_waiting_uploads_older_than_a_day_are_removed(app, coop_a):
    """No upload cleans the store any more; the periodic job removes what was never committed."""
    store = storage()
    old, fresh = f"imports/{coop_a.id}-diary-{'a' * 32}.xlsx", f"imports/{coop_a.id}-diary-{'b' * 32}.csv"
    assert housekeeping.remove_stale_imports() == 0  # nothing waiting yet
    store.put_bytes(old, b"old", "text/csv")
    store.put_bytes(fresh, b"fresh", "text/csv")
    store.put_bytes("runs/run-1.pdf", b"%PDF", "application/pdf")
    assert housekeeping.remove_stale_imports(time.time() + 3600) == 0
    assert housekeeping.remove_stale_imports(time.time() + 25 * 3600) == 2
    assert not store.exists(old) and not store.exists(fresh) and store.exists("runs/run-1.pdf")


# The schedule, run by a real celery beat and worker --------------------------------------------------------

def test_the_schedule_names_every_job_and_beat_keeps_its_file_in_the_instance(app):
    settings = app.config["CELERY"]
    tasks = {entry["task"] for entry in settings["beat_schedule"].values()}
    assert tasks == {"app.jobs.periodic.expiry_notices", "app.jobs.tasks.requeue_stale_runs",
                     "app.jobs.periodic.purge_idle_sessions", "app.jobs.periodic.purge_expired_reset_links",
                     "app.jobs.periodic.purge_idempotency_keys", "app.jobs.periodic.purge_rate_limit_counters",
                     "app.jobs.periodic.remove_stale_imports"}
    assert settings["beat_schedule"]["requeue-stale-runs"]["schedule"] == 30.0
    assert Path(settings["beat_schedule_filename"]).parent == Path(app.instance_path)
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    assert {t for t in tasks if t.startswith("app.jobs.periodic.")} <= set(celery.tasks)


def test_celery_beat_and_a_worker_write_the_notice(app, db, coop_a, tmp_path):
    today = local_today()
    product, _ = product_with_batch(coop_a, "Vải thiều", "VT-BEAT")
    product.ocop_certificate_no, product.ocop_expires_on = "OCOP-BEAT", today + timedelta(days=5)
    db.session.commit()
    instance = tmp_path / "worker-instance"
    instance.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "FLASK_APP")},
           "APP_CONFIG": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "INSTANCE_PATH": str(instance), "SECRET_KEY": secrets.token_hex(32), "STAMP_KEY": "test-stamp-key",
           "CELERY_BROKER_URL": app.config["CELERY"]["broker_url"], "EXPIRY_NOTICE_EVERY": "1"}
    celery = Path(sys.executable).with_name("celery")
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([str(celery), "-A", "app.jobs.worker", "worker", "-B", "--pool", "solo",
                                   "--concurrency", "1", "--loglevel", "INFO"],
                                  env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        found = []
        while not found and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(1)
            found = _expiry_notices(db, cooperative_id=coop_a.id)
            db.session.commit()  # on SQLite a read holds the write lock (BEGIN IMMEDIATE) until it ends
        assert found, log.read_text(errors="replace")[-3000:]
        assert [(n.kind, n.params["number"]) for n in found] == [(NoticeKind.EXPIRES_SOON, "OCOP-BEAT")]
        assert list(instance.glob("celerybeat-schedule*")), "beat keeps its schedule in the instance directory"
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert len(_expiry_notices(db, cooperative_id=coop_a.id)) == 1  # every second, and still written once
