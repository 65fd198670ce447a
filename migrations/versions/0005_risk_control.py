"""Risk control: the rule library, events and their closed-loop steps.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:34:45.217547
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('core', sa.String(length=32), nullable=False),
    sa.Column('kpi', sa.String(length=48), nullable=True),
    sa.Column('carrier', sa.String(length=32), nullable=True),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('tiers', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('owner_tier', sa.SmallInteger(), nullable=False),
    sa.Column('deadline_hours', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('risk_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['rule_id'], ['risk_rule.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_event_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index('ix_risk_event_rule_unit', ['rule_id', 'unit_id', 'carrier'], unique=False)
        batch_op.create_index('ix_risk_event_state', ['state'], unique=False)
        batch_op.create_index('ix_risk_event_unit_first', ['unit_id', 'first_day'], unique=False)

    op.create_table('risk_event_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['risk_event.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_event_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_event_step_event_id'), ['event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_event_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_event_step_event_id'))

    op.drop_table('risk_event_step')
    with op.batch_alter_table('risk_event', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_event_unit_first')
        batch_op.drop_index('ix_risk_event_state')
        batch_op.drop_index('ix_risk_event_rule_unit')
        batch_op.drop_index(batch_op.f('ix_risk_event_rule_id'))

    op.drop_table('risk_event')
    op.drop_table('risk_rule')
