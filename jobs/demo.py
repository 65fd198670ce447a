"""The deterministic demo-data generator behind `flask --app app seed-demo`.

Named units in all five tiers, customers per outlet in the thousands to tens of thousands, weekly
and seasonal patterns, online shares rising over time, regional differences wide enough that units
land in every operating stage, targets for every KPI, and a few injected incidents (recorded in
`demo_incident`). The same scale, seed and end day give the same rows on every database.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import itertools
import json
import multiprocessing
import os
import queue
import signal
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import click
import numpy as np
import pandas as pd
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, delete, func, insert, select, text
from sqlalchemy.orm import Session

import settings
from data.bulk import Encoded, bulk_insert, copy_encoded, encode_copy
from data.catalog import ensure_catalog
from data.changes import data_changed, rollups
from data.clock import local_now
from data.db import get_engine
from data.models import DERIVED_TABLES, FACT_TABLES, Base, Meta, OrgUnit
from data.rubric import ensure_rubric
from data.units import is_unit_code, path_for, unit_code_problem
from jobs import demo_geo, demo_hotline
from jobs.demo_facts import APP, WECHAT, Calendar, Effects, OutletProfile, order_numbers, outlet_frames
from jobs.demo_targets import target_frame
from jobs.demo_walls import ensure_demo_playlists
from risk.library import ensure_rules
from risk.scan import LOOKBACK_DAYS


@dataclass(frozen=True)
class Shape:
    """How much of a province's organisation a scale lays out."""

    cities: int | None  # how many of its cities (None = all)
    counties: int | None  # per city; None = all (Zhejiang's real ones, or one per COUNTY_PARTS)
    outlets: int  # per county


@dataclass(frozen=True)
class Scale:
    home: Shape  # Zhejiang, with its real geography
    days: int
    provinces: int = 1  # how many of demo_geo.PROVINCES, Zhejiang first
    others: Shape | None = None  # the provinces after Zhejiang
    risk_days: int | None = None  # the risk history's last days (None: the whole period)
    hotline_days: int | None = None  # the hotline intervals' last days (None: the whole period)


SCALES = {
    "tiny": Scale(Shape(cities=2, counties=2, outlets=2), days=180),
    "small": Scale(Shape(cities=4, counties=3, outlets=4), days=730, provinces=3,
                   others=Shape(cities=2, counties=2, outlets=3)),
    "province": Scale(Shape(cities=None, counties=None, outlets=5), days=1095),
    # All 27 provincial companies: 311 cities, 1,890 counties, 11,340 outlets, about 100 M fact rows.
    # The risk scan evaluates every rule for every unit: over 13,000 units a history of the whole
    # period would take hours, so the national demo's history covers its last days only.
    # Its hotline intervals (every city's centre, 96 a day) cover the last 90 days: 2.7 M rows.
    "national": Scale(Shape(cities=None, counties=None, outlets=6), days=480, provinces=27,
                      others=Shape(cities=None, counties=None, outlets=6), risk_days=14,
                      hotline_days=90),
}

# Provinces whose company is a municipality's (市) or carries no 省 in its name.
MUNICIPALITIES = frozenset({"BJ", "TJ", "SH", "CQ"})
NOT_PROVINCES = frozenset({"JB", "MD", "NX", "XJ", "XZ"})


CHUNK_OUTLETS = 40  # outlets generated and copied at a time: memory stays bounded at any scale
WORKER_OUTLETS = 200  # from this many outlets on, WORKERS processes generate while this one copies
WORKERS = 2
FACT_ORDER = ("channel_daily", "user_stock_daily", "content_daily", "campaign_daily",
              "monthly_active", "monthly_active_total", "work_order", "data_load")


@dataclass
class UnitPlan:
    id: int
    code: str
    name_zh: str
    name_en: str
    tier: int
    parent_id: int | None
    path: str
    level: float = 0.5  # economic level, outlets' maturity is drawn around it


