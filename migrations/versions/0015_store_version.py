"""Version stamps of the stored data that cached results depend on, read in one cheap query.

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-26 01:45:00

`store_version` holds one row per stamp (`data.changes.STAMPED`). `facts` is bumped by
`data.changes.data_changed` (it replaces `meta.data_version`); `targets`, `rubric`, `risk` and
`carriers` are bumped by triggers on their tables, in the writing transaction, whoever writes
(the app, an import, a seed, or an administrator in psql). The cache no longer counts the target
table or scans the risk events on every request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None

# A frozen copy of data.changes.STAMPED as of this revision (a later table gets its own migration).
STAMPED = {"targets": ("target",), "rubric": ("stage_criterion",),
           "risk": ("risk_rule", "risk_event", "risk_event_step"), "carriers": ("carrier",)}
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table('store_version',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    bind = op.get_bind()
    facts = bind.execute(sa.text("SELECT value FROM meta WHERE key = 'data_version'")).scalar()
    rows = [{"name": "facts", "version": int(facts or 0)}] + [
        {"name": name, "version": 1} for name in STAMPED]
    op.bulk_insert(sa.table('store_version', sa.column('name', sa.String),
                            sa.column('version', sa.BigInteger)), rows)
    op.execute("DELETE FROM meta WHERE key IN ('data_version', 'targets_version')")
    if bind.dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION bump_store_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE store_version SET version = version + 1 WHERE name = TG_ARGV[0];
                RETURN NULL;
            END $$""")
        for name, tables in STAMPED.items():
            for table in tables:
                op.execute(f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR "
                           f"TRUNCATE ON {table} FOR EACH STATEMENT "
                           f"EXECUTE FUNCTION bump_store_version('{name}')")
    else:  # SQLite has row triggers only
        for name, tables in STAMPED.items():
            for table in tables:
                for what in EVENTS:
                    op.execute(f"CREATE TRIGGER {table}_version_{what} AFTER {what.upper()} ON "
                               f"{table} BEGIN UPDATE store_version SET version = version + 1 "
                               f"WHERE name = '{name}'; END")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for tables in STAMPED.values():
            for table in tables:
                op.execute(f"DROP TRIGGER {table}_version ON {table}")
        op.execute("DROP FUNCTION bump_store_version()")
    else:
        for tables in STAMPED.values():
            for table in tables:
                for what in EVENTS:
                    op.execute(f"DROP TRIGGER {table}_version_{what}")
    facts = bind.execute(sa.text("SELECT version FROM store_version WHERE name = 'facts'")).scalar()
    if facts:
        op.execute(sa.text("INSERT INTO meta (key, value) VALUES ('data_version', :v)")
                   .bindparams(v=str(facts)))
    op.drop_table('store_version')
