"""The operating-stage rubric: one editable threshold per criterion.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:25:28.749378
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stage_criterion',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.SmallInteger(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('stage_criterion')
