"""Risk: events by child unit x core, the open and overdue trend, the overdue list, and an event's
detail (the KPI around the breach, its steps) where managers work it through the closed loop."""

from __future__ import annotations

import datetime as dt

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html, no_update
from flask_login import current_user

from auth import audit
from auth.guard import writes_data
from components.charts import breach_figure, graph_config, open_trend_figure, safe
from components.format import number, pct
from components.heatmaps import risk_heatmap
from components.i18n import name, t
from components.notices import not_permitted, risk_notice_rows
from components.tables import grid
from components.theme import CORE_COLOURS
from data.clock import local_now
from data.db import get_read_session, get_session
from metrics.registry import REGISTRY
from metrics.risk import event_detail, events, kpi_around
from metrics.risk_work import incident_of, my_work
from metrics.scope import OutOfScope, Scope
from metrics.views import risk_view
from pages._common import PageContext, company_zone, frame, in_zone, page_context, refused
from risk import notify
from risk.params import PARAMS
from risk.workflow import (
    StepRefused,
    allowed_steps,
    assign,
    candidates,
    incident_events,
    incident_steps,
    parse_assignee,
    step,
    step_incident,
)

dash.register_page(__name__, path="/risk", name="Risk", title="风险 Risk")

PATH = "/risk"
# Why an incident is in "My work" (metrics.risk_work.REASONS), as messages.
WHY = {"assigned_to_me": "risk.why.assigned_to_me", "my_unit": "risk.why.my_unit",
       "escalated_to_my_unit": "risk.why.escalated_to_my_unit", "owner_unit": "risk.why.owner_unit"}
STATE_KEYS = ("open", "dispatched", "in_progress", "resolved", "closed", "reopened")


