"""Notices to a cooperative: posted in the transaction of the change that causes them, worded when read in the
reader's language, with whatever a person typed shown as text."""
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import select

from app.models import Notice, NoticeKind
from app.services import notices
from app.services.errors import NotFound
from tests.factories import product_with_batch


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
