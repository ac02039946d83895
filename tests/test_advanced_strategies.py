"""The strategies of alwidgets.strategies.transfer and alwidgets.strategies.diversity, on digits (and a regressor where one applies)."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from modAL.models import ActiveLearner
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import alwidgets as alw
from alwidgets import transfer

NEW = ["cluster_diversity", "representative", "transfer_uncertainty", "atlas", "transfer_representative"]
CLASSIFICATION_ONLY = ["cluster_diversity", "transfer_uncertainty", "atlas", "transfer_representative"]


@pytest.fixture(autouse=True)
def one_thread():
    # Several BLAS threads on a shared machine make small fits many times slower.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def digits():
    return alw.datasets.load_digits()


def fitted(data, n_labels, estimator=None, random_state=0):
    """A learner fitted on ``n_labels`` stratified labels, and the rest of the data as its pool."""
    labeled, pool = train_test_split(np.arange(len(data.y)), train_size=n_labels, stratify=data.y,
                                     random_state=random_state)
    estimator = estimator if estimator is not None else LogisticRegression(max_iter=1000)
    learner = ActiveLearner(estimator=estimator, X_training=data.X[labeled], y_training=data.y[labeled])
    return learner, data.X[pool]


def pool_labels(data, n_labels, random_state=0):
    """The true labels of the pool :func:`fitted` returns, in the same order."""
    _, pool = train_test_split(np.arange(len(data.y)), train_size=n_labels, stratify=data.y,
                               random_state=random_state)
    return data.y[pool]


def mlp_pipeline():
    return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(24, 16), max_iter=300, random_state=0))


@pytest.mark.parametrize("name", NEW)
def test_registered_with_a_description(name):
    assert name in alw.strategies.available()
    assert alw.strategies.get(name).description


@pytest.mark.parametrize("name", ["cluster_diversity", "atlas", "transfer_representative", "representative"])
def test_batch_strategies_are_batch_aware(name):
    # The Session re-ranks a batch-aware strategy when asked for a bigger batch than it chose.
    assert alw.strategies.get(name).batch_aware


@pytest.mark.parametrize("n_instances", [1, 10])
@pytest.mark.parametrize("name", NEW)
def test_valid_indices_and_scores(digits, name, n_instances):
    learner, X = fitted(digits, 60)
    idx, scores = alw.strategies.get(name)(learner, X, n_instances=n_instances, random_state=0)
    assert idx.shape == (n_instances,)
    assert len(set(idx.tolist())) == n_instances
    assert idx.min() >= 0 and idx.max() < len(X)
    assert scores.shape == (len(X),)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("name", NEW)
def test_reproducible_with_random_state(digits, name):
    learner, X = fitted(digits, 60)
    strategy = alw.strategies.get(name)
    first = strategy(learner, X, n_instances=10, random_state=0)
    second = strategy(learner, X, n_instances=10, random_state=0)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_allclose(first[1], second[1])


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("estimator", ["logistic", "mlp"])
def test_works_on_mlp_pipelines_and_linear_models(digits, name, estimator):
    learner, X = fitted(digits, 80, mlp_pipeline() if estimator == "mlp" else None)
    idx, scores = alw.strategies.get(name)(learner, X, n_instances=5, random_state=0)
    assert len(set(idx.tolist())) == 5 and scores.shape == (len(X),)


@pytest.mark.parametrize("name", NEW)
def test_works_on_a_committee(digits, name):
    labeled, pool = train_test_split(np.arange(len(digits.y)), train_size=60, stratify=digits.y, random_state=0)
    committee = alw.make_committee(LogisticRegression(max_iter=1000), n_members=3, random_state=0)
    committee.teach(digits.X[labeled], digits.y[labeled])
    idx, scores = alw.strategies.get(name)(committee, digits.X[pool], n_instances=5, random_state=0)
    assert len(set(idx.tolist())) == 5 and scores.shape == (len(pool),)


@pytest.mark.parametrize("n_labels", [2, 10])
@pytest.mark.parametrize("name", NEW)
def test_cold_start_with_few_labels(digits, name, n_labels):
    # 2 labels: two classes, one example each; 10: one example of each digit.
    labeled = np.concatenate([np.flatnonzero(digits.y == c)[:1] for c in range(n_labels)])
    pool = np.setdiff1d(np.arange(len(digits.y)), labeled)
    learner = ActiveLearner(estimator=LogisticRegression(max_iter=1000), X_training=digits.X[labeled],
                            y_training=digits.y[labeled])
    idx, scores = alw.strategies.get(name)(learner, digits.X[pool], n_instances=10, random_state=0)
    assert len(set(idx.tolist())) == 10 and idx.max() < len(pool)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("name", ["transfer_uncertainty", "atlas"])
def test_falls_back_to_least_confident_when_the_model_makes_no_errors(digits, name, caplog):
    # 0 against 1 is so easy that every held-out item is predicted correctly: nothing to learn errors from.
    binary = np.flatnonzero(digits.y < 2)
    labeled, pool = train_test_split(binary, train_size=30, stratify=digits.y[binary], random_state=0)
    learner = ActiveLearner(estimator=LogisticRegression(max_iter=1000), X_training=digits.X[labeled],
                            y_training=digits.y[labeled])
    with caplog.at_level(logging.INFO, logger="alwidgets.strategies.transfer"):
        idx, scores = alw.strategies.get(name)(learner, digits.X[pool], n_instances=5, random_state=0)
    expected_idx, expected_scores = alw.strategies.get("least_confident")(learner, digits.X[pool], n_instances=5)
    np.testing.assert_array_equal(idx, expected_idx)
    np.testing.assert_allclose(scores, expected_scores)
    assert any("falls back to least_confident" in r.getMessage() for r in caplog.records)


def test_transfer_uncertainty_finds_more_errors_than_random(digits):
    # The head predicts where the model is wrong: its picks should be misclassified far more often than chance.
    learner, X = fitted(digits, 100)
    wrong = learner.predict(X) != pool_labels(digits, 100)
    idx, _ = alw.strategies.get("transfer_uncertainty")(learner, X, n_instances=30, random_state=0)
    assert wrong[idx].mean() > 2 * wrong.mean()


def mean_pairwise_distance(Z, rows) -> float:
    d = pairwise_distances(Z[rows])
    return d[np.triu_indices(len(rows), k=1)].mean()


def nearest_neighbour_distance(Z, rows) -> float:
    """Mean distance from each batch item to the closest other item of the batch: small when items clump."""
    d = pairwise_distances(Z[rows])
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1).mean()


def test_cluster_diversity_batches_are_more_spread_out_than_top_k_uncertainty(digits):
    # Batches of 20, averaged over three labeled states so that one lucky split cannot decide it. In the raw
    # 64-pixel space distances concentrate, so the gap is real but modest (about 20% on digits).
    spread = {"cluster_diversity": [], "margin": []}
    classes = {"cluster_diversity": [], "margin": []}
    for state in range(3):
        learner, X = fitted(digits, 60, random_state=state)
        y = pool_labels(digits, 60, random_state=state)
        Z = alw.strategies.features(learner, X)
        for name in spread:
            idx, _ = alw.strategies.get(name)(learner, X, n_instances=20, random_state=0)
            spread[name].append(nearest_neighbour_distance(Z, idx))
            classes[name].append(len(set(y[idx])))
    assert np.mean(spread["cluster_diversity"]) > 1.1 * np.mean(spread["margin"])
    assert np.mean(classes["cluster_diversity"]) > np.mean(classes["margin"])  # it covers more of the digits


def test_cluster_diversity_takes_the_most_uncertain_item_of_each_cluster(digits):
    learner, X = fitted(digits, 60)
    idx, scores = alw.strategies.get("cluster_diversity")(learner, X, n_instances=1, random_state=0)
    assert idx[0] == np.argmax(scores)  # one cluster: the most uncertain item of the pool
    idx, scores = alw.strategies.get("cluster_diversity")(learner, X, n_instances=10, random_state=0)
    assert list(scores[idx]) == sorted(scores[idx], reverse=True)


def test_representative_batches_spread_out_instead_of_taking_the_top_scores(digits):
    learner, X = fitted(digits, 60)
    Z = alw.strategies.features(learner, X)
    batch, scores = alw.strategies.get("representative")(learner, X, n_instances=10, random_state=0)
    greedy_top = np.argsort(-scores)[:10]
    assert batch[0] == greedy_top[0]
    assert mean_pairwise_distance(Z, batch) > mean_pairwise_distance(Z, greedy_top)


def test_transfer_representative_tells_unlabeled_regions_apart_and_covers_them(digits):
    # Label only digits 0-4. The head's scores should single out the unseen digits 5-9, and relabeling each
    # pick as "training" should make the batch cover more of them than the ten best first-round scores do.
    low = np.flatnonzero(digits.y < 5)[:100]
    pool = np.setdiff1d(np.arange(len(digits.y)), low)
    unseen = digits.y[pool] >= 5
    learner = ActiveLearner(estimator=LogisticRegression(max_iter=1000), X_training=digits.X[low],
                            y_training=digits.y[low])
    idx, scores = alw.strategies.get("transfer_representative")(learner, digits.X[pool], n_instances=10,
                                                                 random_state=0)
    assert roc_auc_score(unseen, scores) > 0.85
    assert unseen[idx[0]]
    adaptive = set(digits.y[pool][idx][unseen[idx]])
    static = set(digits.y[pool][np.argsort(-scores)[:10]])
    assert len(adaptive) >= 4 and len(adaptive) > len(static & {5, 6, 7, 8, 9})


# ----------------------------------------------------------------- regression


@pytest.fixture(scope="module")
def regressor():
    sin = alw.datasets.load_sin(n_samples=120, random_state=0)
    labeled = np.flatnonzero(sin.X.ravel() < 6)[:8]  # every label on the left of [0, 20]
    pool = np.setdiff1d(np.arange(len(sin.y)), labeled)
    learner = ActiveLearner(estimator=GaussianProcessRegressor(RBF(1.0) + WhiteKernel(0.1), random_state=0),
                            X_training=sin.X[labeled], y_training=sin.y[labeled])
    return learner, sin.X[pool], sin.X[labeled]


@pytest.mark.parametrize("name", CLASSIFICATION_ONLY)
def test_classification_strategies_refuse_a_regressor_clearly(regressor, name):
    learner, X, _ = regressor
    assert name not in alw.strategies.available(learner)
    with pytest.raises(ValueError, match="is for classifiers.*regressor"):
        alw.strategies.get(name)(learner, X, n_instances=3)


def test_representative_runs_on_a_regressor_and_looks_away_from_the_labels(regressor):
    learner, X, X_labeled = regressor
    assert "representative" in alw.strategies.available(learner)
    idx, scores = alw.strategies.get("representative")(learner, X, n_instances=5, random_state=0)
    assert len(set(idx.tolist())) == 5 and scores.shape == (len(X),)
    # Every label lies left of x = 6: no pick should land among them, and the first goes far from them.
    assert np.all(X[idx].ravel() > X_labeled.max())
    nearest_label = np.abs(X - X_labeled.ravel()).min(axis=1)
    assert nearest_label[idx[0]] > np.median(nearest_label)


# ----------------------------------------------------------------- features


def test_mlp_hidden_layer_reproduces_predict_proba(digits):
    # The activations handed to the heads are the ones the network itself uses.
    learner, X = fitted(digits, 200, mlp_pipeline())
    H = transfer.hidden_features(learner, X)
    pipe = learner.estimator
    mlp = pipe[-1]
    assert H.shape == (len(X), 16)
    proba = softmax(H @ mlp.coefs_[-1] + mlp.intercepts_[-1], axis=1)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=1e-10)


def test_all_layers_are_inputs_hidden_layers_and_probabilities(digits):
    learner, X = fitted(digits, 200, mlp_pipeline())
    H = transfer.hidden_features(learner, X, layers="all")
    assert H.shape == (len(X), 64 + 24 + 16 + 2 * 10)


def test_default_features_are_probabilities_plus_their_sorted_copy(digits):
    learner, X = fitted(digits, 60)
    H = transfer.hidden_features(learner, X)
    proba = learner.predict_proba(X)
    np.testing.assert_allclose(H[:, :10], proba)
    np.testing.assert_allclose(H[:, 10], proba.max(axis=1))


class _Custom(LogisticRegression):
    """A stand-in for a model from another library whose hidden layer we can read."""


@pytest.fixture
def custom_hook():
    transfer.register_feature_hook(_Custom, lambda estimator, X: estimator.decision_function(X)[:, :3])
    yield
    transfer.register_feature_hook(_Custom, None)


def test_feature_hook_decides_what_the_heads_see(digits, custom_hook):
    learner, X = fitted(digits, 60, _Custom(max_iter=1000))
    H = transfer.hidden_features(learner, X)
    np.testing.assert_allclose(H, learner.estimator.decision_function(X)[:, :3])
    idx, _ = alw.strategies.get("transfer_uncertainty")(learner, X, n_instances=5, random_state=0)
    assert len(set(idx.tolist())) == 5


def test_feature_hook_registration_errors_name_the_argument():
    with pytest.raises(TypeError, match="estimator_type"):
        transfer.register_feature_hook("LogisticRegression", lambda e, X: X)
    with pytest.raises(TypeError, match="function"):
        transfer.register_feature_hook(_Custom, "not callable")
    with pytest.raises(ValueError, match="layers"):
        transfer.estimator_features(LogisticRegression(), np.zeros((1, 1)), layers="first")


# ----------------------------------------------------------------- inside a Session


@pytest.mark.parametrize("name", NEW)
def test_session_asks_for_a_batch_of_unlabeled_items(digits, name):
    session = alw.Session(LogisticRegression(max_iter=1000), digits.X, strategy=name, random_state=0)
    seeds = [int(np.flatnonzero(digits.y == c)[0]) for c in range(10)]
    session.teach(seeds, list(digits.y[seeds]))
    picks = session.query(10)
    assert len(set(picks)) == 10
    assert not set(picks) & set(seeds)
    session.teach(picks, list(digits.y[picks]))
    assert session.n_labeled == 20 and session.model_version == 2
