"""One owner for a session's state: clicks never wait for a fit, and no race corrupts what the learner knows.

The first test is deterministic: a classifier whose ``fit`` waits on an event
the test holds lets the test act while a fit is in flight, then release it.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

import alwidgets as alw
from alwidgets import _learners
from alwidgets.engine.labelstate import LabelState
from alwidgets.store import MemoryStore, replay

GATES: dict[str, threading.Event] = {}  # by name: clone() deep-copies parameters, and an Event cannot be copied
FITTING: dict[str, threading.Event] = {}
GATE_BOUND_SECONDS = 120  # a fit waits this long for its gate before failing; only a broken test waits it out
CLICK_BOUND_SECONDS = 60  # a click that waited for a gated fit would take the gate's bound; a quick one, far less


class GatedClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression whose ``fit`` announces itself, then waits until the test opens its gate."""

    def __init__(self, gate: str = "default"):
        self.gate = gate

    def fit(self, X, y):
        FITTING[self.gate].set()
        if not GATES[self.gate].wait(GATE_BOUND_SECONDS):
            raise TimeoutError("the test never opened the gate")
        self.model_ = LogisticRegression(max_iter=300).fit(X, y)
        self.classes_ = self.model_.classes_
        self.X_fit_, self.y_fit_ = np.asarray(X), np.asarray(y)
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.fixture
def gate(request):
    name = request.node.name
    GATES[name], FITTING[name] = threading.Event(), threading.Event()
    GATES[name].set()
    yield name
    GATES[name].set()
    GATES.pop(name)
    FITTING.pop(name)


def three_blobs(n=90):
    data = alw.datasets.make_blobs(n_samples=n, centers=3, random_state=0)
    return data.X, data.y


def expected_training_set(session, store):
    """What the learner must know: the majority labels of the store, for this pool, in the session's order."""
    labels, _ = replay(store.events())
    by_index = {session.item_ids.index(item): label for item, label in labels.items()}
    return by_index


@pytest.mark.parametrize("online", [False, True], ids=["refit", "online"])
def test_events_during_a_fit_in_flight_leave_the_learner_consistent_with_the_store(gate, online):
    X, y = three_blobs()
    store = MemoryStore()
    if online:
        from sklearn.linear_model import SGDClassifier

        class GatedOnline(GatedClassifier):
            def partial_fit(self, X, y, classes=None):
                FITTING[self.gate].set()
                GATES[self.gate].wait(GATE_BOUND_SECONDS)
                if not hasattr(self, "model_"):
                    self.model_ = SGDClassifier(loss="log_loss", random_state=0)
                self.model_.partial_fit(X, y, classes=classes)
                self.classes_ = self.model_.classes_
                return self

        model = GatedOnline(gate)
    else:
        model = GatedClassifier(gate)
    ids = [str(i) for i in range(len(y))]
    alice = alw.Session(model, X, strategy="margin", store=store, annotator="alice", overlap=2, item_ids=ids,
                        random_state=0, classes=[0, 1, 2], online=online)
    bob = alw.Session(LogisticRegression(), X, strategy="random", store=store, annotator="bob", overlap=2,
                      item_ids=ids, random_state=1, classes=[0, 1, 2])
    first = [int(np.flatnonzero(y == c)[0]) for c in (0, 1, 2)]
    first += [i for i in range(20, 40) if i not in first][:3]
    assert not set(first) & {10, 11, 12}
    alice.teach(first, [int(y[i]) for i in first])
    version_before = alice.model_version

    # A fit starts (the worker's job) and blocks inside the estimator.
    GATES[gate].clear()
    FITTING[gate].clear()
    alice.record(10, int(y[10]))
    worker = threading.Thread(target=alice.update, name="test-worker")
    worker.start()
    assert FITTING[gate].wait(60), "the fit never started"

    # Everything a person and another annotator can do while it runs, each answered at once.
    started = time.perf_counter()
    alice.record(11, int(y[11]))
    alice.undo(refit=False)  # takes back 11
    alice.skip(12)
    alice.strategy = "entropy"
    picks = alice.query(2, refresh=False)
    bob.record(first[0], (int(y[first[0]]) + 1) % 3)  # a tie with alice on an item the learner was taught
    alice.sync()
    # the gate is closed: a click that waited for the fit would have waited out its bound
    assert time.perf_counter() - started < CLICK_BOUND_SECONDS, "a click waited for the fit"
    assert worker.is_alive(), "the fit finished before the test released it: the test proves nothing"
    assert first[0] not in alice.labels  # the tie is no training label any more
    assert len(picks) == 2 and not set(picks) & {10, 12}

    GATES[gate].set()
    worker.join(120)
    assert not worker.is_alive(), "the fit did not finish within 120 s of its gate opening"
    alice.update()  # the worker's next run, which the clicks requested

    expected = expected_training_set(alice, store)
    snapshot = alice.snapshot
    assert snapshot.label_dict() == expected == alice.labels
    X_known, y_known = alice.training_data()
    assert len(y_known) == len(expected)
    np.testing.assert_array_equal(X_known, X[list(snapshot.labels.indices)])
    assert list(y_known) == list(snapshot.labels.values)
    versions = [h["model_version"] for h in alice.history]
    assert versions == sorted(versions) and len(set(versions)) == len(versions) and versions[-1] > version_before
    assert alice.strategy == snapshot.ranking.strategy == "entropy"


