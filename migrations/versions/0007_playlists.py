"""Wall-display playlists and their views.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'playlist',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('refresh_seconds', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'playlist_item',
        sa.Column('playlist_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('dwell_seconds', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['playlist_id'], ['playlist.id'],
                                name=op.f('fk_playlist_item_playlist_id_playlist'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('playlist_id', 'position'),
    )


def downgrade() -> None:
    op.drop_table('playlist_item')
    op.drop_table('playlist')
