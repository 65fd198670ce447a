"""Initial schema: catalogue, org tree, fact tables, targets, data-load log, demo incidents.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 12:44:02.870990
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carrier',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('core',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('question_zh', sa.String(length=200), nullable=False),
    sa.Column('question_en', sa.String(length=200), nullable=False),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('org_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('tier', sa.SmallInteger(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('path')
    )
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_unit_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_unit_tier'), ['tier'], unique=False)

    op.create_table('campaign_daily',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('conversions', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=16, scale=2, asdecimal=False), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    with op.batch_alter_table('campaign_daily', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_daily_carrier', ['carrier_id'], unique=False)
        batch_op.create_index('ix_campaign_daily_day_carrier', ['day', 'carrier_id'], unique=False)

    op.create_table('channel_daily',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('transactions', sa.Integer(), nullable=False),
    sa.Column('minutes_scheduled', sa.Integer(), nullable=False),
    sa.Column('minutes_available', sa.Integer(), nullable=False),
    sa.Column('registrations', sa.Integer(), nullable=False),
    sa.Column('applications_total', sa.Integer(), nullable=False),
    sa.Column('applications_online', sa.Integer(), nullable=False),
    sa.Column('applications_completed', sa.Integer(), nullable=False),
    sa.Column('completion_days_sum', sa.Float(), nullable=False),
    sa.Column('payments_total', sa.Integer(), nullable=False),
    sa.Column('payments_online', sa.Integer(), nullable=False),
    sa.Column('payment_amount_total', sa.Numeric(precision=16, scale=2, asdecimal=False), nullable=False),
    sa.Column('payment_amount_online', sa.Numeric(precision=16, scale=2, asdecimal=False), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    with op.batch_alter_table('channel_daily', schema=None) as batch_op:
        batch_op.create_index('ix_channel_daily_carrier', ['carrier_id'], unique=False)
        batch_op.create_index('ix_channel_daily_day_carrier', ['day', 'carrier_id'], unique=False)

    op.create_table('content_daily',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('pushes', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Integer(), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day', 'carrier_id')
    )
    with op.batch_alter_table('content_daily', schema=None) as batch_op:
        batch_op.create_index('ix_content_daily_carrier', ['carrier_id'], unique=False)
        batch_op.create_index('ix_content_daily_day_carrier', ['day', 'carrier_id'], unique=False)

    op.create_table('data_load',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day')
    )
    with op.batch_alter_table('data_load', schema=None) as batch_op:
        batch_op.create_index('ix_data_load_day', ['day'], unique=False)

    op.create_table('demo_incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=True),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('description_zh', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('monthly_active',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('active_users', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'month', 'carrier_id')
    )
    with op.batch_alter_table('monthly_active', schema=None) as batch_op:
        batch_op.create_index('ix_monthly_active_month_carrier', ['month', 'carrier_id'], unique=False)

    op.create_table('monthly_active_total',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('active_users', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'month')
    )
    with op.batch_alter_table('monthly_active_total', schema=None) as batch_op:
        batch_op.create_index('ix_monthly_active_total_month', ['month'], unique=False)

    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi', sa.String(length=48), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kpi', 'unit_id', 'carrier_id', 'period_start', 'period_end', name='uq_target_key', postgresql_nulls_not_distinct=True)
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_kpi'), ['kpi'], unique=False)
        batch_op.create_index('ix_target_unit', ['unit_id'], unique=False)

    op.create_table('user_stock_daily',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('registered', sa.Integer(), nullable=False),
    sa.Column('bound', sa.Integer(), nullable=False),
    sa.Column('profiled', sa.Integer(), nullable=False),
    sa.Column('ebill', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day')
    )
    with op.batch_alter_table('user_stock_daily', schema=None) as batch_op:
        batch_op.create_index('ix_user_stock_daily_day', ['day'], unique=False)

    op.create_table('work_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('carrier_id', sa.SmallInteger(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_day', sa.Date(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('response_minutes', sa.Float(), nullable=True),
    sa.Column('sla_deadline', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_day', sa.Date(), nullable=True),
    sa.Column('first_contact_resolved', sa.Boolean(), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index('ix_work_order_carrier', ['carrier_id'], unique=False)
        batch_op.create_index('ix_work_order_category', ['category'], unique=False)
        batch_op.create_index('ix_work_order_closed_day', ['closed_day'], unique=False)
        batch_op.create_index('ix_work_order_created_day', ['created_day'], unique=False)
        batch_op.create_index('ix_work_order_unit_closed', ['unit_id', 'closed_day'], unique=False)
        batch_op.create_index('ix_work_order_unit_created', ['unit_id', 'created_day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_unit_created')
        batch_op.drop_index('ix_work_order_unit_closed')
        batch_op.drop_index('ix_work_order_created_day')
        batch_op.drop_index('ix_work_order_closed_day')
        batch_op.drop_index('ix_work_order_category')
        batch_op.drop_index('ix_work_order_carrier')

    op.drop_table('work_order')
    with op.batch_alter_table('user_stock_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_user_stock_daily_day')

    op.drop_table('user_stock_daily')
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_index('ix_target_unit')
        batch_op.drop_index(batch_op.f('ix_target_kpi'))

    op.drop_table('target')
    with op.batch_alter_table('monthly_active_total', schema=None) as batch_op:
        batch_op.drop_index('ix_monthly_active_total_month')

    op.drop_table('monthly_active_total')
    with op.batch_alter_table('monthly_active', schema=None) as batch_op:
        batch_op.drop_index('ix_monthly_active_month_carrier')

    op.drop_table('monthly_active')
    op.drop_table('demo_incident')
    with op.batch_alter_table('data_load', schema=None) as batch_op:
        batch_op.drop_index('ix_data_load_day')

    op.drop_table('data_load')
    with op.batch_alter_table('content_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_content_daily_day_carrier')
        batch_op.drop_index('ix_content_daily_carrier')

    op.drop_table('content_daily')
    with op.batch_alter_table('channel_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_daily_day_carrier')
        batch_op.drop_index('ix_channel_daily_carrier')

    op.drop_table('channel_daily')
    with op.batch_alter_table('campaign_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_daily_day_carrier')
        batch_op.drop_index('ix_campaign_daily_carrier')

    op.drop_table('campaign_daily')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_unit_tier'))
        batch_op.drop_index(batch_op.f('ix_org_unit_parent_id'))

    op.drop_table('org_unit')
    op.drop_table('meta')
    op.drop_table('core')
    op.drop_table('carrier')
