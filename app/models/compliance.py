"""The list of banned substances the diary is checked against, and officers' overrides of the gate."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import utcnow


class BannedSubstance(db.Model):
    __tablename__ = "banned_substances"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    group: Mapped[str] = mapped_column(String(80), default="")

    trade_names = relationship("BannedTradeName", back_populates="substance", order_by="BannedTradeName.name",
                               cascade="all, delete-orphan", passive_deletes=True)


class BannedTradeName(db.Model):
    """A name a banned substance is sold under ("Regent" for fipronil), with where that is written. A diary
    naming it fails the gate as one naming the substance does; it goes when its substance leaves the list."""

    __tablename__ = "banned_trade_names"
    id: Mapped[int] = mapped_column(primary_key=True)
    substance_id: Mapped[int] = mapped_column(ForeignKey("banned_substances.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    source: Mapped[str] = mapped_column(Text, default="")

    substance = relationship("BannedSubstance", back_populates="trade_names")


class GateOverride(db.Model):
    """An officer lets a failing batch's stamps be activated, in writing. It holds while the diary and
    dates stay as they were (the listing's fingerprint)."""

    __tablename__ = "gate_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    facts_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    officer = relationship("User")
