"""Data import (admins): upload a CSV or .xlsx file, see its validation report or import summary,
the recent import log, and correct a mistaken load (delete a unit's facts over days).

Thin: `jobs.ingest.upload` checks the role on the server, runs `jobs.ingest` and audits.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html
from flask_login import current_user

import settings
from auth.admin import NotPermitted
from auth.guard import writes_data
from components.i18n import MESSAGES, t
from components.tables import grid
from data.db import get_engine, get_session
from jobs.ingest import KINDS, ImportReport, upload
from jobs.ingest.correct import DELETABLE, BadRange
from pages._common import company_zone, in_zone

dash.register_page(__name__, path="/admin/import", name="Import · 数据导入")


def _lang() -> str:
    return getattr(current_user, "language", None) or "zh"


def layout(**_query: str):
    """Render the upload page for admins; anyone else gets a 'not permitted' message."""
    lang = _lang()
    if getattr(current_user, "role", None) != "admin":
        return dmc.Container(dmc.Alert(t("import.not_permitted", lang), color="red",
                                       id="import-denied"), py="xl")
    kinds = [{"value": "", "label": t("import.kind_auto", lang)}] + [
        {"value": k.name, "label": f"{k.name} · {_kind_title(k, lang)}"} for k in KINDS.values()]
    return dmc.Container([
        dmc.Title(t("import.title", lang), order=2),
        dmc.Text(t("import.help", lang), size="sm", c="dimmed", my="xs"),
        dmc.Group([
            dmc.Select(id="import-kind", label=t("import.kind", lang), data=kinds, value="", w=320),
            dmc.Switch(id="import-dry-run", label=t("import.dry_run", lang), checked=True, mt=24),
        ], align="flex-start"),
        dcc.Upload(id="import-upload", children=html.Div(t("import.drop", lang)), multiple=False,
                   accept=".csv,.txt,.xlsx", className="import-drop",
                   style={"border": "1px dashed #999", "borderRadius": "6px", "padding": "28px",
                          "textAlign": "center", "margin": "12px 0", "cursor": "pointer"}),
        dcc.Loading(html.Div(id="import-result")),
        dmc.Title(t("import.log", lang), order=4, mt="md"),
        html.Div(id="import-log", children=_log_grid(_recent(), lang)),
        _delete_form(lang),
    ], size="xl", py="md")


def _kind_title(kind, lang: str) -> str:
    """A file format's title in `lang` (its documented English title if the catalogue lacks it)."""
    key = f"import.kind.{kind.name}"
    return t(key, lang) if key in MESSAGES else kind.title


def _delete_form(lang: str):
    kinds = [{"value": "", "label": t("import.delete.kind_all", lang)}] + [
        {"value": k, "label": f"{k} · {_kind_title(KINDS[k], lang)}"} for k in DELETABLE]
    return dmc.Stack([
        dmc.Title(t("import.delete.title", lang), order=4, mt="lg"),
        dmc.Text(t("import.delete.help", lang), size="sm", c="dimmed"),
        dmc.Group([
            dmc.TextInput(id="delete-unit", label=t("import.delete.unit", lang), w=180),
            dmc.TextInput(id="delete-from", label=t("import.delete.from", lang),
                          placeholder="YYYY-MM-DD", w=140),
            dmc.TextInput(id="delete-to", label=t("import.delete.to", lang),
                          placeholder="YYYY-MM-DD", w=140),
            dmc.Select(id="delete-kind", label=t("import.kind", lang), data=kinds, value="", w=260),
            dmc.Switch(id="delete-dry-run", label=t("import.dry_run", lang), checked=True, mt=24),
            dmc.Button(t("import.delete.button", lang), id="delete-submit", color="red", mt=24),
        ], align="flex-start"),
        html.Div(id="delete-result"),
    ], gap="xs")


def _recent() -> list[dict]:
    try:
        return upload.recent_imports(get_session(), current_user, tz=company_zone())
    except NotPermitted:
        return []


OUTCOMES = {f"import.outcome.{o}" for o in ("started", "imported", "rejected", "failed", "deleted")}
LOG_COLUMNS = ("started_at", "username", "kind", "file_name", "file_hash", "outcome", "rows_read",
               "inserted", "updated", "errors", "seconds", "days")
LOG_HEADERS = {"started_at": "col.time", "username": "col.user", "kind": "col.kind",
               "file_name": "col.file", "file_hash": "col.hash", "outcome": "col.outcome",
               "rows_read": "col.rows_read", "inserted": "col.inserted", "updated": "col.updated",
               "errors": "col.errors", "seconds": "col.seconds", "days": "col.days"}


def _log_grid(rows: list[dict], lang: str):
    rows = [{**r, "outcome": t(f"import.outcome.{r['outcome']}", lang)
             if f"import.outcome.{r['outcome']}" in OUTCOMES else r["outcome"]} for r in rows]
    return grid("import-log", rows, [{"field": f, "headerName": in_zone(LOG_HEADERS[f], lang)
                                      if f == "started_at" else t(LOG_HEADERS[f], lang)}
                                     for f in LOG_COLUMNS], lang)


