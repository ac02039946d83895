"""Leases: who is shown which item, so that two annotators are not given the same one.

A lease is a slot on an item (``overlap`` slots per item), held by one
annotator until it is answered or times out. An answered slot stays taken, so
an item is never given to more annotators than asked. A lease also names its
*holder* (the page or session that shows the item) and carries a *heartbeat*:
the last time that holder said it is still there; only leases with a recent
heartbeat count as "being labeled right now" (``live_within``).

The rules (:func:`lease_items`, :func:`answer`) are written once against
:class:`LeaseBook`, the few operations a back end provides inside one of its
transactions, so they run the same on every back end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from alwidgets._validation import check_int
from alwidgets.store.events import LABEL, SKIP, LabelEvent

__all__ = ["DEFAULT_LEASE_TIMEOUT", "LIVE_SECONDS", "LeaseBook", "LeaseRow", "answer", "chunks", "lease_items"]

DEFAULT_LEASE_TIMEOUT = 600.0  # seconds an unanswered item stays with the annotator it was shown to
LIVE_SECONDS = 30.0  # a lease whose holder has not sent a heartbeat for this long is not counted as live


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
    n = check_int(n, "n", minimum=0)
    slots = check_int(slots, "slots")
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
