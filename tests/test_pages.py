"""The dashboard pages: layout functions for each role and view, and a real browser session."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs

import dash
import pytest
from flask_login import login_user
from sqlalchemy import select

from app import create_app
from components.format import number
from data.db import get_session
from data.models import User
from data.units import unit_by_code
from metrics.compute import compute
from metrics.registry import REGISTRY
from tests.browser import ARTIFACTS, browser_page, choose, live_server
from tests.conftest import PASSWORD

PAGES = ["/", "/carriers", "/cores", "/regions", "/stages", "/targets", "/risk"]


def test_factory_reads_config_over_defaults(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "TIMEZONE": "UTC",
                      "SECRET_KEY": "k" * 32})
    assert app.config["TIMEZONE"] == "UTC"
    assert "dash" in app.extensions


def test_health(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def texts(component) -> str:
    """Flatten a Dash component tree into its text (ids of components included), figures too."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(texts(c) for c in component)
    own = getattr(component, "id", None)
    parts = [json.dumps(own) if isinstance(own, dict) else str(own or "")]
    for attr in ("children", "label", "data", "rowData", "value"):
        value = getattr(component, attr, None)
        if isinstance(value, list) or (value is not None and attr != "data"):
            parts.append(texts(value) if not isinstance(value, list) or not value
                         or not isinstance(value[0], dict) else json.dumps(value, ensure_ascii=False))
    figure = getattr(component, "figure", None)
    if figure is not None:
        parts.append(figure_text(figure))
    return " ".join(parts)


def figure_text(figure) -> str:
    """The words and labels a person reads on a chart: titles, axis titles and tick labels,
    annotations, and each trace's name, text and x/y labels."""
    fig = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else dict(figure)
    layout = fig.get("layout") or {}
    found: list = [_title(layout.get("title"))]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            found += [_title(axis.get("title")), *(axis.get("ticktext") or [])]
    found += [a.get("text") for a in layout.get("annotations") or []]
    for trace in fig.get("data") or []:
        for key in ("name", "text", "x", "y"):
            found += _flat(trace.get(key))
    return " ".join(str(x) for x in found if x is not None and x != "")


def _title(title):
    return title.get("text") if isinstance(title, dict) else title


def _flat(value) -> list:
    if value is None or isinstance(value, (str, int, float)):
        return [value]
    if hasattr(value, "tolist"):  # numpy arrays and pandas series
        value = value.tolist()
    return [x for v in value for x in _flat(v)] if isinstance(value, (list, tuple)) else [value]


def render(app, module: str, username: str, **query: str) -> str:
    import importlib

    page = importlib.import_module(f"pages.{module}")
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == username)))
        return texts(page.layout(**query))


@pytest.mark.parametrize("module", ["overview", "carriers", "cores", "regions", "stages", "targets",
                                    "risk"])
def test_every_page_renders_for_a_manager(app, module):
    page = render(app, module, "manager", period="last30")
    assert "上城区供电局" in page and "2026-06-30" in page  # breadcrumb, data as of
    assert "演示数据" in page


