"""The 95598 hotline as a contact centre: 15-minute interval facts and their daily roll-up.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 15:00:00

`hotline_interval`: per answering unit (a city or province centre) and 15-minute interval, calls
offered, answered, answered within 20 s, abandoned, wait and handling seconds. `rollup_hotline`:
the same summed per unit's subtree, day and carrier (`metrics.rollups`). Both start empty, so a
store whose roll-ups are built stays built.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

MEASURES = ('offered', 'answered', 'answered_20s', 'abandoned', 'wait_seconds', 'handle_seconds')


def upgrade() -> None:
    op.create_table('hotline_interval',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('interval_start', sa.DateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    *[sa.Column(m, sa.Integer(), nullable=False) for m in MEASURES],
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'interval_start')
    )
    op.create_index('ix_hotline_interval_unit_day', 'hotline_interval', ['unit_id', 'day'],
                    unique=False)
    op.create_table('rollup_hotline',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    *[sa.Column(m, sa.BigInteger(), nullable=False) for m in MEASURES],
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )


def downgrade() -> None:
    op.drop_table('rollup_hotline')
    op.drop_index('ix_hotline_interval_unit_day', table_name='hotline_interval')
    op.drop_table('hotline_interval')
