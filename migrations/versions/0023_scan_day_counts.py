"""scan day counts: scans and first scans per stamp group and day, kept as scans are written

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# app/models/scan_counts.py's BLOCK_SIZES and MAX_BLOCKS as of this migration, in SQL: a run's block size from its count.
BLOCK_SIZES = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
BLOCK_SIZE = "CASE " + " ".join(f"WHEN r.count <= {size * 20} THEN {size}" for size in BLOCK_SIZES) + f" ELSE {BLOCK_SIZES[-1]} END"


def upgrade():
    op.create_table(
        'scan_day_counts',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('block', sa.Integer(), nullable=False),
        sa.Column('scans', sa.Integer(), nullable=False),
        sa.Column('first_scans', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['label_runs.id'], name=op.f('fk_scan_day_counts_run_id_label_runs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'day', 'batch_id', 'block', name=op.f('pk_scan_day_counts')),
    )
    op.create_table(
        'stamp_first_scans',
        sa.Column('stamp_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['stamp_id'], ['stamps.id'], name=op.f('fk_stamp_first_scans_stamp_id_stamps'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('stamp_id', name=op.f('pk_stamp_first_scans')),
        sqlite_with_rowid=False,
    )
    # The statistics pages' stamp totals and copies, from indexes holding only blank, voided and copied stamps.
    op.create_index('ix_stamps_blank', 'stamps', ['run_id'], unique=False, sqlite_where=sa.text('batch_id IS NULL'),
                    postgresql_where=sa.text('batch_id IS NULL'))
    op.create_index('ix_stamps_voided', 'stamps', ['run_id'], unique=False, sqlite_where=sa.text('voided_at IS NOT NULL'),
                    postgresql_where=sa.text('voided_at IS NOT NULL'))
    op.create_index('ix_stamps_copy_suspected', 'stamps', ['run_id', 'copy_suspected_at'], unique=False,
                    sqlite_where=sa.text('copy_suspected_at IS NOT NULL'), postgresql_where=sa.text('copy_suspected_at IS NOT NULL'))
    # A stamp's first scan: the earliest first day of the phones that scanned it (what scan_stats read until now).
    op.execute("INSERT INTO stamp_first_scans (stamp_id, day) SELECT stamp_id, min(first_day) FROM scan_devices GROUP BY stamp_id")
    op.execute(f"""
        INSERT INTO scan_day_counts (run_id, day, batch_id, block, scans, first_scans)
        SELECT run_id, day, batch_id, block, sum(scans), sum(first_scans) FROM (
            SELECT s.run_id, x.day, coalesce(s.batch_id, 0) AS batch_id, (s.serial - 1) / ({BLOCK_SIZE}) AS block,
                   count(*) AS scans, 0 AS first_scans
            FROM scans x JOIN stamps s ON s.id = x.stamp_id JOIN label_runs r ON r.id = s.run_id
            GROUP BY s.run_id, x.day, coalesce(s.batch_id, 0), (s.serial - 1) / ({BLOCK_SIZE})
            UNION ALL
            SELECT s.run_id, f.day, coalesce(s.batch_id, 0), (s.serial - 1) / ({BLOCK_SIZE}), 0, count(*)
            FROM stamp_first_scans f JOIN stamps s ON s.id = f.stamp_id JOIN label_runs r ON r.id = s.run_id
            GROUP BY s.run_id, f.day, coalesce(s.batch_id, 0), (s.serial - 1) / ({BLOCK_SIZE})
        ) counted GROUP BY run_id, day, batch_id, block""")


def downgrade():
    op.drop_index('ix_stamps_copy_suspected', table_name='stamps')
    op.drop_index('ix_stamps_voided', table_name='stamps')
    op.drop_index('ix_stamps_blank', table_name='stamps')
    op.drop_table('stamp_first_scans')
    op.drop_table('scan_day_counts')
