"""The log and the leases in Python objects, for one process: notebooks, tests and simulations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import replace

from alwidgets.store.events import LabelEvent, check_campaign, check_event
from alwidgets.store.leases import DEFAULT_LEASE_TIMEOUT, LeaseBook, LeaseRow, answer, lease_items

__all__ = ["MemoryStore"]


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