def layout(**query: str):
    """Render the risk view of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    picked, detail = None, dmc.Text(t("risk.pick", ctx.lang), c="dimmed", className="hint")
    if "event" in query:  # a deep link: /risk?event=ID opens that event
        picked = _event_id(query["event"])
        if picked is None:
            refused(PATH, f"event id {str(query['event'])[:40]!r}")
            return dmc.Container(dmc.Alert(f"{t('error.bad_param', ctx.lang)}event", color="red",
                                           id="bad-view"), py="xl")
        if _in_scope(ctx.session, picked) is None:  # unknown and out of scope: the same answer
            return not_permitted()
        detail = render_detail(picked, ctx.lang)
    view = risk_view(ctx.session, ctx.unit, v.start, v.end, local_now(), ctx.scope)
    # one row per incident (its highest unit's event: its id opens the detail)
    listed, overdue = view.listed_incidents, view.overdue_incidents
    body = [
        _coverage(view.coverage, ctx.lang),
        _my_work_panel(ctx.session, ctx.lang),
        dmc.Grid([
            dmc.GridCol(dmc.Paper([dmc.Text(t("risk.heat", ctx.lang), fw=600),
                                   dcc.Graph(figure=safe(risk_heatmap, view.heat, ctx.unit,
                                                         ctx.children, ctx.cores, ctx.lang,
                                                         lang=ctx.lang),
                                             config=graph_config(ctx.lang))],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
            dmc.GridCol(dmc.Paper([dmc.Text(t("risk.trend", ctx.lang), fw=600),
                                   dcc.Graph(figure=safe(open_trend_figure, view.trend, ctx.lang,
                                                         lang=ctx.lang),
                                             config=graph_config(ctx.lang))],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
        ]),
        dmc.Paper([dmc.Text(_header("risk.overdue", view.counts["overdue"], ctx.lang), fw=600,
                            id="risk-overdue-count"),
                   grid("risk-overdue", _rows(overdue, ctx.lang), _columns(ctx.lang), ctx.lang,
                        row_id="id", height="260px")],
                  p="sm", withBorder=True, radius="md", mt="sm"),
        dmc.Grid([
            dmc.GridCol(dmc.Paper([dmc.Text(_header("risk.events", view.counts["listed"],
                                                    ctx.lang), fw=600, id="risk-events-count"),
                                   dmc.Text(t("risk.pick", ctx.lang), size="xs", c="dimmed",
                                            className="hint"),
                                   grid("risk-events", _rows(listed, ctx.lang), _columns(ctx.lang),
                                        ctx.lang, row_id="id", height="420px")],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 7},
                        # on paper and walls the empty detail panel goes; the table takes its room
                        className=None if picked else "fill-when-static"),
            dmc.GridCol(dmc.Paper(id="risk-detail", children=detail,
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 5},
                        className=None if picked else "click-panel"),
        ], mt="sm"),
        _handling_panel(view.handling, ctx.lang),
        dcc.Store(id="risk-event-id", data=picked),
        dcc.Store(id="risk-url-sync"),
    ]
    return frame(ctx, PATH, "nav.risk", body)


# issue 23: handling times. Labels by literal key (each named here, so the catalogue check sees
# them); rule types in the order `risk.params` declares them, unknown ones by their code.
HANDLING_TIERS = {1: "risk.handling.tier_1", 2: "risk.handling.tier_2", 3: "risk.handling.tier_3",
                  4: "risk.handling.tier_4", 5: "risk.handling.tier_5",
                  None: "risk.handling.all_tiers"}
HANDLING_TYPES = {"threshold": "risk.handling.type_threshold",
                  "change": "risk.handling.type_change",
                  "anomaly": "risk.handling.type_anomaly",
                  "silence": "risk.handling.type_silence", "audit": "risk.handling.type_audit",
                  None: "risk.handling.all_types"}
HANDLING_COLUMNS = (("tier_name", "risk.handling.tier"), ("type_name", "risk.handling.type"),
                    ("incidents", "risk.handling.incidents"),
                    ("dispatched", "risk.handling.dispatched"),
                    ("dispatch_median", "risk.handling.dispatch_median"),
                    ("dispatch_p90", "risk.handling.dispatch_p90"),
                    ("resolved", "risk.handling.resolved"),
                    ("resolve_median", "risk.handling.resolve_median"),
                    ("resolve_p90", "risk.handling.resolve_p90"),
                    ("on_time", "risk.handling.on_time"))


def _handling_panel(frame_, lang: str) -> dmc.Paper:
    """The panel "处置时长 / Handling times": hours to dispatch and to resolve and the share
    resolved on time, by owner tier and rule type (`metrics.risk_handling`)."""
    columns = [{"field": f, "headerName": t(k, lang)} for f, k in HANDLING_COLUMNS]
    return dmc.Paper([dmc.Text(t("risk.handling.title", lang), fw=600),
                      dmc.Text(t("risk.handling.help", lang), size="xs", c="dimmed"),
                      grid("risk-handling", _handling_rows(frame_, lang), columns, lang)],
                     p="sm", withBorder=True, radius="md", mt="sm", id="risk-handling")


def _handling_rows(frame_, lang: str) -> list[dict]:
    """The grid's rows: tiers in order, each type in `risk.params` order, totals after; hours and
    shares formatted ("-" for none: nothing to measure is not zero)."""
    if frame_ is None or frame_.empty:
        return []
    order = {kind: i for i, kind in enumerate(PARAMS)}
    records = sorted(frame_.to_dict("records"), key=lambda r: (
        r["tier"] is None, r["tier"] or 0, r["rule_type"] is None,
        order.get(r["rule_type"], len(order)), r["rule_type"] or ""))
    return [{"tier_name": t(HANDLING_TIERS[r["tier"]], lang) if r["tier"] in HANDLING_TIERS
             else str(r["tier"]),
             "type_name": t(HANDLING_TYPES[r["rule_type"]], lang)
             if r["rule_type"] in HANDLING_TYPES else str(r["rule_type"]),
             "incidents": number(r["incidents"], "count", lang),
             "dispatched": number(r["dispatched"], "count", lang),
             "dispatch_median": number(r["dispatch_median_hours"], "hours", lang),
             "dispatch_p90": number(r["dispatch_p90_hours"], "hours", lang),
             "resolved": number(r["resolved"], "count", lang),
             "resolve_median": number(r["resolve_median_hours"], "hours", lang),
             "resolve_p90": number(r["resolve_p90_hours"], "hours", lang),
             "on_time": pct(r["on_time_share"])} for r in records]


def _coverage(ranges: list[tuple[dt.date, dt.date]], lang: str) -> dmc.Text:
    """Which days the risk scan covered for every unit (the closed-on-time criterion trusts only
    those)."""
    text = (t("risk.coverage", lang).format(ranges=", ".join(
        f"{first.isoformat()} – {last.isoformat()}" for first, last in ranges))
        if ranges else t("risk.coverage_none", lang))
    return dmc.Text(text, size="sm", c="dimmed", mb="xs", id="scan-coverage")


def _header(key: str, counts: dict[str, int], lang: str) -> str:
    """A table's title with its counts: "超期未解决事件 · 3 起（影响 7 个单位）"."""
    return f"{t(key, lang)} · {t('risk.incidents_count', lang).format(**counts)}"


