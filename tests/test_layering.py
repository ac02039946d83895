"""One direction of dependency: the engine never imports widget code, widgets never import modAL."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "alwidgets"
ENGINE = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
WIDGETS = sorted((PACKAGE / "widgets").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, with relative imports resolved against the package."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_layers_are_where_the_layout_says():
    assert {p.name for p in ENGINE} >= {"session.py", "strategies.py", "store.py", "datasets.py", "plots.py"}
    assert {p.name for p in WIDGETS} >= {"labeler.py", "views.py", "comparison.py"}
    # the detector sees real imports, absolute and relative, so the checks below can fail
    assert "ipywidgets" in imported_modules(PACKAGE / "widgets" / "labeler.py")
    assert "alwidgets._learners" in imported_modules(PACKAGE / "session.py")
    assert "modAL.models" in imported_modules(PACKAGE / "_learners.py")


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_engine_module_imports_no_widget_code(path):
    bad = {m for m in imported_modules(path)
           if m.split(".")[0] in {"ipywidgets", "anywidget", "IPython"} or m.startswith("alwidgets.widgets")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", WIDGETS, ids=lambda p: p.name)
def test_widget_module_imports_no_modal(path):
    bad = {m for m in imported_modules(path) if m.split(".")[0] == "modAL"}
    assert not bad, f"widgets/{path.name} imports {sorted(bad)}"


# ---------------------------------------------------------------------- no import cycles


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}``, module-level and function-level imports alike.

    ``from . import x`` counts as importing ``pkg.x`` when ``x`` is a module
    of the package; importing a name from a module counts as importing that
    module. Edges into a package's ``__init__`` are left out: it runs before
    any of its modules, so reaching it again is no cycle.
    """
    root = package_dir.name
    files = {".".join(p.relative_to(package_dir.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in package_dir.rglob("*.py")}
    packages = {name for name, path in files.items() if path.name == "__init__.py"}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(part for part in (base, node.module or "") if part)
                candidates = [module] + [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            edges.update(c for c in candidates if c in files and c not in packages and c != name
                         and c.split(".")[0] == root)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .c import thing\n    return thing\n")
    (package / "c.py").write_text("from .a import nothing\n")
    assert find_cycle(import_graph(package)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    (package / "c.py").write_text("import json\n")
    assert find_cycle(import_graph(package)) is None


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert "alwidgets.strategies" in graph["alwidgets.transfer"] or "alwidgets._registry" in graph["alwidgets.transfer"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
