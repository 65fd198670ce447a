"""`flask --app app risk-scan`: evaluate the rule library over days (idempotent)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

import settings
from data.clock import yesterday
from data.db import get_session
from risk.scan import scan


def init_app(app: Flask) -> None:
    """Register `risk-scan`."""
    app.cli.add_command(risk_scan_command)


@click.command("risk-scan")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Scan this day (default: yesterday in TIMEZONE).")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@with_appcontext
def risk_scan_command(day, start, end) -> None:
    """Evaluate every active risk rule for every unit on the given days."""
    if (start is None) != (end is None):
        raise click.UsageError("--from and --to go together")
    if day is not None and start is not None:
        raise click.UsageError("give either --date or --from/--to")
    if start is not None:
        first, last = start.date(), end.date()
    else:
        first = last = day.date() if day else yesterday(settings.current().TIMEZONE)
    if last < first:
        raise click.UsageError("--to is before --from")
    session = get_session()
    stats = scan(session, first, last)
    session.commit()
    click.echo(f"Scanned {first} to {last}: {stats['new']} new event(s), "
               f"{stats['extended']} extended.")
