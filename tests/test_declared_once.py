"""The cores and carriers are listed once, in data.catalog; every other list derives from it."""

from __future__ import annotations

import ast
from pathlib import Path

from components import theme, view_state
from data.catalog import CARRIER_CODES, CARRIERS, CORE_CODES, CORES
from metrics import registry

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "auth", "bench", "components", "data", "display", "export", "metrics", "pages",
            "risk", "views")


def _listings() -> list[tuple[str, int, str]]:
    """Every tuple, list or set literal in the code (tests aside) naming all the cores or all the
    carriers."""
    found = []
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    files += sorted(ROOT.glob("*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                strings = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                for what, codes in (("carriers", CARRIER_CODES), ("cores", CORE_CODES)):
                    if set(codes) <= strings:
                        found.append((str(path.relative_to(ROOT)), node.lineno, what))
    return found


def test_the_codes_are_listed_only_by_the_catalogue():
    assert _listings() == []
    assert tuple(c[1] for c in CARRIERS) == CARRIER_CODES and len(CARRIER_CODES) == 6
    assert tuple(c[1] for c in CORES) == CORE_CODES and len(CORE_CODES) == 6


def test_the_other_lists_are_the_catalogues():
    assert registry.ALL_CARRIERS == view_state.CARRIERS == CARRIER_CODES
    assert registry.CORES == CORE_CODES
    assert registry.ONLINE == ("app", "wechat", "alipay", "web")
    assert {k.core for k in registry.KPIS} == set(CORE_CODES)
    assert {c for k in registry.KPIS for c in k.carriers} == set(CARRIER_CODES)


def test_every_core_and_carrier_has_its_colour_in_order():
    """The colours are keyed by code; the chart colourway follows the carriers' order."""
    assert tuple(theme.CARRIER_COLOURS) == CARRIER_CODES
    assert tuple(theme.CORE_COLOURS) == CORE_CODES
