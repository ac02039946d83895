"""Where labels live: an append-only log of label events.

A label is never overwritten or deleted. Taking one back appends a
``retract`` event; skipping appends a ``skip``. ``Session.labels`` is what
remains when the log is replayed, so a store can be shared, audited and
resumed. Items are named by a stable ``item_id`` (a content hash or a
user-given id), never by a row position.

:class:`MemoryStore` keeps the log in a list; the SQL stores keep it in
SQLite or PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["LabelEvent", "MemoryStore", "open_store"]

LABEL = "label"
RETRACT = "retract"
SKIP = "skip"
KINDS = (LABEL, RETRACT, SKIP)


@dataclass(frozen=True)
class LabelEvent:
    """One thing an annotator did to one item."""

    item_id: str
    kind: str = LABEL
    label: Any = None
    annotator: str = "local"
    strategy: str = ""
    model_version: int = 0
    time: float = field(default_factory=time.time)
    seq: int = 0  # position in the store's log, set by the store

    def as_dict(self) -> dict:
        return asdict(self)


def to_plain(value):
    """A label as a plain Python value (numpy scalars become int/float/str)."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value


class MemoryStore:
    """The log in a Python list: for notebooks, tests and simulations."""

    def __init__(self):
        self._events: list[LabelEvent] = []
        self._lock = threading.Lock()

    def append(self, event: LabelEvent) -> LabelEvent:
        """Add ``event`` to the log; returns it with its sequence number."""
        if event.kind not in KINDS:
            raise ValueError(f"event kind must be one of {KINDS}; got {event.kind!r}")
        with self._lock:
            stored = LabelEvent(**{**event.as_dict(), "seq": len(self._events) + 1, "label": to_plain(event.label)})
            self._events.append(stored)
        return stored

    def events(self, since: int = 0) -> list[LabelEvent]:
        """Every event with a sequence number above ``since``, in order."""
        with self._lock:
            return self._events[since:]

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._events)} events)"


def open_store(store):
    """``None`` -> a new :class:`MemoryStore`; a store object passes through."""
    if store is None:
        return MemoryStore()
    if hasattr(store, "append") and hasattr(store, "events"):
        return store
    raise ValueError(
        f"store must be None (labels in memory) or a store object; got {store!r}"
    )


def replay(events) -> tuple[dict, set]:
    """``({item_id: label}, {skipped item_id})`` after applying ``events`` in order.

    A retraction takes back the latest label of that item by the same annotator.
    """
    by_annotator: dict[tuple[str, str], list] = {}
    skipped: set = set()
    for e in events:
        key = (e.item_id, e.annotator)
        if e.kind == LABEL:
            by_annotator.setdefault(key, []).append(e.label)
            skipped.discard(e.item_id)
        elif e.kind == RETRACT:
            if by_annotator.get(key):
                by_annotator[key].pop()
        elif e.kind == SKIP:
            skipped.add(e.item_id)
    labels: dict = {}
    for (item_id, _), stack in by_annotator.items():
        if stack:
            labels[item_id] = stack[-1]
    return labels, skipped
