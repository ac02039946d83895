"""Training and scoring: how a set of labels becomes a fitted learner and a held-out score.

Shared by the :class:`~alwidgets.Session` (its worker fits on the labels of a
store) and :class:`~alwidgets.RandomBaseline` (a shadow learner on random
labels), so the two curves of a learning-curve plot are made the same way.
Every function returns a new learner; none changes the one it is given.
scikit-learn is imported by the functions that fit or score, when called: a
page that follows a campaign service only names the score (:func:`score_name`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import LabelSet, check_label_set, to_plain

__all__ = ["training_set", "can_fit", "train", "score", "score_name", "indicator_matrix", "label_sets"]


def indicator_matrix(labels, classes: Sequence) -> np.ndarray:
    """Label sets as a binary indicator matrix, one column per class in ``classes`` order.

    ``labels`` holds label sets (any collection of classes; see
    :func:`~alwidgets._validation.check_label_set`), or is already an indicator
    matrix (a 2-D numpy array of 0 and 1, ``len(classes)`` columns), which is
    checked and returned as ints.
    This is scikit-learn's ``MultiLabelBinarizer(classes=classes)``.
    """
    from sklearn.preprocessing import MultiLabelBinarizer

    if isinstance(labels, np.ndarray) and labels.ndim == 2 and labels.dtype.kind in "biuf":
        if labels.shape[1] != len(classes) or not np.isin(labels, (0, 1)).all():
            raise ValueError(f"an indicator matrix of labels must have {len(classes)} columns of 0 and 1 "
                             f"(one per class {list(classes)}); got shape {labels.shape}")
        return labels.astype(int)
    sets = [check_label_set(v, classes) for v in labels]
    return MultiLabelBinarizer(classes=list(classes)).fit_transform(sets).reshape(len(sets), len(classes)).astype(int)


def label_sets(labels, classes: Sequence) -> list[LabelSet]:
    """The label set of each row of an indicator matrix (or of each collection of classes) in ``labels``."""
    Y = indicator_matrix(labels, classes)
    return [LabelSet(classes[k] for k in np.flatnonzero(row)) for row in Y]


def training_set(base_X, base_y, X_pool, indices: Sequence[int], labels: Sequence):
    """``(X, y)``: the learner's own training data (if any) followed by pool rows ``indices`` with ``labels``.

    ``(None, None)`` when there is nothing to train on.
    """
    X_parts = [] if base_X is None else [base_X]
    y_parts = [] if base_y is None else [_as_targets(base_y)]
    if len(indices):
        X_parts.append(take_rows(X_pool, list(indices)))
        y_parts.append(np.asarray(list(labels)))
    if not X_parts:
        return None, None
    from alwidgets import _compat

    X = _compat.data_vstack(X_parts) if len(X_parts) > 1 else X_parts[0]
    return X, np.concatenate(y_parts)


def _as_targets(y) -> np.ndarray:
    """A learner's own labels: a column of labels, or a multi-label indicator matrix kept two-dimensional."""
    y = np.asarray(y)
    return y if y.ndim == 2 and y.shape[1] > 1 else y.ravel()


def can_fit(y, is_classifier: bool) -> bool:
    """Whether labels ``y`` are enough to fit: two classes for a classifier, one label for a regressor.

    Multi-label labels (an indicator matrix) need two different label sets.
    """
    if y is None or len(y) == 0:
        return False
    if is_classifier and np.ndim(y) == 2:
        return len(np.unique(np.asarray(y), axis=0)) >= 2
    if is_classifier:
        return len({to_plain(v) for v in np.asarray(y).ravel()}) >= 2
    return True


def train(template, X, y, is_classifier: bool, start=None):
    """``(learner, fitted)``: a fresh learner like ``template`` that knows ``(X, y)``, fitted if it can be.

    ``start(estimator)`` prepares each fresh clone before its fit (see :func:`alwidgets._learners.fresh`).
    """
    fitted = can_fit(y, is_classifier)
    return _learners.fresh(template, X, y, fit=fitted, start=start if fitted else None), fitted


def score(learner, X_test, y_test, is_classifier: bool, scoring=None) -> float:
    """The held-out score: accuracy (classifiers) or R² (regressors) unless ``scoring`` names another."""
    from sklearn.metrics import accuracy_score, get_scorer, r2_score

    if scoring is None:
        y_pred = learner.predict(X_test)
        if is_classifier:
            return float(accuracy_score(y_test, y_pred))
        return float(r2_score(np.asarray(y_test).ravel(), np.asarray(y_pred).ravel()))
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    return float(scorer(learner, X_test, y_test))


def score_name(scoring, is_classifier: bool) -> str:
    """The name of what :func:`score` measures, for plot labels and tables."""
    if isinstance(scoring, str):
        return scoring
    if scoring is not None:
        return getattr(scoring, "__name__", "score")
    return "accuracy" if is_classifier else "R²"
