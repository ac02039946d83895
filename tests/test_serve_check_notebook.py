"""``python -m alwidgets serve NOTEBOOK --check`` runs the notebook and names the cell that fails, in words.

Before, it only read the notebook: a lesson whose first cell raised (its data
missing, say) was reported as checked, and the page said only "There was an
error when executing cell [1]".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A lesson")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def serve_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alwidgets", "serve", str(path), "--check"],
                          capture_output=True, text=True, timeout=300, cwd=path.parent)


def test_a_failing_cell_is_named_with_its_error(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "lesson.ipynb", "x = 1", "import alwidgets as alw\nalw.datasets.no_such_loader()",
                          "print('never reached')")

    done = serve_check(path)

    assert done.returncode == 2, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "code cell 2 of 3" in error, error
    assert "'import alwidgets as alw'" in error and "AttributeError" in error and "no_such_loader" in error, error
    assert "Checked" not in done.stdout


def test_a_notebook_that_runs_is_checked(tmp_path: Path) -> None:
    # the cell runs in the notebook's folder, as Voila runs it
    path = write_notebook(tmp_path / "lesson.ipynb", "from pathlib import Path\nPath('ran.txt').write_text('yes')")

    done = serve_check(path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "lesson.ipynb: 1 code cell ran without an error" in done.stdout
    assert (tmp_path / "ran.txt").read_text() == "yes"


def test_an_unreadable_notebook_is_refused_without_a_kernel(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")

    done = serve_check(path)

    assert done.returncode == 2 and "is not a notebook Jupyter can read" in done.stderr
