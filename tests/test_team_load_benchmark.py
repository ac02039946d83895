"""benchmarks/team_load.py runs end to end (``--quick``) through a page's own code, and leaves the results alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from benchmark_scripts import RESULTS
from benchmark_scripts import quick_run as run_quick

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "team_load.py"


@pytest.fixture(scope="module")
def quick_run():
    run = run_quick("team_load", timeout=1200)  # no --out: a temporary folder (tests/test_quick_runs_keep_results.py)
    assert run.after == run.before  # benchmarks/results byte for byte as they were
    return json.loads((run.out / "team_load.json").read_text()), (run.out / "team_load.md").read_text()


@pytest.mark.slow
def test_every_annotator_of_every_run_labels_and_is_measured(quick_run):
    rows, table = quick_run
    assert [(r["mode"], r["n"]) for r in rows] == [("service", 1), ("kernels", 1), ("service", 2), ("kernels", 2)]
    for row in rows:
        assert row["errors"] == 0
        assert row["labels"] >= 3 * row["n"]  # 12 s at one label every 2 s, each
        assert 0 < row["click_p50_ms"] <= row["click_p95_ms"]
        assert row["cpu_s_per_label"] > 0 and row["uss_mb"] > 50 and row["updates_per_min"] > 0
    assert table.count("| service |") == 2 and table.count("| kernels |") == 2


def test_quick_never_writes_into_the_committed_results():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(RESULTS)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2 and "--quick never writes into" in result.stderr
