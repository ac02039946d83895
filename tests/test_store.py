"""Label stores: the append-only log, leases, resume, bad stores, export, agreement and the export CLI.

Every store test runs on the in-memory store and on a real SQLite file; the
same tests against a real PostgreSQL server are in test_concurrency.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ports import free_port
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score

import alwidgets as alw
from alwidgets._validation import check_label_value, match_class
from alwidgets.store import InvalidLabel, LabelEvent, MemoryStore, StoreError, Tally, majority, open_store, replay
from alwidgets.store.agreement import agreement, fleiss_kappa
from alwidgets.store.sql import InvalidEventWarning

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    return data.X[:400], data.y[:400]


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    """A fresh store of each kind."""
    opened = MemoryStore() if request.param == "memory" else open_store(tmp_path / "labels.db")
    yield opened
    opened.close()


def make_session(digits, store, annotator="alice", **kwargs):
    X, _ = digits
    kwargs.setdefault("random_state", 0)
    return alw.Session(LogisticRegression(max_iter=300), X, store=store, annotator=annotator,
                       classes=list(range(10)), **kwargs)


def label_events(store) -> list[LabelEvent]:
    return [e for e in store.events() if e.kind == "label"]


# ---------------------------------------------------------------------- the log


@pytest.mark.parametrize("label", [3, "cat", 0.25, True], ids=["int", "str", "float", "bool"])
def test_events_keep_order_numbers_and_label_types(store, label):
    first = store.append(LabelEvent("a", label=label, annotator="ann", strategy="margin", model_version=2))
    second = store.append(LabelEvent("b", kind="skip", annotator="ann"))
    events = store.events()
    assert [e.seq for e in events] == [first.seq, second.seq] and first.seq < second.seq
    assert events[0].label == label and type(events[0].label) is type(label)
    assert (events[0].annotator, events[0].strategy, events[0].model_version) == ("ann", "margin", 2)
    assert store.events(since=first.seq) == [events[1]]


def test_numpy_labels_are_stored_as_plain_values(store):
    store.append(LabelEvent("a", label=np.int64(7)))
    assert store.events()[0].label == 7 and type(store.events()[0].label) is int


@pytest.mark.parametrize(
    "event, match",
    [(LabelEvent("a", kind="delete"), "kind"), (LabelEvent("", label=1), "item_id"),
     (LabelEvent("a", label=1, annotator=""), "annotator")],
    ids=["kind", "item_id", "annotator"],
)
def test_bad_events_are_refused_and_nothing_is_written(store, event, match):
    with pytest.raises(ValueError, match=match):
        store.append_many([LabelEvent("ok", label=1), event])
    assert store.events() == []


BAD_LABELS = [([1, 2], TypeError), ({"a": 1}, TypeError), (None, TypeError), ((1,), TypeError),
              (np.array([1, 2]), TypeError), (float("nan"), ValueError), (b"cat", TypeError)]
BAD_IDS = ["list", "dict", "none", "tuple", "array", "nan", "bytes"]


@pytest.mark.parametrize("label, error", BAD_LABELS, ids=BAD_IDS)
def test_a_label_that_is_not_a_str_int_float_or_bool_is_refused_before_anything_is_written(digits, tmp_path, label,
                                                                                           error):
    X, y = digits
    path = tmp_path / "labels.db"
    session = alw.Session(LogisticRegression(max_iter=300), X, store=path)  # no classes: any label type reaches the store
    session.record(0, 3)
    with pytest.raises(error, match="label"):
        session.record(2, label)
    assert [e.label for e in session.store.events()] == [3]
    session.store.close()
    again = alw.Session(LogisticRegression(max_iter=300), X, store=path)  # the store stays usable for everyone
    assert again.labels == {0: 3}
    assert len(pd.read_csv(again.export(tmp_path / "labels.csv"))) == 1
    again.store.close()


@pytest.mark.parametrize("label, error", BAD_LABELS, ids=BAD_IDS)
def test_every_store_refuses_a_bad_label_itself(store, label, error):
    with pytest.raises(error, match="label"):
        store.append_many([LabelEvent("ok", label=1), LabelEvent("bad", label=label)])
    assert store.events() == []


@pytest.mark.parametrize(
    "value, plain",
    [(np.int64(4), 4), (np.float32(0.5), 0.5), (np.bool_(True), True), (np.str_("cat"), "cat"), (True, True),
     (7, 7), ("x", "x"), (2.5, 2.5)],
    ids=["np-int", "np-float", "np-bool", "np-str", "bool", "int", "str", "float"],
)
def test_good_label_values_become_plain_python(value, plain):
    result = check_label_value(value)
    assert result == plain and type(result) is type(plain)


def _write_raw_label(path: Path, item_id: str, raw: str) -> None:
    """Append a label event as an older alwidgets wrote it, without today's checks."""
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO alw_events (item_id, kind, label, annotator, time, strategy, model_version) "
                   "VALUES (?, 'label', ?, 'old', ?, 'margin', 0)", (item_id, raw, time.time()))
    db.close()


