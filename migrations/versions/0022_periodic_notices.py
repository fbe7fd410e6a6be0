"""periodic notices: expiring certificates and verifications written once by celery beat

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # notice_reads points at notices, so notices is altered in place (plain add_column, an index), never copied.
    # The kind column is a plain string (non-native enum, no check constraint): the new kinds need no change.
    op.add_column('notices', sa.Column('dedup_key', sa.String(length=120), nullable=True))
    op.create_index('uq_notices_dedup_key', 'notices', ['dedup_key'], unique=True)
    op.create_table('notice_reads',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_reads_notice_id_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'user_id', name=op.f('pk_notice_reads'))
    )


def downgrade():
    op.drop_table('notice_reads')
    op.drop_index('uq_notices_dedup_key', table_name='notices')
    with op.batch_alter_table('notices', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('dedup_key')
