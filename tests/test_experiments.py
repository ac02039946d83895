"""The protocol engine of the seed-article benchmark: online and refit models, candidate subsamples, ratios, AUBC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

import alwidgets as alw
from alwidgets import experiments
from alwidgets.experiments import ARTICLE, TODAY


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    pool, test = alw.datasets.split(data, random_state=0)
    return pool.X, pool.y, test.X, test.y


@pytest.mark.parametrize(
    "changes, message",
    [({"model": "cnn"}, "model must be one of"), ({"candidates": 0}, "candidates must be at least 1"),
     ({"batch": 0}, "batch must be at least 1"), ({"strategy": "nope"}, "unknown strategy 'nope'")],
)
def test_a_bad_protocol_is_refused_with_a_clear_error(changes, message):
    with pytest.raises(ValueError, match=message):
        TODAY.with_(**changes)


def test_the_article_and_today_differ_in_the_three_run_time_choices():
    assert (ARTICLE.model, ARTICLE.candidates, ARTICLE.strategy, ARTICLE.batch) == ("online", 1000, "min_max_margin", 10)
    assert (TODAY.model, TODAY.candidates, TODAY.strategy, TODAY.batch) == ("refit", None, "least_confident", 10)
    assert "1,000 random candidates" in ARTICLE.describe() and "whole unlabeled pool" in TODAY.describe()


@pytest.mark.parametrize("protocol", [TODAY, ARTICLE.with_(candidates=200), ARTICLE.with_(strategy="random")])
def test_a_run_is_reproducible_with_its_seed(digits, protocol):
    X, y, X_test, y_test = digits
    first = experiments.learning_curve(X, y, X_test, y_test, protocol, budget=60, random_state=3)
    again = experiments.learning_curve(X, y, X_test, y_test, protocol, budget=60, random_state=3)
    other = experiments.learning_curve(X, y, X_test, y_test, protocol, budget=60, random_state=4)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert first.n_labels.tolist() == list(range(10, 61, 10))
    assert first.accuracy.between(0, 1).all()


def run_session(digits, protocol, n_batches, seed=0):
    """A protocol's Session, taught ``n_batches`` mini-batches of 10 as :func:`experiments.learning_curve` does."""
    X, y, _, _ = digits
    session = experiments.make_session(X, protocol, np.unique(y), seed)
    order = []
    for _ in range(n_batches):
        picks = session.query(10)
        session.teach(picks, list(y[picks]))
        order += picks
    return session, order


def test_the_session_gets_the_protocols_candidates_and_online_model(digits):
    session, _ = run_session(digits, ARTICLE.with_(candidates=150), 0)
    assert session.candidates == 150 and session.online and session.strategy == "min_max_margin"
    session, _ = run_session(digits, TODAY, 0)
    assert session.candidates is None and not session.online and session.strategy == "least_confident"


def test_an_online_model_is_taught_each_new_mini_batch_once_and_nothing_else(digits, monkeypatch):
    X, y, _, _ = digits
    taught = []
    partial_fit = MLPClassifier.partial_fit

    def spy_partial_fit(model, X_new, y_new, **kwargs):
        taught.append((np.asarray(X_new).copy(), np.asarray(y_new).copy()))
        return partial_fit(model, X_new, y_new, **kwargs)

    monkeypatch.setattr(MLPClassifier, "partial_fit", spy_partial_fit)
    session, order = run_session(digits, ARTICLE.with_(candidates=100), 6)
    assert [len(t[1]) for t in taught] == [10] * 6
    np.testing.assert_array_equal(np.concatenate([t[0] for t in taught]), X[order])  # the labeled rows, in order
    np.testing.assert_array_equal(np.concatenate([t[1] for t in taught]), y[order])
    assert len(set(order)) == 60 and session.is_fitted


def scored(session) -> set[int]:
    """The pool items the latest ranking scored: the candidates the strategy ranked."""
    return set(np.flatnonzero(~np.isnan(session.snapshot.ranking.scores)).tolist())