def test_a_store_that_already_holds_a_bad_label_opens_reports_and_exports_it(digits, tmp_path, capsys):
    X, y = digits
    path = tmp_path / "labels.db"
    first = make_session(digits, path)
    first.record(0, int(y[0]))
    _write_raw_label(path, first.item_ids[2], "[1, 2]")
    first.store.close()
    with pytest.warns(InvalidEventWarning, match=r"event 2 .*\[1, 2\].*not a str, int, float or bool"):
        session = make_session(digits, path, annotator="bob")
    assert session.labels == {0: int(y[0])} and 2 in session.unlabeled  # the bad label is nobody's vote
    session.record(2, int(y[2]))  # and the item can be labeled properly
    assert session.labels[2] == int(y[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InvalidEventWarning)
        events = pd.read_csv(session.export(tmp_path / "events.csv", what="events"))
    assert list(events["label"]) == [str(int(y[0])), "[1, 2]", str(int(y[2]))]
    session.store.close()
    done = cli(capsys, "export", path, tmp_path / "all.json", "--events")
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "[1, 2]" in done.stderr
    assert [e["label"] for e in json.loads((tmp_path / "all.json").read_text())] == [int(y[0]), "[1, 2]", int(y[2])]
    reopened = open_store(path, read_only=True)
    tally = Tally()
    with pytest.warns(InvalidEventWarning):
        tally.apply(reopened.events())
    reopened.close()
    assert [e.label for e in tally.invalid] == [InvalidLabel("[1, 2]")]


@pytest.mark.parametrize(
    "value, classes, expected",
    [(True, [0, 1], 1), (1.0, [0, 1], 1), (np.int64(1), [0, 1], 1), (np.float64(0.0), [0, 1], 0),
     (1, [False, True], True), ("cat", ["cat", "dog"], "cat"), (np.str_("dog"), ["cat", "dog"], "dog"),
     (1, [np.int64(0), np.int64(1)], 1)],
    ids=["bool-for-int", "float-for-int", "numpy-int", "numpy-float", "int-for-bool", "str", "numpy-str",
         "numpy-classes"],
)
def test_a_label_equal_to_one_declared_class_is_that_class(value, classes, expected):
    matched = match_class(value, classes)
    assert matched == expected and type(matched) is type(expected)


@pytest.mark.parametrize(
    "value, classes, match",
    [(2, [0, 1], "not one of the known classes"), ("1", [0, 1], "not one of the known classes"),
     (1, ["1", "2"], "not one of the known classes"), (1.5, [1, 2], "not one of the known classes"),
     (1.0, [True, 1], "ambiguous"), ([1], [0, 1], "cannot be stored")],
    ids=["other-number", "str-for-int", "int-for-str", "fraction", "ambiguous", "list"],
)
def test_a_label_matching_no_class_or_two_is_refused(value, classes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        match_class(value, classes)


def test_labels_outside_the_classes_are_stored_as_the_declared_class(digits, store, tmp_path):
    session = alw.Session(LogisticRegression(max_iter=300), digits[0], store=store, classes=[0, 1], annotator="ann")
    session.record([0, 1, 2, 3], [True, 1.0, np.int64(1), np.float32(0.0)])
    stored = [e.label for e in store.events()]
    assert stored == [1, 1, 1, 0] and {type(v) for v in stored} == {int}
    with pytest.raises(ValueError, match=r"not one of the known classes \[0, 1\]"):
        session.record(4, 2)
    frame = pd.read_csv(session.export(tmp_path / "labels.csv"), dtype=str)
    assert sorted(frame["label"]) == ["0", "1", "1", "1"]  # one spelling per class


def test_leases_expire_by_the_stores_clock_not_the_clock_of_the_process_asking(tmp_path, monkeypatch):
    """A kernel whose clock is an hour behind must not make its leases look expired to everybody else."""
    path = tmp_path / "labels.db"
    behind, on_time = open_store(path), open_store(path)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)
    held = behind.lease("slow-clock", ["a", "b", "c"], 2, timeout=600)
    monkeypatch.setattr(time, "time", real_time)
    assert held == ["a", "b"]
    assert on_time.lease("on-time", ["a", "b", "c"], 3, timeout=600) == ["c"]
    assert sorted(row.item_id for row in on_time.leases()) == ["a", "b", "c"]
    behind.close()
    on_time.close()


def test_a_lease_is_live_while_its_holder_sends_heartbeats(store, moved_clock):
    store.lease("alice", ["a"], 1, holder="page-1")
    store.lease("bob", ["b"], 1, holder="page-2")
    assert {row.holder for row in store.leases(live_within=60)} == {"page-1", "page-2"}
    moved_clock.advance(120)
    store.heartbeat("page-2")  # page-1's word is 120 s old, page-2's a few real moments: a 60 s window tells them apart
    assert [row.item_id for row in store.leases(live_within=60)] == ["b"]  # page-1 said nothing since
    assert sorted(row.item_id for row in store.leases()) == ["a", "b"]  # both still keep their item from others
    assert store.lease("carol", ["a", "b", "c"], 1) == ["c"]


def test_a_holder_gives_back_only_its_own_leases(store):
    store.lease("alice", ["a"], 1, holder="tab-1")
    store.lease("bob", ["b"], 1, holder="tab-2")
    store.append(LabelEvent("b", label=1, annotator="bob"))  # an answer stays, whoever leaves
    store.lease("bob", ["c"], 1, holder="tab-2")
    store.release("bob", holder="tab-2")
    assert [(row.item_id, row.holder) for row in store.leases()] == [("a", "tab-1")]
    assert store.lease("dave", ["b", "c"], 1) == ["c"]


SCHEMA_1 = """
CREATE TABLE alw_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL, kind TEXT NOT NULL,
    label TEXT, annotator TEXT NOT NULL, time FLOAT NOT NULL, strategy TEXT NOT NULL, model_version INTEGER NOT NULL);
CREATE TABLE alw_leases (item_id TEXT NOT NULL, slot INTEGER NOT NULL, annotator TEXT NOT NULL,
    expires FLOAT NOT NULL, done BOOLEAN NOT NULL, CONSTRAINT alw_leases_pk PRIMARY KEY (item_id, slot),
    CONSTRAINT alw_leases_one_per_annotator UNIQUE (item_id, annotator));
CREATE TABLE alw_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO alw_meta VALUES ('schema_version', '1'), ('application', 'alwidgets');
INSERT INTO alw_events (item_id, kind, label, annotator, time, strategy, model_version)
    VALUES ('a', 'label', '1', 'alice', 0, '', 0);
INSERT INTO alw_leases VALUES ('a', 0, 'alice', 0, 1), ('b', 0, 'ghost', 1e12, 0);
"""


def test_a_store_of_schema_1_is_brought_up_to_date_and_its_old_leases_are_not_live(tmp_path):
    path = tmp_path / "labels.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
    db.close()
    reader = open_store(path, create=False, read_only=True)  # export reads it as it is
    assert [e.item_id for e in reader.events()] == ["a"] and reader.leases(live_within=30) == []
    assert [row.item_id for row in reader.leases()] == ["b"]
    reader.close()
    store = open_store(path)
    try:
        assert store.info()["schema_version"] == "2"
        assert [row.item_id for row in store.leases()] == ["b"]  # the ghost still keeps its item until it expires
        assert store.leases(live_within=30) == []  # but nobody counts it as being labeled
        assert store.lease("carol", ["a", "b", "c"], 1, holder="page") == ["c"]
        assert [row.holder for row in store.leases(live_within=30)] == ["page"]
    finally:
        store.close()


def test_replay_majority_retract_and_skip():
    events = [
        LabelEvent("x", label=1, annotator="a"), LabelEvent("x", label=1, annotator="b"),
        LabelEvent("x", label=2, annotator="c"),  # 2 against 1: majority 1
        LabelEvent("y", label=1, annotator="a"), LabelEvent("y", label=2, annotator="b"),  # tie: left out
        LabelEvent("z", label=5, annotator="a"), LabelEvent("z", kind="retract", label=5, annotator="a"),
        LabelEvent("w", kind="skip", annotator="a"),
    ]
    labels, skipped = replay(events)
    assert labels == {"x": 1}
    assert skipped == {"w"}
    tally = Tally()
    tally.apply(events)
    assert tally.decision("y") == (None, True)
    assert "z" not in tally.votes
    assert majority([]) == (None, False)


# ---------------------------------------------------------------------- sessions on a store


def test_labels_are_derived_from_events_and_undo_appends_a_retraction(digits, store):
    _, y = digits
    session = make_session(digits, store)
    for i in session.query(3):
        session.teach(i, y[i])
    last = list(session.my_labels)[-1]
    taken = session.undo()
    kinds = [e.kind for e in store.events()]
    assert kinds == ["label", "label", "label", "retract"]  # nothing deleted
    assert (taken.items, taken.labels) == ((last,), (y[last],)) and last not in session.labels
    labels, _ = replay(store.events())
    assert {session._index_of[k]: v for k, v in labels.items()} == session.labels


def test_resume_picks_up_every_label_and_never_asks_again(digits, store):
    _, y = digits
    first = make_session(digits, store)
    first.simulate(y, 15)
    first.skip(first.query(1)[0])
    answered = set(first.labels)
    second = make_session(digits, store)
    assert second.labels == first.labels
    assert second.skipped == first.skipped
    assert second.is_fitted and len(second.learner.y_training) == 15
    rest = second.query(second.n_pool)
    assert not set(rest) & (answered | second.skipped)
    assert len(rest) == second.n_pool - len(answered) - len(second.skipped)


def test_resume_from_a_sqlite_file_in_a_new_process(digits, tmp_path):
    _, y = digits
    path = tmp_path / "labels.db"
    session = make_session(digits, str(path))
    session.simulate(y, 10)
    code = (
        "import alwidgets as alw, json, sys\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "d = alw.datasets.load_digits()\n"
        "s = alw.Session(LogisticRegression(max_iter=300), d.X[:400], store=sys.argv[1], annotator='alice',\n"
        "                classes=list(range(10)))\n"
        "print(json.dumps({'labels': {str(k): int(v) for k, v in s.labels.items()}, 'fitted': s.is_fitted}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    resumed = json.loads(out.stdout)
    assert {int(k): v for k, v in resumed["labels"].items()} == session.labels
    assert resumed["fitted"]


def test_two_annotators_are_shown_different_items(digits, store):
    alice, bob = make_session(digits, store, "alice"), make_session(digits, store, "bob")
    shown_alice = alice.query(3)
    shown_bob = bob.query(3)
    assert len(shown_bob) == 3 and not set(shown_alice) & set(shown_bob)


def test_an_unanswered_lease_returns_to_the_pool_after_the_timeout(digits, store, moved_clock):
    alice = make_session(digits, store, "alice", lease_timeout=60)
    bob = make_session(digits, store, "bob")
    held = alice.query(1)[0]
    assert held not in bob.query(bob.n_pool)
    moved_clock.advance(61)
    assert held in bob.query(bob.n_pool)


def test_labeling_and_skipping_release_leases_and_a_label_keeps_the_item_taken(digits, store):
    _, y = digits
    alice, bob = make_session(digits, store, "alice"), make_session(digits, store, "bob")
    labeled, skipped = alice.query(2)
    alice.record(labeled, y[labeled])
    alice.skip(skipped)
    assert store.leases() == []
    offered_to_bob = bob.query(bob.n_pool)
    assert skipped in offered_to_bob  # alice set it aside; somebody else may answer it
    assert labeled not in offered_to_bob  # answered: never given to a second annotator


def test_an_annotator_holds_only_what_they_were_shown_last(digits, store):
    alice = make_session(digits, store, "alice", strategy="random")
    bob = make_session(digits, store, "bob", strategy="random")
    first = alice.query(2)
    assert alice.query(2) == first  # asking again renews the same leases
    now = alice.query(1)
    assert {row.item_id for row in store.leases()} == {alice.item_ids[now[0]]}
    released = set(first) - set(now)
    assert released and released <= set(bob.query(bob.n_pool))


def test_overlap_asks_k_different_annotators_and_trains_on_the_majority(digits, store):
    _, y = digits
    names = ["a", "b", "c"]
    sessions = {n: make_session(digits, store, n, overlap=2, strategy="random") for n in names}
    item = sessions["a"].query(1)[0]
    assert item in sessions["b"].query(sessions["b"].n_pool)  # second slot of the same item
    assert item not in sessions["c"].query(sessions["c"].n_pool)  # both slots taken
    sessions["a"].record(item, 1)
    sessions["b"].record(item, 2)  # a tie: not trained on, open for a third vote
    sessions["c"].sync()
    assert item not in sessions["c"].labels
    assert item in sessions["c"].query(sessions["c"].n_pool)
    sessions["c"].record(item, 2)
    for session in sessions.values():
        session.sync()
        assert session.labels[item] == 2
    assert item not in sessions["a"].query(sessions["a"].n_pool)
    assert sessions["a"].votes[item] == {"a": 1, "b": 2, "c": 2}


def test_labels_of_other_annotators_are_learned_after_refresh_every(digits, store):
    _, y = digits
    alice = make_session(digits, store, "alice", refresh_every=5)
    bob = make_session(digits, store, "bob")
    bob.simulate(y, 4)
    alice.query(1)
    assert not alice.is_fitted and len(alice.labels) == 4  # seen, not yet worth a refit
    bob.simulate(y, 1)
    alice.query(1)
    assert alice.is_fitted and len(alice.learner.y_training) == 5
    assert alice.n_labeled == 5 and alice.my_labels == {}


def test_a_retraction_by_another_annotator_makes_the_model_forget(digits, store):
    _, y = digits
    alice = make_session(digits, store, "alice", refresh_every=1)
    bob = make_session(digits, store, "bob")
    bob.simulate(y, 6)
    alice.update()
    assert len(alice.learner.y_training) == 6
    bob.undo()
    alice.update()
    assert len(alice.learner.y_training) == 5 and alice.n_labeled == 5


def test_export_and_agreement_from_a_session(digits, store, tmp_path):
    _, y = digits
    alice = make_session(digits, store, "alice", overlap=2, strategy="random")
    bob = make_session(digits, store, "bob", overlap=2, strategy="random")
    items = alice.query(6)
    alice.record(items, [int(y[i]) for i in items])
    bob.record(items, [int(y[i]) if k < 4 else (int(y[i]) + 1) % 10 for k, i in enumerate(items)])
    result = alice.agreement()
    assert result.n_items == 6 and result.n_ties == 2
    assert result.pairs.loc[0, "agreed"] == pytest.approx(4 / 6)
    expected = cohen_kappa_score([repr(int(y[i])) for i in items],
                                 [repr(int(y[i]) if k < 4 else (int(y[i]) + 1) % 10) for k, i in enumerate(items)])
    assert result.pairs.loc[0, "kappa"] == pytest.approx(expected)
    frame = pd.read_csv(alice.export(tmp_path / "labels.csv"))
    assert sorted(frame["index"]) == sorted(items)
    assert (frame["status"] == "tie").sum() == 2 and frame.loc[frame["status"] == "tie", "label"].isna().all()


# ---------------------------------------------------------------------- agreement


def test_fleiss_kappa_matches_the_published_example():
    # Fleiss (1971) as tabulated on Wikipedia's "Fleiss' kappa" page: 10 items, 14 raters, 5 classes; kappa = 0.210
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
              [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(counts) == pytest.approx(0.210, abs=0.001)


def test_agreement_is_one_when_everybody_agrees_and_undefined_without_overlap():
    events = [LabelEvent(f"i{k}", label=k % 3, annotator=a) for k in range(9) for a in ("a", "b", "c")]
    result = agreement(events)
    assert result.fleiss == pytest.approx(1.0) and (result.pairs["kappa"] == 1.0).all() and len(result.pairs) == 3
    alone = agreement([LabelEvent("i", label=1, annotator="a")])
    assert alone.n_items == 0 and np.isnan(alone.fleiss) and alone.pairs.empty


# ---------------------------------------------------------------------- bad stores


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_corrupt_file_is_refused_and_left_as_it_was(digits, tmp_path):
    path = tmp_path / "labels.db"
    path.write_bytes(np.random.RandomState(0).bytes(8192))
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="not a SQLite database or is corrupt"):
        make_session(digits, str(path))
    assert _snapshot(tmp_path) == before


def test_a_foreign_sqlite_database_is_refused_and_left_as_it_was(digits, tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    db.close()
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="another program .*customers"):
        make_session(digits, path)
    assert _snapshot(tmp_path) == before


def test_a_store_in_a_missing_folder_is_refused(digits, tmp_path):
    with pytest.raises(StoreError, match="folder .* does not exist"):
        make_session(digits, tmp_path / "nope" / "labels.db")
    assert list(tmp_path.iterdir()) == []


def test_a_new_store_is_marked_as_an_alwidgets_store_in_wal_mode(tmp_path):
    store = open_store(tmp_path / "labels.db")
    assert store.info()["schema_version"] == "2"
    store.close()
    with sqlite3.connect(tmp_path / "labels.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
            "alw_events", "alw_leases", "alw_meta"}
    db.close()




def test_an_unreachable_postgresql_server_is_a_quick_clear_error(digits):
    import importlib.util

    for driver in ("psycopg2", "psycopg", "sqlalchemy.dialects.postgresql"):  # loaded before the clock starts
        if importlib.util.find_spec(driver.split(".")[0]):
            importlib.import_module(driver)
    port = free_port()
    start = time.perf_counter()
    with pytest.raises(StoreError, match=f"cannot connect to the PostgreSQL server at 127.0.0.1:{port}"):
        make_session(digits, f"postgresql://alw@127.0.0.1:{port}/labels")
    # a closed port refuses at once: no retries, no wait for the connect timeout; a hang (minutes, TCP's own
    # timeout) is what this catches, and 30 s leaves a loaded machine its margin
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("bad, match", [("mysql://u@h/db", "not supported"), (42, "store must be")])
def test_an_unknown_kind_of_store_is_refused(digits, bad, match):
    with pytest.raises((StoreError, ValueError), match=match):
        make_session(digits, bad)


# ---------------------------------------------------------------------- export


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".json":
        return pd.DataFrame(json.loads(path.read_text()))
    return pd.read_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_export_writes_every_label_in_each_format(digits, tmp_path, suffix):
    _, y = digits
    session = make_session(digits, str(tmp_path / "labels.db"))
    session.simulate(y, 12)
    session.undo()
    frame = _read(session.export(tmp_path / f"labels{suffix}"))
    assert len(frame) == 11
    assert {session.item_ids[i]: int(v) for i, v in session.labels.items()} == dict(
        zip(frame["item_id"], frame["label"].astype(int), strict=True))
    assert set(frame["annotators"]) == {"alice"}
    events = _read(session.export(tmp_path / f"events{suffix}", what="events"))
    assert list(events["kind"]) == ["label"] * 12 + ["retract"]


def test_export_refuses_an_unknown_format_and_writes_nothing(digits, tmp_path):
    session = make_session(digits, None)
    with pytest.raises(ValueError, match=r"\.csv, \.json, \.parquet"):
        session.export(tmp_path / "labels.xlsx")
    assert list(tmp_path.iterdir()) == []


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alwidgets", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=300)


def cli(capsys, *args) -> subprocess.CompletedProcess:
    """``python -m alwidgets ARGS`` in this process (its ``main``): the exit code and what it printed."""
    from alwidgets.serving.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def test_cli_export_writes_labels_and_events(digits, tmp_path):
    _, y = digits
    db = tmp_path / "labels.db"
    session = make_session(digits, str(db))
    session.simulate(y, 7)
    session.store.close()
    done = run_cli("export", db, tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and len(pd.read_csv(tmp_path / "out.csv")) == 7
    done = run_cli("export", db, tmp_path / "log.json", "--events")
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "log.json").read_text())) == 7


