"""The measuring code of :mod:`alwidgets.experiments`: protocols, learning curves on a Session, running many.

:mod:`alwidgets.experiments` re-exports every public name of this module (see
its documentation); it is imported the first time one of them is used, so that
importing a light module of the package (``alwidgets.experiments.baseline``,
which a Labeler's live plots import) loads neither scikit-learn nor pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from alwidgets import strategies
from alwidgets._validation import check_choice, check_int
from alwidgets.datasets import split
from alwidgets.engine.session import Session
from alwidgets.experiments.curves import (
    Ratio,
    aubc,
    interpolated_labels_to_reach,
    labels_to_reach,
    ratio_at,
    score_at,
    smooth,
)
from alwidgets.strategies import min_max  # noqa: F401  (min_max registers "min_max_margin")

__all__ = [
    "Protocol",
    "TODAY",
    "ARTICLE",
    "ARTICLE_BUDGET_FRACTION",
    "RATIO_FRACTIONS",
    "make_model",
    "random_protocol",
    "prepare",
    "article_budget",
    "full_budget",
    "make_session",
    "learning_curve",
    "smooth",
    "labels_to_reach",
    "interpolated_labels_to_reach",
    "score_at",
    "Ratio",
    "ratio_at",
    "aubc",
    "run_jobs",
    "cpu_seconds",
]

MODELS = ("refit", "online")
REFIT_C = 0.1  # the LogisticRegression of benchmarks/label_efficiency.py
HIDDEN_UNITS = 128
LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Protocol:
    """How a strategy learns and chooses: the choices the MNIST article's protocol makes.

    Parameters
    ----------
    model : {"refit", "online"}
        ``"refit"``: LogisticRegression refitted on every label after each
        mini-batch. ``"online"``: a one-hidden-layer network taught only the
        new mini-batch (one gradient step per mini-batch of 10).
    candidates : int or None
        Rank only this many unlabeled items, drawn at random for every
        mini-batch; None ranks the whole unlabeled pool.
    strategy : str
        A registered strategy name, e.g. ``"least_confident"`` or ``"min_max_margin"``.
    batch : int
        Labels asked per mini-batch.
    """

    model: str = "refit"
    candidates: int | None = None
    strategy: str = "least_confident"
    batch: int = 10

    def __post_init__(self):
        check_choice(self.model, "model", MODELS)
        if self.candidates is not None:
            check_int(self.candidates, "candidates")
        check_int(self.batch, "batch")
        strategies.get(self.strategy)  # a clear error for an unknown name

    def with_(self, **changes) -> Protocol:
        """A copy with some choices changed."""
        return replace(self, **changes)

    def describe(self) -> str:
        """One line: 'online network, 1,000 random candidates, min_max_margin, mini-batches of 10'."""
        model = "online network (partial_fit per mini-batch)" if self.model == "online" else \
            "LogisticRegression refitted on all labels"
        pool = "whole unlabeled pool" if self.candidates is None else f"{self.candidates:,} random candidates"
        return f"{model}, {pool}, {self.strategy}, mini-batches of {self.batch}"


TODAY = Protocol("refit", None, "least_confident", 10)
"""alwidgets' usual setting: refit LogisticRegression, whole pool, least-confident."""

ARTICLE = Protocol("online", 1000, "min_max_margin", 10)
"""The article's setting: online network, 1,000 random candidates, top minus lowest probability."""

ARTICLE_BUDGET_FRACTION = 20_000 / 60_000
"""Random sampling's full budget in the article, as a share of its training set (20,000 of 60,000)."""
RATIO_FRACTIONS = (0.05, 0.1, 0.2, ARTICLE_BUDGET_FRACTION, 0.5, 0.75, 1.0)
"""Target budgets B of the ratio curve, as shares of the pool."""
TEST_SIZE = 0.25  # the share of the images held out for testing
REFIT_BUDGET_FRACTION = 0.4  # refit runs stop here (past the article's budget): refitting is what costs


def random_protocol(protocol: Protocol) -> Protocol:
    """Random sampling with the same model and mini-batches as ``protocol``: what it is measured against."""
    return protocol.with_(strategy="random", candidates=None)


def prepare(data, scale: int | None = None, test_size: float = TEST_SIZE) -> dict:
    """A data set as the MNIST experiment uses it: ``scale`` images, ``test_size`` held out, standardized.

    Keeps ``scale`` images (a stratified draw; None keeps all), splits off
    ``test_size`` of them for testing (stratified, ``random_state=0``: the same
    split for every seed), and standardizes the pixels with the pool's mean and
    spread (no labels used), as float32. Returns ``X_pool``, ``y_pool``,
    ``X_test``, ``y_test`` and ``n_images``.
    """
    if scale is not None:
        check_int(scale, "scale")
        if scale < len(data.y):
            data, _ = split(data, test_size=1 - scale / len(data.y), random_state=0)
    pool, test = split(data, test_size=test_size, random_state=0)
    scaler = StandardScaler().fit(pool.X)
    return {"X_pool": scaler.transform(pool.X).astype(np.float32), "y_pool": np.asarray(pool.y),
            "X_test": scaler.transform(test.X).astype(np.float32), "y_test": np.asarray(test.y),
            "n_images": len(data.y)}


