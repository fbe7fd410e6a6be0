from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Optional

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import Tracked


class BatchStatus(str, Enum):
    ACTIVE = "active"
    RECALLED = "recalled"


class Batch(Tracked, db.Model):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("product_id", "lot_code", name="uq_batches_product_lot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    lot_code: Mapped[str] = mapped_column(String(40))
    harvest_date: Mapped[Optional[date]]
    packing_date: Mapped[Optional[date]]
    best_before: Mapped[Optional[date]]
    quantity: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    unit: Mapped[str] = mapped_column(String(20), default="kg")
    growing_area: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[BatchStatus] = mapped_column(
        db.Enum(BatchStatus, native_enum=False, length=16), default=BatchStatus.ACTIVE
    )
    recall_reason: Mapped[str] = mapped_column(Text, default="")
    recalled_on: Mapped[Optional[date]]

    product = relationship("Product")
    events: Mapped[list["DiaryEvent"]] = relationship(
        back_populates="batch",
        cascade="all, delete-orphan",
        order_by="(DiaryEvent.event_date, DiaryEvent.id)",
    )
    inputs: Mapped[list["BatchInput"]] = relationship(  # noqa: F821 (app/models/shipment.py)
        back_populates="batch", cascade="all, delete-orphan", order_by="(BatchInput.received_on, BatchInput.id)",
    )
    shipments: Mapped[list["Shipment"]] = relationship(  # noqa: F821 (app/models/shipment.py)
        back_populates="batch", cascade="all, delete-orphan", order_by="(Shipment.shipped_on, Shipment.id)",
    )


class EventKind(str, Enum):
    PLANTING = "planting"
    FERTILISING = "fertilising"
    SPRAYING = "spraying"
    IRRIGATION = "irrigation"
    HARVEST = "harvest"
    PACKING = "packing"
    TRANSPORT = "transport"
    INSPECTION = "inspection"
    OTHER = "other"


class DiaryEvent(Tracked, db.Model):
    __tablename__ = "diary_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    event_date: Mapped[date]
    kind: Mapped[EventKind] = mapped_column(db.Enum(EventKind, native_enum=False, length=16))
    description: Mapped[str] = mapped_column(Text, default="")
    input_used: Mapped[str] = mapped_column(String(200), default="")
    dose: Mapped[str] = mapped_column(String(100), default="")
    phi_days: Mapped[Optional[int]]
    done_by: Mapped[str] = mapped_column(String(120), default="")
    photo: Mapped[Optional[str]] = mapped_column(String(64))
    # The batch input this entry used (sprays, fertilising, planting, packing); `input_used` keeps its name as text.
    input_id: Mapped[Optional[int]] = mapped_column(ForeignKey("batch_inputs.id", ondelete="SET NULL"), index=True)
    # What a harvest entry picked, in the batch's unit.
    quantity: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    # Made by the phone that wrote the entry offline, so that sending it again never adds it twice.
    client_id: Mapped[Optional[str]] = mapped_column(String(36), index=True, unique=True)

    batch: Mapped[Batch] = relationship(back_populates="events")
    input = relationship("BatchInput")
