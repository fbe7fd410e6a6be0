"""Scans counted as they are written, so that a product's or a run's statistics read a few rows per day instead of
every stamp of the scope (app/services/scan_stats.py).

Both tables are filled by the scan log (app/scan/scan_log.py) in the transaction that writes the scans, with
upserts that add (never a read followed by a write), so that two web nodes writing at once keep them exact; the
migration 0023 backfilled them from the scans written before."""
from datetime import date

from sqlalchemy import BigInteger, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.stamps import Stamp

# A run's statistics page cuts a run printed for a batch in at most MAX_BLOCKS blocks of serials, each a round size.
# The counts store each scan's block under the run's size, so changing these needs the counts built again.
MAX_BLOCKS = 20
BLOCK_SIZES = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
NO_BATCH = 0  # batch_id of a count whose stamps were on no batch (blank): a primary key column cannot be NULL


def block_size(count: int) -> int:
    """The smallest round block of serials that cuts a run of `count` stamps in at most MAX_BLOCKS blocks."""
    return next((size for size in BLOCK_SIZES if size * MAX_BLOCKS >= count), BLOCK_SIZES[-1])


def block_of(serial: int, run_count: int) -> int:
    """The block (from 0) of a serial in its run."""
    return (serial - 1) // block_size(run_count)


class ScanDayCount(db.Model):
    """Scans, and stamps scanned for the first time, of one run on one day (Vietnam's day, as scans.day), per batch
    the stamps were on when scanned and per block of serials. Invariant: `scans` equals the number of rows of `scans`
    for those stamps and that day, `first_scans` the number of stamp_first_scans rows for them on that day."""

    __tablename__ = "scan_day_counts"
    run_id: Mapped[int] = mapped_column(ForeignKey("label_runs.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(primary_key=True)  # NO_BATCH for blank stamps, hence no foreign key
    block: Mapped[int] = mapped_column(primary_key=True)
    scans: Mapped[int] = mapped_column(default=0)
    first_scans: Mapped[int] = mapped_column(default=0)


class StampFirstScan(db.Model):
    """The day a stamp was first scanned, one row per stamp ever scanned: inserted with ON CONFLICT DO NOTHING, so
    that of two nodes writing a stamp's first scans at once exactly one counts it as first."""

    __tablename__ = "stamp_first_scans"
    __table_args__ = {"sqlite_with_rowid": False}
    stamp_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                          ForeignKey("stamps.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date]


def _partial_stamps_index(name: str, *columns, where) -> Index:
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


# The statistics pages' stamp totals and suspected copies, counted from partial indexes that hold only the stamps
# concerned (few, except blank ones on a run not yet put on a batch), instead of a pass over the scope's stamps.
ix_stamps_blank = _partial_stamps_index("ix_stamps_blank", Stamp.run_id, where=Stamp.batch_id.is_(None))
ix_stamps_voided = _partial_stamps_index("ix_stamps_voided", Stamp.run_id, where=Stamp.voided_at.is_not(None))
ix_stamps_copy_suspected = _partial_stamps_index("ix_stamps_copy_suspected", Stamp.run_id, Stamp.copy_suspected_at,
                                                 where=Stamp.copy_suspected_at.is_not(None))
