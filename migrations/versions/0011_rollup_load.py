"""Roll-up of the data-load log (completeness, timeliness); online transactions read by carrier.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 17:30:00

`rollup_load` counts each non-outlet unit's subtree's loaded unit-days per day, so the Stages page
no longer reads the outlets' `data_load` rows. `rollup_channel.transactions__online_carrier` goes:
each roll-up row has its carrier, so the filter is applied when read, and re-classifying a carrier
no longer leaves a stale column. The roll-ups are marked unbuilt: until `flask --app app init-db`
(jobs.schema.upgrade) rebuilds them, the metrics read the facts (exact, slower).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_load',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('rows__timely', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('unit_id', 'day')
    )
    with op.batch_alter_table('rollup_channel') as batch:
        batch.drop_column('transactions__online_carrier')
    op.execute("DELETE FROM meta WHERE key = 'rollups_built'")


def downgrade() -> None:
    with op.batch_alter_table('rollup_channel') as batch:
        batch.add_column(sa.Column('transactions__online_carrier', sa.BigInteger(), nullable=False,
                                   server_default='0'))
    op.drop_table('rollup_load')
    op.execute("DELETE FROM meta WHERE key = 'rollups_built'")
