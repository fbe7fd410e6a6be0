"""a stamp once judged copied stays so; the devices that scanned each stamp per day

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stamps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copy_suspected_at', sa.DateTime(), nullable=True))
    op.create_table('scan_devices',
    sa.Column('stamp_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('device_hash', sa.LargeBinary(length=16), nullable=False),
    sa.ForeignKeyConstraint(['stamp_id'], ['stamps.id'], name=op.f('fk_scan_devices_stamp_id_stamps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stamp_id', 'day', 'device_hash', name=op.f('pk_scan_devices'))
    )
    # Scans recorded before this table existed.
    op.execute("INSERT INTO scan_devices (stamp_id, day, device_hash) SELECT DISTINCT stamp_id, day, device_hash FROM scans")


def downgrade():
    op.drop_table('scan_devices')
    with op.batch_alter_table('stamps', schema=None) as batch_op:
        batch_op.drop_column('copy_suspected_at')
