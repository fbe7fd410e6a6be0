from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.geo import Commune
from app.models.mixins import Tracked


class Cooperative(Tracked, db.Model):
    __tablename__ = "cooperatives"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    registration_no: Mapped[str] = mapped_column(String(40), unique=True)
    commune_code: Mapped[int] = mapped_column(ForeignKey("communes.code"), index=True)
    address_line: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    representative: Mapped[str] = mapped_column(String(120), default="")
    logo: Mapped[Optional[str]] = mapped_column(String(64))
    # GS1 Global Location Number of the cooperative's place, 13 digits with a right check digit; None when it has none.
    gln: Mapped[Optional[str]] = mapped_column(String(13))
    description: Mapped[str] = mapped_column(Text, default="")
    # A short name for labels (e.g. "HTX Phồn Nhi"), printed instead of the full name when set.
    label_name: Mapped[Optional[str]] = mapped_column(String(30))
    # The offset the cooperative measured on its printer's calibration page, in millimetres.
    print_offset_x_mm: Mapped[float] = mapped_column(default=0.0, server_default="0")
    print_offset_y_mm: Mapped[float] = mapped_column(default=0.0, server_default="0")

    commune: Mapped[Commune] = relationship(lazy="joined")
