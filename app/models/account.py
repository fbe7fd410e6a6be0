"""Server-side sign-in sessions and one-time password-reset links.

Neither table holds a secret that works by itself: the browser's signed cookie carries a session's random
token and the reset link carries its random token; the database keeps only their SHA-256, so a copy of the
database signs nobody in. Not business data: the audit trail's session hook does not record these rows.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.mixins import utcnow


class UserSession(db.Model):
    """One signed-in browser. The session exists exactly as long as its row: deleting the row signs it out,
    whatever copies of its cookie are around."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    device: Mapped[str] = mapped_column(String(80), default="")


class PasswordReset(db.Model):
    """A one-time link that lets a user choose a new password, made by an administrator or an officer.
    It works while its row exists and has not expired; using it deletes it."""

    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