def plan_units(scale: Scale) -> list[UnitPlan]:
    """Lay out the organisation for a scale, in tree order with ids from 1."""
    units: list[UnitPlan] = []

    def add(code: str, zh: str, en: str, tier: int, parent: UnitPlan | None,
            level: float = 0.5) -> UnitPlan:
        if not is_unit_code(code):  # the same rule as imports (data.units.UNIT_CODE_PATTERN)
            raise ValueError(unit_code_problem(code))
        uid = len(units) + 1
        path = path_for(parent.path if parent else None, uid)
        unit = UnitPlan(uid, code, zh, en, tier, parent.id if parent else None, path, level)
        units.append(unit)
        return unit

    hq = add(*demo_geo.HQ, tier=1, parent=None)
    province = add(*demo_geo.PROVINCE, tier=2, parent=hq)
    home = scale.home
    for city_code, zh, en, level, counties in demo_geo.CITIES[: home.cities]:
        city = add(f"{province.code}-{city_code}", f"{zh}供电局", f"{en} Power Supply Bureau", 3,
                   province, level)
        for ci, (county_zh, county_en) in enumerate(counties[: home.counties], start=1):
            county = add(f"{city.code}-{ci:02d}", f"{county_zh}供电局",
                         f"{county_en} Power Supply Bureau", 4, city, level)
            short_zh = county_zh[:2] if len(county_zh) > 2 else county_zh
            for oi, (out_zh, out_en, _) in enumerate(demo_geo.OUTLETS[: home.outlets], start=1):
                add(f"{county.code}-{oi:02d}", f"{short_zh}{out_zh}", f"{county_en} {out_en}", 5,
                    county, level)
    others = scale.others or home
    for code, zh, en, base, cities in demo_geo.PROVINCES[1: scale.provinces]:
        kind = "市" if code in MUNICIPALITIES else "" if code in NOT_PROVINCES else "省"
        province = add(code, f"{zh}{kind}电力公司", f"{en} Electric Power", 2, hq, base)
        for i, (city_zh, city_en) in enumerate(cities[: others.cities], start=1):
            # the first city is the capital; the rest spread around the province's level
            level = min(0.95, max(0.05, base + (0.10 if i == 1 else ((i * 7) % 9 - 4) * 0.03)))
            if code in MUNICIPALITIES:  # a municipality's district companies: 北京朝阳供电公司
                city_zh, city_en = f"{zh}{city_zh}", f"{en} {city_en}"
            city = add(f"{code}-{i:02d}", f"{city_zh}供电公司", f"{city_en} Power Supply Company",
                       3, province, level)
            parts = demo_geo.COUNTY_PARTS[: 5 + i % 3]  # five to seven county companies a city
            if city_zh.endswith(("城区", "市区")):
                parts = (("中心", "Central"), *parts[1:])
            for ci, (part_zh, part_en) in enumerate(parts[: others.counties], start=1):
                county_zh = f"{city_zh}{part_zh}"
                county = add(f"{city.code}-{ci:02d}", f"{county_zh}供电公司",
                             f"{city_en} {part_en} Power Supply Company", 4, city, level)
                for oi, (out_zh, out_en, _) in enumerate(demo_geo.OUTLETS[: others.outlets],
                                                         start=1):
                    add(f"{county.code}-{oi:02d}", f"{county_zh}{out_zh}",
                        f"{city_en} {part_en} {out_en}", 5, county, level)
    return units


def outlet_profiles(units: list[UnitPlan], seed: int) -> list[OutletProfile]:
    """Give every outlet a maturity spread over 0..1 (ranked, so every stage appears) and a size."""
    outlets = [u for u in units if u.tier == 5]
    rng = np.random.default_rng([seed, 7919])
    by_parent: dict[int | None, float] = {}
    raw = []
    for u in outlets:
        county_offset = by_parent.setdefault(u.parent_id, rng.normal(0, 0.08))
        raw.append(u.level + county_offset + rng.normal(0, 0.12))
    ranks = np.argsort(np.argsort(raw))
    maturity = (ranks + 0.5) / len(outlets)
    profiles = []
    for i, u in enumerate(outlets):
        hall = u.name_en.endswith("Service Hall")
        urban = "区" in u.name_zh[:3] or hall
        size = rng.lognormal(np.log(18000 if urban else 7000), 0.35)
        profiles.append(OutletProfile(unit_id=u.id, index=i, maturity=float(maturity[i]),
                                      customers=int(np.clip(size, 2500, 60000))))
    return profiles


