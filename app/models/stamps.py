"""Label runs and the stamps they mint. A stamp's printable code is never stored, only its hash."""
from datetime import date, datetime
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mixins import Tracked, utcnow


class RunStatus(str, Enum):
    QUEUED = "queued"
    MINTING = "minting"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped before it printed anything: no stamps, no PDF (app/services/run_queue.py)


class LabelRun(Tracked, db.Model):
    __tablename__ = "label_runs"
    # Workers pick the fairest waiting run among those queued (app/services/run_queue.py).
    __table_args__ = (Index("ix_label_runs_status_queued_at", "status", "queued_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("batches.id"), index=True)
    count: Mapped[int]
    template: Mapped[str] = mapped_column(String(40))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    # The sheet's dimensions as printed (labels.SheetSpec's fields), frozen when the run is ordered, so that its PDF
    # renders the same however the cooperative's template or a built-in one changes later.
    sheet: Mapped[Optional[dict]] = mapped_column(JSON)
    request_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[RunStatus] = mapped_column(db.Enum(RunStatus, native_enum=False, length=16), default=RunStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    heartbeat_at: Mapped[Optional[datetime]]
    # When it joined the queue (ordered, or started again): its place in the fair order.
    queued_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow)
    # When a message for it was last handed to the broker; None while none could be (the broker was away).
    sent_at: Mapped[Optional[datetime]]
    # The Celery task (or local process) that owns the run while it is minted and rendered; only it may change it.
    task_id: Mapped[Optional[str]] = mapped_column(String(64))
    # Set by a cancel while it is being minted or rendered: its worker stops at its next progress report.
    cancel_requested_at: Mapped[Optional[datetime]]
    finished_at: Mapped[Optional[datetime]]
    pdf_bytes: Mapped[Optional[int]] = mapped_column(BigInteger)
    pdf_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    voided_at: Mapped[Optional[datetime]]
    void_reason: Mapped[str] = mapped_column(Text, default="")

    product = relationship("Product")
    batch = relationship("Batch")


class RangeAction(str, Enum):
    ACTIVATE = "activate"
    VOID = "void"
    VOID_RUN = "void_run"  # every stamp of the run


class StampRangeEvent(db.Model):
    """One activation or void of a serial range of a run, as the run page lists it: who, when, which serials,
    how many stamps changed, onto which batch, and why. Written in the same transaction as the stamps it
    changes (and as its audit event). Who is kept as a number and a name, as in the audit trail, so that the
    line outlives the account."""

    __tablename__ = "stamp_range_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("label_runs.id", ondelete="CASCADE"), index=True)
    action: Mapped[RangeAction] = mapped_column(db.Enum(RangeAction, native_enum=False, length=16))
    first_serial: Mapped[int]
    last_serial: Mapped[int]
    stamp_count: Mapped[Optional[int]]  # stamps changed (already void or active ones excluded); unknown: None
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("batches.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[Optional[int]]
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    batch = relationship("Batch")


class Stamp(db.Model):
    __tablename__ = "stamps"
    __table_args__ = (
        UniqueConstraint("run_id", "serial", name="uq_stamps_run_serial"),
        Index("ix_stamps_batch_id", "batch_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("label_runs.id", ondelete="CASCADE"))
    serial: Mapped[int]
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    batch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("batches.id"))
    activated_at: Mapped[Optional[datetime]]
    voided_at: Mapped[Optional[datetime]]
    # Set the first time its scans look like a copy (too many devices or days); it stays suspect after that.
    copy_suspected_at: Mapped[Optional[datetime]]


class Scan(db.Model):
    """One look at a stamp's page. No IP address is kept: only a coarse device class and a salted
    hash that changes every day."""

    __tablename__ = "scans"
    # By stamp: a stamp's scans; by day, then stamp: a product's or run's scans per day (scan_stats), from the index.
    __table_args__ = (Index("ix_scans_stamp_at", "stamp_id", "scanned_at"), Index("ix_scans_day_stamp", "day", "stamp_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    stamp_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("stamps.id", ondelete="CASCADE"))
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[date] = mapped_column(default=lambda: utcnow().date())
    device_class: Mapped[str] = mapped_column(String(12), default="other")
    device_hash: Mapped[bytes] = mapped_column(LargeBinary(16))


class ScanDevice(db.Model):
    """The phones that scanned a stamp, once each, with the day each first did and how many times: what the
    copy check and the page's "scanned N times on M phones since …" read, so that a stamp scanned a thousand
    times by a few phones costs no more to judge than one scanned twice.

    A phone is a keyed hash of the stamp and the client's network and browser (see scans.phone_hash): the
    same phone gets the same hash on every scan of one stamp, and unrelated hashes on two stamps, so phones
    can be counted per stamp without following anyone from one product to the next."""

    __tablename__ = "scan_devices"
    # On SQLite the rows live in the primary key's b-tree: a stamp's phones are read in one range, no lookups.
    __table_args__ = {"sqlite_with_rowid": False}
    stamp_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("stamps.id", ondelete="CASCADE"), primary_key=True)
    device_hash: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    first_day: Mapped[date]
    scans: Mapped[int] = mapped_column(default=1)


class ReportStatus(str, Enum):
    NEW = "new"
    CHECKING = "checking"  # someone at the cooperative or the commune is looking into it
    CLOSED = "closed"  # with a note saying what was found


class FakeReport(db.Model):
    """A consumer's report of a suspected fake, kept for the cooperative and its commune: an inbox they share,
    where either moves a report from new to being checked to closed (closing needs a note)."""

    __tablename__ = "fake_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    stamp_id: Mapped[Optional[int]] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("stamps.id", ondelete="SET NULL"), index=True)
    cooperative_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    commune_code: Mapped[Optional[int]] = mapped_column(ForeignKey("communes.code"), index=True)
    code_typed: Mapped[str] = mapped_column(String(60), default="")
    message: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[ReportStatus] = mapped_column(db.Enum(ReportStatus, native_enum=False, length=16),
                                                 default=ReportStatus.NEW, server_default="NEW")
    closing_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    status_changed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    status_changed_at: Mapped[Optional[datetime]]

    status_changed_by = relationship("User")
