"""scan evidence: the phones that scanned each stamp, counted over the stamp's life

`scan_devices` held one row per stamp, day and per-day device hash, so distinct phones could not be
counted across days and the copy check fired on the third phone of a day (a seller, a buyer and a spouse).
It now holds one row per stamp and phone (a per-stamp keyed hash), with the day the phone first scanned it
and how many times it did.

Existing scans are carried over with their per-day hashes, each counted as one phone (a phone that scanned
on three days counts three times: an overcount, the safe side for old data). Stamps the old rule judged
copied are judged again by the new default rule (12 phones, first seen on 3 different days) and cleared
where they fall short; a downgrade cannot bring those old judgements back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The defaults of SCAN_COPY_PHONES and SCAN_COPY_DAYS when this migration was written.
COPY_PHONES, COPY_DAYS = 12, 3
STAMP_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.drop_table('scan_devices')
    op.create_table('scan_devices',
    sa.Column('stamp_id', STAMP_ID, nullable=False),
    sa.Column('device_hash', sa.LargeBinary(length=16), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['stamp_id'], ['stamps.id'], name=op.f('fk_scan_devices_stamp_id_stamps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stamp_id', 'device_hash', name=op.f('pk_scan_devices')),
    sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO scan_devices (stamp_id, device_hash, first_day, scans) "
        "SELECT stamp_id, device_hash, MIN(day), COUNT(*) FROM scans GROUP BY stamp_id, device_hash"
    )
    op.execute(
        "UPDATE stamps SET copy_suspected_at = NULL WHERE copy_suspected_at IS NOT NULL AND id NOT IN ("
        "SELECT stamp_id FROM scan_devices GROUP BY stamp_id "
        f"HAVING COUNT(*) >= {COPY_PHONES} AND COUNT(DISTINCT first_day) >= {COPY_DAYS})"
    )


def downgrade():
    op.drop_table('scan_devices')
    op.create_table('scan_devices',
    sa.Column('stamp_id', STAMP_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('device_hash', sa.LargeBinary(length=16), nullable=False),
    sa.ForeignKeyConstraint(['stamp_id'], ['stamps.id'], name=op.f('fk_scan_devices_stamp_id_stamps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stamp_id', 'day', 'device_hash', name=op.f('pk_scan_devices'))
    )
    op.execute("INSERT INTO scan_devices (stamp_id, day, device_hash) SELECT DISTINCT stamp_id, day, device_hash FROM scans")
