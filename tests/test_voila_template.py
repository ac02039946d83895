"""Every notebook names alwidgets' Voila template, and the package ships it where Voila looks.

The browser test (tests/browser/test_offline.py) shows that the template's
pages ask no other host; these checks catch a new notebook that forgot to
name it, or a template file left out of the package.
"""

import json
import sys
from pathlib import Path

import pytest

from alwidgets.serving.cli import VOILA_TEMPLATE, VOILA_TEMPLATES_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb")) + [REPO / "alwidgets" / "dashboard.ipynb"]
TEMPLATE_DIR = VOILA_TEMPLATES_ROOT / "voila" / "templates" / VOILA_TEMPLATE


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_names_the_alwidgets_voila_template(notebook):
    metadata = json.loads(notebook.read_text())["metadata"]
    assert metadata.get("voila", {}).get("template") == VOILA_TEMPLATE, (
        f'{notebook.name}: add "voila": {{"template": "{VOILA_TEMPLATE}"}} to its metadata, '
        "or Voila serves its own page, which fetches Font Awesome from a CDN"
    )


def test_template_extends_voila_lab_and_ships_with_the_package():
    conf = json.loads((TEMPLATE_DIR / "conf.json").read_text())
    assert conf["base_template"] == "lab"
    assert "extends 'lab/index.html.j2'" in (TEMPLATE_DIR / "index.html.j2").read_text()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["data-files"][f"share/jupyter/voila/templates/{VOILA_TEMPLATE}"]
    files = sorted(str(path.relative_to(REPO)) for path in TEMPLATE_DIR.iterdir())
    assert sorted(shipped) == files
