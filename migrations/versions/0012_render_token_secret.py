"""Render tokens carry the hash of a per-render secret that only the server's own Chromium holds.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 01:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens live a minute at most: any row without a secret can never be redeemed again.
    with op.batch_alter_table('render_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('render_token', schema=None) as batch_op:
        batch_op.drop_column('secret_hash')
