"""Importing files into a store: atomic, idempotent, every encoding, concurrent, via CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from data.changes import data_version
from data.models import (
    AuditEvent,
    ChannelDaily,
    DataLoad,
    ImportLog,
    MonthlyActive,
    MonthlyActiveTotal,
    OrgUnit,
    RiskScanRun,
    Target,
    WorkOrder,
)
from jobs.demo import seed_demo
from jobs.ingest import KINDS, import_file
from tests.conftest import DB_KINDS, DEMO_END, add_users, new_store

FORMATS = Path(__file__).resolve().parent.parent / "data" / "formats"
WO_HEADER = ["order_no", "unit", "carrier", "category", "created_at", "first_response_at",
             "sla_deadline", "closed_at", "first_contact_resolved", "rating"]
OUTLETS = ["ZJ-HZ-01-01", "ZJ-HZ-01-02", "ZJ-HZ-02-01", "ZJ-NB-01-01"]


def add_tiny_units(engine) -> None:
    """Give an empty store the tiny demo's organisation and nothing else (fast to set up)."""
    import pandas as pd

    from data.bulk import bulk_insert
    from jobs.demo import SCALES, plan_units

    with engine.begin() as conn:
        bulk_insert(conn, "org_unit", pd.DataFrame([
            {"id": u.id, "code": u.code, "name_zh": u.name_zh, "name_en": u.name_en, "tier": u.tier,
             "parent_id": u.parent_id, "path": u.path} for u in plan_units(SCALES["tiny"])]
        ).astype({"parent_id": "Int64"}))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('org_unit', 'id'), 16)"))


@pytest.fixture(params=DB_KINDS)
def store(request, tmp_path):
    """A writable store with the tiny demo's units and no facts, on each database."""
    s = new_store(request.param, tmp_path)
    add_tiny_units(s.engine)
    yield s
    s.drop()


@pytest.fixture(params=DB_KINDS)
def demo_store(request, tmp_path):
    """A writable tiny demo on each database."""
    s = new_store(request.param, tmp_path)
    seed_demo(s.engine, "tiny", 42, DEMO_END)
    yield s
    s.drop()


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    """Write a CSV file and return its path."""
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def work_orders(n: int, prefix: str = "T", day: dt.date = dt.date(2026, 7, 1)) -> list[list]:
    """`n` valid work orders over the OUTLETS, created on `day`."""
    rows = []
    for i in range(n):
        created = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(seconds=7 * i)
        closed = i % 5 != 0
        rows.append([f"{prefix}{i:07d}", OUTLETS[i % len(OUTLETS)],
                     ("app", "wechat", "hotline", "hall")[i % 4],
                     ("consultation", "repair", "business", "complaint", "opinion")[i % 5],
                     f"{created:%Y-%m-%d %H:%M:%S}",
                     f"{created + dt.timedelta(minutes=6):%Y-%m-%d %H:%M:%S}",
                     f"{created + dt.timedelta(hours=24):%Y-%m-%d %H:%M:%S}",
                     f"{created + dt.timedelta(hours=3):%Y-%m-%d %H:%M:%S}" if closed else "",
                     (i % 2) if closed else "", (i % 5 + 1) if closed else ""])
    return rows


