"""shipments and batch inputs: one step back, one step forward

A batch's inputs (seedlings, fertiliser, pesticide, packaging…) with their suppliers; a diary entry may point at
one of them. A batch's shipments to buyers, with the stamp serial ranges that went with each.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _tracked():
    return [
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
    ]


def _tracked_keys(table):
    return [
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f(f'fk_{table}_created_by_id_users')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f(f'fk_{table}_updated_by_id_users')),
    ]


def upgrade():
    op.create_table('batch_inputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('SEEDLINGS', 'FERTILISER', 'PESTICIDE', 'PACKAGING', 'OTHER', name='inputkind', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('supplier_name', sa.String(length=200), nullable=False),
    sa.Column('supplier_address', sa.String(length=200), nullable=False),
    sa.Column('supplier_lot', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=True),
    *_tracked(),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_inputs_batch_id_batches'), ondelete='CASCADE'),
    *_tracked_keys('batch_inputs'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_inputs'))
    )
    with op.batch_alter_table('batch_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_inputs_batch_id'), ['batch_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('buyer_kind', sa.Enum('TRADER', 'EXPORTER', 'SHOP', 'MARKET', 'OTHER', name='buyerkind', native_enum=False, length=16), nullable=False),
    sa.Column('buyer_address', sa.String(length=200), nullable=False),
    sa.Column('buyer_commune_code', sa.Integer(), nullable=True),
    sa.Column('buyer_phone', sa.String(length=20), nullable=False),
    sa.Column('shipped_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    *_tracked(),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_shipments_batch_id_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['buyer_commune_code'], ['communes.code'], name=op.f('fk_shipments_buyer_commune_code_communes')),
    *_tracked_keys('shipments'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_batch_id'), ['batch_id'], unique=False)

    op.create_table('shipment_ranges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('first_serial', sa.Integer(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_ranges_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_shipment_ranges_batch_id_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['label_runs.id'], name=op.f('fk_shipment_ranges_run_id_label_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_ranges'))
    )
    with op.batch_alter_table('shipment_ranges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_ranges_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_ranges_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_ranges_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('diary_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('input_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_diary_events_input_id'), ['input_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_diary_events_input_id_batch_inputs'), 'batch_inputs', ['input_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('diary_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_diary_events_input_id_batch_inputs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_diary_events_input_id'))
        batch_op.drop_column('input_id')
    op.drop_table('shipment_ranges')
    op.drop_table('shipments')
    op.drop_table('batch_inputs')
