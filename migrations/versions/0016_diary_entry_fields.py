"""diary entry fields: a harvest's quantity, and the id a phone gives an entry written offline

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Columns and a unique index, no table copy: add_column and CREATE INDEX work in place on SQLite too.
    op.add_column('diary_events', sa.Column('quantity', sa.Numeric(precision=12, scale=2), nullable=True))
    op.add_column('diary_events', sa.Column('client_id', sa.String(length=36), nullable=True))
    op.create_index(op.f('ix_diary_events_client_id'), 'diary_events', ['client_id'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_diary_events_client_id'), table_name='diary_events')
    with op.batch_alter_table('diary_events', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('client_id')
        batch_op.drop_column('quantity')
