"""Suggested labels, relabeling and the stop marker, in the engine: no widgets.

What a person saw (the model's suggestion) is stored with each label, so that
accepted and overridden suggestions can be told apart later; a relabel is a
retraction and a new label in the log, and undo gives the old label back.
"""

from __future__ import annotations

import json
import sqlite3

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets import plots
from alwidgets.engine.session import Change
from alwidgets.store import LABEL, RETRACT, SKIP, LabelEvent, MemoryStore
from alwidgets.store.agreement import suggestion_use
from alwidgets.store.export import events_frame
from alwidgets.store.sql import SQLStore


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    return data.X[:300], data.y[:300], data.X[1000:1200], data.y[1000:1200]


def make_session(digits, **kwargs):
    X, _, X_test, y_test = digits
    options = {"random_state": 0, "classes": list(range(10)), "X_test": X_test, "y_test": y_test, **kwargs}
    return alw.Session(LogisticRegression(max_iter=300), X, "margin", **options)


# ---------------------------------------------------------------------- the store keeps the suggestion


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_label_event_keeps_the_suggestion_it_was_given_with(kind, tmp_path):
    store = MemoryStore() if kind == "memory" else SQLStore(tmp_path / "labels.db")
    store.append_many([LabelEvent("a", label="cat", suggested="dog"), LabelEvent("b", label="dog", suggested="dog"),
                       LabelEvent("c", label="dog")])
    events = store.events()
    assert [(e.suggested, e.accepted) for e in events] == [("dog", False), ("dog", True), (None, None)]
    store.close()


@pytest.mark.parametrize("kind", [RETRACT, SKIP])
def test_only_a_label_can_carry_a_suggestion(kind):
    with pytest.raises(ValueError, match="only a label event can carry a suggestion"):
        MemoryStore().append(LabelEvent("a", kind=kind, label="cat" if kind == RETRACT else None, suggested="dog"))


def test_a_suggestion_that_no_label_could_be_is_refused_before_anything_is_written():
    store = MemoryStore()
    with pytest.raises((TypeError, ValueError)):
        store.append_many([LabelEvent("a", label="cat"), LabelEvent("b", label="cat", suggested=["dog"])])
    assert store.events() == []


def test_a_store_made_before_suggestions_existed_gains_the_column_and_keeps_its_labels(tmp_path):
    path = tmp_path / "old.db"
    first = SQLStore(path)
    first.append(LabelEvent("a", label="cat"))
    first.close()
    with sqlite3.connect(path) as con:  # the schema as the first release wrote it
        con.execute("ALTER TABLE alw_events DROP COLUMN suggested")
    read_only = SQLStore(path, read_only=True)
    assert [(e.label, e.suggested) for e in read_only.events()] == [("cat", None)]
    read_only.close()
    with sqlite3.connect(path) as con:
        assert "suggested" not in [row[1] for row in con.execute("PRAGMA table_info(alw_events)")]

    store = SQLStore(path)
    store.append(LabelEvent("b", label="dog", suggested="cat"))
    assert [(e.item_id, e.label, e.suggested) for e in store.events()] == [("a", "cat", None), ("b", "dog", "cat")]
    store.close()


# ---------------------------------------------------------------------- the session


def test_no_suggestion_before_the_model_is_fitted_then_the_models_most_likely_class(digits):
    X, y, *_ = digits
    session = make_session(digits)
    assert session.suggestion(5) is None
    session.teach(list(range(30)), list(y[:30]))
    label, probability = session.suggestion(200)
    proba = session.learner.predict_proba(X[200:201])[0]
    assert label == session.learner.estimator.classes_[np.argmax(proba)]
    assert probability == pytest.approx(proba.max())


def test_record_stores_what_was_suggested_and_the_export_says_whether_it_was_taken(digits, tmp_path):
    _, y, *_ = digits
    session = make_session(digits)
    session.record([0, 1, 2], [int(y[0]), int(y[1]), int(y[2])], suggested=[int(y[0]), (int(y[1]) + 1) % 10, None])
    events = events_frame(session.store.events())
    assert events["suggested"].tolist() == [int(y[0]), (int(y[1]) + 1) % 10, None]
    assert events["accepted"].tolist() == [True, False, None]

    path = session.export(tmp_path / "labels.csv")
    table = pd.read_csv(path)
    assert [json.loads(v) for v in table.sort_values("index")["suggested"]] == [
        {"local": int(y[0])}, {"local": (int(y[1]) + 1) % 10}, {}]
    events_path = session.export(tmp_path / "events.json", what="events")
    assert [row["accepted"] for row in json.loads(events_path.read_text())] == [True, False, None]


