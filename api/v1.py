"""GET /api/v1/...: catalog, units, kpis, matrix. Read-only; numbers come from metrics/."""

from __future__ import annotations

import datetime as dt
import math

from flask import Blueprint, Flask, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

import settings
from api import params
from api.params import UNAVAILABLE, BadParameter, UnitUnavailable
from auth import audit
from data import clock, unavailable
from data.clock import local_now, month_end
from data.db import get_read_session, get_session
from data.models import RISK_STATES, Carrier, Core, OrgUnit
from data.units import children
from metrics.compute import compute
from metrics.freshness import last_loaded, loaded_range
from metrics.matrix import matrix
from metrics.registry import KPIS
from metrics.risk import events
from metrics.risk_handling import handling_times
from metrics.risk_work import my_work
from metrics.scope import OutOfScope, Scope
from metrics.stages import assess, assess_children
from metrics.targets import Bands
from metrics.views import live_view

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    """Register the API blueprint, the API's own "no such path" and its JSON error answers."""
    app.register_blueprint(bp)
    # Under /api nothing falls through to the dashboard's pages: any other path is a JSON 404,
    # any method but GET (the API is read-only) a JSON 405.
    app.add_url_rule("/api", "api_not_found", _not_found, defaults={"rest": ""})
    app.add_url_rule("/api/<path:rest>", "api_not_found", _not_found)
    app.register_error_handler(HTTPException, _http_error)


def is_api_path(path: str) -> bool:
    """Whether a request path belongs to the JSON API (its answers, errors included, are JSON)."""
    return path == "/api" or path.startswith("/api/")


def _not_found(rest: str):
    return jsonify(error="no such API path", path=request.path), 404


def _http_error(exc: HTTPException):
    """Every HTTP error under /api answers JSON {"error", "path"} (a 500 says no more than that);
    elsewhere Flask's own page, as before."""
    if not is_api_path(request.path) or exc.code is None:
        return exc
    response = jsonify(error=exc.description or exc.name, path=request.path)
    response.status_code = exc.code
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow on a 405, Retry-After and the like
    return response


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    return jsonify(error=exc.message, parameter=exc.parameter), 400


@bp.before_request
def _one_value_each():
    # Every parameter takes one value (lists are comma-separated): ?unit=A&unit=B is forged.
    repeated = sorted({k for k in request.args if len(request.args.getlist(k)) > 1})
    if repeated:
        audit.record(get_session(), "bad_request", current_user.username,
                     target=request.full_path[:255], outcome="refused",
                     detail=f"repeated parameter {', '.join(repeated)}")
        return jsonify(error=f"'{repeated[0]}' is given more than once",
                       parameter=repeated[0]), 400
    return None


@bp.errorhandler(UnitUnavailable)
def _unit_unavailable(exc: UnitUnavailable):
    try:
        audit.record(get_session(), "forbidden", current_user.username, target=request.full_path,
                     outcome="refused",
                     detail=f"unit {exc.code}" + ("" if exc.exists else " (no such unit)"))
    except SQLAlchemyError as db_exc:
        return unavailable.busy_response(db_exc)  # as in _out_of_scope below
    return jsonify(error=UNAVAILABLE, parameter=exc.parameter), 403


@bp.errorhandler(OutOfScope)
def _out_of_scope(exc: OutOfScope):
    # A second line of defence (metrics/ checks the scope too); answered as above.
    try:
        audit.record(get_session(), "forbidden", current_user.username, target=request.full_path,
                     outcome="refused", detail=f"unit {exc.unit_code}")
    except SQLAlchemyError as db_exc:
        # An error handler's own errors reach no other handler: answer the busy store's 503 here.
        return unavailable.busy_response(db_exc)
    return jsonify(error=UNAVAILABLE, parameter="unit"), 403


def _scope() -> Scope:
    """The signed-in caller's scope (the guard has made sure there is a caller)."""
    return Scope.of(current_user.unit)


