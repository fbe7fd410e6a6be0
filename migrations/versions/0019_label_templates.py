"""label templates: a cooperative's own label sheets, its short name for labels, and each run's frozen sheet

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The built-in sheets as they were before this revision: runs ordered earlier keep the dimensions they were
# printed with (the built-ins now follow cited templates, some a few tenths of a millimetre apart).
_A4 = {"page_width": 210.0, "page_height": 297.0}
EARLIER_SHEETS = {
    "a4-65": {**_A4, "label_width": 38.1, "label_height": 21.2, "columns": 5, "rows": 13, "margin_left": 4.67,
              "margin_top": 10.7, "pitch_x": 40.64, "pitch_y": 21.2, "corner_radius": 1.5},
    "a4-40": {**_A4, "label_width": 48.5, "label_height": 25.4, "columns": 4, "rows": 10, "margin_left": 8.0,
              "margin_top": 21.5},
    "a4-24": {**_A4, "label_width": 64.0, "label_height": 33.9, "columns": 3, "rows": 8, "margin_left": 6.5,
              "margin_top": 12.9, "pitch_x": 66.5, "pitch_y": 33.9, "corner_radius": 2.0},
    "a4-21": {**_A4, "label_width": 63.5, "label_height": 38.1, "columns": 3, "rows": 7, "margin_left": 7.21,
              "margin_top": 15.15, "pitch_x": 66.04, "pitch_y": 38.1, "corner_radius": 2.5},
    "a4-14": {**_A4, "label_width": 99.1, "label_height": 38.1, "columns": 2, "rows": 7, "margin_left": 4.65,
              "margin_top": 15.15, "pitch_x": 101.6, "pitch_y": 38.1, "corner_radius": 2.5},
    **{f"roll-{w}x{h}": {"page_width": float(w), "page_height": float(h), "label_width": float(w),
                         "label_height": float(h), "printer_dpi": 203} for w, h in ((40, 30), (50, 30), (30, 20))},
}


def upgrade():
    op.create_table(
        'label_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cooperative_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('page_size', sa.String(length=8), nullable=False),
        sa.Column('page_width', sa.Double(), nullable=False),
        sa.Column('page_height', sa.Double(), nullable=False),
        sa.Column('columns', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('label_width', sa.Double(), nullable=False),
        sa.Column('label_height', sa.Double(), nullable=False),
        sa.Column('margin_left', sa.Double(), nullable=False),
        sa.Column('margin_top', sa.Double(), nullable=False),
        sa.Column('gap_x', sa.Double(), nullable=False),
        sa.Column('gap_y', sa.Double(), nullable=False),
        sa.Column('corner_radius', sa.Double(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], ),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('label_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_templates_cooperative_id'), ['cooperative_id'], unique=False)
    # Plain ADD COLUMN, never a copy: other tables point at cooperatives and at label_runs.
    with op.batch_alter_table('cooperatives', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('label_name', sa.String(length=30), nullable=True))
    with op.batch_alter_table('label_runs', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('sheet', sa.JSON(), nullable=True))
    runs = sa.table('label_runs', sa.column('template', sa.String), sa.column('sheet', sa.JSON))
    for template, sheet in EARLIER_SHEETS.items():
        op.execute(runs.update().where(runs.c.template == template).values(sheet=sheet))


def downgrade():
    with op.batch_alter_table('label_runs', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('sheet')
    with op.batch_alter_table('cooperatives', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('label_name')
    with op.batch_alter_table('label_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_templates_cooperative_id'))
    op.drop_table('label_templates')
