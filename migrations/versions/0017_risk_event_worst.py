"""An event's worst day (value and threshold of that day); why the scan skipped a rule.

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-26 04:40:00

`risk_event.worst_day`, `worst_value`, `worst_threshold`: the day of the breach whose value lies
furthest beyond its threshold (risk.scan.record). Existing events get their stored pair and
last day (their threshold may be of the first day: the scan did not update it before).
`risk_rule.skip_reason`, `skipped_at`: why the last scan skipped the rule (risk.params), and when.
The starter rule `complaint_surge`, where unedited, gains `min_count` (fires from zero).

Plain ADD/DROP COLUMN, not batch mode: a batch rebuild on SQLite would drop the tables' version
triggers (0015).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

SURGE_BEFORE = {"window": 7, "max_rise": 2.0, "min_numerator": 8}
SURGE_AFTER = {**SURGE_BEFORE, "min_count": 8}


def upgrade() -> None:
    op.add_column('risk_event', sa.Column('worst_day', sa.Date(), nullable=True))
    op.add_column('risk_event', sa.Column('worst_value', sa.Float(), nullable=True))
    op.add_column('risk_event', sa.Column('worst_threshold', sa.Float(), nullable=True))
    op.add_column('risk_rule', sa.Column('skip_reason', sa.Text(), nullable=True))
    op.add_column('risk_rule', sa.Column('skipped_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE risk_event SET worst_day = last_day, worst_value = value, "
               "worst_threshold = threshold")
    op.execute(sa.text("UPDATE risk_rule SET params = :after WHERE code = 'complaint_surge' "
                       "AND params = :before")
               .bindparams(after=json.dumps(SURGE_AFTER), before=json.dumps(SURGE_BEFORE)))


def downgrade() -> None:
    op.execute(sa.text("UPDATE risk_rule SET params = :before WHERE code = 'complaint_surge' "
                       "AND params = :after")
               .bindparams(after=json.dumps(SURGE_AFTER), before=json.dumps(SURGE_BEFORE)))
    op.drop_column('risk_rule', 'skipped_at')
    op.drop_column('risk_rule', 'skip_reason')
    op.drop_column('risk_event', 'worst_threshold')
    op.drop_column('risk_event', 'worst_value')
    op.drop_column('risk_event', 'worst_day')
