"""The monthly operations report: every number it prints is what metrics/ computes for that unit
and month (restated here from compute, targets and the raw rows, never through the report's own
code), its sentences state only numbers its tables show, CJK text is real text, a unit outside
the caller's scope is refused, bad input is refused with a message and no file, and the Reports
page downloads it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import settings
from app import create_app
from components.format import change, number, pct
from components.i18n import name, t
from data.clock import month_end
from data.models import OUTLET_TIER, AuditEvent, DataLoad, OrgUnit, RiskEvent, User
from data.rubric import stage_label
from data.units import children, unit_by_code
from export.service import close_renderer
from metrics.attainment import attainment_by_child
from metrics.compute import compute
from metrics.matrix import matrix
from metrics.quality import monthly_quality
from metrics.registry import REGISTRY
from metrics.scope import Scope
from metrics.stages import assess
from metrics.targets import attainment, targets_for
from report.content import HEADLINE, ReportInvalid, ReportRefused, check_request, parse_month, report_content
from tests.browser import ARTIFACTS, browser_page, chromium_path, live_server, sign_in
from tests.conftest import DEMO_END, add_users, new_store

MONTH = "2026-06"
START, END = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
BEFORE = (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
UNIT = "ZJ-HZ"
NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _user(s: Session, username: str) -> User:
    return s.scalar(select(User).where(User.username == username))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def printed(wanted: str | tuple[str, ...], text: str) -> bool:
    """Whether `text` (pdf_text) shows a string, or a table row: its first cell (which may wrap
    onto a second line), then the other cells in order, at most a wrapped line apart."""
    if isinstance(wanted, str):
        return _squash(wanted) in text
    head = re.escape(_squash(wanted[0])[:6])  # the start of a name that may wrap
    cells = [re.escape(_squash(c)) for c in wanted[1:]]
    return re.search(head + ".{0,80}?" + ".{0,40}?".join(cells), text) is not None


# --- what metrics computes, restated -------------------------------------------------------------


def expected_headline_rows(s: Session, code: str, lang: str) -> list[tuple[str, ...]]:
    """Each headline KPI's row as the report must print it: name, value, target, attainment,
    last month, change; the same month last year has no data in the tiny demo ('-', '-')."""
    unit = unit_by_code(s, code)
    now = compute(s, list(HEADLINE), unit, START, END).set_index("kpi")
    before = compute(s, list(HEADLINE), unit, *BEFORE).set_index("kpi")
    targets = targets_for(s, list(HEADLINE), unit, START, END)
    rows = []
    for k in HEADLINE:
        kpi = REGISTRY[k]
        value, was = now.loc[k, "value"], before.loc[k, "value"]
        target = targets[k].value if targets[k] else None
        assert value is not None and was is not None
        moved = change(value - was, kpi.unit, (value - was) / abs(was) if was else None, lang)
        rows.append((name(kpi, lang), number(value, kpi.unit, lang), number(target, kpi.unit, lang),
                     pct(attainment(kpi, value, target)), number(was, kpi.unit, lang), moved,
                     "-", "-"))
    return rows


def expected_matrix_rows(s: Session, code: str, lang: str) -> list[tuple[str, ...]]:
    from data.catalog import carriers, cores

    cells = matrix(s, unit_by_code(s, code), START, END).set_index(["core", "carrier"])
    rows = []
    for core in cores(s):
        shown = []
        for carrier in carriers(s):
            cell = cells.loc[(core.code, carrier.code)]
            shown.append(t("status.n/a", lang) if cell["status"] == "n/a"
                         else number(cell["score"], "count", lang, 0))
        rows.append((name(core, lang), *shown))
    return rows


def expected_risk_total(s: Session, code: str) -> list[int]:
    """Opened, closed, closed on time, open and overdue at the month's end, from the raw events."""
    unit = unit_by_code(s, code)
    begin, stop = dt.datetime(2026, 6, 1), dt.datetime(2026, 7, 1)
    rows = s.execute(select(RiskEvent.created_at, RiskEvent.resolved_at, RiskEvent.deadline)
                     .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                     .where(OrgUnit.path.startswith(unit.path))).all()
    opened = sum(begin <= c < stop for c, _r, _d in rows)
    closed = [(r, d) for c, r, d in rows if r is not None and begin <= r < stop]
    still = [(c, d) for c, r, d in rows if c < stop and (r is None or r >= stop)]
    return [opened, len(closed), sum(r <= d for r, d in closed), len(still),
            sum(d < stop for _c, d in still)]


