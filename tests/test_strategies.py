"""Every registered strategy on digits (and on a regression set where it applies)."""

import numpy as np
import pytest
from modAL.models import ActiveLearner
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets import strategies

N_LABELED = 40


@pytest.fixture(scope="module")
def digits():
    return alw.datasets.load_digits()


def _fitted(learner, X, y, n=N_LABELED, random_state=0):
    rng = np.random.RandomState(random_state)
    idx = rng.choice(len(X), n, replace=False)
    learner.teach(X[idx], y[idx])
    return learner


def learner_for(name, data):
    """A fitted learner of the kind the strategy needs."""
    strategy = strategies.get(name)
    if "regressor" in strategy.requires:
        kernel = RBF(1.0) + WhiteKernel(0.1)
        sin = alw.datasets.load_sin(n_samples=120)
        learner = ActiveLearner(GaussianProcessRegressor(kernel=kernel, random_state=0))
        return _fitted(learner, sin.X, sin.y, n=10), sin.X
    if "multi_label" in strategy.requires:
        # three attributes of each digit, several of which may hold at once: even, at least 5, prime
        Y = np.column_stack([data.y % 2 == 0, data.y >= 5, np.isin(data.y, [2, 3, 5, 7])]).astype(int)
        learner = ActiveLearner(alw.multilabel.default_model())
        return _fitted(learner, data.X, Y), data.X
    if "committee" in strategy.requires:
        learner = alw.make_committee(LogisticRegression(max_iter=300), n_members=3, random_state=0)
    else:
        learner = ActiveLearner(LogisticRegression(max_iter=300))
    return _fitted(learner, data.X, data.y), data.X


@pytest.mark.parametrize("name", strategies.available())
@pytest.mark.parametrize("n_instances", [1, 7])
def test_strategy_returns_valid_indices_and_scores(name, n_instances, digits):
    learner, X = learner_for(name, digits)
    indices, scores = strategies.get(name)(learner, X, n_instances=n_instances, random_state=0)
    assert indices.dtype.kind == "i"
    assert len(indices) == n_instances == len(set(indices.tolist()))
    assert ((indices >= 0) & (indices < len(X))).all()
    assert scores.shape == (len(X),)
    assert np.isfinite(scores[indices]).all()


@pytest.mark.parametrize("name", strategies.available())
def test_strategy_is_reproducible_with_random_state(name, digits):
    learner, X = learner_for(name, digits)
    first = strategies.get(name)(learner, X, n_instances=5, random_state=0)
    second = strategies.get(name)(learner, X, n_instances=5, random_state=0)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("name", strategies.available())
def test_single_picks_are_the_best_scored(name, digits):
    strategy = strategies.get(name)
    learner, X = learner_for(name, digits)
    indices, scores = strategy(learner, X, n_instances=1, random_state=0)
    assert scores[indices[0]] == pytest.approx(np.nanmax(scores))


@pytest.mark.parametrize("name", strategies.available())
def test_every_strategy_has_a_one_line_description(name):
    description = strategies.get(name).description
    assert description.startswith("Prefers")
    assert len(description) < 120


def test_uncertainty_strategies_prefer_items_near_the_boundary():
    # 1-D, two classes split at 0: the most uncertain items are those near 0.
    X = np.linspace(-3, 3, 61).reshape(-1, 1)
    y = (X.ravel() > 0).astype(int)
    learner = ActiveLearner(LogisticRegression(), X_training=X[[0, 5, 55, 60]], y_training=y[[0, 5, 55, 60]])
    for name in ("least_confident", "margin", "entropy"):
        indices, _ = strategies.get(name)(learner, X, n_instances=3)
        assert np.abs(X[indices]).max() <= 0.3, name


def test_ranked_batch_spreads_a_batch_more_than_top_uncertainty(digits):
    learner, X = learner_for("ranked_batch", digits)
    batch, _ = strategies.get("ranked_batch")(learner, X, n_instances=10)
    top, _ = strategies.get("least_confident")(learner, X, n_instances=10)

    def spread(idx):
        d = np.linalg.norm(X[idx][:, None] - X[idx][None], axis=-1)
        return d[np.triu_indices(len(idx), 1)].min()

    assert spread(batch) > spread(top)


def test_available_for_a_learner_lists_only_what_runs(digits):
    single, _ = learner_for("margin", digits)
    names = strategies.available(single)
    assert "margin" in names and "vote_entropy" not in names and "max_std" not in names
    regressor, _ = learner_for("max_std", digits)
    names = strategies.available(regressor)
    assert {"random", "max_std"} <= set(names)
    assert all("classifier" not in strategies.get(n).requires for n in names)


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="available strategies: random, "):
        strategies.get("nope")


