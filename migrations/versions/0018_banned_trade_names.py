"""banned trade names: the names banned substances are sold under, seeded from app/data/banned_trade_names.csv

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 15:40:00

"""
import csv
from pathlib import Path

from alembic import op
import sqlalchemy as sa

SEED = Path(__file__).resolve().parents[2] / "app" / "data" / "banned_trade_names.csv"


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('banned_trade_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('substance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['substance_id'], ['banned_substances.id'], name=op.f('fk_banned_trade_names_substance_id_banned_substances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_banned_trade_names')),
    sa.UniqueConstraint('name', name=op.f('uq_banned_trade_names_name'))
    )
    op.create_index(op.f('ix_banned_trade_names_substance_id'), 'banned_trade_names', ['substance_id'], unique=False)
    _seed()


def _seed():
    """The seed's trade names of the substances on the live list; a substance an administrator has taken off
    the list keeps none (its names would name nothing banned)."""
    connection = op.get_bind()
    substances = {name: id_ for id_, name in connection.execute(sa.text('SELECT id, name FROM banned_substances'))}
    names = sa.table('banned_trade_names', sa.column('substance_id', sa.Integer), sa.column('name', sa.String),
                     sa.column('source', sa.Text))
    with SEED.open(encoding='utf-8') as seed:
        rows = csv.DictReader(line for line in seed if not line.startswith('#'))
        op.bulk_insert(names, [{'substance_id': substances[row['substance']], 'name': row['trade_name'],
                                'source': row['source']} for row in rows if row['substance'] in substances])


def downgrade():
    op.drop_index(op.f('ix_banned_trade_names_substance_id'), table_name='banned_trade_names')
    op.drop_table('banned_trade_names')
