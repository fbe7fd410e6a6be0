"""Official administrative units since 1 July 2025: province and commune (xã, phường, đặc khu)."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class Province(db.Model):
    __tablename__ = "provinces"
    code: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(80))


class Commune(db.Model):
    __tablename__ = "communes"
    code: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(80))
    search_name: Mapped[str] = mapped_column(String(80), index=True)
    province_code: Mapped[int] = mapped_column(ForeignKey("provinces.code"), index=True)
    province: Mapped[Province] = relationship(lazy="joined")

    @property
    def full_name(self) -> str:
        return f"{self.name}, {self.province.name}"
