"""Engine tests of the stabilizing-predictions stopping signal (alwidgets.engine.stopping)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import cohen_kappa_score

import alwidgets as alw
from alwidgets import stopping
from alwidgets.engine.stopping import StabilizingPredictions, concordance_agreement, kappa_agreement

# kappa([0, 0, 1, 1], [0, 1, 1, 1]): observed 0.75, chance 0.5 * 0.25 + 0.5 * 0.75 = 0.5, kappa 0.5 exactly
HALF_A = np.array([0, 0, 1, 1])
HALF_B = np.array([0, 1, 1, 1])


# ---------------------------------------------------------------------- the agreement measures


@pytest.mark.parametrize("labels", [[0, 1, 2, 1, 0], ["cat", "dog", "dog", "bird", "cat"], [True, False, True, True, False]])
def test_identical_predictions_agree_fully(labels):
    assert kappa_agreement(labels, list(labels)) == 1.0


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (HALF_A, HALF_B, 0.5),
        ([0, 1, 0, 1], [1, 0, 1, 0], -1.0),  # always opposite
        ([0, 0, 0, 0], [1, 1, 1, 1], 0.0),  # two different constants: no agreement, and none expected
        (["a", "b", "c", "a"], ["a", "b", "c", "b"], cohen_kappa_score(["a", "b", "c", "a"], ["a", "b", "c", "b"])),
    ],
)
def test_kappa_matches_hand_computed_values(a, b, expected):
    assert kappa_agreement(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("constant", [0, "spam", 3.0])
def test_kappa_is_nan_when_both_models_predict_one_and_the_same_class(constant):
    a = np.array([constant] * 6)
    assert np.isnan(kappa_agreement(a, a.copy()))


def test_kappa_is_defined_when_only_one_model_is_constant():
    assert kappa_agreement([1, 1, 1, 1], [1, 1, 0, 1]) == pytest.approx(0.0)


def test_multilabel_predictions_are_compared_cell_by_cell():
    a = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]])
    b = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0], [0, 0, 1]])
    assert kappa_agreement(a, b) == pytest.approx(cohen_kappa_score(a.ravel(), b.ravel()))
    assert kappa_agreement(a, b) < 1.0


@pytest.mark.parametrize("measure", [kappa_agreement, concordance_agreement])
def test_measures_reject_predictions_of_different_items(measure):
    with pytest.raises(ValueError, match="same stop set"):
        measure([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty stop set"):
        measure([], [])


def test_concordance_of_identical_predictions_is_one():
    a = np.linspace(-1, 3, 20)
    assert concordance_agreement(a, a.copy()) == pytest.approx(1.0)


@pytest.mark.parametrize("change", ["shift", "scale", "noise"])
def test_concordance_falls_below_one_when_predictions_change(change):
    rng = np.random.RandomState(0)
    a = rng.normal(size=200)
    b = {"shift": a + 0.5, "scale": 1.5 * a, "noise": a + rng.normal(scale=0.3, size=200)}[change]
    value = concordance_agreement(a, b)
    expected = 2 * np.cov(a, b, bias=True)[0, 1] / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
    assert value == pytest.approx(expected)
    assert value < 0.99
    assert np.corrcoef(a, b)[0, 1] > 0.9  # a plain correlation would miss the shift and the scale


def test_concordance_of_one_constant_is_nan_and_of_two_constants_zero():
    assert np.isnan(concordance_agreement([2.0] * 5, [2.0] * 5))
    assert concordance_agreement([2.0] * 5, [3.0] * 5) == 0.0


# ---------------------------------------------------------------------- the stopping signal


@pytest.mark.parametrize("window", [1, 2, 3, 5])
def test_stop_fires_after_exactly_window_stable_updates(window):
    stopper = StabilizingPredictions(window=window)
    predictions = np.array([0, 1, 2, 1, 0, 2])
    status = stopper.update(predictions)
    assert status["agreement"] is None and status["window"] == [] and not status["stop"]
    for k in range(1, window + 1):
        status = stopper.update(predictions.copy())
        assert status["stop"] is (k == window), k
        assert status["window"] == [1.0] * k
    assert status["n_updates"] == window + 1
    assert stopper.stop


@pytest.mark.parametrize("position", [0, 1, 2])
def test_one_unstable_update_in_the_window_prevents_stopping(position):
    stopper = StabilizingPredictions(window=3)
    stable, moved = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 2, 2, 0])
    stopper.update(stable)
    sequence = [stable, stable, stable]
    sequence[position] = moved
    for predictions in sequence:
        stopper.update(predictions)
    assert not stopper.stop
    assert min(stopper.status()["window"]) < 0.99
    assert len(stopper.agreements) == 3


@pytest.mark.parametrize("threshold, stops", [(0.5, True), (0.49, True), (0.51, False)])
def test_agreement_at_the_threshold_counts_as_stable(threshold, stops):
    stopper = StabilizingPredictions(threshold=threshold, window=3)
    for predictions in (HALF_A, HALF_B, HALF_A, HALF_B):  # kappa 0.5 at every update
        status = stopper.update(predictions)
    assert status["window"] == pytest.approx([0.5, 0.5, 0.5])
    assert status["stop"] is stops


def test_constant_predictions_never_signal_stop():
    stopper = StabilizingPredictions(window=2)
    for _ in range(6):
        status = stopper.update(np.zeros(50, dtype=int))
    assert np.isnan(status["agreement"]) and not status["stop"]
    status = stopper.update(np.r_[np.ones(25, dtype=int), np.zeros(25, dtype=int)])  # the model learns something
    status = stopper.update(np.r_[np.ones(25, dtype=int), np.zeros(25, dtype=int)])
    assert not status["stop"]  # one stable update: the window still holds a NaN
    status = stopper.update(np.r_[np.ones(25, dtype=int), np.zeros(25, dtype=int)])
    assert status["stop"] and status["window"] == [1.0, 1.0]


def test_update_with_a_model_predicts_the_stop_set():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    first = LogisticRegression().fit(X[:40], y[:40])
    stopper = StabilizingPredictions(window=1)
    stopper.update(first, X[40:])
    assert stopper.update(first, X[40:])["agreement"] == 1.0
    flipped = LogisticRegression().fit(X[:40], 1 - y[:40])
    status = stopper.update(flipped, X[40:])
    assert status["agreement"] == pytest.approx(kappa_agreement(first.predict(X[40:]), flipped.predict(X[40:])))
    assert status["agreement"] < 0


def test_first_stop_remembers_where_the_signal_first_fired():
    stopper = StabilizingPredictions(window=2)
    stable, moved = np.array([0, 1, 1, 2, 2, 0]), np.array([1, 1, 0, 2, 0, 0])
    for version, predictions in enumerate([stable, moved, stable, stable, stable], start=10):
        status = stopper.update(predictions, version=version)
        assert status["first_stop"] is None or version >= 14
    assert status["first_stop"] == {"update": 5, "version": 14} == stopper.first_stop
    stopper.update(moved, version=15)  # the model moves again: no longer "stop", but the first stop stays
    assert not stopper.stop and stopper.status()["first_stop"] == {"update": 5, "version": 14}


def test_a_version_recorded_by_another_thread_during_predict_is_not_counted_twice():
    stopper = StabilizingPredictions(window=2)
    predictions = np.array([0, 1, 2, 0, 1, 2])

    class SlowModel:  # while it predicts, another thread records the same model version
        def predict(self, X):
            stopper.update(predictions, version=7)
            return predictions

    stopper.update(predictions, version=6)
    status = stopper.update(SlowModel(), np.zeros((6, 1)), version=7)
    assert status["n_updates"] == 2 and stopper.agreements == [1.0]


def test_a_repeated_version_is_not_counted_twice():
    stopper = StabilizingPredictions(window=2)
    predictions = np.array([0, 1, 0, 1])
    stopper.update(predictions, version=1)
    stopper.update(predictions, version=2)
    for _ in range(3):
        status = stopper.update(predictions, version=2)
    assert status["n_updates"] == 2 and not status["stop"]
    assert stopper.update(predictions, version=3)["stop"]


@pytest.mark.parametrize("size, n_candidates, expected", [(10, 50, 10), (100, 30, 30), (1, 1, 1)])
def test_stop_set_is_drawn_once_from_the_candidates(size, n_candidates, expected):
    candidates = np.arange(1000, 1000 + 2 * n_candidates, 2)
    stopper = StabilizingPredictions(stop_set_size=size, random_state=0)
    chosen = stopper.choose_stop_set(candidates)
    assert len(chosen) == expected and len(set(chosen.tolist())) == expected
    assert set(chosen.tolist()) <= set(candidates.tolist())
    assert np.all(np.diff(chosen) > 0)
    again = stopper.choose_stop_set(np.arange(5))  # a second call keeps the first stop set
    np.testing.assert_array_equal(again, chosen)
    other = StabilizingPredictions(stop_set_size=size, random_state=0).choose_stop_set(candidates)
    np.testing.assert_array_equal(other, chosen)  # reproducible from the seed


def test_stop_rows_takes_the_stop_set_from_arrays_and_lists():
    stopper = StabilizingPredictions(stop_set_size=3, random_state=1)
    with pytest.raises(RuntimeError, match="choose_stop_set"):
        stopper.stop_rows(np.zeros((5, 2)))
    chosen = stopper.choose_stop_set(range(10))
    X = np.arange(20).reshape(10, 2)
    np.testing.assert_array_equal(stopper.stop_rows(X), X[chosen])
    texts = [f"text {i}" for i in range(10)]
    assert stopper.stop_rows(texts) == [texts[i] for i in chosen]
    with pytest.raises(ValueError, match="rows"):
        stopper.stop_rows(X[: chosen[-1]])


def test_predictions_must_cover_the_whole_stop_set():
    stopper = StabilizingPredictions(stop_set_size=4, random_state=0)
    stopper.choose_stop_set(range(10))
    with pytest.raises(ValueError, match="stop set has 4 items"):
        stopper.update(np.zeros(3, dtype=int))
    assert stopper.n_updates == 0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"threshold": "high"}, TypeError, "threshold"),
        ({"window": 0}, ValueError, "window"),
        ({"window": 2.5}, TypeError, "window"),
        ({"stop_set_size": 0}, ValueError, "stop_set_size"),
        ({"agreement": "pearson"}, ValueError, "agreement"),
    ],
)
def test_bad_parameters_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        StabilizingPredictions(**kwargs)


def test_bad_candidates_and_models_are_named():
    with pytest.raises(ValueError, match="candidates is empty"):
        StabilizingPredictions().choose_stop_set([])
    with pytest.raises(TypeError, match="pool indices"):
        StabilizingPredictions().choose_stop_set([0.5, 1.5])
    with pytest.raises(TypeError, match="fitted model with predict"):
        StabilizingPredictions().update([0, 1], np.zeros((2, 2)))


def test_kappa_refuses_a_regressors_predictions_and_points_to_concordance():
    stopper = StabilizingPredictions()
    stopper.update(np.array([0.0, 1.0, 2.0]))  # whole numbers stored as floats are classes
    with pytest.raises(ValueError, match="agreement='concordance'"):
        stopper.update(np.array([0.1, 1.2, 2.3]))


def test_concordance_mode_stops_when_a_regressor_settles():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(300, 1))
    y = 2 * X[:, 0] + rng.normal(scale=0.5, size=300)
    stopper = StabilizingPredictions(agreement="concordance", stop_set_size=100, random_state=0)
    stop_set = stopper.choose_stop_set(np.arange(200, 300))
    X_stop = stopper.stop_rows(X)
    fired_at = None
    for n in (2, 4, 8, 16, 32, 64, 100, 150, 200):
        status = stopper.update(LinearRegression().fit(X[:n], y[:n]), X_stop)
        if status["stop"] and fired_at is None:
            fired_at = n
    assert set(stop_set.tolist()) <= set(range(200, 300))
    assert fired_at is not None and fired_at >= 16  # two labels give a rough line: not stable at once
    assert all(a <= 1.0 for a in stopper.agreements)


# ---------------------------------------------------------------------- with a Session


def test_module_docstring_example_runs_and_stops_before_the_pool_runs_out():
    code = re.search(r"Example::\n\n(.*?)\n\n``update``", stopping.__doc__, re.S).group(1)
    namespace: dict = {}
    exec(compile("\n".join(line[4:] for line in code.splitlines()), "stopping example", "exec"), namespace)
    session, stopper = namespace["session"], namespace["stopper"]
    assert stopper.stop
    assert WINDOW_MIN_LABELS <= session.n_labeled < session.n_pool
    assert len(stopper.stop_set) == 1000
    assert namespace["status"]["n_updates"] == session.model_version


WINDOW_MIN_LABELS = 40  # 3 stable updates after the first of batches of 10


def test_stop_set_comes_from_the_unlabeled_pool_of_a_session():
    digits = alw.datasets.load_digits()
    session = alw.Session(LogisticRegression(max_iter=500), digits.X[:300], random_state=0)
    session.teach([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], list(digits.y[:10]))
    stopper = StabilizingPredictions(stop_set_size=50, random_state=0)
    chosen = stopper.choose_stop_set(session.unlabeled)
    assert not set(chosen.tolist()) & set(session.labels)
    status = stopper.update(session.learner, stopper.stop_rows(session.X_pool), version=session.model_version)
    assert status["n_updates"] == 1 and status["stop_set_size"] == 50
