"""The label-efficiency benchmark runs end to end (``--quick``) and writes sane results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmark_scripts import load_script
from benchmark_scripts import quick_run as run_quick

import alwidgets as alw
from alwidgets import min_max  # noqa: F401  (the benchmark imports it too: "min_max_margin" is among the strategies)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "label_efficiency.py"
COLUMNS = ["scenario", "strategy", "seed", "n_labels", "accuracy", "f1", "seconds"]


def load_benchmark():
    return load_script("label_efficiency")


@pytest.fixture(scope="module")
def quick_run():
    run = run_quick("label_efficiency")  # as the suite runs it: no --out (tests/test_quick_runs_keep_results.py)
    return run.out, run.stdout


@pytest.mark.slow
def test_quick_run_shows_progress_and_writes_every_file(quick_run):
    out, stdout = quick_run
    assert "whole-pool model" in stdout and "min left" in stdout  # progress while it runs
    for name in ("label_efficiency.csv", "label_efficiency_summary.csv", "label_efficiency.png",
                 "label_efficiency.md", "label_efficiency.json"):
        assert (out / name).stat().st_size > 0, name


@pytest.mark.slow
def test_curves_cover_every_classification_strategy_and_seed(quick_run):
    out, _ = quick_run
    curves = pd.read_csv(out / "label_efficiency.csv")
    assert list(curves.columns) == COLUMNS
    assert set(curves.scenario) == {"digits", "mnist_3_vs_not_3", "breast_cancer"}
    digits = curves[curves.scenario == "digits"]
    classification = {n for n in alw.strategies.available()
                      if not {"regressor", "multi_label"} & set(alw.strategies.get(n).requires)}
    assert set(digits.strategy) == classification
    seeds = digits.groupby("strategy").seed.nunique()
    assert seeds["expected_error_reduction"] == 1
    assert (seeds.drop("expected_error_reduction") == 2).all()


@pytest.mark.slow
def test_curves_hold_sane_values(quick_run):
    out, _ = quick_run
    curves = pd.read_csv(out / "label_efficiency.csv")
    for (scenario, strategy, seed), run in curves.groupby(["scenario", "strategy", "seed"]):
        n = run.n_labels.to_numpy()
        assert np.all(np.diff(n) > 0), (scenario, strategy, seed)
        assert n[0] == (4 if scenario == "mnist_3_vs_not_3" else 20)  # two seed labels per class, or 20 at random
    assert curves.accuracy.between(0, 1).all()
    digits = curves[curves.scenario == "digits"]
    assert digits.f1.isna().all()
    first = digits[digits.n_labels == 20].accuracy.mean()
    last = digits.groupby(["strategy", "seed"]).accuracy.last().mean()
    assert first > 0.3 and last > first  # well above chance (0.1) and learning as labels come in
    skewed = curves[curves.scenario == "mnist_3_vs_not_3"]
    assert skewed.f1.between(0, 1).all()
    budgets = digits.groupby("strategy").n_labels.max()
    assert budgets["random"] == 2 * budgets["cluster_diversity"]  # random runs further, so its crossing shows


@pytest.mark.slow
def test_summary_and_markdown_state_the_headline(quick_run):
    out, _ = quick_run
    summary = pd.read_csv(out / "label_efficiency_summary.csv")
    assert {"labels_to_target", "ratio_random_over_strategy", "ratio_text", "target"} <= set(summary.columns)
    assert set(summary[summary.scenario == "mnist_3_vs_not_3"].metric) == {"accuracy", "f1"}
    np.testing.assert_allclose(summary.target, 0.95 * summary.full_pool_score)
    assert summary.aubc.between(0, 1).all() and summary.random_aubc.between(0, 1).all()
    randoms = summary[summary.strategy == "random"]
    np.testing.assert_allclose(randoms.aubc, randoms.random_aubc)  # random against itself over the same window
    assert (summary.aubc_stop <= summary.budget).all()
    text = (out / "label_efficiency.md").read_text()
    assert "python benchmarks/label_efficiency.py --quick" in text
    assert "| strategy | labels to 95% | random / strategy [seeds 10–90%] |" in text
    assert "AUBC (random's)" in text and "Lu et al." in text
    for strategy in summary.strategy.unique():
        assert f"| {strategy}" in text


@pytest.mark.slow
def test_png_is_a_real_image(quick_run):
    from matplotlib.image import imread

    out, _ = quick_run
    assert (out / "label_efficiency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(out / "label_efficiency.png")
    assert image.shape[0] > 300 and image.shape[1] > 600


def test_labels_to_reach_interpolates_between_batches():
    bench = load_benchmark()
    curve = pd.Series([0.5, 0.7, 0.9], index=[20, 30, 40])
    assert bench.interpolated_labels_to_reach(curve, 0.8) == pytest.approx(35.0)
    assert bench.interpolated_labels_to_reach(curve, 0.4) == 20.0
    assert bench.interpolated_labels_to_reach(curve, 0.95) is None


@pytest.mark.parametrize(
    "random_needed, needed, expected",
    [(100.0, 40.0, "2.50x"), (None, 50.0, "> 4.00x"), (100.0, None, "< 0.50x"), (None, None, "n/a")],
)
def test_ratio_says_when_it_is_only_a_bound(random_needed, needed, expected):
    bench = load_benchmark()
    assert bench.ratio(random_needed, needed, random_budget=200, budget=200)[1] == expected


@pytest.mark.slow
def test_breast_cancer_follows_lu_et_al(quick_run):
    out, _ = quick_run
    curves = pd.read_csv(out / "label_efficiency.csv")
    breast = curves[curves.scenario == "breast_cancer"]
    assert set(breast.strategy) == {"random", "least_confident", "min_max_margin"}
    for _, run in breast.groupby(["strategy", "seed"]):
        assert np.all(np.diff(run.n_labels.to_numpy()) == 1)  # one query at a time
    text = (out / "label_efficiency.md").read_text()
    assert "breast cancer (Wdbc)" in text and "0.965 against random 0.954" in text


def test_breast_cancer_splits_anew_for_every_seed():
    bench = load_benchmark()
    scenario = bench.breast_cancer(quick=True)
    bench.prepare(scenario, n_seeds=2)
    first, second = (bench.data_for(scenario, seed) for seed in (0, 1))
    assert len(first["y_pool"]) == 341 and len(first["y_test"]) == 228  # 60/40, as Lu et al.
    assert not np.array_equal(first["y_test"], second["y_test"]) or not np.allclose(first["X_test"], second["X_test"])
    assert scenario.data["full"]["accuracy"] == pytest.approx(
        np.mean([first["full"]["accuracy"], second["full"]["accuracy"]]))


def test_seed_labels_can_be_a_random_draw_holding_every_class():
    bench = load_benchmark()
    y = np.array([0] * 95 + [1] * 5)
    for seed in range(20):
        picks = bench.seed_labels(y, 2, np.random.RandomState(seed), initial=10)
        assert len(set(picks)) == 10 and set(y[picks]) == {0, 1}


def test_aubc_verdict_needs_bands_clear_of_random():
    bench = load_benchmark()
    row = pd.Series({"strategy": "margin", "aubc": 0.96, "aubc_sd": 0.004, "random_aubc": 0.95, "random_aubc_sd": 0.004})
    assert bench.aubc_verdict(row) == "above random"
    assert bench.aubc_verdict(row.copy().replace({0.004: 0.006})).startswith("level with random")
    assert bench.aubc_verdict(pd.Series({**row, "aubc": 0.94})) == "**below random**"


def test_merge_replaces_the_same_scenario_and_strategy(tmp_path):
    bench = load_benchmark()
    earlier = pd.DataFrame({"scenario": ["digits", "digits", "mnist"], "strategy": ["random", "margin", "random"],
                            "seed": 0, "n_labels": 10, "accuracy": [0.5, 0.6, 0.7], "f1": np.nan, "seconds": 1.0})
    earlier.to_csv(tmp_path / "label_efficiency.csv", index=False)
    (tmp_path / "label_efficiency.json").write_text(
        '{"command": "python benchmarks/label_efficiency.py", "seeds": 5, "jobs": 2, "minutes": 16, "cpu_minutes": 15}')
    new = earlier.iloc[[1]].assign(accuracy=0.9)
    merged, info = bench.merge(tmp_path, new, {"command": "python benchmarks/label_efficiency.py --merge",
                                               "seeds": 5, "jobs": 2, "minutes": 1, "cpu_minutes": 1})
    assert len(merged) == 3
    assert merged.set_index(["scenario", "strategy"]).accuracy[("digits", "margin")] == 0.9
    assert info["minutes"] == 17 and "--merge" in info["command"] and len(info["runs"]) == 2