def test_n_instances_must_be_positive(digits):
    learner, X = learner_for("margin", digits)
    with pytest.raises(ValueError, match="n_instances"):
        strategies.get("margin")(learner, X, n_instances=0)


def test_expected_error_reduction_scores_only_a_subsample(digits):
    learner, X = learner_for("expected_error_reduction", digits)
    _, scores = strategies.get("expected_error_reduction")(learner, X, n_instances=1, random_state=0)
    assert np.isfinite(scores).sum() == strategies.EER_CANDIDATES


def test_register_adds_a_custom_strategy(digits):
    def first_rows(learner, X, random_state=None):
        """Prefers the first rows (a test strategy)."""
        return -np.arange(len(X), dtype=float)

    strategies.register("first_rows_test", first_rows)
    try:
        learner, X = learner_for("margin", digits)
        np.testing.assert_array_equal(strategies.get("first_rows_test")(learner, X, 3)[0], [0, 1, 2])
        assert "first_rows_test" in strategies.available(learner)
    finally:
        strategies.unregister("first_rows_test")


@pytest.mark.parametrize("name", strategies.available())
def test_the_measure_alone_gives_the_scores_of_a_query(name, digits):
    # Stream sampling and "why this one?" use the measure without the selector: it must be the same scores.
    strategy = strategies.get(name)
    learner, X = learner_for(name, digits)
    _, scores = strategy(learner, X, n_instances=3, random_state=0)
    np.testing.assert_array_equal(strategy.scores(learner, X, random_state=0), scores)


def test_requirements_are_checked_in_order_and_named():
    with pytest.raises(ValueError, match="unknown requirements"):
        strategies.register("bad_requirement_test", lambda learner, X, random_state=None: X, requires=("gpu",))
    assert "bad_requirement_test" not in strategies.available()
    committee_regressor = alw.make_committee(GaussianProcessRegressor(), n_members=2, random_state=0)
    # vote_entropy requires a committee first, then a classifier: a committee of regressors fails the second
    assert "is for classifiers" in strategies.get("vote_entropy").problem(committee_regressor)
    single = ActiveLearner(LogisticRegression())
    assert "committee" in strategies.get("vote_entropy").problem(single)


def test_registering_a_name_twice_is_refused_unless_replace(digits):
    from alwidgets._validation import InvalidParameterError

    def first_rows(learner, X, random_state=None):
        """Prefers the first rows (a test strategy)."""
        return -np.arange(len(X), dtype=float)

    def last_rows(learner, X, random_state=None):
        """Prefers the last rows (a test strategy)."""
        return np.arange(len(X), dtype=float)

    with pytest.raises(InvalidParameterError, match="'margin' is already registered.*replace=True"):
        strategies.register("margin", first_rows)
    assert strategies.get("margin").measure is strategies.margin  # the built-in one is untouched
    strategies.register("rows_test", first_rows)
    try:
        with pytest.raises(InvalidParameterError, match="'rows_test' is already registered"):
            strategies.register("rows_test", last_rows)
        names = strategies.available()
        replaced = strategies.register("rows_test", last_rows, replace=True)
        assert strategies.get("rows_test") is replaced and replaced.measure is last_rows
        assert strategies.available() == names  # replaced in place, not moved to the end
        learner, X = learner_for("margin", digits)
        np.testing.assert_array_equal(strategies.get("rows_test")(learner, X, 2)[0], [len(X) - 1, len(X) - 2])
    finally:
        strategies.unregister("rows_test")


def test_the_registry_loads_no_module_by_name_and_the_facade_keeps_every_name():
    import inspect

    from alwidgets.strategies import _registry

    source = inspect.getsource(_registry)
    assert "import_module" not in source and "PLUGINS" not in source
    for name in ("margin", "entropy", "least_confident", "random_scores", "max_std", "vote_entropy_scores",
                 "expected_error_reduction", "EER_CANDIDATES", "information_density", "ranked_batch", "features",
                 "top_n", "MULTI_LABEL_DEFAULTS", "diversity", "transfer", "multilabel", "min_max"):
        assert hasattr(strategies, name), name
    assert strategies.available()[:4] == ["random", "least_confident", "margin", "entropy"]
    assert strategies.available().index("max_std") == 10  # the built-ins keep their dropdown order
