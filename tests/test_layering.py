"""One direction of dependency: each layer imports only those below it, and no module imports itself back."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "alwidgets"
WIDGETS = sorted((PACKAGE / "widgets").glob("*.py"))
NOT_WIDGETS = sorted(p for p in PACKAGE.rglob("*.py") if "widgets" not in p.relative_to(PACKAGE).parts
                     and p != PACKAGE / "__init__.py")

# The layers, lowest first: a module may import its own layer and the layers below it, never one above.
# (The package's __init__ is the public facade over all of them and loads each name lazily.)
LAYERS = {
    "foundation": ("alwidgets._compat", "alwidgets._modal_import", "alwidgets._validation", "alwidgets._cache",
                   "alwidgets._learners", "alwidgets._fashion_mnist", "alwidgets.datasets"),
    "store": ("alwidgets.store",),
    "strategies": ("alwidgets.strategies",),
    "engine": ("alwidgets.engine",),
    "plots": ("alwidgets.plots",),
    "experiments": ("alwidgets.experiments",),
    "serving": ("alwidgets.serving", "alwidgets.__main__"),
    "widgets": ("alwidgets.widgets",),
}
RANK = list(LAYERS)


def layer_of(module: str) -> str:
    for layer, prefixes in LAYERS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return layer
    raise AssertionError(f"{module} is in no layer: add its folder to LAYERS")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, with relative imports resolved against the package.

    Imports by name count too: a string constant that names one of the
    package's modules (``importlib.import_module("alwidgets.store.sql")``, a
    list of plug-ins) is an import of that module.
    """
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
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in MODULES:
            names.add(node.value)
    return names


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}


def test_the_layers_are_where_the_layout_says():
    assert {module_name(p) for p in NOT_WIDGETS} >= {
        "alwidgets.engine.session", "alwidgets.strategies", "alwidgets.store", "alwidgets.datasets",
        "alwidgets.plots", "alwidgets.experiments", "alwidgets.serving.cli"}
    assert {p.name for p in WIDGETS} >= {"labeler.py", "views.py", "comparison.py"}
    # the detector sees real imports, absolute and relative, and imports by name, so the checks below can fail
    assert "ipywidgets" in imported_modules(PACKAGE / "widgets" / "labeler.py")
    assert "alwidgets._learners" in imported_modules(PACKAGE / "engine" / "session.py")
    assert "modAL.models" in imported_modules(PACKAGE / "_learners.py")


def test_an_import_by_name_is_seen(tmp_path):
    path = PACKAGE / "engine" / "_probe_by_name.py"
    try:
        path.write_text('import importlib\n\ndef load():\n    return importlib.import_module("alwidgets.widgets.views")\n')
        assert "alwidgets.widgets.views" in imported_modules(path)
    finally:
        path.unlink()


@pytest.mark.parametrize("path", NOT_WIDGETS, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_own_layer_and_those_below(path):
    here = RANK.index(layer_of(module_name(path)))
    above = {m for m in imported_modules(path) if m in MODULES - {"alwidgets"}
             and RANK.index(layer_of(m)) > here}
    assert not above, f"{module_name(path)} ({RANK[here]}) imports a layer above it: {sorted(above)}"


@pytest.mark.parametrize("path", NOT_WIDGETS, ids=lambda p: module_name(p))
def test_engine_module_imports_no_widget_code(path):
    bad = {m for m in imported_modules(path)
           if m.split(".")[0] in {"ipywidgets", "anywidget", "IPython"} or m.startswith("alwidgets.widgets")}
    assert not bad, f"{module_name(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", WIDGETS, ids=lambda p: p.name)
def test_widget_module_imports_no_modal(path):
    bad = {m for m in imported_modules(path) if m.split(".")[0] == "modAL"}
    assert not bad, f"widgets/{path.name} imports {sorted(bad)}"


# ---------------------------------------------------------------------- no import cycles


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}``, module-level and function-level imports alike.

    ``from . import x`` counts as importing ``pkg.x`` when ``x`` is a module
    of the package; importing a name from a module counts as importing that
    module; a string constant naming a module of the package is an import by
    name. Edges into the top package's ``__init__`` (the lazy public facade)
    are left out: it runs before any module, so reaching it again is no cycle.
    A sub-package's ``__init__`` is a module like the others.
    """
    root = package_dir.name
    files = {".".join(p.relative_to(package_dir.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in package_dir.rglob("*.py")}
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
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                candidates = [node.value]
            else:
                continue
            edges.update(c for c in candidates if c in files and c != root and c != name
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
    assert "alwidgets.strategies._registry" in graph["alwidgets.strategies.transfer"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
