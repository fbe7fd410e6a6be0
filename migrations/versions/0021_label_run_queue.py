"""label run queue: what a Celery worker needs to claim runs fairly, resume one whose worker died, and cancel

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
