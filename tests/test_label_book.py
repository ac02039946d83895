"""The Session's three owners: an immutable snapshot, a LabelBook whose undo takes back whole changes, leases."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets._validation import InvalidParameterError
from alwidgets.engine.label_book import LabelBook
from alwidgets.engine.session import Change
from alwidgets.store import LABEL, RETRACT, LabelEvent, MemoryStore

IDS = [f"item-{i}" for i in range(8)]


class CountingStore(MemoryStore):
    """A memory store that counts its transactions and refuses the next one when asked."""

    def __init__(self):
        super().__init__()
        self.writes = 0
        self.fail_next = False

    def append_many(self, events):
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        self.writes += 1
        return super().append_many(events)


@pytest.fixture(scope="module")
def blobs():
    data = alw.datasets.make_blobs(n_samples=90, centers=3, random_state=0)
    return data.X, data.y


def session_on(blobs, **kwargs):
    X, _ = blobs
    kwargs.setdefault("random_state", 0)
    return alw.Session(LogisticRegression(max_iter=300), X, X_test=X, y_test=blobs[1], classes=[0, 1, 2], **kwargs)


# ---------------------------------------------------------------------- the snapshot is immutable


def test_changing_the_history_a_session_returns_leaves_the_published_snapshot_unchanged(blobs):
    session = session_on(blobs)
    session.simulate(blobs[1], 6)
    snapshot = session.snapshot
    score = snapshot.history[-1]["score"]
    rows = session.history
    assert isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
    rows[-1]["score"] = -1
    rows.append({"n_labels": 99, "score": 0.0})
    assert session.snapshot.history[-1]["score"] == score and len(session.snapshot.history) == 6
    assert session.history[-1]["score"] == score
    with pytest.raises(TypeError):
        snapshot.history[-1]["score"] = -1  # the published rows refuse changes
    with pytest.raises(TypeError):
        del snapshot.history[0]["n_labels"]
    assert snapshot.history[-1]["score"] == score and snapshot is session.snapshot
    assert pickle.loads(pickle.dumps(snapshot.history)) == snapshot.history  # plain data: it pickles and copies


def test_the_ranking_and_the_stop_signal_of_a_snapshot_are_read_only(blobs):
    session = session_on(blobs)
    session.simulate(blobs[1], 9, batch_size=3)
    snapshot = session.snapshot
    with pytest.raises(ValueError, match="read-only"):
        snapshot.ranking.order[0] = 0
    with pytest.raises(ValueError, match="read-only"):
        snapshot.ranking.scores[:] = 0
    with pytest.raises(TypeError):
        snapshot.stopping["stop"] = True
    status = session.stopping()
    status["window"].append(1.0)  # the caller's own copy
    assert session.stopping()["window"] == list(snapshot.stopping["window"])
    assert snapshot.stopping["n_updates"] == session.stopping()["n_updates"] >= 1
    before = snapshot.stopping
    session.simulate(blobs[1], 3, batch_size=3)
    assert session.snapshot.stopping["n_updates"] == before["n_updates"] + 1  # a new snapshot, the old one kept
    assert snapshot.stopping is before


# ---------------------------------------------------------------------- changes and undo


def test_record_returns_the_change_and_undo_takes_a_whole_batch_back_in_one_transaction(blobs):
    store = CountingStore()
    session = session_on(blobs, store=store)
    first = session.record(0, 0)
    assert first == Change((0,), (0,)) and not first.relabel and first.previous == ()
    batch = session.record([30, 60, 1], [1, 2, 0])
    assert batch == Change((30, 60, 1), (1, 2, 0))
    assert session.last_change == batch
    writes = store.writes
    taken = session.undo()
    assert taken == batch and store.writes == writes + 1
    assert [e.kind for e in store.events()[-3:]] == [RETRACT] * 3
    assert session.labels == {0: 0} and session.snapshot.label_dict() == {0: 0}
    assert session.last_change == first
    assert session.undo() == first and session.undo() is None and session.last_change is None


def test_undo_of_a_relabel_is_one_transaction_that_gives_the_old_label_back(blobs):
    store = CountingStore()
    session = session_on(blobs, store=store)
    session.record([0, 30], [0, 1])
    change = session.relabel(0, 2)
    assert change == Change((0,), (2,), relabel=True, previous=(0,))
    writes = store.writes
    assert session.undo(refit=False) == change and store.writes == writes + 1
    assert [(e.kind, e.label) for e in store.events()[-2:]] == [(RETRACT, 2), (LABEL, 0)]
    assert session.labels == {0: 0, 30: 1}


def test_undo_takes_back_what_is_left_of_a_change_and_never_reaches_into_the_one_before(blobs):
    store = MemoryStore()
    session = session_on(blobs, store=store)
    before = session.record([0, 30], [0, 1])
    session.record([60, 1, 31], [2, 0, 1])
    # another page of the same annotator takes one of the batch back
    store.append_many([LabelEvent(session.item_ids[1], kind=RETRACT, label=0)])
    session.sync()
    assert session.last_change == Change((60, 31), (2, 1))
    assert session.undo() == Change((60, 31), (2, 1))
    assert session.labels == {0: 0, 30: 1} and session.last_change == before  # the change before is whole
    store.append_many([LabelEvent(session.item_ids[i], kind=RETRACT, label=y) for i, y in ((0, 0), (30, 1))])
    assert session.undo() is None  # a change taken back entirely elsewhere is passed over
    assert session.last_change is None


def test_a_refused_undo_changes_nothing_and_stays_undoable(blobs):
    store = CountingStore()
    session = session_on(blobs, store=store)
    change = session.record([0, 30, 60], [0, 1, 2])
    events, version = len(store.events()), session.model_version
    store.fail_next = True
    with pytest.raises(OSError, match="disk full"):
        session.undo()
    assert len(store.events()) == events and session.labels == {0: 0, 30: 1, 60: 2}
    assert session.model_version == version and session.last_change == change
    assert session.undo() == change and session.labels == {}


def test_undone_items_are_held_for_the_annotator_who_gave_them(blobs):
    store = MemoryStore()
    alice = session_on(blobs, store=store, annotator="alice", strategy="random")
    bob = session_on(blobs, store=store, annotator="bob", strategy="random", random_state=1)
    picks = alice.query(3)
    alice.record(picks, [int(blobs[1][i]) for i in picks])
    alice.undo(refit=False)
    assert {row.item_id for row in store.leases() if row.annotator == "alice"} >= {alice.item_ids[i] for i in picks}
    assert not set(bob.query(alice.n_pool)) & set(picks)


# ---------------------------------------------------------------------- the book alone, without a learner


def test_a_label_book_keeps_its_own_order_apart_from_other_books_of_the_same_annotator():
    store = MemoryStore()
    page, other_page = LabelBook(store, IDS, "ann", classes=["a", "b"]), LabelBook(store, IDS, "ann", classes=["a", "b"])
    mine = page.record([0, 1], ["a", "b"], strategy="margin", model_version=3)
    other_page.record(2, "a")
    page.sync()
    assert page.mine == {0: "a", 1: "b", 2: "a"}
    assert page.last_change == mine and other_page.last_change == Change((2,), ("a",))
    assert {e.model_version for e in store.events()[:2]} == {3}
    assert page.undo() == mine and page.mine == {2: "a"}
    assert page.undo() is None  # item 2 is the other page's to take back
    labels, open_items = page.freeze()
    assert dict(labels.items()) == {2: "a"} and 2 not in open_items and 0 in open_items


def test_a_label_book_checks_everything_before_it_writes():
    store = MemoryStore()
    book = LabelBook(store, IDS, "ann", classes=["a", "b"])
    with pytest.raises(ValueError, match="known classes"):
        book.record([0, 1], ["a", "c"])
    with pytest.raises(InvalidParameterError, match="idx must be an integer"):
        book.record("0", "a")
    with pytest.raises(IndexError, match="out of range"):
        book.record(8, "a")
    with pytest.raises(ValueError, match="no label"):
        book.relabel(0, "b")
    assert store.events() == [] and book.last_change is None and book.undo() is None
    np.testing.assert_array_equal(book.unlabeled(), np.arange(8))
