"""When does the stabilizing-predictions signal say "stop", and what does stopping there cost?

    python benchmarks/stopping.py            # full: 5 seeds, margin and random, the three scenarios
    python benchmarks/stopping.py --jobs 2   # the same, two runs at a time
    python benchmarks/stopping.py --quick    # tiny: proves it runs

The scenarios are those of ``benchmarks/label_efficiency.py`` (imported, not
copied): digits, MNIST 5,000 and MNIST "3 vs not 3", the same LogisticRegression
(C=0.1) on standardized features, the same 2 seed labels per class and batch
sizes. Each run drives an :class:`alwidgets.Session` with its public API
(``teach`` for the seed labels, then ``simulate`` one batch at a time) and,
after every model update, feeds the new model's predictions on the stop set to
:class:`alwidgets.engine.stopping.StabilizingPredictions` (stop set of up to 2,000
unlabeled pool items drawn once, Cohen's kappa, threshold 0.99, window 3: the
article's defaults). No held-out label is used by the signal; the held-out
test set only measures what stopping costs.

Two settings are followed in the same run, on the same stop set: the
article's defaults (kappa >= 0.99 for 3 updates) and a more conservative one
(kappa >= 0.995 for 5 updates), to show how the user-adjustable threshold
trades labels for score. A run goes on until every setting has fired and the
scenario's fixed budget (150 labels on digits, 400 on the MNIST tasks) is
reached, or two thirds of the pool are labeled (a signal that has not fired by
then misses the target anyway), or the pool runs out. Reported, per scenario,
strategy and setting (mean over seeds, and every run):

- the labels at which the signal fired (seed labels included);
- the held-out score there, against the score at the full budget (the whole
  pool labeled: the same model trained on every pool item, which is where the
  loop ends), and against stopping at the fixed budget;
- the labels saved against the fixed budget of the whole pool.

Target (issue 13): fire within 2 points of the full-budget score while saving
at least a third of the whole pool's labels, on most scenarios.

Writes ``stopping.csv`` (every update of every run), ``stopping_runs.csv`` (one
row per run and setting), ``stopping.json`` (how it ran) and ``stopping.md``
(the tables and the command) into ``--out`` (default ``benchmarks/results``; a
quick or partial run writes into a temporary folder unless ``--out`` is given, and
a quick one never into ``benchmarks/results``: see ``benchmarks/_output.py``);
``--report-only`` re-writes the tables from the CSV without running anything.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core per run

import argparse  # noqa: E402
import json  # noqa: E402
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
import label_efficiency as bench  # noqa: E402  (the scenarios, data preparation, model and seed labels)

import alwidgets as alw  # noqa: E402
from alwidgets import experiments  # noqa: E402
from alwidgets.engine.stopping import StabilizingPredictions  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
STRATEGIES = ("margin", "random")
STOP_SET_SIZE = 2000
SETTINGS = ((0.99, 3), (0.995, 5))  # (threshold, window): the article's defaults first, then a conservative one
POINTS = 0.02  # "within 2 points" of the full-budget score
SAVING = 1 / 3  # "saving at least a third" of the whole pool's labels


def setting_name(threshold: float, window: int) -> str:
    return f"kappa >= {threshold:g} for {window}"


def run(scenario, strategy: str, seed: int) -> list[dict]:
    """One run: the learning curve with each setting's stop flag after every model update."""
    d = scenario.data
    rng = np.random.RandomState(seed)
    session = alw.Session(bench.model(), d["X_pool"], strategy=strategy, random_state=seed,
                          item_ids=[str(i) for i in range(len(d["y_pool"]))])
    stoppers = [StabilizingPredictions(stop_set_size=STOP_SET_SIZE, threshold=threshold, window=window,
                                       random_state=seed) for threshold, window in SETTINGS]
    seeds = bench.seed_labels(d["y_pool"], scenario.seeds_per_class, rng)
    session.teach(list(seeds), list(d["y_pool"][seeds]))
    for stopper in stoppers:
        stopper.choose_stop_set(session.unlabeled)  # the same seed and candidates: the same stop set
    X_stop = stoppers[0].stop_rows(d["X_pool"])
    cap = int(np.ceil(len(d["y_pool"]) * (1 - SAVING)))
    start = time.perf_counter()
    rows = []
    while True:
        predictions = session.learner.predict(X_stop)
        statuses = [stopper.update(predictions, version=session.model_version) for stopper in stoppers]
        scores = bench.measure(scenario, session.learner.predict(d["X_test"]), d["y_test"])
        rows.append({"scenario": scenario.name, "strategy": strategy, "seed": seed, "n_labels": session.n_labeled,
                     **scores, "kappa": statuses[0]["agreement"],
                     **{setting_name(*setting): status["stop"] for setting, status in zip(SETTINGS, statuses,
                                                                                          strict=True)},
                     "seconds": time.perf_counter() - start})
        every_fired = all(any(r[setting_name(*setting)] for r in rows) for setting in SETTINGS)
        if (every_fired and session.n_labeled >= scenario.budget) or session.n_labeled >= cap \
                or len(session.unlabeled) == 0:
            return rows
        session.simulate(d["y_pool"], n_queries=scenario.batch, batch_size=scenario.batch)