def expected_late_outlets(s: Session, code: str) -> int:
    """Outlets with a day of June not loaded, or loaded after the end of the next day."""
    unit = unit_by_code(s, code)
    outlets = s.scalars(select(OrgUnit).where(OrgUnit.path.startswith(unit.path),
                                              OrgUnit.tier == OUTLET_TIER)).all()
    late = 0
    for outlet in outlets:
        loads = s.execute(select(DataLoad.day, DataLoad.loaded_at).where(
            DataLoad.unit_id == outlet.id, DataLoad.day >= START, DataLoad.day <= END)).all()
        if len(loads) < 30 or any(at >= dt.datetime.combine(day, dt.time()) + dt.timedelta(days=2)
                                  for day, at in loads):
            late += 1
    return late


def expected_texts(s: Session, code: str, lang: str) -> list[str | tuple[str, ...]]:
    """Every figure the report of `code` for June 2026 must print, computed without the report:
    strings, and table rows (tuples of cells)."""
    unit = unit_by_code(s, code)
    scope = Scope.of(unit)
    out: list[str | tuple[str, ...]] = [name(unit, lang), *expected_headline_rows(s, code, lang),
                                        *expected_matrix_rows(s, code, lang)]
    q = monthly_quality(s, unit, START, END)[START]
    out += [pct(q["data_completeness"]), pct(q["data_timeliness"])]
    late = expected_late_outlets(s, code)
    out.append((t("report.late_outlets", lang), str(late)))
    out.append((t("report.total", lang), *map(str, expected_risk_total(s, code))))
    stage = assess(s, unit, START, END, scope=scope)
    out.append(stage_label(stage.stage, lang))
    heat = attainment_by_child(s, unit, START, END, scope=scope)
    for kid in children(s, unit):
        out.append(name(kid, lang))
        out += [pct(a) for a in heat[(heat["unit"] == kid.code)
                                     & heat["kpi"].isin(["online_substitution", "satisfaction"])
                                     ]["attainment"]]
    out += [name(REGISTRY[k], lang) for k in REGISTRY]  # the definitions name every KPI
    return out


# --- the content, without a browser --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_tables_hold_what_metrics_computes(tiny_store, lang):
    with Session(tiny_store.engine) as s, _app_context(tiny_store):
        report = report_content(s, _user(s, "viewer"), UNIT, MONTH, lang)
        rows = {r for tb in (*report.section("summary").tables,
                             *report.section("matrix").tables) for r in tb.rows}
        for wanted in expected_headline_rows(s, UNIT, lang) + expected_matrix_rows(s, UNIT, lang):
            assert wanted in rows
        risk = report.section("risk").tables[0].rows[-1]
        assert list(risk[1:]) == [str(n) for n in expected_risk_total(s, UNIT)]
        quality = dict(report.section("quality").tables[0].rows)
        assert quality[t("report.late_outlets", lang)] == str(expected_late_outlets(s, UNIT))
    assert report.title.startswith(name_of(tiny_store, UNIT, lang))


