"""The house keeps its shape: every import in src/adflux follows the direction of DESIGN.md.

faces (api, cli, web, tasks) → services → models / engines (ml, platforms, simulation, ...);
faces do not import each other; schemas import no services; engines know nothing of Flask or the
database; the sandbox imports nothing of AdFlux but constants and only `adflux.embedded` imports
it. Imports inside functions count the same as those at the top (so none can hide a cycle), and
neither the packages nor the modules inside one package import each other in a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "adflux"

FACES = {"api", "cli", "web", "tasks"}
ENGINES = {"ml", "platforms", "simulation", "feeds", "optimization"}
# Shared bottom pieces any layer may take (no Flask app state, no services).
BOTTOM = {"constants", "kpis", "_lazy", "catalogue"}
FACE_DEPENDENCIES = BOTTOM | {
    "services",
    "schemas",
    "settings",
    "extensions",
    "monitoring",
    "error_responses",
}

# What each part of the package may import (besides itself). A part not listed may import nothing.
ALLOWED: dict[str, set[str]] = {
    "constants": set(),
    "kpis": set(),
    "_lazy": set(),
    # The one message catalogue (gettext): every face and service speaks through it.
    "catalogue": set(),
    "pool": set(),
    "settings": {"constants"},
    "error_responses": set(),
    "security_headers": {"settings"},
    # The app's JSON answers and session cookie: Flask plumbing that knows nothing of AdFlux.
    "json_answers": set(),
    "cookie_sessions": set(),
    "schemas": {"constants", "catalogue"},
    "extensions": {"schemas"},
    "models": BOTTOM | {"extensions"},
    "sandbox": {"constants"},
    **{engine: set(BOTTOM) for engine in ENGINES},
    # optimization: the pacing alert and metric judge spend with the engine pacing itself uses.
    "monitoring": BOTTOM | {"settings", "extensions", "models", "platforms", "optimization"},
    "services": BOTTOM | {"adflux", "settings", "extensions", "models", "schemas", "monitoring", *ENGINES},
    "api": FACE_DEPENDENCIES,
    "web": FACE_DEPENDENCIES,
    "tasks": FACE_DEPENDENCIES,
    "cli": FACE_DEPENDENCIES | {"app", "embedded"},
    "embedded": {"sandbox", "services", "settings"},
    "app": {
        "adflux",
        "settings",
        "pool",
        "extensions",
        "api",
        "web",
        "tasks",
        "monitoring",
        "embedded",
        "security_headers",
        "json_answers",
        "cookie_sessions",
    },
    "worker": {"app", "ml", "services"},
    # The console script starts `train-segments`' candidate read before it imports the CLI.
    "command_line": {"cli", "services", "settings", "malloc_heap"},
    # glibc's allocator settings for a one-shot process (ctypes only).
    "malloc_heap": set(),
}
# Engines (and the sandbox) run without the web app or the database.
FRAMEWORK_FREE = {*ENGINES, "sandbox"}
FRAMEWORK_MODULES = ("flask", "flask_sqlalchemy", "flask_smorest", "sqlalchemy", "celery")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. adflux.services.campaigns.lifecycle
    target: str  # imported module, e.g. adflux.tasks.publishing
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"{self.source}:{self.line} imports {self.target}{where}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}


MODULES = _sources()


def _resolve(importer: str, node: ast.ImportFrom | ast.Import) -> Iterator[str]:
    """The adflux modules an import statement loads (a name may be a submodule or an attribute)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name.split(".")[0] == "adflux")
        return
    if node.level:
        base = importer.split(".")
        is_package = MODULES[importer].name == "__init__.py"
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    if module.split(".")[0] != "adflux":
        return
    for alias in node.names:
        submodule = f"{module}.{alias.name}"
        yield submodule if submodule in MODULES else module


def _function_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _edges() -> list[Edge]:
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = _function_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(module, node):
                    edges.append(Edge(module, target, node.lineno, node.lineno in in_function))
    return edges


def _third_party(module: str) -> Iterator[tuple[str, int]]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.module, node.lineno


def part(module: str) -> str:
    """The part of the package a module belongs to: adflux.services.x -> services."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


EDGES = _edges()


def test_every_import_follows_the_direction_of_the_layers() -> None:
    unknown = {part(m) for m in MODULES} - set(ALLOWED) - {"adflux"}
    assert not unknown, f"parts of the package with no rule here: {sorted(unknown)}"
    forbidden = [
        str(edge)
        for edge in EDGES
        if part(edge.source) != part(edge.target)
        and part(edge.target) not in ALLOWED.get(part(edge.source), set())
    ]
    assert not forbidden, "imports against the direction of the layers:\n" + "\n".join(forbidden)


def test_only_the_embedded_wiring_imports_the_sandbox() -> None:
    importers = {
        edge.source for edge in EDGES if part(edge.target) == "sandbox" and part(edge.source) != "sandbox"
    }
    assert importers <= {"adflux.embedded"}, sorted(importers)


def test_engines_and_the_sandbox_know_nothing_of_flask_or_the_database() -> None:
    offenders = [
        f"{module}:{line} imports {name}"
        for module in MODULES
        if part(module) in FRAMEWORK_FREE
        for name, line in _third_party(module)
        if name.split(".")[0] in FRAMEWORK_MODULES
    ]
    assert not offenders, "\n".join(offenders)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_parts_of_the_package_import_each_other_in_no_circle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in EDGES:
        if part(edge.source) != part(edge.target) and part(edge.target) != "adflux":
            graph[part(edge.source)].add(part(edge.target))
    assert _cycles(graph) == []


@pytest.mark.parametrize("layer", ["services", "monitoring", "platforms", "ml", "api", "web", "cli", "tasks"])
def test_no_circle_of_modules_inside_a_layer_even_through_imports_in_functions(layer: str) -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in EDGES:
        # A package's __init__ importing its own modules is how packages are assembled.
        inside = part(edge.source) == layer == part(edge.target)
        if inside and edge.target != edge.source and not edge.target.startswith(edge.source + "."):
            graph[edge.source].add(edge.target)
    assert _cycles(graph) == []


def test_the_checker_sees_a_forbidden_edge_and_a_circle() -> None:
    """The rules above can fail: a service importing a task, and a two-module circle, are caught."""
    edge = Edge("adflux.services.x", "adflux.tasks.publishing", 1, True)
    assert part(edge.target) not in ALLOWED[part(edge.source)]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
