"""Every message of the catalogue (components/i18n.py) is looked up somewhere, so a label that
no screen shows any more leaves the catalogue with the code that showed it.

A key counts as looked up when the app's code (not tests/, bench/, migrations/) names it as a
string literal, or when it belongs to a family the code builds with an f-string
(`t(f"period.{p}", lang)`). The families are listed here: a new one is a deliberate choice, since
every key under it then counts as used.
"""

from __future__ import annotations

import re
from pathlib import Path

from components.i18n import MESSAGES

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"tests", "bench", "migrations", "docs", ".venv", "venv", "node_modules"}
CATALOGUE = ROOT / "components" / "i18n.py"
# Keys built at run time: the prefix, then one value from a list the code holds.
FAMILIES = {"period.", "compare.", "pdf.", "pdf.reason.", "risk.state.", "risk.to.", "risk.sev.",
            "status.", "import.kind.", "import.outcome.", "role.", "language.", "admin.tab.",
            "report.col.", "report.kind.", "report.better.", "report.define.", "notify.st.",
            "notify.short.", "notify.channel."}
PREFIX = re.compile(r"""f["']((?:[A-Za-z0-9_]+\.)+)\{""")


def _app_source() -> str:
    parts = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if (path.suffix in (".py", ".js") and rel.parts[0] not in SKIP and path != CATALOGUE
                and not any(p.startswith(".") for p in rel.parts)):
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def unused(keys, source: str) -> list[str]:
    """The keys the source neither names nor builds from one of FAMILIES."""
    return [k for k in keys if f'"{k}"' not in source and f"'{k}'" not in source
            and not any(k.startswith(f) for f in FAMILIES)]


def test_every_message_is_looked_up():
    source = _app_source()
    assert sum(f'"{k}"' in source for k in MESSAGES) > len(MESSAGES) // 2  # the scan reads the pages
    assert unused(MESSAGES, source) == []
    # The check is not vacuous: a key nobody names is reported.
    assert unused(["nav.nowhere"], source) == ["nav.nowhere"]


def test_built_keys_come_from_the_listed_families():
    # A key built from a prefix the list lacks would count as unused above; one built from a
    # prefix the code no longer uses would hide dead keys under it.
    built = {p for p in PREFIX.findall(_app_source()) if any(k.startswith(p) for k in MESSAGES)}
    assert built == FAMILIES
