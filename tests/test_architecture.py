"""The import graph of wncc/: no cycles between its packages and modules, and the ground floor
(arith/, ir, errors, text, resources) imports nothing of wncc above it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "wncc"
GROUND = {"arith", "ir", "errors", "text", "resources"}


def _unit(module: str) -> str:
    """The top-level unit of a wncc module: 'wncc.passes.qprepare' -> 'passes'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports() -> dict[str, set[str]]:
    """unit -> the units it imports (at any depth, deferred imports included)."""
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        unit = _unit(".".join(rel.parts))
        found = edges.setdefault(unit, set())
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] if node.module != "wncc" else [f"wncc.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found.update(_unit(n) for n in names if n.startswith("wncc."))
        found.discard(unit)
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(u: str, path: list[str]) -> list[str] | None:
        state[u] = 1
        for v in sorted(edges.get(u, ())):
            if state.get(v) == 1:
                return path + [u, v]
            if v not in state:
                found = visit(v, path + [u])
                if found:
                    return found
        state[u] = 2
        return None

    for u in sorted(edges):
        if u not in state:
            found = visit(u, [])
            if found:
                return found
    return None


def test_no_import_cycles_between_units():
    assert _cycle(_imports()) is None


def test_ground_floor_imports_nothing_above_it():
    edges = _imports()
    for unit in GROUND:
        assert edges.get(unit, set()) <= GROUND, (unit, edges.get(unit))


def test_the_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