@pytest.mark.parametrize(
    "store_name, out_name, match",
    [("missing.db", "out.csv", "does not exist"), ("labels.db", "out.txt", r"\.csv, \.json, \.parquet")],
    ids=["missing-store", "bad-format"],
)
def test_cli_export_errors_are_clear_and_write_nothing(tmp_path, store_name, out_name, match):
    if store_name == "labels.db":
        open_store(tmp_path / "labels.db").close()
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_cli("export", tmp_path / store_name, tmp_path / out_name)
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and re.search(match, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---------------------------------------------------------------------- hostile exports

FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+2", "-3+cmd", "@SUM(A1)", "\tTAB", "\rCR"]


def _formula_session(tmp_path):
    """A session whose item ids, labels and annotator all start like spreadsheet formulas."""
    X = np.arange(2 * len(FORMULAS), dtype=float).reshape(-1, 2)
    session = alw.Session(LogisticRegression(), X, store=tmp_path / "labels.db", item_ids=FORMULAS,
                          classes=["=1+1", "-2"], annotator="@mallory")
    session.record(list(range(len(FORMULAS))), ["=1+1", "-2"] * (len(FORMULAS) // 2))
    return session


def _csv_cells(path: Path) -> set[str]:
    import csv

    with path.open(newline="", encoding="utf-8") as f:
        return {cell for row in csv.reader(f) for cell in row}


def test_csv_exports_quote_cells_a_spreadsheet_would_run_as_formulas(tmp_path, capsys):
    session = _formula_session(tmp_path)
    labels_csv, events_csv = session.export(tmp_path / "labels.csv"), session.export(tmp_path / "events.csv", "events")
    session.store.close()
    assert cli(capsys, "export", tmp_path / "labels.db", tmp_path / "cli.csv").returncode == 0
    for path in (labels_csv, events_csv, tmp_path / "cli.csv"):
        cells = _csv_cells(path)
        assert {"'" + f for f in FORMULAS} <= cells | {"'" + f.replace("\r", "\n") for f in FORMULAS}, path.name
        assert {"'=1+1", "'-2", "'@mallory"} <= cells, path.name
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), path.name
    # JSON and Parquet hold the values exactly
    exported = json.loads(alw.Session(LogisticRegression(), np.zeros((6, 2)) + np.arange(6)[:, None], item_ids=FORMULAS,
                                      store=tmp_path / "labels.db", classes=["=1+1", "-2"])
                          .export(tmp_path / "labels.json").read_text())
    assert sorted(r["item_id"] for r in exported) == sorted(FORMULAS)
    assert {r["label"] for r in exported} == {"=1+1", "-2"} and {r["annotators"] for r in exported} == {"@mallory"}


def _other_users_command(command: list) -> list:
    """``command`` run so that the store's permissions apply as to a user who does not own it.

    As root (who ignores permissions) it runs without the capabilities that let
    root read and write any file; otherwise it runs as it is.
    """
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): cannot drop root's file capabilities")
    caps = "-dac_override,-dac_read_search,-fowner"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]


