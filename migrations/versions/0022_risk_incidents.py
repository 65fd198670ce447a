"""Risk handling as operations teams work: incidents, assignees, escalation, notifications.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 04:00:00

`risk_incident` groups the events of one rule on the same days at a unit and its descendants (an
outage seen at a county and its outlets), and carries who it is assigned to, its escalation and
when it was dispatched and resolved; `risk_event.incident_id` says which incident an event is
worked in. Events from before this revision have none until `flask --app app init-db` (or the
next risk scan) groups them. Steps record assignments and escalations (`action`, `assignee`).
`risk_notification` is the outbox of notices (email, webhook), `risk_webhook` the chat robots'
URLs per unit subtree; steps are indexed by time for the notices' sweep. Writes to `risk_incident` bump the `risk` stamp, as the other risk tables'.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

TABLE = "risk_incident"
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('assignee_unit_id', sa.Integer(), nullable=True),
    sa.Column('assignee_role', sa.String(length=16), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('escalated_unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['risk_rule.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['assignee_unit_id'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['escalated_unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    for name, cols in (("ix_risk_incident_rule_days", ["rule_id", "first_day"]),
                       ("ix_risk_incident_assignee", ["assignee_id"]),
                       ("ix_risk_incident_assignee_unit", ["assignee_unit_id"]),
                       ("ix_risk_incident_escalated_unit", ["escalated_unit_id"]),
                       ("ix_risk_incident_owner", ["owner_unit_id"])):
        op.create_index(name, TABLE, cols, unique=False)
    op.create_table('risk_webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id')
    )
    op.create_table('risk_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('webhook_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['risk_incident.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['webhook_id'], ['risk_webhook.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'kind', 'trigger', 'channel', 'recipient',
                        name='uq_risk_notification_cause')
    )
    op.create_index('ix_risk_notification_incident_id', 'risk_notification', ['incident_id'])
    op.create_index('ix_risk_notification_state', 'risk_notification', ['state', 'next_try_at'])
    # Plain ADD COLUMN (no table rebuild on SQLite, which would drop the stamp triggers); the
    # foreign key is declared inline where the database can (SQLite takes it in ADD COLUMN).
    if op.get_bind().dialect.name == "postgresql":
        op.add_column('risk_event', sa.Column('incident_id', sa.Integer(), nullable=True))
        op.create_foreign_key('risk_event_incident_id_fkey', 'risk_event', 'risk_incident',
                              ['incident_id'], ['id'])
    else:
        op.execute("ALTER TABLE risk_event ADD COLUMN incident_id INTEGER "
                   "REFERENCES risk_incident (id)")
    op.create_index('ix_risk_event_incident_id', 'risk_event', ['incident_id'])
    op.add_column('risk_event_step', sa.Column('action', sa.String(length=16), nullable=False,
                                               server_default='move'))
    op.add_column('risk_event_step', sa.Column('assignee', sa.String(length=160), nullable=True))
    op.create_index('ix_risk_event_step_at', 'risk_event_step', ['at'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION bump_store_version('risk')")
    else:
        for what in EVENTS:
            op.execute(f"CREATE TRIGGER {TABLE}_version_{what} AFTER {what.upper()} ON {TABLE} "
                       f"BEGIN UPDATE store_version SET version = version + 1 "
                       f"WHERE name = 'risk'; END")
    op.execute("UPDATE store_version SET version = version + 1 WHERE name = 'risk'")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TABLE}_version ON {TABLE}")
    else:
        for what in EVENTS:
            op.execute(f"DROP TRIGGER {TABLE}_version_{what}")
    op.drop_index('ix_risk_event_step_at', table_name='risk_event_step')
    op.drop_column('risk_event_step', 'assignee')
    op.drop_column('risk_event_step', 'action')
    op.drop_index('ix_risk_event_incident_id', table_name='risk_event')
    if bind.dialect.name == "postgresql":
        op.drop_constraint('risk_event_incident_id_fkey', 'risk_event', type_='foreignkey')
        op.drop_column('risk_event', 'incident_id')
    else:
        # SQLite drops no column a foreign key uses: the table is rebuilt, which loses its
        # stamp triggers (0015's), so they are made again; the steps' references to the events
        # are checked at commit, when the rebuilt table holds them again.
        op.execute("PRAGMA defer_foreign_keys = ON")
        op.execute("PRAGMA foreign_keys = OFF")
        with op.batch_alter_table('risk_event', schema=None) as batch_op:
            batch_op.drop_column('incident_id')
        op.execute("PRAGMA foreign_keys = ON")
        for what in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS risk_event_version_{what}")
            op.execute(f"CREATE TRIGGER risk_event_version_{what} AFTER {what.upper()} ON "
                       f"risk_event BEGIN UPDATE store_version SET version = version + 1 "
                       f"WHERE name = 'risk'; END")
    op.drop_index('ix_risk_notification_state', table_name='risk_notification')
    op.drop_index('ix_risk_notification_incident_id', table_name='risk_notification')
    op.drop_table('risk_notification')
    op.drop_table('risk_webhook')
    op.drop_table(TABLE)
    op.execute("UPDATE store_version SET version = version + 1 WHERE name = 'risk'")
