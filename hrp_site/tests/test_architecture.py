"""The apps depend on each other one way, and no module imports itself round a circle.

STYLE.md, "Lessons from our own code": `races` knows nothing of `predictions` or `accounts`, which
both build on it; a page that shows several apps is composed in one that depends on the others.
The graph is read from the source (every import statement, at any depth), so an import moved into
a function to dodge a circle still counts. The one exception is Celery's documented pattern of a
service importing its task inside the function that enqueues it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

APPS = ("races", "predictions", "accounts", "hrp_site")
# app -> the apps it must not import (tests included: a test of races needs only races).
FORBIDDEN = {
    "races": {"predictions", "accounts"},
    "predictions": {"accounts"},
    "accounts": {"predictions"},
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path, root)] = path
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported module, imported inside a function) for each import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, is_package, child)
                for alias in child.names:
                    submodule = f"{target}.{alias.name}"
                    found.append((submodule if submodule in known else target, nested))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # annotations only; nothing is imported at run time
            else:
                visit(child, nested)

    visit(tree, False)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _graph() -> tuple[dict[str, Path], dict[str, set[str]], dict[str, set[str]]]:
    root = Path(settings.BASE_DIR)
    known = _modules(root)
    edges: dict[str, set[str]] = {name: set() for name in known}
    every_import: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, in_function in _imports(name, path, known):
            every_import[name].add(target)
            celery_pattern = in_function and target.rsplit(".", 1)[-1] == "tasks"
            if target in known and target != name and not celery_pattern:
                edges[name].add(target)
    return known, edges, every_import


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_the_import_graph_is_read_from_the_source():
    # given the graph the other tests judge
    known, edges, every_import = _graph()

    # then it holds the modules and edges it must, or the checks below would pass vacuously
    assert {"races.models", "predictions.models", "accounts.models"} <= set(known)
    assert "races.models" in edges["predictions.selectors"]
    assert "races.models" in every_import["accounts.services"]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_imports_only_the_apps_it_builds_on(app):
    _, _, every_import = _graph()

    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in every_import.items()
        if module.split(".")[0] == app
        for target in targets
        if target.split(".")[0] in FORBIDDEN[app]
    )

    assert wrong == []


def test_no_module_imports_itself_round_a_circle():
    _, edges, _ = _graph()

    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