def _someone_elses_store(digits, tmp_path: Path, n_labels: int, folder_writable: bool = True) -> Path:
    """A store with ``n_labels`` labels, owned by somebody else (when not root: read-only), in a folder
    everybody may write (or nobody)."""
    _, y = digits
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "labels.db"
    session = make_session(digits, path)
    session.simulate(y, n_labels)
    session.store.close()
    if os.geteuid() == 0:
        os.chown(path, 65534, -1)  # nobody
        path.chmod(0o644)
    else:
        path.chmod(0o444)
    folder.chmod(0o777 if folder_writable else 0o555)
    return path


def test_an_export_by_another_user_leaves_nothing_behind_that_locks_the_owner_out(digits, tmp_path):
    folder = _someone_elses_store(digits, tmp_path, 5).parent
    before = sorted(p.name for p in folder.iterdir())
    done = subprocess.run(_other_users_command([sys.executable, "-m", "alwidgets", "export", str(folder / "labels.db"),
                                                str(tmp_path / "out.csv")]),
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(tmp_path / "out.csv")) == 5
    assert sorted(p.name for p in folder.iterdir()) == before == ["labels.db"]  # no -wal or -shm of the exporter's


@pytest.mark.parametrize("folder_writable", [True, False], ids=["shared-folder", "read-only-folder"])
def test_labeling_a_store_this_user_may_not_write_says_read_only_not_corrupt(digits, tmp_path, folder_writable):
    folder = _someone_elses_store(digits, tmp_path, 3, folder_writable).parent
    code = ("import alwidgets as alw, sys\nfrom sklearn.linear_model import LogisticRegression\n"
            "d = alw.datasets.load_digits()\n"
            "alw.Session(LogisticRegression(), d.X[:400], store=sys.argv[1], classes=list(range(10)))\n")
    done = subprocess.run(_other_users_command([sys.executable, "-c", code, str(folder / "labels.db")]),
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode != 0
    assert "is read-only for this user" in done.stderr and "alwidgets export" in done.stderr
    assert "corrupt" not in done.stderr and "backup" not in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["labels.db"]
    folder.chmod(0o755)  # let pytest clean up


def test_export_reads_while_a_writer_holds_the_store_and_never_waits_for_it(digits, tmp_path, capsys):
    _, y = digits
    path = tmp_path / "labels.db"
    session = make_session(digits, path)
    session.simulate(y, 4)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a labeling kernel in the middle of its write
    writer.execute("INSERT INTO alw_events (item_id, kind, label, annotator, time, strategy, model_version) "
                   "VALUES ('x', 'label', '1', 'w', 0, '', 0)")
    try:
        start = time.perf_counter()
        done = cli(capsys, "export", path, tmp_path / "out.json", "--events")
        assert time.perf_counter() - start < 30  # not the 60 s a writer's lock would make it wait
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "out.json").read_text())) == 4  # what was committed, without waiting