@pytest.mark.parametrize("suggested, error", [
    ([1], "suggested \\[1\\] is not a label"),       # a list for one item
    ("not a class", "suggested 'not a class'"),  # a label the session does not know
])
def test_a_wrong_suggestion_is_refused_and_nothing_is_recorded(digits, suggested, error):
    session = make_session(digits)
    with pytest.raises((ValueError, TypeError), match=error):
        session.record(3, 1, suggested=suggested)
    assert session.store.events() == []


def test_suggestion_use_counts_accepted_and_overridden_per_annotator():
    events = [LabelEvent("a", label=1, suggested=1, annotator="ann"), LabelEvent("b", label=2, suggested=1,
              annotator="ann"), LabelEvent("c", label=1, suggested=1, annotator="bob"),
              LabelEvent("d", label=1, annotator="bob"), LabelEvent("a", kind=RETRACT, label=1, annotator="ann")]
    table = suggestion_use(events).set_index("annotator")
    assert table.loc["ann", ["suggested", "accepted", "overridden"]].tolist() == [2, 1, 1]
    assert table.loc["ann", "override_rate"] == 0.5
    assert table.loc["bob", ["suggested", "accepted", "overridden", "override_rate"]].tolist() == [1, 1, 0, 0.0]


# ---------------------------------------------------------------------- relabel and undo


def test_relabel_is_a_retraction_and_a_label_and_undo_gives_the_old_label_back(digits):
    session = make_session(digits)
    session.record([0, 1], [3, 4])
    session.relabel(0, 8)
    assert session.labels == {0: 8, 1: 4}
    assert [(e.kind, e.label) for e in session.store.events()[-2:]] == [(RETRACT, 3), (LABEL, 8)]
    assert session.last_change == Change((0,), (8,), relabel=True, previous=(3,))

    assert session.undo() == Change((0,), (8,), relabel=True, previous=(3,))
    assert session.labels == {0: 3, 1: 4}
    assert session.last_change == Change((0, 1), (3, 4))
    assert session.undo() == Change((0, 1), (3, 4))  # then the batch before it, whole
    assert session.labels == {}
    assert session.snapshot.label_dict() == {}


def test_labels_given_are_newest_first_and_a_relabel_or_its_undo_moves_to_the_front(digits):
    store = MemoryStore()
    alice = make_session(digits, store=store, annotator="alice")
    bob = make_session(digits, store=store, annotator="bob")
    alice.record([0, 1], [3, 4])
    bob.record(2, 5)
    alice.record(3, 6)
    alice.sync()

    def given():
        return [(r["index"], r["annotator"], r["label"]) for r in alice.labels_given()]

    assert given() == [(3, "alice", 6), (2, "bob", 5), (1, "alice", 4), (0, "alice", 3)]
    alice.relabel(0, 8)
    assert given()[0] == (0, "alice", 8) and len(given()) == 4
    alice.undo()  # the old label is given again: still the newest
    assert given() == [(0, "alice", 3), (3, "alice", 6), (2, "bob", 5), (1, "alice", 4)]
    alice.undo()  # item 3 taken back: no vote left on it, the others keep their places
    assert given() == [(0, "alice", 3), (2, "bob", 5), (1, "alice", 4)]


def test_a_retraction_gives_the_label_underneath_its_old_place_in_the_log():
    from alwidgets.store import Tally

    store = MemoryStore()
    store.append_many([LabelEvent("a", label="cat"), LabelEvent("b", label="dog"), LabelEvent("a", label="emu"),
                       LabelEvent("a", kind=RETRACT, label="emu")])
    tally = Tally()
    tally.apply(store.events())
    seqs = {e.item_id + str(e.label): e.seq for e in store.events() if e.kind == LABEL}
    assert tally.votes == {"a": {"local": "cat"}, "b": {"local": "dog"}}
    assert [tally.voted_at[k] for k in sorted(tally.voted_at)] == [seqs["acat"], seqs["bdog"]]


