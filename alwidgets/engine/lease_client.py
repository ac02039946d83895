"""Which items a Session's page is showing: its leases in the store.

An item shown is leased to the annotator, so other pages on the same store
are not given it (beyond the overlap) until it is answered, skipped, or the
lease times out. Leases are named by a holder (one per Session), so a page
that closes gives back exactly its own, and the dashboard's heartbeat keeps
an open page's leases live.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from alwidgets.engine.label_book import check_index

if TYPE_CHECKING:
    from alwidgets.engine.label_book import LabelBook
    from alwidgets.engine.snapshot import Ranking

__all__ = ["LeaseClient"]

_NO_ITEMS = np.array([], dtype=int)


class LeaseClient:
    """Leases one Session's annotator takes, renews and gives back, on the items its :class:`LabelBook` knows.

    A store back end without ``heartbeat`` does not know holders: leases are
    then taken and given back by annotator name only.
    """

    def __init__(self, store, book: LabelBook, *, lease_timeout: float, holder: str | None = None):
        self.store = store
        self.book = book
        self.lease_timeout = lease_timeout
        self.holder = holder or uuid.uuid4().hex
        self.holds = hasattr(store, "heartbeat")

    def _holder_kw(self) -> dict:
        return {"holder": self.holder} if self.holds else {}

    def query(self, ranking: Ranking | None, n: int, rerank: Callable[[], Ranking | None] | None = None) -> list[int]:
        """Lease the ``n`` most wanted items of ``ranking`` still open to this annotator.

        Items back in the pool since the ranking was made are not in it: with
        ``rerank`` a fresh ranking is asked for; without, they come after it.
        """
        picks = self.take(_order(ranking), n)
        if len(picks) < n:
            ranked = _order(ranking)
            open_items = self.book.unlabeled()
            unranked = open_items[np.isin(open_items, ranked, invert=True)]
            if len(unranked):
                if rerank is not None:
                    picks = self.take(_order(rerank()), n)
                else:
                    picks += self.take(unranked, n - len(picks))
        return picks

    def peek(self, ranking: Ranking | None, n: int = 1) -> list[int]:
        """The first ``n`` items of ``ranking`` still open to this annotator, without leasing them."""
        busy, _ = self.book.open_to_me()
        picks = []
        for i in map(int, _order(ranking)):
            if i not in busy:
                picks.append(i)
                if len(picks) == n:
                    break
        return picks

    def take(self, order: Iterable[int], n: int) -> list[int]:
        """Lease the first ``n`` items of ``order`` open to this annotator (giving back its other unanswered ones)."""
        busy, extra = self.book.open_to_me()
        ids = self.book.item_ids
        candidates = (ids[i] for i in map(int, order) if i not in busy)
        leased = self.store.lease(self.book.annotator, candidates, n, slots=self.book.overlap, extra_slots=extra,
                                  timeout=self.lease_timeout, **self._holder_kw())
        return [self.book.index_of[item] for item in leased]

    def hold(self, indices: Iterable[int]) -> None:
        """Keep items (just taken back) for this annotator, without giving up what they are shown."""
        items = [self.book.item_ids[i] for i in indices]
        if items:
            self.store.lease(self.book.annotator, items, len(items), slots=self.book.overlap,
                             timeout=self.lease_timeout, release_others=False, **self._holder_kw())

    def release(self) -> None:
        """Give back the items this holder was shown and has not answered (another page's stay with it)."""
        self.store.release(self.book.annotator, **self._holder_kw())

    def release_items(self, indices) -> None:
        """Give back the leases on pool items ``indices`` (shown, then replaced by a fresher pick)."""
        ids = self.book.item_ids
        self.store.release(self.book.annotator, [ids[check_index(i, self.book.n_pool)] for i in indices])

    def heartbeat(self) -> None:
        """Say that this holder's page is still open: its leases count as live."""
        if self.holds:
            self.store.heartbeat(self.holder)

    def live(self, live_within: float) -> list:
        """The store's leases that count as being labeled right now (all of them for a store without holders)."""
        return self.store.leases(live_within=live_within) if self.holds else self.store.leases()


def _order(ranking: Ranking | None) -> np.ndarray:
    return ranking.order if ranking is not None else _NO_ITEMS