@pytest.mark.parametrize("out_name", ["store.json", "link-to-store.csv"], ids=["same-name", "symlink"])
def test_export_never_writes_over_the_store_even_with_force(digits, tmp_path, out_name, capsys):
    _, y = digits
    path = tmp_path / "store.json"  # a SQLite store with an unlucky name
    session = make_session(digits, path)
    session.simulate(y, 3)
    session.store.close()
    (tmp_path / "link-to-store.csv").symlink_to(path)
    original = path.read_bytes()
    for extra in ([], ["--force"]):
        done = cli(capsys, "export", path, tmp_path / out_name, *extra)
        assert done.returncode == 2 and "is the label store itself" in done.stderr, done.stderr
    assert path.read_bytes() == original


def test_export_replaces_an_existing_file_only_with_force_and_never_follows_a_link(digits, tmp_path, capsys):
    _, y = digits
    session = make_session(digits, tmp_path / "labels.db")
    session.simulate(y, 3)
    session.store.close()
    data = tmp_path / "campaign.csv"
    data.write_text("id,text\n1,the campaign's own data\n")
    (tmp_path / "out.csv").symlink_to(data)
    done = cli(capsys, "export", tmp_path / "labels.db", tmp_path / "out.csv")
    assert done.returncode == 2 and "already exists" in done.stderr and "--force" in done.stderr
    assert data.read_text() == "id,text\n1,the campaign's own data\n"
    done = cli(capsys, "export", tmp_path / "labels.db", tmp_path / "out.csv", "--force")
    assert done.returncode == 0, done.stderr
    assert data.read_text() == "id,text\n1,the campaign's own data\n"  # the link was replaced, not followed
    assert not (tmp_path / "out.csv").is_symlink() and len(pd.read_csv(tmp_path / "out.csv")) == 3
    with pytest.raises(ValueError, match="already exists"):
        alw.Session(LogisticRegression(), digits[0], store=tmp_path / "labels.db").export(data)


