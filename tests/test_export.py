"""PDF snapshots: the renderer's single-use token, scope, refusals and failures, audit, and every
analytical page printed by headless Chromium and read back with pdftotext."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import settings
from app import create_app
from components.format import number, pct
from components.i18n import name, t
from data.clock import utc_now
from data.models import AuditEvent, RenderToken, User
from data.rubric import stage_label
from data.units import children, unit_by_code
from export import tokens
from export.render import Paper, Renderer, RenderError
from export.service import close_renderer, renderer_for
from export.views import ExportInvalid, ExportRefused, header_lines, resolve
from metrics.attainment import attainment_by_child
from metrics.compute import compute
from metrics.league import league_table
from metrics.registry import for_core
from metrics.risk import events
from metrics.scope import Scope
from metrics.stages import assess
from metrics.views import headline
from tests.browser import ARTIFACTS, browser_page, chromium_path, live_server
from tests.conftest import DEMO_END, PASSWORD, add_users, login, new_store

SECRET = "test-only-secret"
VIEW = "unit=ZJ-HZ&start=2026-06-01&end=2026-06-30"
START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 30)


def _user(session: Session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def _exports(store, outcome: str | None = None) -> list[AuditEvent]:
    with Session(store.engine) as s:
        q = select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
        if outcome:
            q = q.where(AuditEvent.outcome == outcome)
        return list(s.scalars(q))


def _issue(store, username: str, path: str, at: dt.datetime | None = None,
           seconds: float = 30) -> tokens.Issued:
    with Session(store.engine) as s:
        issued = tokens.issue(s, SECRET, _user(s, username), path, seconds, at=at)
        s.commit()
    return issued


def _redeem(c, issued: tokens.Issued, token: str | None = None):
    """Open the token's URL as the server's renderer does: with the per-render secret."""
    return c.get(f"/auth/render?token={issued.token if token is None else token}",
                 headers={tokens.SECRET_HEADER: issued.secret})


# --- the token --------------------------------------------------------------------------------


@pytest.mark.writes
def test_a_token_signs_in_once_and_opens_its_view_only(app, anon, app_store):
    issued = _issue(app_store, "viewer", "/regions?" + VIEW)
    first = _redeem(anon, issued)
    assert first.status_code == 302 and first.headers["Location"] == "/regions?" + VIEW
    page = anon.get("/regions?" + VIEW, headers={tokens.SECRET_HEADER: issued.secret})
    assert page.status_code == 200  # this browser is now signed in, for this view
    cookie = anon.get_cookie("remember_token")
    assert cookie is None  # never remember-me
    again = _redeem(app.test_client(), issued)
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)


@pytest.mark.writes
def test_an_expired_token_is_refused(anon, app_store):
    issued = utc_now() - dt.timedelta(seconds=61)
    response = _redeem(anon, _issue(app_store, "viewer", "/", at=issued, seconds=60))
    assert response.status_code == 403 and "expired" in response.get_data(as_text=True)
    assert anon.get("/").status_code == 302  # still signed out


@pytest.mark.writes
def test_token_life_is_capped_at_a_minute_and_checked_against_the_clock(app_store):
    assert tokens.lifetime(600) == 60 and tokens.lifetime("20") == 20 and tokens.lifetime(None) == 30
    at = dt.datetime(2026, 7, 1, 8, 0, 0)
    with Session(app_store.engine) as s:
        issued = tokens.issue(s, SECRET, _user(s, "viewer"), "/", 600, at=at)
        s.commit()
        with pytest.raises(tokens.TokenRefused, match="expired"):
            tokens.redeem(s, SECRET, issued.token, issued.secret, at=at + dt.timedelta(seconds=61))
        assert tokens.redeem(s, SECRET, issued.token, issued.secret,
                             at=at + dt.timedelta(seconds=59)).path == "/"
        s.rollback()


@pytest.mark.parametrize("mangle", [lambda tok: tok[:-2] + ("AA" if not tok.endswith("AA") else "BB"),
                                    lambda tok: "garbage", lambda tok: ""])
@pytest.mark.writes
def test_a_forged_token_is_refused(anon, app_store, mangle):
    issued = _issue(app_store, "viewer", "/")
    assert _redeem(anon, issued, mangle(issued.token)).status_code == 403
    with Session(app_store.engine) as s:  # signed with another key
        other = tokens.issue(s, "another-key", _user(s, "viewer"), "/", 30)
        s.commit()
    assert _redeem(anon, other).status_code == 403


@pytest.mark.writes
def test_a_token_for_a_unit_outside_the_users_scope_is_refused(anon, app_store):
    # The manager sees county ZJ-HZ-01 only; a token naming its sibling must not show it.
    response = _redeem(anon, _issue(app_store, "manager", "/?unit=ZJ-HZ-02"))
    assert response.status_code == 403 and "outside your scope" in response.get_data(as_text=True)
    assert anon.get("/?unit=ZJ-HZ-02").status_code == 302  # not signed in either
    with Session(app_store.engine) as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.action == "render_token")
                            .order_by(AuditEvent.id.desc())).first()
    assert refused.outcome == "refused" and "ZJ-HZ-02" in refused.detail


@pytest.mark.writes
def test_the_guard_lets_only_the_redemption_route_through(anon):
    assert anon.get("/auth/render").status_code == 403  # reached the route, which refuses
    assert anon.get("/auth/render-other").status_code == 302  # everything else: sign in first
    assert anon.post("/export/pdf", data={"path": "/"}).status_code == 401


# --- the export request -----------------------------------------------------------------------


@pytest.mark.writes
def test_an_export_outside_the_scope_is_refused_before_rendering(manager, app_store):
    with Session(app_store.engine) as s:
        issued = s.scalar(select(func.count()).select_from(RenderToken))
    response = manager.post("/export/pdf", data={"path": "/?unit=ZJ-HZ-02"},
                            headers={"X-CSRF-Token": _csrf(manager)})
    assert response.status_code == 403 and "无权导出" in response.get_json()["error"]
    with Session(app_store.engine) as s:  # no token was issued, so nothing was rendered
        assert s.scalar(select(func.count()).select_from(RenderToken)) == issued
    last = _exports(app_store)[-1]
    assert (last.username, last.outcome, last.target) == ("manager", "refused", "/?unit=ZJ-HZ-02")


@pytest.mark.parametrize("path, message", [("/admin", "not an analytical page"),
                                           ("https://evil.example/", "not an analytical page"),
                                           ("/regions?period=fortnight", "period")])
@pytest.mark.writes
def test_only_analytical_views_can_be_exported(client, path, message):
    response = client.post("/export/pdf", data={"path": path}, headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_paper_and_orientation(client):
    assert Paper().scale() == pytest.approx(277 / 25.4 * 96 / 1400, abs=1e-3)
    assert Paper("A3", "portrait").layout_px() == 1400
    with pytest.raises(ValueError):
        Paper("Letter")
    response = client.post("/export/pdf", data={"path": "/", "paper": "Letter"},
                           headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == 400


def test_an_export_needs_the_csrf_token(client):
    assert client.post("/export/pdf", data={"path": "/"}).status_code == 400


@pytest.mark.writes
def test_busy_renderers_say_so(app, client, app_store):
    settings.override(app, RENDER_BASE_URL="http://127.0.0.1:9")  # never reached: slots taken
    renderer = renderer_for(app)
    renderer.slot_wait = 0.05
    try:
        with renderer.slot(), renderer.slot():  # PDF_MAX_RENDERS defaults to 2: both taken
            response = client.post("/export/pdf", data={"path": "/?" + VIEW},
                                   headers={"X-CSRF-Token": _csrf(client)})
    finally:
        close_renderer(app)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "繁忙" in response.get_json()["error"]
    assert _exports(app_store)[-1].outcome == "busy"


@pytest.mark.writes
def test_no_chromium_gives_a_clear_message_and_no_file(app_store, tmp_path, runner_for):
    flask_app = create_app({"TESTING": True, "DATABASE_URL": app_store.url, "SECRET_KEY": SECRET,
                            "CHROMIUM_PATH": str(tmp_path / "no-such-chromium"),
                            "RENDER_BASE_URL": "http://127.0.0.1:9"})
    try:
        c = flask_app.test_client()
        login(c, "viewer")
        response = c.post("/export/pdf", data={"path": "/?" + VIEW},
                          headers={"X-CSRF-Token": _csrf(c)})
        assert response.status_code == 500
        error = response.get_json()["error"]
        assert "Chromium" in error and "no-such-chromium" in error and "PDF 导出失败" in error
        assert response.mimetype == "application/json"
        last = _exports(app_store)[-1]
        assert (last.outcome, last.username) == ("failed", "viewer") and "no_browser" in last.detail

        out = tmp_path / "out.pdf"
        result = flask_app.test_cli_runner().invoke(
            args=["snapshot", "/?" + VIEW, "--user", "viewer", "--out", str(out)])
        assert result.exit_code != 0 and "no-such-chromium" in result.output
        assert not out.exists() and list(tmp_path.glob("*.part")) == []
    finally:
        close_renderer(flask_app)
        flask_app.extensions["engine"].dispose()


@pytest.mark.writes
def test_the_cli_refuses_a_view_outside_the_users_scope(app_store, tmp_path, runner_for):
    out = tmp_path / "x.pdf"
    result = runner_for(app_store.url).invoke(
        args=["snapshot", "/?unit=ZJ-HZ-02", "--user", "manager", "--out", str(out)])
    assert result.exit_code != 0 and "outside your scope" in result.output and not out.exists()
    result = runner_for(app_store.url).invoke(
        args=["snapshot", "/", "--user", "nobody", "--out", str(out)])
    assert result.exit_code != 0 and "no user 'nobody'" in result.output


def test_resolve_and_header(tiny_store):
    with Session(tiny_store.engine) as s:
        viewer = _user(s, "viewer")
        target = resolve(s, viewer, "/regions?" + VIEW + "&kpi=mau")
        assert target.unit.code == "ZJ-HZ" and target.query["kpi"] == "mau"
        assert target.loaded == DEMO_END
        what, who = header_lines(target, viewer, "Asia/Shanghai",
                                 at=dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.UTC))
        assert what == "区域 · 杭州供电局 · 期间 2026-06-01 – 2026-06-30"
        assert who.startswith("导出人 viewer (viewer) · ")
        assert "2026-07-01 09:30 Asia/Shanghai" in who and "数据截至 2026-06-30" in who
        with pytest.raises(ExportRefused):
            resolve(s, _user(s, "manager"), "/?unit=ZJ-HZ")
        with pytest.raises(ExportRefused):
            resolve(s, _user(s, "display"), "/")
        with pytest.raises(ExportRefused):
            resolve(s, viewer, "/?unit=NOPE-ZZ")
        with pytest.raises(ExportInvalid):
            resolve(s, viewer, "/admin")


def _csrf(c) -> str:
    with c.session_transaction() as sess:
        return sess.get("csrf") or ""


# --- in the browser ---------------------------------------------------------------------------

PDFTOTEXT = shutil.which("pdftotext")


def _text(pdf: bytes, tmp: Path) -> str:
    """The PDF's text by pdftotext, without whitespace (layout spacing varies)."""
    if not PDFTOTEXT:
        pytest.fail("pdftotext (poppler-utils) is needed to read the PDFs back")
    path = tmp / "read.pdf"
    path.write_bytes(pdf)
    text = subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, check=True, text=True).stdout
    return re.sub(r"\s+", "", text).lower()


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()