def test_overview_cards_show_what_metrics_computes(app, tiny_store):
    page = render(app, "overview", "admin", unit="ZJ-HZ", start="2026-06-01", end="2026-06-30")
    from sqlalchemy.orm import Session

    with Session(tiny_store.engine) as s:
        frame = compute(s, ["online_substitution", "mau", "satisfaction"],
                        unit_by_code(s, "ZJ-HZ"), dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    for row in frame.itertuples():
        assert number(row.value, REGISTRY[row.kpi].unit, "zh") in page


@pytest.mark.writes
def test_out_of_scope_unit_is_not_permitted(app):
    page = render(app, "overview", "manager", unit="ZJ-HZ-02")
    assert "not-permitted" in page and "as-of" not in page


def test_bad_period_names_the_problem(app):
    page = render(app, "regions", "admin", period="fortnight")
    assert "bad-view" in page and "period" in page


def test_display_accounts_get_the_wall_display_notice(app):
    assert "display-only" in render(app, "overview", "display")


def test_outlet_regions_fall_back_to_carriers_and_days(app):
    page = render(app, "regions", "admin", unit="ZJ-HZ-01-01")
    assert "regions-carriers" in page and "regions-ranking" not in page


def test_english_labels(app, tiny_store):
    from sqlalchemy.orm import Session

    with Session(tiny_store.engine) as s:
        s.scalar(select(User).where(User.username == "viewer")).language = "en"
        s.commit()
    page = render(app, "overview", "viewer")
    assert "Online substitution rate" in page and "Data as of" in page
    with Session(tiny_store.engine) as s:
        s.scalar(select(User).where(User.username == "viewer")).language = "zh"
        s.commit()


@pytest.mark.browser
def test_a_manager_session_in_the_browser(app, tiny_store):
    if tiny_store.kind != "sqlite":
        pytest.skip("the browser walk-through runs once, on SQLite")
    card = "[id='{\"kpi\":\"online_substitution\",\"type\":\"kpi-value\"}']"
    with live_server(app) as base, browser_page(1920, 1080) as (page, errors):
        page.goto(base + "/")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(card)
        for path in PAGES:
            page.goto(base + path + "?unit=ZJ")
            page.wait_for_selector("#as-of")
            page.wait_for_timeout(800)
            name = path.strip("/") or "overview"
            page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"))

        # Drill from HQ down to an outlet with the filter bar, then back up by the breadcrumb.
        page.goto(base + "/?unit=HQ&start=2026-06-01&end=2026-06-30")
        for child in ("浙江省电力公司", "杭州供电局", "上城区供电局", "上城城区供电所"):
            choose(page, "#f-child", child)
            page.wait_for_selector(f"#breadcrumb >> text={child}")
        assert "unit=ZJ-HZ-01-01" in page.url
        shown = page.inner_text(card)
        page.click("#breadcrumb >> text=杭州供电局")
        page.wait_for_function("() => location.search.includes('unit=ZJ-HZ&')")
        page.wait_for_selector(card)
        page.go_back()
        page.wait_for_function("() => location.search.includes('unit=ZJ-HZ-01-01')")
        # The URL changes first; the outlet's page replaces the city's when its callback returns
        # (clicking the old page's filters meanwhile would lose the click).
        page.wait_for_selector("#breadcrumb >> text=上城城区供电所")
        page.wait_for_selector(card)

        from sqlalchemy.orm import Session

        with Session(tiny_store.engine) as s:
            value = compute(s, ["online_substitution"], unit_by_code(s, "ZJ-HZ-01-01"),
                            dt.date(2026, 6, 1), dt.date(2026, 6, 30))["value"][0]
        assert shown == number(value, "%", "zh")

        # Change the period: the URL and the numbers follow. A person picks once the page has
        # settled: a callback of the navigation still running could re-render the filter bar.
        page.wait_for_load_state("networkidle")
        choose(page, "#f-period", "近 7 天")
        page.wait_for_function("() => location.search.includes('period=last7')")
        page.wait_for_selector(card)

        # Switch language: labels change and the choice is kept on the account.
        page.click("#lang-switch")
        page.wait_for_selector("text=Online substitution rate")
        page.screenshot(path=str(ARTIFACTS / "page-overview-en.png"))
        page.click("#lang-switch")
        page.wait_for_selector("text=线上业务替代率")

        # Dark theme, kept on the account too.
        page.click("#theme-switch")
        page.wait_for_selector("html[data-mantine-color-scheme='dark']")
        page.wait_for_selector(card)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "page-overview-dark.png"))
        page.click("#theme-switch")
        page.wait_for_selector("html[data-mantine-color-scheme='light']")
    assert [e for e in errors if "favicon" not in e] == []


