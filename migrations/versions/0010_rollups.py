"""Roll-up tables: facts pre-summed per non-outlet unit (its subtree), day and carrier.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 15:00:00

After 0009 (chained when main's 0007-0009 were merged in). Existing data is rolled up by
`flask --app app init-db` (jobs.schema.upgrade), not here: until then the metrics read the facts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_channel',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('visits', sa.BigInteger(), nullable=False),
    sa.Column('transactions', sa.BigInteger(), nullable=False),
    sa.Column('transactions__online_carrier', sa.BigInteger(), nullable=False),
    sa.Column('minutes_scheduled', sa.BigInteger(), nullable=False),
    sa.Column('minutes_available', sa.BigInteger(), nullable=False),
    sa.Column('registrations', sa.BigInteger(), nullable=False),
    sa.Column('applications_total', sa.BigInteger(), nullable=False),
    sa.Column('applications_online', sa.BigInteger(), nullable=False),
    sa.Column('applications_completed', sa.BigInteger(), nullable=False),
    sa.Column('completion_days_sum', sa.Float(), nullable=False),
    sa.Column('payments_total', sa.BigInteger(), nullable=False),
    sa.Column('payments_online', sa.BigInteger(), nullable=False),
    sa.Column('payment_amount_total', sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    op.create_table('rollup_content',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('pushes', sa.BigInteger(), nullable=False),
    sa.Column('delivered', sa.BigInteger(), nullable=False),
    sa.Column('opens', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    op.create_table('rollup_campaign',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('participants', sa.BigInteger(), nullable=False),
    sa.Column('conversions', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    op.create_table('rollup_stock',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('outlets', sa.BigInteger(), nullable=False),
    sa.Column('customers', sa.BigInteger(), nullable=False),
    sa.Column('registered', sa.BigInteger(), nullable=False),
    sa.Column('bound', sa.BigInteger(), nullable=False),
    sa.Column('profiled', sa.BigInteger(), nullable=False),
    sa.Column('ebill', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day')
    )
    op.create_table('rollup_orders_created',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('rows__complaint', sa.BigInteger(), nullable=False),
    sa.Column('rows__responded', sa.BigInteger(), nullable=False),
    sa.Column('response_minutes__responded', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    op.create_table('rollup_orders_closed',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('rows__first_contact', sa.BigInteger(), nullable=False),
    sa.Column('rows__on_time', sa.BigInteger(), nullable=False),
    sa.Column('rows__satisfied', sa.BigInteger(), nullable=False),
    sa.Column('rows__rated', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )


def downgrade() -> None:
    op.drop_table('rollup_orders_closed')
    op.drop_table('rollup_orders_created')
    op.drop_table('rollup_stock')
    op.drop_table('rollup_campaign')
    op.drop_table('rollup_content')
    op.drop_table('rollup_channel')
