"""Validation of import rows, chunk by chunk, before anything is written.

`check_header` finds missing and unknown columns; `check_chunk` parses every value of a chunk
(types, dates, codes, negative counts), checks the rules between columns (online payments cannot
exceed all payments) and returns the valid rows as storage-ready values. Duplicates within a file
span chunks, so they are found afterwards on the staged rows (see load.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from data.clock import local_now, month_start
from data.models import HOTLINE_INTERVAL_MINUTES
from data.numbers import NUMBER, BadNumber, finite, finite_series, not_finite_reason
from data.units import UNIT_CODE_PATTERN, unit_code_problem
from jobs.ingest.read import ROW, clip
from jobs.ingest.spec import Col, Kind
from metrics.registry import REGISTRY

LIMIT = 100
REASON_CHARS = 400  # a reason quotes clipped values; this bounds the whole line
PLAN_YEARS = 10  # targets and SLA deadlines may lie this many years ahead


def _q(value: object) -> str:
    return f"'{clip(value)}'"


@dataclass(frozen=True)
class Problem:
    """Why one row (None: the whole file) cannot be imported: `reason` in English, `reason_zh` in
    Chinese where the check words one ("" otherwise: the page shows the English)."""

    row: int | None
    column: str
    reason: str
    reason_zh: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", clip(self.column))
        object.__setattr__(self, "reason", clip(self.reason, REASON_CHARS))
        object.__setattr__(self, "reason_zh", clip(self.reason_zh, REASON_CHARS))

    def reason_in(self, lang: str) -> str:
        """The reason in `lang` (zh or en), English where there is no Chinese wording."""
        return self.reason_zh if lang == "zh" and self.reason_zh else self.reason

    def text(self, file_name: str) -> str:
        """Render as 'file, row N, column C: reason'."""
        where = [file_name] + ([f"row {self.row}"] if self.row is not None else []) \
            + ([f"column {self.column}"] if self.column else [])
        return f"{', '.join(where)}: {self.reason}"


@dataclass
class Problems:
    """The first LIMIT problems in row order, and how many there are in all."""

    limit: int = LIMIT
    first: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: Problem) -> None:
        """Count one problem, keeping it if it is among the first."""
        self.count += 1
        self.first.append(problem)
        self.first.sort(key=lambda p: p.row or 0)
        del self.first[self.limit:]

    def add_rows(self, frame: pd.DataFrame, mask: pd.Series, column: str,
                 reason: Callable[[pd.Series], str | tuple[str, str]] | str,
                 reason_zh: str = "") -> None:
        """Count the rows of `frame` where `mask` holds; keep the first ones with their reason
        (a text, or a function of the row giving the English text or (English, Chinese))."""
        hits = int(mask.sum())
        if not hits:
            return
        self.count += hits
        for _, row in frame[mask].head(self.limit).iterrows():
            text = reason if isinstance(reason, str) else reason(row)
            en, zh = text if isinstance(text, tuple) else (text, reason_zh)
            self.first.append(Problem(int(row[ROW]), column, en, zh))
        self.first.sort(key=lambda p: p.row or 0)
        del self.first[self.limit:]


@dataclass(frozen=True)
class Lookups:
    """What codes in a file may name: units (code -> id, tier) and carriers (code -> id)."""

    units: dict[str, tuple[int, int]]
    carriers: dict[str, int]
    window: Window | None = None


@dataclass(frozen=True)
class Window:
    """The days a file may name: from the store's start (DATA_START) to tomorrow, local time.

    Columns that hold plans (targets, SLA deadlines: `Col.ahead`) may reach PLAN_YEARS further.
    """

    first: dt.date
    last: dt.date

    @property
    def plan_last(self) -> dt.date:
        """The last day a plan may name."""
        return dt.date(self.last.year + PLAN_YEARS, 12, 31)

    @classmethod
    def of(cls, data_start: str | dt.date, tz: str) -> Window:
        """The window from the DATA_START setting and the company's time zone."""
        first = data_start if isinstance(data_start, dt.date) else dt.date.fromisoformat(data_start)
        return cls(first, local_now(tz).date() + dt.timedelta(days=1))


