"""`flask --app app snapshot URLPATH --user USERNAME --out FILE.pdf`: PDF snapshots from the shell.

The command serves the app itself on a free local port (a thread) and renders against that, as
the user: the renderer signs in with a single-use token and sees what the user sees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import WSGIRequestHandler, make_server

from auth.accounts import AccountError, find_user
from data.db import get_session
from export.render import Paper, RenderError, write_atomically
from export.service import close_renderer, prepare, render
from export.views import ExportInvalid, ExportRefused, ExportView, child_views, file_name, resolve, safe_part


def init_app(app: Flask) -> None:
    """Register `snapshot`."""
    app.cli.add_command(snapshot_command)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Keep the command's output to what it wrote."""


@contextmanager
def local_server(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="snapshot-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class UnsafeOutput(OSError):
    """A file name built from the data would land outside the output folder."""


def output_path(out: str, target: ExportView, each_child: bool) -> Path:
    """Where one snapshot goes: `out` itself, or with --each-child a file in the directory `out`
    (named page-UNIT-START_END.pdf) or `out` with {unit}, {name}, {page}, {start}, {end} filled in.

    Values from the data are made safe for a file name (no separators, no leading dot) and the
    result must stay inside the output folder (the directory part of `out` before any field);
    UnsafeOutput otherwise."""
    if not each_child:
        return Path(out)
    if "{" in out:
        folder = Path(out[:out.index("{")] + "x").parent
        fields = {"unit": target.unit.code, "name": target.unit.name_zh,
                  "page": target.page.strip("/") or "overview",
                  "start": target.view.start.isoformat(), "end": target.view.end.isoformat()}
        try:
            dest = Path(out.format(**{k: safe_part(v) for k, v in fields.items()}))
        except (KeyError, IndexError, ValueError) as exc:
            raise click.BadParameter(f"--out pattern {out!r}: use only {{unit}}, {{name}}, {{page}}, "
                                     f"{{start}}, {{end}} ({exc})") from exc
    else:
        folder = Path(out)
        dest = folder / file_name(target)
    if not dest.resolve().is_relative_to(folder.resolve()) or dest.resolve() == folder.resolve():
        raise UnsafeOutput(f"the file name for unit {target.unit.code!r} would leave {folder}/; "
                           "nothing written")
    return dest


@click.command("snapshot")
@click.argument("urlpath")
@click.option("--user", "username", required=True, help="Render as this user (their scope and language).")
@click.option("--out", required=True,
              help="The PDF file; with --each-child a directory or a pattern with {unit}, {name}, "
                   "{page}, {start}, {end}.")
@click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True)
@click.option("--orientation", type=click.Choice(["landscape", "portrait"]), default="landscape",
              show_default=True)
@click.option("--each-child", is_flag=True, help="One PDF per child unit of the view's unit.")
@with_appcontext
def snapshot_command(urlpath, username, out, paper, orientation, each_child):
    """Write the view at URLPATH (e.g. '/regions?unit=ZJ-HZ&period=last_month') as a PDF."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session = get_session()
    try:
        user = find_user(session, username)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    if not user.active:
        raise click.ClickException(f"user '{username}' is deactivated")
    try:
        target = resolve(session, user, urlpath)
        targets = child_views(session, user, target) if each_child else [target]
    except (ExportRefused, ExportInvalid) as exc:
        from auth import audit

        audit.record(session, "export", username, target=urlpath, outcome="refused", detail=f"cli: {exc}")
        raise click.ClickException(f"refused: {exc}") from exc
    if not targets:
        raise click.ClickException(f"{target.unit.code} has no child units")
    failures = 0
    try:
        with local_server(app) as base:
            for view in targets:
                try:
                    dest = output_path(out, view, each_child)
                    prepared = prepare(app, session, user, view.path, Paper(paper, orientation), base,
                                       "cli")
                    session.commit()  # the renderer redeems the token over its own connection
                    data = render(app, session, user, prepared)
                    write_atomically(dest, data)
                except UnsafeOutput as exc:
                    from auth import audit

                    audit.record(session, "export", username, target=view.path, outcome="refused",
                                 detail=f"cli: {exc}")
                    failures += 1
                    click.echo(f"FAILED {view.path}: {exc}", err=True)
                    continue
                except (RenderError, ExportRefused, ExportInvalid, OSError) as exc:
                    failures += 1
                    click.echo(f"FAILED {view.path}: {exc}", err=True)
                    continue
                click.echo(f"{dest}  ({len(data) // 1024} KB)")
    finally:
        close_renderer(app)
    if failures:
        raise click.ClickException(f"{failures} of {len(targets)} snapshot(s) failed; no file was "
                                   "written for them")
