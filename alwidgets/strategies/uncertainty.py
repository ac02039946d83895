"""The baseline and uncertainty sampling: one model's doubt about each item.

``random`` prefers nothing; ``least_confident``, ``margin`` and ``entropy``
read a classifier's predicted probabilities (modAL's ``classifier_*``
measures); ``max_std`` reads a regressor's predictive standard deviation.
Each is a measure ``measure(learner, X, random_state=None) -> scores``;
:mod:`alwidgets.strategies` registers them.
"""

from __future__ import annotations

import numpy as np
from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty
from sklearn.utils import check_random_state

from alwidgets._validation import n_rows

__all__ = ["entropy", "least_confident", "margin", "max_std", "random_scores"]


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


# ----------------------------------------------------------------- regression


def max_std(learner, X, random_state=None) -> np.ndarray:
    """Prefers items where the regressor's predictive standard deviation is largest (variance reduction)."""
    _, std = learner.predict(X, return_std=True)
    return np.asarray(std, dtype=float).reshape(n_rows(X), -1).mean(axis=1)
