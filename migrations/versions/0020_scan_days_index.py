"""scan days index: scans read by day, then by stamp, so that a product's or a run's scans per day read only the
days asked for, from the index alone

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 15:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_scans_day_stamp', 'scans', ['day', 'stamp_id'], unique=False)


def downgrade():
    op.drop_index('ix_scans_day_stamp', table_name='scans')
