"""Query strategies: which unlabeled items a person should label next.

Each strategy is a utility *measure* (``measure(learner, X, random_state=None)
-> scores``, higher means more wanted) and a *selector* (the top scores, or a
diverse batch), registered under a name in :mod:`alwidgets.strategies._registry`. Calling
a strategy gives modAL's form, ``strategy(learner, X, n_instances=1) ->
(indices, scores)``: the positions in ``X`` to ask, best first, and a score for
every row of ``X`` (NaN where a row was not scored). Returning a pair means
modAL's ``learner.query`` calls it once, and a widget can show why an item was
chosen. The widgets offer :func:`available` in a dropdown::

    >>> import alwidgets as alw
    >>> alw.strategies.available()            # every name
    >>> alw.strategies.available(learner)     # the names valid for this learner
    >>> idx, scores = alw.strategies.get("margin")(learner, X_pool, n_instances=5)
    >>> scores = alw.strategies.get("margin").scores(learner, X_pool)   # the measure alone
"""

from __future__ import annotations

import numpy as np
from modAL.disagreement import KL_max_disagreement, consensus_entropy, vote_entropy
from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty
from sklearn.base import clone
from sklearn.metrics.pairwise import cosine_similarity, euclidean_distances
from sklearn.utils import check_random_state

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import n_rows
from alwidgets.strategies._registry import REQUIREMENTS, Strategy, available, features, get, register, top_n, unregister

__all__ = ["Strategy", "available", "get", "register", "unregister", "features", "top_n", "REQUIREMENTS"]

CLASSIFIER = ("classifier", "proba")


# ----------------------------------------------------------------- baseline


def random_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers nothing: every unlabeled item is equally likely (the baseline)."""
    return check_random_state(random_state).random_sample(n_rows(X))


# ----------------------------------------------------------------- uncertainty


def least_confident(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose most likely class has the lowest probability."""
    return classifier_uncertainty(learner, X)


