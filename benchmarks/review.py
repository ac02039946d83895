"""Does "the model disagrees" find wrong labels? Precision of its first 20 items against a lying oracle.

    python benchmarks/review.py            # full: 10 seeds
    python benchmarks/review.py --quick    # tiny: proves it runs

On the digits pool of ``benchmarks/label_efficiency.py`` (1,347 items,
standardized; the same LogisticRegression, C=0.1), a simulated oracle answers
a random 10% of the pool wrongly (a different class, drawn at random; the same
wrong answer whenever the item is asked). An :class:`alwidgets.Session` collects
labels from it with its public API (``teach`` for 2 seed labels per class, then
``simulate``), by margin sampling or at random, up to 200 or 500 labels. The
labels it holds (``session.labels``) are then ranked by
:func:`alwidgets.engine.review.rank_labels_table`: out-of-fold probability of the
given label, lowest first.

Reported per setting, over seeds: the precision of the first 20 items (the
share of them that are wrong labels) against the precision of a random list of
20, which is the share of wrong labels among those collected (about 0.10; a
little more or less as the strategy happens to ask the items the oracle gets
wrong). Target (issue 13): at least 0.5 on digits.

Writes ``review.csv`` (one row per run) and ``review.md`` into ``--out``
(default ``benchmarks/results``; a quick or partial run writes into a temporary
folder unless ``--out`` is given, and a quick one never into ``benchmarks/results``:
see ``benchmarks/_output.py``).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core per run

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import _output  # noqa: E402  # benchmarks/_output.py: where a run writes
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import label_efficiency as bench  # noqa: E402  (the digits scenario, its data preparation and model)

import alwidgets as alw  # noqa: E402
from alwidgets.engine.review import rank_labels_table  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
NOISE = 0.10
TOP = 20
TARGET = 0.5
SETTINGS = (("margin", 200), ("random", 200), ("margin", 500), ("random", 500))


def lying_oracle(y: np.ndarray, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """The oracle's answer for every pool item, and which answers are wrong (a random ``noise`` share of the pool)."""
    classes = np.unique(y)
    wrong = np.zeros(len(y), dtype=bool)
    wrong[rng.choice(len(y), int(round(noise * len(y))), replace=False)] = True
    codes = np.searchsorted(classes, y)
    shifted = classes[(codes + rng.randint(1, len(classes), size=len(y))) % len(classes)]  # never the right class
    return np.where(wrong, shifted, y), wrong


def run(scenario, strategy: str, n_labels: int, seed: int) -> dict:
    """Collect ``n_labels`` labels from the lying oracle, rank them, and score the first ``TOP`` of the ranking."""
    d = scenario.data
    rng = np.random.RandomState(seed)
    answers, wrong = lying_oracle(d["y_pool"], NOISE, rng)
    session = alw.Session(bench.model(), d["X_pool"], strategy=strategy, random_state=seed, annotator="oracle",
                          item_ids=[str(i) for i in range(len(answers))])
    seeds = bench.seed_labels(d["y_pool"], scenario.seeds_per_class, rng)  # the person picks one item per class...
    session.teach(list(seeds), list(answers[seeds]))  # ...and the oracle may still get it wrong
    session.simulate(answers, n_queries=n_labels - len(seeds), batch_size=scenario.batch)
    labels = pd.DataFrame({"index": list(session.labels), "label": list(session.labels.values()),
                           "annotator": session.annotator})
    start = time.perf_counter()
    ranking = rank_labels_table(labels, d["X_pool"], bench.model(), random_state=seed)
    seconds = time.perf_counter() - start
    flagged = wrong[ranking["index"].to_numpy()]
    return {"strategy": strategy, "n_labels": len(labels), "seed": seed,
            "n_wrong": int(wrong[labels["index"]].sum()),
            "random_list_precision": float(wrong[labels["index"]].mean()),
            "precision_at_20": float(flagged[:TOP].mean()),
            "recall_at_20": float(flagged[:TOP].sum() / max(1, wrong[labels["index"]].sum())),
            "precision_at_n_wrong": float(flagged[: max(1, int(wrong[labels["index"]].sum()))].mean()),
            "ranking_seconds": seconds}


