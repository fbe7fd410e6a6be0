"""stamp range history: every activation and void of a run's serial ranges, with who, when, batch and reason

The run page lists this history. Activations and voids done before this table existed are copied in from the
audit trail, which has recorded every one of them (who, when, the serial range, the batch, the number of
stamps; a whole run's void also its reason; range voids asked for no reason then, so theirs is left empty).
The audit trail itself is not changed, so a downgrade loses nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ACTIONS = ('ACTIVATE', 'VOID', 'VOID_RUN')  # RangeAction's names, as SQLAlchemy stores a non-native enum

audit_events = sa.table(
    'audit_events', sa.column('id', sa.Integer), sa.column('at', sa.DateTime), sa.column('actor_id', sa.Integer),
    sa.column('actor_name', sa.String), sa.column('action', sa.String), sa.column('entity', sa.String),
    sa.column('entity_id', sa.Integer), sa.column('after', sa.JSON),
)
label_runs = sa.table('label_runs', sa.column('id', sa.Integer), sa.column('count', sa.Integer),
                      sa.column('voided_at', sa.DateTime))
stamps = sa.table('stamps', sa.column('run_id', sa.Integer), sa.column('voided_at', sa.DateTime))


def upgrade():
    events = op.create_table('stamp_range_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum(*ACTIONS, name='rangeaction', native_enum=False, length=16), nullable=False),
    sa.Column('first_serial', sa.Integer(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.Column('stamp_count', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_stamp_range_events_batch_id_batches')),
    sa.ForeignKeyConstraint(['run_id'], ['label_runs.id'], name=op.f('fk_stamp_range_events_run_id_label_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stamp_range_events'))
    )
    with op.batch_alter_table('stamp_range_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stamp_range_events_run_id'), ['run_id'], unique=False)

    rows = list(_from_audit_trail(op.get_bind()))
    if rows:
        op.bulk_insert(events, rows)


def _from_audit_trail(connection):
    """History rows for the activations and voids the audit trail recorded, oldest first."""
    runs = {run.id: run for run in connection.execute(sa.select(label_runs))}
    recorded = connection.execute(
        sa.select(audit_events)
        .where(audit_events.c.entity == 'label_run', audit_events.c.action.in_(('activate', 'void')))
        .order_by(audit_events.c.id)
    )
    for event in recorded:
        run, after = runs.get(event.entity_id), event.after or {}
        if run is None:
            continue
        who = {'actor_id': event.actor_id, 'actor_name': event.actor_name or '', 'at': event.at, 'run_id': run.id}
        if 'first' in after:  # a range, written by the service that activated or voided it
            yield {**who, 'action': 'ACTIVATE' if event.action == 'activate' else 'VOID',
                   'first_serial': after['first'], 'last_serial': after['last'], 'stamp_count': after.get('stamps'),
                   'batch_id': after.get('batch_id'), 'reason': after.get('reason') or ''}
        elif after.get('voided_at'):  # the whole run, as the change to its row recorded it
            voided = connection.scalar(
                sa.select(sa.func.count()).select_from(stamps)
                .where(stamps.c.run_id == run.id, stamps.c.voided_at == run.voided_at)
            ) if run.voided_at else None
            yield {**who, 'action': 'VOID_RUN', 'first_serial': 1, 'last_serial': run.count, 'stamp_count': voided,
                   'batch_id': None, 'reason': after.get('void_reason') or ''}


def downgrade():
    # The audit trail still holds every activation and void: nothing is lost.
    with op.batch_alter_table('stamp_range_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stamp_range_events_run_id'))

    op.drop_table('stamp_range_events')
