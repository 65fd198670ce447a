"""The risk scan's runs: which days each scan covered, for every unit or for some.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 04:40:00

Until now a scan only moved a "scanned through" day (`meta.risk_scanned_through`), and every month
up to it counted as covered for the closed-on-time stage criterion, including months no scan ever
looked at. `risk_scan_run` records each run's days (and how many rules it had to skip); the criterion trusts only the days that runs
over every unit covered. The old mark says nothing about which days were scanned, so it is dropped
and no day counts as covered until the next scan (rescan the history with
`flask --app app risk-scan --from YYYY-MM-DD --to YYYY-MM-DD`; scanning again creates nothing twice).
The table's writes bump the `risk` stamp (as 0015 does for the other risk tables), and the upgrade
bumps it once, since the stage results cached before it no longer hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TABLE = "risk_scan_run"
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('all_units', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('extended', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False, server_default='0'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index('ix_risk_scan_run_all_first', ['all_units', 'first_day'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION bump_store_version('risk')")
    else:
        for what in EVENTS:
            op.execute(f"CREATE TRIGGER {TABLE}_version_{what} AFTER {what.upper()} ON {TABLE} "
                       f"BEGIN UPDATE store_version SET version = version + 1 "
                       f"WHERE name = 'risk'; END")
    op.execute("DELETE FROM meta WHERE key = 'risk_scanned_through'")
    op.execute("UPDATE store_version SET version = version + 1 WHERE name = 'risk'")


def downgrade() -> None:
    bind = op.get_bind()
    through = bind.execute(sa.text(
        f"SELECT max(last_day) FROM {TABLE} WHERE all_units")).scalar()
    if through is not None:
        op.execute(sa.text("INSERT INTO meta (key, value) VALUES ('risk_scanned_through', :v)")
                   .bindparams(v=str(through)[:10]))
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TABLE}_version ON {TABLE}")
    else:
        for what in EVENTS:
            op.execute(f"DROP TRIGGER {TABLE}_version_{what}")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index('ix_risk_scan_run_all_first')
    op.drop_table(TABLE)
    op.execute("UPDATE store_version SET version = version + 1 WHERE name = 'risk'")
