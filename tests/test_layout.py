"""The layout: data flows one way through the stages, with no import circles.

Each module's imports are read with `ast` (nothing is imported). Stages are
ranked from the bottom (`errors`, `format`) to the top (`cli`); a module may
import only from its own stage or a lower one, so no circle can form between
stages, and the module graph inside a stage is checked for circles too.
Imports under `if TYPE_CHECKING:` are left out: they name a type for the checker
and run nothing.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]

STAGES = [
    ("optimiser.errors", "optimiser.format", "optimiser.safe", "optimiser.progress", "optimiser"),
    ("models",),
    ("optimiser.inputs",),
    ("optimiser.place",),
    ("optimiser.solving",),
    ("optimiser.pipeline",),
    ("optimiser.analyses",),
    ("optimiser.reports",),
    ("optimiser.rollup",),
    ("optimiser.cli", "optimiser.__main__"),
]
"""From the bottom up: a module imports only from its own row or the rows above it."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of the project (read once a session: no test changes the files)."""
    found = {}
    for top in ("optimiser", "models"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(node: ast.AST, package: str) -> set[str]:
    """The modules (and names, as `module.name`) an import statement in `package` names,
    relative imports resolved; nothing for any other node."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = node.module or ""
    if node.level:
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
    return {base} | {f"{base}.{alias.name}" for alias in node.names}


def imports(path: Path, name: str) -> set[str]:
    """Every project module `path` imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test).endswith("TYPE_CHECKING")
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        found.update(imported(node, package))
    known = modules()
    return {m for m in found if m in known and m != name}


def stage_of(name: str) -> int:
    best = -1, -1
    for rank, row in enumerate(STAGES):
        for prefix in row:
            if name == prefix or name.startswith(prefix + "."):
                best = max(best, (len(prefix), rank))
    assert best[1] >= 0, f"{name} belongs to no stage: add it to STAGES"
    return best[1]


def graph() -> nx.DiGraph:
    """Module -> the project modules it imports (a fresh copy: a test may change it)."""
    return _graph().copy()


@functools.cache
def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in modules().items():
        g.add_node(name)
        for target in imports(path, name):
            g.add_edge(name, target)
    return g


def test_every_module_belongs_to_a_stage() -> None:
    for name in modules():
        stage_of(name)


def test_no_module_imports_a_later_stage() -> None:
    g = graph()
    upward = [f"{a} ({stage_of(a)}) imports {b} ({stage_of(b)})" for a, b in g.edges
              if b != "optimiser" and stage_of(b) > stage_of(a)]
    assert upward == []


def test_no_import_circles() -> None:
    g = graph()
    g.remove_edges_from([(a, "optimiser") for a in list(g.predecessors("optimiser"))])
    assert list(nx.simple_cycles(g)) == []


def test_models_are_pure() -> None:
    """The formulations read no files and write no reports: they import nothing of the app."""
    g = graph()
    assert [(a, b) for a, b in g.edges if a.startswith("models") and
            not b.startswith("models")] == []


@pytest.mark.parametrize("name", ["optimiser.format", "optimiser.errors", "optimiser.safe"])
def test_the_bottom_imports_nothing_of_the_project(name: str) -> None:
    assert set(graph().successors(name)) == set()


LAZY = ("pyomo", "models.pooling", "openpyxl", "xlsxwriter", "networkx", "matplotlib",
        "optimiser.rollup", "optimiser.reports.workbook", "optimiser.analyses.uncertainty")
"""Imported only where a run uses them (a Pyomo model built, a workbook read by openpyxl
or written, the agency graph, a roll-up, draws), never by the command's own imports."""


def top_level_imports(path: Path, name: str) -> set[str]:
    """Every module `path` imports when it is imported: its body's imports, in `if` and
    `try` blocks too, not those inside functions or under `if TYPE_CHECKING:`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(imported(node, package))
            elif isinstance(node, ast.If) and not ast.unparse(node.test).endswith(
                    "TYPE_CHECKING"):
                walk(node.body)
                walk(node.orelse)
            elif isinstance(node, ast.Try):
                walk(node.body)
                for handler in node.handlers:
                    walk(handler.body)
                walk(node.orelse)
                walk(node.finalbody)

    walk(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def test_the_command_imports_only_what_every_run_uses() -> None:
    # Follow the imports `python -m optimiser` makes before it reads its options: the
    # project's modules and every library they name, at any depth of the project.
    known = modules()
    seen: set[str] = set()
    todo = ["optimiser.__main__"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:n]) for n in range(1, len(parts)) if ".".join(parts[:n])
                 in known]  # a package's __init__ runs first
        if name in known:
            todo += sorted(top_level_imports(known[name], name))
    eager = sorted(m for m in seen if any(m == lazy or m.startswith(lazy + ".")
                                          for lazy in LAZY))
    assert eager == []
    assert {"optimiser.cli", "optimiser.pipeline", "pandas", "highspy"} <= seen
