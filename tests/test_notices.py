"""Notices to a cooperative: posted in the transaction of the change that causes them, worded when read in the
reader's language, with whatever a person typed shown as text."""
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import select

from app.models import Notice, NoticeKind
from app.services import notices
from app.services.errors import NotFound
from tests.factories import certified_batch, product_with_batch


def test_post_adds_the_notice_without_committing(db, coop_a):
    _product, batch = product_with_batch(coop_a)
    notices.post(coop_a.id, NoticeKind.BATCH_BLOCKED_BY_BANNED_LIST, batch_id=batch.id,
                 params={"substance": "Carbofuran", "stamps": "12"})
    db.session.rollback()  # the caller's change failed: its notice goes with it
    assert db.session.scalars(select(Notice)).all() == []

    notice = notices.post(coop_a.id, NoticeKind.BATCH_BLOCKED_BY_BANNED_LIST, batch_id=batch.id,
                          params={"substance": "Carbofuran <b>", "stamps": "12"})
    db.session.commit()
    assert notice.params == {"substance": "Carbofuran <b>", "stamps": "12", "lot": "VT-2026-06-A"}
    with force_locale("vi"):
        text = str(notices.sentence(notice))
    assert text == ("Lô hàng VT-2026-06-A bị chặn: nhật ký của lô ghi Carbofuran <b>, chất nay đã bị cấm. "
                    "12 tem của lô đang lưu hành.")
    assert "<b>" not in str(escape(notices.sentence(notice)))  # markup typed by someone is shown as text


def test_marking_read_is_per_cooperative(db, coop_a, coop_b):
    mine = notices.post(coop_a.id, NoticeKind.FAKE_REPORTED)
    theirs = notices.post(coop_b.id, NoticeKind.FAKE_REPORTED)
    db.session.commit()
    assert notices.counts(coop_a.id) == notices.Counts(unread=1, total=1)
    try:
        notices.mark_read(coop_a.id, theirs.id)
        raise AssertionError("another cooperative's notice was marked read")
    except NotFound:
        pass
    notices.mark_read(coop_a.id, mine.id)
    assert notices.counts(coop_a.id) == notices.Counts(unread=0, total=1)
    assert notices.counts(coop_b.id) == notices.Counts(unread=1, total=1)
    assert notices.mark_all_read(coop_b.id) == 1
    assert notices.unread(coop_b.id) == []


# Through the real views: an officer decides, the cooperative reads its dashboard -------------------------

HOSTILE = 'Sai nguồn gốc <script>alert("x")</script>'


def _clients(app, coop_a):
    """The cooperative's member and the commune's officer, each on a browser of their own."""
    from app.models import Role
    from app.services import accounts
    from tests.conftest import PASSWORD, sign_in

    accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER,
                         commune_codes=[coop_a.commune_code])
    member, officer = app.test_client(), app.test_client()
    sign_in(member, "a@htx.vn")
    sign_in(officer, "canbo@xa.vn")
    return member, officer


DECISIONS = {
    "verify": ({"valid_until": ""},
               "Xã đã xác minh lô hàng VT-2026-06-A: trang quét tem của lô đã hiện dấu “Đã xác minh”.",
               "The commune verified batch VT-2026-06-A: its scan page shows the verified badge."),
    "reject": ({"reason": HOSTILE},
               "Xã đã từ chối lô hàng VT-2026-06-A. Lý do: “Sai nguồn gốc &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;”.",
               "The commune rejected batch VT-2026-06-A. Reason: “Sai nguồn gốc &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;”."),
    "recall": ({"reason": HOSTILE},
               "Xã đã thu hồi lô hàng VT-2026-06-A. Lý do: “Sai nguồn gốc &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;”.",
               "The commune recalled batch VT-2026-06-A. Reason: “Sai nguồn gốc &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;”."),
}


import pytest  # noqa: E402

from tests.conftest import post_form  # noqa: E402


@pytest.mark.parametrize("action", DECISIONS)
def test_an_officers_decision_shows_on_the_cooperatives_dashboard_in_its_language(app, db, coop_a, action):
    member, officer = _clients(app, coop_a)
    _product, batch = product_with_batch(coop_a)
    form, vietnamese, english = DECISIONS[action]
    assert "VT-2026-06-A:" not in member.get("/coop/").get_data(as_text=True)

    assert post_form(officer, f"/commune/listings/{batch.id}/{action}", form).status_code == 302

    page = member.get("/coop/").get_data(as_text=True)
    assert vietnamese in page
    assert "<script>" not in page.split('id="notices"')[1].split("</section>")[0]
    assert f'href="/coop/batches/{batch.id}"' in page
    post_form(member, "/language", {"lang": "en", "next": "/coop/"})
    assert english in member.get("/coop/").get_data(as_text=True)

    notice = db.session.scalars(select(Notice)).one()
    response = post_form(member, f"/coop/notices/{notice.id}/read", {"back": "dashboard"})
    assert response.status_code == 302 and response.headers["Location"] == "/coop/"
    assert english not in member.get("/coop/").get_data(as_text=True)
    assert english in member.get("/coop/notices").get_data(as_text=True)  # read, still listed


