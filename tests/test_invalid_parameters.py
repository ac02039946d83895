"""One error type for a bad parameter: every count, number, flag and choice the layers take is checked alike.

As in scikit-learn's ``test_common``: each public entry point that expects an
integer count is called with a float, a bool and a negative number, and must
raise :class:`~alwidgets._validation.InvalidParameterError` (a ValueError and
a TypeError) naming the argument, before it does any work. Numbers out of
range, flags that are not True or False, unknown choices and objects of the
wrong kind raise it too. (Data that does not fit, such as ``X`` and ``y`` of
different lengths, and actions the state does not allow stay plain ValueErrors.)
"""

from __future__ import annotations

import numpy as np
import pytest
from modAL.models import ActiveLearner
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

import alwidgets as alw
from alwidgets import _learners, datasets, experiments, plots, strategies
from alwidgets._validation import InvalidParameterError, check_int
from alwidgets.engine.review import rank_disagreement
from alwidgets.engine.stopping import StabilizingPredictions
from alwidgets.experiments import curves
from alwidgets.experiments.baseline import RandomBaseline
from alwidgets.store import MemoryStore, open_store
from alwidgets.store.agreement import fleiss_kappa
from alwidgets.store.export import export_events
from alwidgets.strategies import expected_error, transfer
from alwidgets.widgets import background, live_plots, race_drawing, views
from alwidgets.widgets.comparison import StrategyComparison

X = np.arange(40, dtype=float).reshape(20, 2)
Y = np.arange(20) % 2
SCORES = np.linspace(0.0, 1.0, 20)


def _session(**kwargs):
    return alw.Session(LogisticRegression(), X, random_state=0, **kwargs)


def _taught_session():
    session = _session(strategy="random")
    session.teach([0, 1, 2, 3], [0, 1, 0, 1])
    return session


