"""Multi-label sessions: a set of classes per item, stored, voted, exported, trained on and queried."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from modAL.models import ActiveLearner
from sklearn.datasets import make_multilabel_classification

import alwidgets as alw
from alwidgets import multilabel, strategies
from alwidgets._validation import LabelSet, check_label_set, label_from_json, label_to_json
from alwidgets.store import MemoryStore, majority, set_majority
from alwidgets.store.export import read_label_set

CLASSES = ["a", "b", "c", "d"]


@pytest.fixture(autouse=True)
def _quiet_constant_columns():
    # OneVsRestClassifier warns when a class column is all 0 or all 1 in a few labels: expected early on.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        yield


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(n_samples=160, n_features=6, n_classes=4, random_state=0)
    return X[:120], Y[:120], X[120:], Y[120:]


def make_session(data, **kwargs):
    X, _, X_test, Y_test = data
    kwargs = {"classes": CLASSES, "multi_label": True, "random_state": 0, **kwargs}
    return alw.Session(multilabel.default_model(), X, X_test=X_test, y_test=Y_test, **kwargs)


# ---------------------------------------------------------------------- label sets


@pytest.mark.parametrize("given, expected", [
    ({"a", "b"}, {"a", "b"}),
    (["b"], {"b"}),
    (("a", "c"), {"a", "c"}),
    (frozenset(), set()),
    ([], set()),
    (np.array(["d", "a"]), {"a", "d"}),
])
def test_a_label_set_is_any_collection_of_classes(given, expected):
    assert check_label_set(given, CLASSES) == LabelSet(expected)


@pytest.mark.parametrize("given, error, words", [
    ("ab", TypeError, "set of classes"),
    ("a", TypeError, "set of classes"),
    (3, TypeError, "set of classes"),
    ({"a": 1}, TypeError, "set of classes"),
    (["a", "z"], ValueError, "not one of the known classes"),
    (["a", "a"], ValueError, "more than once"),
    ([["a"]], TypeError, "cannot be stored"),
])
def test_a_bad_label_set_is_refused_with_words(given, error, words):
    with pytest.raises(error, match=words):
        check_label_set(given, CLASSES)


@pytest.mark.parametrize("label", [LabelSet({"a", "b"}), LabelSet(), LabelSet({1, 2}), "a", 3, True])
def test_a_label_survives_the_json_a_store_keeps(label):
    assert label_from_json(label_to_json(label)) == label
    assert type(label_from_json(label_to_json(label))) is type(label)


def test_a_json_list_is_still_no_label():
    with pytest.raises(TypeError):
        label_from_json("[1, 2]")  # what an older alwidgets may have written: kept as invalid, never a set


@pytest.mark.parametrize("votes, expected", [
    ([{"a", "b"}], ({"a", "b"}, False)),
    ([set()], (set(), False)),
    ([{"a", "b"}, {"a"}, {"a", "c"}], ({"a"}, False)),
    ([{"a"}, {"a"}, set()], ({"a"}, False)),
    ([{"a", "b"}, {"a"}], (None, True)),  # split on b
    ([{"a"}, {"a"}], ({"a"}, False)),
])
def test_votes_on_a_label_set_are_decided_class_by_class(votes, expected):
    sets = [LabelSet(v) for v in votes]
    label, tie = set_majority(sets)
    assert (label, tie) == ((None if expected[0] is None else LabelSet(expected[0])), expected[1])
    assert majority(sets) == (label, tie)


# ---------------------------------------------------------------------- the session


def test_session_records_sets_and_trains_on_an_indicator_matrix(data):
    session = make_session(data)
    first = session.query()[0]
    session.teach(first, {"a", "c"})
    second = session.query()[0]
    session.teach(second, [])  # no class applies
    assert session.labels == {first: LabelSet({"a", "c"}), second: LabelSet()}
    X, y = session.training_data()
    assert y.shape == (2, 4)
    assert y.tolist() == [[1, 0, 1, 0], [0, 0, 0, 0]]
    assert session.is_fitted
    assert session.history[-1]["score"] is not None  # micro-F1 on the test set
    assert session.scoring == "f1_micro"


def test_simulate_with_an_indicator_matrix_learns(data):
    X, Y, _, _ = data
    session = make_session(data)
    session.simulate(Y, n_queries=30)
    assert session.n_labeled == 30
    assert all(session.labels[i] == LabelSet(np.array(CLASSES)[Y[i] == 1]) for i in session.labels)
    scores = [h["score"] for h in session.history if h["score"] is not None]
    assert scores[-1] > scores[0]


@pytest.mark.parametrize("label, error, words", [
    ({"z"}, ValueError, "not one of the known classes"),
    ("a", TypeError, "set of classes"),
    (["a", "a"], ValueError, "more than once"),
])
def test_a_bad_label_set_reaches_no_store(data, label, error, words):
    session = make_session(data)
    with pytest.raises(error, match=words):
        session.record(session.query()[0], label)
    assert session.store.events() == []


def test_several_items_take_a_list_of_sets(data):
    session = make_session(data)
    with pytest.raises(ValueError, match="one per index"):
        session.record(session.query(1), {"a"})
    picks = session.query(3)
    session.record(picks, [{"a"}, ["b", "c"], set()])
    assert [session.labels[i] for i in picks] == [LabelSet({"a"}), LabelSet({"b", "c"}), LabelSet()]


def test_multi_label_needs_classes_and_a_classifier(data):
    X = data[0]
    with pytest.raises(ValueError, match="needs the classes"):
        alw.Session(multilabel.default_model(), X, multi_label=True)
    from sklearn.linear_model import Ridge

    with pytest.raises(ValueError, match="for classifiers"):
        alw.Session(Ridge(), X, multi_label=True, classes=CLASSES)
    with pytest.raises(ValueError, match="online=True is not available"):
        alw.Session(multilabel.default_model(), X, multi_label=True, classes=CLASSES, online=True)


def test_single_label_strategies_are_refused_for_a_multi_label_session(data):
    session = make_session(data)
    with pytest.raises(ValueError, match="multi-label strategies"):
        session.strategy = "margin"
    session.strategy = "random"  # looks at no model: serves both kinds
    with pytest.raises(ValueError, match="multi-label strategies"):
        make_session(data, strategy="entropy")


def test_multi_label_strategies_are_refused_for_a_single_label_session(data):
    from sklearn.linear_model import LogisticRegression

    session = alw.Session(LogisticRegression(), data[0], classes=[0, 1])
    with pytest.raises(ValueError, match="for multi-label sessions"):
        session.strategy = "max_loss"


def test_available_lists_each_kind_for_its_sessions(data):
    from sklearn.linear_model import LogisticRegression

    multi = set(strategies.available(make_session(data).learner, multi_label=True))
    single = set(strategies.available(alw.Session(LogisticRegression(), data[0], classes=[0, 1]).learner))
    names = set(multilabel.MULTI_LABEL_STRATEGIES)
    assert multi == names | {"random"}
    assert not names & single and "margin" in single
    assert set(strategies.available(multi_label=True)) == names | {"random"}


def test_the_default_strategy_of_a_multi_label_session_is_a_multi_label_one(data):
    assert make_session(data).strategy in multilabel.MULTI_LABEL_STRATEGIES


# ---------------------------------------------------------------------- stores and exports


def _record_some(session):
    picks = session.query(3)
    session.record(picks, [{"b", "a"}, set(), ["d"]])
    return dict(zip(picks, [LabelSet({"a", "b"}), LabelSet(), LabelSet({"d"})], strict=True))


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
def test_label_sets_survive_a_store(data, backend, tmp_path, request):
    if backend == "memory":
        store = MemoryStore()
    elif backend == "sqlite":
        store = str(tmp_path / "labels.db")
    else:
        store = request.getfixturevalue("postgres").new_database()
    session = make_session(data, store=store)
    given = _record_some(session)
    session.close()
    again = make_session(data, store=store if backend != "memory" else session.store, annotator="later")
    assert again.labels == given
    assert all(type(v) is LabelSet for v in again.labels.values())
    again.close()


def test_two_annotators_votes_decide_each_class(data):
    store = MemoryStore()
    alice = make_session(data, store=store, annotator="alice", overlap=2)
    bob = make_session(data, store=store, annotator="bob", overlap=2)
    alice.record(5, {"a", "b"})
    bob.record(5, {"a"})
    alice.sync()
    assert 5 not in alice.labels and alice.progress()["ties"] == 1  # split on b
    carol = make_session(data, store=store, annotator="carol", overlap=2)
    carol.record(5, {"a", "c"})
    alice.sync()
    assert alice.labels[5] == LabelSet({"a"})  # a: 3 of 3; b: 1 of 3; c: 1 of 3


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_label_sets_survive_an_export(data, suffix, tmp_path):
    session = make_session(data)
    given = _record_some(session)
    path = session.export(tmp_path / f"labels{suffix}")
    if suffix == ".csv":
        frame = pd.read_csv(path, keep_default_na=False)
    elif suffix == ".json":
        frame = pd.DataFrame(json.loads(path.read_text()))
    else:
        frame = pd.read_parquet(path)
    read = {int(row["index"]): read_label_set(row["label"]) for _, row in frame.iterrows()}
    assert read == given
    if suffix == ".csv":
        assert set(frame["label"]) == {'["a", "b"]', "[]", '["d"]'}
    votes = [json.loads(v) for v in frame["votes"]]
    assert sorted(v["local"] for v in votes) == [[], ["a", "b"], ["d"]]
    events = session.export(tmp_path / f"events{suffix}", what="events")
    assert events.exists()


# ---------------------------------------------------------------------- strategies


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, _, _ = data
    learner = ActiveLearner(estimator=multilabel.default_model(random_state=0), X_training=X[:30], y_training=Y[:30])
    return learner, X[30:]


@pytest.mark.parametrize("name", list(multilabel.MULTI_LABEL_STRATEGIES))
def test_each_multi_label_strategy_scores_every_row(fitted, name):
    learner, X = fitted
    chosen, scores = strategies.get(name)(learner, X, n_instances=5, random_state=0)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()
    assert len(set(chosen.tolist())) == 5
    assert scores[chosen[0]] == scores.max()


@pytest.mark.parametrize("name", list(multilabel.MULTI_LABEL_STRATEGIES))
def test_each_multi_label_strategy_picks_what_modal_picks(fitted, name):
    import modAL.multilabel as modal_multilabel

    learner, X = fitted
    _, _, modal_name = multilabel.MULTI_LABEL_STRATEGIES[name]
    picked = modal_multilabel.__dict__[modal_name](learner, X, n_instances=1)
    modal_index = int(np.ravel(picked[0] if isinstance(picked, tuple) else picked)[0])
    scores = strategies.get(name).scores(learner, X)
    assert scores[modal_index] == pytest.approx(scores.max())


@pytest.mark.parametrize("name", list(multilabel.MULTI_LABEL_STRATEGIES))
def test_modal_queries_through_a_learner_with_each_multi_label_function(data, name):
    """modAL calls its strategy with the learner: max_loss, mean_max_loss and SVM_binary_minimum failed so."""
    import modAL.multilabel as modal_multilabel

    X, Y, _, _ = data
    function = modal_multilabel.__dict__[multilabel.MULTI_LABEL_STRATEGIES[name][2]]
    learner = ActiveLearner(estimator=multilabel.default_model(), query_strategy=function,
                            X_training=X[:30], y_training=Y[:30])
    for tie_break in (False, True):
        indices, rows = learner.query(X[30:], n_instances=2, random_tie_break=tie_break)[:2]
        assert len(np.ravel(indices)) == 2 and len(rows) == 2


def test_svm_binary_minimum_breaks_ties_toward_the_boundary(fitted):
    """modAL's random tie break picked the item farthest from every boundary."""
    from modAL.multilabel import SVM_binary_minimum

    learner, X = fitted
    distance = np.abs(learner.estimator.decision_function(X)).min(axis=1)
    picked, _ = SVM_binary_minimum(learner, X, n_instances=1, random_tie_break=True)
    assert distance[picked[0]] == pytest.approx(distance.min())