# ---------------------------------------------------------------------- analysis


def per_run(curves: pd.DataFrame, all_scenarios) -> pd.DataFrame:
    """One row per run and setting: where it fired, the scores there, at the fixed budget and at the full budget."""
    by_name = {s.name: s for s in all_scenarios}
    rows = []
    for (name, strategy, seed), curve in curves.groupby(["scenario", "strategy", "seed"], sort=False):
        scenario = by_name[name]
        curve = curve.sort_values("n_labels")
        n_pool = len(scenario.data["y_pool"])
        reached = curve[curve.n_labels >= scenario.budget]
        at_budget = reached.iloc[0] if len(reached) else curve.iloc[-1]
        primary = scenario.metrics[-1]  # F1 of the "3" class on the skewed task, accuracy elsewhere
        for setting in SETTINGS:
            fired = curve[curve[setting_name(*setting)].astype(bool)]
            at_stop = fired.iloc[0] if len(fired) else None
            row = {"scenario": name, "strategy": strategy, "seed": seed, "setting": setting_name(*setting),
                   "pool": n_pool, "ran_to": int(curve.n_labels.iloc[-1]), "fixed_budget": scenario.budget,
                   "budget_labels": int(at_budget.n_labels), "primary": primary,
                   "stop_labels": np.nan if at_stop is None else int(at_stop.n_labels),
                   "saved_vs_pool": np.nan if at_stop is None else 1 - at_stop.n_labels / n_pool}
            for metric in scenario.metrics:
                full = scenario.data["full"][metric]
                row[f"{metric}_full"] = full
                row[f"{metric}_stop"] = np.nan if at_stop is None else float(at_stop[metric])
                row[f"{metric}_budget"] = float(at_budget[metric])
                row[f"{metric}_gap"] = np.nan if at_stop is None else full - float(at_stop[metric])
            row["met"] = bool(at_stop is not None and row[f"{primary}_gap"] <= POINTS + 1e-9
                              and row["saved_vs_pool"] >= SAVING)
            rows.append(row)
    return pd.DataFrame(rows)


def why_missed(part: pd.DataFrame) -> str:
    """Why the runs of one scenario, strategy and setting missed the target."""
    m = part.primary.iloc[0]
    reasons = []
    never = part.stop_labels.isna()
    if never.any():
        reasons.append(f"it had not fired by {part.ran_to[never].max()} labels (two thirds of the pool) in "
                       f"{int(never.sum())} run(s)")
    early = part[f"{m}_gap"] > POINTS + 1e-9
    if early.any():
        reasons.append(f"it fired more than {POINTS * 100:.0f} points below the full budget in {int(early.sum())} "
                       f"run(s) (by {_points(part[f'{m}_gap'][early].mean())} points on average, at "
                       f"{part.stop_labels[early].mean():.0f} labels)")
    return "; ".join(reasons)