def _columns(lang: str) -> list[dict]:
    return [{"field": f, "headerName": t(k, lang), **extra} for f, k, extra in (
        ("date", "risk.date", {}), ("unit_name", "col.unit", {}),
        ("units", "risk.units", {}), ("rule_name", "risk.rule", {}),
        ("severity", "risk.severity", {}), ("state_name", "col.status", {}),
        ("deadline", "risk.deadline", {"headerName": in_zone("risk.deadline", lang)}),
        ("overdue_mark", "risk.overdue_short", {}))]


def _rows(frame_, lang: str) -> list[dict]:
    """One row per row of an events frame (the page passes one per incident: its highest unit's
    event, whose id the row keeps); `units`: how many units its incident affects."""
    # Plain column lists, labels looked up once: HQ lists thousands of events.
    if frame_.empty:
        return []
    sev = {v: t(f"risk.sev.{v}", lang) for v in set(frame_["severity"])}
    state = {v: t(f"risk.state.{v}", lang) for v in set(frame_["state"])}
    names = "_en" if lang == "en" else "_zh"
    return [{"id": i, "date": d.isoformat(), "unit_name": unit, "units": int(n),
             "rule_name": rule, "severity": sev[sv], "state_name": state[st],
             "deadline": due.strftime("%Y-%m-%d %H:%M"), "overdue_mark": "⚠" if late else ""}
            for i, d, unit, n, rule, sv, st, due, late in zip(
                frame_["id"].tolist(), frame_["date"].tolist(), frame_["unit" + names].tolist(),
                frame_["units"].tolist(), frame_["rule" + names].tolist(),
                frame_["severity"].tolist(), frame_["state"].tolist(),
                frame_["deadline"].dt.to_pydatetime().tolist(), frame_["overdue"].tolist(),
                strict=True)]


def _event_id(raw) -> int | None:
    """The event id the browser sent (a store or a grid's row id); None unless a plain id."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 10:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**31:
        return raw
    return None


def _bad_event_id(raw, lang: str):
    refused("/risk", f"event id {str(raw)[:40]!r}")
    return dmc.Alert(f"{t('error.bad_request', lang)}event id {str(raw)[:40]!r}", color="red",
                     id="risk-bad-request")


def _in_scope(session, event_no: int):
    """(event, steps) of an event the caller may see; None for one that does not exist or lies
    outside the caller's scope (both get the same answer, and both are audited)."""
    try:
        found = event_detail(session, event_no, scope=Scope.of(current_user.unit))
    except OutOfScope as exc:
        audit.record(session, "forbidden", current_user.username, target=f"risk event {event_no}",
                     outcome="refused", detail=f"unit {exc.unit_code}")
        return None
    if found is None:
        audit.record(session, "forbidden", current_user.username, target=f"risk event {event_no}",
                     outcome="refused", detail="no such event")
    return found