def test_a_failing_fit_keeps_the_labels_and_the_last_model():
    X, y = three_blobs()

    class Exploding(LogisticRegression):
        def fit(self, X, y, **kwargs):
            if len(y) > 6:
                raise RuntimeError("fit exploded")
            return super().fit(X, y, **kwargs)

    session = alw.Session(Exploding(), X, random_state=0)
    session.teach([0, 1, 2, 30, 31, 60], [int(y[i]) for i in (0, 1, 2, 30, 31, 60)])
    good = session.snapshot
    with pytest.raises(alw.LabelingError, match="recorded and kept"):
        session.teach(61, int(y[61]))
    assert session.snapshot is good and session.n_labeled == 7
    assert not session.is_current


# ---------------------------------------------------------------------- the Labeler, with a really slow model


def test_labeler_callbacks_return_at_once_while_a_slow_fit_runs(gate):
    """A fit that cannot end until the test says so (a bigger model on a bigger pool): every click returns meanwhile."""
    X, y = three_blobs(120)
    session = alw.Session(GatedClassifier(gate), X, random_state=0, classes=[0, 1, 2])
    seed = [int(np.flatnonzero(y == c)[0]) for c in (0, 1, 2)]
    session.teach(seed, [int(y[i]) for i in seed])  # every class known: each label from here on asks for a fit
    labeler = alw.Labeler(session, plots=None, keyboard=False)
    try:
        labeler.wait(120)
        GATES[gate].clear()  # every fit from here on blocks until the gate opens
        FITTING[gate].clear()
        timings: dict[str, list[float]] = {}

        def timed(name, action):
            start = time.perf_counter()
            action()
            timings.setdefault(name, []).append(time.perf_counter() - start)

        for _ in range(4):
            timed("label", lambda: labeler.label_buttons[int(y[labeler.current])].click())
        assert FITTING[gate].wait(60), "four labels started no fit: the clicks below would prove nothing"
        timed("undo", labeler.undo_button.click)
        timed("skip", labeler.skip_button.click)
        timed("strategy", lambda: setattr(labeler.strategy, "value", "entropy"))
        timed("label", lambda: labeler.label_buttons[int(y[labeler.current])].click())
        assert labeler.updating, "the fit is held at its gate, yet the labeler is not updating"
        slowest = {name: max(values) for name, values in timings.items()}
        # the fit is still held: a click that waited for it would have waited out the gate's bound
        assert all(t < CLICK_BOUND_SECONDS for t in slowest.values()), slowest
        GATES[gate].set()
        labeler.wait(120)  # raises if the updates do not finish
        assert not labeler.errors
        assert session.snapshot.label_dict() == session.labels
        assert session.n_labeled == 3 + 4  # the seed, then 4 labels, one taken back, one more
        assert session.strategy == session.snapshot.ranking.strategy == "entropy"
    finally:
        GATES[gate].set()
        labeler.close()


class BrokenStore(MemoryStore):
    """A store whose next write fails, as a full disk or a dropped database connection does."""

    fail_next = False

    def append_many(self, events):
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        return super().append_many(events)


