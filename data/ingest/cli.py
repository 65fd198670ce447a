"""`flask --app app import-data FILE [--kind KIND] [--dry-run]`: validate and load one file.

Exit status 0 when the file was imported (or, with --dry-run, found valid), 1 when it was rejected
(nothing written), 2 for wrong usage.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from auth import audit
from data.db import get_engine, get_session
from data.ingest.load import import_file
from data.ingest.spec import KINDS


def init_app(app: Flask) -> None:
    """Register `import-data`."""
    app.cli.add_command(import_data_command)


@click.command("import-data")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(list(KINDS)), default=None,
              help="What the file holds (default: guessed from the file name, else the header).")
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@with_appcontext
def import_data_command(file: Path, kind: str | None, dry_run: bool) -> None:
    """Validate FILE (CSV or .xlsx) and load it into the store in one transaction."""
    user = f"cli:{getpass.getuser()}"
    report = import_file(get_engine(), file, kind, dry_run=dry_run, username=user,
                         tz=current_app.config["TIMEZONE"],
                         data_start=current_app.config["DATA_START"])
    for line in report.problem_lines():
        click.echo(line, err=True)
    click.echo(report.summary())
    if report.risk:
        click.echo(f"Risk scan of the imported days: "
                   f"{report.risk['new']} new event(s), {report.risk['extended']} extended.")
    if not dry_run:
        audit.record(get_session(), "import", user, target=f"{report.kind}:{file.name}",
                     outcome="ok" if report.ok else report.outcome,
                     detail=f"{report.file_hash[:16]} read {report.rows_read} inserted "
                            f"{report.inserted} updated {report.updated} problems "
                            f"{report.problem_count}")
    if not report.ok:
        raise SystemExit(1)