def test_matrix_heatmap_shows_dash_for_no_data_and_na_label():
    import pandas as pd

    from components.charts import matrix_heatmap

    class Obj:
        def __init__(self, code):
            self.code, self.name_zh, self.name_en = code, code, code

    cells = pd.DataFrame([
        {"core": "a", "carrier": "x", "score": 91.0, "status": "amber"},
        {"core": "a", "carrier": "y", "score": None, "status": "no_data"},
        {"core": "b", "carrier": "x", "score": None, "status": "n/a"},
        {"core": "b", "carrier": "y", "score": 100.0, "status": "green"}])
    fig = matrix_heatmap(cells, [Obj("a"), Obj("b")], [Obj("x"), Obj("y")], "en")
    assert [list(r) for r in fig.data[0].text] == [["91", "-"], ["n/a", "100"]]


def test_a_failing_figure_becomes_a_message():
    from components.charts import safe

    def broken():
        raise ZeroDivisionError

    fig = safe(broken, lang="en")
    assert "could not be drawn" in fig.layout.annotations[0].text


def _run_callback(func, triggered: str, *args):
    """Call a Dash callback function as Dash would, with `triggered` as the trigger."""
    from contextvars import copy_context

    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": triggered, "value": None}]))
        return func(*args)

    return copy_context().run(run)


@pytest.mark.parametrize("trigger, args, expected", [
    ("f-child.value", ("ZJ-HZ", "last30", None, None, "previous"), "?unit=ZJ-HZ&period=last30"),
    ("f-period.value", (None, "ytd", None, None, "previous"), "?unit=ZJ&period=ytd"),
    ("f-dates.value", (None, "last30", ["2026-05-01", "2026-05-31"], None, "previous"),
     "?unit=ZJ&start=2026-05-01&end=2026-05-31"),
    ("f-dates.value", (None, "last30", ["2026-05-01", None], None, "previous"), dash.no_update),
    ("f-carriers.value", (None, "last30", None, ["app", "hall"], "previous"),
     "?unit=ZJ&period=last30&carrier=app,hall"),
    ("f-compare.value", (None, "last30", None, None, "last_year"),
     "?unit=ZJ&period=last30&compare=last_year"),
])
def test_filter_changes_become_the_url(trigger, args, expected):
    import shell

    assert _run_callback(shell.apply_filters, trigger, *args, "?unit=ZJ&period=last30") == expected


def test_navigation_keeps_the_view_and_marks_the_page():
    import shell

    hrefs, classes = shell.keep_view_across_pages(
        "?unit=ZJ&period=ytd&kpi=mau", "/regions", [{"path": "/"}, {"path": "/regions"}])
    assert hrefs == ["/?unit=ZJ&period=ytd", "/regions?unit=ZJ&period=ytd"]
    assert classes == ["nav-link", "nav-link active"]


def test_drill_callbacks():
    from pages import regions

    assert _run_callback(regions.drill, "regions-ranking.clickData",
                         {"points": [{"customdata": "ZJ-NB"}]}, None,
                         "?unit=ZJ&kpi=mau") == "?unit=ZJ-NB&kpi=mau"
    assert _run_callback(regions.drill, '{"name":"regions-league","type":"csv-grid"}.cellClicked',
                         None, {"rowId": "ZJ-HZ"}, "?unit=ZJ") == "?unit=ZJ-HZ"


def test_view_state_parsing():
    from components.view_state import BadView, parse

    anchor = dt.date(2026, 6, 30)
    assert parse({}, "ZJ", anchor).start == dt.date(2026, 6, 1)
    v = parse({"period": "last_month"}, "ZJ", anchor)
    assert (v.start, v.end) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    v = parse({"period": "qtd", "carrier": "app"}, "ZJ", anchor)
    assert (v.start, v.carriers) == (dt.date(2026, 4, 1), ("app",))
    for bad in ({"period": "x"}, {"start": "2026-01-01"}, {"start": "2026-02-01", "end": "2026-01-01"},
                {"carrier": "fax"}, {"compare": "never"}):
        with pytest.raises(BadView):
            parse(bad, "ZJ", anchor)


