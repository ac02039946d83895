"""Stream-based selective sampling: items arrive one at a time and are asked or passed, never lost."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

import alwidgets as alw


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    pool, test = alw.datasets.split(data, random_state=0)
    return pool, test


def session_for(digits, **kwargs):
    pool, test = digits
    return alw.Session(LogisticRegression(max_iter=1000), pool.X, X_test=test.X, y_test=test.y, random_state=0,
                       **kwargs)


def test_every_item_is_asked_until_the_model_can_be_fitted(digits):
    stream = alw.Stream(session_for(digits), threshold=0.99)
    first = stream.next_query()
    assert first == 0  # pool order, and a model that knows nothing is unsure about everything
    assert stream.decisions[0]["uncertainty"] == float("inf")
    assert stream.n_asked == 1 and stream.n_passed == 0


@pytest.mark.parametrize("threshold", [0.1, 0.4])
def test_asks_exactly_the_items_over_the_threshold(digits, threshold):
    pool, _ = digits
    session = session_for(digits)
    stream = alw.Stream(session, threshold=threshold)
    summary = stream.simulate(pool.y, 120)
    assert summary["seen"] == 120 == stream.n_seen
    assert summary["asked"] + summary["passed"] == 120
    for d in stream.decisions:
        assert (d["decision"] == "asked") == (d["uncertainty"] >= threshold)
    assert session.n_labeled == summary["asked"] == stream.n_asked


def test_a_higher_threshold_asks_fewer_questions(digits):
    pool, _ = digits
    asked = []
    for threshold in (0.1, 0.3, 0.5):
        stream = alw.Stream(session_for(digits), threshold=threshold)
        asked.append(stream.simulate(pool.y, 150)["asked"])
    assert asked[0] > asked[1] > asked[2]


def test_passed_items_are_kept_unlabeled_in_the_pool_and_can_come_back(digits):
    pool, _ = digits
    session = session_for(digits)
    stream = alw.Stream(session, threshold=0.3)
    stream.simulate(pool.y, 120)
    passed = list(stream.passed)
    assert len(passed) == stream.n_passed > 0
    assert set(passed) <= set(session.unlabeled.tolist())  # never lost: still there to label
    assert set(passed).isdisjoint(session.labels)
    seen_before = stream.n_seen
    assert stream.revisit_passed() == len(passed)
    assert stream.passed == []
    summary = stream.simulate(pool.y, len(passed))
    assert stream.n_seen == seen_before + len(passed)
    revisited = [d["index"] for d in stream.decisions[seen_before:]]
    assert revisited == passed  # the same items, judged again by the model as it is now
    assert summary["asked"] + len(stream.passed) == len(passed)


def test_items_arrive_in_the_order_of_the_source_and_labeled_ones_are_left_out(digits):
    pool, _ = digits
    session = session_for(digits)
    session.teach(3, pool.y[3])
    stream = alw.Stream(session, threshold=0.0, source=iter([7, 3, 11, 5]))  # threshold 0: ask everything
    asked = []
    while (idx := stream.next_query()) is not None:
        asked.append(idx)
        session.teach(idx, pool.y[idx])
    assert asked == [7, 11, 5]
    assert stream.exhausted and stream.n_seen == 3
    assert stream.next_query() is None


def test_a_whole_number_budget_caps_the_questions(digits):
    pool, _ = digits
    stream = alw.Stream(session_for(digits), threshold=0.1, budget=15)
    summary = stream.simulate(pool.y, 100)
    assert stream.n_asked == 15 == summary["asked"]
    over = [d for d in stream.decisions if d["reason"] == "over budget"]
    assert over and all(d["decision"] == "passed" for d in over)
    assert all(d["uncertainty"] >= 0.1 for d in over)  # passed for the budget, not because the model was sure


def test_a_fraction_budget_keeps_the_rate_of_questions(digits):
    pool, _ = digits
    stream = alw.Stream(session_for(digits), threshold=None, budget=0.1)
    stream.simulate(pool.y, 200)
    asked_so_far = np.cumsum([d["decision"] == "asked" for d in stream.decisions])
    seen_so_far = np.arange(1, len(stream.decisions) + 1)
    assert np.all(asked_so_far <= 0.1 * seen_so_far)
    assert stream.n_asked == 20


def test_uncertainty_sampling_in_a_stream_beats_asking_the_same_number_of_items_in_order(digits):
    # The point of selective sampling: the questions it asks are worth more than as many items taken as they come.
    pool, test = digits
    session = session_for(digits)
    summary = alw.Stream(session, threshold=0.3).simulate(pool.y, 400)
    in_order = session_for(digits)
    in_order.teach(list(range(summary["asked"])), list(pool.y[: summary["asked"]]))
    assert summary["asked"] < 250
    assert summary["score"] > in_order.score()


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_classifier_measures_lie_between_0_and_1(digits, measure):
    pool, _ = digits
    session = session_for(digits)
    session.teach(list(range(40)), list(pool.y[:40]))
    stream = alw.Stream(session, threshold=0.5, measure=measure)
    values = [stream.uncertainty(i) for i in range(40, 140)]
    assert all(0.0 <= u <= 1.0 + 1e-12 for u in values)
    assert np.std(values) > 0


def test_a_regressor_stream_uses_the_predictive_standard_deviation():
    sin = alw.datasets.load_sin(n_samples=80, random_state=0)
    model = GaussianProcessRegressor(RBF(1.0) + WhiteKernel(0.1), random_state=0)
    session = alw.Session(model, sin.X, random_state=0)
    stream = alw.Stream(session, threshold=0.4)
    assert stream.measure == "std"
    summary = stream.simulate(sin.y, 80)
    assert 0 < summary["asked"] < 80  # once the curve is known nearby, items there are passed
    passed = [d for d in stream.decisions if d["decision"] == "passed"]
    assert all(d["uncertainty"] < 0.4 for d in passed)


def test_progress_is_reported_for_every_arriving_item(digits):
    pool, _ = digits
    calls = []
    alw.Stream(session_for(digits), threshold=0.2).simulate(pool.y, 25, progress=lambda done, total: calls.append(
        (done, total)))
    assert calls == [(i, 25) for i in range(1, 26)]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"threshold": None, "budget": None}, ValueError, "threshold.*budget"),
        ({"threshold": -0.1}, ValueError, "threshold must be at least 0"),
        ({"threshold": "high"}, ValueError, "threshold must be a number"),
        ({"budget": 1.5}, ValueError, "budget must be an int"),
        ({"budget": -3}, ValueError, "budget must be at least 0"),
        ({"budget": True}, ValueError, "budget must be an int"),
        ({"measure": "std"}, ValueError, "'std' is for regressors"),
        ({"measure": "loudness"}, ValueError, "measure must be one of 'auto', 'least_confident'"),
    ],
)
def test_bad_arguments_get_clear_errors(digits, kwargs, error, match):
    with pytest.raises(error, match=match):
        alw.Stream(session_for(digits), **kwargs)


def test_needs_a_session():
    with pytest.raises(TypeError, match="session must be an alwidgets Session"):
        alw.Stream(LogisticRegression())


def test_a_classifier_measure_on_a_regressor_is_refused():
    sin = alw.datasets.load_sin(n_samples=20, random_state=0)
    session = alw.Session(GaussianProcessRegressor(), sin.X)
    with pytest.raises(ValueError, match="measure 'margin' is for classifiers"):
        alw.Stream(session, measure="margin")


def test_simulate_refuses_a_negative_count(digits):
    pool, _ = digits
    with pytest.raises(ValueError, match="n_items"):
        alw.Stream(session_for(digits)).simulate(pool.y, -1)
