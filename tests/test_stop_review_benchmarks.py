"""The stopping and review benchmarks run end to end (``--quick``) and write sane results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from benchmark_scripts import load_script, quick_run


def load(name: str):
    return load_script(name)


# ---------------------------------------------------------------------- stopping


@pytest.fixture(scope="module")
def stopping_run():
    run = quick_run("stopping")  # as the suite runs it: no --out (tests/test_quick_runs_keep_results.py)
    return run.out, run.stdout


@pytest.mark.slow
def test_stopping_quick_run_writes_every_file(stopping_run):
    out, stdout = stopping_run
    assert "stop at" in stdout
    for name in ("stopping.csv", "stopping_runs.csv", "stopping.md"):
        assert (out / name).stat().st_size > 0, name
    text = (out / "stopping.md").read_text()
    assert "python benchmarks/stopping.py --quick" in text
    assert "**The article's defaults (kappa >= 0.99 for 3 updates)**" in text
    assert "| digits (8x8) | margin |" in text and "| MNIST 3 vs not 3 (10% threes) | random |" in text


@pytest.mark.slow
def test_stopping_curves_follow_the_signal(stopping_run):
    out, _ = stopping_run
    bench = load("stopping")
    curves = pd.read_csv(out / "stopping.csv")
    settings = [bench.setting_name(*s) for s in bench.SETTINGS]
    assert set(curves.scenario) == {"digits", "mnist_3_vs_not_3"} and set(curves.strategy) == {"margin", "random"}
    for (scenario, _, _), run in curves.groupby(["scenario", "strategy", "seed"]):
        n = run.n_labels.to_numpy()
        assert np.all(np.diff(n) > 0)
        assert np.isnan(run.kappa.iloc[0]) and run.kappa.iloc[1:].between(-1, 1).all()  # nothing to compare at first
        first = {s: (run.n_labels[run[s]].min() if run[s].any() else np.inf) for s in settings}
        assert first[settings[0]] <= first[settings[1]]  # kappa >= 0.995 for 5 implies kappa >= 0.99 for 3
        stopped = run[run[settings[0]]]
        if len(stopped):  # the window before the first stop holds three agreements of at least 0.99
            k = run.index.get_loc(stopped.index[0])
            assert (run.kappa.iloc[k - 2: k + 1] >= 0.99).all()
        pool = 1347 if scenario == "digits" else 1200
        fired_all = all(np.isfinite(v) for v in first.values())
        assert fired_all or n[-1] >= pool * 2 / 3  # a run ends when every setting fired, or at two thirds of the pool


@pytest.mark.slow
def test_stopping_runs_table_matches_the_curves(stopping_run):
    out, _ = stopping_run
    curves = pd.read_csv(out / "stopping.csv")
    runs = pd.read_csv(out / "stopping_runs.csv")
    row = runs[(runs.scenario == "digits") & (runs.strategy == "margin") & (runs.seed == 0)
               & (runs.setting == "kappa >= 0.99 for 3")].iloc[0]
    curve = curves[(curves.scenario == "digits") & (curves.strategy == "margin") & (curves.seed == 0)]
    at = curve[curve["kappa >= 0.99 for 3"]].iloc[0]
    assert row.stop_labels == at.n_labels
    assert row.accuracy_stop == pytest.approx(at.accuracy)
    assert row.accuracy_gap == pytest.approx(row.accuracy_full - at.accuracy)
    assert row.saved_vs_pool == pytest.approx(1 - at.n_labels / 1347)


def test_per_run_judges_the_target():
    bench = load("stopping")
    default, conservative = (bench.setting_name(*s) for s in bench.SETTINGS)

    class Scenario:  # what per_run reads of a label-efficiency scenario
        name, budget, metrics = "toy", 30, ("accuracy",)
        data = {"y_pool": np.zeros(300), "full": {"accuracy": 0.90}}

    curves = pd.DataFrame({
        "scenario": "toy", "strategy": "margin", "seed": 0, "n_labels": [10, 20, 30, 40, 50],
        "accuracy": [0.6, 0.8, 0.85, 0.89, 0.9],
        default: [False, False, True, True, True], conservative: [False, False, False, False, True],
    })
    runs = pd.concat([bench.per_run(curves, [Scenario]),
                      bench.per_run(curves.assign(seed=1, **{default: False, conservative: False}), [Scenario])])
    by = {(r.seed, r.setting): r for r in runs.itertuples()}
    early = by[(0, default)]
    assert early.stop_labels == 30 and early.accuracy_gap == pytest.approx(0.05)
    assert not early.met  # 5 points below the full budget
    late = by[(0, conservative)]
    assert late.stop_labels == 50 and late.met and late.saved_vs_pool == pytest.approx(1 - 50 / 300)
    assert early.budget_labels == 30 and early.accuracy_budget == pytest.approx(0.85)
    never = by[(1, default)]
    assert np.isnan(never.stop_labels) and not never.met
    text = bench.why_missed(runs[(runs.seed == 1) & (runs.setting == default)])
    assert "had not fired by 50 labels" in text


# ---------------------------------------------------------------------- review


@pytest.fixture(scope="module")
def review_run():
    run = quick_run("review")
    return run.out, run.stdout


@pytest.mark.slow
def test_review_quick_run_reports_precision_against_a_random_list(review_run):
    out, stdout = review_run
    assert "precision@20" in stdout
    runs = pd.read_csv(out / "review.csv")
    assert set(runs.strategy) == {"margin", "random"} and set(runs.n_labels) == {200}
    assert runs.precision_at_20.between(0, 1).all()
    assert runs.random_list_precision.between(0.03, 0.2).all()  # about the oracle's 10%
    assert (runs.precision_at_20 > 2 * runs.random_list_precision).all()  # the ranking beats a random list
    text = (out / "review.md").read_text()
    assert "python benchmarks/review.py --quick" in text
    assert "| margin | 200 |" in text and "| random | 200 |" in text


@pytest.mark.parametrize("noise", [0.1, 0.25])
def test_lying_oracle_is_wrong_on_exactly_its_share(noise):
    bench = load("review")
    y = np.repeat(np.arange(4), 50)
    answers, wrong = bench.lying_oracle(y, noise, np.random.RandomState(0))
    assert wrong.sum() == round(noise * len(y))
    assert np.all(answers[wrong] != y[wrong]) and np.all(answers[~wrong] == y[~wrong])
    assert set(answers) <= set(y)
