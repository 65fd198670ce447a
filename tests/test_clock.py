"""The one clock and calendar (`data.clock`): company time zone, now, yesterday, months."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask

import settings
from data.clock import company_zone, local_now, month_end, month_start, months_between, utc_now, yesterday


def test_months():
    assert month_start(dt.date(2024, 2, 17)) == dt.date(2024, 2, 1)
    assert month_end(dt.date(2024, 2, 17)) == dt.date(2024, 2, 29)  # any day of the month
    assert month_end(dt.date(2023, 2, 1)) == dt.date(2023, 2, 28)
    assert month_end(dt.date(2024, 12, 31)) == dt.date(2024, 12, 31)
    assert months_between(dt.date(2023, 11, 30), dt.date(2024, 2, 1)) == [
        dt.date(2023, 11, 1), dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert months_between(dt.date(2024, 3, 2), dt.date(2024, 3, 1)) == [dt.date(2024, 3, 1)]
    assert months_between(dt.date(2024, 4, 1), dt.date(2024, 3, 31)) == []
    assert months_between(dt.date(9999, 11, 5), dt.date.max) == [dt.date(9999, 11, 1),
                                                                 dt.date(9999, 12, 1)]


def test_the_company_zone_is_the_apps_setting_else_shanghai():
    assert company_zone() == "Asia/Shanghai"
    app = Flask(__name__)
    settings.override(app, TIMEZONE="America/St_Johns")
    with app.app_context():
        assert company_zone() == "America/St_Johns"
        here = dt.datetime.now(ZoneInfo("America/St_Johns")).replace(tzinfo=None)
        assert abs(local_now() - here) < dt.timedelta(seconds=5)
        assert yesterday() in {here.date() - dt.timedelta(days=1),
                               local_now().date() - dt.timedelta(days=1)}  # across midnight
    shanghai = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(local_now() - shanghai) < dt.timedelta(seconds=5)
    assert local_now().tzinfo is None and utc_now().tzinfo is None
    assert abs(utc_now() - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)
    assert yesterday("UTC") in {utc_now().date() - dt.timedelta(days=1),
                                dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)}


ROOT = Path(__file__).resolve().parents[1]
APP_DIRS = ("api", "auth", "components", "data", "display", "export", "jobs", "metrics", "pages", "risk",
            "views")
# Reading the server's clock: what data/clock.py exists to do, in the company's zone.
SERVER_CLOCK = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                ("time", "localtime")}


def server_clock_reads(source: str) -> list[int]:
    """Lines of `source` that read the clock without a zone (`date.today()`, `datetime.now()` with
    no argument, `datetime.utcnow()`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in SERVER_CLOCK and not node.args and not node.keywords:
                lines.append(node.lineno)
    return lines


def test_the_checker_sees_server_clock_reads():
    assert server_clock_reads("import datetime as dt\nx = dt.date.today()\n") == [2]
    assert server_clock_reads("from datetime import datetime\nx = datetime.now()\n") == [2]
    assert server_clock_reads("import datetime as dt\nx = dt.datetime.now(dt.UTC)\n") == []


def test_only_the_clock_reads_the_time():
    files = [p for d in APP_DIRS for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py", ROOT / "shell.py"]
    found = [f"{p.relative_to(ROOT)}:{line}" for p in files if p != ROOT / "data" / "clock.py"
             for line in server_clock_reads(p.read_text(encoding="utf-8"))]
    assert not found, "read the time through data.clock (the company's zone), not the server's: " + \
        ", ".join(found)