def _unavailable(lang: str):
    return dmc.Alert(t("risk.unavailable", lang), color="gray", id="risk-unavailable")


def render_detail(event_id: int | None, lang: str):
    """The detail panel of one event: facts, the KPI around the breach, steps, and the actions."""
    if not event_id:
        return dmc.Text(t("risk.pick", lang), c="dimmed", className="hint")
    event_no = _event_id(event_id)
    if event_no is None:
        return _bad_event_id(event_id, lang)
    session = get_read_session()  # the primary after a step this request (or recently) took
    found = _in_scope(session, event_no)
    if found is None:
        return _unavailable(lang)
    event, steps = found
    rule = event.rule
    kpi = REGISTRY.get(rule.kpi or "")
    kpi_unit = kpi.unit if kpi else "count"
    facts = [
        (t("risk.rule", lang), rule.name_en if lang == "en" else rule.name_zh),
        (t("col.unit", lang), name(event.unit, lang)),
        (t("risk.date", lang), f"{event.first_day} – {event.last_day}"),
        (f"{t('risk.latest_value', lang)} ({event.last_day})", number(event.value, kpi_unit, lang)),
        (t("risk.threshold", lang), number(event.threshold, kpi_unit, lang)),
        (t("risk.worst_day", lang), str(event.worst_day) if event.worst_day else "-"),
        (t("risk.worst_value", lang), number(event.worst_value, kpi_unit, lang)),
        (t("risk.worst_threshold", lang), number(event.worst_threshold, kpi_unit, lang)),
        (t("col.status", lang), t(f"risk.state.{event.state}", lang)),
        (in_zone("risk.deadline", lang), event.deadline.strftime("%Y-%m-%d %H:%M")),
    ]
    inc = incident_of(session, event)
    if inc is not None:
        facts += [
            (t("risk.incident", lang), f"#{inc.incident.id}"),
            (t("risk.units_label", lang), f"{len(inc.units)}: "
             + (", " if lang == "en" else "、").join(name(u, lang) for u in inc.units)),
            (t("risk.assignee", lang), inc.assignee or t("risk.nobody", lang)),
        ]
    chart = None
    if kpi is not None:
        around = kpi_around(session, event, local_now().date())
        chart = dcc.Graph(figure=safe(breach_figure, around, event.first_day, event.last_day,
                                      CORE_COLOURS.get(rule.core, "#0072B2"), kpi.unit, lang,
                                      lang=lang), config=graph_config(lang))
    history = dmc.Timeline([dmc.TimelineItem(
        title=_step_title(s, lang),
        children=dmc.Text(f"{s.at:%Y-%m-%d %H:%M} · {s.username}" + (f" · {s.note}" if s.note
                                                                      else ""), size="xs"))
        for s in steps], active=len(steps) - 1, bulletSize=14, lineWidth=2)
    if inc is None:  # not grouped yet: the event alone, as before incidents
        actions, options = allowed_steps(event, current_user), []
    else:  # the whole incident is worked; dispatching names an assignee
        actions = incident_steps(session, inc.incident, current_user)
        # a resolved incident is reopened before it is worked again, not reassigned
        options = ([] if inc.incident.resolved_at is not None
                   else candidates(session, inc.incident, current_user))
    controls = dmc.Stack([
        dmc.TextInput(id="risk-note", placeholder=t("risk.note", lang), w=260),
        _assign_controls(options, inc.assignee is not None if inc else False, lang),
        dmc.Group([dmc.Button(t(f"risk.to.{a}", lang), id={"type": "risk-step", "to": a},
                              size="compact-sm", variant="light") for a in actions]),
    ], gap=6) if actions or options else dmc.Text(t("risk.read_only", lang), size="xs",
                                                   c="dimmed")
    return dmc.Stack([
        dmc.Text(f"#{event.id}", fw=600, id="risk-detail-id"),
        html.Table([html.Tr([html.Td(k, style={"paddingRight": "12px", "color": "#868e96"}),
                             html.Td(v)]) for k, v in facts], style={"fontSize": "13px"}),
        chart, controls, dmc.Text(in_zone("risk.steps", lang), fw=600, size="sm"), history,
        *(_notices(session, inc.incident.id, lang) if inc is not None else []),
    ], gap="xs")