def article_budget(n_pool: int) -> int:
    """The article's target budget B on a pool of ``n_pool``: a third of it, as 20,000 of 60,000."""
    return int(round(ARTICLE_BUDGET_FRACTION * n_pool))


def full_budget(protocol: Protocol, n_pool: int) -> int:
    """Labels a run of ``protocol`` gets: the whole pool online; 40% of it refitted, in whole mini-batches."""
    if protocol.model == "refit":
        return int(round(REFIT_BUDGET_FRACTION * n_pool / protocol.batch)) * protocol.batch
    return n_pool


def make_model(kind: str, random_state=None):
    """The model of a protocol: ``"refit"`` LogisticRegression or ``"online"`` MLPClassifier.

    The refit model has a tolerance of 1e-3 and :func:`make_session` runs it
    with ``Session(warm_start=True)``: each fresh clone starts from the last
    fit's coefficients. Every fit still uses every label so far and heads for
    the same optimum as a fit from scratch (the loss is strictly convex), in a
    fraction of the time. On MNIST (1,500 labels reached 10 at a time) its
    test predictions agreed with a default fit from scratch on 99.5% of the
    items, for half the CPU time of warm starts at the default tolerance; a
    fit from scratch at every mini-batch took 3.7 times the CPU time of the
    warm-started one.
    """
    check_choice(kind, "model", MODELS)
    if kind == "refit":
        return LogisticRegression(C=REFIT_C, max_iter=1000, tol=1e-3)
    seed = check_random_state(random_state).randint(2**31 - 1)
    return MLPClassifier(hidden_layer_sizes=(HIDDEN_UNITS,), learning_rate_init=LEARNING_RATE, random_state=seed)


def make_session(X_pool, protocol: Protocol, classes, random_state=None) -> Session:
    """A :class:`~alwidgets.engine.session.Session` that runs ``protocol`` on ``X_pool``.

    The Session does the loop: its ranking is a random order until the model
    can be fitted (no label yet, or a refit model that has seen one class
    only), ``candidates=`` draws the protocol's random subsample of the
    unlabeled pool at every update, and ``online=True`` teaches the online
    model each new mini-batch once with ``partial_fit``, and ``warm_start=True``
    starts each refit of the refit model from the last one's coefficients.
    Items are named by their position (no hashing of the rows).
    """
    rng = check_random_state(random_state)
    online = protocol.model == "online"
    return Session(make_model(protocol.model, rng), X_pool, strategy=protocol.strategy, random_state=rng,
                   classes=list(classes), candidates=protocol.candidates, online=online, warm_start=not online,
                   item_ids=[str(i) for i in range(len(X_pool))])


def learning_curve(X_pool, y_pool, X_test, y_test, protocol: Protocol, *, budget: int | None = None,
                   random_state=None, positive=None) -> pd.DataFrame:
    """Held-out scores after every mini-batch of one run of ``protocol``, on a Session (:func:`make_session`).

    The first mini-batch is drawn at random (the model knows nothing yet); so
    are the next ones while a refit model has seen one class only. Then the
    strategy chooses. The run stops after ``budget`` labels (default: the whole pool).

    Returns a DataFrame with ``n_labels``, ``accuracy`` and, when ``positive``
    is given, ``f1`` (the F1 score of that class).
    """
    X_pool, y_pool, y_test = np.asarray(X_pool), np.asarray(y_pool), np.asarray(y_test)
    if len(X_pool) != len(y_pool):
        raise ValueError(f"X_pool has {len(X_pool)} rows but y_pool has {len(y_pool)} labels")
    budget = len(y_pool) if budget is None else min(check_int(budget, "budget"), len(y_pool))
    classes = np.unique(np.concatenate([y_pool, y_test]))
    session = make_session(X_pool, protocol, classes, random_state)
    rows = []
    while session.n_labeled < budget:
        picks = session.query(min(protocol.batch, budget - session.n_labeled))
        if not picks:
            break
        session.teach(picks, list(y_pool[picks]))
        if not session.is_fitted:
            continue
        y_pred = session.learner.predict(X_test)
        row = {"n_labels": session.n_labeled, "accuracy": accuracy_score(y_test, y_pred)}
        if positive is not None:
            row["f1"] = f1_score(y_test, y_pred, pos_label=positive, zero_division=0.0)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- running many


def run_jobs(function, jobs, n_processes: int = 1):
    """Yield ``function(job)`` for every job as it finishes: in this process, or in forked workers.

    Forked workers inherit the parent's memory, so data prepared before the
    call is not copied per job. Results come in the order they finish.
    """
    n_processes = check_int(n_processes, "n_processes")
    if n_processes == 1:
        for job in jobs:
            yield function(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(n_processes, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(function, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes, in seconds."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
