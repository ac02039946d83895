"""benchmarks/dashboard_memory.py without a browser: how a measurement becomes a table row."""

from __future__ import annotations

from benchmark_scripts import load_script


def test_a_row_divides_the_memory_of_every_process_by_the_annotators():
    bench = load_script("dashboard_memory")
    row = {"n": 2, "server": {"rss": 100.0, "pss": 80.0, "uss": 70.0},
           "kernels": [{"rss": 300.0, "pss": 200.0, "uss": 180.0}, {"rss": 310.0, "pss": 220.0, "uss": 190.0}],
           "peak_rss": 720.0}
    line = bench.table({"branch": [row]}).splitlines()[-1]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells == ["branch", "2", "305 / 310", "210", "185", "100", "80", "250", "720"]  # (80 + 200 + 220) / 2

