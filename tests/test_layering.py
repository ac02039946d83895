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
