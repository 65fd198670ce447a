"""Single-use sign-in tokens for the PDF renderer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 14:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('render_token',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('render_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_render_token_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_render_token_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('render_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_render_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_render_token_expires_at'))

    op.drop_table('render_token')
