"""Settings: declared once (settings.py), parsed and checked once at start-up into typed values,
documented by a README table generated from the declarations."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

import settings
from app import create_app
from jobs.demo import SCALES

ROOT = Path(__file__).resolve().parent.parent
APP_CODE = ("api", "auth", "components", "data", "display", "export", "metrics", "migrations", "pages",
            "risk", "views", "app.py", "shell.py", "gunicorn.conf.py")


def readme_table(text: str) -> str:
    """The part of the README between the settings table's markers."""
    start, end = settings.MARKERS
    assert text.count(start) == 1 and text.count(end) == 1, "the README lost a settings marker"
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def test_the_readme_table_is_generated_from_settings():
    table = readme_table((ROOT / "README.md").read_text(encoding="utf-8"))
    assert table == settings.markdown(), "regenerate it: python -m settings --markdown"
    assert len(table.splitlines()) == 2 + len(settings.SETTINGS)


def test_the_comparison_sees_an_edit_on_either_side():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    edited_readme = text.replace("Asia/Shanghai", "Asia/Tokyo", 1)
    assert readme_table(edited_readme) != settings.markdown()
    first = settings.SETTINGS[0]
    edited = settings.markdown().replace(first.help, first.help + " More.")
    assert readme_table(text) != edited


def test_python_m_settings_prints_the_table():
    out = subprocess.run([sys.executable, "-m", "settings", "--markdown"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out == settings.markdown()


def test_each_setting_declares_a_type_a_valid_default_and_its_meaning():
    assert len(settings.NAMES) == len(settings.SETTINGS)
    for s in settings.SETTINGS:
        assert re.fullmatch(r"[A-Z][A-Z_]+", s.name) and len(s.help) > 20, s.name
        if s.default is not None:
            assert s.kind.parse(s.default) == s.default, s.name
    assert settings.load_settings({}, {}) == settings.DEFAULTS
    scale = next(s.kind for s in settings.SETTINGS if s.name == "DEMO_SCALE")
    assert scale.label == "one of " + ", ".join(SCALES)  # the demo's scales, in its order


def test_values_from_the_environment_are_typed():
    got = settings.load_settings({}, {
        "BEHIND_HTTPS": "yes", "REMEMBER_DAYS": " 7 ", "DATA_START": "2020-01-02",
        "DB_LOCK_WAIT_SECONDS": "1.5", "TIMEZONE": "UTC", "REDIS_URL": "",
        "RENDER_BASE_URL": "http://127.0.0.1:8050", "DEMO_SCALE": "tiny"})
    assert got.BEHIND_HTTPS is True and got.REMEMBER_DAYS == 7
    assert dt.date(2020, 1, 2) == got.DATA_START and got.DB_LOCK_WAIT_SECONDS == 1.5
    assert got.TIMEZONE == "UTC" and got.REDIS_URL is None and got.DEMO_SCALE == "tiny"
    assert settings.load_settings({}, {"BEHIND_HTTPS": "0"}).BEHIND_HTTPS is False
    assert settings.load_settings({"BEHIND_HTTPS": 1}, {}).BEHIND_HTTPS is True
    empty = settings.load_settings({}, {"PDF_MAX_RENDERS": "", "CACHE_KEY_PREFIX": " "})
    assert empty.PDF_MAX_RENDERS == 2 and empty.CACHE_KEY_PREFIX == "channel-ops:"  # unset


def test_the_config_dict_comes_before_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("REMEMBER_DAYS", "9")
    monkeypatch.setenv("TIMEZONE", "UTC")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "REMEMBER_DAYS": 3, "TESTING": True})
    given = settings.of(app)
    assert given.REMEMBER_DAYS == 3 and given.TIMEZONE == "UTC"
    assert app.config["REMEMBER_DAYS"] == 3 and app.config["TESTING"] is True
    assert app.config["REMEMBER_COOKIE_DURATION"] == dt.timedelta(days=3)


