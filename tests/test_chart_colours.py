"""Charts whose colours and order mean what they say (issue 17, items 6-8): the risk heatmap on a
fixed scale from a neutral zero, with the unit's own events as a row; the targets heatmap coloured
by status band; the ranking sorted by what its bars show; red status clearly red."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json

import numpy as np
import plotly.io as pio
import pytest
from dash import dcc
from flask_login import login_user
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data.db import get_session
from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskRule, User
from tests.conftest import app_over, seeded_store

JUNE = {"start": "2026-06-01", "end": "2026-06-30"}
# The neutral grey of a zero-event cell (a light grey, not a colour of the red scale).
NEUTRAL = "#F1F3F5"


def graphs(component) -> list:
    """Every dcc.Graph in a component tree."""
    found = []
    if isinstance(component, (list, tuple)):
        for c in component:
            found += graphs(c)
        return found
    if isinstance(component, dcc.Graph):
        found.append(component)
    children = getattr(component, "children", None)
    if children is not None and not isinstance(children, str):
        found += graphs(children)
    return found


def page_figures(flask_app, module: str, username: str, **query) -> dict:
    """Render a page as `username`; return its graphs' figures (as plotly JSON) by graph id."""
    page = importlib.import_module(f"pages.{module}")
    with flask_app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == username)))
        layout = page.layout(**query)
    return {str(getattr(g, "id", i)): plain(g.figure) for i, g in enumerate(graphs(layout))
            if getattr(g, "figure", None) is not None}


def plain(figure) -> dict:
    """A figure as plain lists and dicts (plotly keeps numbers as typed arrays otherwise)."""
    return json.loads(pio.to_json(figure, engine="json", validate=False), object_hook=_decode)


def _decode(obj: dict):
    if set(obj) >= {"dtype", "bdata"}:
        array = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
        if "shape" in obj:
            shape = [int(n) for n in str(obj["shape"]).split(",")]
            array = array.reshape(shape)
        return array.tolist()
    return obj


def heatmap(figure) -> dict:
    figure = figure if isinstance(figure, dict) else plain(figure)
    [trace] = [tr for tr in figure["data"] if tr["type"] == "heatmap"]
    return trace


def colour_at(scale: list, value: float, zmin: float, zmax: float) -> str:
    """The colour (#RRGGBB, upper case) plotly paints `value` with: linear between the scale's
    stops (a step scale repeats a position, so each step is one flat colour)."""
    x = min(max((value - zmin) / (zmax - zmin), 0.0), 1.0)
    for (lo, c_lo), (hi, c_hi) in zip(scale, scale[1:], strict=False):
        if lo <= x <= hi:
            share = 0.0 if hi == lo else (x - lo) / (hi - lo)
            a, b = _rgb(c_lo), _rgb(c_hi)
            return "#" + "".join(f"{round(p + (q - p) * share):02X}" for p, q in zip(a, b,
                                                                                     strict=True))
    raise AssertionError(f"{value} is outside the scale")


def _rgb(hex_: str) -> tuple[int, ...]:
    return tuple(int(hex_[i:i + 2], 16) for i in (1, 3, 5))


# -- item 6: the risk heatmap ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def own_events(tmp_path_factory):
    """A demo whose only risk events are two at the county ZJ-HZ-01 itself (a unit with children),
    both of rules of the core 'service', in June."""
    store = seeded_store("sqlite", tmp_path_factory.mktemp("own-events"))
    with Session(store.engine) as s:
        s.execute(delete(RiskEventStep))
        s.execute(delete(RiskEvent))
        county = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ-HZ-01"))
        rules = s.scalars(select(RiskRule).where(RiskRule.core == "service")).all()[:2]
        assert county is not None and len(rules) == 2
        for rule in rules:
            s.add(RiskEvent(rule_id=rule.id, unit_id=county.id, owner_unit_id=county.id,
                            first_day=dt.date(2026, 6, 10), last_day=dt.date(2026, 6, 12),
                            value=1.0, threshold=0.5, state="open",
                            created_at=dt.datetime(2026, 6, 12, 8),
                            deadline=dt.datetime(2026, 6, 14, 8)))
        s.commit()
    with app_over(store) as flask_app:
        yield flask_app
    store.drop()


def _risk_heat(flask_app, unit: str) -> dict:
    figures = page_figures(flask_app, "risk", "admin", unit=unit, **JUNE)
    return heatmap(next(f for f in figures.values()
                        if any(tr["type"] == "heatmap" for tr in f["data"])))