def name_of(store, code: str, lang: str) -> str:
    with Session(store.engine) as s:
        return name(unit_by_code(s, code), lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("code", ["ZJ", "ZJ-HZ", "ZJ-HZ-01-01"])
def test_every_number_a_sentence_states_is_in_a_table(tiny_store, lang, code):
    """No sentence states a number the report's tables (cells and captions) do not show."""
    with Session(tiny_store.engine) as s, _app_context(tiny_store):
        report = report_content(s, None, code, MONTH, lang)
    shown = " ".join(c for sec in report.sections for tb in sec.tables
                     for c in (*(" ".join(r) for r in tb.rows), tb.caption))
    cells = set(NUMBER.findall(shown))
    stated = [(line, n) for line in report.section("summary").sentences
              for n in NUMBER.findall(line)]
    assert len(stated) > 20
    assert [(line, n) for line, n in stated if n not in cells] == []
    if lang == "en":  # grammar: no Chinese in English sentences, and the other way round
        assert not any(re.search(r"[\u4e00-\u9fff]", line)
                       for line in report.section("summary").sentences)
    else:
        assert all(line.endswith("。") for line in report.section("summary").sentences)


def test_sentences_say_no_data_in_words_and_changes_in_points_or_percent(tiny_store):
    with Session(tiny_store.engine) as s, _app_context(tiny_store):
        zh = report_content(s, None, UNIT, MONTH, "zh").section("summary").sentences
        en = report_content(s, None, UNIT, MONTH, "en").section("summary").sentences
    rates = [zh[n] for n, k in enumerate(HEADLINE) if REGISTRY[k].unit == "%"]
    volumes = [zh[n] for n, k in enumerate(HEADLINE) if REGISTRY[k].unit != "%"]
    assert any("个百分点" in line for line in rates)
    assert not any("个百分点" in line for line in volumes)
    assert any(re.search(r"较上月(提高|下降) \d+\.\d%", line) for line in volumes)
    assert all("去年同期无数据" in line for line in zh[:len(HEADLINE)])  # the tiny demo has no 2025
    assert any(" pp on last month" in line for line in en)
    assert all("no data for the same month last year" in line for line in en[:len(HEADLINE)])


def test_bad_input_is_refused_with_a_reason(tiny_store):
    with Session(tiny_store.engine) as s:
        for month in ("2026-13", "2026-6", "June", "", "2026-06-01"):
            with pytest.raises(ReportInvalid, match="YYYY-MM"):
                parse_month(month)
        with pytest.raises(ReportInvalid, match="no unit 'NOPE'") as no_unit:
            check_request(s, None, "NOPE", MONTH)
        assert "没有单位" in no_unit.value.text("zh")
        with pytest.raises(ReportInvalid, match="no data for 2019-03") as no_data:
            check_request(s, None, UNIT, "2019-03")
        assert "没有数据" in no_data.value.text("zh")
        manager = _user(s, "manager")  # county ZJ-HZ-01 only
        with pytest.raises(ReportRefused, match="outside your scope") as outside:
            check_request(s, manager, "ZJ-HZ-02", MONTH)
        with pytest.raises(ReportRefused) as missing:
            check_request(s, manager, "NOPE", MONTH)
        assert str(missing.value).replace("NOPE", "X") == str(outside.value).replace(
            "ZJ-HZ-02", "X")  # a unit that does not exist is told apart from none outside
        with pytest.raises(ReportRefused, match="display"):
            check_request(s, _user(s, "display"), "ZJ", MONTH)
        assert check_request(s, manager, "ZJ-HZ-01", MONTH).unit.code == "ZJ-HZ-01"


class _app_context:  # noqa: N801 - used as a context manager
    """An app context over `store` (the content reads the settings of the current app)."""

    def __init__(self, store) -> None:
        self.app = create_app({"TESTING": True, "DATABASE_URL": store.url,
                               "SECRET_KEY": "test-only-secret"})

    def __enter__(self):
        self._ctx = self.app.app_context()
        self._ctx.push()
        return self.app

    def __exit__(self, *_exc) -> None:
        self._ctx.pop()
        self.app.extensions["engine"].dispose()


# --- the PDF ----------------------------------------------------------------------------------

PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(pdf: Path) -> str:
    """The PDF's text by pdftotext, whitespace removed (layout spacing varies), lower case: in
    reading order, then again in physical layout (where a wide table's rows stay whole)."""
    if not PDFTOTEXT:
        pytest.fail("pdftotext (poppler-utils) is needed to read the PDFs back")
    return "\n".join(_squash(subprocess.run([PDFTOTEXT, *mode, str(pdf), "-"], capture_output=True,
                                            check=True, text=True).stdout)
                     for mode in ([], ["-layout"]))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The tiny demo on SQLite of this module's own, the app over it served on a local port."""
    chromium = chromium_path()
    store = new_store("sqlite", tmp_path_factory.mktemp("report"))
    from jobs.demo import seed_demo

    seed_demo(store.engine, "tiny", 42, DEMO_END)
    add_users(store)
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url,
                            "SECRET_KEY": "test-only-secret", "CHROMIUM_PATH": chromium,
                            "PDF_TIMEOUT_SECONDS": 60})
    with live_server(flask_app) as base:
        settings.override(flask_app, RENDER_BASE_URL=base)
        yield flask_app, store, base
        close_renderer(flask_app)
    flask_app.extensions["engine"].dispose()
    store.drop()