def _jsonable(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rows(frame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]


@bp.get("/catalog")
def catalog():
    """The KPI registry with the cores and carriers of the store's catalogue."""
    session = get_read_session()
    cores = session.scalars(select(Core).order_by(Core.sort_order))
    carriers = session.scalars(select(Carrier).order_by(Carrier.sort_order))
    return jsonify(
        kpis=[{"id": k.id, "name_zh": k.name_zh, "name_en": k.name_en, "core": k.core,
               "kind": k.kind, "unit": k.unit, "format": k.fmt, "better": k.better,
               "carriers": list(k.carriers), "formula_zh": k.formula_zh,
               "formula_en": k.formula_en} for k in KPIS],
        cores=[{"id": c.code, "name_zh": c.name_zh, "name_en": c.name_en,
                "question_zh": c.question_zh, "question_en": c.question_en} for c in cores],
        carriers=[{"id": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "kind": c.kind}
                  for c in carriers],
    )


def _unit_row(u: OrgUnit, parent_code: str | None) -> dict:
    return {"code": u.code, "name_zh": u.name_zh, "name_en": u.name_en, "tier": u.tier,
            "parent": parent_code}


@bp.get("/units")
def units():
    """The children of ?parent=CODE, or the unit at the top of the caller's scope."""
    session = get_read_session()
    if request.args.get("parent"):
        parent = params.unit(session, request.args, _scope(), "parent")
        return jsonify([_unit_row(u, parent.code) for u in children(session, parent)])
    home = current_user.unit
    return jsonify([_unit_row(home, home.parent.code if home.parent else None)])


def _fit_to_data(session, start: dt.date, end: dt.date) -> tuple[dt.date, dict]:
    """Clip a range's end to the store's last loaded day, and say so.

    Returns the end to compute to and the fields every row of the answer then carries (none when
    the range ends by the last loaded day): `end` (clipped), `requested_end`, `data_end` and a
    `note`. A range wholly after the last loaded day is not clipped; its rows say there is no data.
    """
    span = loaded_range(session)
    if span is None or end <= span[1]:
        return end, {}
    data_end = span[1]
    if start > data_end:
        return end, {"data_end": data_end.isoformat(),
                     "note": f"the range lies after the last loaded day ({data_end}): no data"}
    return data_end, {"end": data_end.isoformat(), "requested_end": end.isoformat(),
                      "data_end": data_end.isoformat(),
                      "note": f"the range runs past the last loaded day: answered to {data_end}"}


def _answer(rows: list[dict], fitted: dict):
    response = jsonify([{**row, **fitted} for row in rows])
    if fitted:  # an empty answer says it too
        response.headers["X-Data-End"] = fitted["data_end"]
    return response


@bp.get("/kpis")
def kpis():
    """KPI values for a unit's subtree over a range, optionally by child, carrier, core or period."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    start, end = params.date_range(request.args)
    end, fitted = _fit_to_data(session, start, end)
    carrier_codes = set(session.scalars(select(Carrier.code)))
    frame = compute(session, params.kpis(request.args), unit, start, end,
                    params.listed(request.args, "carrier", carrier_codes),
                    params.by(request.args), scope=_scope())
    return _answer(_rows(frame), fitted)


@bp.get("/matrix")
def matrix_view():
    """The 6x6 matrix of scores for a unit's subtree over a range."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    start, end = params.date_range(request.args)
    end, fitted = _fit_to_data(session, start, end)
    bands = Bands.from_settings(settings.current())
    return _answer(_rows(matrix(session, unit, start, end, bands, scope=_scope())), fitted)


@bp.get("/freshness")
def freshness():
    """The last loaded day of a unit's subtree, or of each child with ?by=child."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    by = params.text(request.args, "by")
    if by not in ("", "child"):
        raise BadParameter("by", f"'by' must be 'child' or absent, not '{by}'")
    days = last_loaded(session, unit, by_child=by == "child", scope=_scope())
    return jsonify([{"unit": code, "last_loaded": _jsonable(day)} for code, day in days.items()])


@bp.get("/stages")
def stages():
    """The operating stage of a unit (or of each child with ?by=child) for a month."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    month = params.month(request.args)
    by = params.text(request.args, "by")
    if by not in ("", "child"):
        raise BadParameter("by", f"'by' must be 'child' or absent, not '{by}'")
    span = loaded_range(session)
    if span is None or month > span[1] or month_end(month) < span[0]:
        raise BadParameter("period", f"no data for {month:%Y-%m}")
    scope = _scope()
    found = (assess_children(session, unit, month, span[1], scope=scope) if by == "child"
             else [assess(session, unit, month, span[1], scope=scope)])
    return jsonify([{"unit": a.unit, "period": f"{a.month:%Y-%m}", "stage": a.stage,
                     "rubric_version": a.rubric_version,
                     "criteria": [{"id": c.id, "stage": c.stage, "value": _jsonable(c.value),
                                   "threshold": c.threshold, "met": c.met, "reason": c.reason}
                                  for c in a.criteria]}
                    for a in found])


@bp.get("/risk-events")
def risk_events():
    """Risk events of a unit's subtree, optionally in some states, each with its incident (the
    same id for events grouped into one) and the incident's assignee."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    states = params.listed(request.args, "state", set(RISK_STATES))
    frame = events(session, unit, local_now(), states, scope=_scope())
    keep = ["id", "rule", "rule_type", "severity", "unit", "carrier", "kpi", "date", "last_day",
            "value", "threshold", "worst_day", "worst_value", "worst_threshold", "state",
            "deadline", "overdue", "incident", "assignee"]
    return jsonify(_rows(frame[keep]))


@bp.get("/live")
def live():
    """Today so far in a unit's subtree (company time zone, to the minute): work orders by hour
    against the same weekday last week, backlog, due within 2 hours, overdue, complaints, first-
    contact resolution and satisfaction of the orders closed today, new risk events; under "hotline"
    the 95598 hotline's counters of the intervals started so far (`metrics.hotline`; times ISO 8601,
    null where there is no data)."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    now = clock.local_now().replace(second=0, microsecond=0)
    return jsonify(live_view(session, unit, now, _scope()).as_dict())


