"""Density-weighted and batch-diverse uncertainty: information density and ranked batch-mode sampling.

Both look at where items lie in the model's feature space
(:func:`alwidgets.strategies._registry.features`). :mod:`alwidgets.strategies`
registers them.
"""

from __future__ import annotations

import numpy as np
from modAL.uncertainty import classifier_entropy, classifier_uncertainty
from sklearn.metrics.pairwise import cosine_similarity, euclidean_distances
from sklearn.utils import check_random_state

from alwidgets import _learners
from alwidgets._validation import n_rows
from alwidgets.strategies._registry import features

__all__ = ["DENSITY_REFERENCE", "information_density", "ranked_batch", "ranked_batch_scores"]

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