def _notices(session, incident_id: int, lang: str) -> list:
    """Every notice the incident produced (the panel's reader may see the incident: checked by
    the caller): when, what, to whom, by which channel and with what outcome."""
    rows = risk_notice_rows(notify.notifications_of(session, incident_id, tz=company_zone()), lang)
    lines = [dmc.Text(f"{r['created_at']} · {r['kind']} · {r['channel']} · {r['recipient']} · "
                      f"{r['state']}" + (f" · {r['error']}" if r["error"] else ""),
                      size="xs", c="red" if r["state_code"] in ("failed", "refused") else None,
                      className="risk-notice")
             for r in rows]
    return [dmc.Text(in_zone("risk.notices", lang), fw=600, size="sm"),
            *(lines or [dmc.Text(t("risk.notices_none", lang), size="xs", c="dimmed")])]


@callback(Output("risk-event-id", "data"),
          Input({"type": "csv-grid", "name": "risk-events"}, "cellClicked"),
          Input({"type": "csv-grid", "name": "risk-overdue"}, "cellClicked"),
          prevent_initial_call=True)
def pick_event(cell_a, cell_b):
    """Remember the clicked event."""
    trigger = dash.ctx.triggered_id
    cell = cell_a if isinstance(trigger, dict) and trigger.get("name") == "risk-events" else cell_b
    raw = cell.get("rowId") if isinstance(cell, dict) else None
    if not raw:
        return no_update
    event_no = _event_id(raw)
    if event_no is None:
        refused("/risk", f"event id {str(raw)[:40]!r}")
        return no_update
    return event_no


@callback(Output("risk-detail", "children"), Input("risk-event-id", "data"))
def show_event(event_id):
    """Show the picked event."""
    return render_detail(event_id, current_user.language)


# The selected event goes into the URL (`event=ID`) without reloading the page, so a reload or a
# copied link opens it again; the other parameters stay as they are.
dash.clientside_callback(
    """(id) => {
        if (!id) { return window.dash_clientside.no_update; }
        const url = new URL(window.location.href);
        if (url.searchParams.get('event') !== String(id)) {
            url.searchParams.set('event', String(id));
            window.history.replaceState(window.history.state, '', url.toString());
        }
        return String(id);
    }""",
    Output("risk-url-sync", "data"), Input("risk-event-id", "data"))

EVENTS_GRID = {"type": "csv-grid", "name": "risk-events"}
OVERDUE_GRID = {"type": "csv-grid", "name": "risk-overdue"}


MY_WORK_GRID = {"type": "csv-grid", "name": "risk-my-work"}


@callback(Output("risk-detail", "children", allow_duplicate=True),
          Output(EVENTS_GRID, "rowData"), Output(OVERDUE_GRID, "rowData"),
          Output(MY_WORK_GRID, "rowData"),
          Input({"type": "risk-step", "to": dash.ALL}, "n_clicks"),
          State("risk-event-id", "data"), State("risk-note", "value"),
          State(EVENTS_GRID, "rowData"), State(OVERDUE_GRID, "rowData"), prevent_initial_call=True)