@bp.get("/risk-handling")
def risk_handling():
    """Hours to dispatch and to resolve risk work per owner tier and rule type, for the incidents
    created in a month in a unit's subtree (`metrics.risk_handling`; null where nothing was
    measured, `tier`/`rule_type` null on the total rows)."""
    session = get_read_session()
    unit = params.unit(session, request.args, _scope())
    first = params.month(request.args)
    frame = handling_times(session, unit, first, month_end(first), _scope(),
                           as_of=local_now())
    period = f"{first:%Y-%m}"
    return jsonify([{"unit": unit.code, "period": period,
                     **{k: _hours(k, v) for k, v in row.items()}} for row in _rows(frame)])


def _hours(key: str, value):
    """Hours rounded to 4 decimals (about a third of a second): SQLite's day arithmetic leaves
    float noise beyond that."""
    return round(value, 4) if key.endswith("_hours") and value is not None else value
@bp.get("/my-risk")
def my_risk():
    """The risk incidents the caller is to act on (`metrics.risk_work.my_work`): assigned to
    them or to their role at their home unit, escalated to their home unit, or unassigned and
    owned by it; the earliest deadline first."""
    session = get_read_session()
    work = my_work(session, current_user, local_now(), _scope())
    return jsonify([{"incident": r["incident"], "event": r["event"], "unit": r["unit"],
                     "units": r["units"], "rule": r["rule"], "state": r["state"],
                     "assignee": r["assignee"], "deadline": _jsonable(r["deadline"]),
                     "overdue": bool(r["overdue"]), "reason": r["reason"]}
                    for r in work.to_dict("records")])