def test_export_to_a_folder_is_a_clear_error(digits, tmp_path, capsys):
    open_store(tmp_path / "labels.db").close()
    (tmp_path / "out.csv").mkdir()
    done = cli(capsys, "export", tmp_path / "labels.db", tmp_path / "out.csv", "--force")
    assert done.returncode == 2 and done.stderr.startswith("error:") and "is a folder" in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------- the Store protocol


def test_the_store_protocol_lists_every_method_a_session_uses_and_both_stores_have_them(tmp_path):
    from alwidgets.store import STORE_METHODS, Store, is_store

    assert STORE_METHODS == ("append_many", "events", "lease", "release", "leases", "heartbeat", "close")
    assert all(callable(getattr(Store, name)) for name in STORE_METHODS)
    sql = open_store(tmp_path / "labels.db")
    try:
        assert is_store(MemoryStore()) and is_store(sql)
    finally:
        sql.close()


class FourMethodStore:
    """Looks like a store (the four methods is_store once asked for) but lacks leases, heartbeat and close."""

    def __init__(self):
        self._inner = MemoryStore()
        self.append_many, self.events = self._inner.append_many, self._inner.events
        self.lease, self.release = self._inner.lease, self._inner.release


def test_an_object_with_only_some_store_methods_is_refused_naming_those_it_lacks(digits):
    from alwidgets._validation import InvalidParameterError
    from alwidgets.store import is_store, missing_methods

    partial = FourMethodStore()
    assert not is_store(partial)
    assert missing_methods(partial) == ["leases", "heartbeat", "close"]
    with pytest.raises(InvalidParameterError, match=r"store FourMethodStore lacks leases, heartbeat, close: "
                                                    r"a store object must have every method"):
        open_store(partial)
    with pytest.raises(ValueError, match="lacks leases, heartbeat, close"):  # not later, in Session.progress
        make_session(digits, partial)


def test_a_store_of_ones_own_with_every_method_passes_through(digits):
    class Wrapped(FourMethodStore):
        def leases(self, live_within=None):
            return self._inner.leases(live_within)

        def heartbeat(self, holder):
            self._inner.heartbeat(holder)

        def close(self):
            self._inner.close()

    mine = Wrapped()
    assert open_store(mine) is mine
    session = make_session(digits, mine)
    idx = session.query(1)[0]
    session.record(idx, 3)
    assert len(mine.events()) == 1 and session.progress() is not None
