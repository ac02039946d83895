"""Expected error reduction: items whose label would most lower the error on the rest of the pool.

Costly by nature (it refits the model per candidate and class), so it scores a
random subsample; see :func:`expected_error_reduction`. :mod:`alwidgets.strategies`
registers it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import check_int, n_rows

__all__ = ["EER_CANDIDATES", "EER_EVALUATION", "EER_MAX_CLASSES", "expected_error_reduction"]

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

    n_candidates = check_int(n_candidates, "n_candidates")
    n_evaluation = check_int(n_evaluation, "n_evaluation")
    max_classes = check_int(max_classes, "max_classes")
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
