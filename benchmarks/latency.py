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

Two more measurements follow:

- **slow model**: a model whose fit takes 1.5 s (LogisticRegression with the
  fit padded by a 1.5 s sleep, so the fit time does not depend on the load
  of a shared machine). While its fits run on the worker, the benchmark
  presses Label, Undo, Skip and switches the strategy, and reports how long
  each callback took (p50/p95) and how long until the plots showed the model
  that knows the last label.
- **ranking with candidates**: the time of one re-ranking of the pool with
  margin sampling, over the whole pool and over ``Session(candidates=1000)``,
  at 100k and 1M items.

    .venv/bin/python benchmarks/latency.py                 # 1k, 10k, 100k; 30 clicks; slow model; ranking
    .venv/bin/python benchmarks/latency.py --sizes 1000 --clicks 10 --slow-rounds 3 --rank-sizes 100000

Writes benchmarks/results/latency.csv and benchmarks/results/latency.md (a run
with other sizes, clicks or rounds writes into a temporary folder unless
``--out`` is given: see ``benchmarks/_output.py``).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import threading
import time
from pathlib import Path

import _output  # benchmarks/_output.py: where a run writes
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


SLOW_FIT_SECONDS = 1.5


class SlowFit(LogisticRegression):
    """LogisticRegression whose fit takes 1.5 s longer: a random forest on a bigger pool, a GP, a small network.

    ``FITS`` counts fits started and finished (over every clone), so the benchmark can press a button
    while it knows a fit is in flight, and check afterwards that the same fit still was.
    """

    def fit(self, X, y, **kwargs):
        with FITS_LOCK:
            FITS["started"] += 1
        try:
            time.sleep(SLOW_FIT_SECONDS)
            return super().fit(X, y, **kwargs)
        finally:
            with FITS_LOCK:
                FITS["finished"] += 1


FITS = {"started": 0, "finished": 0}
FITS_LOCK = threading.Lock()


def fit_in_flight() -> int | None:
    """The number of the fit running now, or None when no fit runs."""
    with FITS_LOCK:
        return FITS["started"] if FITS["started"] > FITS["finished"] else None


def measure_slow(n_rounds: int, n_pool: int = 2_000) -> dict:
    """Callback times of label, undo, skip and a strategy switch, each pressed while a slow fit runs."""
    X_pool, y_pool, X_test, y_test = make_data(n_pool)
    session = alw.Session(SlowFit(max_iter=300), X_pool, "margin", X_test=X_test, y_test=y_test, random_state=0)
    session.teach(list(range(12)), list(y_pool[:12]))
    labeler = alw.Labeler(session, view="table", plots=["learning_curve"], keyboard=False)
    labeler.wait(60)
    times: dict[str, list[float]] = {"label": [], "undo": [], "skip": [], "strategy switch": []}
    fresh_plot: list[float] = []
    during_fit = 0
    strategies = ["entropy", "least_confident", "margin"]

    def start_a_fit() -> int:
        """Press Label (untimed) if no fit runs, and wait until one does."""
        if fit_in_flight() is None:
            click_true_label(labeler, y_pool)
        deadline = time.perf_counter() + 30
        while (running := fit_in_flight()) is None:
            if time.perf_counter() > deadline:
                raise RuntimeError("no fit started within 30 s of a label click")
            time.sleep(0.002)
        return running

    def timed(name, action):
        nonlocal during_fit
        running = start_a_fit()
        start = time.perf_counter()
        action()
        times[name].append(time.perf_counter() - start)
        during_fit += fit_in_flight() == running  # the callback began and ended inside one fit

    for k in range(n_rounds):
        timed("label", lambda: click_true_label(labeler, y_pool))
        timed("undo", labeler.undo_button.click)
        timed("skip", labeler.skip_button.click)
        timed("strategy switch", lambda k=k: setattr(labeler.strategy, "value", strategies[k % len(strategies)]))
        timed("label", lambda: click_true_label(labeler, y_pool))
        start = time.perf_counter()
        timed("label", lambda: click_true_label(labeler, y_pool))
        before = labeler._plots[0]["image"].value
        labeler.wait(120)
        if labeler._plots[0]["image"].value == before:
            raise RuntimeError("the plot did not change after the model caught up")
        fresh_plot.append(time.perf_counter() - start)
    if labeler.errors:
        raise RuntimeError(f"the labeler reported errors: {labeler.errors}")
    if session.snapshot.label_dict() != session.labels:
        raise RuntimeError("the model does not know exactly the recorded labels")
    labeler.close()
    ms = lambda values, q: float(np.percentile(np.asarray(values) * 1000, q))  # noqa: E731
    out = {name: (ms(v, 50), ms(v, 95), len(v)) for name, v in times.items()}
    out["plots show the new model"] = (ms(fresh_plot, 50), ms(fresh_plot, 95), len(fresh_plot))
    out["_during_fit"] = during_fit
    out["_callbacks"] = sum(len(v) for v in times.values())
    return out


