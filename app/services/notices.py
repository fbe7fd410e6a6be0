"""Notices to a cooperative, and the sentences that word them.

A notice is posted by the service whose change causes it, inside that service's transaction: `post` adds the
row and never commits, so the notice exists exactly when the change does. A notice keeps its kind and
parameters; `sentence` words it when it is read, in the reader's language, with every parameter (a reason an
officer typed, a substance's name) shown as text.
"""
from dataclasses import dataclass
from datetime import date
from math import ceil

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Batch, Cooperative
from app.models.mixins import utcnow
from app.models.notice import Notice, NoticeKind, NoticeRead
from app.services.errors import LazyText, NotFound, lazy_text
from app.services.expiring import ExpiringKind, expiry_sentence

PAGE_SIZE = 50
DASHBOARD_SHOWN = 10  # unread notices on the dashboard; the rest are on the notices page


def post(cooperative_id: int, kind: NoticeKind, *, batch_id: int | None = None,
         params: dict[str, str] | None = None, dedup_key: str | None = None) -> Notice:
    """Add a notice to the session without committing: the caller commits it with the change that caused it.

    The batch's lot code is kept in the parameters as it is now, so the sentence still names the batch if the
    batch is later deleted. A job gives a dedup_key (unique in the table) so that it never writes the same notice twice."""
    values = {key: str(value) for key, value in (params or {}).items()}
    if batch_id is not None and "lot" not in values:
        lot_code = db.session.scalar(select(Batch.lot_code).where(Batch.id == batch_id))
        values["lot"] = lot_code or ""
    notice = Notice(cooperative_id=cooperative_id, kind=NoticeKind(kind), batch_id=batch_id, params=values,
                    dedup_key=dedup_key)
    db.session.add(notice)
    return notice


# Wording ------------------------------------------------------------------------------------------------

def sentence(notice: Notice) -> LazyText:
    """The notice as one sentence, translated when shown; its parameters are always text, never markup."""
    p = {key: str(value) for key, value in (notice.params or {}).items()}
    lot = p.get("lot", "")
    match notice.kind:
        case NoticeKind.LISTING_VERIFIED:
            return lazy_text("The commune verified batch %(lot)s: its scan page shows the verified badge.", lot=lot)
        case NoticeKind.LISTING_REJECTED:
            return lazy_text("The commune rejected batch %(lot)s. Reason: “%(reason)s”.", lot=lot, reason=p.get("reason", ""))
        case NoticeKind.BATCH_RECALLED:
            return lazy_text("The commune recalled batch %(lot)s. Reason: “%(reason)s”.", lot=lot, reason=p.get("reason", ""))
        case NoticeKind.BATCH_BLOCKED_BY_BANNED_LIST:
            return lazy_text("Batch %(lot)s is blocked: its diary names %(substance)s, which is now banned. "
                             "%(stamps)s stamps of it are live.", lot=lot, substance=p.get("substance", ""),
                             stamps=p.get("stamps", "0"))
        case NoticeKind.FAKE_REPORTED:
            if lot:
                return lazy_text("A buyer reported a suspected fake of batch %(lot)s.", lot=lot)
            return lazy_text("A buyer reported a suspected fake of one of your stamps.")
        case NoticeKind.EXPIRES_SOON | NoticeKind.EXPIRED:
            return _expiry_sentence(notice.kind, p)
    return lazy_text("Notice")


def _expiry_sentence(kind: NoticeKind, p: dict[str, str]) -> LazyText:
    try:
        item, day = ExpiringKind(p.get("item", "")), date.fromisoformat(p.get("date", ""))
    except ValueError:
        return lazy_text("Notice")
    return expiry_sentence(item, kind is NoticeKind.EXPIRED, day, product=p.get("product", ""),
                           number=p.get("number", ""), scheme=p.get("scheme", ""), lot=p.get("lot", ""))


KIND_TITLES = {
    NoticeKind.LISTING_VERIFIED: _l("Listing verified"),
    NoticeKind.LISTING_REJECTED: _l("Listing rejected"),
    NoticeKind.BATCH_RECALLED: _l("Batch recalled"),
    NoticeKind.BATCH_BLOCKED_BY_BANNED_LIST: _l("Blocked by the banned list"),
    NoticeKind.FAKE_REPORTED: _l("Fake reported"),
    NoticeKind.EXPIRES_SOON: _l("Expires soon"),
    NoticeKind.EXPIRED: _l("Expired"),
}
OFFICER_KINDS = (NoticeKind.EXPIRES_SOON, NoticeKind.EXPIRED)  # what the officers of the commune read too