def incidents(units: list[UnitPlan], end: dt.date) -> list[dict]:
    """Choose the injected incidents: where, on which carrier and days."""
    home = units[1]  # Zhejiang: the incidents stay where they were before the other provinces came
    cities = [u for u in units if u.tier == 3 and u.parent_id == home.id]
    counties = {c.id: [u for u in units if u.parent_id == c.id] for c in cities}
    first, second, last = counties[cities[0].id], counties[cities[1].id], cities[-1]
    day = lambda n: end - dt.timedelta(days=n)  # noqa: E731
    return [
        dict(kind="carrier_outage", unit=last, carrier_id=APP, start=day(9), end=day(9),
             zh=f"{last.name_zh} App 故障：可用率约 35%，95598 来电激增",
             en=f"{last.name_en}: app outage, ~35% available; 95598 calls surge"),
        dict(kind="carrier_silence", unit=first[0], carrier_id=WECHAT, start=day(15), end=day(15),
             zh=f"{first[0].name_zh} 微信渠道全天无流量",
             en=f"{first[0].name_en}: WeChat carried no traffic all day"),
        dict(kind="complaint_surge", unit=first[1], carrier_id=None, start=day(24), end=day(18),
             zh=f"{first[1].name_zh} 投诉激增（约 6 倍）",
             en=f"{first[1].name_en}: complaint surge (about 6x)"),
        dict(kind="load_delay", unit=second[0], carrier_id=None, start=day(40), end=day(34),
             zh=f"{second[0].name_zh} 数据延迟 3 天到达",
             en=f"{second[0].name_en}: data arrived 3 days late"),
    ]


def _effects_for(outlet: UnitPlan, chosen: list[dict]) -> Effects:
    effects = Effects()
    for inc in chosen:
        if not outlet.path.startswith(inc["unit"].path):
            continue
        start, end = np.datetime64(inc["start"], "D"), np.datetime64(inc["end"], "D")
        if inc["kind"] == "carrier_outage":
            effects.outage_app_day = start
        elif inc["kind"] == "carrier_silence":
            effects.silence_wechat_day = start
        elif inc["kind"] == "complaint_surge":
            effects.complaint_surge = (start, end)
        elif inc["kind"] == "load_delay":
            effects.load_delay = (start, end)
    return effects


Chunk = tuple[int, dict[str, "pd.DataFrame | Encoded"], pd.DataFrame]


def _generate(profiles: list[OutletProfile], units: list[UnitPlan], cal: Calendar, seed: int,
              chosen: list[dict], encode: bool, part: int = 0, parts: int = 1) -> Iterator[Chunk]:
    """Every `parts`-th chunk of the outlets' facts from the `part`-th on: (outlets done, rows per
    table, yearly sums), with the work orders numbered from 1 in each chunk (`_chunks` numbers
    them across the store).

    With `encode` the rows but the work orders' come encoded for PostgreSQL's COPY
    (`data.bulk.encode_copy`)."""
    by_id = {u.id: u for u in units}
    for k, first in enumerate(range(0, len(profiles), CHUNK_OUTLETS)):
        if k % parts != part:
            continue
        next_wo = 1
        parts_of: dict[str, list[pd.DataFrame]] = {name: [] for name in FACT_ORDER}
        for prof in profiles[first: first + CHUNK_OUTLETS]:
            frames = outlet_frames(prof, cal, seed, _effects_for(by_id[prof.unit_id], chosen),
                                   next_wo)
            next_wo += len(frames["work_order"])
            for name in FACT_ORDER:
                parts_of[name].append(frames[name])
        tables = {name: pd.concat(parts_of[name], ignore_index=True) for name in FACT_ORDER}
        sums = _yearly_sums(tables)
        out: dict[str, pd.DataFrame | Encoded] = dict(tables)
        if encode:
            out.update({name: encode_copy(Base.metadata.tables[name], frame)
                        for name, frame in tables.items() if name != "work_order"})
        yield min(first + CHUNK_OUTLETS, len(profiles)), out, sums


def _chunks(profiles: list[OutletProfile], units: list[UnitPlan], cal: Calendar, seed: int,
            chosen: list[dict], encode: bool, worker: bool | None = None) -> Iterator[Chunk]:
    """`_generate`'s chunks in order, work orders numbered across the store; with `worker`
    (default: from WORKER_OUTLETS outlets on) generated by WORKERS processes taking turns, a
    few chunks ahead of the caller, so generating and copying overlap while memory stays bounded
    (each queue holds at most two chunks)."""
    if not (len(profiles) >= WORKER_OUTLETS if worker is None else worker):
        source = _generate(profiles, units, cal, seed, chosen, encode)
    else:
        source = _from_workers(profiles, units, cal, seed, chosen, encode)
    next_wo = 1
    for done, tables, sums in source:
        orders = tables["work_order"]
        assert isinstance(orders, pd.DataFrame)
        ids = np.arange(next_wo, next_wo + len(orders))
        orders = orders.assign(id=ids, order_no=order_numbers(ids))
        next_wo += len(orders)
        tables["work_order"] = (encode_copy(Base.metadata.tables["work_order"], orders)
                                if encode else orders)
        yield done, tables, sums


