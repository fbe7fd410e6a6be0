"""What a cooperative is told: its listing verified or rejected, a batch recalled or blocked, a fake reported.

A notice keeps its kind and the values its sentence needs, never the sentence: the page words it in the
reader's language when it is shown (see app.services.notices.sentence).
"""
from datetime import datetime
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import utcnow


class NoticeKind(str, Enum):
    LISTING_VERIFIED = "listing_verified"
    LISTING_REJECTED = "listing_rejected"  # params: reason
    BATCH_RECALLED = "batch_recalled"  # params: reason
    BATCH_BLOCKED_BY_BANNED_LIST = "batch_blocked_by_banned_list"  # params: substance, stamps (live stamps)
    FAKE_REPORTED = "fake_reported"  # params: report_id, and place when the consumer gave one
    # Written by the daily job (app/services/expiry_notices.py), also shown to the officers of the commune.
    # params: item (ocop, certification, verification), date (ISO), product, product_id, number, scheme, lot
    EXPIRES_SOON = "expires_soon"
    EXPIRED = "expired"


class Notice(db.Model):
    __tablename__ = "notices"
    # The dashboard reads a cooperative's unread notices, newest first.
    __table_args__ = (Index("ix_notices_cooperative_read", "cooperative_id", "read_at", "id"),
                      # A notice written by a job names what it is about: the same one is never written twice.
                      Index("uq_notices_dedup_key", "dedup_key", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id", ondelete="CASCADE"))
    kind: Mapped[NoticeKind] = mapped_column(db.Enum(NoticeKind, native_enum=False, length=40))
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("batches.id", ondelete="SET NULL"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[Optional[datetime]]
    dedup_key: Mapped[Optional[str]] = mapped_column(String(120))

    batch = relationship("Batch")


class NoticeRead(db.Model):
    """An officer has read a notice of a cooperative in their commune; the cooperative's own read_at is apart."""
    __tablename__ = "notice_reads"
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
