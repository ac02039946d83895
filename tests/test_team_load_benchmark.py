"""benchmarks/team_load.py runs end to end (``--quick``) through a page's own code, and leaves the results alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "team_load.py"
RESULTS = ROOT / "benchmarks" / "results"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("team_load")
    committed = {p.name: p.read_bytes() for p in RESULTS.glob("team_load.*")}
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out)], capture_output=True,
                            text=True, timeout=1200, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p.name: p.read_bytes() for p in RESULTS.glob("team_load.*")} == committed
    return json.loads((out / "team_load.json").read_text()), (out / "team_load.md").read_text()


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


def test_quick_needs_a_place_other_than_the_committed_results():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=120,
                            cwd=ROOT)
    assert result.returncode == 2 and "--out" in result.stderr
