"""How long a person waits after a label click, with and without the background worker.

Headless: a :class:`alwidgets.Labeler` is driven by ``button.click()`` as a
person's click would drive it (no browser, so the time to send widget
messages to a front end is not included). For pools of 1k, 10k and 100k
items (``make_classification``, 50 features, LogisticRegression, margin
sampling, a held-out set of 2,000) it measures, over ``--clicks`` clicks:

- **next instance**: from the click until the click handler has shown the
  next item (what the person waits for);
- **plots updated**: from the click until the model is refitted, the pool
  re-ranked and the learning-curve PNG redrawn.

``worker`` is the Labeler as shipped (record + query in the click, the rest
on the worker thread); ``naive`` is ``Labeler(sync=True)``: teach + query +
redraw inside the click handler, the baseline. ``worker, rapid`` clicks again
at once, without waiting for the model, as a fast labeler would: the click
then competes with a running refit for the interpreter.

    .venv/bin/python benchmarks/latency.py                 # 1k, 10k, 100k; 30 clicks
    .venv/bin/python benchmarks/latency.py --sizes 1000 --clicks 10

Writes benchmarks/results/latency.csv and benchmarks/results/latency.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import alwidgets as alw  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
N_TEST = 2000
N_FEATURES = 50
N_WARM_LABELS = 20


def make_data(n_pool: int, random_state: int = 0):
    X, y = make_classification(
        n_samples=n_pool + N_TEST, n_features=N_FEATURES, n_informative=10, n_classes=3,
        n_clusters_per_class=1, random_state=random_state,
    )
    return X[:n_pool], y[:n_pool], X[n_pool:], y[n_pool:]


def make_labeler(data, sync: bool):
    X_pool, y_pool, X_test, y_test = data
    session = alw.Session(LogisticRegression(max_iter=300), X_pool, "margin", X_test=X_test, y_test=y_test,
                          random_state=0)
    session.simulate(y_pool, N_WARM_LABELS)  # a fitted model, so every click follows a real ranking
    labeler = alw.Labeler(session, view="table", plots=["learning_curve"], keyboard=False, sync=sync)
    labeler.wait()
    return labeler


def click_true_label(labeler, y_pool) -> float:
    """Press the button of the shown item's true class; seconds until the handler returned."""
    shown = labeler.current
    button = labeler.label_buttons[int(y_pool[shown])]
    start = time.perf_counter()
    button.click()
    elapsed = time.perf_counter() - start
    if labeler.current == shown:
        raise RuntimeError(f"the click did not move on from item {shown}: {labeler.status.value}")
    return elapsed


def measure(data, mode: str, n_clicks: int) -> dict:
    y_pool = data[1]
    labeler = make_labeler(data, sync=(mode == "naive"))
    next_shown, plots_done = [], []
    for _ in range(n_clicks):
        start = time.perf_counter()
        next_shown.append(click_true_label(labeler, y_pool))
        if mode == "worker, rapid":
            continue
        labeler.wait()
        plots_done.append(time.perf_counter() - start)
    if mode == "worker, rapid":
        start = time.perf_counter()
        labeler.wait()
        plots_done.append(time.perf_counter() - start)  # the worker catching up after the last click
    labeler.wait()
    if labeler.errors:
        raise RuntimeError(f"the labeler reported errors: {labeler.errors}")
    expected = N_WARM_LABELS + n_clicks
    if labeler.session.n_labeled != expected or labeler.session.history[-1]["n_labels"] != expected:
        raise RuntimeError(f"{mode}: expected {expected} labels taught; got {labeler.session.history[-1]}")
    labeler.close()
    ms = lambda values, q: float(np.percentile(np.asarray(values) * 1000, q))  # noqa: E731
    return {
        "next_p50_ms": ms(next_shown, 50),
        "next_p95_ms": ms(next_shown, 95),
        "plots_p50_ms": ms(plots_done, 50),
        "plots_p95_ms": ms(plots_done, 95),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    rows = []
    for n_pool in args.sizes:
        data = make_data(n_pool)
        for mode in ("worker", "worker, rapid", "naive"):
            print(f"pool {n_pool:>7,}  {mode:<14}", end=" ", flush=True)
            result = measure(data, mode, args.clicks)
            rows.append({"pool_size": n_pool, "mode": mode, "clicks": args.clicks, **result})
            print(f"next instance p50 {result['next_p50_ms']:7.1f} ms  p95 {result['next_p95_ms']:7.1f} ms   "
                  f"plots updated p50 {result['plots_p50_ms']:7.1f} ms  p95 {result['plots_p95_ms']:7.1f} ms",
                  flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "latency.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()})
    (args.out / "latency.md").write_text(markdown(rows, argv if argv is not None else sys.argv[1:]))
    print(f"wrote {args.out / 'latency.csv'} and {args.out / 'latency.md'}")
    return 0


def markdown(rows: list[dict], argv: list[str]) -> str:
    naive = {r["pool_size"]: r for r in rows if r["mode"] == "naive"}
    lines = [
        "# Label-click latency",
        "",
        "Time from a simulated label click to the next instance shown, and to the model refitted and the "
        f"learning-curve plot redrawn. LogisticRegression, margin sampling, {N_FEATURES} features, "
        f"held-out set of {N_TEST:,}, {rows[0]['clicks']} clicks after {N_WARM_LABELS} warm-up labels; "
        "headless (no browser round trip).",
        "",
        "| pool | mode | next instance p50 (ms) | next instance p95 (ms) | plots updated p50 (ms) "
        "| plots updated p95 (ms) | next instance p95 vs naive |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        base = naive.get(r["pool_size"])
        speedup = f"{base['next_p95_ms'] / r['next_p95_ms']:.0f}x faster" if base and r["mode"] != "naive" else "—"
        lines.append(
            f"| {r['pool_size']:,} | {r['mode']} | {r['next_p50_ms']:.1f} | {r['next_p95_ms']:.1f} | "
            f"{r['plots_p50_ms']:.1f} | {r['plots_p95_ms']:.1f} | {speedup} |"
        )
    lines += [
        "",
        "`worker`: the Labeler as shipped (the click records the label and shows the next item from the latest "
        "ranking; a worker thread refits, re-ranks and redraws). `worker, rapid`: the next click comes at once, "
        "while the worker is still busy; its \"plots updated\" is the time the worker needs to catch up after the "
        "last click. `naive`: `Labeler(sync=True)`, teach + query + redraw inside the click handler.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} when the "
        f"run ended: other jobs shared the CPUs, which slows the model updates more than the clicks), "
        f"Python {platform.python_version()}. Reproduce with:",
        "",
        "```",
        "  ".join([".venv/bin/python benchmarks/latency.py", *argv]).strip() if argv else
        ".venv/bin/python benchmarks/latency.py",
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