BAD = [  # setting, bad value, what the message says
    ("REMEMBER_DAYS", "a week", "is not a whole number"),
    ("REMEMBER_DAYS", "1.5", "is not a whole number"),
    ("CACHE_THRESHOLD", "0", "must be at least 1"),
    ("DB_LOCK_WAIT_SECONDS", "three", "is not a number"),
    ("DB_LOCK_WAIT_SECONDS", "-1", "must be at least 0"),
    ("DB_STATEMENT_TIMEOUT_SECONDS", "nan", "is not a finite number"),
    ("REDIS_TIMEOUT_SECONDS", "0", "must be more than 0"),
    ("ATTAINMENT_GREEN", "95%", "is not a number"),
    ("BEHIND_HTTPS", "maybe", "is not yes or no"),
    ("DATA_START", "2026-02-30", "is not a date YYYY-MM-DD"),
    ("TIMEZONE", "Mars/Olympus", "is not a time zone name"),
    ("TIMEZONE", "Asia", "is not a time zone name"),
    ("DATABASE_URL", "not a url", "is not an SQLAlchemy URL"),
    ("REDIS_URL", "http://cache:6379", "must start with redis://"),
    ("REDIS_URL", "redis://cache:port", "is not a URL with a valid port"),
    ("RENDER_BASE_URL", "ftp://127.0.0.1", "does not start with http://"),
    ("RENDER_BASE_URL", "http://", "names no host"),
    ("RENDER_BASE_URL", "http://127.0.0.1:8050/app", "has a path, query or fragment"),
    ("DEMO_SCALE", "huge", "must be one of tiny, small, province, national"),
]


@pytest.mark.parametrize(("name", "value", "why"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_environment_variable_is_named_with_what_is_wrong(name, value, why):
    with pytest.raises(settings.BadSetting) as caught:
        settings.load_settings({}, {name: value})
    message = str(caught.value)
    assert f"environment variable {name}={value!r} {why}" in message


@pytest.mark.parametrize(("name", "value", "why"), [
    ("CACHE_DEFAULT_TIMEOUT", -1, "must be at least 1"),
    ("BEHIND_HTTPS", 2, "is not yes or no"),
    ("REMEMBER_DAYS", 1.5, "is not a whole number"),
    ("CACHE_KEY_PREFIX", 5, "must be text, not int"),
    ("DATA_START", dt.datetime(2020, 1, 1), "is not a date"),
])
def test_a_bad_value_in_the_config_dict_is_named(name, value, why):
    with pytest.raises(settings.BadSetting, match=f"config {name}=.* {why}"):
        settings.load_settings({name: value}, {})


def test_every_bad_value_is_reported_at_once_and_the_app_does_not_start(tmp_path, monkeypatch):
    monkeypatch.setenv("PDF_MAX_RENDERS", "two")
    monkeypatch.setenv("SECRET_KEY", "  ")  # blank: unset, not an error
    with pytest.raises(settings.BadSetting) as caught:
        create_app({"INSTANCE_PATH": str(tmp_path), "TIMEZONE": "Nowhere/At_All"})
    assert "PDF_MAX_RENDERS='two' is not a whole number" in str(caught.value)
    assert "TIMEZONE='Nowhere/At_All' is not a time zone" in str(caught.value)


def test_a_secret_is_never_shown():
    with pytest.raises(settings.BadSetting) as caught:
        settings.load_settings({"SECRET_KEY": 12345}, {})
    assert "SECRET_KEY=(hidden)" in str(caught.value) and "12345" not in str(caught.value)
    assert "hunter2" not in repr(settings.load_settings({"SECRET_KEY": "hunter2"}, {}))


def test_override_checks_like_start_up(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    settings.override(app, RENDER_TOKEN_SECONDS="12")
    assert settings.of(app).RENDER_TOKEN_SECONDS == 12.0 == app.config["RENDER_TOKEN_SECONDS"]
    with pytest.raises(settings.BadSetting, match="RENDER_TOKEN_SECONDS"):
        settings.override(app, RENDER_TOKEN_SECONDS="soon")
    with pytest.raises(settings.BadSetting, match="no such setting: NOPE"):
        settings.override(app, NOPE=1)


def _code_files() -> list[Path]:
    out: list[Path] = []
    for name in APP_CODE:
        path = ROOT / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def test_only_settings_reads_the_environment_or_parses_a_setting():
    """Every other module reads the typed value: no os.environ, no getenv, no re-parsing a config
    entry with a cast or a default of its own."""
    names = "|".join(sorted(settings.NAMES))
    patterns = [
        r"os\.environ|getenv\(",
        rf"(int|float|str|bool)\([^()]*config(\.get\(|\[)\"({names})\"",
        rf"config\.get\(\"({names})\"\s*,",
        rf"config\.get\(\"({names})\"\)\s*or\b",
    ]
    found = [(str(p.relative_to(ROOT)), line.strip()) for p in _code_files()
             for line in p.read_text(encoding="utf-8").splitlines()
             if any(re.search(pattern, line) for pattern in patterns)]
    assert found == []
