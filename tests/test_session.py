"""The Session loop without Jupyter: query, teach, skip, undo, simulate, bad input."""

import numpy as np
import pandas as pd
import pytest
from modAL.models import ActiveLearner, Committee
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import alwidgets as alw
from alwidgets.store import MemoryStore


@pytest.fixture(scope="module")
def digits():
    pool, test = alw.datasets.split(alw.datasets.load_digits(), random_state=0)
    return pool, test


@pytest.fixture(scope="module")
def sin():
    data = alw.datasets.load_sin(n_samples=120, random_state=0)
    return data


def make_classifier_session(digits, **kwargs):
    pool, test = digits
    kwargs.setdefault("random_state", 0)
    return alw.Session(LogisticRegression(max_iter=500), pool.X, X_test=test.X, y_test=test.y, **kwargs)


def make_regression_session(sin, **kwargs):
    kernel = RBF(length_scale=1.0) + WhiteKernel(noise_level=0.1)
    kwargs.setdefault("random_state", 0)
    kwargs.setdefault("strategy", "max_std")
    return alw.Session(GaussianProcessRegressor(kernel=kernel, random_state=0), sin.X, X_test=sin.X, y_test=sin.y,
                       **kwargs)


@pytest.fixture(params=["classification", "regression"])
def task(request, digits, sin):
    if request.param == "classification":
        return make_classifier_session(digits), digits[0].y
    return make_regression_session(sin), sin.y


def test_query_never_returns_labeled_or_skipped(task):
    session, y = task
    session.simulate(y, 12)
    session.skip(session.query(1)[0])
    picks = session.query(5)
    assert len(picks) == len(set(picks)) == 5
    assert not set(picks) & set(session.labels)
    assert not set(picks) & session.skipped
    assert all(0 <= i < session.n_pool for i in picks)


def test_teach_records_label_fits_and_scores(task):
    session, y = task
    session.simulate(y, 10)
    assert session.n_labeled == 10
    assert session.is_fitted
    first_x = session.learner.X_training if not hasattr(session.learner, "learner_list") else None
    assert first_x is not None and len(first_x) == 10
    assert [h["n_labels"] for h in session.history] == list(range(1, 11))
    assert session.history[-1]["score"] is not None
    assert session.history[-1]["strategy"] == session.strategy
    assert session.history[-1]["seconds"] >= 0


def test_held_out_score_improves_with_labels(digits):
    session = make_classifier_session(digits, strategy="margin")
    session.simulate(digits[0].y, 60)
    scores = [h["score"] for h in session.history if h["score"] is not None]
    assert scores[-1] > scores[0] + 0.2
    assert scores[-1] > 0.8


def test_undo_takes_back_the_last_label_and_the_model_forgets(task):
    session, y = task
    session.simulate(y, 6)
    last = list(session.labels)[-1]
    before = session.n_labeled
    change = session.undo()
    assert change.items == (last,) and not change.relabel
    idx = last
    assert last not in session.labels and session.n_labeled == before - 1
    assert len(session.learner.X_training) == before - 1
    assert session.history[-1]["event"] == "undo"
    # the undone item can be asked and labeled again
    session.teach(idx, y[idx])
    assert session.labels[idx] == pytest.approx(y[idx])


def test_undo_with_nothing_to_undo_returns_none(digits):
    assert make_classifier_session(digits).undo() is None


def test_undo_back_to_one_class_unfits_the_classifier(digits):
    session = make_classifier_session(digits)
    y = digits[0].y
    zero, one = int(np.flatnonzero(y == 0)[0]), int(np.flatnonzero(y == 1)[0])
    session.teach(zero, 0)
    session.teach(one, 1)
    assert session.is_fitted
    session.undo()
    assert not session.is_fitted
    assert session.query(3)  # cold start again: random picks, no error


def test_cold_start_one_class_never_errors(digits):
    session = make_classifier_session(digits)
    y = digits[0].y
    zeros = np.flatnonzero(y == 0)[:3]
    for i in zeros:
        session.teach(int(i), 0)
        assert len(session.query(2)) == 2
    assert not session.is_fitted
    assert session.history[-1]["score"] is None
    session.teach(int(np.flatnonzero(y == 7)[0]), 7)
    assert session.is_fitted
    assert len(session.learner.X_training) == 4
    assert session.history[-1]["score"] is not None