def _expected(s: Session, page: str, lang: str) -> list[str]:
    """What the PDF of `page` for ZJ-HZ in June 2026 must show: computed through metrics/ and
    formatted by components/, never typed in."""
    unit = unit_by_code(s, "ZJ-HZ")
    scope = Scope.of(unit)
    out = [name(unit, lang), "2026-06-01–2026-06-30", t("asof", lang) + "2026-06-30"]
    if page == "/":
        from pages.overview import HEADLINE

        out += [number(h["row"]["value"], h["kpi"].unit, lang)
                for h in headline(s, HEADLINE, unit, START, END, None, scope)]
        out += [name(c, lang) for c in _cores(s)]  # the matrix's axis: text in a vector chart
    elif page == "/cores":
        kpis = [k.id for k in for_core("channel")]
        out += [number(h["row"]["value"], h["kpi"].unit, lang)
                for h in headline(s, kpis, unit, START, END, None, scope)]
    elif page == "/carriers":
        frame = compute(s, ["channel_availability", "transactions"], unit, START, END, by="carrier")
        units = {"channel_availability": "%", "transactions": "count"}
        out += [number(r.value, units[r.kpi], lang) for r in frame.itertuples()]
    elif page == "/regions":
        table = league_table(s, "online_substitution", unit, START, END, scope=scope)
        out += [number(r["value"], "%", lang) for r in table.to_dict("records")]
        out += [r["name_en" if lang == "en" else "name_zh"] for r in table.to_dict("records")]
    elif page == "/stages":
        a = assess(s, unit, dt.date(2026, 6, 1), END, scope=scope)
        out.append(stage_label(a.stage, lang))
    elif page == "/targets":
        frame = attainment_by_child(s, unit, START, END, scope=scope)
        out += [pct(r.attainment) for r in frame[frame["kpi"] == "online_substitution"].itertuples()]
    elif page == "/risk":
        from data.clock import local_now

        listed = events(s, unit, local_now(), start=START, end=END, scope=scope)
        counts = t("risk.incidents_count", lang).format(  # incidents, and the units they touch
            incidents=len(set(listed["incident"])), units=len(set(listed["unit"])))
        out.append(f"{t('risk.events', lang)} · {counts}")
    return [_squash(x) for x in out]


