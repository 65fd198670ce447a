"""Importing organisation units: new units are added under their parents, names are updated.

Units are few (hundreds to a few thousand), so the whole file is validated in memory. Moving a
unit (a new parent or tier) is refused: it would rewrite the paths of its subtree and re-assign its
history, which an extract should not do silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Connection, func, insert, select, text, update

from data.models import OrgUnit
from data.units import path_for
from jobs.ingest.spec import KINDS
from jobs.ingest.validate import Lookups, Problem, Problems, check_chunk

if TYPE_CHECKING:
    from jobs.ingest.load import Counts
    from jobs.ingest.read import TableFile


def load_units(conn: Connection, table: TableFile, problems: Problems) -> Counts:
    """Validate the units file and, when it is valid, insert new units and rename changed ones."""
    from jobs.ingest.load import Counts

    spec = KINDS["units"]
    counts, frames = Counts(), []
    for chunk in table.chunks():
        counts.rows += len(chunk)
        frames.append(check_chunk(spec, chunk, Lookups({}, {}), problems))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    stored = {u.code: u for u in conn.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en, OrgUnit.tier,
               OrgUnit.parent_id, OrgUnit.path))}
    by_id = {u.id: u for u in stored.values()}
    in_file: dict[str, dict] = {}
    for r in rows.to_dict("records"):
        _check_unit(r, stored, by_id, in_file, problems)
    if problems.count:
        return counts
    next_id = (conn.execute(select(func.max(OrgUnit.id))).scalar() or 0) + 1
    paths = {code: u.path for code, u in stored.items()}
    ids = {code: u.id for code, u in stored.items()}
    new = []
    for r in sorted(in_file.values(), key=lambda r: int(r["tier"])):
        if r["code"] in stored:
            u = stored[r["code"]]
            if (u.name_zh, u.name_en) != (r["name_zh"], r["name_en"]):
                conn.execute(update(OrgUnit).where(OrgUnit.id == u.id)
                             .values(name_zh=r["name_zh"], name_en=r["name_en"]))
                counts.updated += 1
                counts.unit_ids.append(u.id)
            continue
        parent = r["parent"] or None
        ids[r["code"]], next_id = next_id, next_id + 1
        paths[r["code"]] = path_for(paths[parent] if parent else None, ids[r["code"]])
        new.append({"id": ids[r["code"]], "code": r["code"], "name_zh": r["name_zh"],
                    "name_en": r["name_en"], "tier": int(r["tier"]),
                    "parent_id": ids[parent] if parent else None, "path": paths[r["code"]]})
    if new:
        conn.execute(insert(OrgUnit), new)
        counts.inserted = len(new)
        counts.unit_ids += [n["id"] for n in new]
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('org_unit', 'id'), "
                              "(SELECT max(id) FROM org_unit))"))
    return counts


def _check_unit(r: dict, stored: dict, by_id: dict, in_file: dict, problems: Problems) -> None:
    code, tier, parent, row = r["code"], int(r["tier"]), r["parent"] or "", int(r["row_no"])
    if code in in_file:
        problems.add(Problem(row, "code", f"duplicate of row {in_file[code]['row_no']} (same code)"))
        return
    in_file[code] = r
    if tier == 1 and parent:
        problems.add(Problem(row, "parent", "a tier-1 unit (HQ) has no parent"))
    elif tier > 1 and not parent:
        problems.add(Problem(row, "parent", f"required for a tier-{tier} unit"))
    elif parent:
        parent_tier = (stored[parent].tier if parent in stored
                       else int(in_file[parent]["tier"]) if parent in in_file else None)
        if parent_tier is None:
            problems.add(Problem(row, "parent", f"unknown parent unit code '{parent}' (not in the "
                                                "store nor earlier in the file)"))
        elif parent_tier != tier - 1:
            problems.add(Problem(row, "parent", f"parent '{parent}' is tier {parent_tier}; a "
                                                f"tier-{tier} unit's parent is tier {tier - 1}"))
    if code in stored:
        u = stored[code]
        old_parent = by_id[u.parent_id].code if u.parent_id in by_id else ""
        if u.tier != tier or old_parent != parent:
            problems.add(Problem(row, "parent" if u.tier == tier else "tier",
                                 f"unit '{code}' exists as tier {u.tier} under '{old_parent or '-'}'; "
                                 "an import does not move units"))
