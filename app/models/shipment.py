"""One step back, one step forward (Circular 02/2024/TT-BKHCN): what went into a batch, and where it went.

A BatchInput is one input of a batch (seedlings, fertiliser, pesticide, packaging…) with its supplier; a diary
entry may point at one. A Shipment is one dispatch of part of a batch to a buyer, with the stamp serial ranges
that went with it (ShipmentRange), so that a recall knows whom to call.
"""
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Optional

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import Tracked


class InputKind(str, Enum):
    SEEDLINGS = "seedlings"
    FERTILISER = "fertiliser"
    PESTICIDE = "pesticide"
    PACKAGING = "packaging"
    OTHER = "other"


class BatchInput(Tracked, db.Model):
    """One input that went into a batch, and who supplied it (one step back)."""

    __tablename__ = "batch_inputs"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    kind: Mapped[InputKind] = mapped_column(db.Enum(InputKind, native_enum=False, length=16))
    name: Mapped[str] = mapped_column(String(200))
    supplier_name: Mapped[str] = mapped_column(String(200))
    supplier_address: Mapped[str] = mapped_column(String(200), default="")  # address or commune, as the cooperative knows it
    supplier_lot: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    unit: Mapped[str] = mapped_column(String(20), default="")
    received_on: Mapped[Optional[date]]

    batch = relationship("Batch", back_populates="inputs")


class BuyerKind(str, Enum):
    TRADER = "trader"
    EXPORTER = "exporter"
    SHOP = "shop"
    MARKET = "market"
    OTHER = "other"


class Shipment(Tracked, db.Model):
    """One dispatch of part of a batch to a buyer (one step forward)."""

    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_kind: Mapped[BuyerKind] = mapped_column(db.Enum(BuyerKind, native_enum=False, length=16))
    buyer_address: Mapped[str] = mapped_column(String(200), default="")
    buyer_commune_code: Mapped[Optional[int]] = mapped_column(ForeignKey("communes.code"))
    buyer_phone: Mapped[str] = mapped_column(String(20), default="")
    shipped_on: Mapped[date]
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    unit: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")  # the vehicle, or anything else worth knowing

    batch = relationship("Batch", back_populates="shipments")
    buyer_commune = relationship("Commune")
    ranges: Mapped[list["ShipmentRange"]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan",
        order_by="(ShipmentRange.run_id, ShipmentRange.first_serial)",
    )

    @property
    def buyer_place(self) -> str:
        """Where the buyer is: the address, then the commune and its province, as far as known."""
        commune = self.buyer_commune
        return ", ".join(part for part in (self.buyer_address, commune.full_name if commune else "") if part)


class ShipmentRange(db.Model):
    """Serials first..last of a label run, all of them stamps on the shipment's batch, that went with it.

    `batch_id` repeats the shipment's batch so that the audit trail and the overlap check find the cooperative
    and the batch's other ranges without a join; the service always sets it to the shipment's."""

    __tablename__ = "shipment_ranges"
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("label_runs.id"), index=True)
    first_serial: Mapped[int]
    last_serial: Mapped[int]

    shipment: Mapped[Shipment] = relationship(back_populates="ranges")