def _cores(s: Session):
    from data.catalog import cores

    return cores(s)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The tiny demo on SQLite, the app served on a local port, its renderer; closed at the end."""
    chromium = chromium_path()  # skip (or fail under REQUIRE_BROWSER=1) without Chromium
    store = new_store("sqlite", tmp_path_factory.mktemp("pdf"))
    from jobs.demo import seed_demo

    seed_demo(store.engine, "tiny", 42, DEMO_END)
    add_users(store)
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url, "SECRET_KEY": SECRET,
                            "CHROMIUM_PATH": chromium, "PDF_TIMEOUT_SECONDS": 45})
    with live_server(flask_app) as base:
        settings.override(flask_app, RENDER_BASE_URL=base)
        yield flask_app, store, base
        close_renderer(flask_app)
    flask_app.extensions["engine"].dispose()
    store.drop()


PAGES = ["/", "/carriers", "/cores", "/regions", "/stages", "/targets", "/risk"]


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_prints_what_metrics_computes(live, lang, tmp_path):
    flask_app, store, _base = live
    with Session(store.engine) as s:
        _user(s, "viewer").language = lang
        s.commit()
    c = flask_app.test_client()
    login(c, "viewer")
    before = len(_exports(store, "ok"))
    missing: dict[str, list[str]] = {}
    try:
        for page in PAGES:
            response = c.post("/export/pdf", data={"path": f"{page}?{VIEW}"},
                              headers={"X-CSRF-Token": _csrf(c)})
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.mimetype == "application/pdf"
            assert "attachment" in response.headers["Content-Disposition"]
            pdf = response.get_data()
            (ARTIFACTS / f"pdf-{page.strip('/') or 'overview'}-{lang}.pdf").write_bytes(pdf)
            text = _text(pdf, tmp_path)
            with Session(store.engine) as s:
                wanted = _expected(s, page, lang)
            wanted.append(_squash(t(f"nav.{page.strip('/') or 'overview'}", lang)))
            wanted.append(_squash(f"{t('pdf.by', lang)} viewer"))
            missing[page] = [w for w in wanted if w not in text]
            assert re.search(r"1/\d", text), "no page numbers"
    finally:
        with Session(store.engine) as s:
            _user(s, "viewer").language = "zh"
            s.commit()
    assert {p: m for p, m in missing.items() if m} == {}
    assert len(_exports(store, "ok")) == before + len(PAGES)
    if lang == "zh":  # the Chinese reads back as Chinese, from fonts the file carries
        pdf = (ARTIFACTS / "pdf-overview-zh.pdf").read_bytes()
        text = _text(pdf, tmp_path)
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) >= 20, text
        with Session(store.engine) as s:
            assert _squash(name(unit_by_code(s, "ZJ-HZ"), "zh")) in text
        fonts = _fonts(pdf, tmp_path)
        assert fonts and all(f["emb"] == "yes" for f in fonts), fonts


def _fonts(pdf: bytes, tmp: Path) -> list[dict[str, str]]:
    """The fonts of a PDF by pdffonts, one dict per font keyed by its column names.

    Which font carries the Chinese depends on the machine (WenQuanYi, Noto Sans CJK, ...) and
    Chromium may embed it as an unnamed Type 3 font: only whether it is embedded is asserted.
    """
    if not shutil.which("pdffonts"):
        pytest.fail("pdffonts (poppler-utils) is needed to read the PDFs' fonts")
    path = tmp / "fonts.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True,
                           text=True).stdout.splitlines()
    # A header, a rule of dashes whose runs give the columns' widths, a line per font.
    spans = [m.span() for m in re.finditer(r"-+", lines[1])]
    names = [lines[0][a:b].strip() for a, b in spans]
    return [{n: row[a:b].strip() for n, (a, b) in zip(names, spans, strict=True)}
            for row in lines[2:] if row.strip()]


@pytest.mark.browser
def test_the_cli_writes_one_pdf_per_child_unit(live, tmp_path):
    flask_app, store, _base = live
    out = tmp_path / "pack" / "{unit}-{start}.pdf"
    result = flask_app.test_cli_runner().invoke(args=[
        "snapshot", f"/stages?{VIEW}", "--user", "viewer", "--out", str(out), "--each-child",
        "--paper", "A3", "--orientation", "portrait"])
    assert result.exit_code == 0, result.output
    with Session(store.engine) as s:
        kids = children(s, unit_by_code(s, "ZJ-HZ"))
        names = {k.code: k.name_zh for k in kids}
    files = sorted((tmp_path / "pack").iterdir())
    assert [f.name for f in files] == sorted(f"{code}-2026-06-01.pdf" for code in names)
    for f in files:
        code = f.name.split("-2026")[0]
        assert _squash(names[code]) in _text(f.read_bytes(), tmp_path)
        info = subprocess.run(["pdfinfo", str(f)], capture_output=True, text=True).stdout
        assert re.search(r"Page size:\s+84[12][.0-9]* x 119[01][.0-9]* pts \(A3\)", info), info


@pytest.mark.browser
def test_a_hung_page_times_out_with_a_message_and_no_file(live, tmp_path):
    flask_app, store, base = live
    renderer = Renderer(chromium_path(), 1, timeout=0.5)
    try:
        failed = _render_failure(renderer, store, base, "viewer", "/stages?" + VIEW)
        assert failed.reason == "timeout" and "within 0.5 s" in str(failed)
    finally:
        renderer.close()


def _render_failure(renderer: Renderer, store, base: str, username: str, path: str) -> RenderError:
    """Render `path` as `username` through a fresh token; return the RenderError it must raise."""
    issued = _issue(store, username, path)
    with pytest.raises(RenderError) as caught:
        renderer.render(f"{base}/auth/render?token={issued.token}", Paper(), "<span></span>",
                        "<span></span>", issued.secret)
    return caught.value


@pytest.mark.browser
def test_the_page_itself_refuses_an_out_of_scope_unit(live, monkeypatch):
    # Even if the redemption route did not check the scope, the page shows "not permitted" and
    # the renderer prints nothing; a renderer left signed out stops at the sign-in form.
    flask_app, store, base = live
    renderer = renderer_for(flask_app)
    monkeypatch.setattr("export.routes.resolve", lambda *_args: None)
    refused = _render_failure(renderer, store, base, "manager", "/?unit=ZJ-HZ-02")
    assert refused.reason == "refused" and "not-permitted" in str(refused)
    monkeypatch.undo()
    monkeypatch.setattr("export.routes.login_user", lambda *_args, **_kw: None)
    refused = _render_failure(renderer, store, base, "manager", "/?unit=ZJ-HZ-01")
    assert refused.reason == "refused" and "login-submit" in str(refused)


@pytest.mark.browser
def test_a_program_that_is_not_chromium_fails_cleanly(tmp_path):
    renderer = Renderer("/bin/false", 1, timeout=20)
    try:
        with pytest.raises(RenderError) as caught:
            renderer.render("http://127.0.0.1:9/", Paper(), "", "", "secret")
        assert caught.value.reason == "no_browser" and "did not start" in str(caught.value)
    finally:
        renderer.close()


@pytest.mark.browser
def test_the_export_menu_downloads_and_shows_failures_on_the_page(live, tmp_path):
    flask_app, store, base = live
    with browser_page(1440, 900) as (page, errors):
        page.goto(base + "/login")
        page.fill("#username", "viewer")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.goto(f"{base}/regions?{VIEW}")
        page.wait_for_selector("#as-of")
        page.click("#pdf-button")
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("menuitem", name="A4 横向").click()
            page.wait_for_selector("#pdf-status >> text=正在生成")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == "regions-ZJ-HZ-2026-06-01_2026-06-30.pdf"
        assert saved.read_bytes().startswith(b"%PDF")
        page.wait_for_selector("#pdf-status >> text=PDF 已下载")

        renderer = renderer_for(flask_app)
        wait, renderer.slot_wait = renderer.slot_wait, 0.05
        try:
            with renderer.slot(), renderer.slot():
                page.click("#pdf-button")
                page.get_by_role("menuitem", name="A3 纵向").click()
                page.wait_for_selector("#pdf-status >> text=导出繁忙")
        finally:
            renderer.slot_wait = wait
        page.screenshot(path=str(ARTIFACTS / "pdf-busy-message.png"))
    assert [e for e in errors if "favicon" not in e and "503" not in e] == []


# Texts of the things one clicks or hovers, which make no sense on paper (issue 17, item 15).
def _interactive(lang: str) -> list[str]:
    return ["→", "›", t("overview.matrix_hint", lang), t("regions.click", lang),
            t("risk.pick", lang), t("pdf.export", lang), t("filter.all_carriers", lang)]


@pytest.mark.browser
@pytest.mark.parametrize("page", ["/", "/regions", "/risk"])
def test_a_snapshot_is_a_clean_document_and_the_overview_fits_one_page(live, page, tmp_path):
    flask_app, store, _base = live
    c = flask_app.test_client()
    login(c, "viewer")
    response = c.post("/export/pdf", data={"path": f"{page}?{VIEW}"},
                      headers={"X-CSRF-Token": _csrf(c)})
    assert response.status_code == 200, response.get_data(as_text=True)
    pdf = tmp_path / "snapshot.pdf"
    pdf.write_bytes(response.get_data())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"pdf-clean-{page.strip('/') or 'overview'}.pdf").write_bytes(pdf.read_bytes())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    if page == "/":
        assert pages == 1, info  # the overview is one A4 landscape sheet
    text = _text(pdf.read_bytes(), tmp_path)
    with Session(store.engine) as s:
        wanted = _expected(s, page, "zh")  # the numbers are still there
    assert [w for w in wanted if w not in text] == []
    shown = [w for w in _interactive("zh") if _squash(w) in text]
    assert shown == []
    # The "?" of the cards' explain buttons: pdftotext gives no "?" anywhere else on these pages.
    assert "?" not in text
    if page == "/regions":  # the KPI picker goes, and the page still says which KPI it shows
        from metrics.registry import REGISTRY

        assert _squash(f"{t('regions.kpi', 'zh')}：{name(REGISTRY['online_substitution'], 'zh')}") in text