def test_another_cooperatives_notice_cannot_be_marked_read(app, db, coop_a, coop_b, member_client):
    theirs = notices.post(coop_b.id, NoticeKind.BATCH_RECALLED, params={"reason": "Sai"})
    db.session.commit()
    assert post_form(member_client, f"/coop/notices/{theirs.id}/read").status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None
    assert "Sai" not in member_client.get("/coop/notices").get_data(as_text=True)


def test_the_notices_page_shows_fifty_a_page_unread_first(app, db, coop_a, member_client):
    for n in range(51):
        notices.post(coop_a.id, NoticeKind.BATCH_RECALLED, params={"reason": f"lý do số {n}", "lot": "L"})
    db.session.commit()
    notices.mark_read(coop_a.id, db.session.scalars(select(Notice.id).order_by(Notice.id.desc())).first())
    first = member_client.get("/coop/notices").get_data(as_text=True)
    second = member_client.get("/coop/notices?page=2").get_data(as_text=True)
    assert first.count('class="notice ') == 50 and second.count('class="notice ') == 1
    assert "lý do số 50" in second  # the newest, read, comes after every unread one
    assert "lý do số 49" in first and "lý do số 0" in first


# Expiring soon: worked out on each read, never stored ---------------------------------------------------

def _dump(db, table):
    from sqlalchemy import text

    return db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()


def test_certificates_and_verifications_expiring_within_30_days_or_expired_show_and_reading_writes_nothing(app, db, coop_a):
    from datetime import timedelta

    from app.i18n import format_day_in, local_today
    from app.models import User

    member, officer = _clients(app, coop_a)
    officer_id = db.session.scalars(select(User.id).where(User.login == "canbo@xa.vn")).one()
    today = local_today()
    certified_batch(db, coop_a, officer_id, "Vải thiều <b>Lục Ngạn</b>", "VT-29", 29)
    certified_batch(db, coop_a, officer_id, "Nhãn lồng", "NL-31", 31)
    certified_batch(db, coop_a, officer_id, "Bưởi Diễn", "BD-HET", -1)
    in_29, gone = format_day_in(today + timedelta(days=29), "vi"), format_day_in(today - timedelta(days=1), "vi")
    for notice in db.session.scalars(select(Notice)):  # the verifications' notices are not what this test reads
        notice.read_at = notice.created_at
    db.session.commit()
    before = (_dump(db, "notices"), _dump(db, "audit_events"), _dump(db, "verifications"))

    page = member.get("/coop/").get_data(as_text=True)
    block = page.split('id="notices"')[1].split("</section>")[0]
    assert ("Giấy chứng nhận OCOP số OCOP-VT-29 của sản phẩm Vải thiều &lt;b&gt;Lục Ngạn&lt;/b&gt; sẽ hết hạn vào ngày "
            f"{in_29}.") in block
    assert f"Giấy chứng nhận VietGAP số VG-VT-29 của sản phẩm Vải thiều &lt;b&gt;Lục Ngạn&lt;/b&gt; sẽ hết hạn vào ngày {in_29}." in block
    assert f"Kết quả xác minh của xã cho lô hàng VT-29 (Vải thiều &lt;b&gt;Lục Ngạn&lt;/b&gt;) sẽ hết hạn vào ngày {in_29}." in block
    assert f"Giấy chứng nhận OCOP số OCOP-BD-HET của sản phẩm Bưởi Diễn đã hết hạn từ ngày {gone}." in block
    assert f"Giấy chứng nhận VietGAP số VG-BD-HET của sản phẩm Bưởi Diễn đã hết hạn từ ngày {gone}." in block
    assert f"Kết quả xác minh của xã cho lô hàng BD-HET (Bưởi Diễn) đã hết hạn từ ngày {gone}." in block
    assert "NL-31" not in block and "Nhãn lồng" not in block
    assert block.index("BD-HET") < block.index("VT-29")  # the longest expired first

    overview = officer.get("/commune/").get_data(as_text=True)
    assert f"Kết quả xác minh của xã cho lô hàng VT-29 (Vải thiều &lt;b&gt;Lục Ngạn&lt;/b&gt;) sẽ hết hạn vào ngày {in_29}." in overview
    assert "OCOP-BD-HET" in overview and "NL-31" not in overview

    assert (_dump(db, "notices"), _dump(db, "audit_events"), _dump(db, "verifications")) == before
