"""The MNIST article's confidence (top minus lowest probability) and its strategy, ``min_max_margin``."""

from __future__ import annotations

import numpy as np
import pytest
from modAL.models import ActiveLearner
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LinearRegression, LogisticRegression

import alwidgets as alw
from alwidgets import min_max, strategies


class FixedProba(ClassifierMixin, BaseEstimator):
    """A 'fitted' classifier whose probabilities are given: row i of X is the index of a row of ``proba``."""

    def __init__(self, proba):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.arange(np.asarray(self.proba).shape[1])
        return self

    def predict_proba(self, X):
        return np.asarray(self.proba, dtype=float)[np.asarray(X, dtype=int).ravel()]


def learner_with(proba):
    proba = np.asarray(proba, dtype=float)
    X = np.arange(len(proba)).reshape(-1, 1)
    return ActiveLearner(FixedProba(proba), X_training=X, y_training=np.arange(len(proba)) % proba.shape[1]), X


def test_confidence_is_top_minus_lowest_probability():
    learner, X = learner_with([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(min_max.min_max_confidence(learner, X), [0.6, 0.15, 0.0, 1.0])
    np.testing.assert_allclose(min_max.min_max_uncertainty(learner, X), [0.4, 0.85, 1.0, 0.0])


def test_it_prefers_a_spread_item_where_margin_prefers_a_two_way_tie():
    # row 0 is torn between two classes (margin's favourite); row 1 spreads over all three (min-max's)
    learner, X = learner_with([[0.5, 0.5, 0.0], [0.4, 0.35, 0.25], [0.9, 0.05, 0.05]])
    picked, scores = strategies.get("min_max_margin")(learner, X, n_instances=1)
    assert picked.tolist() == [1]
    assert scores[2] == pytest.approx(np.nanmin(scores))
    assert strategies.get("margin")(learner, X, n_instances=1)[0].tolist() == [0]


def test_on_two_classes_it_ranks_like_margin_and_least_confident():
    digits = alw.datasets.load_digits()
    binary = digits.y < 2
    X, y = digits.X[binary], digits.y[binary]
    rng = np.random.RandomState(0)
    seen = rng.choice(len(y), 20, replace=False)
    learner = ActiveLearner(LogisticRegression(C=0.01), X_training=X[seen], y_training=y[seen])
    orders = {name: strategies.get(name)(learner, X, n_instances=len(y))[0]
              for name in ("min_max_margin", "margin", "least_confident")}
    np.testing.assert_array_equal(orders["min_max_margin"], orders["margin"])
    np.testing.assert_array_equal(orders["min_max_margin"], orders["least_confident"])


def test_registered_with_a_description_and_offered_for_classifiers():
    assert "min_max_margin" in strategies.available()
    strategy = strategies.get("min_max_margin")
    assert strategy.description.startswith("Prefers") and len(strategy.description) < 120
    assert "min_max_margin" in strategies.available(ActiveLearner(LogisticRegression()))
    assert "min_max_margin" not in strategies.available(ActiveLearner(LinearRegression()))


def test_a_regressor_gets_a_clear_error():
    learner = ActiveLearner(LinearRegression(), X_training=np.arange(4.0).reshape(-1, 1), y_training=np.arange(4.0))
    with pytest.raises(ValueError, match="min_max_margin.*for classifiers"):
        strategies.get("min_max_margin")(learner, np.arange(4.0).reshape(-1, 1))


def test_a_session_can_use_it():
    digits = alw.datasets.load_digits()
    pool, test = alw.datasets.split(digits, random_state=0)
    session = alw.Session(LogisticRegression(max_iter=300), pool.X, strategy="min_max_margin", X_test=test.X,
                          y_test=test.y, random_state=0)
    session.simulate(pool.y, n_queries=30, batch_size=10)
    assert session.n_labeled == 30
    assert session.history[-1]["score"] > 0.5
    assert session.why(session.query(1)[0])["strategy"] == "min_max_margin"
