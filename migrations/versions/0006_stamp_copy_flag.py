"""a stamp once judged copied stays so

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


def downgrade():
    with op.batch_alter_table('stamps', schema=None) as batch_op:
        batch_op.drop_column('copy_suspected_at')
