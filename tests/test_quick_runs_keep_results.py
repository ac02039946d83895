"""Quick and partial runs of the benchmarks never overwrite the committed results in benchmarks/results.

The quick variants the suite runs (tests/test_seed_mnist_benchmark.py,
test_benchmarks.py, test_stop_review_benchmarks.py, test_team_load_benchmark.py)
run once, without ``--out``, through :func:`benchmark_scripts.quick_run`, which
hashes every file in benchmarks/results before and after. For every script,
``ALW_BENCHMARK_WHERE=1`` makes it print the folder it would write into and
stop: a full run goes to benchmarks/results, a quick or partial one elsewhere.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from benchmark_scripts import BENCHMARKS, RESULTS, load_script, quick_run

SUITE_QUICK_RUNS = [("seed_mnist",), ("seed_mnist", "--data", "fashion"), ("seed_mnist", "--early"),
                    ("label_efficiency",), ("stopping",),
                    ("review",), ("team_load",)]


@pytest.mark.slow
@pytest.mark.parametrize("command", SUITE_QUICK_RUNS, ids=" ".join)
def test_the_quick_runs_of_the_suite_leave_the_committed_results_byte_for_byte(command):
    run = quick_run(*command, timeout=1200)
    changed = sorted(name for name in run.before.keys() | run.after.keys()
                     if run.before.get(name) != run.after.get(name))
    assert not changed, f"{' '.join(command)} --quick changed benchmarks/results: {changed}"
    assert RESULTS not in run.out.resolve().parents and run.out.resolve() != RESULTS
    assert run.out.is_dir() and any(run.out.iterdir()), run.out  # it wrote, elsewhere
    assert Path(run.command[1]).parent == BENCHMARKS and "--out" not in run.command


TEMP, COMMITTED, REFUSED = "a temporary folder", "benchmarks/results", "refused"
QUICK_INTO_RESULTS = ["--quick", "--out", str(RESULTS)]
WHERE = {
    "seed_mnist": [([], COMMITTED), (["--quick"], TEMP), (["--data", "fashion"], COMMITTED),
                   (["--data", "fashion", "--quick"], TEMP), (["--seeds", "2"], TEMP), (["--tasks", "mnist"], TEMP),
                   (["--model", "refit"], TEMP), (["--data", "fashion", "--budget", "2000"], TEMP),
                   (["--seeds", "2", "--out", str(RESULTS)], COMMITTED), (QUICK_INTO_RESULTS, REFUSED),
                   (["--early"], COMMITTED), (["--early", "--quick"], TEMP), (["--early", "--seeds", "2"], TEMP)],
    "label_efficiency": [([], COMMITTED), (["--quick"], TEMP), (["--scenarios", "digits"], TEMP),
                         (["--seeds", "1"], TEMP), (["--scenarios", "digits", "--merge"], COMMITTED),
                         (QUICK_INTO_RESULTS, REFUSED)],
    "stopping": [([], COMMITTED), (["--quick"], TEMP), (["--seeds", "1"], TEMP), (["--scenarios", "digits"], TEMP),
                 (QUICK_INTO_RESULTS, REFUSED)],
    "review": [([], COMMITTED), (["--quick"], TEMP), (["--seeds", "1"], TEMP), (QUICK_INTO_RESULTS, REFUSED)],
    "latency": [([], COMMITTED), (["--sizes", "1000"], TEMP), (["--clicks", "10"], TEMP),
                (["--rank-sizes"], TEMP)],
    "hostile_input": [([], COMMITTED), (["--quick"], TEMP), (["--columns", "10"], TEMP),
                      (QUICK_INTO_RESULTS, REFUSED)],
    "strategy_cost": [([], COMMITTED), (["--pool", "mnist"], COMMITTED), (["--labels", "20"], TEMP)],
    "dashboard_memory": [([], COMMITTED), (["--n", "1"], TEMP), (["--labels", "1"], TEMP)],
    "first_render": [([], COMMITTED), (["--quick"], TEMP), (["--page", "dashboard"], TEMP),
                     (["--quick", "--out", str(RESULTS / "first_render.md")], REFUSED)],
    "team_load": [([], COMMITTED), (["--quick"], TEMP), (["--n", "1"], TEMP), (["--modes", "service"], TEMP),
                  (QUICK_INTO_RESULTS, REFUSED)],
}


def where(script: str, argv: list[str], monkeypatch, tmp_path, capsys) -> tuple[int, str]:
    """What ``benchmarks/<script>.py *argv`` chooses, without measuring anything: (exit code, printed folder)."""
    monkeypatch.setenv("ALW_BENCHMARK_WHERE", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bench = load_script(script)
    with pytest.raises(SystemExit) as stopped:
        bench.parse_args(argv) if script == "first_render" else bench.main(argv)
    captured = capsys.readouterr()
    said = re.search(r"^ALW_BENCHMARK_WHERE: (.+)$", captured.out, re.MULTILINE)
    return stopped.value.code, said.group(1) if said else captured.err


@pytest.mark.parametrize("script, argv, expected", [(s, a, e) for s, cases in WHERE.items() for a, e in cases],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_a_full_run_writes_the_results_and_a_quick_or_partial_one_elsewhere(script, argv, expected, monkeypatch,
                                                                            tmp_path, capsys):
    code, said = where(script, argv, monkeypatch, tmp_path, capsys)
    if expected == REFUSED:
        assert code == 2 and "--quick never writes into" in said
        return
    assert code == 0, said
    if expected == COMMITTED:
        assert Path(said) == RESULTS
    else:
        assert Path(said).parent == tmp_path and Path(said).name.startswith(f"alw-{script.split('_')[0]}")


def test_every_benchmark_that_writes_files_chooses_its_folder_by_the_same_rule():
    writers = set()
    for path in sorted(BENCHMARKS.glob("*.py")):
        text = path.read_text()
        if path.name == "_output.py" or not re.search(r"write_text|write_bytes|to_csv|savefig|DictWriter", text):
            continue
        writers.add(path.stem)
        assert "_output.folder(" in text or "_output.file(" in text, f"{path.name} writes without benchmarks/_output.py"
    assert writers == set(WHERE)  # and each is checked above