def summary_table(runs: pd.DataFrame, all_scenarios, setting: str) -> list[str]:
    lines = [
        "| scenario | strategy | pool | labels at stop: mean (min-max) | saved vs whole pool | score at stop | "
        "full budget | points below full | fixed budget: labels, score | target met (runs) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario in all_scenarios:
        here = runs[(runs.scenario == scenario.name) & (runs.setting == setting)]
        for strategy in here.strategy.unique():
            part = here[here.strategy == strategy]
            m = part.primary.iloc[0]
            n_fired = int(part.stop_labels.notna().sum())
            fired = (f"{part.stop_labels.mean():.0f} ({part.stop_labels.min():.0f}-{part.stop_labels.max():.0f})"
                     if n_fired else "not by " + str(part.ran_to.max()))
            if 0 < n_fired < len(part):
                fired += f"; not by {part.ran_to[part.stop_labels.isna()].max()} in {len(part) - n_fired} run(s)"
            lines.append(
                f"| {scenario.title} | {strategy} | {part.pool.iloc[0]} | {fired} | "
                f"{_pct(part.saved_vs_pool.mean())} | {m} {_num(part[f'{m}_stop'].mean())} | "
                f"{part[f'{m}_full'].iloc[0]:.3f} | {_points(part[f'{m}_gap'].mean())} | "
                f"{part.budget_labels.iloc[0]}, {part[f'{m}_budget'].mean():.3f} | {int(part.met.sum())}/{len(part)} |")
    return lines


def to_markdown(runs: pd.DataFrame, all_scenarios, command: str, seeds: int, minutes: float, jobs: int) -> str:
    default, conservative = setting_name(*SETTINGS[0]), setting_name(*SETTINGS[1])
    lines = [
        "### When to stop: stabilizing predictions",
        "",
        f"`alwidgets.engine.stopping.StabilizingPredictions`: a stop set of up to {STOP_SET_SIZE:,} unlabeled pool items "
        "drawn once, Cohen's kappa between successive models' predictions on it, \"stop\" once kappa has been at "
        "or above a threshold for a window of consecutive model updates (Bloodgood & Vijay-Shanker, CoNLL 2009). "
        "The signal uses no held-out labels. Scenarios, model and seed labels are those of the label-efficiency "
        "benchmark (LogisticRegression C=0.1 on standardized features, 2 seed labels per class, batches of "
        + ", ".join(f"{s.batch} ({s.name})" for s in all_scenarios)
        + f"); {seeds} seeds per strategy; one model update per batch. \"Full budget\" is the whole pool labeled "
        "(the same model trained on every pool item, which is where the loop ends); \"fixed budget\" is the "
        "label-efficiency benchmark's budget. Scores are held-out (a fixed 25% test set); 1 point = 0.01. "
        "Judged on accuracy, and on the F1 of the \"3\" class for the skewed task.",
        "",
        f"Target: the signal fires within {POINTS * 100:.0f} points of the full-budget score while saving at least "
        "a third of the whole pool's labels.",
        "",
        f"**The article's defaults ({default} updates)**",
        "",
        *summary_table(runs, all_scenarios, default),
        "",
    ]
    base = runs[runs.setting == default]
    groups = base.groupby(["scenario", "strategy"], sort=False).met.mean()
    lines += [_tally(base), ""]
    missed = [(s, strategy) for (s, strategy), share in groups.items() if share <= 0.5]
    if missed:
        lines += ["Where it is not met:", ""]
        titles = {s.name: s.title for s in all_scenarios}
        for name, strategy in missed:
            part = base[(base.scenario == name) & (base.strategy == strategy)]
            lines.append(f"- {titles[name]}, {strategy}: {why_missed(part)}.")
        lines.append("")
    lines += [
        f"**A conservative setting ({conservative} updates)**, followed in the same runs on the same stop set:",
        "",
        *summary_table(runs, all_scenarios, conservative),
        "",
        _tally(runs[runs.setting == conservative]),
        "",
        "Every run (labels at which each setting fired; the score there; at the fixed budget; at the full budget):",
        "",
        f"| scenario | strategy | seed | {default}: labels, score | {conservative}: labels, score | fixed budget | "
        "full budget |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (name, strategy, seed), part in runs.groupby(["scenario", "strategy", "seed"], sort=False):
        first, second = part[part.setting == default].iloc[0], part[part.setting == conservative].iloc[0]
        m = first.primary
        lines.append(f"| {name} | {strategy} | {seed} | {_fired(first, m)} | {_fired(second, m)} | "
                     f"{first[f'{m}_budget']:.3f} | {first[f'{m}_full']:.3f} |")
    lines += ["", f"Reproduce: `{command}` (took {bench.duration(minutes)} here with `--jobs {jobs}` on a shared "
              "2-core machine). Every update of every run: `benchmarks/results/stopping.csv`; one row per run and "
              "setting: `benchmarks/results/stopping_runs.csv`.", ""]
    return "\n".join(lines)


def _tally(runs: pd.DataFrame) -> str:
    groups = runs.groupby(["scenario", "strategy"], sort=False).met.mean()
    return (f"Target met (in more than half of the runs) by {int((groups > 0.5).sum())} of {len(groups)} "
            f"scenario/strategy pairs, by {int(runs.met.sum())} of {len(runs)} runs.")


def _fired(row, metric: str) -> str:
    if pd.isna(row.stop_labels):
        return f"not by {row.ran_to}"
    return f"{row.stop_labels:.0f}, {row[f'{metric}_stop']:.3f}{'' if row.met else ' (missed)'}"


def _num(value) -> str:
    return "n/a" if pd.isna(value) else f"{value:.3f}"


def _points(gap) -> str:
    return "n/a" if pd.isna(gap) else f"{gap * 100:.1f}"


def _pct(value) -> str:
    return "n/a" if pd.isna(value) else f"{value:.0%}"


# ---------------------------------------------------------------------- main

_SCENARIOS: dict = {}  # prepared before any worker starts; forked workers inherit them


def _run_job(job: tuple[str, str, int]) -> list[dict]:
    name, strategy, seed = job
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return run(_SCENARIOS[name], strategy, seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick scenarios, 2 seeds: proves it runs")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per strategy (default 5; quick: 2)")
    parser.add_argument("--scenarios", nargs="*", default=None, help="only these scenarios (digits, mnist, ...)")
    parser.add_argument("--strategies", nargs="*", default=list(STRATEGIES), help="strategies (default: margin random)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the CSVs and the markdown (default benchmarks/results for a full run; a "
                             "temporary folder for a quick or partial one)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, one core each (default 1)")
    parser.add_argument("--report-only", action="store_true",
                        help="re-write the tables from the stopping.csv already in --out; run nothing")
    args = parser.parse_args(argv)
    if args.report_only:
        return report_only(args.quick, args.out or RESULTS)
    args.out = _output.folder(parser, args.out, "stopping", quick=args.quick,
                              partial=_output.changed(parser, args, ("seeds", "scenarios", "strategies")))
    n_seeds = args.seeds or (2 if args.quick else 5)
    if n_seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    chosen = bench.scenarios(args.quick)
    if args.scenarios:
        unknown = set(args.scenarios) - {s.name for s in chosen}
        if unknown:
            parser.error(f"unknown scenario(s) {sorted(unknown)}; choose from {[s.name for s in chosen]}")
        chosen = [s for s in chosen if s.name in args.scenarios]
    unknown = set(args.strategies) - set(alw.strategies.available())
    if unknown:
        parser.error(f"unknown strategy(ies) {sorted(unknown)}")

    command = "python benchmarks/stopping.py" + (" --quick" if args.quick else "")
    jobs = [(s.name, strategy, seed) for s in reversed(chosen) for strategy in args.strategies for seed in range(n_seeds)]
    print(f"{command}: {len(jobs)} runs over {len(chosen)} scenario(s), {args.jobs} process(es)", flush=True)
    began = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for scenario in chosen:
            bench.prepare(scenario)
            _SCENARIOS[scenario.name] = scenario
            full = ", ".join(f"{k} {v:.3f}" for k, v in scenario.data["full"].items())
            print(f"  {scenario.name}: pool {len(scenario.data['y_pool'])}, full budget {full}", flush=True)
    rows: list[dict] = []
    for k, curve in enumerate(experiments.run_jobs(_run_job, jobs, args.jobs), 1):
        rows += curve
        first = curve[0]
        fired = [next((r["n_labels"] for r in curve if r[setting_name(*setting)]), None) for setting in SETTINGS]
        print(f"[{k:>3}/{len(jobs)}] {first['scenario']:<17} {first['strategy']:<8} seed {first['seed']}: stop at "
              + ", ".join(f"{n if n else 'never'} ({setting_name(*setting)})" for n, setting in zip(fired, SETTINGS,
                                                                                                   strict=True))
              + f"; ran to {curve[-1]['n_labels']} ({(time.perf_counter() - began) / 60:.1f} min so far)", flush=True)
    curves = pd.DataFrame(rows)
    if "f1" not in curves:
        curves["f1"] = np.nan
    curves = curves[["scenario", "strategy", "seed", "n_labels", "accuracy", "f1", "kappa",
                     *(setting_name(*setting) for setting in SETTINGS), "seconds"]]
    args.out.mkdir(parents=True, exist_ok=True)
    curves.to_csv(args.out / "stopping.csv", index=False)
    run_info = {"command": command, "seeds": n_seeds, "jobs": args.jobs, "minutes": (time.perf_counter() - began) / 60}
    (args.out / "stopping.json").write_text(json.dumps(run_info, indent=2))
    report(curves, chosen, args.out, run_info)
    return 0


def report(curves: pd.DataFrame, chosen, out: Path, run_info: dict) -> None:
    """Write the per-run table and the markdown from the curves, runs in a stable order."""
    order = {s.name: k for k, s in enumerate(chosen)}
    curves = curves.sort_values(["scenario", "strategy", "seed", "n_labels"],
                                key=lambda c: c.map(order) if c.name == "scenario" else c, kind="stable")
    runs = per_run(curves, chosen)
    runs.to_csv(out / "stopping_runs.csv", index=False)
    text = to_markdown(runs, chosen, run_info["command"], run_info["seeds"], run_info["minutes"], run_info["jobs"])
    (out / "stopping.md").write_text(text)
    print()
    print(text)


def report_only(quick: bool, out: Path) -> int:
    """Re-write the tables from an earlier run's stopping.csv and stopping.json in ``out``, running nothing."""
    curves = pd.read_csv(out / "stopping.csv")
    run_info = json.loads((out / "stopping.json").read_text())
    chosen = [s for s in bench.scenarios(quick) if s.name in set(curves.scenario)]
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for scenario in chosen:
            bench.prepare(scenario)  # the full-budget scores
    report(curves, chosen, out, run_info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