def snapshot(engine) -> dict:
    """Counts and checksums of everything an import may touch."""
    with engine.connect() as conn:
        out = {}
        for table in ("work_order", "channel_daily", "user_stock_daily", "monthly_active",
                      "monthly_active_total", "content_daily", "campaign_daily", "target",
                      "data_load", "org_unit", "risk_event"):
            out[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        out["wo_sum"] = conn.execute(text("SELECT sum(rating), sum(response_minutes) FROM work_order")).one()
        out["version"] = data_version(conn)
        return out


# -- samples and formats ------------------------------------------------------------------------

def test_every_kind_has_a_sample_and_a_readme_section():
    readme = (FORMATS.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "## Importing data" in readme
    for kind in KINDS.values():
        assert (FORMATS / f"{kind.name}.csv").exists(), kind.name
        assert f"`data/formats/{kind.name}.csv`" in readme
        for col in kind.columns:
            assert f"`{col.name}`" in readme, (kind.name, col.name)


def test_samples_import_cleanly_into_the_tiny_demo(demo_store):
    store = demo_store
    for kind in KINDS:
        report = import_file(store.engine, FORMATS / f"{kind}.csv")
        assert report.ok and report.outcome == "imported", report.problem_lines()
        assert report.kind == kind and report.rows_read > 0
        assert report.inserted == report.rows_read and report.updated == 0
    with Session(store.engine) as s:
        new = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ-HZ-03-01"))
        parent = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ-HZ-03"))
        assert new.tier == 5 and new.parent_id == parent.id and new.path.startswith(parent.path)
        assert s.scalar(select(func.count()).select_from(MonthlyActiveTotal)
                        .where(MonthlyActiveTotal.month == dt.date(2026, 7, 1))) == 2
        assert s.scalar(select(func.count()).select_from(MonthlyActive)
                        .where(MonthlyActive.month == dt.date(2026, 7, 1))) == 3
        assert s.scalar(select(Target.value).where(Target.kpi == "transactions",
                                                    Target.period_start == dt.date(2027, 1, 1))) == 420000


# -- atomicity, idempotence, bookkeeping ----------------------------------------------------------

def test_a_bad_last_row_of_a_big_file_leaves_the_store_unchanged(store, tmp_path):
    rows = work_orders(5000)
    rows[-1][1] = "ZJ-NOWHERE"
    path = write_csv(tmp_path / "work_orders.csv", WO_HEADER, rows)
    before = snapshot(store.engine)
    report = import_file(store.engine, path, chunk_rows=700)  # 8 chunks, 7 staged before the bad one
    assert not report.ok and report.problem_count == 1
    assert report.problem_lines() == ["work_orders.csv, row 5001, column unit: unknown unit code "
                                      "'ZJ-NOWHERE'"]
    assert snapshot(store.engine) == before
    with Session(store.engine) as s:
        log = s.scalars(select(ImportLog)).all()
        assert [(r.outcome, r.errors, r.inserted) for r in log] == [("rejected", 1, 0)]


def test_same_file_twice_changes_nothing_and_a_corrected_file_replaces(store, tmp_path):
    rows = work_orders(300)
    path = write_csv(tmp_path / "orders.csv", WO_HEADER, rows)
    first = import_file(store.engine, path, "work_orders")
    assert (first.inserted, first.updated) == (300, 0)
    after_first = snapshot(store.engine)
    again = import_file(store.engine, path, "work_orders")
    assert (again.rows_read, again.inserted, again.updated, again.unchanged) == (300, 0, 0, 300)
    assert again.risk is None  # nothing changed, nothing to scan
    assert snapshot(store.engine) == after_first  # data version included
    rows[7][9] = 1 if rows[7][9] != 1 else 2  # a new rating
    rows[8][7] = ""  # re-opened: no closing time, resolution or rating
    rows[8][8] = rows[8][9] = ""
    corrected = import_file(store.engine, write_csv(tmp_path / "orders.csv", WO_HEADER, rows),
                            "work_orders")
    assert (corrected.inserted, corrected.updated, corrected.unchanged) == (0, 2, 298)
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == after_first["work_order"]
        w7 = s.scalar(select(WorkOrder).where(WorkOrder.order_no == rows[7][0]))
        w8 = s.scalar(select(WorkOrder).where(WorkOrder.order_no == rows[8][0]))
        assert w7.rating == rows[7][9]
        assert w8.closed_at is None and w8.closed_day is None and w8.rating is None
        assert data_version(s) == after_first["version"] + 1


def test_an_import_bumps_the_version_records_loads_and_log_and_scans_risk(store, tmp_path):
    rows = [["ZJ-HZ-01-01", "2026-07-01", c, 100, 80, 1440, 1440, 1, 4, 3, 2, 3.0, 10, 8, 500, 400]
            for c in ("app", "wechat", "hall")]
    header = [c.name for c in KINDS["channel_daily"].columns]
    with Session(store.engine) as s:
        version = data_version(s)
    report = import_file(store.engine, write_csv(tmp_path / "channel_daily.csv", header, rows),
                         username="tester", tz="Asia/Shanghai")
    assert report.ok and report.inserted == 3
    assert report.first_day == report.last_day == dt.date(2026, 7, 1)
    assert report.risk is not None and set(report.risk) == {"new", "extended"}
    with Session(store.engine) as s:
        assert data_version(s) == version + 1
        load = s.get(DataLoad, (5, dt.date(2026, 7, 1)))
        assert load is not None and load.source == "import:channel_daily"
        # The import's scan covers its units only; the nightly scan of every unit covers days.
        run = s.scalars(select(RiskScanRun)).one()
        assert (run.first_day, run.last_day, run.all_units) == (
            dt.date(2026, 7, 1), dt.date(2026, 7, 1), False)
        log = s.scalars(select(ImportLog)).one()
        assert (log.kind, log.username, log.rows_read, log.inserted, log.updated, log.outcome) == (
            "channel_daily", "tester", 3, 3, 0, "imported")
        assert len(log.file_hash) == 64 and log.duration_seconds > 0
        assert s.get(ChannelDaily, (5, dt.date(2026, 7, 1), 1)).payment_amount_online == 400
    # A later load of the same day keeps the first load time (timeliness counts the first arrival).
    rows[0][3] = 101
    import_file(store.engine, write_csv(tmp_path / "channel_daily.csv", header, rows))
    with Session(store.engine) as s:
        assert s.get(DataLoad, (5, dt.date(2026, 7, 1))).loaded_at == load.loaded_at


def test_dry_run_reports_what_would_change_and_writes_nothing(store, tmp_path):
    path = write_csv(tmp_path / "work_orders.csv", WO_HEADER, work_orders(20))
    before = snapshot(store.engine)
    report = import_file(store.engine, path, dry_run=True)
    assert report.outcome == "valid" and report.inserted == 20
    assert snapshot(store.engine) == before
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(ImportLog)) == 0


def test_duplicates_within_a_file_are_found_across_chunks(store, tmp_path):
    rows = work_orders(30)
    rows.append(list(rows[3]))
    rows.append(list(rows[4]))
    report = import_file(store.engine, write_csv(tmp_path / "work_orders.csv", WO_HEADER, rows),
                         chunk_rows=7)
    assert not report.ok and report.problem_count == 2
    assert report.problems[0].row == 32 and report.problems[0].column == "unit, order_no"
    assert "duplicate of row 5" in report.problems[0].reason


def test_a_carrier_cannot_have_more_monthly_actives_than_all_carriers(store, tmp_path):
    rows = [["ZJ-HZ-01-01", "2026-07", "app", 500], ["ZJ-HZ-01-01", "2026-07", "all", 400]]
    report = import_file(store.engine, write_csv(tmp_path / "monthly_actives.csv",
                                                 ["unit", "month", "carrier", "active_users"], rows))
    assert not report.ok and report.problems[0].row == 2
    assert "exceed the 400 on all carriers together" in report.problems[0].reason


def test_units_rules(store, tmp_path):
    header = ["code", "name_zh", "name_en", "tier", "parent"]
    cases = [
        (["ZJ-HZ-01-01", "上城城区供电所", "x", 5, "ZJ-HZ-02"], "an import does not move units"),
        (["ZJ-X", "甲", "x", 4, "ZJ-NOPE"], "unknown parent unit code 'ZJ-NOPE'"),
        (["ZJ-X", "甲", "x", 4, "ZJ"], "parent 'ZJ' is tier 2; a tier-4 unit's parent is tier 3"),
        (["ZJ-X", "甲", "x", 3, ""], "required for a tier-3 unit"),
        (["TOP", "甲", "x", 1, "ZJ"], "a tier-1 unit (HQ) has no parent"),
    ]
    for row, reason in cases:
        report = import_file(store.engine, write_csv(tmp_path / "units.csv", header, [row]))
        assert not report.ok and reason in report.problems[0].reason, report.problem_lines()
    renamed = import_file(store.engine, write_csv(tmp_path / "units.csv", header, [
        ["ZJ-HZ-01-01", "上城城区供电所（新）", "Shangcheng Urban", 5, "ZJ-HZ-01"]]))
    assert (renamed.inserted, renamed.updated) == (0, 1)


# -- encodings and formats ----------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_encodings(store, tmp_path, encoding):
    header = ["code", "name_zh", "name_en", "tier", "parent"]
    path = write_csv(tmp_path / "org_units.csv", header,
                     [["ZJ-HZ-07", "萧山区供电局", "Xiaoshan", 4, "ZJ-HZ"],
                      ["ZJ-HZ-07-01", "萧山城区供电所", "Xiaoshan Urban", 5, "ZJ-HZ-07"]], encoding)
    report = import_file(store.engine, path)
    assert report.ok and report.inserted == 2, report.problem_lines()
    with Session(store.engine) as s:
        assert s.scalar(select(OrgUnit.name_zh).where(OrgUnit.code == "ZJ-HZ-07-01")) == "萧山城区供电所"


def test_xlsx_with_real_dates_and_numbers(store, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(WO_HEADER)
    created = dt.datetime(2026, 7, 2, 9, 30)
    sheet.append(["X-1", "ZJ-HZ-01-01", "app", "repair", created, created + dt.timedelta(minutes=4),
                  created + dt.timedelta(days=1), created + dt.timedelta(hours=2), True, 5.0])
    sheet.append([None] * len(WO_HEADER))  # an empty row in the middle is skipped
    sheet.append(["X-2", "ZJ-HZ-01-02", "hotline", "complaint", "2026-07-02 10:00:00", None,
                  "2026-07-03 10:00:00", None, None, None])
    path = tmp_path / "work_orders.xlsx"
    book.save(path)
    report = import_file(store.engine, path)
    assert report.ok and report.inserted == 2, report.problem_lines()
    with Session(store.engine) as s:
        w = s.scalar(select(WorkOrder).where(WorkOrder.order_no == "X-1"))
        assert w.created_at == created and w.response_minutes == 4 and w.first_contact_resolved
        assert w.rating == 5 and w.closed_day == dt.date(2026, 7, 2)
    sheet.append(["X-3", "ZJ-HZ-01-02", "hotline", "complaint", "not a time", None,
                  "2026-07-03 10:00:00", None, None, None])
    book.save(path)
    bad = import_file(store.engine, path)
    assert bad.problem_lines() == ["work_orders.xlsx, row 5, column created_at: 'not a time' is not "
                                   "a date and time (YYYY-MM-DD HH:MM:SS)"]


def test_unreadable_files_are_rejected_with_a_reason(store, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0 not a zip")
    (tmp_path / "mystery.csv").write_text("a,b\n1,2\n")
    expected = {"empty.csv": "the file is empty", "old.xls": "old Excel .xls files are not supported",
                "mystery.csv": "cannot tell the kind of data"}
    for name, reason in expected.items():
        report = import_file(store.engine, tmp_path / name)
        assert not report.ok and reason in report.problems[0].reason, report.problem_lines()


# -- concurrency ----------------------------------------------------------------------------------

def test_two_concurrent_imports_of_the_same_file_do_not_duplicate(store, tmp_path):
    path = write_csv(tmp_path / "work_orders.csv", WO_HEADER, work_orders(2000))
    before = snapshot(store.engine)["work_order"]
    reports: list = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        reports.append(import_file(store.engine, path, scan_risk=False, chunk_rows=500))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r.ok for r in reports), [r.problem_lines() for r in reports]
    assert sorted(r.inserted for r in reports) == [0, 2000]
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before + 2000
        assert s.scalar(select(func.count()).select_from(ImportLog)
                        .where(ImportLog.outcome == "imported")) == 2


# -- the command and the page ---------------------------------------------------------------------

def test_cli_exit_codes(store, tmp_path, runner_for):
    runner = runner_for(store.url)
    good = write_csv(tmp_path / "work_orders.csv", WO_HEADER, work_orders(5))
    dry = runner.invoke(args=["import-data", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "would insert 5" in dry.output
    done = runner.invoke(args=["import-data", str(good)])
    assert done.exit_code == 0 and "inserted 5" in done.output, done.output
    rows = work_orders(5)
    rows[2][3] = "praise"
    bad = write_csv(tmp_path / "orders_bad.csv", WO_HEADER, rows)
    refused = runner.invoke(args=["import-data", str(bad), "--kind", "work_orders"])
    assert refused.exit_code == 1
    assert "orders_bad.csv, row 4, column category: unknown category 'praise'" in refused.output
    assert "nothing was written" in refused.output
    assert runner.invoke(args=["import-data", str(good), "--kind", "nonsense"]).exit_code == 2
    with Session(store.engine) as s:
        outcomes = s.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "import")
                             .order_by(AuditEvent.id)).all()
        assert outcomes == ["ok", "rejected"]


@pytest.fixture
def page_app(tmp_path):
    """The app over a writable tiny demo on SQLite, with the test accounts."""
    from app import create_app

    s = new_store("sqlite", tmp_path)
    add_tiny_units(s.engine)
    add_users(s)
    flask_app = create_app({"TESTING": True, "DATABASE_URL": s.url, "SECRET_KEY": "test-only"})
    yield flask_app, s
    flask_app.extensions["engine"].dispose()
    s.drop()


def _signed_in(flask_app, username):
    from flask_login import login_user

    from data.db import get_session
    from data.models import User

    ctx = flask_app.test_request_context("/admin/import")
    ctx.push()
    login_user(get_session().scalar(select(User).where(User.username == username)))
    return ctx


def _upload(path: Path) -> str:
    import base64

    return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode()


def test_upload_page_imports_for_admins(page_app, tmp_path):
    from pages import data_import

    flask_app, s = page_app
    good = write_csv(tmp_path / "work_orders.csv", WO_HEADER, work_orders(12))
    ctx = _signed_in(flask_app, "admin")
    try:
        assert "import-upload" in str(data_import.layout())
        dry, _ = data_import.run_import(_upload(good), "work_orders.csv", "", True)
        assert dry.id == "import-ok" and "12" in str(dry.children)
        result, log = data_import.run_import(_upload(good), "work_orders.csv", "", False)
        assert result.id == "import-ok" and "work_orders.csv" in str(log)
        rows = work_orders(3)
        rows[1][2] = "sms"
        bad = write_csv(tmp_path / "bad.csv", WO_HEADER, rows)
        rejected, _ = data_import.run_import(_upload(bad), "bad.csv", "work_orders", False)
        assert "import-rejected" in str(rejected) and "unknown carrier code 'sms'" in str(rejected)
        wrong, _ = data_import.run_import(_upload(bad), "bad.pdf", "", False)
        assert wrong.id == "import-error"
    finally:
        ctx.pop()
    with Session(s.engine) as session:
        assert session.scalar(select(func.count()).select_from(WorkOrder)
                              .where(WorkOrder.order_no.like("T%"))) == 12
        assert session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "import")
                               .order_by(AuditEvent.id)).all() == ["dry_run", "ok", "rejected"]


