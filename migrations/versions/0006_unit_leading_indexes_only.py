"""Drop day- and carrier-leading fact indexes: the planners chose them and ran far slower.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:00:31.265215
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_daily_carrier'))
        batch_op.drop_index(batch_op.f('ix_campaign_daily_day_carrier'))

    with op.batch_alter_table('channel_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_daily_carrier'))
        batch_op.drop_index(batch_op.f('ix_channel_daily_day_carrier'))

    with op.batch_alter_table('content_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_daily_carrier'))
        batch_op.drop_index(batch_op.f('ix_content_daily_day_carrier'))

    with op.batch_alter_table('monthly_active', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_active_month_carrier'))

    with op.batch_alter_table('monthly_active_total', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_active_total_month'))

    with op.batch_alter_table('user_stock_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_stock_daily_day'))

    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_carrier'))
        batch_op.drop_index(batch_op.f('ix_work_order_category'))
        batch_op.drop_index(batch_op.f('ix_work_order_closed_day'))
        batch_op.drop_index(batch_op.f('ix_work_order_created_day'))



def downgrade() -> None:
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_created_day'), ['created_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_closed_day'), ['closed_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_carrier'), ['carrier_id'], unique=False)

    with op.batch_alter_table('user_stock_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_stock_daily_day'), ['day'], unique=False)

    with op.batch_alter_table('monthly_active_total', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_active_total_month'), ['month'], unique=False)

    with op.batch_alter_table('monthly_active', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_active_month_carrier'), ['month', 'carrier_id'], unique=False)

    with op.batch_alter_table('content_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_daily_day_carrier'), ['day', 'carrier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_daily_carrier'), ['carrier_id'], unique=False)

    with op.batch_alter_table('channel_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_daily_day_carrier'), ['day', 'carrier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_daily_carrier'), ['carrier_id'], unique=False)

    with op.batch_alter_table('campaign_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_daily_day_carrier'), ['day', 'carrier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_daily_carrier'), ['carrier_id'], unique=False)

