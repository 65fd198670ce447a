"""Path traversal through names built from data (issue 16, item 5, the file-name half).

`snapshot --each-child --out 'packs/{unit}-{page}.pdf'` and the download name of `POST
/export/pdf` use unit codes and names; whatever they hold, files stay inside the output folder
and the download name is one plain file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

import settings
from app import create_app
from data.models import OrgUnit, User
from export.cli import output_path
from export.views import file_name, resolve
from tests.browser import chromium_path, live_server
from tests.conftest import login, seeded_store

SECRET = "test-only-secret"
HOSTILE = {"../../x": "../../名字", "..": "..", "a\"; b=c\\d": "/etc/passwd", "..\\..\\w": ".hidden"}
PERIOD = {"start": "2026-06-01", "end": "2026-06-30"}
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator:
    """Its own tiny demo plus a city EVIL whose counties carry hostile codes and names."""

    own = seeded_store("sqlite", tmp_path_factory.mktemp("paths"))
    with Session(own.engine) as s:
        province = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ"))
        city = _add_unit(s, "EVIL", "恶意市", 3, province)
        for code, name in HOSTILE.items():
            _add_unit(s, code, name, 4, city)
        s.commit()
    yield own
    own.drop()


def _add_unit(s: Session, code: str, name: str, tier: int, parent: OrgUnit) -> OrgUnit:
    # Written with Core, as a store from before the unit-code rule may hold them: the ORM and the
    # import refuse such codes now (tests/security/test_unit_codes.py); file names must not rely on it.
    table = OrgUnit.__table__
    unit_id = s.execute(insert(table).values(
        code=code, name_zh=name, name_en=name, tier=tier, parent_id=parent.id,
        path=parent.path + "tmp/").returning(table.c.id)).scalar_one()
    s.execute(update(table).where(table.c.id == unit_id).values(path=f"{parent.path}{unit_id:06d}/"))
    unit = s.get(OrgUnit, unit_id)
    assert unit is not None
    return unit


def _view(s: Session, code: str, page: str = "/"):
    admin = s.scalar(select(User).where(User.username == "admin"))
    return resolve(s, admin, page + "?" + urlencode({"unit": code, **PERIOD}))


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve()) and path.resolve() != folder.resolve()


@pytest.mark.parametrize("code", list(HOSTILE))
@pytest.mark.parametrize("pattern", ["{unit}-{page}.pdf", "{name}.pdf", "{unit}/{name}-{start}.pdf",
                                     "x{page}{unit}{name}"])
def test_each_child_file_names_stay_inside_the_output_folder(store, tmp_path, code, pattern):
    packs = tmp_path / "packs"
    with Session(store.engine) as s:
        target = _view(s, code)
        dest = output_path(str(packs / pattern), target, each_child=True)
        plain = output_path(str(packs), target, each_child=True)  # a directory: page-UNIT-...pdf
    assert _inside(dest, packs), dest
    assert _inside(plain, packs) and plain.parent == packs and SAFE_NAME.fullmatch(plain.name)
    assert not any(part in ("..", ".") for part in dest.relative_to(packs).parts)


@pytest.mark.parametrize("code", list(HOSTILE))
def test_the_download_name_is_one_plain_file_name(store, code):
    with Session(store.engine) as s:
        name = file_name(_view(s, code, "/regions"))
    assert SAFE_NAME.fullmatch(name) and not name.startswith(".") and name.endswith(".pdf"), name
    assert name.startswith("regions-") and name.endswith("-2026-06-01_2026-06-30.pdf")


@pytest.fixture(scope="module")
def live(store):
    chromium = chromium_path()
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url, "SECRET_KEY": SECRET,
                            "CHROMIUM_PATH": chromium, "PDF_TIMEOUT_SECONDS": 45})
    from export.service import close_renderer

    with live_server(flask_app) as base:
        settings.override(flask_app, RENDER_BASE_URL=base)
        yield flask_app
        close_renderer(flask_app)
    flask_app.extensions["engine"].dispose()


@pytest.mark.browser
def test_the_snapshot_command_writes_only_inside_packs(live, store, tmp_path):
    # The city EVIL's children are the hostile units: one PDF each, all inside packs/.
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    out = work / "packs" / "{unit}-{page}.pdf"
    result = live.test_cli_runner().invoke(args=[
        "snapshot", "/?" + urlencode({"unit": "EVIL", **PERIOD}), "--user", "admin",
        "--out", str(out), "--each-child"])
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert written and all(_inside(p, work / "packs") for p in written), written
    assert len(written) == len(HOSTILE), result.output
    assert result.exit_code == 0, result.output


@pytest.mark.browser
def test_the_web_export_download_name_is_sanitised(live):
    c = live.test_client()
    login(c, "admin")
    with c.session_transaction() as sess:
        csrf = sess["csrf"]
    answer = c.post("/export/pdf", data={"path": "/?" + urlencode({"unit": "../../x", **PERIOD})},
                    headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    disposition = answer.headers["Content-Disposition"]
    found = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
    assert found and SAFE_NAME.fullmatch(found.group(1)) and not found.group(1).startswith("."), \
        disposition