def _reports(store, outcome: str | None = None) -> list[AuditEvent]:
    with Session(store.engine) as s:
        q = select(AuditEvent).where(AuditEvent.action == "export",
                                     AuditEvent.target.startswith("report "))
        if outcome:
            q = q.where(AuditEvent.outcome == outcome)
        return list(s.scalars(q.order_by(AuditEvent.id)))


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_prints_what_metrics_computes(live, lang, tmp_path):
    flask_app, store, _base = live
    out = tmp_path / f"report-{lang}.pdf"
    result = flask_app.test_cli_runner().invoke(args=[
        "report", UNIT, "--month", MONTH, "--out", str(out), "--lang", lang, "--as", "viewer"])
    assert result.exit_code == 0, result.output
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"report-{UNIT}-{lang}.pdf").write_bytes(out.read_bytes())
    text = pdf_text(out)
    with Session(store.engine) as s:
        wanted = expected_texts(s, UNIT, lang)
        sentences = report_content_in(flask_app, s, lang).section("summary").sentences
    assert [w for w in wanted if not printed(w, text)] == []
    assert [line for line in sentences if _squash(line) not in text] == []  # summary as text
    if lang == "zh":  # Chinese is real, searchable text in fonts the file carries
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 500
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and all(" yes " in f for f in fonts), fonts
    assert _reports(store, "ok")[-1].username == "viewer"


def report_content_in(flask_app, s: Session, lang: str):
    with flask_app.app_context():
        return report_content(s, _user(s, "viewer"), UNIT, MONTH, lang)


@pytest.mark.browser
def test_the_cli_refuses_bad_input_and_writes_nothing(live, tmp_path):
    flask_app, store, _base = live
    runner = flask_app.test_cli_runner()
    out = tmp_path / "r.pdf"
    for args, message in (
            (["NOPE", "--month", MONTH], "no unit 'NOPE'"),
            ([UNIT, "--month", "2026/06"], "YYYY-MM"),
            ([UNIT, "--month", "2019-01"], "no data for 2019-01"),
            (["ZJ-HZ-02", "--month", MONTH, "--as", "manager"], "outside your scope"),
            ([UNIT, "--month", MONTH, "--as", "nobody"], "no user 'nobody'")):
        before = len(_reports(store))
        result = runner.invoke(args=["report", *args, "--out", str(out)])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert not out.exists() and list(tmp_path.iterdir()) == []
        if "nobody" not in args:
            assert len(_reports(store)) == before + 1  # the refusal is audited
    assert _reports(store)[-1].outcome == "refused" and _reports(store)[-1].username == "manager"


@pytest.mark.browser
def test_each_child_gets_its_own_report(live, tmp_path):
    flask_app, store, _base = live
    result = flask_app.test_cli_runner().invoke(args=[
        "report", UNIT, "--month", MONTH, "--out", str(tmp_path / "{unit}-{month}.pdf"),
        "--each-child", "--lang", "en"])
    assert result.exit_code == 0, result.output
    with Session(store.engine) as s:
        kids = {k.code: k.name_en for k in children(s, unit_by_code(s, UNIT))}
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{code}-{MONTH}.pdf" for code in kids)
    for code, english in kids.items():
        assert _squash(english) in pdf_text(tmp_path / f"{code}-{MONTH}.pdf")