def _from_workers(*args) -> Iterator[Chunk]:
    ctx = multiprocessing.get_context("fork")
    queues = [ctx.Queue(maxsize=2) for _ in range(WORKERS)]
    workers = [ctx.Process(target=_produce, args=(q, *args, part, WORKERS), daemon=True)
               for part, q in enumerate(queues)]
    for w in workers:
        w.start()
    try:
        for turn in itertools.count():
            chunks, process = queues[turn % WORKERS], workers[turn % WORKERS]
            while True:
                try:
                    item = chunks.get(timeout=5)
                    break
                except queue.Empty:
                    if not process.is_alive():
                        raise RuntimeError("demo generator stopped (exit code "
                                           f"{process.exitcode})") from None
            if item is None:
                break
            if isinstance(item, str):
                raise RuntimeError(f"demo generator failed:\n{item}")
            yield item
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
            w.join()


def _produce(chunks: multiprocessing.Queue, *args) -> None:
    """The generating process: put every chunk on the queue, then None (or the error's trace);
    stop when the seeding process is gone."""
    parent = os.getppid()
    with contextlib.suppress(AttributeError, OSError):  # Linux: the kernel ends this process
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # when its parent dies (PR_SET_PDEATHSIG)
    if os.getppid() != parent:
        os._exit(1)

    def put(item) -> None:
        while True:
            try:
                chunks.put(item, timeout=5)
                return
            except queue.Full:
                if os.getppid() != parent:
                    os._exit(1)

    try:
        for item in _generate(*args):
            put(item)
        put(None)
    except BaseException:
        put(traceback.format_exc())


SET_ASIDE_KEY = "seed_keys_set_aside"  # meta (not demo%, which a reset deletes)


def _set_aside_keys(engine: Engine, reset: bool) -> list[str]:
    """Drop the fact tables' keys, foreign keys and indexes (PostgreSQL) for a big load; return
    the statements that put them back (`_put_back_keys`).

    Checking two foreign keys per row was 80 % of COPY's time, and maintaining the B-trees row by
    row most of the rest; putting them back after the load checks and sorts each table once.
    Dropping them locks the tables exclusively, so it is done (and committed) before the load's
    long transaction, which then blocks nobody's ANALYZE or reads of other tables; the statements
    are kept in the meta table until they have run, so a seed that was killed has them run by the
    next one."""
    _put_back_keys(engine)
    with engine.begin() as conn:
        if not reset and conn.execute(select(func.count()).select_from(OrgUnit)).scalar():
            return []  # the load refuses a store with data (StoreNotEmpty)
        restore = _drop_keys(conn)
        conn.execute(insert(Meta).values(key=SET_ASIDE_KEY, value=json.dumps(restore)))
    return restore


def _put_back_keys(engine: Engine, conn: Connection | None = None) -> None:
    """Run the statements of a set-aside left in the meta table (in `conn`'s transaction, or one
    of its own); nothing when there is none."""
    if conn is None:
        with engine.begin() as own:
            _put_back_keys(engine, own)
        return
    if conn.dialect.name != "postgresql":
        return
    stored = conn.execute(select(Meta.value).where(Meta.key == SET_ASIDE_KEY)).scalar()
    if stored is None:
        return
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for statement in json.loads(stored):
        conn.execute(text(statement))
    conn.execute(delete(Meta).where(Meta.key == SET_ASIDE_KEY))


def _drop_keys(conn: Connection) -> list[str]:
    tables = [*FACT_ORDER, "hotline_interval"]
    rows = conn.execute(text(
        "SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype "
        "FROM pg_constraint c WHERE c.conrelid = ANY(CAST(:tables AS regclass[])) "
        "AND c.contype IN ('p', 'f', 'u') ORDER BY c.contype DESC, c.conname"),
        {"tables": tables}).all()
    indexes = conn.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"),
        {"tables": tables}).all()
    for name, table, _, _ in rows:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    # keys first (the foreign keys' checks and the roll-up build read through them), then indexes
    keys = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            for name, table, definition, kind in rows if kind != "f"]
    foreign = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for name, table, definition, kind in rows if kind == "f"]
    return keys + [definition for _, definition in indexes] + foreign


