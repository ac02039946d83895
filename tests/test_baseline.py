"""Tests of RandomBaseline: the random-sampling curve a learning curve is compared with."""

from __future__ import annotations

import numpy as np
import pytest
from modAL.models import ActiveLearner, Committee
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, r2_score
from sklearn.utils.validation import check_is_fitted

import alwidgets as alw
from alwidgets import _learners


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    pool, test = alw.datasets.split(data, test_size=0.3, random_state=0)
    return pool, test


@pytest.fixture(scope="module")
def sin():
    data = alw.datasets.load_sin(n_samples=200, random_state=0)
    pool, test = alw.datasets.split(data, test_size=0.3, random_state=0)
    return pool, test


def _classifier():
    return LogisticRegression(max_iter=300)


TASKS = {
    "classification": (_classifier, "digits", (0.0, 1.0)),
    "regression": (Ridge, "sin", (-np.inf, 1.0)),
}


@pytest.fixture(params=sorted(TASKS))
def task(request, digits, sin):
    make_model, name, score_range = TASKS[request.param]
    pool, test = digits if name == "digits" else sin
    return make_model, pool, test, score_range


def test_same_random_state_same_curve_and_another_seed_another_order(task):
    make_model, pool, test, _ = task
    budgets = [10, 20, 40]
    first = alw.RandomBaseline(make_model(), pool.X, pool.y, test.X, test.y, random_state=0)
    second = alw.RandomBaseline(make_model(), pool.X, pool.y, test.X, test.y, random_state=0)
    assert first.curve(budgets) == second.curve(budgets)
    other = alw.RandomBaseline(make_model(), pool.X, pool.y, test.X, test.y, random_state=1)
    assert not np.array_equal(first.indices(40), other.indices(40))


def test_longer_budgets_hold_the_shorter_ones_items(task):
    make_model, pool, test, _ = task
    baseline = alw.RandomBaseline(make_model(), pool.X, pool.y, test.X, test.y, random_state=0)
    previous = baseline.indices(0)
    for n in (5, 17, 60, len(pool.y)):
        current = baseline.indices(n)
        assert len(current) == n
        np.testing.assert_array_equal(current[: len(previous)], previous)
        previous = current
    assert sorted(previous) == list(range(len(pool.y)))  # the whole pool, each item once


def test_scores_are_in_range_and_match_a_hand_trained_clone(task):
    make_model, pool, test, (low, high) = task
    model = make_model()
    baseline = alw.RandomBaseline(model, pool.X, pool.y, test.X, test.y, random_state=0)
    curve = baseline.curve([20, 50, 100])
    assert [point["n_labels"] for point in curve] == [20, 50, 100]
    assert all(low <= point["score"] <= high for point in curve)
    idx = baseline.indices(50)
    by_hand = clone(model).fit(pool.X[idx], pool.y[idx])
    if baseline.is_classifier:
        expected = by_hand.score(test.X, test.y)
    else:
        expected = r2_score(test.y, by_hand.predict(test.X))
    assert curve[1]["score"] == pytest.approx(expected)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)  # the model given is left alone


def test_more_random_labels_help_on_average(digits):
    pool, test = digits
    baseline = alw.RandomBaseline(_classifier(), pool.X, pool.y, test.X, test.y, random_state=0)
    small, large = baseline.curve([20, 400])
    assert large["score"] > small["score"] + 0.1


def test_only_new_budgets_are_fitted(digits):
    pool, test = digits
    baseline = alw.RandomBaseline(_classifier(), pool.X, pool.y, test.X, test.y, random_state=0)
    first = baseline.curve([20, 40])
    assert baseline.n_fits == 2
    longer = baseline.curve([20, 40, 60])
    assert baseline.n_fits == 3
    assert longer[:2] == first
    baseline.curve([60, 40, 20])
    assert baseline.n_fits == 3


def test_a_classifier_that_saw_one_class_has_no_score(digits):
    pool, test = digits
    baseline = alw.RandomBaseline(_classifier(), pool.X, pool.y, test.X, test.y, random_state=0)
    one_class = next(n for n in range(1, 50) if len(set(pool.y[baseline.indices(n + 1)])) > 1)
    curve = baseline.curve([0, one_class, one_class + 1])
    assert curve[0]["score"] is None
    assert curve[1]["score"] is None
    assert curve[2]["score"] is not None
    assert baseline.n_fits == 1