@pytest.mark.browser
def test_the_route_keeps_to_the_users_scope(live):
    flask_app, store, _base = live
    from tests.conftest import login

    c = flask_app.test_client()
    login(c, "manager")
    with c.session_transaction() as sess:
        csrf = sess.get("csrf") or ""
    response = c.post("/export/report", data={"unit": "ZJ-HZ-02", "month": MONTH},
                      headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403 and "无权生成该报告" in response.get_json()["error"]
    assert _reports(store)[-1].outcome == "refused"
    response = c.post("/export/report", data={"unit": "ZJ-HZ-01", "month": "2026-6"},
                      headers={"X-CSRF-Token": csrf})
    assert response.status_code == 400 and "YYYY-MM" in response.get_json()["error"]
    response = c.post("/export/report", data={"unit": "ZJ-HZ-01", "month": MONTH, "lang": "en"},
                      headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="report-ZJ-HZ-01-{MONTH}-en.pdf"')
    assert c.post("/export/report", data={"unit": "ZJ-HZ-01", "month": MONTH}).status_code == 400


@pytest.mark.browser
def test_the_reports_page_downloads_the_report(live, tmp_path):
    flask_app, store, base = live
    with browser_page(1280, 900) as (page, errors):
        sign_in(page, base, "viewer")
        page.click("a[href='/reports']")
        page.wait_for_selector("#report-make")
        page.screenshot(path=str(ARTIFACTS / "reports-page.png"))
        with page.expect_download(timeout=90_000) as download:
            page.click("#report-make")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        page.wait_for_selector("#report-status >> text=报告已下载")
    assert month_end(DEMO_END) == DEMO_END  # so the page offers the demo's last month first
    assert saved.name == f"report-ZJ-HZ-{MONTH}-zh.pdf"
    assert saved.read_bytes().startswith(b"%PDF")
    assert _squash(name_of(store, UNIT, "zh")) in pdf_text(saved)
    assert errors == []


def test_movers_and_ranking_are_what_compute_gives(tiny_store):
    """Each KPI's change from May to June at ZJ-HZ and the child that moved most the same way,
    restated from compute by child; the children ranked by their share of KPIs on target."""
    from metrics.monthly import kpi_movers, rank_children

    with Session(tiny_store.engine) as s:
        unit = unit_by_code(s, UNIT)
        kpis = list(REGISTRY)
        movers = kpi_movers(s, kpis, unit, START, END).set_index("kpi")
        now = compute(s, kpis, unit, START, END).set_index("kpi")["value"]
        was = compute(s, kpis, unit, *BEFORE).set_index("kpi")["value"]
        kids_now = compute(s, kpis, unit, START, END, by="child")
        kids_was = compute(s, kpis, unit, *BEFORE, by="child")
        heat = attainment_by_child(s, unit, START, END)
        ranked = rank_children(heat, {}).to_dict("records")
    assert len(movers) > 10
    for k, row in movers.iterrows():
        better = 1 if REGISTRY[k].better == "higher" else -1
        assert row["change"] == pytest.approx(now[k] - was[k])
        assert row["improvement"] == pytest.approx(better * (now[k] - was[k]) / abs(was[k]))
        moved = {}
        for child in kids_now[kids_now["kpi"] == k].itertuples():
            before = kids_was[(kids_was["kpi"] == k) & (kids_was["unit"] == child.unit)]["value"]
            if child.value is not None and before.iloc[0] not in (None, 0):
                moved[child.unit] = better * (child.value - before.iloc[0]) / abs(before.iloc[0])
        same_way = {u: m for u, m in moved.items() if (m > 0) == (row["improvement"] > 0) and m}
        assert row["child"] == (max(same_way, key=lambda u: abs(same_way[u])) if same_way else None)
    assert list(movers["improvement"]) == sorted(movers["improvement"], reverse=True)
    shares = {}
    for code, part in heat.groupby("unit"):
        judged = [a for a in part["attainment"] if a is not None]
        shares[code] = sum(a >= 1 for a in judged) / len(judged)
    assert [r["unit"] for r in ranked] == sorted(shares, key=lambda u: -shares[u])
    assert [r["share"] for r in ranked] == pytest.approx(sorted(shares.values(), reverse=True))


@pytest.mark.writes
def test_a_unit_without_data_that_month_is_refused(own_store):
    """The store has June's data, a county added since has none: no report of nothing."""
    from data.units import path_for

    with Session(own_store.engine) as s:
        parent = unit_by_code(s, UNIT)
        unit = OrgUnit(code="ZJ-HZ-09", name_zh="新区供电局", name_en="New district", tier=4,
                       parent_id=parent.id, path="/")
        s.add(unit)
        s.flush()
        unit.path = path_for(parent.path, unit.id)
        s.commit()
        with pytest.raises(ReportInvalid, match="no data for ZJ-HZ-09 in 2026-06") as caught:
            check_request(s, None, "ZJ-HZ-09", MONTH)
        assert "ZJ-HZ-09 在 2026-06 没有数据" in caught.value.text("zh")
        assert check_request(s, None, UNIT, MONTH).unit.code == UNIT