@pytest.mark.parametrize("action", ["label", "skip", "undo"])
def test_a_store_that_refuses_a_write_loses_nothing_and_says_so(action):
    X, y = three_blobs()
    store = BrokenStore()
    session = alw.Session(LogisticRegression(), X, store=store, random_state=0, classes=[0, 1, 2])
    labeler = alw.Labeler(session, plots=None, keyboard=False)
    try:
        labeler.label_buttons[int(y[labeler.current])].click()
        labeler.wait()
        shown, labeled, events = labeler.current, dict(session.labels), len(store.events())
        store.fail_next = True
        {"label": lambda: labeler.label_buttons[0].click(), "skip": labeler.skip_button.click,
         "undo": labeler.undo_button.click}[action]()
        assert "disk full" in labeler.status.value and "⚠" in labeler.status.value
        assert labeler.current == shown and session.labels == labeled and len(store.events()) == events
        if action == "label":
            assert "not saved" in labeler.status.value
        labeler.label_buttons[int(y[labeler.current])].click()  # the next click works
        labeler.wait()
        assert session.n_labeled == len(labeled) + 1
        assert "disk full" not in labeler.status.value
    finally:
        labeler.close()


# ---------------------------------------------------------------------- BLAS threads


def blas_limits() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_overlapping_blas_limits_unwound_out_of_order_restore_the_original():
    original = blas_limits()
    if not original or max(original) < 2:
        pytest.skip("BLAS already runs one thread here: a limit of 1 changes nothing to observe")
    first, second = _learners.blas_threads(1), _learners.blas_threads(1)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first one out is not the last: the limit stays
    assert max(blas_limits()) == 1
    second.__exit__(None, None, None)
    assert blas_limits() == original


def test_blas_limits_from_two_threads_leave_the_process_as_it_was():
    original = blas_limits()
    release = threading.Event()
    entered = threading.Barrier(3)

    def hold(delay):
        with _learners.blas_threads(1):
            entered.wait(60)
            release.wait(60)
            time.sleep(delay)  # one leaves a moment after the other: either order must restore the limit

    threads = [threading.Thread(target=hold, args=(d,)) for d in (0.0, 0.05)]
    for t in threads:
        t.start()
    entered.wait(60)
    assert _learners._BLAS_LIMIT.depth == 2
    release.set()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a thread holding a BLAS limit did not end within 60 s"
    assert _learners._BLAS_LIMIT.depth == 0
    assert blas_limits() == original


# ---------------------------------------------------------------------- the label state, with no learner


def events_of(*rows):
    from alwidgets.store import LabelEvent

    return [LabelEvent(item_id=item, kind=kind, label=label, annotator=who, seq=k)
            for k, (kind, item, label, who) in enumerate(rows, start=1)]


@pytest.mark.parametrize(
    "rows, labels, ties, skipped, mine",
    [
        ([("label", "a", 1, "me")], {0: 1}, set(), set(), {0: 1}),
        ([("label", "a", 1, "me"), ("retract", "a", 1, "me")], {}, set(), set(), {}),
        ([("label", "a", 1, "me"), ("label", "a", 0, "you")], {}, {0}, set(), {0: 1}),
        ([("label", "a", 1, "me"), ("label", "a", 0, "you"), ("label", "a", 0, "them")], {0: 0}, set(), set(),
         {0: 1}),
        ([("skip", "b", None, "me")], {}, set(), {1}, {}),
        ([("skip", "b", None, "me"), ("label", "b", 2, "me")], {1: 2}, set(), set(), {1: 2}),
        ([("label", "elsewhere", 1, "me")], {}, set(), set(), {}),
    ],
    ids=["label", "retract", "tie", "majority", "skip", "label-after-skip", "other-pool"],
)
def test_label_state_is_what_the_events_add_up_to(rows, labels, ties, skipped, mine):
    state = LabelState(["a", "b", "c"], "me", overlap=2)
    state.apply(events_of(*rows))
    assert state.labels == labels and state.ties == ties and state.skipped == skipped and state.mine == mine
    frozen = state.frozen()
    assert dict(frozen.items()) == labels
    with pytest.raises(AttributeError):
        frozen.seq = 0  # immutable: a worker's training set cannot change under it


def test_label_state_applies_each_event_once_and_counts_other_annotators():
    state = LabelState(["a", "b"], "me")
    events = events_of(("label", "a", 1, "me"), ("label", "b", 0, "you"))
    state.apply(events)
    state.apply(events)  # a second sync that fetched the same events changes nothing
    assert state.labels == {0: 1, 1: 0} and state.seq == 2 and state.others == 1
    assert list(state.unlabeled()) == []