def test_candidates_are_a_random_subsample_of_the_unlabeled_pool(digits):
    _, y, _, _ = digits
    session, order = run_session(digits, ARTICLE.with_(candidates=150), 1)  # the first mini-batch is random
    drawn = []
    for _ in range(3):
        candidates = scored(session)
        assert len(candidates) == 150 and not candidates & set(order)
        picks = session.query(10)
        assert set(picks) <= candidates
        session.teach(picks, list(y[picks]))
        order += picks
        drawn.append(candidates)
    assert drawn[0] != drawn[1]  # drawn anew each time


def test_whole_pool_when_candidates_is_none(digits):
    X, _, _, _ = digits
    session, _ = run_session(digits, TODAY, 1)
    assert len(scored(session)) == len(X) - 10


def test_the_warm_started_refit_equals_a_fit_from_scratch(digits):
    X, y, X_test, _ = digits
    session, order = run_session(digits, TODAY.with_(strategy="random"), 8)
    cold = LogisticRegression(C=experiments.REFIT_C, max_iter=1000).fit(X[order], y[order])
    assert np.mean(session.learner.predict(X_test) == cold.predict(X_test)) >= 0.99


def test_the_refit_model_is_warm_started_by_the_session_and_the_online_one_is_not(digits):
    refit, _ = run_session(digits, TODAY, 8)  # 80 labels: every digit seen before the last fit
    online, _ = run_session(digits, ARTICLE.with_(candidates=100), 0)
    assert refit.warm_start and not online.warm_start
    assert isinstance(experiments.make_model("refit"), LogisticRegression)
    assert refit.learner.estimator.warm_start  # the second fit started from the first
    with pytest.raises(ValueError, match="model must be one of 'refit', 'online'; got 'cnn'"):
        experiments.make_model("cnn")


def test_a_refit_model_waits_for_two_classes_and_takes_new_classes_in_stride():
    X = np.arange(40, dtype=float).reshape(-1, 1)
    y = np.repeat([0, 1, 2, 3], 10)
    curve = experiments.learning_curve(X, y, X, y, TODAY.with_(batch=2), budget=40, random_state=0)
    assert curve.n_labels.iloc[-1] == 40
    assert curve.accuracy.iloc[-1] > 0.5


def test_learning_curve_reports_f1_of_the_positive_class(digits):
    X, y, X_test, y_test = digits
    binary, binary_test = (y == 3).astype(int), (y_test == 3).astype(int)
    curve = experiments.learning_curve(X, binary, X_test, binary_test, ARTICLE, budget=50, random_state=0,
                                       positive=1)
    assert list(curve.columns) == ["n_labels", "accuracy", "f1"]
    assert curve.f1.between(0, 1).all()


def test_learning_curve_checks_its_input():
    with pytest.raises(ValueError, match="X_pool has 3 rows but y_pool has 2"):
        experiments.learning_curve(np.zeros((3, 2)), [0, 1], np.zeros((2, 2)), [0, 1], TODAY)


# ---------------------------------------------------------------------- analysis


