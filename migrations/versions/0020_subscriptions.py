"""Subscriptions: PDFs (a unit's monthly report, a view's snapshot) delivered by email on a
schedule, every delivery attempt recorded; users get an email address.

Revision ID: 0020
Revises: 0018
Create Date: 2026-11-26 15:00:00

`subscription`: whose, what (kind report|snapshot, unit, view for a snapshot, language), when
(monthly on day N or weekly on a weekday, at a local time in the company's zone), active.
`delivery_attempt`: one row per attempt at one slot of a subscription, claimed before anything is
sent: (subscription, slot, attempt) unique, and at most one `sent` attempt per slot (a partial
unique index), so two `deliver-due` processes never send a slot twice.
`app_user.email`: where deliveries go (none: a subscription's deliveries are refused).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('app_user', sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table('subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('view', sa.String(length=500), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('schedule', sa.String(length=16), nullable=False),
    sa.Column('day', sa.SmallInteger(), nullable=True),
    sa.Column('weekday', sa.SmallInteger(), nullable=True),
    sa.Column('at', sa.Time(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_subscription_user_id', 'subscription', ['user_id'], unique=False)
    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.DateTime(), nullable=False),
    sa.Column('attempt', sa.SmallInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('next_retry_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscription_id', 'slot', 'attempt', name='uq_delivery_attempt_slot')
    )
    op.create_index('uq_delivery_attempt_sent', 'delivery_attempt', ['subscription_id', 'slot'],
                    unique=True, postgresql_where=sa.text("outcome = 'sent'"),
                    sqlite_where=sa.text("outcome = 'sent'"))


def downgrade() -> None:
    op.drop_index('uq_delivery_attempt_sent', table_name='delivery_attempt')
    op.drop_table('delivery_attempt')
    op.drop_index('ix_subscription_user_id', table_name='subscription')
    op.drop_table('subscription')
    op.drop_column('app_user', 'email')