def report_id(notice: Notice) -> int | None:
    """The fake report a FAKE_REPORTED notice is about."""
    value = (notice.params or {}).get("report_id", "")
    return int(value) if str(value).isdigit() else None


# Reading ------------------------------------------------------------------------------------------------

def _of(cooperative_id: int):
    return select(Notice).where(Notice.cooperative_id == cooperative_id)


def _unread_first_newest_first():
    return (Notice.read_at.is_not(None), Notice.id.desc())


def unread(cooperative_id: int, limit: int = DASHBOARD_SHOWN) -> list[Notice]:
    return list(db.session.scalars(_of(cooperative_id).where(Notice.read_at.is_(None))
                                   .order_by(Notice.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Counts:
    unread: int
    total: int


def counts(cooperative_id: int) -> Counts:
    """What a badge shows: the unread notices, and all of them."""
    total, unread_ = db.session.execute(
        select(func.count(Notice.id), func.count(Notice.id).filter(Notice.read_at.is_(None)))
        .where(Notice.cooperative_id == cooperative_id)
    ).one()
    return Counts(unread=unread_, total=total)


@dataclass(frozen=True)
class NoticePage:
    notices: list[Notice]
    page: int
    pages: int
    total: int


def page(cooperative_id: int, number: int = 1, size: int = PAGE_SIZE) -> NoticePage:
    """One page of a cooperative's notices: unread first, then newest first. A page past the end is empty."""
    total = counts(cooperative_id).total
    pages = max(1, ceil(total / size))
    number = max(1, number)
    rows = db.session.scalars(_of(cooperative_id).order_by(*_unread_first_newest_first())
                              .offset((number - 1) * size).limit(size))
    return NoticePage(list(rows), number, pages, total)


# Marking read -------------------------------------------------------------------------------------------

def mark_read(cooperative_id: int, notice_id: int) -> Notice:
    """Mark one of the cooperative's notices read; another cooperative's is NotFound, as if it did not exist."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.cooperative_id != cooperative_id:
        raise NotFound
    if notice.read_at is None:
        notice.read_at = utcnow()
        db.session.commit()
    return notice


def mark_all_read(cooperative_id: int) -> int:
    """Mark every unread notice of the cooperative read; how many were."""
    result = db.session.execute(update(Notice).where(Notice.cooperative_id == cooperative_id, Notice.read_at.is_(None))
                                .values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount


# Officers ------------------------------------------------------------------------------------------------
# An officer reads the OFFICER_KINDS notices of the cooperatives in their communes; each officer marks them read
# for themselves (notice_reads), apart from the cooperative's own read_at.

@dataclass(frozen=True)
class OfficerNotice:
    notice: Notice
    cooperative: str


def _officer_scope(commune_codes: list[int]):
    return (select(Notice, Cooperative.name).join(Cooperative, Cooperative.id == Notice.cooperative_id)
            .where(Cooperative.commune_code.in_(commune_codes), Notice.kind.in_(OFFICER_KINDS)))


def _not_read_by(user_id: int):
    return ~select(NoticeRead.notice_id).where(NoticeRead.notice_id == Notice.id, NoticeRead.user_id == user_id).exists()


def officer_unread(user_id: int, commune_codes: list[int], limit: int = DASHBOARD_SHOWN) -> list[OfficerNotice]:
    """The officer's unread notices of their communes' cooperatives, newest first."""
    rows = db.session.execute(_officer_scope(commune_codes).where(_not_read_by(user_id))
                              .order_by(Notice.id.desc()).limit(limit))
    return [OfficerNotice(notice, name) for notice, name in rows]


def officer_unread_count(user_id: int, commune_codes: list[int]) -> int:
    return db.session.scalar(select(func.count()).select_from(
        _officer_scope(commune_codes).where(_not_read_by(user_id)).subquery()))


def officer_mark_read(user_id: int, commune_codes: list[int], notice_id: int) -> None:
    """Mark one notice read for this officer; a notice outside their communes is NotFound, as if it did not exist."""
    found = db.session.execute(_officer_scope(commune_codes).where(Notice.id == notice_id)).first()
    if found is None:
        raise NotFound
    if db.session.get(NoticeRead, (notice_id, user_id)) is None:
        db.session.add(NoticeRead(notice_id=notice_id, user_id=user_id))
    db.session.commit()


def officer_mark_all_read(user_id: int, commune_codes: list[int]) -> int:
    """Mark every unread notice of the officer's communes read for them; how many were."""
    ids = list(db.session.scalars(_officer_scope(commune_codes).where(_not_read_by(user_id))
                                  .with_only_columns(Notice.id)))
    db.session.add_all(NoticeRead(notice_id=notice_id, user_id=user_id) for notice_id in ids)
    db.session.commit()
    return len(ids)