@writes_data
def take_step(clicks, event_id, note, listed, overdue):
    """Move the event's incident (every event of it that can) one step along the closed loop
    (checked on the server, recorded), and show the new states in the tables at once."""
    if not event_id or not isinstance(clicks, list) or not any(clicks):
        return no_update, no_update, no_update, no_update
    lang = current_user.language
    trigger = dash.ctx.triggered_id
    to_state = trigger.get("to") if isinstance(trigger, dict) else None
    event_no = _event_id(event_id)
    if event_no is None or to_state not in STATE_KEYS:
        return (_bad_event_id(event_id if event_no is None else f"{event_id} -> {to_state}", lang),
                no_update, no_update, no_update)
    session = get_session()
    found = _in_scope(session, event_no)
    if found is None:
        return _unavailable(lang), no_update, no_update, no_update
    event, _ = found
    inc = incident_of(session, event)
    try:
        if inc is None:
            step(session, event, current_user, to_state, str(note or "")[:500])
        else:
            step_incident(session, inc.incident, current_user, to_state, str(note or "")[:500])
        session.commit()
    except StepRefused as exc:
        session.rollback()
        return dmc.Alert(str(exc), color="red"), no_update, no_update, no_update
    return (render_detail(event_no, lang), *_with_rows(listed, overdue, _rows_of(session, event, lang)),
            _my_work_rows(session, lang))


@callback(Output("risk-detail", "children", allow_duplicate=True),
          Output(EVENTS_GRID, "rowData", allow_duplicate=True),
          Output(OVERDUE_GRID, "rowData", allow_duplicate=True),
          Output(MY_WORK_GRID, "rowData", allow_duplicate=True),
          Input({"type": "risk-assign", "to": dash.ALL}, "n_clicks"),
          State("risk-event-id", "data"), State("risk-assignee", "value"),
          State("risk-note", "value"), State(EVENTS_GRID, "rowData"),
          State(OVERDUE_GRID, "rowData"), prevent_initial_call=True)
@writes_data
def dispatch(clicks, event_id, assignee, note, listed, overdue):
    """Dispatch (or reassign) the event's incident to the picked assignee: checked on the server
    (a value the list did not offer is refused the same way), recorded on every event."""
    if not event_id or not isinstance(clicks, list) or not any(clicks):
        return no_update, no_update, no_update, no_update
    lang = current_user.language
    event_no = _event_id(event_id)
    if event_no is None:
        return _bad_event_id(event_id, lang), no_update, no_update, no_update
    session = get_session()
    found = _in_scope(session, event_no)
    if found is None:
        return _unavailable(lang), no_update, no_update, no_update
    event, _ = found
    inc = incident_of(session, event)
    if inc is None:
        refused(PATH, f"assign: event {event_no} is in no incident")
        return _unavailable(lang), no_update, no_update, no_update
    if not assignee:
        return (dmc.Alert(t("risk.pick_assignee_first", lang), color="orange",
                          id="risk-assign-error"), no_update, no_update, no_update)
    try:
        try:
            who = parse_assignee(session, assignee)
        except StepRefused as exc:
            refused(PATH, f"assignee {str(assignee)[:60]!r}: {exc}")
            raise
        assign(session, inc.incident, current_user, who, str(note or "")[:500])
        session.commit()
    except StepRefused as exc:
        session.rollback()
        return (dmc.Alert(str(exc), color="red", id="risk-assign-error"), no_update, no_update,
                no_update)
    return (render_detail(event_no, lang), *_with_rows(listed, overdue, _rows_of(session, event, lang)),
            _my_work_rows(session, lang))


@callback(Output("risk-event-id", "data", allow_duplicate=True),
          Input(MY_WORK_GRID, "cellClicked"), prevent_initial_call=True)
def pick_my_work(cell):
    """Open the lead event of the incident clicked in "My work"."""
    raw = cell.get("rowId") if isinstance(cell, dict) else None
    if not raw:
        return no_update
    event_no = _event_id(raw)
    if event_no is None:
        refused(PATH, f"event id {str(raw)[:40]!r}")
        return no_update
    return event_no