@pytest.mark.parametrize("username", ["manager", "viewer"])
def test_upload_page_refuses_non_admins_on_the_server(page_app, tmp_path, username):
    from pages import data_import

    flask_app, s = page_app
    good = write_csv(tmp_path / "work_orders.csv", WO_HEADER, work_orders(4))
    before = snapshot(s.engine)
    ctx = _signed_in(flask_app, username)
    try:
        assert data_import.layout().children.id == "import-denied"
        result, log = data_import.run_import(_upload(good), "work_orders.csv", "", False)
        assert result.id == "import-denied" and log == []
    finally:
        ctx.pop()
    assert snapshot(s.engine) == before
    with Session(s.engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
        assert (event.username, event.outcome) == (username, "refused")


def test_admin_page_links_to_the_import_page(page_app):
    from pages import admin as admin_page

    flask_app, _ = page_app
    ctx = _signed_in(flask_app, "admin")
    try:
        assert "href='/admin/import'" in str(admin_page.layout())
    finally:
        ctx.pop()


def test_rows_with_too_many_values_are_refused(store, tmp_path):
    for body, reason in ((",".join(["x"] * 12), "row 2 has more values than the header"),
                         (",".join(["x"] * 10) + "\n" + ",".join(["x"] * 11),
                          "the CSV is malformed: Error tokenizing data. C error: Expected 10 fields "
                          "in line 3")):
        path = tmp_path / "work_orders.csv"
        path.write_text(",".join(WO_HEADER) + "\n" + body + "\n")
        report = import_file(store.engine, path)
        assert not report.ok and reason in report.problems[0].reason, report.problem_lines()


@pytest.mark.browser
def test_upload_page_in_the_browser(page_app, tmp_path):
    from tests.browser import ARTIFACTS, browser_page, live_server
    from tests.conftest import PASSWORD

    flask_app, s = page_app
    rows = work_orders(8)
    rows[5][1] = "ZJ-HZ"  # not an outlet
    bad = write_csv(tmp_path / "work_orders_bad.csv", WO_HEADER, rows)
    with live_server(flask_app) as base, browser_page() as (page, errors):
        page.goto(base + "/admin")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.click("#admin-import-link")
        page.wait_for_selector("#import-upload")
        page.set_input_files("#import-upload input[type=file]", str(FORMATS / "work_orders.csv"))
        page.wait_for_selector("#import-ok")
        assert "4" in page.inner_text("#import-ok")  # a dry run by default: 4 rows would be inserted
        page.click("#import-dry-run")  # switch the dry run off
        page.set_input_files("#import-upload input[type=file]", str(bad))
        page.wait_for_selector("#import-rejected")
        page.wait_for_selector("text=is not an outlet (tier 3)")
        page.screenshot(path=str(ARTIFACTS / "import-rejected.png"), full_page=True)
        assert errors == []
    with Session(s.engine) as session:
        assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0
        assert session.scalars(select(ImportLog.outcome)).all() == ["rejected"]


# -- issue 24: encodings, header-only files, the date window, unfinished imports ------------------

UNITS_HEADER = ["code", "name_zh", "name_en", "tier", "parent"]


@pytest.mark.parametrize("encoding,names,named", [
    ("big5", ["蕭山區供電局", "蕭山城區供電所"], "Big5"),
    ("shift_jis", ["東京電力営業所", "新宿サービスセンター"], "Shift_JIS"),
])
def test_text_in_another_encoding_is_refused_naming_it(tmp_path, encoding, names, named):
    s = new_store("sqlite", tmp_path)
    add_tiny_units(s.engine)
    try:
        path = write_csv(tmp_path / "units.csv", UNITS_HEADER,
                         [["ZJ-HZ-07", names[0], "Xiaoshan", 4, "ZJ-HZ"],
                          ["ZJ-HZ-07-01", names[1], "Xiaoshan Urban", 5, "ZJ-HZ-07"]], encoding)
        before = snapshot(s.engine)
        report = import_file(s.engine, path)
        assert not report.ok and report.inserted == 0
        assert "neither UTF-8 nor GBK" in report.problems[0].reason
        assert named in report.problems[0].reason, report.problems[0].reason
        assert snapshot(s.engine) == before
    finally:
        s.drop()


def test_a_header_only_file_says_no_rows(store, tmp_path, runner_for):
    path = write_csv(tmp_path / "work_orders.csv", WO_HEADER, [])
    result = runner_for(store.url).invoke(args=["import-data", str(path)])
    assert result.exit_code == 1, result.output
    assert "no rows: the file has a header but no data rows" in result.output
    assert "imported" not in result.output
    with Session(store.engine) as s:
        assert s.scalars(select(ImportLog.outcome)).all() == ["rejected"]


def test_the_import_refuses_days_outside_the_window(store, tmp_path):
    from tests.conftest import app_over

    header = [c.name for c in KINDS["channel_daily"].columns]
    good = ["ZJ-HZ-01-01", "2026-07-01", "app", 100, 80, 1440, 1440, 1, 4, 3, 2, 3.0, 10, 8, 500, 400]
    before = snapshot(store.engine)
    with app_over(store, DATA_START="2026-01-01") as flask_app:
        runner = flask_app.test_cli_runner()
        for day in ("2025-12-31", "9999-12-31", "2099-01-01"):
            path = write_csv(tmp_path / "channel_daily.csv", header, [good, [*good[:1], day, "wechat",
                                                                             *good[3:]]])
            result = runner.invoke(args=["import-data", str(path)])
            assert result.exit_code == 1, result.output
            assert (f"channel_daily.csv, row 3, column day: '{day}' is outside the days this store "
                    "accepts, 2026-01-01 (DATA_START) to ") in result.output
    assert snapshot(store.engine) == before


def test_an_unfinished_import_shows_as_started_never_finished(page_app):
    from pages import data_import

    flask_app, s = page_app
    with Session(s.engine) as session:
        session.add(ImportLog(kind="work_orders", file_name="killed.csv", file_hash="0" * 64,
                              username="cli:root", started_at=dt.datetime(2026, 7, 1, 8),
                              outcome="started", detail=""))
        session.commit()
    ctx = _signed_in(flask_app, "admin")
    try:
        assert "已开始，未完成" in str(data_import.layout())
    finally:
        ctx.pop()
    listed = flask_app.test_cli_runner().invoke(args=["import-log"])
    assert "killed.csv: started, never finished" in listed.output
