from datetime import date
from typing import Optional

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import Tracked


class Product(Tracked, db.Model):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    gtin: Mapped[Optional[str]] = mapped_column(String(14), index=True)
    ocop_stars: Mapped[Optional[int]] = mapped_column(SmallInteger)
    ocop_certificate_no: Mapped[str] = mapped_column(String(60), default="")
    ocop_issued_on: Mapped[Optional[date]]
    ocop_expires_on: Mapped[Optional[date]]
    growing_area_code: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    shelf_life_days: Mapped[Optional[int]]
    is_archived: Mapped[bool] = mapped_column(default=False)

    cooperative = relationship("Cooperative")
    certifications: Mapped[list["Certification"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Certification.id"
    )
    photos: Mapped[list["ProductPhoto"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductPhoto.id"
    )


class Certification(Tracked, db.Model):
    """A certification other than OCOP: VietGAP, GlobalGAP, organic…"""

    __tablename__ = "certifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    expires_on: Mapped[Optional[date]]

    product: Mapped[Product] = relationship(back_populates="certifications")


class ProductPhoto(Tracked, db.Model):
    __tablename__ = "product_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    image: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(String(200), default="")

    product: Mapped[Product] = relationship(back_populates="photos")
