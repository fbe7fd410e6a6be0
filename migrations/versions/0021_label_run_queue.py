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
    # Plain add_column: stamps and range events point at label_runs, so SQLite cannot copy the table.
    op.add_column('label_runs', sa.Column('queued_at', sa.DateTime(), nullable=True))
    op.add_column('label_runs', sa.Column('sent_at', sa.DateTime(), nullable=True))
    op.add_column('label_runs', sa.Column('task_id', sa.String(length=64), nullable=True))
    op.add_column('label_runs', sa.Column('cancel_requested_at', sa.DateTime(), nullable=True))
    # Existing runs joined the queue when they were ordered, and their worker was started then.
    op.execute("UPDATE label_runs SET queued_at = created_at, sent_at = created_at")
    op.create_index('ix_label_runs_status_queued_at', 'label_runs', ['status', 'queued_at'], unique=False)


def downgrade():
    op.drop_index('ix_label_runs_status_queued_at', table_name='label_runs')
    with op.batch_alter_table('label_runs', recreate='never') as batch_op:
        batch_op.drop_column('cancel_requested_at')
        batch_op.drop_column('task_id')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('queued_at')
