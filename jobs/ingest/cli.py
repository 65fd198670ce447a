"""`flask --app app import-data FILE... [--kind KIND] [--dry-run]`: validate and load files, each in
its own transaction;
`flask --app app delete-data --unit CODE --from DAY --to DAY [--kind KIND] [--dry-run]`: correct a
mistaken load; `flask --app app import-log [--limit N]`: the newest entries of the import log.

Exit status 0 when every file was imported (or, with --dry-run, found valid), 1 when one was
rejected or failed (nothing of that file written; the others are imported), 2 for wrong usage.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from auth import audit
from data.db import get_engine, get_session
from data.models import ImportLog
from jobs.ingest.correct import DELETABLE, BadRange, delete_range
from jobs.ingest.load import STARTED, import_file
from jobs.ingest.read import clip
from jobs.ingest.spec import KINDS


def init_app(app: Flask) -> None:
    """Register `import-data`, `delete-data` and `import-log`."""
    app.cli.add_command(import_data_command)
    app.cli.add_command(delete_data_command)
    app.cli.add_command(import_log_command)


@click.command("import-data")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(list(KINDS)), default=None,
              help="What the files hold (default: guessed from each file's name, else its header).")
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@with_appcontext
def import_data_command(files: tuple[Path, ...], kind: str | None, dry_run: bool) -> None:
    """Validate each FILE (CSV or .xlsx) and load it into the store, one transaction per file,
    in the order given (a day's files in one process: the app starts once)."""
    user = f"cli:{getpass.getuser()}"
    failed = False
    for file in files:
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
        failed = failed or not report.ok
    if failed:
        raise SystemExit(1)


@click.command("delete-data")
@click.option("--unit", "unit", required=True,
              help="Unit code: its facts and those of every unit below it are deleted.")
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day (YYYY-MM-DD).")
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day (YYYY-MM-DD), included.")
@click.option("--kind", type=click.Choice(list(DELETABLE)), default=None,
              help="Delete only this kind (default: every dated kind and the data-load log).")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@with_appcontext
def delete_data_command(unit: str, start, end, kind: str | None, dry_run: bool) -> None:
    """Delete the facts of UNIT's subtree from --from to --to (correcting a mistaken load)."""
    user = f"cli:{getpass.getuser()}"
    with get_engine().connect() as conn:
        trans = conn.begin()
        try:
            done = delete_range(conn, unit, start.date(), end.date(), kind, dry_run=dry_run,
                                username=user)
        except BadRange as exc:
            trans.rollback()
            raise click.UsageError(str(exc)) from exc
        if dry_run:
            trans.rollback()
        else:
            trans.commit()
    click.echo(done.summary())
    if not dry_run:
        audit.record(get_session(), "delete_data", user, target=clip(f"{kind or 'all'}:{unit}"),
                     outcome="ok", detail=done.summary())


@click.command("import-log")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@with_appcontext
def import_log_command(limit: int) -> None:
    """Show the newest imports: when, who, file, outcome, rows (an import that never finished
    shows as 'started, never finished')."""
    rows = get_session().scalars(select(ImportLog).order_by(ImportLog.started_at.desc(),
                                                            ImportLog.id.desc()).limit(limit))
    for r in rows:
        outcome = "started, never finished" if r.outcome == STARTED else r.outcome
        days = f" days {r.first_day}..{r.last_day}" if r.first_day else ""
        click.echo(f"#{r.id} {r.started_at:%Y-%m-%d %H:%M:%S} {r.username or '-'} {r.kind} "
                   f"{clip(r.file_name)}: {outcome}, read {r.rows_read} inserted {r.inserted} "
                   f"updated {r.updated} problems {r.errors}{days}")