def to_markdown(runs: pd.DataFrame, pool: int, command: str, seeds: int, minutes: float) -> str:
    lines = [
        "### Review and relabel: does \"the model disagrees\" find wrong labels?",
        "",
        f"Digits pool of the label-efficiency benchmark ({pool:,} items, standardized; LogisticRegression C=0.1). "
        f"A simulated oracle answers a random {NOISE:.0%} of the pool wrongly (another class at random). A Session "
        "collects labels from it (2 seed labels per class, then its strategy in batches of 10); "
        "`alwidgets.engine.review.rank_labels_table` ranks them by the out-of-fold probability of the given label "
        f"(5-fold `cross_val_predict`, lowest first). Precision@{TOP} = the share of wrong labels among the first "
        f"{TOP} items of the ranking; a random list of {TOP} has, on average, the share of wrong labels among the "
        f"labels collected. {seeds} seeds (which answers are wrong, seed labels, strategy randomness, folds).",
        "",
        f"Target: precision@{TOP} of at least {TARGET} on digits (a random list: about {NOISE}).",
        "",
        f"| labels collected by | labels | wrong labels among them: mean | precision@{TOP}: mean (min-max) | "
        f"random list | recall@{TOP} | precision at the number of wrong labels | runs at or above {TARGET} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (strategy, n_labels), part in runs.groupby(["strategy", "n_labels"], sort=False):
        p = part.precision_at_20
        lines.append(f"| {strategy} | {n_labels} | {part.n_wrong.mean():.1f} | {p.mean():.2f} ({p.min():.2f}-"
                     f"{p.max():.2f}) | {part.random_list_precision.mean():.2f} | {part.recall_at_20.mean():.2f} | "
                     f"{part.precision_at_n_wrong.mean():.2f} | {int((p >= TARGET).sum())}/{len(part)} |")
    met = runs.groupby(["strategy", "n_labels"], sort=False).precision_at_20.mean() >= TARGET
    lines += [
        "",
        f"Target met (mean precision@{TOP} >= {TARGET}) in {int(met.sum())} of {len(met)} settings"
        + ("." if met.all() else "; not met: " + ", ".join(f"{s} {n}" for (s, n), ok in met.items() if not ok) + "."),
        "",
        f"Ranking {runs.n_labels.max()} labels takes {runs[runs.n_labels == runs.n_labels.max()].ranking_seconds.mean():.2f} s "
        "(5 fits of the model, one BLAS thread).",
        "",
        f"Reproduce: `{command}` (took {bench.duration(minutes)} here on a shared 2-core machine). Every run: "
        "`benchmarks/results/review.csv`.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 200 labels only: proves it runs")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per setting (default 10; quick: 2)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the CSV and the markdown (default benchmarks/results for a full run; a "
                             "temporary folder for a quick or partial one)")
    args = parser.parse_args(argv)
    args.out = _output.folder(parser, args.out, "review", quick=args.quick,
                              partial=_output.changed(parser, args, ("seeds",)))
    n_seeds = args.seeds or (2 if args.quick else 10)
    if n_seeds < 1:
        parser.error("--seeds must be at least 1")
    settings = [s for s in SETTINGS if s[1] == 200] if args.quick else list(SETTINGS)
    scenario = next(s for s in bench.scenarios(quick=False) if s.name == "digits")
    command = "python benchmarks/review.py" + (" --quick" if args.quick else "")
    print(f"{command}: {len(settings) * n_seeds} runs", flush=True)
    began = time.perf_counter()
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bench.prepare(scenario)
        for strategy, n_labels in settings:
            for seed in range(n_seeds):
                row = run(scenario, strategy, n_labels, seed)
                rows.append(row)
                print(f"  {strategy:<7} {n_labels} labels, seed {seed}: {row['n_wrong']} wrong, "
                      f"precision@{TOP} {row['precision_at_20']:.2f} (random list {row['random_list_precision']:.2f})",
                      flush=True)
    runs = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "review.csv", index=False)
    text = to_markdown(runs, len(scenario.data["y_pool"]), command, n_seeds, (time.perf_counter() - began) / 60)
    (args.out / "review.md").write_text(text)
    print()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
