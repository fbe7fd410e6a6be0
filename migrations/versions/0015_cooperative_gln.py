"""cooperative gln: a cooperative's GS1 Global Location Number (13 digits), optional

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gln', sa.String(length=13), nullable=True))


def downgrade():
    # ALTER TABLE … DROP COLUMN, never a copy of the table: products, users and others point at cooperatives,
    # and SQLite (foreign keys on) refuses to drop the old copy while they do. SQLite has had DROP COLUMN since 3.35.
    with op.batch_alter_table('cooperatives', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('gln')
