"""notices to cooperatives, and the states of fake reports (new, being checked, closed with a note)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

KINDS = ('LISTING_VERIFIED', 'LISTING_REJECTED', 'BATCH_RECALLED', 'BATCH_BLOCKED_BY_BANNED_LIST',
         'FAKE_REPORTED')  # NoticeKind's names, as SQLAlchemy stores a non-native enum
STATES = ('NEW', 'CHECKING', 'CLOSED')  # ReportStatus's names


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='noticekind', native_enum=False, length=40), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_notices_batch_id_batches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_notices_cooperative_id_cooperatives'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    op.create_index('ix_notices_cooperative_read', 'notices', ['cooperative_id', 'read_at', 'id'], unique=False)

    # No table points at fake_reports, so batch mode may copy it on SQLite (a new foreign key needs the copy);
    # existing reports start as new.
    with op.batch_alter_table('fake_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum(*STATES, name='reportstatus', native_enum=False, length=16),
                                      server_default='NEW', nullable=False))
        batch_op.add_column(sa.Column('closing_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('status_changed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_fake_reports_status_changed_by_id_users'), 'users',
                                    ['status_changed_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('fake_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_fake_reports_status_changed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_changed_by_id')
        batch_op.drop_column('closing_note')
        batch_op.drop_column('status')
    op.drop_index('ix_notices_cooperative_read', table_name='notices')
    op.drop_table('notices')