def store_is_empty(session: Session) -> bool:
    """Tell whether the store holds no organisation (and so no facts)."""
    return not session.scalar(select(func.count()).select_from(OrgUnit))


def clear_store(conn: Connection) -> None:
    """Delete every unit, fact, target, account and demo record; the catalogue and audit log stay."""
    tables = [m.__tablename__ for m in (*DERIVED_TABLES, *FACT_TABLES)] + [
        "target", "demo_incident", "api_token", "render_token", "delivery_attempt",
        "subscription", "risk_notification", "risk_webhook", "risk_event_step",
        "risk_event", "risk_incident", "app_user", "risk_scan_run"]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(tables)}, org_unit"))
    else:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(delete(OrgUnit))
    conn.execute(delete(Meta).where(Meta.key.like("demo%")))  # the rubric version stays


def seed_demo(engine: Engine, scale_name: str = "small", seed: int = 42,
              end: dt.date | None = None, reset: bool = False, tz: str = "Asia/Shanghai",
              progress=None, now: dt.datetime | None = None) -> dict[str, float]:
    """Fill the store with demo data ending on `end`; return row counts and seconds.

    With no `end`, or today's (in zone `tz`, at local time `now`, default the clock's): the daily
    data ends yesterday and the work orders and hotline intervals run on to `now`, today so far
    (the same seed and `now` give the same rows). A past `end`: everything ends with that day.
    """
    scale = SCALES[scale_name]
    now = (now or local_now(tz)).replace(microsecond=0)
    live = end is None or end == now.date()
    end = now.date() - dt.timedelta(days=1) if live else end
    assert end is not None
    started = time.perf_counter()
    units = plan_units(scale)
    profiles = outlet_profiles(units, seed)
    chosen = incidents(units, end)
    days = np.arange(np.datetime64(end - dt.timedelta(days=scale.days - 1), "D"),
                     np.datetime64(end, "D") + 1)
    cal = Calendar(days=days, end=end, now=now if live else None)
    # the hotline's intervals include today's ended ones when the demo includes today so far
    calls = (Calendar(days=np.append(days, np.datetime64(now.date(), "D")), end=now.date(),
                      now=now) if live else cal)
    counts: dict[str, float] = {name: 0 for name in FACT_ORDER}
    if engine.dialect.name == "postgresql" and len(profiles) >= WORKER_OUTLETS:
        _set_aside_keys(engine, reset)
    try:
        _load(engine, scale_name, seed, reset, units, profiles, chosen, cal, counts, progress,
              hotline=lambda: hotline_frames(scale, units, profiles, chosen, calls, seed,
                                             now if live else None))
    except BaseException:
        _put_back_keys(engine)  # the load rolled back: the tables are as they were
        raise
    rollups().build(engine)
    if engine.dialect.name == "postgresql":  # before the risk scan, whose queries plan with them
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # the store's tables only: a database shared with other schemas keeps its own pace
            names = conn.execute(text("SELECT quote_ident(tablename) FROM pg_tables "
                                      "WHERE schemaname = current_schema()")).scalars().all()
            conn.execute(text(f"ANALYZE {', '.join(names)}"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    from risk.demo import seed_risk_history  # risk builds on the facts just loaded

    first = cal.days[0].astype(object)
    if scale.risk_days is not None:
        first = max(first, end - dt.timedelta(days=scale.risk_days + LOOKBACK_DAYS - 1))
    with Session(engine) as session:
        risk = seed_risk_history(session, first, end, seed)
        session.commit()
    counts["risk_events"] = risk["new"]
    counts["units"] = len(units)
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def hotline_frames(scale: Scale, units: list[UnitPlan], profiles: list[OutletProfile],
                   chosen: list[dict], cal: Calendar, seed: int,
                   until: dt.datetime | None) -> Iterator[pd.DataFrame]:
    """The `hotline_interval` rows of every city's contact centre (`jobs.demo_hotline`), one city
    at a time: over the scale's `hotline_days` (default every day), up to `until` if given."""
    by_id = {u.id: u for u in units}
    customers: dict[str, int] = {}
    for prof in profiles:
        for part in by_id[prof.unit_id].path.strip("/").split("/"):
            if by_id[int(part)].tier == 3:
                path = by_id[int(part)].path
                customers[path] = customers.get(path, 0) + prof.customers
    outage = [inc for inc in chosen if inc["kind"] == "carrier_outage"]
    first = (cal.days[-scale.hotline_days] if scale.hotline_days is not None
             and scale.hotline_days < len(cal.days) else None)
    for index, city in enumerate(u for u in units if u.tier == 3):
        day = next((np.datetime64(inc["start"], "D") for inc in outage
                    if inc["unit"].path.startswith(city.path)
                    or city.path.startswith(inc["unit"].path)), None)
        yield demo_hotline.centre_frame(city.id, index, customers.get(city.path, 0), city.level,
                                        cal, seed, day, first, until)


def _load(engine: Engine, scale_name: str, seed: int, reset: bool, units: list[UnitPlan],
          profiles: list[OutletProfile], chosen: list[dict], cal: Calendar,
          counts: dict[str, float], progress, hotline=None) -> None:
    """Write the units, facts, targets and incidents in one transaction (counting rows)."""
    days, end = cal.days, cal.end
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # between its statements this transaction generates and plans (minutes at national
            # scale): not the idle client that DB_IDLE_IN_TRANSACTION_SECONDS guards against
            conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        with Session(bind=conn) as session:
            ensure_catalog(session)
            ensure_rubric(session)
            ensure_rules(session)
            if not store_is_empty(session) and not reset:
                raise StoreNotEmpty(session.scalar(select(func.count()).select_from(OrgUnit)))
            session.flush()
        if reset:
            clear_store(conn)
        rollups().forget(conn)  # a whole store of facts: built in chunks after this transaction
        bulk_insert(conn, "org_unit", pd.DataFrame([
            {"id": u.id, "code": u.code, "name_zh": u.name_zh, "name_en": u.name_en,
             "tier": u.tier, "parent_id": u.parent_id, "path": u.path} for u in units]
        ).astype({"parent_id": "Int64"}))
        yearly = []
        encode = conn.dialect.name == "postgresql"
        for done, tables, sums in _chunks(profiles, units, cal, seed, chosen, encode):
            yearly.append(sums)
            for name in FACT_ORDER:
                if encode:
                    counts[name] += copy_encoded(conn, name, tables[name])
                else:
                    counts[name] += bulk_insert(conn, name, tables[name])
            if progress:
                progress(done, len(profiles))
        counts["hotline_interval"] = 0
        for frame in hotline() if hotline is not None else ():
            counts["hotline_interval"] += bulk_insert(conn, "hotline_interval", frame)
        _put_back_keys(engine, conn)
        counts["target"] = bulk_insert(conn, "target",
                                       target_frame(units, pd.concat(yearly), cal, seed))
        bulk_insert(conn, "demo_incident", pd.DataFrame([
            {"id": k, "kind": inc["kind"], "unit_id": inc["unit"].id,
             "carrier_id": inc["carrier_id"], "start_day": inc["start"].isoformat(),
             "end_day": inc["end"].isoformat(), "description_zh": inc["zh"],
             "description_en": inc["en"]} for k, inc in enumerate(chosen, start=1)]).astype(
                 {"carrier_id": "Int64"}))
        meta = {"demo": "true", "demo_scale": scale_name, "demo_seed": str(seed),
                "demo_start": str(days[0]), "demo_end": end.isoformat()}
        if cal.now is not None:
            meta["demo_now"] = cal.now.isoformat(timespec="seconds")
        conn.execute(insert(Meta), [{"key": k, "value": v} for k, v in meta.items()])
        data_changed(conn, days[0].astype(object), cal.now.date() if cal.now else end)
        if conn.dialect.name == "postgresql":
            for table in ("org_unit", "work_order", "target", "demo_incident"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"COALESCE((SELECT max(id) FROM {table}), 1))"))


def _yearly_sums(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per outlet, year, KPI and carrier (0 = all carriers): the figures the demo's plans come from
    (of a chunk of outlets at once: grouping one outlet at a time was half the generation time).

    Flows are totals over the year's days with data (`days` says how many), levels the last one.
    """
    def with_year(df: pd.DataFrame, col: str = "day") -> pd.DataFrame:
        return df.assign(year=df[col].str[:4])

    def by_carrier(df: pd.DataFrame, kpi: str, col: str, how: str) -> list[pd.DataFrame]:
        per = (df.groupby(["unit_id", "year", "carrier_id"])[col].agg(how).rename("value")
               .reset_index())
        total = (df.groupby(["unit_id", "year"])[col].agg(how).rename("value").reset_index()
                 .assign(carrier_id=0))
        return [per.assign(kpi=kpi), total.assign(kpi=kpi)]

    channel = with_year(frames["channel_daily"])
    parts: list[pd.DataFrame] = []
    for kpi, col in (("visits", "visits"), ("transactions", "transactions"),
                     ("new_registrations", "registrations"),
                     ("payment_amount", "payment_amount_total")):
        parts += by_carrier(channel, kpi, col, "sum")
    parts += by_carrier(with_year(frames["content_daily"]), "pushes", "pushes", "sum")
    parts += by_carrier(with_year(frames["campaign_daily"]), "participants", "participants", "sum")
    stock = with_year(frames["user_stock_daily"]).groupby(["unit_id", "year"])["registered"].last()
    parts.append(stock.rename("value").reset_index().assign(carrier_id=0, kpi="registered_users"))
    mau = with_year(frames["monthly_active"], "month")
    parts.append(mau.groupby(["unit_id", "year", "carrier_id"])["active_users"].max()
                 .rename("value").reset_index().assign(kpi="mau"))
    total_mau = with_year(frames["monthly_active_total"], "month")
    parts.append(total_mau.groupby(["unit_id", "year"])["active_users"].max().rename("value")
                 .reset_index().assign(carrier_id=0, kpi="mau"))
    days = channel.groupby(["unit_id", "year"])["day"].nunique().rename("days")
    out = pd.concat(parts, ignore_index=True).join(days, on=["unit_id", "year"])
    # one outlet's rows together, in the order of its parts (the plans sum them in this order)
    return out.sort_values("unit_id", kind="stable", ignore_index=True)


class StoreNotEmpty(click.ClickException):
    """Seeding was asked of a store that already holds data."""

    def __init__(self, units: int | None) -> None:
        super().__init__(
            f"The store already holds data ({units} org units). Seeding would mix demo rows into "
            "it; run again with --reset to delete everything (units, facts, targets) and seed "
            "afresh.")


def init_app(app: Flask) -> None:
    """Register `seed-demo`."""
    app.cli.add_command(seed_demo_command)


@click.command("seed-demo")
@with_appcontext
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True,
              help="tiny: unit tests (one province); small: the everyday demo (three provinces); "
                   "province: benchmarks (all of Zhejiang); national: 27 provinces, about 100 M "
                   "fact rows (benchmarks, PostgreSQL).")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option("--reset", is_flag=True, help="Delete all existing data first.")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) if the store has data.")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of data. Default (or today): daily data to yesterday in TIMEZONE "
                   "and work orders today up to now.")
@click.option("--demo-users", is_flag=True,
              help="Also create the documented demo accounts (one per role) and the demo's wall "
                   "playlists (a province and a city wall) where missing.")
def seed_demo_command(scale: str, seed: int, reset: bool, if_empty: bool,
                      end: dt.datetime | None, demo_users: bool) -> None:
    """Fill the store with deterministic demo data ending yesterday, and today's work orders so far."""
    engine = get_engine()
    if if_empty:
        with Session(engine) as session:
            if not store_is_empty(session):
                click.echo("The store already holds data; not seeding.")
                if demo_users:
                    _demo_users(session)
                    session.commit()
                return
    click.echo(f"Seeding the {scale} demo (seed {seed}) into "
               f"{engine.url.render_as_string(hide_password=True)} ...")
    counts = seed_demo(engine, scale, seed, end.date() if end else None, reset,
                       settings.current().TIMEZONE,
                       progress=lambda i, n: click.echo(f"  {i}/{n} outlets", err=True))
    click.echo(json.dumps(counts))
    if demo_users:
        with Session(engine) as session:
            _demo_users(session)
            session.commit()


def _demo_users(session: Session) -> None:
    """Create the documented demo accounts and the demo's wall playlists where missing; the
    command commits."""
    from auth.demo_users import ensure_demo_users

    for line in [*ensure_demo_users(session), *ensure_demo_playlists(session)]:
        click.echo(line)