def _rows_of(session, event, lang: str) -> list[dict]:
    """The table rows of the event and the other events of its incident as they are now (the
    same columns as the page's tables)."""
    scope = Scope.of(current_user.unit)
    inc = incident_of(session, event)
    group = [event] if inc is None else incident_events(session, inc.incident)
    top = inc.incident.unit if inc is not None and scope.allows(inc.incident.unit) else event.unit
    # events() keeps those whose last day is on or after `start` and first day on or before `end`
    frame_ = events(session, top, local_now(), start=min(e.last_day for e in group),
                    end=max(e.first_day for e in group), scope=scope)
    if frame_.empty:
        return []
    return _rows(frame_[frame_["id"].isin([e.id for e in group])], lang)


def _with_rows(listed, overdue, rows: list[dict]):
    """Both tables' rows with `rows` in place of their old versions; the overdue list keeps an
    event only while it is still open and overdue (none is added: the lists are the page's)."""
    if not rows:
        return no_update, no_update
    new = {r["id"]: r for r in rows}
    listed = [new.get(r.get("id"), r) for r in listed or [] if isinstance(r, dict)]
    overdue = [new.get(r.get("id"), r) for r in overdue or [] if isinstance(r, dict)
               and (r.get("id") not in new or new[r["id"]]["overdue_mark"] != "")]
    return listed, overdue


def _my_work_panel(session, lang: str) -> dmc.Paper:
    """What the signed-in user is to act on (`metrics.risk_work.my_work`); a click opens it."""
    rows = _my_work_rows(session, lang)
    return dmc.Paper([dmc.Text(f"{t('risk.my_work', lang)} ({len(rows)})", fw=600,
                               id="risk-my-work-title"),
                      grid("risk-my-work", rows, _my_work_columns(lang), lang, row_id="event",
                           height="200px")],
                     p="sm", withBorder=True, radius="md", mb="sm", className="no-print")


def _my_work_columns(lang: str) -> list[dict]:
    return [{"field": f, "headerName": h} for f, h in (
        ("incident", t("risk.incident", lang)), ("rule_name", t("risk.rule", lang)),
        ("unit_name", t("col.unit", lang)), ("units", t("risk.units_label", lang)),
        ("state_name", t("col.status", lang)), ("assignee", t("risk.assignee", lang)),
        ("deadline", in_zone("risk.deadline", lang)), ("overdue_mark", t("risk.overdue_short", lang)),
        ("why", t("risk.why", lang)))]


def _my_work_rows(session, lang: str) -> list[dict]:
    work = my_work(session, current_user, local_now(), Scope.of(current_user.unit))
    names = "_en" if lang == "en" else "_zh"
    return [{"event": r["event"], "incident": f"#{r['incident']}", "rule_name": r["rule" + names],
             "unit_name": r["unit" + names], "units": r["units"],
             "state_name": t(f"risk.state.{r['state']}", lang),
             "assignee": r["assignee"] or t("risk.nobody", lang),
             "deadline": r["deadline"].strftime("%Y-%m-%d %H:%M"),
             "overdue_mark": "⚠" if r["overdue"] else "", "why": t(WHY[r["reason"]], lang)}
            for r in work.to_dict("records")]


def _assign_controls(options: list[tuple[str, str]], assigned: bool, lang: str):
    """The assignee list and the Dispatch (or Reassign) button; none for who may not assign."""
    if not options:
        return None
    return dmc.Group([
        dmc.Select(id="risk-assignee", data=[{"value": v, "label": label} for v, label in options],
                   placeholder=t("risk.assignee_pick", lang), searchable=True, w=300,
                   size="xs", comboboxProps={"withinPortal": True}),
        dmc.Button(t("risk.reassign" if assigned else "risk.to.dispatched", lang),
                   id={"type": "risk-assign", "to": "incident"}, size="compact-sm"),
    ], gap="xs")


def _step_title(s, lang: str) -> str:
    """A timeline entry's title: the state it moved to, or whom it was assigned or raised to."""
    if s.action == "assign":
        return f"{t('risk.assigned', lang)} {s.assignee}"
    if s.action == "escalate":
        return f"{t('risk.escalated_to', lang)} {s.assignee}"
    return t(f"risk.state.{s.to_state}", lang)
