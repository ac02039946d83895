"""A refit model that starts each fit from the last one: the benchmarks' fast LogisticRegression.

The Session fits a fresh ``clone`` of its model on every label after each
mini-batch, and never changes a fitted model a reader may hold. It has no
warm start, which for a LogisticRegression (a strictly convex loss: the same
optimum from any start) halves the CPU time of a benchmark's refit runs. This
is the one piece of the benchmark's old loop kept outside the Session, as a
model: :class:`WarmStarted` remembers a *copy* of its last fit's coefficients
in a :class:`FitMemory` that every clone of it shares, and the next clone
starts from them. Nothing fitted is ever changed.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.exceptions import ConvergenceWarning

__all__ = ["FitMemory", "WarmStarted"]


class FitMemory:
    """Copies of the last fit's ``classes_``, ``coef_`` and ``intercept_``, shared by the clones of one model.

    ``sklearn.base.clone`` deep-copies parameters; a FitMemory deep-copies to
    itself, so every clone of a :class:`WarmStarted` reads and writes the same one.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return "FitMemory()"

    def start(self, estimator, classes: np.ndarray) -> None:
        """Give ``estimator`` (unfitted) the last fit's coefficients when it was for the same classes."""
        with self._lock:
            last = self._last
        if last is not None and np.array_equal(last[0], classes):
            estimator.coef_, estimator.intercept_ = last[1].copy(), last[2].copy()

    def remember(self, estimator) -> None:
        with self._lock:
            self._last = (estimator.classes_.copy(), estimator.coef_.copy(), estimator.intercept_.copy())


class WarmStarted(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A linear classifier (``warm_start``, ``coef_``) whose every fit starts from its clones' last fit.

    Parameters
    ----------
    estimator : LogisticRegression (or another linear model with ``warm_start``)
        Cloned for every fit, with ``warm_start=True``.
    memory : FitMemory, optional
        Where the last fit is remembered; shared by every clone. None: every fit starts from scratch.
    """

    def __init__(self, estimator, memory: FitMemory | None = None):
        self.estimator = estimator
        self.memory = memory

    def fit(self, X, y):
        model = clone(self.estimator).set_params(warm_start=True)
        classes = np.unique(np.asarray(y))
        if self.memory is not None:
            self.memory.start(model, classes)  # a new class: a fit from scratch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        if self.memory is not None:
            self.memory.remember(model)
        self.estimator_, self.classes_ = model, model.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def decision_function(self, X):
        return self.estimator_.decision_function(X)
