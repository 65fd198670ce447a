"""The stock levels carried over gaps, rolled up (`rollup_stock_gap`).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 15:00:00

A stock takes each outlet's level on its last day with data, so a view's stock at a unit was its
roll-up row plus the levels of the outlets that missed the day, read from every outlet's stock rows
(at HQ over eleven thousand outlets: 6-7 s cold). `rollup_stock_gap` holds those carried levels
per unit, day the gap began and day it ended. The other roll-ups stay as they are: the new table is
recorded as pending (meta `rollups_pending`), and until `flask --app app init-db` (or
`build-rollups`) has built it, the metrics read the facts (exact, slower).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_stock_gap',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('outlets', sa.BigInteger(), nullable=False),
    sa.Column('customers', sa.BigInteger(), nullable=False),
    sa.Column('registered', sa.BigInteger(), nullable=False),
    sa.Column('bound', sa.BigInteger(), nullable=False),
    sa.Column('profiled', sa.BigInteger(), nullable=False),
    sa.Column('ebill', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'until')
    )
    # Built alone (the other roll-ups are complete); a store with no roll-ups built at all builds
    # it with the rest. An empty store has nothing to carry.
    op.execute("INSERT INTO meta (key, value) SELECT 'rollups_pending', 'rollup_stock_gap' "
               "WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'rollups_built')")
    op.execute("DELETE FROM meta WHERE key = 'rollups_built'")


def downgrade() -> None:
    op.drop_table('rollup_stock_gap')
    op.execute("DELETE FROM meta WHERE key = 'rollups_pending'")