def check_header(kind: Kind, header: list[str]) -> list[Problem]:
    """Return the file-level problems of a header: required columns missing, unknown columns."""
    known = [c.name for c in kind.columns]
    problems = [Problem(1, c.name, f"required column missing (a {kind.name} file has: "
                                   f"{', '.join(known)})")
                for c in kind.columns if c.required and c.name not in header]
    problems += [Problem(1, name or "(empty)", f"unknown column; a {kind.name} file has: "
                                                f"{', '.join(known)}")
                 for name in header if name not in known]
    return problems


def check_chunk(kind: Kind, frame: pd.DataFrame, lookups: Lookups,
                problems: Problems) -> pd.DataFrame:
    """Validate a chunk; record its problems and return its valid rows as storage values.

    The result has `row_no` and the kind's storage columns.
    """
    bad = pd.Series(False, index=frame.index)
    out = pd.DataFrame({"row_no": frame[ROW].astype("int64")}, index=frame.index)
    parsed: dict[str, pd.Series] = {}
    for col in kind.columns:
        raw = frame[col.name] if col.name in frame else pd.Series("", index=frame.index)
        empty = raw == ""
        if col.required:
            problems.add_rows(frame, empty, col.name, "required value missing", "缺少必填值")
            bad |= empty
        values, wrong = _parse(raw, col, lookups, empty)
        if wrong.any():
            _, _, reason = PARSERS[col.type](raw[wrong], col, lookups)
            problems.add_rows(frame.assign(_v=raw), wrong, col.name, reason)
            bad |= wrong
        if lookups.window is not None and col.type in ("date", "month", "datetime"):
            outside = _outside(values, col, lookups.window) & ~wrong & ~empty
            problems.add_rows(frame.assign(_v=raw), outside, col.name,
                              _outside_reason(col, lookups.window))
            bad |= outside
            wrong = wrong | outside
        parsed[col.name] = values.where(~wrong & ~empty)
        out[col.store] = _storage(parsed[col.name], col)
    for a, b in kind.not_greater:
        over = parsed[a] > parsed[b]
        over = over.fillna(False).astype(bool)
        problems.add_rows(frame, over, a, _greater_than(a, b))
        bad |= over
    if kind.name in ROW_RULES:
        bad |= ROW_RULES[kind.name](frame, parsed, out, problems, lookups)
    return out[~bad].reset_index(drop=True)


def _parse(raw: pd.Series, col: Col, lookups: Lookups, empty: pd.Series):
    """Parse a column; values that fail are tried once more without surrounding blanks."""
    values, wrong, _ = PARSERS[col.type](raw, col, lookups)
    wrong = wrong & ~empty
    if wrong.any():
        again, still, _ = PARSERS[col.type](raw[wrong].str.strip(), col, lookups)
        values = values.astype(again.dtype) if values.dtype != again.dtype else values.copy()
        values[wrong] = again
        wrong = wrong.copy()
        wrong[wrong] = still.to_numpy()
    return values, wrong


def _outside(values: pd.Series, col: Col, window: Window) -> pd.Series:
    """Where a parsed date (month, time) lies before the window or after its last day."""
    last = window.plan_last if col.ahead else window.last
    first = pd.Timestamp(month_start(window.first) if col.type == "month" else window.first)
    after = pd.Timestamp(last + dt.timedelta(days=1))
    return (values.notna() & ((values < first) | (values >= after))).fillna(False).astype(bool)


def _outside_reason(col: Col, window: Window) -> Callable[[pd.Series], str]:
    last = window.plan_last if col.ahead else window.last
    return lambda r: (f"{_q(r['_v'])} is outside the days this store accepts, "
                      f"{window.first} (DATA_START) to {last}")


def _greater_than(a: str, b: str) -> Callable[[pd.Series], tuple[str, str]]:
    return lambda r: (f"{a} ({clip(r[a])}) is greater than {b} ({clip(r[b])})",
                      f"{a}（{clip(r[a])}）大于 {b}（{clip(r[b])}）")


