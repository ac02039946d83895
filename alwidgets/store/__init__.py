"""Where labels live: an append-only log of label events, and leases on items.

A label is never overwritten or deleted. Taking one back appends a
``retract`` event; skipping appends a ``skip``. ``Session.labels`` is what
remains when the log is replayed, so a store can be shared, audited and
resumed. Items are named by a stable ``item_id`` (a content hash or a
user-given id), never by a row position.

Several annotators may label from one store at once. Each label is a *vote*;
the label used for training is the majority of the votes on an item, and a
tie is left open. So that two people are not shown the same item, a session
*leases* what it shows: a lease is a slot on an item (``overlap`` slots per
item), held by one annotator until it is answered or times out. An answered
slot stays taken, so an item is never given to more annotators than asked.

A lease also names its *holder* (the page or session that shows the item)
and carries a *heartbeat*: the last time that holder said it is still there.
The holder refreshes it while its page is open (:meth:`MemoryStore.heartbeat`,
which the dashboard's poll calls) and gives its leases back when its kernel
ends. "Being labeled right now" counts only *live* leases, whose heartbeat is
recent (``leases(live_within=...)``), so the lease of a page whose kernel was
killed is not counted, even while it still keeps its item from others until
it expires.

:class:`MemoryStore` keeps all this in Python objects (one process);
:class:`alwidgets.store.sql.SQLStore` keeps it in SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from alwidgets._validation import LabelSet, check_label_value

__all__ = [
    "InvalidLabel",
    "LabelEvent",
    "LeaseRow",
    "MemoryStore",
    "StoreError",
    "StoreUnavailable",
    "Tally",
    "majority",
    "set_majority",
    "open_store",
    "replay",
]

LABEL = "label"
RETRACT = "retract"
SKIP = "skip"
KINDS = (LABEL, RETRACT, SKIP)

DEFAULT_LEASE_TIMEOUT = 600.0  # seconds an unanswered item stays with the annotator it was shown to
LIVE_SECONDS = 30.0  # a lease whose holder has not sent a heartbeat for this long is not counted as live


class StoreError(RuntimeError):
    """A label store cannot be opened or used; the message says why and what would work."""


class StoreUnavailable(StoreError):
    """The store's database stopped answering (a server outage, a lock held too long).

    Its message is safe to show anyone: it names no host, port or user.
    ``details`` holds what the operator needs (also logged to the
    ``alwidgets.store`` logger when it happens).
    """

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class InvalidLabel:
    """A label found in a store that no label may be (a list, say): written by an older alwidgets.

    Reading keeps such an event, so nothing is lost and it is exported as it
    was written (``raw``, its JSON text), but it counts as nobody's vote.
    """

    raw: str

    def __str__(self) -> str:
        return self.raw


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
    suggested: Any = None  # the model's suggestion the person saw when labeling (None: none was shown)

    @property
    def accepted(self) -> bool | None:
        """For a label given with a suggestion on screen: whether it is the suggestion; else None."""
        if self.kind != LABEL or self.suggested is None:
            return None
        return self.label == self.suggested

    def as_dict(self) -> dict:
        return asdict(self)




def check_event(event: LabelEvent) -> LabelEvent:
    """``event`` with a plain label; a ValueError (or TypeError for the label's type) naming what is wrong.

    Every store calls this before it writes anything, so a label no store can
    hold, count or export (a list, a dict, None, NaN) never reaches the log.
    """
    if event.kind not in KINDS:
        raise ValueError(f"event kind must be one of {KINDS}; got {event.kind!r}")
    if not isinstance(event.item_id, str) or not event.item_id:
        raise ValueError(f"event item_id must be a non-empty string; got {event.item_id!r}")
    if not isinstance(event.annotator, str) or not event.annotator:
        raise ValueError(f"event annotator must be a non-empty string; got {event.annotator!r}")
    label = event.label
    if event.kind == LABEL or label is not None:  # a retraction may name the label it takes back; a skip has none
        label = check_label_value(label)
    suggested = event.suggested
    if suggested is not None:
        if event.kind != LABEL:
            raise ValueError(f"only a label event can carry a suggestion; got a {event.kind!r} event")
        suggested = check_label_value(suggested)
    return LabelEvent(**{**event.as_dict(), "label": label, "suggested": suggested})


# ---------------------------------------------------------------------- the campaign a store belongs to

CAMPAIGN_KEYS = ("campaign.name", "campaign.classes", "campaign.pool", "campaign.n_items")


def campaign_info(classes, item_ids, name: str = "") -> dict[str, str]:
    """What a store records about the campaign it holds labels for: its classes and a fingerprint of its pool.

    The fingerprint is a hash of the sorted item ids, so it names the items,
    not their order.
    """
    ids = sorted(str(i) for i in item_ids)
    pool = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]
    plain = [check_label_value(c) for c in classes] if classes is not None else None
    return {"campaign.name": name, "campaign.classes": json.dumps(plain), "campaign.pool": pool,
            "campaign.n_items": str(len(ids))}


def check_campaign(recorded: dict[str, str], info: dict[str, str], where: str) -> None:
    """Raise StoreError if the store at ``where`` was made for another campaign than ``info``.

    ``recorded`` holds the ``campaign.*`` metadata the store has (none: any campaign may take it).
    """
    if not recorded.get("campaign.pool"):
        return
    theirs = recorded.get("campaign.name") or "another campaign"
    then = json.loads(recorded.get("campaign.classes") or "null")
    now = json.loads(info["campaign.classes"])
    rebind = ("If this is the same campaign and you changed it on purpose, run "
              "`python -m alwidgets serve CONFIG --rebind-store` once: it records the new classes and pool "
              "(labels already given are kept; those of items no longer in the pool are ignored).")
    if then is not None and now is not None and sorted(map(json.dumps, then)) != sorted(map(json.dumps, now)):
        raise StoreError(
            f"store {where} holds the labels of {theirs}, with classes {then}, and this campaign's classes are "
            f"{now}: two campaigns must not share a store. Give this one its own: set [store] url = "
            f"\"labels/NAME.db\" in its config (without [store], a config NAME.toml uses labels/NAME.db). {rebind}"
        )
    if recorded["campaign.pool"] != info["campaign.pool"]:
        raise StoreError(
            f"store {where} holds the labels of {theirs}, made for a pool of {recorded.get('campaign.n_items')} "
            f"items (fingerprint {recorded['campaign.pool']}), and this campaign's pool has "
            f"{info['campaign.n_items']} items (fingerprint {info['campaign.pool']}): two campaigns must not share "
            f"a store. Give this one its own: set [store] url = \"labels/NAME.db\" in its config. {rebind}"
        )


# ---------------------------------------------------------------------- votes


def majority(labels: Iterable) -> tuple[Any, bool]:
    """``(label, is_tie)``: the most frequent of ``labels``; ``(None, True)`` on a tie.

    No labels at all gives ``(None, False)``. Votes on a multi-label item
    (:class:`~alwidgets._validation.LabelSet`) are decided class by class: see
    :func:`set_majority`.
    """
    labels = list(labels)
    if labels and all(isinstance(label, LabelSet) for label in labels):
        return set_majority(labels)
    counts = Counter(labels).most_common(2)
    if not counts:
        return None, False
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None, True
    return counts[0][0], False


def set_majority(label_sets: list[LabelSet]) -> tuple[LabelSet | None, bool]:
    """``(label set, is_tie)`` of several annotators' label sets: a per-class majority.

    A class is in the decided set when more than half of the annotators put it
    in theirs, and out of it when more than half left it out. When exactly half
    did (an even number of annotators split on it), the item is a tie
    ``(None, True)``, like a tie between two labels: it is not trained on and is
    offered to one more annotator. One annotator's set is decided as it is.
    """
    n = len(label_sets)
    counts = Counter(c for label_set in label_sets for c in label_set)
    if any(2 * k == n for k in counts.values()):
        return None, True
    return LabelSet(c for c, k in counts.items() if 2 * k > n), False


class Tally:
    """The state an event log adds up to: each annotator's current vote per item, and skips.

    Fed incrementally with :meth:`apply`, so a session can pull only the
    events appended since it last looked. A retraction takes back the latest
    label of that item by the same annotator. A label the store could not read
    as a label (:class:`InvalidLabel`) is nobody's vote; its event is listed
    in :attr:`invalid`.
    """

    def __init__(self):
        self._stacks: dict[tuple[str, str], list] = {}  # (item_id, annotator) -> [(label, seq), ...]
        self.votes: dict[str, dict[str, Any]] = {}  # item_id -> {annotator: label}
        self.voted_at: dict[tuple[str, str], int] = {}  # (item_id, annotator) -> seq of the event giving that vote
        self.skips: dict[str, set[str]] = {}  # annotator -> skipped item_ids
        self.invalid: list[LabelEvent] = []  # label events whose label is not a label
        self.last_seq = 0

    def apply(self, events: Iterable[LabelEvent]) -> list[str]:
        """Add ``events`` (in log order); returns the item ids whose state changed, in log order.

        An ordered list, not a set: a set's order follows string hashing, which
        changes with every Python process, and a session feeding its learner
        labels in that order would not give the same model twice.
        """
        changed: dict[str, None] = {}
        for e in events:
            key = (e.item_id, e.annotator)
            if e.kind == LABEL:
                self._stacks.setdefault(key, []).append((e.label, e.seq))
                self.skips.get(e.annotator, set()).discard(e.item_id)
                if isinstance(e.label, InvalidLabel):
                    self.invalid.append(e)
            elif e.kind == RETRACT:
                stack = self._stacks.get(key)
                if stack:
                    stack.pop()
            elif e.kind == SKIP:
                self.skips.setdefault(e.annotator, set()).add(e.item_id)
            stack = self._stacks.get(key)
            item_votes = self.votes.setdefault(e.item_id, {})
            if stack and not isinstance(stack[-1][0], InvalidLabel):
                item_votes[e.annotator], self.voted_at[key] = stack[-1]
            else:
                item_votes.pop(e.annotator, None)
                self.voted_at.pop(key, None)
            if not item_votes:
                del self.votes[e.item_id]
            changed[e.item_id] = None
            self.last_seq = max(self.last_seq, e.seq)
        return list(changed)

    def decision(self, item_id: str) -> tuple[Any, bool]:
        """``(training label or None, is_tie)`` for one item: the majority of its votes."""
        return majority(self.votes.get(item_id, {}).values())

    def labels(self) -> dict[str, Any]:
        """``{item_id: majority label}`` for every item with a decided vote (ties left out)."""
        out = {}
        for item_id, item_votes in self.votes.items():
            label, tie = majority(item_votes.values())
            if not tie:
                out[item_id] = label
        return out


def replay(events) -> tuple[dict, set]:
    """``({item_id: label}, {skipped item_id})`` after applying ``events`` in order.

    The label of an item is the majority vote of its annotators (ties are left
    out). An item counts as skipped if someone skipped it and nobody labeled it.
    """
    tally = Tally()
    tally.apply(events)
    labels = tally.labels()
    skipped = set().union(*tally.skips.values()) if tally.skips else set()
    return labels, skipped - set(tally.votes)


# ---------------------------------------------------------------------- leases


@dataclass(frozen=True)
class LeaseRow:
    """One slot on an item: held by ``annotator`` until ``expires``, or answered (``done``).

    ``holder`` names the page (session) that leased it and ``heartbeat`` is
    the last time that holder said it is still open.
    """

    item_id: str
    slot: int
    annotator: str
    expires: float
    done: bool = False
    holder: str = ""
    heartbeat: float = 0.0

    def active(self, now: float) -> bool:
        """Whether the slot is taken: answered, or leased and not yet expired."""
        return self.done or self.expires > now

    def live(self, now: float, within: float | None) -> bool:
        """Whether the lease is held right now: unanswered, not expired, with a heartbeat in the last ``within`` s."""
        return (not self.done and self.expires > now
                and (within is None or self.heartbeat >= now - within))


def _plan_lease(rows: list[LeaseRow], annotator: str, need: int, now: float) -> int | None:
    """The slot ``annotator`` may lease on an item with ``rows``, or None if the item is not free."""
    for row in rows:
        if row.annotator == annotator:
            return None if row.done else row.slot  # renew one's own lease; never re-ask an answer
    if sum(row.active(now) for row in rows) >= need:
        return None
    return _free_slot(rows, now)


def _free_slot(rows: list[LeaseRow], now: float) -> int:
    """The lowest slot that is empty or holds an expired, unanswered lease."""
    by_slot = {row.slot: row for row in rows}
    slot = 0
    while slot in by_slot and by_slot[slot].active(now):
        slot += 1
    return slot


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last may be shorter); reads lazily."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class LeaseBook:
    """The lease operations a store provides inside one of its transactions.

    The leasing rules (:func:`lease_items`, :func:`answer`) are written once
    against this small interface and run the same on every back end.
    """

    def rows(self, item_ids: list[str]) -> dict[str, list[LeaseRow]]:  # pragma: no cover - interface
        raise NotImplementedError

    def put(self, row: LeaseRow) -> None:  # pragma: no cover - interface
        """Insert or replace the row of ``(row.item_id, row.slot)``."""
        raise NotImplementedError

    def drop(self, item_id: str, annotator: str, only_open: bool) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def drop_open_except(self, annotator: str, keep: set[str]) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def drop_holder(self, holder: str) -> None:  # pragma: no cover - interface
        """Drop every unanswered lease of ``holder``."""
        raise NotImplementedError

    def touch(self, holder: str, now: float) -> None:  # pragma: no cover - interface
        """Set the heartbeat of ``holder``'s unanswered leases to ``now``."""
        raise NotImplementedError


def lease_items(book: LeaseBook, annotator: str, candidates: Iterable[str], n: int, *, slots: int,
                extra_slots: dict[str, int] | None, timeout: float, release_others: bool, now: float,
                holder: str = "") -> list[str]:
    """Lease the first ``n`` of ``candidates`` (most wanted first) still free for ``annotator``, held by ``holder``."""
    extra_slots = extra_slots or {}
    taken: list[str] = []
    if n > 0:
        for chunk in chunks(candidates, max(64, n)):
            rows = book.rows(chunk)
            for item_id in chunk:
                slot = _plan_lease(rows.get(item_id, []), annotator, extra_slots.get(item_id, slots), now)
                if slot is None:
                    continue
                book.put(LeaseRow(item_id, slot, annotator, now + timeout, False, holder, now))
                taken.append(item_id)
                if len(taken) == n:
                    break
            if len(taken) == n:
                break
    if release_others:
        book.drop_open_except(annotator, set(taken))
    return taken


def answer(book: LeaseBook, event: LabelEvent, now: float) -> None:
    """Update the leases for a stored event: a label fills its slot, a retraction or skip frees it."""
    if event.kind == LABEL:
        rows = book.rows([event.item_id]).get(event.item_id, [])
        mine = [row for row in rows if row.annotator == event.annotator]
        slot = mine[0].slot if mine else _free_slot(rows, now)
        book.put(LeaseRow(event.item_id, slot, event.annotator, 0.0, True))
    else:
        book.drop(event.item_id, event.annotator, only_open=event.kind == SKIP)


class _MemoryLeaseBook(LeaseBook):
    def __init__(self):
        self.by_item: dict[str, dict[int, LeaseRow]] = {}
        self.open_by_annotator: dict[str, set[str]] = {}

    def rows(self, item_ids):
        return {i: list(self.by_item[i].values()) for i in item_ids if i in self.by_item}

    def put(self, row):
        slots = self.by_item.setdefault(row.item_id, {})
        old = slots.get(row.slot)
        if old is not None:
            self.open_by_annotator.get(old.annotator, set()).discard(row.item_id)
        slots[row.slot] = row
        if not row.done:
            self.open_by_annotator.setdefault(row.annotator, set()).add(row.item_id)
        else:
            self.open_by_annotator.get(row.annotator, set()).discard(row.item_id)

    def drop(self, item_id, annotator, only_open):
        slots = self.by_item.get(item_id, {})
        for slot, row in list(slots.items()):
            if row.annotator == annotator and not (only_open and row.done):
                del slots[slot]
                self.open_by_annotator.get(annotator, set()).discard(item_id)

    def drop_open_except(self, annotator, keep):
        for item_id in list(self.open_by_annotator.get(annotator, set()) - keep):
            self.drop(item_id, annotator, only_open=True)

    def drop_holder(self, holder):
        for slots in self.by_item.values():
            for slot, row in list(slots.items()):
                if row.holder == holder and not row.done:
                    del slots[slot]
                    self.open_by_annotator.get(row.annotator, set()).discard(row.item_id)

    def touch(self, holder, now):
        for slots in self.by_item.values():
            for slot, row in list(slots.items()):
                if row.holder == holder and not row.done:
                    slots[slot] = replace(row, heartbeat=now)

    def active(self, now, within=None):
        return [row for slots in self.by_item.values() for row in slots.values() if row.live(now, within)]


class MemoryStore:
    """The log and the leases in Python objects: for notebooks, tests and simulations."""

    def __init__(self):
        self._events: list[LabelEvent] = []
        self._book = _MemoryLeaseBook()
        self._lock = threading.Lock()
        self._meta: dict[str, str] = {}

    def append(self, event: LabelEvent) -> LabelEvent:
        """Add ``event`` to the log; returns it with its sequence number."""
        return self.append_many([event])[0]

    def append_many(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """Add ``events`` at once (all or none); returns them with their sequence numbers."""
        checked = [check_event(e) for e in events]
        stored = []
        with self._lock:
            now = time.time()
            for e in checked:
                e = LabelEvent(**{**e.as_dict(), "seq": len(self._events) + 1})
                self._events.append(e)
                answer(self._book, e, now)
                stored.append(e)
        return stored

    def events(self, since: int = 0) -> list[LabelEvent]:
        """Every event with a sequence number above ``since``, in order."""
        with self._lock:
            return self._events[since:]

    def lease(self, annotator: str, candidates: Iterable[str], n: int = 1, *, slots: int = 1,
              extra_slots: dict[str, int] | None = None, timeout: float = DEFAULT_LEASE_TIMEOUT,
              release_others: bool = True, holder: str = "") -> list[str]:
        """Lease the first ``n`` free items of ``candidates`` to ``annotator``; see :func:`lease_items`."""
        with self._lock:
            return lease_items(self._book, annotator, candidates, n, slots=slots, extra_slots=extra_slots,
                               timeout=timeout, release_others=release_others, now=time.time(), holder=holder)

    def release(self, annotator: str, item_ids: Iterable[str] | None = None, *, holder: str | None = None) -> None:
        """Give back ``annotator``'s unanswered leases (all of them when ``item_ids`` is None).

        With ``holder``, only the unanswered leases that holder (a page) took, whoever they are for.
        """
        with self._lock:
            if holder is not None:
                self._book.drop_holder(holder)
            elif item_ids is None:
                self._book.drop_open_except(annotator, set())
            else:
                for item_id in item_ids:
                    self._book.drop(item_id, annotator, only_open=True)

    def heartbeat(self, holder: str) -> None:
        """Say that ``holder`` (a page) is still open: its unanswered leases stay live."""
        with self._lock:
            self._book.touch(holder, time.time())

    def leases(self, live_within: float | None = None) -> list[LeaseRow]:
        """The leases held right now (unanswered, not expired).

        With ``live_within``, only those whose holder sent a heartbeat in the last ``live_within`` seconds.
        """
        with self._lock:
            return self._book.active(time.time(), live_within)

    def bind_campaign(self, info: dict[str, str], rebind: bool = False) -> None:
        """Record the campaign (:func:`campaign_info`) this store is for; StoreError if it holds another's labels."""
        with self._lock:
            if not rebind:
                check_campaign(self._meta, info, "in memory")
            if rebind or not self._meta.get("campaign.pool"):
                self._meta.update(info)

    def info(self) -> dict:
        """The campaign metadata recorded with :meth:`bind_campaign`."""
        with self._lock:
            return dict(self._meta)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._events)} events)"


