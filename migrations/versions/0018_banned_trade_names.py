"""banned trade names (to be filled in)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
