"""How long every registered strategy takes to choose a batch of 10 on the digits pool, on one core.

    python benchmarks/strategy_cost.py [--labels 50] [--repeats 3] [--pool digits|mnist]

The learner is LogisticRegression on standardized features, fitted on
``--labels`` items drawn at random (stratified); committee strategies get a
5-member committee from ``alw.make_committee``; regression strategies run on a
GaussianProcessRegressor over a 1-D pool of the same size. Prints a markdown
table (median of ``--repeats`` runs, wall-clock and CPU seconds) and writes it
to ``benchmarks/results/strategy_cost.md``. The target is under 2 s per batch
(wall clock).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core, as the target says; also avoids oversubscription

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import _output  # noqa: E402  # benchmarks/_output.py: where a run writes
import numpy as np  # noqa: E402
from modAL.models import ActiveLearner  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.gaussian_process import GaussianProcessRegressor  # noqa: E402
from sklearn.gaussian_process.kernels import RBF, WhiteKernel  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import alwidgets as alw  # noqa: E402

BATCH = 10
TARGET_SECONDS = 2.0
RESULTS = Path(__file__).resolve().parent / "results"


def learners(pool: str, n_labels: int):
    """The pool and one learner of each kind a strategy may need."""
    data = alw.datasets.load_mnist() if pool == "mnist" else alw.datasets.load_digits()
    X = StandardScaler().fit_transform(data.X)
    labeled, unlabeled = train_test_split(np.arange(len(data.y)), train_size=n_labels, stratify=data.y, random_state=0)
    model = LogisticRegression(C=0.1, max_iter=500)
    single = ActiveLearner(estimator=model, X_training=X[labeled], y_training=data.y[labeled])
    committee = alw.make_committee(model, n_members=5, random_state=0)
    committee.teach(X[labeled], data.y[labeled])
    sin = alw.datasets.load_sin(n_samples=len(unlabeled) + 20, random_state=0)
    regressor = ActiveLearner(
        estimator=GaussianProcessRegressor(RBF(1.0) + WhiteKernel(0.1), random_state=0),
        X_training=sin.X[:20], y_training=sin.y[:20],
    )
    return {"classifier": (single, X[unlabeled]), "committee": (committee, X[unlabeled]),
            "regressor": (regressor, sin.X[20:])}


def measure(pool: str = "digits", n_labels: int = 50, repeats: int = 3) -> list[dict]:
    kinds = learners(pool, n_labels)
    rows = []
    for name in alw.strategies.available():
        strategy = alw.strategies.get(name)
        if "multi_label" in strategy.requires:
            continue  # needs a multi-label learner: not among the kinds this benchmark builds
        kind = next(k for k in ("classifier", "committee", "regressor") if strategy.problem(kinds[k][0]) is None)
        learner, X = kinds[kind]
        wall, cpu = [], []
        for repeat in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            strategy(learner, X, n_instances=BATCH, random_state=repeat)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        rows.append({"strategy": name, "learner": kind, "pool": X.shape[0], "seconds": float(np.median(wall)),
                     "cpu_seconds": float(np.median(cpu))})
        print(f"  {name:<26} {kind:<10} {rows[-1]['seconds']:.3f} s ({rows[-1]['cpu_seconds']:.3f} s CPU)", flush=True)
    return rows


def to_markdown(rows: list[dict], pool: str, n_labels: int) -> str:
    lines = [
        f"Seconds to choose a batch of {BATCH} on the {pool} pool ({rows[0]['pool']} unlabeled rows, "
        f"{n_labels} labels), one thread, median of runs. Wall-clock seconds depend on how busy the machine "
        "is; CPU seconds are what the strategy itself costs:",
        "",
        "| strategy | learner | seconds (wall) | seconds (CPU) | under 2 s |",
        "|---|---|---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(f"| {r['strategy']} | {r['learner']} | {r['seconds']:.3f} | {r['cpu_seconds']:.3f} | "
                     f"{'yes' if r['seconds'] < TARGET_SECONDS else '**no**'} |")
    lines += ["", f"Command: `python benchmarks/strategy_cost.py --pool {pool} --labels {n_labels}`", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", choices=["digits", "mnist"], default="digits")
    parser.add_argument("--labels", type=int, default=50, help="labeled items the learner was fitted on")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for strategy_cost.md (strategy_cost_mnist.md with --pool mnist); default "
                             "benchmarks/results, a temporary folder with other --labels or --repeats")
    args = parser.parse_args(argv)
    args.out = _output.folder(parser, args.out, "strategy_cost",
                              partial=_output.changed(parser, args, ("labels", "repeats")))
    print(f"Timing a batch of {BATCH} for every strategy on the {args.pool} pool (one core)...", flush=True)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows = measure(args.pool, args.labels, args.repeats)
    text = to_markdown(rows, args.pool, args.labels)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "strategy_cost.md" if args.pool == "digits" else f"strategy_cost_{args.pool}.md"
    (args.out / name).write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
