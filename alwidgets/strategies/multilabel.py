"""Query strategies for multi-label sessions, after ``modAL.multilabel``.

In a multi-label session (``Session(..., multi_label=True)``) each item takes a
set of classes, and the model is taught a binary indicator matrix: one column
per class, each a yes/no question of its own. modAL's multi-label strategies
(Brinker 2006; Li et al. 2004; Esuli and Sebastiani 2009) rank items by what a
one-vs-rest classifier says about every class at once. Here each is a measure
(``measure(learner, X, random_state=None) -> scores``, higher means more
wanted) whose best item is the one modAL's function picks; the tests check
that on a fitted model. They are registered with the requirement
``"multi_label"``, so :func:`alwidgets.strategies.available` lists them only
for multi-label sessions, and a single-label strategy is refused there.

``max_loss`` and ``mean_max_loss`` call modAL's own ``_SVM_loss``, which
:mod:`alwidgets._compat` mends to accept a learner (modAL's version reads
``classes_`` from what it is given, which a learner does not have).

The model must give one score per class: :func:`default_model` is a
``OneVsRestClassifier`` of a logistic regression with balanced class weights
(so that a class seen in few of the labeled items is still predicted).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from alwidgets import _compat
from alwidgets.strategies._registry import register

__all__ = ["default_model", "MULTI_LABEL_STRATEGIES", "MULTI_LABEL_DEFAULTS"]

_compat.apply()


def default_model(C: float = 1.0, random_state=None) -> OneVsRestClassifier:
    """One logistic regression per class, each with balanced class weights: works with every multi-label strategy."""
    return OneVsRestClassifier(LogisticRegression(C=C, class_weight="balanced", max_iter=1000,
                                                  random_state=random_state))


def _proba(learner, X) -> np.ndarray:
    """The probability of each class, one column per class (an indicator matrix's columns)."""
    return np.asarray(learner.predict_proba(X), dtype=float)


def svm_binary_minimum(learner, X, random_state=None) -> np.ndarray:
    """Prefers items one of whose classes lies closest to its decision boundary (Brinker 2006)."""
    decision = np.asarray(learner.estimator.decision_function(X), dtype=float)
    return -np.abs(decision.reshape(decision.shape[0], -1)).min(axis=1)


def mean_max_loss(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose predicted label set has the largest hinge loss averaged over every class (Li et al. 2004)."""
    from modAL.multilabel import _SVM_loss

    return np.asarray(_SVM_loss(learner, X), dtype=float)


def max_loss(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose predicted label set has the largest hinge loss against the most certain class (Li et al. 2004)."""
    from modAL.multilabel import _SVM_loss

    most_certain = _proba(learner, X).argmax(axis=1)
    return np.asarray(_SVM_loss(learner, X, most_certain_classes=most_certain), dtype=float)


def min_confidence(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose least likely class has the lowest probability (Esuli and Sebastiani 2009)."""
    return -_proba(learner, X).min(axis=1)


def avg_confidence(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose classes have the highest mean probability (Esuli and Sebastiani 2009)."""
    return _proba(learner, X).mean(axis=1)


def _scores(learner, X) -> np.ndarray:
    """modAL's class-wise score: the probability, signed by whether the class is predicted (times 1/2)."""
    predicted = np.asarray(learner.predict(X), dtype=float)
    return _proba(learner, X) * (predicted.reshape(predicted.shape[0], -1) - 0.5)


def max_score(learner, X, random_state=None) -> np.ndarray:
    """Prefers items with the highest class-wise score, probability times (predicted - 1/2) (Esuli and Sebastiani 2009)."""
    return _scores(learner, X).max(axis=1)


def avg_score(learner, X, random_state=None) -> np.ndarray:
    """Prefers items with the highest mean class-wise score, probability times (predicted - 1/2) (Esuli and Sebastiani 2009)."""
    return _scores(learner, X).mean(axis=1)


MULTI = ("classifier", "multi_label")
PROBA = ("classifier", "proba", "multi_label")

# name -> (measure, requirements, the modAL function whose pick it reproduces)
MULTI_LABEL_STRATEGIES = {
    "avg_score": (avg_score, PROBA, "avg_score"),
    "max_score": (max_score, PROBA, "max_score"),
    "min_confidence": (min_confidence, PROBA, "min_confidence"),
    "avg_confidence": (avg_confidence, PROBA, "avg_confidence"),
    "max_loss": (max_loss, PROBA, "max_loss"),
    "mean_max_loss": (mean_max_loss, MULTI, "mean_max_loss"),
    "svm_binary_minimum": (svm_binary_minimum, MULTI, "SVM_binary_minimum"),
}
# What a multi-label Session uses when no strategy is named: the first of these its model can run.
MULTI_LABEL_DEFAULTS = ("svm_binary_minimum", "mean_max_loss")

for _name, (_measure, _requires, _) in MULTI_LABEL_STRATEGIES.items():
    register(_name, _measure, requires=_requires)
