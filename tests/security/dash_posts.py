"""Forge Dash callback requests the way the browser's renderer posts them (for attack tests).

`POST /_dash-update-component` carries `output` (the callback's key, which picks the function),
`outputs`, `inputs` and `state` (id, property and value, by position) and `changedPropIds` (what
fired, for `dash.ctx.triggered_id`).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AuditEvent


def stringify(component_id) -> str:
    """A component id as Dash writes it in prop ids."""
    return component_id if isinstance(component_id, str) else json.dumps(
        component_id, sort_keys=True, separators=(",", ":"))


def callback_of(flask_app, module: str, name: str) -> tuple[str, dict]:
    """The key and spec of the callback `module.name` in the app's callback map."""
    dash_app = flask_app.extensions["dash"]
    if not dash_app.callback_map.get(".._pages_content.children..._pages_store.data.."):
        flask_app.test_client().get("/healthz")  # Dash completes its map on a first request
    for key, spec in dash_app.callback_map.items():
        func = spec.get("callback")
        if (getattr(func, "__module__", None), getattr(func, "__name__", None)) == (module, name):
            return key, spec
    raise LookupError(f"no callback {module}.{name}")


def _entries(specs: list[dict], values: list) -> list:
    out = []
    for spec, value in zip(specs, values, strict=True):
        if isinstance(value, Raw):
            out.append(value.entry)
            continue
        raw_id = spec["id"]
        out.append({"id": json.loads(raw_id) if raw_id.startswith("{") else raw_id,
                    "property": spec["property"], "value": value})
    return out


class Raw:
    """An input entry given as the renderer would send it (pattern-matching ids, ALL lists)."""

    def __init__(self, entry) -> None:
        self.entry = entry


def body(flask_app, module: str, name: str, inputs: list, state: list = (),
         changed: list[str] | None = None, outs: list | None = None) -> dict:
    """The request body the renderer would post for callback `module.name` (`outs`: the outputs
    as the renderer lists them, needed where they are pattern-matching)."""
    key, spec = callback_of(flask_app, module, name)

    def out(o):
        return {"id": o.component_id, "property": o.component_property}

    if outs is None:
        outs = spec["output"]
        outs = [out(o) for o in outs] if isinstance(outs, list) else out(outs)

    first = _entries(spec["inputs"], inputs)[0]
    fired = first[0] if isinstance(first, list) and first else first
    return {"output": key, "outputs": outs,
            "inputs": _entries(spec["inputs"], inputs), "state": _entries(spec["state"], list(state)),
            "changedPropIds": changed if changed is not None else [
                f"{stringify(fired['id'])}.{fired['property']}"]}


def post(client, flask_app, module: str, name: str, inputs: list, state: list = (),
         changed: list[str] | None = None, outs: list | None = None):
    """Post a (forged) callback request; return the response."""
    return client.post("/_dash-update-component",
                       json=body(flask_app, module, name, inputs, state, changed, outs))


def outputs(response) -> dict:
    """A callback response's values by component id and property."""
    payload = response.get_json()
    return {(cid, prop): value for cid, props in payload["response"].items()
            for prop, value in props.items()}


def text_of(value) -> str:
    """A callback's output value (or all of `outputs`) as JSON text, to look for strings in."""
    if isinstance(value, dict) and any(isinstance(k, tuple) for k in value):
        value = list(value.values())
    return json.dumps(value, ensure_ascii=False)


def audited(engine, action: str, **where) -> list[AuditEvent]:
    """The audit events with `action` (and matching columns), oldest first."""
    with Session(engine) as session:
        q = select(AuditEvent).where(AuditEvent.action == action)
        for column, value in where.items():
            q = q.where(getattr(AuditEvent, column) == value)
        return list(session.scalars(q.order_by(AuditEvent.id)))