def report_view(report: ImportReport, lang: str):
    """The validation report (file, row, column, reason; the first 100 and the count) or summary."""
    if not report.ok:
        rows = [{"file": report.file_name, "row": p.row, "column": p.column,
                 "reason": p.reason_in(lang)} for p in report.problems]
        count = t("import.problems", lang).format(count=report.problem_count)
        title = t("import.failed" if report.outcome == "failed" else "import.rejected", lang)
        parts = [dmc.Alert(f"{report.file_name} ({report.kind}): {count}",
                           title=title, color="red", id="import-rejected")]
        if report.problem_count > len(report.problems):
            parts.append(dmc.Text(t("import.more", lang).format(shown=len(report.problems),
                                                                count=report.problem_count),
                                  size="sm", id="import-more"))
        columns = {"file": ("col.file", 2), "row": ("col.row", 1), "column": ("col.column", 1),
                   "reason": ("col.reason", 5)}
        parts.append(grid("import-problems", rows,
                          [{"field": f, "headerName": t(key, lang), "flex": w,
                            "tooltipField": f} for f, (key, w) in columns.items()], lang))
        return dmc.Stack(parts, gap="xs")
    title = t("import.valid" if report.dry_run else "import.imported", lang)
    text = t("import.summary", lang).format(read=report.rows_read, inserted=report.inserted,
                                            updated=report.updated, unchanged=report.unchanged,
                                            seconds=f"{report.seconds:.1f}")
    lines = [dmc.Text(f"{report.file_name} ({report.kind}) · {text}")]
    if report.first_day:
        lines.append(dmc.Text(f"{t('col.days', lang)}: {report.first_day} ~ {report.last_day}",
                              size="sm"))
    if report.risk:
        lines.append(dmc.Text(t("import.risk", lang).format(**report.risk), size="sm"))
    return dmc.Alert(lines, title=title, color="blue" if report.dry_run else "green",
                     id="import-ok")


def _decode(contents: str) -> bytes:
    _, _, data = contents.partition(",")
    return base64.b64decode(data, validate=True)


@callback(Output("import-result", "children"), Output("import-log", "children"),
          Input("import-upload", "contents"), State("import-upload", "filename"),
          State("import-kind", "value"), State("import-dry-run", "checked"),
          prevent_initial_call=True)
@writes_data
def run_import(contents, filename, kind, dry_run):
    """Validate and (unless a dry run) import the uploaded file; admins only, checked here."""
    lang = _lang()
    if not contents or not filename:
        return dash.no_update, dash.no_update
    session = get_session()
    try:
        report = upload.import_upload(
            session, get_engine(), current_user, filename, _decode(contents), kind or None,
            bool(dry_run), settings.current().TIMEZONE, settings.current().DATA_START)
    except NotPermitted:
        return dmc.Alert(t("import.not_permitted", lang), color="red", id="import-denied"), []
    except (ValueError, binascii.Error) as exc:
        return dmc.Alert(f"{t('import.error', lang)}{exc}", color="red", id="import-error"), \
            dash.no_update
    return report_view(report, lang), _log_grid(_recent(), lang)


@callback(Output("delete-result", "children"), Output("import-log", "children", allow_duplicate=True),
          Input("delete-submit", "n_clicks"), State("delete-unit", "value"),
          State("delete-from", "value"), State("delete-to", "value"), State("delete-kind", "value"),
          State("delete-dry-run", "checked"), prevent_initial_call=True)
def run_delete(n_clicks, unit, start, end, kind, dry_run):
    """Delete (or, as a dry run, count) a unit subtree's facts over days; admins only, checked here."""
    lang = _lang()
    if not n_clicks:
        return dash.no_update, dash.no_update
    if not (unit and start and end):
        return dmc.Alert(t("import.delete.missing", lang), color="red", id="delete-error"), \
            dash.no_update
    try:
        first, last = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
    except ValueError:
        return dmc.Alert(f"{t('error.bad_param', lang)}YYYY-MM-DD", color="red",
                         id="delete-error"), dash.no_update
    try:
        with get_engine().connect() as conn:  # this callback owns the deletion's transaction
            done = upload.delete_data(get_session(), conn, current_user, str(unit).strip(),
                                       first, last, kind or None, dry_run=bool(dry_run))
            if done.dry_run:
                conn.rollback()
            else:
                conn.commit()
        upload.audit_deletion(get_session(), current_user, done)
    except NotPermitted:
        return dmc.Alert(t("import.not_permitted", lang), color="red", id="import-denied"), []
    except BadRange as exc:
        return dmc.Alert(f"{t('error.bad_param', lang)}{exc}", color="red", id="delete-error"), \
            dash.no_update
    title = t("import.delete.would" if done.dry_run else "import.delete.done", lang)
    return dmc.Alert(done.summary(), title=title, color="blue" if done.dry_run else "orange",
                     id="delete-ok"), _log_grid(_recent(), lang)