def test_relabel_refuses_an_item_without_a_label_from_this_annotator(digits):
    store = MemoryStore()
    alice = make_session(digits, store=store, annotator="alice")
    bob = make_session(digits, store=store, annotator="bob")
    alice.record(0, 3)
    bob.sync()
    with pytest.raises(ValueError, match="no label from 'bob'"):
        bob.relabel(0, 5)
    with pytest.raises(ValueError, match="no label from 'alice'"):
        alice.relabel(1, 5)
    assert [e.kind for e in store.events()] == [LABEL]


def test_review_ranks_a_flipped_label_first(digits):
    X, y, *_ = digits
    session = make_session(digits)
    labels = [int(v) for v in y[:120]]
    labels[7] = (labels[7] + 3) % 10
    session.record(list(range(120)), labels)
    table = session.review()
    assert table["index"].iloc[0] == 7
    assert table["disagrees"].iloc[0]
    assert len(table) == 120
    assert table["p_label"].is_monotonic_increasing


# ---------------------------------------------------------------------- the stop marker


def test_the_stopping_point_is_a_label_count_of_the_history(digits):
    _, y, *_ = digits
    session = make_session(digits)
    session.simulate(y, 80)
    first = session.stopping()["first_stop"]
    assert first is not None, "LogisticRegression on digits stops changing within 80 labels"
    versions = {h["model_version"]: h["n_labels"] for h in session.history}
    assert first["n_labels"] == versions[first["version"]]


def test_a_session_takes_a_stricter_stopping_rule_which_fires_no_sooner(digits):
    _, y, *_ = digits
    default, strict = make_session(digits), make_session(digits, stopping={"threshold": 0.995, "window": 5})
    for session in (default, strict):
        session.simulate(y, 150)
    assert (strict.stopping()["threshold"], len(strict.stopping()["window"])) == (0.995, 5)
    fired = default.stopping()["first_stop"]["n_labels"]
    strict_first = strict.stopping()["first_stop"]
    assert strict_first is not None and strict_first["n_labels"] > fired  # the same labels: a stricter rule waits


@pytest.mark.parametrize(
    "stopping, error, said",
    [
        ([0.99, 3], TypeError, "stopping must be a dict"),
        ({"kappa": 0.99}, TypeError, "stopping takes threshold, window, stop_set_size; got 'kappa'"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"window": 0}, ValueError, "window"),
    ],
)
def test_a_bad_stopping_rule_is_named(digits, stopping, error, said):
    with pytest.raises(error, match=said):
        make_session(digits, stopping=stopping)


def test_the_learning_curve_marks_each_stopping_point_on_its_curve():
    history = [{"n_labels": n, "score": 0.5 + n / 100} for n in (2, 4, 6, 8)]
    other = [{"n_labels": n, "score": 0.4 + n / 100} for n in (2, 4, 6, 8)]
    fig, ax = plt.subplots()
    plots.plot_learning_curve({"margin": history, "random": other}, ax=ax, stops={"margin": 5, "random": 8})
    diamonds = [line for line in ax.lines if line.get_marker() == "D"]
    marked = sorted((float(d.get_xdata()[0]), float(d.get_ydata()[0])) for d in diamonds)
    assert marked == [(4.0, pytest.approx(0.54)), (8.0, pytest.approx(0.48))]  # margin's last point before 5
    assert plots.STOP_LABEL in ax.get_legend_handles_labels()[1]
    plt.close(fig)


def test_the_race_reports_each_lanes_stopping_point(digits):
    X, y, X_test, y_test = digits
    race = alw.Comparison(LogisticRegression(max_iter=300), X, y, ["margin", "random"], X_test, y_test,
                          budget=60, random_state=0)
    race.run()
    points = race.stopping_points()
    for name, session in race.sessions.items():
        first = session.stopping()["first_stop"]
        assert points.get(name) == (None if first is None else first["n_labels"])
    assert points, "at least one lane's model stops changing within 60 labels on digits"