def _before_created(name: str) -> Callable[[pd.Series], str]:
    return lambda r: f"{name} ({clip(r[name])}) is before created_at ({clip(r['created_at'])})"


def _storage(values: pd.Series, col: Col) -> pd.Series:
    if col.type in ("int", "tier", "bool", "outlet", "unit", "carrier", "carrier_or_all"):
        return values.astype("Int64")
    if col.type in ("date", "month", "datetime"):
        return values  # datetime64; load.py writes them in the database's format
    return values.astype(object).where(values.notna(), None)


# -- parsers: (raw strings, column, lookups) -> (values, wrong mask, reason) ----------------------

def _number(raw: pd.Series, col: Col, _lk: Lookups):
    num, wrong = finite_series(raw)  # the same rules as every number entered (data/numbers.py)
    if col.type == "decimal":
        return num, wrong | (num < 0), lambda r: (
            _not_number(r['_v'], "a number") or f"negative amount {clip(r['_v'])}")
    whole = (num % 1 == 0)
    if col.type == "tier":
        return num, wrong | ~whole | ~num.isin([1, 2, 3, 4, 5]), \
            lambda r: f"{_q(r['_v'])} is not a tier (1 HQ ... 5 outlet)"
    return num, wrong | ~whole | (num < 0), lambda r: (
        _not_number(r['_v'], "a whole number")
        or ((f"{_q(r['_v'])} is not a whole number", f"{_q(r['_v'])} 不是整数")
            if float(r['_v']) % 1
            else (f"negative count {clip(r['_v'])}", f"数量不能为负数：{clip(r['_v'])}")))


def _not_number(value: str, kind: str) -> str:
    """The reason for a value that is no finite number ('' when it is one)."""
    try:
        finite(value)
    except BadNumber:
        if NUMBER.fullmatch(value.strip()) or value.strip().lower().lstrip("+-") in NON_FINITE:
            return not_finite_reason(clip(value))
        return f"{_q(value)} is not {kind}"
    return ""


NON_FINITE = ("nan", "inf", "infinity")


def _date(raw: pd.Series, col: Col, _lk: Lookups):
    norm = raw.str.replace("/", "-", regex=False).str.replace(r"[ T]00:00(:00)?$", "", regex=True)
    if col.type == "month":
        ok = norm.str.fullmatch(r"\d{4}-\d{1,2}(-0?1)?")
        norm = norm.str.split("-").str[:2].str.join("-") + "-01"
        values = pd.to_datetime(norm.where(ok), format="%Y-%m-%d", errors="coerce")
        return values, values.isna(), lambda r: f"{_q(r['_v'])} is not a month (YYYY-MM)"
    values = pd.to_datetime(norm.where(norm.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}")),
                            format="%Y-%m-%d", errors="coerce")
    return values, values.isna(), lambda r: f"{_q(r['_v'])} is not a date (YYYY-MM-DD)"


def _datetime(raw: pd.Series, _col: Col, _lk: Lookups):
    values = pd.to_datetime(raw, format="%Y-%m-%d %H:%M:%S", errors="coerce").astype("datetime64[us]")
    todo = values.isna() & (raw != "")
    if todo.any():  # other spellings: T or / separators, no seconds, fractions of a second
        norm = raw[todo].str.replace("T", " ", regex=False).str.replace("/", "-", regex=False)
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f"):
            values[todo] = values[todo].fillna(pd.to_datetime(norm, format=fmt, errors="coerce"))
    return values, values.isna(), \
        lambda r: (f"{_q(r['_v'])} is not a date and time (YYYY-MM-DD HH:MM:SS)",
                   f"{_q(r['_v'])} 不是日期时间（YYYY-MM-DD HH:MM:SS）")


BOOLS = {"1": 1, "0": 0, "true": 1, "false": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "t": 1, "f": 0,
         "是": 1, "否": 0}


def _bool(raw: pd.Series, _col: Col, _lk: Lookups):
    values = raw.map(BOOLS)
    if values.isna().any():
        values = values.fillna(raw.str.lower().map(BOOLS))
    return values, values.isna(), lambda r: f"{_q(r['_v'])} is not 1/0 (true/false, yes/no)"


