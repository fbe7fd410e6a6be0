"""api tokens and idempotency

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
