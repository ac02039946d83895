"""The random-sampling baseline: what the same budget of labels buys without a strategy.

Active learning only pays if it beats labeling items in random order. When the
true labels are known (a simulated oracle, or a labeled pool in a classroom),
:class:`RandomBaseline` trains a shadow copy of the model on random labels,
at the same label counts as the session, so the learning curve can show both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

from alwidgets import _learners
from alwidgets._validation import InvalidParameterError, check_int, n_rows
from alwidgets.engine import training
from alwidgets.engine.trainer import check_scoring

__all__ = ["RandomBaseline"]


class RandomBaseline:
    """Scores of a shadow learner trained on labels given in a random order.

    The pool is shuffled once (by ``random_state``); the score at a budget of
    ``n`` labels is that of a fresh clone of the model trained on the first
    ``n`` items of that order, as a person labeling at random would have. So
    a longer budget always holds the shorter one's items, and a run with the
    same ``random_state`` gives the same curve. Scores are cached: asking for
    a longer curve fits only the new budgets.

    Parameters
    ----------
    model : estimator or modAL learner
        A scikit-learn estimator, a modAL ``ActiveLearner`` (its estimator is
        cloned) or a ``Committee``/``CommitteeRegressor`` (each member's
        estimator is cloned into a new committee). A learner's existing
        training data is part of every fit, as it is for the session's model.
    X_pool, y_pool : array-like
        The pool and its true labels.
    X_test, y_test : array-like
        The held-out set the scores are measured on.
    random_state : int, RandomState or None
        Seeds the labeling order.
    scoring : str or callable, optional
        A scikit-learn scorer name or ``scorer(estimator, X, y)``; default
        accuracy for classifiers and R² for regressors, as ``Session.score``.
    include_training_data : bool, default=True
        Whether fits include the training data a modAL learner already holds.
    """

    def __init__(
        self,
        model,
        X_pool,
        y_pool,
        X_test,
        y_test,
        random_state=None,
        scoring=None,
        *,
        include_training_data: bool = True,
    ):
        self.n_pool = _n_rows(X_pool)
        self.y_pool = np.asarray(y_pool)
        if self.y_pool.ndim == 0 or len(self.y_pool) != self.n_pool:
            raise ValueError(f"y_pool must hold one true label per pool item ({self.n_pool}); got {self.y_pool.shape}")
        if X_test is None or y_test is None:
            raise ValueError("X_test and y_test are required: the baseline is a held-out score")
        if _n_rows(X_test) != len(y_test):
            raise ValueError(f"X_test has {_n_rows(X_test)} rows but y_test has {len(y_test)} labels")
        check_scoring(scoring)  # an unknown name fails here, before any fit
        from modAL.models.base import BaseCommittee, BaseLearner
        from sklearn.utils import check_random_state

        self.model = model
        self.X_pool = X_pool
        self.X_test = X_test
        self.y_test = np.asarray(y_test)
        self.scoring = scoring
        self.random_state = random_state
        self._learner = _shadow(model)
        self.is_classifier = _learners.learner_is_classifier(self._learner)
        self._base_X, self._base_y = (None, None)
        if include_training_data and isinstance(model, (BaseLearner, BaseCommittee)):
            self._base_X, self._base_y = _learners.training_data(model)
        self.order = check_random_state(random_state).permutation(self.n_pool)
        self.n_fits = 0
        self._scores: dict[int, float | None] = {}
        self._lock = threading.Lock()

    def indices(self, n: int) -> np.ndarray:
        """The pool indices a random labeler would have labeled after ``n`` labels."""
        return self.order[: self._check_n(n, "n")]

    def curve(self, n_labels_list: Iterable[int], progress: Callable | None = None) -> list[dict]:
        """``[{"n_labels": n, "score": s}, ...]`` for each budget asked, in the order asked.

        ``score`` is None where the model cannot be fitted yet (no data, or a
        classifier that has seen fewer than 2 classes). ``progress``, if given,
        is called as ``progress(done, total)`` after each new fit.
        """
        budgets = [self._check_n(n, "n_labels_list") for n in n_labels_list]
        with self._lock:
            new = sorted(set(budgets) - set(self._scores))
            for done, n in enumerate(new, start=1):
                self._scores[n] = self._score_at(n)
                if progress is not None:
                    progress(done, len(new))
            return [{"n_labels": n, "score": self._scores[n]} for n in budgets]

    def for_history(self, history, progress: Callable | None = None) -> list[dict]:
        """The baseline at the label counts of a ``Session.history``: the same budget, point by point."""
        counts = sorted({int(entry["n_labels"]) for entry in history})
        return self.curve([n for n in counts if n <= self.n_pool], progress=progress)

    # ------------------------------------------------------------------ internals

    def _check_n(self, n, name: str) -> int:
        n = check_int(n, f"{name} (a label count)", 0)
        if n > self.n_pool:
            raise InvalidParameterError(
                f"{name} holds {n}, but a budget must be between 0 and the pool size {self.n_pool}")
        return int(n)

    def _score_at(self, n: int) -> float | None:
        idx = self.order[:n]
        X, y = training.training_set(self._base_X, self._base_y, self.X_pool, idx, self.y_pool[idx].ravel())
        if not training.can_fit(y, self.is_classifier):
            return None
        learner, _ = training.train(self._learner, X, y, self.is_classifier)
        self.n_fits += 1
        return training.score(learner, self.X_test, self.y_test, self.is_classifier, self.scoring)


def _n_rows(X) -> int:
    if X is None:
        raise ValueError("X_pool is required")
    return n_rows(X)


def _shadow(model):
    """A fresh, unfitted modAL learner of the same kind as ``model``."""
    from modAL.models import ActiveLearner
    from modAL.models.base import BaseCommittee, BaseLearner
    from sklearn.base import clone

    if isinstance(model, BaseCommittee):
        members = [ActiveLearner(estimator=clone(m.estimator)) for m in _learners.members(model)]
        return type(model)(learner_list=members)
    if isinstance(model, BaseLearner):
        return ActiveLearner(estimator=clone(model.estimator))
    if not hasattr(model, "fit") or not hasattr(model, "predict"):
        raise InvalidParameterError(
            "model must be a scikit-learn estimator (with fit and predict) or a modAL learner or committee; "
            f"got {type(model).__name__}"
        )
    return ActiveLearner(estimator=clone(model))