def _race(**kwargs):
    kwargs.setdefault("budget", 10)
    return alw.Comparison(LogisticRegression(), X, Y, ["random", "margin"], random_state=0, **kwargs)


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
    ("Session.overlap", "overlap", lambda v, _: _session(overlap=v)),
    ("Session.candidates", "candidates", lambda v, _: _session(candidates=v)),
    ("StabilizingPredictions.window", "window", lambda v, _: StabilizingPredictions(window=v)),
    ("Protocol.batch", "batch", lambda v, _: experiments.TODAY.with_(batch=v)),
    ("Stream.budget", "budget", lambda v, _: alw.Stream(_session(), budget=v)),
    ("Comparison.n_initial", "n_initial", lambda v, _: _race(n_initial=v)),
    ("labels_saved.smooth", "smooth", lambda v, _: curves.labels_saved({"random": []}, smooth=v)),
    ("plot_decision_boundary.resolution", "resolution",
     lambda v, _: plots.plot_decision_boundary(_taught_session(), resolution=v)),
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
    # engine
    (lambda: _session(lease_timeout=0), "lease_timeout must be a positive number of seconds"),
    (lambda: _session(lease_timeout="10"), "lease_timeout must be a number of seconds"),
    (lambda: _session(annotator="  "), "annotator must be a non-empty name"),
    (lambda: _session(warm_start="yes"), "warm_start must be True or False"),
    (lambda: _session(online=1), "online must be True or False"),
    (lambda: _session(multi_label="no"), "multi_label must be True or False"),
    (lambda: _session(stopping=[0.99]), "stopping must be a dict"),
    (lambda: _session(stopping={"patience": 3}), "stopping takes threshold, window, stop_set_size; got 'patience'"),
    (lambda: _session(scoring=3), "scoring must be a scorer name"),
    (lambda: _session().simulate([0, 1], 2), "oracle must be a callable or an array of 20 true labels"),
    (lambda: StabilizingPredictions(threshold=1.5), "threshold must be between -1 and 1"),
    (lambda: StabilizingPredictions(threshold="high"), "threshold must be a number"),
    (lambda: StabilizingPredictions(agreement="cohen"), "agreement must be one of 'concordance', 'kappa'; got 'cohen'"),
    (lambda: StabilizingPredictions().update([0, 1], X_stop=X), "with X_stop, the first argument must be a fitted model"),
    (lambda: rank_disagreement(X, Y, object()), "estimator must be a scikit-learn classifier"),
    (lambda: rank_disagreement(X, Y, Ridge()), "estimator is a regressor"),
    # experiments
    (lambda: experiments.TODAY.with_(model="cnn"), "model must be one of 'refit', 'online'; got 'cnn'"),
    (lambda: experiments.make_model("cnn"), "model must be one of 'refit', 'online'; got 'cnn'"),
    (lambda: alw.Stream(LogisticRegression()), "session must be an alwidgets Session"),
    (lambda: alw.Stream(_session(), threshold=None, budget=None), "give a threshold"),
    (lambda: alw.Stream(_session(), threshold=-0.1), "threshold must be at least 0"),
    (lambda: alw.Stream(_session(), threshold="high"), "threshold must be a number such as 0.2"),
    (lambda: alw.Stream(_session(), budget=1.5), "budget must be an int .* or a fraction in \\(0, 1\\]"),
    (lambda: alw.Stream(_session(), measure="loudness"), "measure must be one of 'auto', 'least_confident'"),
    (lambda: _race(oracle_noise=1.5), "oracle_noise must be between 0"),
    (lambda: _race(oracle_noise="lots"), "oracle_noise must be a number"),
    (lambda: _race(budget=100), "budget 100 is larger than the unlabeled pool"),
    (lambda: _race().restart(speed=2), "restart\\(\\) got unknown settings \\['speed'\\]"),
    (lambda: alw.Comparison(ActiveLearner(LogisticRegression()), X, Y), "model must be a plain scikit-learn"),
    (lambda: alw.Comparison("a model", X, Y), "model must be a scikit-learn estimator"),
    (lambda: alw.Comparison(LogisticRegression(), X, Y, "margin"), "strategies must be a list of names"),
    (lambda: alw.Comparison(LogisticRegression(), X, Y, ["random", "you"]), "person's own lane"),
    (lambda: alw.Comparison(LogisticRegression(), X, Y, ["random", "random"]), "strategies holds a name twice"),
    (lambda: RandomBaseline(LogisticRegression(), X, Y, X, Y, scoring=3), "scoring must be a scorer name"),
    (lambda: RandomBaseline("a model", X, Y, X, Y), "model must be a scikit-learn estimator"),
    (lambda: RandomBaseline(LogisticRegression(), X, Y, X, Y).curve([25]), "a budget must be between 0 and"),
    (lambda: curves.labels_saved({"random": []}, reference="margin"), "reference 'margin' is not among the curves"),
    (lambda: curves.labels_saved({"random": [{"n_labels": 2, "score": 0.5}]}, target="high"),
     "target must be a finite score"),
    # plots
    (lambda: plots.plot_learning_curve(5), "curves must be one history"),
    (lambda: plots.plot_seed_curves([]), "runs must be a dict"),
    (lambda: plots.plot_ratio_curve([]), "ratios must be a dict"),
    (lambda: plots.plot_regression(_taught_session()), "plot_regression needs a regressor's session"),
    (lambda: plots.plot_decision_boundary(_taught_session(), query="a"), "query must be a pool index"),
    (lambda: plots.plot_learning_curve([], ax="axes"), "ax must be a matplotlib Axes"),
    (lambda: plots.figure_to_png("figure"), "fig_or_ax must be a matplotlib Figure or Axes"),
    (lambda: plots.nearest_item(_taught_session(), (1, 2, 3)), "xy must be one 2-D point"),
    (lambda: plots.plot_decision_boundary(_taught_session(), projection="pca"), "projection must come from"),
])
def test_a_bad_choice_or_kind_of_parameter_is_an_invalid_parameter_error(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: StrategyComparison(None, speed=0),
     "speed must be a positive number of steps per second"),
    (lambda: StrategyComparison(None, n_candidates=99),
     "n_candidates must be at most"),
    (lambda: StrategyComparison(_race(), X),
     "pass either a Comparison, or the arguments of a new one"),
    (lambda: race_drawing.choose_view("radar", True, None),
     "view must be one of 'auto', "),
    (lambda: live_plots.plot_names(["radar"], None, False),
     "unknown plots \\['radar'\\]"),
    (lambda: views.get(42, _session()), "view must be None"),
    (lambda: views.get("radar", _session()), "unknown view"),
    (lambda: background.cached_data("no name", dict),
     "name must be a plain word"),
    (lambda: background.BackgroundRun("compute"),
     "compute must be a function"),
    (lambda: alw.Labeler(_session(classes=[0, 1]), classes=[0, 5]), "classes \\[5\\] are not among the session's classes"),
    (lambda: alw.Labeler(_session(), multi_label=True), "multi_label=True does not match the session"),
])
def test_a_widget_refuses_a_bad_parameter_with_an_invalid_parameter_error(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()