def test_same_seed_same_run(digits):
    runs = []
    for _ in range(2):
        session = make_classifier_session(digits, random_state=3)
        session.simulate(digits[0].y, 15)
        runs.append((list(session.labels), [h["score"] for h in session.history]))
    assert runs[0] == runs[1]


def test_simulate_with_callable_oracle_and_batches_reports_progress(digits):
    session = make_classifier_session(digits, strategy="ranked_batch")
    y = digits[0].y
    seen = []
    session.simulate(lambda i: y[i], 20, batch_size=5, progress=lambda done, total: seen.append((done, total)))
    assert session.n_labeled == 20
    assert seen == [(5, 20), (10, 20), (15, 20), (20, 20)]
    assert all(session.labels[i] == y[i] for i in session.labels)


def test_strategy_switch_takes_effect(digits):
    session = make_classifier_session(digits)
    session.simulate(digits[0].y, 10)
    session.strategy = "entropy"
    session.teach(session.query(1)[0], 1)
    assert session.history[-1]["strategy"] == "entropy"


def test_users_own_active_learner_with_initial_data(digits):
    pool, test = digits
    learner = ActiveLearner(LogisticRegression(max_iter=500), X_training=pool.X[:10], y_training=pool.y[:10])
    session = alw.Session(learner, pool.X[10:], X_test=test.X, y_test=test.y, random_state=0)
    assert session.learner is learner  # already fitted on its own data: used as it is until the first label
    assert session.is_fitted
    idx = session.query(1)[0]
    session.teach(idx, pool.y[10 + idx])
    assert len(session.learner.X_training) == 11
    assert len(learner.X_training) == 10  # a fresh clone learned it: the user's learner is never changed
    session.undo()
    assert len(session.learner.X_training) == 10  # the user's own data is kept
    np.testing.assert_array_equal(session.learner.X_training, pool.X[:10])


@pytest.mark.parametrize("strategy", ["vote_entropy", "consensus_entropy", "max_disagreement"])
def test_committee_session(digits, strategy):
    committee = alw.make_committee(LogisticRegression(max_iter=300), n_members=3, random_state=0)
    pool, test = digits
    session = alw.Session(committee, pool.X, strategy=strategy, X_test=test.X, y_test=test.y, random_state=0)
    session.simulate(pool.y, 15)
    assert all(len(m.X_training) == 15 for m in session.learner.learner_list)
    assert session.history[-1]["score"] > 0.3
    # bagged members disagree somewhere, so the strategy's scores are not all equal
    ranking = session.snapshot.ranking
    finite = ranking.scores[~np.isnan(ranking.scores)]
    assert finite.max() > finite.min()


def test_users_own_committee_is_used_as_given(digits):
    pool, _ = digits
    members = [ActiveLearner(LogisticRegression(C=c, max_iter=300)) for c in (0.1, 1.0, 10.0)]
    committee = Committee(learner_list=members)
    session = alw.Session(committee, pool.X, strategy="vote_entropy", random_state=0)
    session.simulate(pool.y, 8)
    assert isinstance(session.learner, Committee) and session.is_fitted
    assert [m.estimator.C for m in session.learner.learner_list] == [0.1, 1.0, 10.0]
    assert all(m.X_training is None for m in committee.learner_list)  # the user's committee is never changed


def test_dataframe_pool(digits):
    pool, test = digits
    frame = pd.DataFrame(pool.X, columns=[f"px{i}" for i in range(64)])
    test_frame = pd.DataFrame(test.X, columns=frame.columns)
    session = alw.Session(LogisticRegression(max_iter=300), frame, X_test=test_frame, y_test=test.y, random_state=0)
    session.simulate(pool.y, 12)
    assert isinstance(session.learner.X_training, pd.DataFrame)
    assert len(session.learner.X_training) == 12
    session.undo()
    assert len(session.learner.X_training) == 11


def test_text_pool_with_pipeline():
    reviews = alw.datasets.load_reviews(n_samples=300, random_state=0)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    session = alw.Session(model, list(reviews.texts), strategy="entropy", random_state=0, classes=["fresh", "rotten"])
    session.simulate(reviews.y, 12)
    assert session.is_fitted
    assert set(session.labels.values()) <= {"fresh", "rotten"}
    why = session.why(session.query(1)[0])
    assert {c for c, _ in why["top_classes"]} == {"fresh", "rotten"}


