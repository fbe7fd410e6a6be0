"""Personal access tokens for the JSON API, and the answers kept for idempotent retries.

Neither table is business data (the audit trail's session hook does not record their rows). A token's
secret is shown once, when it is made; the database keeps only its SHA-256, so a copy of the database
authenticates nobody."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import utcnow


class ApiToken(db.Model):
    """A token works exactly as long as its row exists and its user is enabled; revoking deletes the row.
    It acts as its user (role and cooperative); `can_write` false keeps it to reading."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[Optional[datetime]]

    user = relationship("User")


class IdempotencyKey(db.Model):
    """The first answer to a create sent with an `Idempotency-Key`: a retry with the same key (per user)
    and the same request gets this answer again instead of creating a second object. A row without a
    status is a request still running. Rows older than the retention window are ignored and purged."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[Optional[int]]
    body: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