def test_the_units_own_events_are_a_row_of_their_own(own_events):
    trace = _risk_heat(own_events, "ZJ-HZ-01")
    labels = list(trace["y"])
    assert labels[0] == "本级 · 上城区供电局"
    with own_events.app_context(), Session(own_events.extensions["engine"]) as s:
        county = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ-HZ-01"))
        kids = s.scalars(select(OrgUnit).where(OrgUnit.parent_id == county.id)
                         .order_by(OrgUnit.code)).all()
        kid_names = sorted(k.name_zh for k in kids)
    assert sorted(labels[1:]) == kid_names  # every child a row too
    cores = list(trace["x"])
    service = cores.index("服务运营")
    z = [list(row) for row in trace["z"]]
    assert z[0] == [2 if i == service else 0 for i in range(len(cores))]
    assert all(v == 0 for row in z[1:] for v in row)


def test_the_parent_counts_them_under_the_county_and_has_no_own_row(own_events):
    trace = _risk_heat(own_events, "ZJ-HZ")
    labels = list(trace["y"])
    assert not any(label.startswith("本级") for label in labels)  # ZJ-HZ itself has no event
    z = {label: list(row) for label, row in zip(labels, trace["z"], strict=True)}
    assert sum(z["上城区供电局"]) == 2
    assert sum(map(sum, z.values())) == 2


def test_zero_events_are_neutral_on_a_fixed_scale(own_events):
    trace = _risk_heat(own_events, "ZJ-HZ-01")
    zmin, zmax = trace["zmin"], trace["zmax"]
    assert zmin == 0
    assert zmax >= 5  # one event is never the top of the scale
    scale = [list(s) for s in trace["colorscale"]]
    assert colour_at(scale, 0, zmin, zmax) == NEUTRAL
    assert colour_at(scale, 2, zmin, zmax) != NEUTRAL


def test_an_all_zero_heatmap_is_all_neutral():
    from components.heatmaps import risk_heatmap

    class Unit:
        def __init__(self, code, name):
            self.code, self.name_zh, self.name_en = code, name, name

    class Core(Unit):
        pass

    import pandas as pd

    # Events only at a unit that is not a row (a grandchild's code, already rolled up elsewhere
    # would be a bug, but the figure must still not paint zero): every cell of the rows is 0.
    counts = pd.DataFrame({"child": ["X"], "core": ["user"], "events": [3]})
    fig = risk_heatmap(counts, Unit("P", "父"), [Unit("A", "甲"), Unit("B", "乙")],
                       [Core("channel", "渠道"), Core("user", "用户")], "zh")
    trace = heatmap(fig)
    assert [list(r) for r in trace["z"]] == [[0, 0], [0, 0]]
    assert trace["zmin"] == 0 and trace["zmax"] >= 5
    assert colour_at([list(s) for s in trace["colorscale"]], 0, 0, trace["zmax"]) == NEUTRAL


# -- item 7: the targets heatmap and the status colours -----------------------------------------

def test_the_targets_heatmap_colours_by_band(tmp_path):
    """A 99.4 % attainment is amber (green starts at 100 %), 96 % amber, 80 % red, 100 % green, no
    target grey: each cell has exactly the colour of its band, whatever its distance from 1.0."""
    from components.theme import STATUS_COLOURS
    from metrics.targets import Bands, status

    store = seeded_store("sqlite", tmp_path)
    try:
        with app_over(store, ATTAINMENT_GREEN=1.0, ATTAINMENT_AMBER=0.95) as flask_app:
            figures = page_figures(flask_app, "targets", "admin", unit="ZJ", **JUNE)
    finally:
        store.drop()
    trace = heatmap(figures["targets-heatmap"])
    scale = [list(s) for s in trace["colorscale"]]
    z, text = trace["z"], trace["text"]
    seen = set()
    for i, row in enumerate(z):
        for j, value in enumerate(row):
            shown = text[i][j]
            colour = colour_at(scale, value, trace["zmin"], trace["zmax"])
            if shown == "-":
                assert colour == STATUS_COLOURS["no_data"].upper()
                seen.add(None)
                continue
            att = float(shown.rstrip("%")) / 100
            # The band from the shown attainment, by hand (green >= 1.0, amber >= 0.95).
            band = "green" if att >= 1.0 else "amber" if att >= 0.95 else "red"
            if abs(att - 1.0) > 0.0005 and abs(att - 0.95) > 0.0005:  # not rounded across a band
                assert colour == STATUS_COLOURS[band].upper(), (shown, colour)
            seen.add(band)
    assert {"green", "amber", "red"} <= seen  # the demo has cells of every band
    assert status(0.994, Bands(1.0, 0.95)) == "amber"


