"""One annotator's labels: what a click writes to the store, and what the store's log adds up to.

A :class:`LabelBook` is the only writer of labels for its Session: each click
(:meth:`~LabelBook.record`, :meth:`~LabelBook.relabel`, :meth:`~LabelBook.skip`,
:meth:`~LabelBook.undo`) is one store transaction, and the
:class:`~alwidgets.engine.labelstate.LabelState` changes only by applying the
log in order (:meth:`~LabelBook.sync`). The state lock is never held during a
store write, a fit or a draw.

Undo works on :class:`Change` objects, one per call: a batch recorded with one
``record([i, j, k], ...)`` call is taken back whole, in one transaction, so a
page never shows half a batch.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alwidgets._validation import (
    LabelSet,
    check_int,
    check_label_set,
    check_label_value,
    label_to_json,
    match_class,
    shorten,
)
from alwidgets.engine.labelstate import FrozenLabels, LabelState, pool_progress
from alwidgets.store import LABEL, RETRACT, SKIP, InvalidLabel, LabelEvent, report_invalid

__all__ = ["Change", "LabelBook", "check_index", "check_label"]


@dataclass(frozen=True)
class Change:
    """What one call to ``record`` or ``relabel`` did, and so what one ``undo`` takes back.

    ``labels`` are the labels given, one per item; for a relabel, ``previous``
    holds the labels they replaced (which undo gives back), else it is empty.
    """

    items: tuple[int, ...]
    labels: tuple
    relabel: bool = False
    previous: tuple = ()


def check_index(idx, n_pool: int) -> int:
    """``idx`` as a pool index: InvalidParameterError (a TypeError) for a non-integer, IndexError outside the pool."""
    idx = check_int(idx, "idx", minimum=-math.inf)  # the range is checked below, as an IndexError
    if not 0 <= idx < n_pool:
        raise IndexError(f"idx {idx} is out of range for a pool of {n_pool} items (0 to {n_pool - 1})")
    return idx


def check_label(y, *, is_classifier: bool, classes=None, multi_label: bool = False):
    """``y`` as the label a session of that kind stores, or a ValueError/TypeError saying why not."""
    if multi_label:
        return check_label_set(y, classes)  # every member one of the classes; the empty set is allowed
    if is_classifier:
        if classes is not None:
            return match_class(y, classes)  # True or 1.0 for class 1 is stored as 1
        return check_label_value(y)
    try:
        value = float(y)
    except (TypeError, ValueError):
        raise ValueError(f"label must be a number for a regressor; got {y!r}") from None
    if not np.isfinite(value):
        raise ValueError(f"label must be a finite number; got {y!r}")
    return value


class LabelBook:
    """The labels of one pool as one annotator's Session sees and gives them.

    Parameters
    ----------
    store : store
        Where the label log lives; every write is one ``append_many``.
    item_ids : sequence of str
        The pool's item ids, by position.
    annotator : str
        Whose labels this book gives (and whose votes :attr:`mine` holds).
    overlap : int
        Votes an item needs before it is closed to further annotators.
    is_classifier, classes, multi_label
        What a label may be (:func:`check_label`).
    """

    def __init__(self, store, item_ids: Sequence[str], annotator: str, overlap: int = 1, *,
                 is_classifier: bool = True, classes=None, multi_label: bool = False):
        self.store = store
        self.item_ids = list(item_ids)
        self.index_of = {item: i for i, item in enumerate(self.item_ids)}
        self.n_pool = len(self.item_ids)
        self.annotator = annotator
        self.overlap = overlap
        self._kind = {"is_classifier": is_classifier, "classes": classes, "multi_label": multi_label}
        self._state = LabelState(self.item_ids, annotator, overlap)
        self.lock = threading.Lock()  # guards the label state; never held during a store write, fit or draw
        self._write = threading.RLock()  # one click at a time: a store write and the undo order stay in step
        self._changes: list[Change] = []  # what this book recorded, oldest first: what undo takes back
        self._reported: set[int] = set()  # sequence numbers of stored labels this book could not use, warned about
        self._usable_labels: set = set()  # (type, label) pairs already checked: a long log is checked quickly

    # ------------------------------------------------------------------ checks

    def check_index(self, idx, allow_labeled: bool = False) -> int:
        """``idx`` as a pool index; an error if it is not one, or (unless allowed) if this annotator labeled it."""
        idx = check_index(idx, self.n_pool)
        if not allow_labeled:
            mine = self._state.mine.get(idx, _NONE)
            if mine is not _NONE:
                raise ValueError(
                    f"item {idx} is already labeled ({mine!r}) by {self.annotator!r}; use undo() to take a label back"
                )
        return idx

    def check_label(self, y):
        return check_label(y, **self._kind)

    def _check_labels(self, idx, label) -> tuple[list[int], list]:
        many = np.ndim(idx) > 0
        indices = list(np.atleast_1d(idx)) if many else [idx]
        labels = [label]
        if many and self._kind["multi_label"]:  # a list of label sets (np.ndim would choke on unequal sizes)
            labels = list(label) if isinstance(label, (list, tuple)) else None
        elif many:
            labels = list(label) if np.ndim(label) > 0 else None
        if many and (labels is None or len(labels) != len(indices)):
            raise ValueError(f"label must be a list of {len(indices)} labels, one per index; got {label!r}")
        indices = [self.check_index(i) for i in indices]
        if len(set(indices)) != len(indices):
            raise ValueError(f"idx holds the same item more than once: {indices}")
        return indices, [self.check_label(y) for y in labels]

    def _check_suggested(self, suggested, n: int, many: bool) -> list:
        """One suggestion (or None) per labeled item, each a label this book can hold."""
        if suggested is None:
            return [None] * n
        values = list(suggested) if many else [suggested]
        if len(values) != n:
            raise ValueError(f"suggested must hold one suggestion (or None) per item ({n}); got {suggested!r}")
        checked = []
        for g in values:
            try:
                checked.append(None if g is None else self.check_label(g))
            except (TypeError, ValueError) as error:
                raise type(error)(f"suggested {g!r} is not a label this session can hold: {error}") from None
        return checked

    # ------------------------------------------------------------------ writing (the click path)

    def _event(self, idx: int, kind: str, label=None, **fields) -> LabelEvent:
        return LabelEvent(item_id=self.item_ids[idx], kind=kind, label=label, annotator=self.annotator, **fields)

    def record(self, idx, label, suggested=None, *, strategy: str = "", model_version: int = 0) -> Change:
        """Store label(s) for pool index(es) in one transaction; returns the :class:`Change` (one undo step).

        Everything is checked before anything is stored; if the store refuses
        the write, the error propagates and nothing is counted.
        """
        indices, labels = self._check_labels(idx, label)
        seen = self._check_suggested(suggested, len(indices), np.ndim(idx) > 0)
        events = [self._event(i, LABEL, y, strategy=strategy, model_version=model_version, suggested=g)
                  for i, y, g in zip(indices, labels, seen, strict=True)]
        change = Change(tuple(indices), tuple(labels))
        with self._write:
            self.store.append_many(events)  # durable when it returns
            self._changes.append(change)
        self.sync()
        return change

    def relabel(self, idx, label, suggested=None, *, strategy: str = "", model_version: int = 0) -> Change:
        """Change this annotator's own label of ``idx``: a retraction and the new label, in one transaction."""
        idx = self.check_index(idx, allow_labeled=True)
        with self.lock:
            old = self._state.mine.get(idx, _NONE)
        if old is _NONE:
            raise ValueError(f"item {idx} has no label from {self.annotator!r} to change; label it with record()")
        new = self.check_label(label)
        seen = self._check_suggested(suggested, 1, False)[0]
        change = Change((idx,), (new,), relabel=True, previous=(old,))
        with self._write:
            self.store.append_many([
                self._event(idx, RETRACT, old, strategy=strategy, model_version=model_version),
                self._event(idx, LABEL, new, strategy=strategy, model_version=model_version, suggested=seen),
            ])
            self._changes.append(change)
        self.sync()
        return change

    def skip(self, idx, *, strategy: str = "") -> list[int]:
        """Set items aside (one transaction, which also gives their leases back); returns their indices."""
        indices = [self.check_index(i) for i in np.atleast_1d(idx)]
        self.store.append_many([self._event(i, SKIP, strategy=strategy) for i in indices])
        self.sync()
        return indices

    @property
    def last_change(self) -> Change | None:
        """The :class:`Change` :meth:`undo` would take back now (what is left of it), or None."""
        with self._write:
            return self._pending()[1]

    def _pending(self) -> tuple[int, Change | None]:
        """``(position, what is left)`` of the newest change that still holds one of this annotator's votes."""
        with self.lock:
            mine = dict(self._state.mine)
        for k in range(len(self._changes) - 1, -1, -1):
            change = self._changes[k]
            left = [n for n, i in enumerate(change.items) if i in mine]
            if left:
                return k, Change(tuple(change.items[n] for n in left), tuple(mine[change.items[n]] for n in left),
                                 change.relabel, tuple(change.previous[n] for n in left) if change.relabel else ())
        return -1, None

    def undo(self, *, strategy: str = "", model_version: int = 0) -> Change | None:
        """Take back the last :class:`Change` whole, in one transaction; returns what was taken back, or None.

        Only changes made through this book are taken back, never labels the
        same annotator name gave elsewhere. Items of the change already taken
        back elsewhere are left out (a change with none left is passed over);
        the change before is never touched. A relabel gives the old label
        back. If the store refuses the write, nothing changes and the change
        stays undoable. ``labels`` of the result are the labels retracted.
        """
        self.sync()  # see what was taken back elsewhere
        with self._write:
            k, change = self._pending()
            if change is None:
                self._changes.clear()
                return None
            fields = {"strategy": strategy, "model_version": model_version}
            events = [self._event(i, RETRACT, y, **fields) for i, y in zip(change.items, change.labels, strict=True)]
            if change.relabel:  # the old label comes back
                events += [self._event(i, LABEL, y, **fields) for i, y in zip(change.items, change.previous,
                                                                               strict=True)]
            self.store.append_many(events)
            del self._changes[k:]
        self.sync()
        return change

    # ------------------------------------------------------------------ the log

    def sync(self) -> int:
        """Apply the events appended to the store since the last look (by anyone, in log order); returns how many."""
        new = self._usable(self.store.events(since=self._state.seq))  # read outside the lock: applying is idempotent
        if not new:
            return 0
        with self.lock:
            before = self._state.seq
            self._state.apply(new)
            return sum(e.seq > before for e in new)

    def _usable(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """``events`` with each label this session cannot hold made an :class:`InvalidLabel` (nobody's vote), reported.

        The store API takes any plain label or label set whatever the campaign,
        so a store may hold a label set in a single-label campaign, or a label
        that is none of the classes: trained on, it would make every fit fail.
        """
        out = []
        for e in events:
            if e.kind == LABEL and e.item_id in self.index_of and not self._is_usable(e.label):
                raw = e.label.raw if isinstance(e.label, InvalidLabel) else _json_or_repr(e.label)
                if e.seq not in self._reported and not isinstance(e.label, InvalidLabel):  # the store warned
                    self._reported.add(e.seq)
                    report_invalid(
                        f"store event {e.seq} (label of item {shorten(repr(e.item_id))} by "
                        f"{shorten(repr(e.annotator))}) holds {shorten(raw)}, which is not a label of this "
                        f"session ({shorten(self._why_not(e.label), 200)}); it is left out: nobody's vote",
                        stacklevel=5)
                e = LabelEvent(**{**e.as_dict(), "label": InvalidLabel(raw)})
            out.append(e)
        return out

    def _why_not(self, label) -> str:
        """Why this session cannot hold ``label`` ("" if it can)."""
        if isinstance(label, InvalidLabel):
            return "not a label"
        if isinstance(label, LabelSet) and not self._kind["multi_label"]:
            return "a label set, in a session that takes one class per item"
        try:
            self.check_label(label)
        except (TypeError, ValueError) as error:
            return str(error)
        return ""

    def _is_usable(self, label) -> bool:
        """Whether this session can hold ``label``; labels already checked are remembered (a long log is quick)."""
        try:
            key = (type(label), label)
            if key in self._usable_labels:
                return True
        except TypeError:  # unhashable: a store object of one's own that gives a list
            return False
        if self._why_not(label):
            return False
        self._usable_labels.add(key)
        return True

    # ------------------------------------------------------------------ reading (copies, under the lock)

    def freeze(self, sync: bool = True) -> tuple[FrozenLabels, np.ndarray]:
        """The training labels and the items still open to this annotator, at one point of the log."""
        if sync:
            self.sync()
        with self.lock:
            return self._state.frozen(), self._state.unlabeled()

    def log(self) -> tuple[LabelEvent, ...]:
        """Every event of the store applied so far, in log order (what exports and agreement are computed from)."""
        with self.lock:
            return tuple(self._state.events)

    def frozen(self) -> FrozenLabels:
        with self.lock:
            return self._state.frozen()

    @property
    def others(self) -> int:
        """Labels by other annotators applied so far."""
        return self._state.others

    @property
    def labels(self) -> dict[int, object]:
        with self.lock:
            return dict(self._state.labels)

    @property
    def n_labeled(self) -> int:
        return len(self._state.labels)

    @property
    def mine(self) -> dict[int, object]:
        with self.lock:
            return dict(self._state.mine)

    @property
    def skipped(self) -> set[int]:
        with self.lock:
            return set(self._state.skipped)

    def unlabeled(self) -> np.ndarray:
        with self.lock:
            return self._state.unlabeled()

    def votes(self) -> dict[int, dict[str, object]]:
        with self.lock:
            return self._state.votes()

    def votes_newest_first(self) -> list[tuple[int, str, object]]:
        with self.lock:
            return self._state.votes_newest_first()

    def open_to_me(self) -> tuple[set[int], dict[str, int]]:
        """``(busy, extra_slots)``: the items not to ask this annotator, and the tied items' vote counts needed."""
        with self.lock:
            return self._state.busy(), self._state.extra_slots()

    def progress(self, leases) -> dict:
        """:func:`~alwidgets.engine.labelstate.pool_progress` of this pool, counting ``leases`` as being labeled."""
        with self.lock:
            return pool_progress(self._state.tally, self.index_of, self.overlap, leases)


_NONE = object()


def _json_or_repr(label) -> str:
    """A label's JSON text as a store keeps it, or its repr for a value JSON cannot hold."""
    try:
        return label_to_json(label)
    except (TypeError, ValueError):
        return repr(label)
