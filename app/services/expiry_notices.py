"""The daily job that turns expiring certificates and verifications into notices, each written once.

For every item of app.services.expiring (an OCOP certificate, another certification, a commune's verification
of a batch) the cooperative gets one notice when the item enters the WINDOW_DAYS window (EXPIRES_SOON) and one
more once its day has passed (EXPIRED). A notice's dedup_key names the stage, the item and its date, and is
unique in the table, so running the job twice never writes a notice twice (two runs at the same moment: the
later one's commit fails whole and writes nothing; the next run finds everything written); a renewed
certificate (a new date) is a new item. The officers of the cooperative's commune read the same notices on their
overview, each officer marking them read for themselves (app.services.notices, "Officers").

An item that had already expired more than EXPIRED_LOOKBACK days before the job first sees it gets no notice:
the first run on an old database would otherwise flood every inbox with years of history.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import NoticeKind
from app.models.notice import Notice
from app.services import expiring, notices
from app.services.expiring import Expiring, ExpiringKind

EXPIRED_LOOKBACK = timedelta(days=expiring.WINDOW_DAYS)


@dataclass(frozen=True)
class Written:
    soon: int
    expired: int


def dedup_key(item: Expiring) -> str:
    """What makes a notice the same one: its stage, the item and the item's date (e.g. soon:ocop:12:2026-12-30)."""
    stage = "expired" if item.expired else "soon"
    subject = {ExpiringKind.OCOP: item.product_id, ExpiringKind.CERTIFICATION: item.certification_id,
               ExpiringKind.VERIFICATION: item.batch_id}[item.kind]
    return f"{stage}:{item.kind.value}:{subject}:{item.expires_on.isoformat()}"


def not_told_by(items: list[Expiring], shown: list[Notice]) -> list[Expiring]:
    """The items that none of the notices shown beside them already tells (a page says each thing once)."""
    told = {notice.dedup_key for notice in shown if notice.dedup_key}
    return [item for item in items if dedup_key(item) not in told]


def _params(item: Expiring) -> dict[str, str]:
    return {"item": item.kind.value, "date": item.expires_on.isoformat(), "product": item.product,
            "product_id": str(item.product_id), "number": item.number, "scheme": item.scheme, "lot": item.lot_code}


def _due(items: list[Expiring], today: date) -> list[Expiring]:
    return [item for item in items if item.expires_on >= today - EXPIRED_LOOKBACK]


def write_expiry_notices(today: date) -> Written:
    """Post the notices due on `today` (a day in Vietnam) that were never posted, and commit; how many were."""
    due = {dedup_key(item): item for item in _due(expiring.everywhere(today), today)}
    already = set(db.session.scalars(select(Notice.dedup_key).where(Notice.dedup_key.in_(list(due)))))
    new = [item for key, item in due.items() if key not in already]
    for item in new:
        kind = NoticeKind.EXPIRED if item.expired else NoticeKind.EXPIRES_SOON
        notice = notices.post(item.cooperative_id, kind, batch_id=item.batch_id, params=_params(item))
        notice.dedup_key = dedup_key(item)
    db.session.commit()
    expired = sum(1 for item in new if item.expired)
    return Written(soon=len(new) - expired, expired=expired)