def test_smooth_is_a_trailing_mean():
    np.testing.assert_allclose(experiments.smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(experiments.smooth([1, 2, 3], 1), [1, 2, 3])


def test_labels_to_reach_is_a_measured_point_and_its_interpolated_twin_lies_between_points():
    n, s = [10, 20, 30], [0.5, 0.7, 0.9]
    assert experiments.labels_to_reach(n, s, 0.8) == 30
    assert experiments.interpolated_labels_to_reach(n, s, 0.8) == pytest.approx(25.0)
    for reach in (experiments.labels_to_reach, experiments.interpolated_labels_to_reach):
        assert reach(n, s, 0.4) == 10
        assert reach(n, s, 0.95) is None
    assert experiments.score_at(n, s, 25) == pytest.approx(0.8)
    assert np.isnan(experiments.score_at(n, s, 40))


def curve(n, scores):
    return pd.DataFrame({"n_labels": n, "accuracy": scores})


def test_ratio_at_is_budget_over_the_labels_active_needed():
    n = np.arange(10, 101, 10)
    random_curve = curve(n, n / 100)  # reaches 0.8 at 80 labels
    active_curve = curve(n, np.minimum(1, n / 40))  # reaches 0.8 at 32 labels
    r = experiments.ratio_at(random_curve, active_curve, 80)
    assert r.reached and r.target == pytest.approx(0.8)
    assert r.needed == pytest.approx(32.0)
    assert r.ratio == pytest.approx(2.5)


def test_ratio_at_is_a_bound_when_active_never_gets_there():
    n = np.arange(10, 101, 10)
    r = experiments.ratio_at(curve(n, n / 100), curve(n[:5], n[:5] / 200), 80)
    assert not r.reached and r.needed is None
    assert r.ratio == pytest.approx(80 / 50)


def test_ratio_at_refuses_a_budget_random_did_not_reach():
    n = np.arange(10, 51, 10)
    with pytest.raises(ValueError, match="does not cover budget 80"):
        experiments.ratio_at(curve(n, n / 100), curve(n, n / 100), 80)


@pytest.mark.parametrize(
    "scores, window, expected",
    [([1.0, 1.0, 1.0], None, 1.0), ([0.0, 0.5, 1.0], None, 0.5), ([0.0, 0.5, 1.0], (10, 20), 0.25),
     ([0.0, 0.5, 1.0], (15, 25), 0.5)],
)
def test_aubc_is_the_mean_height_of_the_curve_over_its_window(scores, window, expected):
    start, stop = window or (None, None)
    assert experiments.aubc([10, 20, 30], scores, start, stop) == pytest.approx(expected)


def test_aubc_refuses_a_window_outside_the_curve():
    with pytest.raises(ValueError, match="must lie inside"):
        experiments.aubc([10, 20], [0.5, 0.6], 5, 20)


def square(x):
    return x * x


@pytest.mark.parametrize("n_processes", [1, 2])
def test_run_jobs_yields_every_result(n_processes):
    assert sorted(experiments.run_jobs(square, range(6), n_processes)) == [0, 1, 4, 9, 16, 25]


def test_run_jobs_refuses_no_process():
    with pytest.raises(ValueError, match="n_processes must be at least 1"):
        list(experiments.run_jobs(square, [1], 0))


def test_cpu_seconds_grows_with_work():
    before = experiments.cpu_seconds()
    sum(i * i for i in range(300_000))
    assert experiments.cpu_seconds() > before


# ---------------------------------------------------------------------- the data and budgets of the MNIST article


def test_prepare_keeps_scale_images_holds_out_a_quarter_and_standardizes_on_the_pool():
    data = alw.datasets.load_digits()
    d = experiments.prepare(data, scale=800)
    assert d["n_images"] in (799, 800)  # a stratified draw of 800 of 1,797: the split rounds the rest up
    assert len(d["y_test"]) == round(d["n_images"] / 4) and len(d["y_pool"]) + len(d["y_test"]) == d["n_images"]
    assert d["X_pool"].dtype == np.float32
    used = d["X_pool"].std(axis=0) > 0
    np.testing.assert_allclose(d["X_pool"][:, used].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(d["X_pool"][:, used].std(axis=0), 1, atol=1e-3)
    again = experiments.prepare(data, scale=800)  # the same split for every seed and every caller
    np.testing.assert_array_equal(d["y_test"], again["y_test"])
    assert experiments.prepare(data)["n_images"] == len(data.y)
    with pytest.raises(ValueError, match="scale"):
        experiments.prepare(data, scale=0)


def test_the_article_budget_is_a_third_of_the_pool_and_refit_runs_stop_at_40_percent():
    assert experiments.article_budget(3750) == 1250  # as 20,000 of 60,000
    assert experiments.ARTICLE_BUDGET_FRACTION in experiments.RATIO_FRACTIONS
    assert experiments.full_budget(ARTICLE, 3750) == 3750
    assert experiments.full_budget(TODAY, 3750) == 1500
    random = experiments.random_protocol(ARTICLE)
    assert (random.strategy, random.candidates, random.model, random.batch) == ("random", None, "online", 10)