def measure_ranking(n_pool: int, candidates: int | None, repeats: int = 3) -> float:
    """Median seconds of one re-ranking of the pool (margin) with a fitted model."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_pool, N_FEATURES)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    session = alw.Session(LogisticRegression(max_iter=300), X, "margin", random_state=0, candidates=candidates,
                          item_ids=np.arange(n_pool).astype(str))
    session.teach(list(range(50)), list(y[:50]))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.update(rerank=True)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None,
                        help="folder (default benchmarks/results; a temporary folder for a partial run)")
    parser.add_argument("--slow-rounds", type=int, default=8, help="rounds of label/undo/skip/switch (0: none)")
    parser.add_argument("--rank-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)
    args.out = _output.folder(parser, args.out, "latency", partial=_output.changed(
        parser, args, ("sizes", "clicks", "slow_rounds", "rank_sizes")))

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

    slow = None
    if args.slow_rounds:
        print(f"slow model ({SLOW_FIT_SECONDS} s fits), {args.slow_rounds} rounds", flush=True)
        slow = measure_slow(args.slow_rounds)
        for name, value in slow.items():
            if not name.startswith("_"):
                print(f"  {name:<26} p50 {value[0]:8.1f} ms  p95 {value[1]:8.1f} ms  ({value[2]} times)", flush=True)
    ranking = []
    for n_pool in args.rank_sizes:
        for candidates in (None, 1000):
            seconds = measure_ranking(n_pool, candidates)
            ranking.append({"pool_size": n_pool, "candidates": candidates, "seconds": seconds})
            print(f"ranking {n_pool:>9,} items, candidates={candidates}: {1000 * seconds:8.1f} ms", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "latency.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()})
    (args.out / "latency.md").write_text(markdown(rows, argv if argv is not None else sys.argv[1:], slow, ranking))
    print(f"wrote {args.out / 'latency.csv'} and {args.out / 'latency.md'}")
    return 0


def markdown(rows: list[dict], argv: list[str], slow: dict | None = None, ranking: list[dict] = ()) -> str:
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
    if slow:
        lines += [
            "",
            f"## While a {SLOW_FIT_SECONDS} s fit runs",
            "",
            f"A model whose fit takes {SLOW_FIT_SECONDS} s (LogisticRegression padded with a sleep), pool of 2,000. "
            "Each callback is pressed while a fit runs (a label click starts one when none does), and "
            f"{slow['_during_fit']} of the {slow['_callbacks']} callbacks began and ended inside that same fit. "
            "\"Plots show the new model\" is the time from the last label of a round, pressed during a fit, until "
            "the learning curve shows a model that knows it.",
            "",
            "| callback | p50 (ms) | p95 (ms) | times |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [f"| {name} | {v[0]:.1f} | {v[1]:.1f} | {v[2]} |" for name, v in slow.items()
                  if not name.startswith("_")]
    if ranking:
        lines += [
            "",
            "## Ranking the pool, whole or a candidate subsample",
            "",
            "One re-ranking with margin sampling (median of 3), LogisticRegression, 50 features.",
            "",
            "| pool | ranked | ms |",
            "| ---: | --- | ---: |",
        ]
        for r in ranking:
            ranked = "whole pool" if r["candidates"] is None else f"{r['candidates']:,} candidates"
            lines.append(f"| {r['pool_size']:,} | {ranked} | {1000 * r['seconds']:.1f} |")
    lines += [
        "",
        "`worker`: the Labeler as shipped (the click records the label and shows the next item from the latest "
        "ranking; a worker thread refits, re-ranks and redraws). `worker, rapid`: the next click comes at once, "
        "while the worker is still busy; its \"plots updated\" is the time the worker needs to catch up after the "
        "last click. `naive`: `Labeler(sync=True)`, teach + query + redraw inside the click handler.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} when the "
        "run ended; other jobs on the CPUs slow the model updates more than the clicks), "
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