def test_progress_is_reported_for_each_new_fit(digits):
    pool, test = digits
    baseline = alw.RandomBaseline(_classifier(), pool.X, pool.y, test.X, test.y, random_state=0)
    calls = []
    baseline.curve([10, 20, 30], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_for_history_follows_the_session_label_counts(digits):
    pool, test = digits
    session = alw.Session(_classifier(), pool.X, strategy="margin", X_test=test.X, y_test=test.y, random_state=0)
    session.simulate(pool.y, 12, batch_size=4)
    baseline = alw.RandomBaseline(session.learner, pool.X, pool.y, test.X, test.y, random_state=0)
    curve = baseline.for_history(session.history)
    assert [point["n_labels"] for point in curve] == sorted({h["n_labels"] for h in session.history})


def test_scoring_is_used(digits):
    pool, test = digits
    baseline = alw.RandomBaseline(_classifier(), pool.X, pool.y, test.X, test.y, random_state=0,
                                  scoring="f1_macro")
    (point,) = baseline.curve([80])
    idx = baseline.indices(80)
    by_hand = _classifier().fit(pool.X[idx], pool.y[idx])
    assert point["score"] == pytest.approx(f1_score(test.y, by_hand.predict(test.X), average="macro"))


def test_an_active_learner_starts_from_its_own_training_data(digits):
    pool, test = digits
    X0, y0 = test.X[:30], test.y[:30]
    learner = ActiveLearner(estimator=_classifier(), X_training=X0, y_training=y0)
    baseline = alw.RandomBaseline(learner, pool.X, pool.y, test.X, test.y, random_state=0)
    at_zero, at_twenty = baseline.curve([0, 20])
    assert at_zero["score"] == pytest.approx(_classifier().fit(X0, y0).score(test.X, test.y))
    idx = baseline.indices(20)
    by_hand = _classifier().fit(np.vstack([X0, pool.X[idx]]), np.concatenate([y0, pool.y[idx]]))
    assert at_twenty["score"] == pytest.approx(by_hand.score(test.X, test.y))
    assert len(learner.X_training) == 30  # the user's learner is not taught


def test_a_committee_is_cloned_member_by_member(digits):
    pool, test = digits
    committee = alw.make_committee(_classifier(), n_members=3, random_state=0)
    baseline = alw.RandomBaseline(committee, pool.X, pool.y, test.X, test.y, random_state=0)
    (point,) = baseline.curve([60])
    assert isinstance(baseline._learner, Committee)
    by_hand = Committee([ActiveLearner(estimator=clone(m.estimator)) for m in committee.learner_list])
    idx = baseline.indices(60)
    by_hand = _learners.fresh(by_hand, pool.X[idx], pool.y[idx])
    assert point["score"] == pytest.approx(np.mean(by_hand.predict(test.X) == test.y))
    assert all(m.X_training is None for m in committee.learner_list)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"y_pool": [0, 1]}, ValueError, "y_pool"),
        ({"X_test": None}, ValueError, "X_test"),
        ({"y_test": [0]}, ValueError, "y_test"),
        ({"scoring": "no_such_score"}, ValueError, "no_such_score"),
        ({"model": "not a model"}, TypeError, "model"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(digits, change, error, message):
    pool, test = digits
    arguments = {"model": _classifier(), "X_pool": pool.X, "y_pool": pool.y, "X_test": test.X, "y_test": test.y}
    arguments.update(change)
    with pytest.raises(error, match=message):
        alw.RandomBaseline(**arguments)


@pytest.mark.parametrize("budgets, error", [([-1], ValueError), ([10**6], ValueError), ([2.5], TypeError)])
def test_impossible_budgets_are_refused(digits, budgets, error):
    pool, test = digits
    baseline = alw.RandomBaseline(_classifier(), pool.X, pool.y, test.X, test.y, random_state=0)
    with pytest.raises(error, match="n_labels_list"):
        baseline.curve(budgets)
    assert baseline.n_fits == 0
