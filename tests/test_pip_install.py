"""``pip install <checkout>`` alone, in a fresh venv, gives every notebook and the dashboard what they need.

The way Python users install: ``python -m venv v && v/bin/pip install .``, no
Makefile, nothing else. In that venv, from a folder holding only the
checkout's notebooks and benchmark results (not the alwidgets source, so the
installed package is what runs):

- alwidgets is imported from site-packages, with its text corpora, and
  everything the notebooks import imports;
- every notebook runs top to bottom through ``python -m alwidgets serve
  NOTEBOOK --check`` (nbclient, in a kernel of that venv): 02 and 09, the text
  lessons, on their whole corpora; the others with ``ALW_QUICK=1``;
- ``python -m alwidgets serve --check`` loads the dashboard's default campaign.

pip reads the package registry as configured on the machine (its cache keeps
the wheels for the next run). The tests are skipped only when pip fails *and*
the registry cannot be reached, outside CI; with ``CI`` set that is a failure.
The times measured are printed at the end (``pytest -s``).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
FULL_RUN = {"02_text.ipynb", "09_multilabel.ipynb"}  # the text lessons: run on their whole corpora
# what a checkout holds beside the package that `pip install` must not need (or write into: pip builds in the tree)
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", "labels",
                                    ".pytest_cache", ".ruff_cache", "node_modules", "test-results",
                                    ".ipynb_checkpoints")
INSTALL_TIMEOUT = 1800  # seconds: a cold pip cache downloads about 150 MB of wheels
RUN_TIMEOUT = 900
TIMES: dict[str, float] = {}


def fresh_env(venv: Path, cache: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who activated the fresh venv: nothing of this test run's venv or settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ALW_", "JUPYTER_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    env["ALW_CACHE_DIR"] = str(cache)  # no result cached by an earlier run
    env.update(extra)
    return env


def registry_reachable() -> tuple[bool, str]:
    """Whether pip's index answers (``PIP_INDEX_URL``, pip's config, else PyPI); and what was tried."""
    index = os.environ.get("PIP_INDEX_URL")
    if not index:
        configured = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                                    capture_output=True, text=True)
        index = configured.stdout.strip() if configured.returncode == 0 else "https://pypi.org/simple/"
    url = index.rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status < 400, url
    except OSError as error:
        return False, f"{url}: {error}"


def notebook_imports() -> list[str]:
    """The top-level modules the notebooks' code cells import."""
    names: set[str] = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
    return sorted(names)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory):
    """A venv made by ``python -m venv`` and ``pip install <a copy of this checkout>``, and a lesson folder."""
    root = tmp_path_factory.mktemp("pip-install")
    source = root / "alwidgets-checkout"
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    venv = root / "venv"
    cache = root / "alw-cache"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    try:
        done = subprocess.run([str(python), "-m", "pip", "install", "--progress-bar", "off", str(source)],
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=fresh_env(venv, cache))
    except subprocess.TimeoutExpired:
        done = SimpleNamespace(returncode=None, stdout="", stderr=f"pip ran longer than {INSTALL_TIMEOUT} s")
    TIMES["venv + pip install"] = time.monotonic() - started
    if done.returncode != 0:
        reachable, tried = registry_reachable()
        problem = f"pip install {source} failed:\n{(done.stdout + done.stderr)[-4000:]}"
        if not reachable and not os.environ.get("CI"):
            pytest.skip(f"the package registry cannot be reached ({tried}), so a fresh venv cannot be installed")
        pytest.fail(problem + ("" if reachable else f"\n(the registry cannot be reached: {tried}; CI is set)"),
                    pytrace=False)
    lesson = root / "lesson"  # what a user serves lessons from: the notebooks and the results notebook 06 shows
    shutil.copytree(REPO / "notebooks", lesson / "notebooks", ignore=NOT_COPIED)
    shutil.copytree(REPO / "benchmarks" / "results", lesson / "benchmarks" / "results")
    yield SimpleNamespace(python=python, venv=venv, cache=cache, lesson=lesson, root=root)
    print("\nfresh venv from `pip install .` alone, seconds:\n" + "\n".join(
        f"  {name:<50} {seconds:6.1f}" for name, seconds in TIMES.items()) + f"\n  {'total':<50} "
        f"{sum(TIMES.values()):6.1f}")


def run(venv, *args: str, cwd: Path, timeout: float = RUN_TIMEOUT, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv.python), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=fresh_env(venv.venv, venv.cache, **extra))


PROBE = """
import importlib, importlib.util, json, sys
import alwidgets, alwidgets.datasets as d
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps({"alwidgets": alwidgets.__file__, "failed": failed,
                  "scattertext": importlib.util.find_spec("scattertext") is not None,
                  "sizes": [len(d.load_reviews().X), len(d.load_review_or_plot().X), len(d.load_word_senses().X)]}))
"""


def test_the_installed_package_has_its_data_and_the_notebooks_imports(fresh_venv) -> None:
    started = time.monotonic()
    done = run(fresh_venv, "-c", PROBE, *notebook_imports(), cwd=fresh_venv.lesson)
    TIMES["imports of every notebook, text corpora"] = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "site-packages" in found["alwidgets"], f"alwidgets came from {found['alwidgets']}, not the install"
    assert not found["failed"], f"imports of the notebooks that fail after `pip install .` alone: {found['failed']}"
    assert not found["scattertext"], "scattertext is installed: the corpora must come from alwidgets itself"
    assert found["sizes"] == [4866, 2166, 4431]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_every_notebook_runs(fresh_venv, path: Path) -> None:
    quick = {} if path.name in FULL_RUN else {"ALW_QUICK": "1"}
    started = time.monotonic()
    done = run(fresh_venv, "-m", "alwidgets", "serve", f"notebooks/{path.name}", "--check", cwd=fresh_venv.lesson,
               **quick)
    TIMES[f"serve --check {path.name}{'' if quick else ' (whole corpus)'}"] = time.monotonic() - started
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 0, "\n".join(errors) or done.stderr[-4000:]
    assert re.search(r"Checked .*ran without an error", done.stdout), done.stdout


def test_the_dashboard_checks(fresh_venv, tmp_path: Path) -> None:
    started = time.monotonic()
    done = run(fresh_venv, "-m", "alwidgets", "serve", "--check", cwd=tmp_path)
    TIMES["serve --check (the dashboard, MNIST)"] = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-4000:]
    assert "items to label" in done.stdout and (tmp_path / "labels" / "labels.db").is_file(), done.stdout
