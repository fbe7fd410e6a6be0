from enum import Enum
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import Tracked


class Role(str, Enum):
    MEMBER = "member"
    OFFICER = "officer"
    ADMIN = "admin"


officer_communes = Table(
    "officer_communes",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_code", ForeignKey("communes.code"), primary_key=True),
)


class User(UserMixin, Tracked, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    login: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=16))
    cooperative_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("cooperatives.id", use_alter=True), index=True
    )
    is_disabled: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[Optional[str]] = mapped_column(String(8))

    cooperative = relationship("Cooperative", foreign_keys=[cooperative_id])
    communes = relationship("Commune", secondary=officer_communes, order_by="Commune.name")

    @property
    def is_active(self) -> bool:
        return not self.is_disabled