def _choice(raw: pd.Series, col: Col, _lk: Lookups):
    values = raw if raw.isin(col.choices).all() else raw.str.lower()
    return values, ~values.isin(col.choices), \
        lambda r: f"unknown {col.name} {_q(r['_v'])}; expected one of {', '.join(col.choices)}"


def _kpi(raw: pd.Series, _col: Col, _lk: Lookups):
    return raw, ~raw.isin(list(REGISTRY)), lambda r: f"unknown KPI {_q(r['_v'])}"


def _text(raw: pd.Series, col: Col, _lk: Lookups):
    limit = f"{{0,{col.max_length}}}" if col.max_length else "*"
    wrong = ~raw.str.fullmatch(r"[^\x00-\x1f\\]" + limit)
    return raw, wrong, lambda r: (
        f"longer than {col.max_length} characters" if col.max_length and len(r["_v"]) > col.max_length
        else "control characters and backslashes are not allowed")


def _unit_code(raw: pd.Series, _col: Col, _lk: Lookups):
    # Checked before any lookup, so a code like '../x' is named as such even if the store has it.
    return raw, ~raw.str.fullmatch(UNIT_CODE_PATTERN), lambda r: unit_code_problem(r["_v"])


def _unit(raw: pd.Series, col: Col, lookups: Lookups):
    ids = raw.map({code: uid for code, (uid, _) in lookups.units.items()}).astype("float64")
    tiers = raw.map({code: tier for code, (_, tier) in lookups.units.items()})
    if col.type == "outlet":
        wrong = ids.isna() | (tiers != 5)
        return ids, wrong, lambda r: (
            _unknown_unit(r['_v']) if r['_v'] not in lookups.units else
            f"unit {_q(r['_v'])} is not an outlet (tier {lookups.units[r['_v']][1]}); facts are "
            "loaded per outlet (tier 5)")
    return ids, ids.isna(), lambda r: _unknown_unit(r['_v'])


def _unknown_unit(code: str) -> tuple[str, str]:
    return f"unknown unit code {_q(code)}", f"未知的单位代码 {_q(code)}"


def _carrier(raw: pd.Series, col: Col, lookups: Lookups):
    codes = raw if raw.isin(list(lookups.carriers)).all() else raw.str.lower()
    ids = codes.map(lookups.carriers).astype("float64")
    wrong = ids.isna()
    if col.type == "carrier_or_all":
        wrong &= codes != "all"
    expected = ", ".join(lookups.carriers) + (", all" if col.type == "carrier_or_all" else "")
    return ids, wrong, lambda r: f"unknown carrier code {_q(r['_v'])}; expected one of {expected}"


PARSERS = {"int": _number, "decimal": _number, "tier": _number, "date": _date, "month": _date,
           "datetime": _datetime, "bool": _bool, "choice": _choice, "kpi": _kpi, "text": _text,
           "unit_code": _unit_code,
           "outlet": _unit, "unit": _unit, "carrier": _carrier, "carrier_or_all": _carrier}


# -- rules across columns particular to a kind ---------------------------------------------------

def _work_order_rules(frame, parsed, out, problems: Problems, _lookups: Lookups) -> pd.Series:
    bad = pd.Series(False, index=frame.index)
    created = parsed["created_at"]
    for name in ("first_response_at", "sla_deadline", "closed_at"):
        before = (parsed[name] < created).fillna(False).astype(bool)
        problems.add_rows(frame, before, name, _before_created(name))
        bad |= before
    rating = parsed["rating"]
    off_scale = rating.notna() & ~rating.isin([1, 2, 3, 4, 5])
    problems.add_rows(frame, off_scale, "rating", lambda r: f"rating {r['rating']} is not 1-5")
    bad |= off_scale
    still_open = parsed["closed_at"].isna() & (frame.get("closed_at", "") == "")
    for name in ("first_contact_resolved", "rating"):
        early = still_open & parsed[name].notna()
        problems.add_rows(frame, early, name, f"{name} is given for an order that is not closed")
        bad |= early
    out["created_day"] = created.dt.normalize()
    out["closed_day"] = parsed["closed_at"].dt.normalize()
    out["response_minutes"] = ((parsed["first_response_at"] - created).dt.total_seconds() / 60).round(2)
    return bad


