"""Every notebook in notebooks/ runs top to bottom, as a new user would run it.

The notebooks are executed by nbclient in a kernel of this very Python (the
project's .venv), with ``ALW_QUICK=1`` so they use small budgets, and a time
limit per cell. A cell that raises fails the test with that cell's traceback.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# The notebooks the labeling widgets issue promises; more (lessons, dashboard) join the glob.
REQUIRED_NOTEBOOKS = ["01_images.ipynb", "02_text.ipynb", "03_regression_gp.ipynb", "04_decision_boundary.ipynb"]
CELL_TIMEOUT_SECONDS = int(os.environ.get("ALW_CELL_TIMEOUT", "300"))
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


# Appended to every notebook: its background runs (races, experiments) must finish, and must not fail.
WAIT_FOR_BACKGROUND = f"""
from alwidgets.widgets.background import wait_all
wait_all(timeout={CELL_TIMEOUT_SECONDS})
"""


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh cache for this test session: notebooks measure what they cache, rather than read an old result."""
    return tmp_path_factory.mktemp("alwidgets-cache")


def execute_notebook(path: Path, venv_kernel, cache: Path | None = None,
                     wait_for_background: bool = False) -> nbformat.NotebookNode:
    """Run the notebook in its own folder (relative paths work as for a user) and return it.

    With ``wait_for_background``, a last cell waits for the notebook's background runs and raises if one failed.
    """
    notebook = nbformat.read(path, as_version=4)
    if wait_for_background:
        notebook.cells.append(nbformat.v4.new_code_cell(WAIT_FOR_BACKGROUND))
    client = NotebookClient(
        notebook,
        km=venv_kernel(),
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = {**os.environ, "ALW_QUICK": os.environ.get("ALW_QUICK", "1")}
    if cache is not None:
        env["ALW_CACHE_DIR"] = str(cache)
    client.execute(env=env)
    return notebook


def test_the_promised_notebooks_exist() -> None:
    missing = [name for name in REQUIRED_NOTEBOOKS if not (NOTEBOOK_DIR / name).is_file()]
    assert not missing, f"notebooks/ lacks {missing}"


def test_notebooks_run_in_the_venv_kernel(tmp_path: Path, venv_kernel) -> None:
    """The kernel is this Python with ALW_QUICK=1, not whatever `python3` is on PATH."""
    probe = nbformat.v4.new_notebook()
    probe.cells.append(nbformat.v4.new_code_cell("import os, sys\nprint(sys.executable, os.environ['ALW_QUICK'])"))
    path = tmp_path / "probe.ipynb"
    nbformat.write(probe, path)

    executed = execute_notebook(path, venv_kernel)

    printed = executed.cells[0].outputs[0]["text"].split()
    assert printed == [sys.executable, "1"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, venv_kernel, cache_dir: Path) -> None:
    failure = None
    try:
        executed = execute_notebook(path, venv_kernel, cache_dir, wait_for_background=True)
    except CellTimeoutError as error:
        failure = f"{path.name}: a cell ran longer than {CELL_TIMEOUT_SECONDS} s (ALW_CELL_TIMEOUT)\n{error}"
    except CellExecutionError as error:
        failure = f"{path.name}: a cell raised\n{error}"
    if failure is not None:  # failed outside the except block: the cell's traceback is the whole story
        pytest.fail(ANSI_ESCAPE.sub("", failure), pytrace=False)

    code_cells = [cell for cell in executed.cells if cell.cell_type == "code" and cell.source.strip()]
    assert code_cells, f"{path.name} has no code cell"
    assert all(cell.get("execution_count") for cell in code_cells), f"{path.name}: a code cell did not run"