_PATH_OPENER: list = []  # the back end for paths and URLs: alwidgets.store.sql puts itself here when imported
PATH_BACKEND = "alwidgets.store.sql"  # the plug-in imported, by name, for the first path or URL if none registered


def register_path_opener(opener) -> None:
    """Make ``opener(path_or_url, create=...)`` the store :func:`open_store` uses for paths and URLs.

    The SQL back end registers itself when it is imported; :func:`open_store`
    imports it by name (:data:`PATH_BACKEND`) the first time it is handed a
    path and no back end has registered, so this module never imports it.
    """
    _PATH_OPENER[:] = [opener]


def _path_opener():
    """The registered opener for paths and URLs, importing the SQL back end if none has registered yet."""
    if not _PATH_OPENER:
        import importlib

        importlib.import_module(PATH_BACKEND)  # registers itself (sqlalchemy is imported only now)
    return _PATH_OPENER[0] if _PATH_OPENER else None


def is_store(obj) -> bool:
    """Whether ``obj`` offers what a Session needs from a store."""
    return all(hasattr(obj, name) for name in ("append_many", "events", "lease", "release"))


def open_store(store, *, create: bool = True, read_only: bool = False):
    """A store from what a user passes as ``store=``.

    ``None`` -> a new :class:`MemoryStore`; a path (``"labels.db"``,
    ``Path``) or ``"sqlite:///labels.db"`` -> a SQLite file; a
    ``"postgresql://user@host/db"`` URL -> PostgreSQL; a store object passes
    through. With ``create=False`` a store that does not exist yet is an error
    instead of being made. With ``read_only=True`` (export) nothing is ever
    written to the database, nor next to a SQLite file.
    """
    if store is None:
        return MemoryStore()
    if is_store(store):
        return store
    opener = _path_opener() if isinstance(store, (str, Path)) else None
    if opener is not None:
        return opener(store, create=create and not read_only, read_only=read_only)
    raise ValueError(
        "store must be None (labels in memory), a SQLite file path such as 'labels.db', "
        f"a 'postgresql://user@host/db' URL or a store object; got {store!r}"
    )
