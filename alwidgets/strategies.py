"""Query strategies: which unlabeled items a person should label next.

Every strategy has modAL's form, ``strategy(learner, X, n_instances=1)``, and
returns ``(indices, scores)``: the positions in ``X`` to ask, best first, and a
score for every row of ``X`` (higher means more wanted; NaN where a strategy
did not score a row). Returning a pair means modAL's ``learner.query`` calls it
once, and it means a widget can show why an item was chosen.

A strategy is registered under a name; the widgets offer
:func:`available` in a dropdown::

    >>> import alwidgets as alw
    >>> alw.strategies.available()            # every name
    >>> alw.strategies.available(learner)     # the names valid for this learner
    >>> idx, scores = alw.strategies.get("margin")(learner, X_pool, n_instances=5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from modAL.disagreement import KL_max_disagreement, consensus_entropy, vote_entropy
from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty
from sklearn.base import clone
from sklearn.metrics.pairwise import cosine_similarity, euclidean_distances
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from . import _learners
from ._learners import take_rows
from ._validation import n_rows

__all__ = ["Strategy", "available", "get", "register", "features", "top_n"]

CLASSIFICATION = "classification"
REGRESSION = "regression"
ANY = "any"


@dataclass(frozen=True)
class Strategy:
    """A named query strategy with what it needs from the learner."""

    name: str
    function: Callable
    task: str = CLASSIFICATION
    needs_committee: bool = False
    batch_aware: bool = False

    @property
    def description(self) -> str:
        """The first line of the function's docstring: what the strategy prefers."""
        return (self.function.__doc__ or "").strip().splitlines()[0]

    def check(self, learner) -> None:
        """Raise ``ValueError`` if this strategy cannot run on ``learner``."""
        problem = self.problem(learner)
        if problem:
            raise ValueError(problem)

    def problem(self, learner) -> str | None:
        """Why this strategy cannot run on ``learner``, or None."""
        committee = _learners.is_committee(learner)
        kind = _describe(learner)
        if self.needs_committee and not committee:
            return (
                f"strategy {self.name!r} measures disagreement between committee members, but the "
                f"model is a single learner ({kind}); pass a modAL Committee, e.g. "
                "alw.make_committee(LogisticRegression(), n_members=5), or use 'margin' or 'entropy'"
            )
        if self.task == CLASSIFICATION and not _learners.learner_is_classifier(learner):
            return (
                f"strategy {self.name!r} is for classifiers, but {kind} is a regressor; "
                "use 'max_std' or 'random'"
            )
        if self.task == REGRESSION and not _learners.learner_is_regressor(learner):
            return (
                f"strategy {self.name!r} is for regressors (it ranks by predictive standard "
                f"deviation), but {kind} is a classifier; use 'margin', 'entropy' or 'least_confident'"
            )
        if self.task == CLASSIFICATION and not committee and not hasattr(learner.estimator, "predict_proba"):
            return (
                f"strategy {self.name!r} needs class probabilities, but {kind} has no predict_proba; "
                "use an estimator with predict_proba (LogisticRegression, or CalibratedClassifierCV(SVC())), "
                "or strategy='random'"
            )
        if self.name == "max_std" and not committee and not _accepts_return_std(learner.estimator):
            return (
                f"strategy 'max_std' needs a predictive standard deviation, but {kind}.predict has no "
                "return_std; use GaussianProcessRegressor, or a committee from alw.make_committee"
            )
        if self.needs_single_estimator and committee:
            return f"strategy {self.name!r} refits a single estimator; pass one estimator, not a committee"
        return None

    @property
    def needs_single_estimator(self) -> bool:
        return self.name == "expected_error_reduction"

    def __call__(self, learner, X, n_instances: int = 1, **kwargs):
        self.check(learner)
        if n_instances < 1:
            raise ValueError(f"n_instances must be at least 1; got {n_instances}")
        n_instances = min(int(n_instances), n_rows(X))
        indices, scores = self.function(learner, X, n_instances, **kwargs)
        return np.asarray(indices, dtype=int), np.asarray(scores, dtype=float)


_REGISTRY: dict[str, Strategy] = {}


def register(name: str, *, task: str = CLASSIFICATION, committee: bool = False, batch: bool = False):
    """Decorator that adds a function to the registry under ``name``."""

    def decorate(function):
        _REGISTRY[name] = Strategy(name, function, task, committee, batch)
        return function

    return decorate


