"""A commune officer's decision on a listing (a batch with its product and cooperative). Never changed:
a new decision is a new row, and the facts are kept as they stood when the officer looked."""
from datetime import date, datetime
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import utcnow


class Outcome(str, Enum):
    VERIFIED = "verified"
    REJECTED = "rejected"


class Verification(db.Model):
    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    commune_code: Mapped[int] = mapped_column(ForeignKey("communes.code"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[Outcome] = mapped_column(db.Enum(Outcome, native_enum=False, length=16))
    reason: Mapped[str] = mapped_column(Text, default="")
    facts: Mapped[dict] = mapped_column(JSON)
    facts_hash: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[Optional[date]]

    officer = relationship("User")
    commune = relationship("Commune")
