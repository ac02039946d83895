"""One error type for a bad parameter: every count the foundation, store and strategy layers take is checked alike.

As in scikit-learn's ``test_common``: each public entry point that expects an
integer count is called with a float, a bool and a negative number, and must
raise :class:`~alwidgets._validation.InvalidParameterError` (a ValueError and
a TypeError) naming the argument, before it does any work.
"""

from __future__ import annotations

import numpy as np
import pytest
from modAL.models import ActiveLearner
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from alwidgets import _learners, datasets, strategies
from alwidgets._validation import InvalidParameterError, check_int
from alwidgets.store import MemoryStore, open_store
from alwidgets.store.agreement import fleiss_kappa
from alwidgets.store.export import export_events
from alwidgets.strategies import expected_error, transfer

X = np.arange(40, dtype=float).reshape(20, 2)
SCORES = np.linspace(0.0, 1.0, 20)


def _margin_query(value):
    return strategies.get("margin")(ActiveLearner(LogisticRegression()), X, n_instances=value)


def _sql_lease(tmp_path, **kw):
    store = open_store(tmp_path / "labels.db")
    try:
        return store.lease("alice", ["a", "b"], **kw)
    finally:
        store.close()


# (id, argument named in the message, call(value, tmp_path))
ENTRY_POINTS = [
    ("make_committee", "n_members", lambda v, _: _learners.make_committee(LogisticRegression(), n_members=v)),
    ("load_sin", "n_samples", lambda v, _: datasets.load_sin(n_samples=v)),
    ("make_moons", "n_samples", lambda v, _: datasets.make_moons(n_samples=v)),
    ("make_blobs", "n_samples", lambda v, _: datasets.make_blobs(n_samples=v)),
    ("make_blobs.centers", "centers", lambda v, _: datasets.make_blobs(centers=v)),
    ("load_mnist_skewed", "positive", lambda v, _: datasets.load_mnist_skewed(positive=v)),
    ("load_reviews", "n_samples", lambda v, _: datasets.load_reviews(n_samples=v)),
    ("load_review_or_plot", "n_samples", lambda v, _: datasets.load_review_or_plot(n_samples=v)),
    ("load_review_or_plot.max_chars", "max_chars", lambda v, _: datasets.load_review_or_plot(max_chars=v)),
    ("load_word_senses", "n_samples", lambda v, _: datasets.load_word_senses(n_samples=v)),
    ("load_csv", "max_text_chars", lambda v, tmp: datasets.load_csv(tmp / "none.csv", "text", max_text_chars=v)),
    ("strategy call", "n_instances", lambda v, _: _margin_query(v)),
    ("top_n", "n", lambda v, _: strategies.top_n(SCORES, v)),
    ("expected_error_reduction", "n_candidates",
     lambda v, _: expected_error.expected_error_reduction(None, X, n_candidates=v)),
    ("expected_error_reduction.n_evaluation", "n_evaluation",
     lambda v, _: expected_error.expected_error_reduction(None, X, n_evaluation=v)),
    ("expected_error_reduction.max_classes", "max_classes",
     lambda v, _: expected_error.expected_error_reduction(None, X, max_classes=v)),
    ("transfer_uncertainty", "n_folds", lambda v, _: transfer.transfer_uncertainty(None, X, n_folds=v)),
    ("atlas", "n_folds", lambda v, _: transfer.atlas(SCORES, 3, learner=None, X=X, n_folds=v)),
    ("atlas.n_rounds", "n_rounds", lambda v, _: transfer.atlas(SCORES, 3, learner=None, X=X, n_rounds=v)),
    ("transfer_representative_scores", "n_reference",
     lambda v, _: transfer.transfer_representative_scores(None, X, n_reference=v)),
    ("transfer_representative", "n_reference",
     lambda v, _: transfer.transfer_representative(SCORES, 3, learner=None, X=X, n_reference=v)),
    ("transfer_representative.n_rounds", "n_rounds",
     lambda v, _: transfer.transfer_representative(SCORES, 3, learner=None, X=X, n_rounds=v)),
    ("MemoryStore.lease", "n", lambda v, _: MemoryStore().lease("alice", ["a", "b"], n=v)),
    ("MemoryStore.lease.slots", "slots", lambda v, _: MemoryStore().lease("alice", ["a", "b"], slots=v)),
    ("SQLStore.lease", "n", lambda v, tmp: _sql_lease(tmp, n=v)),
    ("SQLStore.lease.slots", "slots", lambda v, tmp: _sql_lease(tmp, slots=v)),
]
BAD_COUNTS = [pytest.param(2.5, id="float"), pytest.param(True, id="bool"), pytest.param(-1, id="negative")]


@pytest.mark.parametrize("value", BAD_COUNTS)
@pytest.mark.parametrize("name, call", [pytest.param(arg, call, id=id_) for id_, arg, call in ENTRY_POINTS])
def test_a_count_that_is_a_float_a_bool_or_negative_is_refused_naming_it(name, call, value, tmp_path):
    with pytest.raises(InvalidParameterError, match=rf"\b{name}\b") as raised:
        call(value, tmp_path)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TypeError)


def test_a_whole_float_is_no_integer_and_numpy_integers_are():
    with pytest.raises(InvalidParameterError, match="n_members must be an integer; got 2.0"):
        _learners.make_committee(LogisticRegression(), n_members=2.0)
    assert len(_learners.make_committee(LogisticRegression(), n_members=np.int64(2)).learner_list) == 2
    assert check_int(np.int32(3), "k") == 3 and type(check_int(np.int32(3), "k")) is int
    with pytest.raises(InvalidParameterError, match="n_members must be at least 2; got 1"):
        _learners.make_committee(LogisticRegression(), n_members=1)


@pytest.mark.parametrize("call, match", [
    (lambda: strategies.get("no_such_strategy"), "unknown strategy 'no_such_strategy'"),
    (lambda: strategies.get(["margin"]), "unknown strategy"),
    (lambda: strategies.register("x", lambda learner, X: X, requires=("gpu",)), "unknown requirements"),
    (lambda: strategies.register("x", "not callable"), "measure must be callable"),
    (lambda: transfer.estimator_features(None, X, layers="first"), "layers must be 'last' or 'all'"),
    (lambda: transfer.register_feature_hook("MLPClassifier", len), "estimator_type must be a class"),
    (lambda: _learners.wrap("a model"), "model must be a scikit-learn estimator"),
    (lambda: _learners.make_committee(object()), "estimator must be a scikit-learn classifier or regressor"),
    (lambda: _learners.make_committee(StandardScaler()), "estimator must be a scikit-learn classifier or regressor"),
    (lambda: datasets.load_mnist_skewed(positive=10), "positive must be a digit from 0 to 9"),
    (lambda: datasets.load_mnist_skewed(fraction=1.5), "fraction must be a number between 0 and 1"),
    (lambda: datasets.load_csv(__file__, "text", encoding="no-such-codec"), "encoding 'no-such-codec'"),
    (lambda: export_events([], "labels.txt"), "must end in one of"),
    (lambda: export_events([], "labels.csv", what="votes"), "what must be one of"),
    (lambda: fleiss_kappa([1, 2, 3]), "counts must be a 2-D"),
    (lambda: open_store(42), "store must be None"),
])
def test_a_bad_choice_or_kind_of_parameter_is_an_invalid_parameter_error(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()
