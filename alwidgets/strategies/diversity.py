"""Diversity and representativeness: batches that cover the pool, not one corner of it.

Uncertainty sampling asks for a batch of the ten most uncertain items, and
those are often ten near-copies from the same confusing region. The two
strategies here look at where items lie in the model's feature space
(:func:`alwidgets.strategies.features`: the rows as the model's last step sees
them, e.g. TF-IDF vectors after a text pipeline):

- ``cluster_diversity`` clusters the unlabeled pool with k-means (one cluster
  per item wanted) and asks the most uncertain item of each cluster.
- ``representative`` asks items that are typical of the pool and unlike
  anything labeled so far; it needs no probabilities, so it works for
  regressors too.

Cost: one k-means run (``n_init=1``) or one pass of kernel similarities to at
most 1,000 reference rows; a batch of 10 on the digits pool takes a fraction of
a second (see ``benchmarks/strategy_cost.py``).
"""

from __future__ import annotations

import numpy as np
from modAL.uncertainty import classifier_margin
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_random_state

from alwidgets import _learners
from alwidgets._validation import n_rows
from alwidgets.strategies._registry import features, register, top_n

__all__ = ["cluster_diversity", "representative"]

N_REFERENCE = 1000  # pool rows that stand for "the whole pool" in density estimates
MINIBATCH_ABOVE = 20_000  # pools larger than this are clustered with MiniBatchKMeans


def margin_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers the most uncertain item (smallest margin) of each k-means cluster of the pool."""
    return 1.0 - classifier_margin(learner, X)


def cluster_diversity(scores, n, *, learner, X, random_state=None) -> np.ndarray:
    """Prefers the most uncertain item (smallest margin) of each k-means cluster of the pool.

    The pool is split into ``n`` clusters in the model's feature space, so
    each item of a batch comes from a different region. Picks are ordered by
    uncertainty; scores are ``1 - margin`` for every row. If k-means finds
    fewer distinct clusters (duplicate rows), the batch is topped up with the
    most uncertain items left.
    """
    if n == 1:
        return top_n(scores, 1)
    Z = features(learner, X)
    rng = check_random_state(random_state)
    from sklearn.cluster import KMeans, MiniBatchKMeans  # here: importing sklearn.cluster costs 0.3-0.5 s

    kind = MiniBatchKMeans if Z.shape[0] > MINIBATCH_ABOVE else KMeans
    clusters = kind(n_clusters=n, n_init=1, random_state=rng.randint(2**31 - 1)).fit_predict(Z)
    chosen = []
    for cluster in np.unique(clusters):
        members = np.flatnonzero(clusters == cluster)
        chosen.append(int(members[np.argmax(scores[members])]))
    if len(chosen) < n:
        rest = [int(i) for i in top_n(scores, len(scores)) if i not in set(chosen)]
        chosen += rest[: n - len(chosen)]
    chosen = np.array(chosen, dtype=int)
    return chosen[np.argsort(-scores[chosen], kind="stable")]


def _kernel(distances: np.ndarray, bandwidth: float) -> np.ndarray:
    return np.exp(-0.5 * (distances / bandwidth) ** 2)


def _representative_state(learner, X, random_state, n_reference: int = N_REFERENCE):
    """Features, density (densest row = 1), kernel width and similarity to the nearest labeled item."""
    rng = check_random_state(random_state)
    Z = features(learner, X)
    n = Z.shape[0]
    reference = Z[rng.choice(n, size=min(n, n_reference), replace=False)]
    to_reference = euclidean_distances(Z, reference)
    bandwidth = float(np.median(to_reference))
    if not np.isfinite(bandwidth) or bandwidth <= 0:
        bandwidth = 1.0  # every row alike: any width gives the same order
    density = _kernel(to_reference, bandwidth).mean(axis=1)
    density = density / density.max()
    X_known, _ = _learners.training_data(learner)
    nearest_labeled = np.zeros(n)
    if X_known is not None and n_rows(X_known) > 0:
        nearest_labeled = _kernel(euclidean_distances(Z, features(learner, X_known)), bandwidth).max(axis=1)
    return Z, density, bandwidth, nearest_labeled


def representative_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers items most similar to the whole pool and least similar to what is labeled."""
    _, density, _, nearest_labeled = _representative_state(learner, X, random_state)
    return density - nearest_labeled


def representative(scores, n, *, learner, X, random_state=None) -> np.ndarray:
    """Prefers items most similar to the whole pool and least similar to what is labeled (or already picked).

    Similarity is a Gaussian kernel on feature-space distance, with the median
    distance to the reference rows as its width. Score = density (mean
    similarity to up to 1,000 pool rows, scaled so the densest row has 1)
    minus the similarity to the nearest labeled item. Each pick then counts as
    labeled, so a batch spreads out. Works for classifiers and regressors alike.
    """
    Z, density, bandwidth, nearest_labeled = _representative_state(learner, X, random_state)
    chosen: list[int] = []
    for _ in range(n):
        current = density - nearest_labeled
        current[chosen] = -np.inf
        pick = int(np.argmax(current))
        chosen.append(pick)
        nearest_labeled = np.maximum(nearest_labeled, _kernel(euclidean_distances(Z, Z[pick : pick + 1]).ravel(),
                                                              bandwidth))
    return np.array(chosen, dtype=int)


register("cluster_diversity", margin_scores, select=cluster_diversity, requires=("classifier", "proba"))
register("representative", representative_scores, select=representative)
