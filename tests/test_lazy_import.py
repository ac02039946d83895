"""``import alwidgets`` is cheap: modules load when a name is first used, modAL is patched, torch stays out.

Each check runs in a fresh Python, since this test session has long imported everything.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["modAL", "sklearn", "scipy", "pandas", "matplotlib", "ipywidgets", "sqlalchemy", "torch"]


def fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter; it leaves what it found in ``out``, returned as a dict."""
    script = f"import json, sys\nout = {{}}\n{code}\nprint(json.dumps(out))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_alwidgets_loads_none_of_the_heavy_libraries():
    out = fresh(f"import alwidgets\nout['loaded'] = [m for m in {HEAVY!r} if m in sys.modules]")
    assert out["loaded"] == []


def test_public_names_load_on_first_use_and_stay_listed():
    out = fresh("""
import alwidgets
out['dir'] = dir(alwidgets)
from alwidgets import Labeler, Session, datasets
out['names'] = [Labeler.__module__, Session.__module__, datasets.__name__]
out['same'] = alwidgets.Session is Session and alwidgets.datasets is datasets
try:
    alwidgets.no_such_name
except AttributeError as error:
    out['error'] = str(error)
""")
    assert set(out["dir"]) >= {"Session", "Labeler", "StrategyComparison", "strategies", "datasets", "plots", "views"}
    assert out["names"] == ["alwidgets.widgets.labeler", "alwidgets.engine.session", "alwidgets.datasets"]
    assert out["same"]
    assert "no_such_name" in out["error"]


def test_every_name_in_all_resolves():
    import alwidgets

    for name in alwidgets.__all__:
        assert getattr(alwidgets, name) is not None, name


def test_modal_is_patched_however_it_is_imported_and_never_pulls_in_torch():
    out = fresh("""
import alwidgets
import modAL.models.learners as learners   # the user's own modAL import, after alwidgets
from alwidgets import _compat
out['patched'] = learners.check_X_y is _compat.check_X_y
out['torch'] = 'torch' in sys.modules
import modAL.utils.data as data
out['vstack'] = data.data_vstack is _compat.data_vstack
""")
    assert out == {"patched": True, "torch": False, "vstack": True}


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_a_tensor_still_stacks_when_torch_is_imported_after_modal():
    out = fresh("""
from alwidgets import Session   # imports modAL, without torch
out['torch_before'] = 'torch' in sys.modules
import torch
from alwidgets import _compat
stacked = _compat.data_vstack([torch.zeros(2, 3), torch.ones(1, 3)])
out['stacked'] = [type(stacked).__name__, list(stacked.shape)]
""")
    assert out == {"torch_before": False, "stacked": ["Tensor", [3, 3]]}


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_modal_keeps_torch_when_torch_was_loaded_first():
    out = fresh("import torch\nimport alwidgets\nimport modAL.utils.data as data\nout['torch'] = hasattr(data, 'torch')")
    assert out == {"torch": True}


def test_the_built_in_strategies_are_registered_without_importing_them():
    out = fresh("""
from alwidgets.strategies import _registry
out['names'] = _registry.available()
out['one'] = _registry.get('min_max_margin').name
""")
    assert {"random", "margin", "ranked_batch", "min_max_margin", "transfer_uncertainty"} <= set(out["names"])
    assert out["one"] == "min_max_margin"


@pytest.mark.parametrize("first", ["alwidgets.strategies.diversity", "alwidgets.strategies.transfer", "alwidgets.strategies.multilabel",
                                   "alwidgets.strategies"])
def test_the_built_in_strategies_come_first_whichever_module_is_imported_first(first):
    out = fresh(f"""
import importlib
importlib.import_module({first!r})
from alwidgets.strategies import _registry
_registry.register("mine", lambda learner, X: X[:, 0])
out['names'] = _registry.available()
""")
    assert out["names"][:3] == ["random", "least_confident", "margin"]
    assert out["names"][-1] == "mine"


def test_a_sqlite_path_opens_without_importing_the_sql_back_end(tmp_path):
    path = tmp_path / "labels.db"
    out = fresh(f"""
from alwidgets import store
out['before'] = 'alwidgets.store.sql' in sys.modules
s = store.open_store({str(path)!r})
out['kind'] = type(s).__name__
s.close()
""")
    assert out == {"before": False, "kind": "SQLStore"}
    assert path.is_file()


def test_the_import_benchmark_times_every_snippet_and_sees_no_torch(capsys):
    from benchmark_scripts import load_script

    bench = load_script("import_time")
    assert bench.main(["--runs", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "| now |" in line]
    assert len(rows) == len(bench.SNIPPETS)
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[2]) > 0 and cells[5] == "no", row


@pytest.mark.parametrize("old, new", [
    ("alwidgets.config", "alwidgets.serving.config"),
    ("alwidgets.multilabel", "alwidgets.strategies.multilabel"),
    ("alwidgets.export", "alwidgets.store.export"),
    ("alwidgets.stopping", "alwidgets.engine.stopping"),
    ("alwidgets.comparison", "alwidgets.experiments.comparison"),
])
def test_a_module_path_from_before_the_layered_layout_gives_the_moved_module(old, new):
    out = fresh(f"""
import importlib
old = importlib.import_module({old!r})
out['same'] = old is importlib.import_module({new!r})
out['name'], out['spec'] = old.__name__, old.__spec__.name
""")
    assert out == {"same": True, "name": new, "spec": new}