def margin(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose two most likely classes are closest in probability."""
    return 1.0 - classifier_margin(learner, X)


def entropy(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose predicted class distribution has the highest entropy."""
    return classifier_entropy(learner, X)


# ----------------------------------------------------------------- query by committee


def vote_entropy_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose committee members vote for the most different classes."""
    return vote_entropy(learner, X)


def consensus_entropy_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose averaged committee prediction has the highest entropy."""
    return consensus_entropy(learner, X)


def max_disagreement(learner, X, random_state=None) -> np.ndarray:
    """Prefers items where one member's prediction diverges most (KL) from the consensus."""
    return KL_max_disagreement(learner, X)


# ----------------------------------------------------------------- expected error reduction

EER_CANDIDATES = 16
EER_EVALUATION = 300
EER_MAX_CLASSES = 3


def expected_error_reduction(
    learner,
    X,
    random_state=None,
    n_candidates: int = EER_CANDIDATES,
    n_evaluation: int = EER_EVALUATION,
    probability_mass: float = 0.95,
    max_classes: int = EER_MAX_CLASSES,
) -> np.ndarray:
    """Prefers items whose label is expected to most reduce the error on the rest of the pool.

    Costly by nature: for each candidate and each likely class it refits the
    model. To keep one query under a second on the digits pool it scores only
    ``n_candidates`` (default 16) rows drawn at random, tries only the most
    likely classes covering ``probability_mass`` (default 95%) of the candidate's
    predicted probability, at most ``max_classes`` (default 3) of them, and
    measures the expected 0/1 loss on ``n_evaluation`` (default 300) random pool
    rows. That is at most 48 refits per query. Unscored rows get NaN (and are
    asked last).
    """
    from alwidgets._compat import data_vstack

    rng = check_random_state(random_state)
    n = n_rows(X)
    candidates = rng.choice(n, size=min(n, n_candidates), replace=False)
    evaluation = take_rows(X, rng.choice(n, size=min(n, n_evaluation), replace=False))
    X_known, y_known = _learners.training_data(learner)
    classes = _learners.proba_classes(learner)
    proba = np.asarray(learner.predict_proba(take_rows(X, candidates)))
    scores = np.full(n, np.nan)
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
    return scores


# ----------------------------------------------------------------- density and diversity

DENSITY_REFERENCE = 1000


def information_density(learner, X, random_state=None, beta: float = 1.0) -> np.ndarray:
    """Prefers uncertain items in dense regions (entropy x mean similarity to the pool), not outliers.

    Density is the mean cosine similarity to up to 1,000 pool rows drawn at random,
    so the cost stays linear in the pool size.
    """
    rng = check_random_state(random_state)
    Z = features(learner, X)
    n = Z.shape[0]
    reference = Z[rng.choice(n, size=min(n, DENSITY_REFERENCE), replace=False)]
    density = np.clip(cosine_similarity(Z, reference).mean(axis=1), 0.0, None)
    return classifier_entropy(learner, X) * density**beta


def _ranked_batch_state(learner, X):
    """Uncertainty, features and distance to the nearest labeled item: what ranked batch needs."""
    uncertainty = classifier_uncertainty(learner, X)
    Z = features(learner, X)
    X_known, _ = _learners.training_data(learner)
    if X_known is not None and n_rows(X_known) > 0:
        return uncertainty, Z, euclidean_distances(Z, features(learner, X_known)).min(axis=1), n_rows(X_known)
    return uncertainty, Z, np.full(Z.shape[0], np.inf), 0


def _ranked_batch_scores(uncertainty, nearest, n_labeled: int) -> np.ndarray:
    n = len(uncertainty)
    alpha = n / (n + n_labeled)
    similarity = np.where(np.isinf(nearest), 0.0, 1.0 / (1.0 + nearest))
    return alpha * (1.0 - similarity) + (1.0 - alpha) * uncertainty


def ranked_batch_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers uncertain items far from those already labeled (the first pick of a ranked batch)."""
    uncertainty, _, nearest, n_labeled = _ranked_batch_state(learner, X)
    return _ranked_batch_scores(uncertainty, nearest, n_labeled)


def ranked_batch(scores, n, *, learner, X, random_state=None) -> np.ndarray:
    """Prefers uncertain items far from those already labeled or chosen: diverse batches.

    Ranked batch-mode sampling (Cardoso et al., 2017): each pick maximises
    ``alpha * (1 - similarity to the labeled set) + (1 - alpha) * uncertainty`` with
    ``alpha = n_unlabeled / (n_unlabeled + n_labeled)``, then joins the labeled set.
    """
    uncertainty, Z, nearest, n_labeled = _ranked_batch_state(learner, X)
    chosen: list[int] = []
    for _ in range(n):
        current = _ranked_batch_scores(uncertainty, nearest, n_labeled + len(chosen))
        current[chosen] = -np.inf
        pick = int(np.argmax(current))
        chosen.append(pick)
        nearest = np.minimum(nearest, euclidean_distances(Z, Z[pick : pick + 1]).ravel())
    return np.array(chosen, dtype=int)


# ----------------------------------------------------------------- regression


def max_std(learner, X, random_state=None) -> np.ndarray:
    """Prefers items where the regressor's predictive standard deviation is largest (variance reduction)."""
    _, std = learner.predict(X, return_std=True)
    return np.asarray(std, dtype=float).reshape(n_rows(X), -1).mean(axis=1)


# ----------------------------------------------------------------- the registry, in dropdown order

register("random", random_scores)
register("least_confident", least_confident, requires=CLASSIFIER)
register("margin", margin, requires=CLASSIFIER)
register("entropy", entropy, requires=CLASSIFIER)
register("vote_entropy", vote_entropy_scores, requires=("committee", "classifier"))
register("consensus_entropy", consensus_entropy_scores, requires=("committee", "classifier"))
register("max_disagreement", max_disagreement, requires=("committee", "classifier"))
register("expected_error_reduction", expected_error_reduction, requires=(*CLASSIFIER, "single_estimator"))
register("information_density", information_density, requires=CLASSIFIER)
register("ranked_batch", ranked_batch_scores, select=ranked_batch, requires=CLASSIFIER)
register("max_std", max_std, requires=("regressor", "return_std"))

from alwidgets.strategies import diversity, min_max, multilabel, transfer  # noqa: E402,F401  (they register more strategies)
from alwidgets.strategies.multilabel import MULTI_LABEL_DEFAULTS  # noqa: E402,F401