def test_why_reports_score_and_top_two_classes(digits):
    session = make_classifier_session(digits)
    session.simulate(digits[0].y, 20)
    idx = session.query(1)[0]
    why = session.why(idx)
    assert why["strategy"] == "margin"
    assert why["score"] == pytest.approx(np.nanmax(session.snapshot.ranking.scores))
    (c1, p1), (c2, p2) = why["top_classes"]
    assert p1 >= p2 and 1 - p1 + p2 == pytest.approx(why["score"])


def test_query_without_refresh_uses_the_last_ranking(digits):
    session = make_classifier_session(digits)
    session.simulate(digits[0].y, 10)
    first = session.query(3)
    session.record(first[0], digits[0].y[first[0]])
    assert session.query(2, refresh=False) == first[1:]
    version = session.model_version
    session.update()
    assert session.model_version == version + 1


class FailingClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("fit exploded")

    def predict(self, X):
        return np.zeros(len(X))

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


def test_no_label_is_lost_when_the_learner_fails(digits):
    pool, _ = digits
    session = alw.Session(FailingClassifier(), pool.X, random_state=0)
    session.teach(0, 0)  # one class: no fit attempted yet
    with pytest.raises(alw.LabelingError, match="recorded"):
        session.teach(1, 1)
    assert session.labels == {0: 0, 1: 1}
    assert [e.label for e in session.store.events()] == [0, 1]