def test_a_99_4_percent_cell_is_not_green():
    from components.heatmaps import band_heatmap
    from components.theme import STATUS_COLOURS

    class Obj:
        def __init__(self, code, name, id_=None):
            self.code, self.id, self.name_zh, self.name_en = code, id_ or code, name, name

    class Cell:
        def __init__(self, attainment, status):
            self.attainment, self.status = attainment, status

    rows = [Obj("k1", "指标一"), Obj("k2", "指标二")]
    cols = [Obj("A", "甲"), Obj("B", "乙")]
    cells = {("A", "k1"): Cell(0.994, "amber"), ("B", "k1"): Cell(1.0, "green"),
             ("A", "k2"): Cell(0.5, "red"), ("B", "k2"): Cell(None, None)}
    trace = heatmap(band_heatmap(cells, rows, cols, "zh"))
    scale = [list(s) for s in trace["colorscale"]]
    colours = [[colour_at(scale, v, trace["zmin"], trace["zmax"]) for v in row]
               for row in trace["z"]]
    assert colours == [[STATUS_COLOURS["amber"].upper(), STATUS_COLOURS["green"].upper()],
                       [STATUS_COLOURS["red"].upper(), STATUS_COLOURS["no_data"].upper()]]
    assert [list(r) for r in trace["text"]] == [["99.4%", "100.0%"], ["50.0%", "-"]]
    assert trace.get("showscale") is False  # no continuous colour bar


@pytest.mark.parametrize(("att", "shown"), [
    (0.99996, "99.9%"), (0.994, "99.4%"), (1.0, "100.0%"), (1.00004, "100.0%"), (0.94996, "94.9%"),
    (0.95, "95.0%"), (0.5, "50.0%"), (1.2346, "123.5%")])
def test_a_cell_never_reads_as_the_next_band(att, shown):
    from components.heatmaps import band_text
    from metrics.targets import Bands

    assert band_text(att, Bands(1.0, 0.95)) == shown


def test_the_band_legend_says_the_configured_bands(app):
    page = importlib.import_module("tests.test_pages").render(app, "targets", "admin", unit="ZJ")
    assert "绿色 = 达标（达成率 ≥ 100.0%）" in page and "黄色 = 接近（≥ 95.0%）" in page
    assert "绿色=达标" not in page


def test_red_is_red_and_not_amber():
    from components.theme import STATUS_COLOURS, STATUS_MANTINE

    assert STATUS_MANTINE["red"] == "red" and STATUS_MANTINE["amber"] in ("yellow", "orange")

    r, g, b = _rgb(STATUS_COLOURS["red"])
    assert r > 150 and g < 80 and b < 80  # red: green and blue both low
    _ar, ag, _ab = _rgb(STATUS_COLOURS["amber"])
    assert ag - g > 80  # amber far from red in the green channel (hue and lightness)


# -- item 8: the ranking --------------------------------------------------------------------------

@pytest.mark.parametrize(("kpi", "unit"), [
    ("online_substitution", "ZJ"), ("online_substitution", "ZJ-HZ"), ("visits", "ZJ-HZ"),
    ("avg_handling_days", "ZJ-HZ"), ("complaints_per_10k", "ZJ-HZ"), ("satisfaction", "ZJ")])
def test_the_ranking_bars_are_sorted_by_what_they_show(app, kpi, unit):
    """Best first in what the bars show (the value), for higher- and lower-is-better KPIs; the
    league table beside it ranks by attainment, so this order was not the bars' order."""
    from metrics.registry import REGISTRY

    figures = page_figures(app, "regions", "admin", unit=unit, kpi=kpi, **JUNE)
    fig = figures["regions-ranking"]
    [bars] = [tr for tr in fig["data"] if tr["type"] == "bar"]
    values = [float(v) for v in bars["x"]]
    assert len(values) >= 2
    best_first = sorted(values, reverse=REGISTRY[kpi].better == "higher")
    assert values == best_first, values
    title = fig["layout"]["xaxis"]["title"]["text"]
    assert REGISTRY[kpi].name_zh in title and "排序" in title
    assert ("越低越好" if REGISTRY[kpi].better == "lower" else "越高越好") in title


def test_the_ranking_says_its_order_in_english():
    import pandas as pd

    from components.charts import ranking_bars
    from metrics.registry import REGISTRY

    rows = pd.DataFrame({"unit": ["A", "B", "C"], "name_zh": ["甲", "乙", "丙"],
                         "name_en": ["A", "B", "C"], "value": [0.5, 0.9, 0.7],
                         "status": ["red", "green", "amber"]})
    fig = plain(ranking_bars(rows, REGISTRY["online_substitution"], "en"))
    [bars] = fig["data"]
    assert list(bars["y"]) == ["B", "C", "A"] and list(bars["x"]) == [0.9, 0.7, 0.5]
    assert list(bars["customdata"]) == ["B", "C", "A"]  # a click still drills to the bar's unit
    title = fig["layout"]["xaxis"]["title"]["text"]
    assert title == "Sorted by Online substitution rate, higher is better, best at the top"
