"""The first-render benchmark: its table logic, and one quick run in Chromium (``--quick``, one notebook)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "first_render.py"


sys.path.insert(0, str(SCRIPT.parent))
import first_render  # noqa: E402  (benchmarks/ is no package: the script is imported as a module)


def test_the_slowest_cell_is_the_longest_wait_between_two_outputs():
    # kernel ready at 1 s; cell 1 at 1.1 s, cell 2 at 5 s (a slow import), cell 3 at 5.5 s
    assert first_render.slowest_cell(1000.0, {"1": 1100.0, "2": 5000.0, "3": 5500.0}) == (2, pytest.approx(3.9))
    assert first_render.slowest_cell(None, {"1": 1.0}) is None


def test_a_page_meets_the_target_only_when_its_first_widget_comes_within_3_s_of_the_kernel():
    runs = [first_render.Run(kernel=2.0, widget=4.5, button=6.0, settled=9.0),
            first_render.Run(kernel=2.0, widget=5.5, button=6.5, settled=9.5)]
    row = first_render.summarize(first_render.PageResult("01_images.ipynb", "later", runs))
    assert row["widget after kernel"] == "3.0 (2.5–3.5)"
    assert row["≤ 3 s"] == "1/2"
    assert row["first button"] == "6.2 (6.0–6.5)"
    missing = first_render.summarize(first_render.PageResult("06.ipynb", "first",
                                                             [first_render.Run(kernel=2.0, problem="no button")]))
    assert missing["first widget"] == "—" and missing["≤ 3 s"] == "no" and missing["notes"] == "no button"


def test_an_unknown_page_is_named():
    with pytest.raises(SystemExit, match="'nope.ipynb' is not one of"):
        first_render.pages(["nope.ipynb"])


def test_pages_kept_ready_are_served_by_alwidgets_serve_not_by_voila_options():
    with pytest.raises(SystemExit):
        first_render.parse_args(["--pool", "1", "--voila-option=--progressive_rendering=True"])
    assert first_render.parse_args(["--pool", "2"]).pool == 2


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("serving, said", [([], "when the page was requested"),
                                           (["--pool", "1", "--arrive-after", "8"], "kept ready")])
def test_quick_run_of_one_notebook_writes_a_table_with_its_timings(tmp_path, serving, said):
    if not os.access(first_render.CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {first_render.CHROMIUM}")
    out = tmp_path / "first_render.md"
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--page", "04_decision_boundary.ipynb",
                             "--quiet", "1", "--out", str(out), *serving], capture_output=True, text=True,
                            timeout=600, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert said in out.read_text()
    rows = [line for line in out.read_text().splitlines() if line.startswith("| 04_decision_boundary")]
    assert [row.split("|")[2].strip() for row in rows] == ["first", "later"]
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        kernel, widget, button = (float(re.match(r"[\d.]+", c).group()) for c in cells[2:5])
        assert 0 < kernel < widget <= button, row
