"""The packages form layers, bottom to top; a module imports only its own package and lower layers.

Every module of the app is parsed (not imported), so function-local imports count as much as
top-level ones, and `import x.y` as much as `from x.y import z`. The order and the reason for each
layer are in the README ("Layout"). Tests, benchmarks and migrations sit above everything and are
not checked.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNCHECKED = {"tests", "bench", "migrations", "docs", "assets"}

# Bottom to top. Packages on one line are siblings: neither may import the other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("settings",),
    ("data",),
    ("auth",),
    ("metrics",),
    ("risk",),
    ("jobs",),
    ("components",),
    ("views",),
    ("api", "display", "export"),
    ("report",),
    ("pages",),
    ("shell",),
    ("app", "gunicorn.conf"),
)
RANK = {package: n for n, layer in enumerate(LAYERS) for package in layer}

# (file, imported module) pairs allowed for now. Each entry names who removes it.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def app_modules() -> list[Path]:
    """Every Python file of the app (not tests, benchmarks, migrations or the virtualenv)."""
    return sorted(p for p in ROOT.rglob("*.py")
                  if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
                  and p.relative_to(ROOT).parts[0] not in UNCHECKED)


def package_of(path: Path) -> str:
    """The top-level package (or top-level module, e.g. `app`, `gunicorn.conf`) of a file."""
    first = path.relative_to(ROOT).parts[0]
    return first.removesuffix(".py")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, wherever it is (top level or in a function);
    relative imports resolved against the file's package."""
    return imports_in(path.read_text(encoding="utf-8"),
                      list(path.relative_to(ROOT).with_suffix("").parts))


def imports_in(source: str, here: list[str]) -> list[tuple[int, str]]:
    """(line, module) for every import in `source`, the module at dotted path `here`."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = here[:-1] if here[-1] != "__init__" else here
                base = package[:len(package) - node.level + 1]
                found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
            else:
                found.append((node.lineno, node.module or ""))
    return found


def project_imports() -> list[tuple[str, int, str, str, str]]:
    """(file, line, module, from package, to package) for every import of another app package."""
    ours = {package_of(p) for p in app_modules()} | set(RANK)
    out = []
    for path in app_modules():
        source = package_of(path)
        for line, module in imports(path):
            target = module.split(".")[0]
            if target == "gunicorn" and module.startswith("gunicorn.conf"):
                target = "gunicorn.conf"
            if target in ours and target != source:
                out.append((path.relative_to(ROOT).as_posix(), line, module, source, target))
    return out


def package_graph() -> dict[str, set[str]]:
    """Package -> the packages it imports (what the README's layout section shows)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for _, _, _, source, target in project_imports():
        graph[source].add(target)
    return dict(graph)


def graph_text() -> str:
    return "\n".join(f"{source} -> {', '.join(sorted(targets))}"
                     for source, targets in sorted(package_graph().items()))


def test_every_package_has_a_layer():
    unplaced = sorted({package_of(p) for p in app_modules()} - set(RANK))
    assert not unplaced, f"place these packages in LAYERS (and the README's layout): {unplaced}"


def test_no_module_imports_a_higher_layer():
    assert len(app_modules()) > 100 and len(project_imports()) > 200  # not vacuous
    upward, used = [], set()
    for file, line, module, source, target in project_imports():
        if RANK.get(target, -1) < RANK.get(source, -1):
            continue
        if (file, module) in KNOWN_EXCEPTIONS:
            used.add((file, module))
            continue
        kind = "a sibling" if RANK.get(target) == RANK.get(source) else "a higher layer"
        upward.append(f"{file}:{line} imports {module} ({source} -> {target}, {kind})")
    assert not upward, "imports that break the layers:\n" + "\n".join(upward) + \
        "\n\npackage graph:\n" + graph_text()
    stale = KNOWN_EXCEPTIONS - used
    assert not stale, f"these exceptions are gone; delete them from KNOWN_EXCEPTIONS: {stale}"


def test_the_checker_sees_function_local_dotted_and_relative_imports():
    """Imports inside functions, `import a.b` and relative imports are all found (so a circle
    hidden in a function shows)."""
    source = ("import os.path\n\ndef f():\n    from metrics import cache\n"
              "    import risk.scan\n    from ..risk import scan\n    from . import units\n")
    assert sorted(imports_in(source, ["data", "ingest", "load"])) == [
        (1, "os.path"), (4, "metrics"), (5, "risk.scan"), (6, "data.risk"), (7, "data.ingest")]


def test_the_readme_shows_todays_graph():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```\n{graph_text()}\n```" in readme, \
        "update the README's package graph (Layout > Layers) to what `python tests/test_layers.py` prints"


if __name__ == "__main__":
    print(graph_text())
