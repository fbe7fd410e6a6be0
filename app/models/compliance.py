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