@pytest.mark.parametrize(
    "pool, match",
    [
        (np.empty((0, 3)), "empty"),
        (np.arange(10.0), "2-D"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN"),
        (pd.DataFrame({"a": [1.0, None]}), "missing"),
        (None, "required"),
    ],
    ids=["empty", "1-D", "nan", "dataframe-nan", "none"],
)
def test_bad_pool_is_refused(pool, match):
    with pytest.raises(ValueError, match=match):
        alw.Session(LogisticRegression(), pool)


def test_unknown_strategy_lists_available_names():
    with pytest.raises(ValueError, match="available strategies: .*margin"):
        alw.Session(LogisticRegression(), np.eye(3), strategy="marginal")


@pytest.mark.parametrize(
    "model, strategy, match",
    [
        (LogisticRegression(), "vote_entropy", "committee"),
        (SVC(), "margin", "predict_proba"),
        (LogisticRegression(), "max_std", "regressor"),
        (GaussianProcessRegressor(), "margin", "classifier"),
    ],
    ids=["committee-on-single", "margin-no-proba", "max_std-on-classifier", "margin-on-regressor"],
)
def test_strategy_model_mismatch_is_refused_before_anything_changes(digits, model, strategy, match):
    pool, _ = digits
    session = alw.Session(model, pool.X, strategy="random", random_state=0)
    with pytest.raises(ValueError, match=match):
        session.strategy = strategy
    assert session.strategy == "random"
    store = MemoryStore()
    with pytest.raises(ValueError, match=match):  # the constructor checks what the setter checks
        alw.Session(model, pool.X, strategy=strategy, store=store)
    assert store.events() == []


@pytest.mark.parametrize(
    "model, expected",
    [(LogisticRegression(), "margin"), (GaussianProcessRegressor(), "max_std"), (SVC(), "random")],
    ids=["classifier", "regressor-with-std", "no-proba"],
)
def test_the_default_strategy_suits_the_model(digits, model, expected):
    assert alw.Session(model, digits[0].X[:50]).strategy == expected


@pytest.mark.parametrize(
    "idx, label, error, match",
    [
        (0, 42, ValueError, "not one of the known classes"),
        (10_000, 1, IndexError, "out of range"),
        (-1, 1, IndexError, "out of range"),
        ("3", 1, TypeError, "integer"),
        ([1, 2], [1], ValueError, "one per index"),
        ([1, 1], [1, 1], ValueError, "more than once"),
    ],
)
def test_bad_labels_are_refused_and_nothing_is_recorded(digits, idx, label, error, match):
    session = make_classifier_session(digits)
    with pytest.raises(error, match=match):
        session.teach(idx, label)
    assert session.labels == {} and session.store.events() == []


def test_labeling_an_item_twice_is_refused(digits):
    session = make_classifier_session(digits)
    session.teach(5, digits[0].y[5])
    with pytest.raises(ValueError, match="already labeled"):
        session.teach(5, 0)
    assert len(session.store.events()) == 1


def test_regression_label_must_be_a_number(sin):
    session = make_regression_session(sin)
    for bad in ("abc", float("nan")):
        with pytest.raises(ValueError, match="number"):
            session.teach(0, bad)
    assert session.labels == {}


def test_store_holds_append_only_events_with_stable_ids(digits):
    session = make_classifier_session(digits)
    session.teach(3, digits[0].y[3])
    session.skip(4)
    session.undo()
    kinds = [e.kind for e in session.store.events()]
    assert kinds == ["label", "skip", "retract"]
    assert session.store.events()[0].item_id == session.item_ids[3]
    # ids come from content: the same rows give the same ids in a new session
    assert make_classifier_session(digits).item_ids == session.item_ids


# ---------------------------------------------------------------------- candidates and online learning


@pytest.mark.parametrize("strategy", ["margin", "random", "entropy"])
def test_candidates_are_a_reproducible_subsample_of_the_open_pool(digits, strategy):
    pool, _ = digits

    def run(seed):
        session = alw.Session(LogisticRegression(max_iter=300), pool.X, strategy=strategy, random_state=seed,
                              candidates=50)
        session.simulate(pool.y, 20, batch_size=5)
        ranking = session.snapshot.ranking
        return list(session.labels), ranking

    first, ranking = run(0)
    again, _ = run(0)
    other, _ = run(1)
    assert first == again and first != other
    assert np.isfinite(ranking.scores).sum() == 50  # only the candidates were scored
    assert len(ranking.order) == 50 and not set(ranking.order.tolist()) & set(first)


def test_candidates_must_be_a_positive_count(digits):
    with pytest.raises(ValueError, match="candidates"):
        alw.Session(LogisticRegression(), digits[0].X, candidates=0)


def online_session(digits, **kwargs):
    from sklearn.linear_model import SGDClassifier

    pool, test = digits
    model = SGDClassifier(loss="log_loss", random_state=0)
    return alw.Session(model, pool.X, X_test=test.X, y_test=test.y, random_state=0, online=True,
                       classes=list(range(10)), **kwargs)


def test_an_online_learner_is_taught_only_each_new_batch(digits, monkeypatch):
    from sklearn.linear_model import SGDClassifier

    batches = []
    original = SGDClassifier.partial_fit

    def recording(self, X, y, classes=None, **kwargs):
        batches.append(list(np.asarray(y)))
        return original(self, X, y, classes=classes, **kwargs)

    monkeypatch.setattr(SGDClassifier, "partial_fit", recording)
    session = online_session(digits)
    pool, _ = digits
    session.simulate(pool.y, 30, batch_size=10)
    assert [len(b) for b in batches] == [10, 10, 10]  # each label seen once, when it arrived
    assert sum(batches, []) == list(session.snapshot.labels.values)
    assert session.snapshot.increments == (10, 10, 10)
    X_known, y_known = session.training_data()
    assert list(y_known) == list(session.labels.values()) and len(X_known) == 30
    assert session.history[-1]["score"] > 0.3  # three times chance after one pass over 30 labels


def test_undo_on_an_online_learner_rebuilds_it_from_the_label_log(digits):
    from alwidgets.store import RETRACT, LabelEvent

    session = online_session(digits)
    pool, _ = digits
    session.simulate(pool.y, 20, batch_size=10)
    last = session.snapshot.labels.indices[-1]  # another page of the same annotator takes one label back
    session.store.append_many([LabelEvent(session.item_ids[last], kind=RETRACT, label=session.labels[last])])
    session.update()
    assert last not in session.labels and session.snapshot.label_dict() == session.labels
    assert session.snapshot.increments == (10, 9)  # replayed in the batches it was first taught in
    rebuilt = online_session(digits)
    labels = session.snapshot.labels
    rebuilt.teach(list(labels.indices[:10]), list(labels.values[:10]))
    rebuilt.teach(list(labels.indices[10:]), list(labels.values[10:]))
    np.testing.assert_allclose(rebuilt.learner.estimator.coef_, session.learner.estimator.coef_)
    assert len(session.undo().items) == 9  # what is left of the last batch, whole
    assert session.snapshot.increments == (10,) and session.n_labeled == 10


def test_online_needs_partial_fit_and_the_classes(digits):
    pool, _ = digits
    with pytest.raises(ValueError, match="partial_fit"):
        alw.Session(LogisticRegression(), pool.X, online=True, classes=list(range(10)))
    from sklearn.linear_model import SGDClassifier

    with pytest.raises(ValueError, match="classes"):
        alw.Session(SGDClassifier(loss="log_loss"), pool.X, online=True)


# ---------------------------------------------------------------------- warm start


def warm_and_cold(digits, **kwargs):
    """Two Sessions on the same model, warm-started and not, taught the same 200 labels, then 20 more."""
    pool, test = digits
    model = LogisticRegression(max_iter=5000, tol=1e-8)  # converged: a warm and a cold fit reach the same optimum
    sessions = [alw.Session(model, pool.X, strategy="random", random_state=0, X_test=test.X, y_test=test.y,
                            warm_start=warm, **kwargs) for warm in (True, False)]
    firsts = []
    for session in sessions:
        session.teach(list(range(200)), list(pool.y[:200]))
        firsts.append(session.learner)
    first_coef = firsts[0].estimator.coef_.copy()
    for session in sessions:
        session.teach(list(range(200, 220)), list(pool.y[200:220]))
    return sessions, firsts[0], first_coef


def test_a_warm_start_refits_to_the_same_model_in_fewer_solver_iterations(digits):
    _, test = digits
    (warm, cold), _, _ = warm_and_cold(digits)
    assert warm.warm_start and not cold.warm_start
    assert warm.learner.estimator.n_iter_[0] < cold.learner.estimator.n_iter_[0]
    np.testing.assert_allclose(warm.learner.predict_proba(test.X), cold.learner.predict_proba(test.X), atol=1e-3)
    np.testing.assert_allclose(warm.learner.estimator.coef_, cold.learner.estimator.coef_, atol=1e-2)
    assert warm.score() == pytest.approx(cold.score(), abs=0.005) and warm.score() > 0.8


def test_a_warm_start_changes_neither_the_published_learner_nor_the_model_given(digits):
    (warm, _), first, first_coef = warm_and_cold(digits)
    assert warm.learner is not first and warm.learner.estimator is not first.estimator
    np.testing.assert_array_equal(first.estimator.coef_, first_coef)  # the previous snapshot's learner, as it was
    assert first.estimator.coef_ is not warm.learner.estimator.coef_
    assert first.estimator.warm_start is False and warm.learner.estimator.warm_start is True
    assert warm.trainer.template.estimator.warm_start is False and not hasattr(warm.trainer.template.estimator, "coef_")


def test_a_warm_start_is_only_taken_where_it_fits(digits):
    from alwidgets.engine.trainer import warm_start_from

    pool, _ = digits
    X, y = pool.X[:200], pool.y[:200]
    fitted = ActiveLearner(LogisticRegression(max_iter=500), X_training=X, y_training=y)
    assert warm_start_from(fitted, y, is_classifier=True) is not None
    three = y[np.isin(y, [0, 1, 2])]
    assert warm_start_from(fitted, three, is_classifier=True) is None  # other classes: other shapes, a cold fit
    assert warm_start_from(ActiveLearner(SVC(), X_training=X, y_training=y), y, is_classifier=True) is None
    committee = alw.make_committee(LogisticRegression(max_iter=500), n_members=2, random_state=0)
    assert warm_start_from(committee, y, is_classifier=True) is None
    # a new class arrives: the Session fits from scratch and goes on warm-starting after it
    session = alw.Session(LogisticRegression(max_iter=500), pool.X, strategy="random", random_state=0,
                          warm_start=True)
    zero_one = np.flatnonzero(np.isin(pool.y, [0, 1]))[:20]
    session.teach(list(zero_one), list(pool.y[zero_one]))
    rest = [i for i in range(200) if i not in set(zero_one)]
    session.teach(rest, list(pool.y[rest]))
    assert list(session.learner.estimator.classes_) == list(range(10)) and session.is_fitted


def test_warm_start_must_be_true_or_false(digits):
    from alwidgets._validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="warm_start must be True or False"):
        alw.Session(LogisticRegression(), digits[0].X, warm_start="yes")


def test_the_stopping_signal_follows_the_models_without_held_out_labels(digits):
    pool, _ = digits
    session = alw.Session(LogisticRegression(max_iter=500), pool.X, random_state=0)
    assert session.stopping()["n_updates"] == 0 and not session.stopping()["stop"]
    session.simulate(pool.y, 300, batch_size=20)
    status = session.stopping()
    assert status["n_updates"] == 15  # one per fitted model
    assert status["stop_set_size"] == min(2000, len(pool.X) - 20)  # drawn from what was unlabeled at the first fit
    assert len(status["window"]) == 3 and all(-1 <= k <= 1 for k in status["window"])
    assert status["stop"] == all(k >= 0.99 for k in status["window"])
