"""`flask --app app report UNIT --month YYYY-MM --out FILE.pdf [--lang zh|en] [--each-child]
[--as USER]`: the monthly operations report from the shell.

Without --as the command runs as the operator on the server (every unit; the audit names
"operator"); with --as USER it makes what that user may have (their scope, and their language
unless --lang says otherwise). With --each-child it writes one report per child unit of UNIT:
--out is then a directory (report-CHILD-YYYY-MM-LANG.pdf in it) or a pattern with {unit} and
{month} (e.g. 'out/{unit}-{month}.pdf'). Files are written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from auth.accounts import AccountError, find_user
from data.db import get_session
from data.units import children
from export.render import RenderError, write_atomically
from export.service import close_renderer
from export.views import safe_part
from report.build import build_report_with_content
from report.content import ReportInvalid, ReportRefused, check_request


def init_app(app: Flask) -> None:
    """Register `report`."""
    app.cli.add_command(report_command)


def child_output(out: str, code: str, month: str, lang: str) -> Path:
    """Where one child's report goes: a pattern with {unit} and {month} filled in (made safe for a
    file name), else the directory `out`; never outside the folder the pattern names."""
    if "{" in out:
        folder = Path(out[:out.index("{")] + "x").parent
        try:
            dest = Path(out.format(unit=safe_part(code, True), month=month))
        except (KeyError, IndexError, ValueError) as exc:
            raise click.BadParameter(f"--out pattern {out!r}: use only {{unit}} and {{month}} "
                                     f"({exc})") from exc
    else:
        folder = Path(out)
        dest = folder / f"report-{safe_part(code, True)}-{month}-{lang}.pdf"
    if not dest.resolve().is_relative_to(folder.resolve()) or dest.resolve() == folder.resolve():
        raise click.ClickException(f"the file name for unit {code!r} would leave {folder}/")
    return dest


@click.command("report")
@click.argument("unit")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option("--out", required=True,
              help="The PDF file; with --each-child a directory or a pattern with {unit}, {month}.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language (default: the --as user's, else zh).")
@click.option("--each-child", is_flag=True, help="One report per child unit of UNIT.")
@click.option("--as", "as_user", default=None,
              help="Make the report as this user (their scope); default: the operator, every unit.")
@with_appcontext
def report_command(unit, month, out, lang, each_child, as_user):
    """Write the monthly operations analysis report of UNIT for --month as a PDF."""
    session = get_session()
    user = None
    if as_user:
        try:
            user = find_user(session, as_user)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        if not user.active:
            raise click.ClickException(f"user '{as_user}' is deactivated")
    lang = lang or (user.language if user is not None else None) or "zh"
    try:
        request = check_request(session, user, unit, month)
    except (ReportRefused, ReportInvalid) as exc:
        from auth import audit
        from report.build import OPERATOR, target_of

        audit.record(session, "export", user.username if user else OPERATOR,
                     target=target_of(unit, month),
                     outcome="refused" if isinstance(exc, ReportRefused) else "invalid",
                     detail=f"report via cli: {exc}")
        raise click.ClickException(f"{exc} / {exc.zh}") from exc
    codes = [k.code for k in children(session, request.unit)] if each_child else [unit]
    if each_child and not codes:
        raise click.ClickException(f"{unit} has no child units / {unit} 没有下级单位")
    app = _app()
    failures = 0
    try:
        for code in codes:
            try:
                dest = (child_output(out, code, f"{request.ranges.start:%Y-%m}", lang)
                        if each_child else Path(out))
                _content, data = build_report_with_content(session, user, code, month, lang, "cli")
                write_atomically(dest, data)
                session.commit()  # the audit row of a report made
            except (ReportRefused, ReportInvalid, RenderError, OSError, click.ClickException) as exc:
                session.commit()  # keep the audit of the refusal or failure
                failures += 1
                zh = getattr(exc, "zh", "")
                click.echo(f"FAILED {code}: {exc}" + (f" / {zh}" if zh else ""), err=True)
                continue
            click.echo(f"{dest}  ({len(data) // 1024} KB)")
    finally:
        close_renderer(app)
    if failures:
        raise click.ClickException(f"{failures} of {len(codes)} report(s) failed; no file was "
                                   "written for them")


def _app() -> Flask:
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]
