"""Create and upgrade the schema with alembic; `flask --app app init-db` lives here."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from data.catalog import ensure_catalog
from data.changes import rollups
from data.db import get_engine
from data.rubric import ensure_rubric
from data.units import UNIT_CODE_RULE, bad_unit_codes
from risk.incidents import group_ungrouped
from risk.library import ensure_rules

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    """Return the project's alembic configuration."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store behind `engine` to `revision` and seed the catalogue if it is missing."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if revision == "head":
        with Session(engine) as session, session.begin():
            ensure_catalog(session)
            ensure_rubric(session)
            ensure_rules(session)
            group_ungrouped(session)  # events from before incidents (migration 0022)
        # A store that had facts before roll-ups existed (or whose build was interrupted): built
        # in chunks, resuming where a previous build stopped; an empty store is marked built.
        rollups().build(engine)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the store behind `engine` down to `revision`."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def is_current(engine: Engine) -> bool:
    """Tell whether the store is migrated to the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def init_app(app: Flask) -> None:
    """Register `init-db` and `build-rollups`."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(build_rollups_command)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the schema or migrate it to the newest revision (safe to run again)."""
    engine = get_engine()
    upgrade(engine)
    click.echo(f"Store at {engine.url.render_as_string(hide_password=True)} is at the newest schema.")
    with Session(engine) as session:
        bad = bad_unit_codes(session)
    if bad:  # imported before the rule existed: they keep working, but say so at every upgrade
        shown = ", ".join(repr(c) for c in bad[:20]) + (" ..." if len(bad) > 20 else "")
        click.echo(f"Warning: {len(bad)} unit code(s) break the rule ({UNIT_CODE_RULE[1]}): "
                   f"{shown}. Units files cannot update them; see README, 'Unit codes'.", err=True)


@click.command("build-rollups")
@with_appcontext
def build_rollups_command() -> None:
    """Build the roll-up tables whole, a city's subtree per transaction, continuing an
    interrupted build."""
    did = rollups().build(get_engine(),
                          lambda done, chunks: click.echo(f"roll-ups: chunk {done} of {chunks} built"))
    click.echo("Roll-ups complete." if did else "Roll-ups were already complete.")