def _target_rules(frame, parsed, out, problems: Problems, _lookups: Lookups) -> pd.Series:
    reversed_ = (parsed["period_end"] < parsed["period_start"]).fillna(False).astype(bool)
    problems.add_rows(frame, reversed_, "period_end",
                      lambda r: f"period_end ({r['period_end']}) is before period_start "
                                f"({r['period_start']})")
    rate = parsed["kpi"].map(lambda k: k in REGISTRY and REGISTRY[k].unit == "%").astype(bool)
    over_one = rate & (parsed["value"] > 1).fillna(False).astype(bool)
    problems.add_rows(frame, over_one, "value",
                      lambda r: f"{r['kpi']} is a rate: its target is a fraction between 0 and 1 "
                                f"(0.8 = 80%), not {r['value']}")
    return reversed_ | over_one


def _hotline_rules(frame, parsed, out, problems: Problems, lookups: Lookups) -> pd.Series:
    """A 15-minute interval of one centre: starts on a quarter hour; answered <= offered,
    answered within 20 s <= answered, abandoned <= offered - answered (short abandons, under 5 s,
    are in neither offered nor abandoned, so answered and abandoned calls are distinct offered
    calls)."""
    bad = pd.Series(False, index=frame.index)
    start = parsed["interval_start"]
    off = (start.notna() & ((start.dt.minute % HOTLINE_INTERVAL_MINUTES != 0)
                            | (start.dt.second != 0) | (start.dt.microsecond != 0)))
    off = off.fillna(False).astype(bool)
    problems.add_rows(frame, off, "interval_start", lambda r: (
        f"{_q(r['interval_start'])} is not on a {HOTLINE_INTERVAL_MINUTES}-minute boundary "
        "(:00, :15, :30 or :45, no seconds): an interval starts on a quarter hour",
        f"{_q(r['interval_start'])} 不在 {HOTLINE_INTERVAL_MINUTES} 分钟整点上（应为 :00、:15、:30 "
        "或 :45，秒为 0）：时段须从整刻开始"))
    bad |= off
    offered, answered = parsed["offered"], parsed["answered"]
    within, abandoned = parsed["answered_20s"], parsed["abandoned"]
    rules = (
        ("answered", answered > offered, lambda r: (
            f"answered ({clip(r['answered'])}) is greater than offered ({clip(r['offered'])})",
            f"接通量（{clip(r['answered'])}）大于呼入量（{clip(r['offered'])}）")),
        ("answered_20s", within > answered, lambda r: (
            f"answered_20s ({clip(r['answered_20s'])}) is greater than answered "
            f"({clip(r['answered'])})",
            f"20 秒内接通量（{clip(r['answered_20s'])}）大于接通量（{clip(r['answered'])}）")),
        ("abandoned", (answered <= offered) & (abandoned > offered - answered), lambda r: (
            f"abandoned ({clip(r['abandoned'])}) is greater than offered - answered "
            f"({clip(r['offered'])} - {clip(r['answered'])}): an offered call is answered or "
            "abandoned, not both",
            f"放弃量（{clip(r['abandoned'])}）大于呼入量减接通量（{clip(r['offered'])} - "
            f"{clip(r['answered'])}）：一通来电不能既接通又放弃")),
    )
    for column, over, reason in rules:
        over = over.fillna(False).astype(bool)
        problems.add_rows(frame, over, column, reason)
        bad |= over
    out["day"] = start.dt.normalize()
    out["carrier_id"] = pd.Series(lookups.carriers.get("hotline"), index=frame.index,
                                  dtype="Int64")
    return bad


ROW_RULES = {"work_orders": _work_order_rules, "targets": _target_rules,
             "hotline_intervals": _hotline_rules}