def test_kpi_picker_puts_the_choice_in_the_url():
    import shell

    assert shell.choose_kpi(["mau"], "?unit=ZJ&period=ytd") == "?unit=ZJ&period=ytd&kpi=mau"
    assert shell.choose_kpi(["mau"], "?unit=ZJ&kpi=mau") is dash.no_update


def test_a_range_past_the_last_loaded_day_is_clipped_and_says_so(app, tiny_store):
    from sqlalchemy.orm import Session

    past = render(app, "overview", "admin", unit="ZJ-HZ", start="2026-06-01", end="2026-07-31")
    assert "所选范围至 2026-07-31，超出最后加载日，按 2026-06-30 截止显示" in past
    with Session(tiny_store.engine) as s:  # the cards show the range that ends on the last day
        frame = compute(s, ["online_substitution", "satisfaction"], unit_by_code(s, "ZJ-HZ"),
                        dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    for row in frame.itertuples():
        assert number(row.value, REGISTRY[row.kpi].unit, "zh") in past
    after = render(app, "overview", "admin", unit="ZJ-HZ", start="2026-08-01", end="2026-08-31")
    assert "所选范围在最后加载日 2026-06-30 之后，没有数据" in after
    within = render(app, "overview", "admin", unit="ZJ-HZ", start="2026-06-01", end="2026-06-30")
    assert "最后加载日" not in within


def test_the_clipped_range_note_in_english():
    from components.i18n import t

    assert t("asof.clipped", "en").format(end="2026-07-31", day="2026-06-30") == \
        "the range to 2026-07-31 runs past the last loaded day: shown to 2026-06-30"


# What Dash sends for a click on a heatmap cell: the cell's x and y labels (no 2-D customdata).
@pytest.mark.parametrize("x, y, expected", [
    ("微信公众号/小程序", "渠道运营", "?unit=ZJ&period=ytd&core=channel&carrier=wechat"),
    ("95598 hotline (voice and smart agent)", "Service-quality operations",
     "?unit=ZJ&period=ytd&core=service&carrier=hotline"),
    ("实体营业厅/自助终端", "活动运营", "?unit=ZJ&period=ytd&core=campaign&carrier=hall"),
])
def test_a_matrix_cell_opens_its_core_on_its_carrier(app, client, x, y, expected):
    from tests.security.dash_posts import outputs, post

    click = {"points": [{"curveNumber": 0, "x": x, "y": y, "z": 91.2, "text": "91",
                         "bbox": {"x0": 1, "x1": 2, "y0": 1, "y1": 2}}]}
    response = post(client, app, "pages.overview", "open_cell", [click],
                    ["?unit=ZJ&period=ytd&core=user&carrier=app"])
    assert response.status_code == 200
    shown = outputs(response)
    assert shown[("_pages_location", "pathname")] == "/cores"
    assert parse_qs(shown[("_pages_location", "search")][1:]) == parse_qs(expected[1:])


def test_a_garbage_matrix_click_is_refused_without_an_error(tmp_path):
    from tests.conftest import app_over, login, seeded_store
    from tests.security.dash_posts import audited, outputs, post

    garbage = [{"points": []}, {"points": "x"}, {"points": [1]}, [1, 2], "click",
               {"points": [{"x": "微信公众号/小程序"}]}, {"points": [{"x": "fax", "y": "渠道运营"}]},
               {"points": [{"x": ["app"], "y": {"core": "channel"}}]},
               {"points": [{"customdata": ["channel", "app"]}]}]
    store = seeded_store("sqlite", tmp_path)
    with app_over(store) as flask_app:
        c = flask_app.test_client()
        login(c, "manager")
        for click in garbage:
            response = post(c, flask_app, "pages.overview", "open_cell", [click], ["?unit=ZJ-HZ-01"])
            assert response.status_code == 200, click
            assert outputs(response) == {}, click  # nothing changes: no navigation
    assert len(audited(store.engine, "bad_request", username="manager")) == len(garbage)
    store.drop()


def test_page_text_includes_what_the_charts_say(app):
    import plotly.graph_objects as go
    from dash import dcc

    fig = go.Figure(go.Bar(x=[3], y=["杭州"], name="线上", text=["72.0%"]))
    fig.update_layout(title="排名", xaxis_title="达成率",
                      yaxis={"tickvals": [0], "ticktext": ["第一"]})
    fig.add_annotation(text="数据截至 6 月")
    assert all(word in texts(dcc.Graph(figure=fig))
               for word in ("排名", "达成率", "第一", "数据截至 6 月", "杭州", "线上", "72.0%"))
    # The overview's matrix: its cores down and carriers across (words only the chart shows).
    page = render(app, "overview", "manager", period="last30")
    from data.catalog import CORES

    assert [zh for _id, _code, zh, *_ in CORES if zh not in page] == []


def test_a_failing_figure_fails_under_testing(app):
    from components.charts import safe

    def broken():
        raise ZeroDivisionError

    with app.app_context(), pytest.raises(ZeroDivisionError):
        safe(broken, lang="en")


ANALYTICAL = ["/", "/carriers", "/cores", "/regions", "/stages", "/targets", "/risk"]
REPEATED = {"unit": "unit=ZJ-HZ-01&unit=ZJ", "period": "period=ytd&period=last7",
            "carrier": "carrier=app&carrier=hall", "compare": "compare=previous&compare=last_year",
            "kpi": "kpi=mau&kpi=visits", "core": "core=user&core=service",
            "start": "start=2026-06-01&start=2026-05-01&end=2026-06-30"}


def test_a_repeated_parameter_is_named_on_every_page_and_refused_by_every_api(tmp_path):
    from tests.conftest import app_over, login, seeded_store
    from tests.security.dash_posts import outputs, post, text_of

    store = seeded_store("sqlite", tmp_path)
    with app_over(store) as flask_app:
        c = flask_app.test_client()
        login(c, "admin")

        def page(path, search):
            response = post(c, flask_app, "dash.dash", "update", [path, search])
            assert response.status_code == 200, (path, search)
            return text_of(outputs(response)[("_pages_content", "children")])

        for path in ANALYTICAL:
            for name, query in REPEATED.items():
                shown = page(path, "?" + query)
                assert "bad-view" in shown and f"参数 {name} 出现了多次" in shown, (path, query)
                assert "as-of" not in shown, (path, query)
        shown = page("/display", "?playlist=1&playlist=2")
        assert "display-error" in shown and "参数 playlist 出现了多次" in shown
        for path, marker in (("/admin", "admin-users"), ("/admin/import", "import-kind")):
            assert marker in page(path, "?tab=a&tab=b"), path  # they read no parameters
        for endpoint in ("catalog", "units", "kpis", "matrix", "freshness", "stages",
                         "risk-events"):
            response = c.get(f"/api/v1/{endpoint}?unit=ZJ&unit=ZJ-HZ&period=2026-06"
                             "&start=2026-06-01&end=2026-06-30")
            assert response.status_code == 400, endpoint
            assert response.get_json() == {"error": "'unit' is given more than once",
                                           "parameter": "unit"}, endpoint
    store.drop()


def test_links_and_filters_built_from_a_repeated_parameter_keep_its_first_value():
    import shell

    search = "?unit=ZJ-HZ&unit=ZJ&period=ytd&period=last7&kpi=mau&kpi=visits"
    hrefs, _classes = shell.keep_view_across_pages(search, "/", [{"path": "/regions"}])
    assert hrefs == ["/regions?unit=ZJ-HZ&period=ytd"]
    assert _run_callback(shell.apply_filters, "f-compare.value", None, "ytd", None, None,
                         "last_year", search) == (
        "?unit=ZJ-HZ&period=ytd&kpi=mau&compare=last_year")
    assert shell.choose_kpi(["mau"], search) == "?unit=ZJ-HZ&period=ytd&kpi=mau"