def get(name) -> Strategy:
    """The strategy registered as ``name`` (a Strategy passes through)."""
    if isinstance(name, Strategy):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown strategy {name!r}; available strategies: {', '.join(available())}"
        ) from None


def available(learner=None) -> list[str]:
    """Names of registered strategies; with a learner, only those that can run on it."""
    if learner is None:
        return list(_REGISTRY)
    return [name for name, s in _REGISTRY.items() if s.problem(learner) is None]


# ----------------------------------------------------------------- helpers




def _describe(learner) -> str:
    if _learners.is_committee(learner):
        return type(learner).__name__
    return type(learner.estimator).__name__


def _accepts_return_std(estimator) -> bool:
    import inspect

    try:
        return "return_std" in inspect.signature(estimator.predict).parameters
    except (TypeError, ValueError):
        return False


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` highest scores, best first; NaN ranks last, ties by position."""
    scores = np.where(np.isnan(scores), -np.inf, scores)
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def features(learner, X) -> np.ndarray:
    """The feature space a strategy measures distances in.

    For a scikit-learn ``Pipeline`` this is the output of every step but the
    last (TF-IDF vectors for a text pipeline); otherwise the rows of ``X`` as
    floats. Committees use their first member's estimator.
    """
    estimator = _learners.members(learner)[0].estimator
    estimator = getattr(estimator, "estimator_", estimator)  # a bagged committee member
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        Z = estimator[:-1].transform(X)
    else:
        Z = X
    if hasattr(Z, "toarray") and not hasattr(Z, "iloc"):
        return Z  # sparse stays sparse: scikit-learn's distances accept it
    Z = np.asarray(Z, dtype=float)
    return Z.reshape(Z.shape[0], -1)


def _proba(learner, X) -> np.ndarray:
    return np.asarray(learner.predict_proba(X))


# ----------------------------------------------------------------- baseline


@register("random", task=ANY)
def random_sampling(learner, X, n_instances=1, random_state=None):
    """Prefers nothing: every unlabeled item is equally likely (the baseline)."""
    scores = check_random_state(random_state).random_sample(n_rows(X))
    return top_n(scores, n_instances), scores


# ----------------------------------------------------------------- uncertainty


@register("least_confident")
def least_confident(learner, X, n_instances=1, random_state=None):
    """Prefers items whose most likely class has the lowest probability."""
    scores = classifier_uncertainty(learner, X)
    return top_n(scores, n_instances), scores


@register("margin")
def margin(learner, X, n_instances=1, random_state=None):
    """Prefers items whose two most likely classes are closest in probability."""
    scores = 1.0 - classifier_margin(learner, X)
    return top_n(scores, n_instances), scores


@register("entropy")
def entropy(learner, X, n_instances=1, random_state=None):
    """Prefers items whose predicted class distribution has the highest entropy."""
    scores = classifier_entropy(learner, X)
    return top_n(scores, n_instances), scores


# ----------------------------------------------------------------- query by committee


@register("vote_entropy", committee=True)
def vote_entropy_sampling(learner, X, n_instances=1, random_state=None):
    """Prefers items whose committee members vote for the most different classes."""
    scores = vote_entropy(learner, X)
    return top_n(scores, n_instances), scores


@register("consensus_entropy", committee=True)
def consensus_entropy_sampling(learner, X, n_instances=1, random_state=None):
    """Prefers items whose averaged committee prediction has the highest entropy."""
    scores = consensus_entropy(learner, X)
    return top_n(scores, n_instances), scores


@register("max_disagreement", committee=True)
def max_disagreement(learner, X, n_instances=1, random_state=None):
    """Prefers items where one member's prediction diverges most (KL) from the consensus."""
    scores = KL_max_disagreement(learner, X)
    return top_n(scores, n_instances), scores


# ----------------------------------------------------------------- expected error reduction

EER_CANDIDATES = 16
EER_EVALUATION = 300
EER_MAX_CLASSES = 3


@register("expected_error_reduction")
def expected_error_reduction(
    learner,
    X,
    n_instances=1,
    random_state=None,
    n_candidates: int = EER_CANDIDATES,
    n_evaluation: int = EER_EVALUATION,
    probability_mass: float = 0.95,
    max_classes: int = EER_MAX_CLASSES,
):
    """Prefers items whose label is expected to most reduce the error on the rest of the pool.

    Costly by nature: for each candidate and each likely class it refits the
    model. To keep one query under a second on the digits pool it scores only
    ``n_candidates`` (default 16) rows drawn at random, tries only the most
    likely classes covering ``probability_mass`` (default 95%) of the candidate's
    predicted probability, at most ``max_classes`` (default 3) of them, and
    measures the expected 0/1 loss on ``n_evaluation`` (default 300) random pool
    rows. That is at most 48 refits per query. Unscored rows get NaN.
    """
    rng = check_random_state(random_state)
    n = n_rows(X)
    candidates = rng.choice(n, size=min(n, max(n_candidates, n_instances)), replace=False)
    evaluation = take_rows(X, rng.choice(n, size=min(n, n_evaluation), replace=False))
    X_known, y_known = _learners.training_data(learner)
    classes = _learners.proba_classes(learner)
    proba = _proba(learner, take_rows(X, candidates))
    scores = np.full(n, np.nan)
    from ._compat import data_vstack

    for pool_idx, p in zip(candidates, proba, strict=True):
        order = np.argsort(-p)
        n_keep = int(np.searchsorted(np.cumsum(p[order]), probability_mass) + 1)
        keep = order[: max(1, min(n_keep, max_classes))]
        x = take_rows(X, [pool_idx])
        expected = 0.0
        for k in keep:
            model = clone(learner.estimator)
            model.fit(data_vstack([X_known, x]), np.concatenate([np.asarray(y_known), [classes[k]]]))
            expected += p[k] * np.mean(1.0 - model.predict_proba(evaluation).max(axis=1))
        scores[pool_idx] = -expected / p[keep].sum()
    return top_n(scores, n_instances), scores


# ----------------------------------------------------------------- density and diversity

DENSITY_REFERENCE = 1000


@register("information_density")
def information_density(learner, X, n_instances=1, random_state=None, beta: float = 1.0):
    """Prefers uncertain items in dense regions (entropy x mean similarity to the pool), not outliers.

    Density is the mean cosine similarity to up to 1,000 pool rows drawn at random,
    so the cost stays linear in the pool size.
    """
    rng = check_random_state(random_state)
    Z = features(learner, X)
    n = Z.shape[0]
    reference = Z[rng.choice(n, size=min(n, DENSITY_REFERENCE), replace=False)]
    density = np.clip(cosine_similarity(Z, reference).mean(axis=1), 0.0, None)
    scores = classifier_entropy(learner, X) * density**beta
    return top_n(scores, n_instances), scores


@register("ranked_batch", batch=True)
def ranked_batch(learner, X, n_instances=1, random_state=None):
    """Prefers uncertain items far from those already labeled or chosen: diverse batches.

    Ranked batch-mode sampling (Cardoso et al., 2017): each pick maximises
    ``alpha * (1 - similarity to the labeled set) + (1 - alpha) * uncertainty`` with
    ``alpha = n_unlabeled / (n_unlabeled + n_labeled)``, then joins the labeled set.
    """
    uncertainty = classifier_uncertainty(learner, X)
    Z = features(learner, X)
    n = Z.shape[0]
    X_known, _ = _learners.training_data(learner)
    if X_known is not None and n_rows(X_known) > 0:
        nearest = euclidean_distances(Z, features(learner, X_known)).min(axis=1)
        n_labeled = n_rows(X_known)
    else:
        nearest = np.full(n, np.inf)
        n_labeled = 0
    chosen: list[int] = []
    available_rows = np.ones(n, dtype=bool)
    first_scores = None
    for _ in range(n_instances):
        alpha = n / (n + n_labeled + len(chosen))
        similarity = np.where(np.isinf(nearest), 0.0, 1.0 / (1.0 + nearest))
        scores = alpha * (1.0 - similarity) + (1.0 - alpha) * uncertainty
        if first_scores is None:
            first_scores = scores.copy()
        scores[~available_rows] = -np.inf
        pick = int(np.argmax(scores))
        chosen.append(pick)
        available_rows[pick] = False
        nearest = np.minimum(nearest, euclidean_distances(Z, Z[pick : pick + 1]).ravel())
    return np.array(chosen), first_scores


# ----------------------------------------------------------------- regression


@register("max_std", task=REGRESSION)
def max_std(learner, X, n_instances=1, random_state=None):
    """Prefers items where the regressor's predictive standard deviation is largest (variance reduction)."""
    _, std = learner.predict(X, return_std=True)
    scores = np.asarray(std, dtype=float).reshape(n_rows(X), -1).mean(axis=1)
    return top_n(scores, n_instances), scores


from . import diversity, transfer  # noqa: E402,F401  (they register more strategies)
