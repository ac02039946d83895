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
    assert cells == ["branch", "2", "305 / 310", "210", "185", "100", "80", "250", "—", "720"]  # (80 + 200 + 220) / 2


def test_what_each_added_annotator_costs_is_the_growth_of_the_total_pss():
    bench = load_script("dashboard_memory")

    def row(n, kernel_pss):
        return {"n": n, "server": {"rss": 100.0, "pss": 80.0, "uss": 70.0}, "peak_rss": 1.0,
                "kernels": [{"rss": 300.0, "pss": kernel_pss, "uss": 150.0}] * n}

    lines = bench.table({"branch": [row(4, 190.0), row(1, 250.0), row(2, 220.0)]}).splitlines()[2:]
    added = [[cell.strip() for cell in line.strip("|").split("|")][8] for line in lines]
    assert added == ["—", "190", "160"]  # 80+250=330 -> 80+440=520 (+190) -> 80+760=840 (+320 over 2)

