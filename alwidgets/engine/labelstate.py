"""What a store's event log adds up to for one annotator's session: labels, votes, ties, what is open.

:class:`LabelState` is pure bookkeeping over :class:`~alwidgets.store.Tally`:
it is fed the store's events in log order and knows, for the pool of one
session, the training label of each decided item (the majority of its votes),
this annotator's own votes, which items are closed, tied or skipped. It knows
nothing of learners, threads or widgets, so it is tested on event lists alone.

:meth:`LabelState.frozen` gives an immutable :class:`FrozenLabels`: the labels
of one consistent point of the log. The session's worker trains on exactly
those, so a learner always knows the labels of some state of the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from alwidgets.store import LABEL, LabelEvent, Tally, majority

__all__ = ["LABELED_MEANS", "LabelState", "FrozenLabels", "pool_progress"]

# What "labeled" means in every count a page shows (its hover text): see pool_progress.
LABELED_MEANS = "an item counts as labeled once most of its votes agree; a tie is not labeled until one more vote"


@dataclass(frozen=True)
class FrozenLabels:
    """The training labels at one point of the log (``seq``), in the order they were decided."""

    seq: int
    indices: tuple[int, ...]
    values: tuple
    others: int  # labels by other annotators applied so far (a counter, for refreshing on them)

    def __len__(self) -> int:
        return len(self.indices)

    def items(self) -> tuple[tuple[int, object], ...]:
        return tuple(zip(self.indices, self.values, strict=True))


class LabelState:
    """Labels, votes and open items of one pool, for one annotator, from the events of a store.

    Parameters
    ----------
    item_ids : sequence of str
        The pool's item ids, by position; events on other items are counted by
        the tally but change nothing here.
    annotator : str
        Whose own votes, skips and open items this state tracks.
    overlap : int
        Votes an item needs before it is closed to further annotators.
    """

    def __init__(self, item_ids: Sequence[str], annotator: str, overlap: int = 1):
        self.item_ids = list(item_ids)
        self.index_of = {item: i for i, item in enumerate(self.item_ids)}
        self.annotator = annotator
        self.overlap = overlap
        self.tally = Tally()
        self.labels: dict[int, object] = {}  # training label (majority) of each decided item, in decision order
        self.mine: dict[int, object] = {}  # this annotator's current votes
        self.closed: set[int] = set()  # items with all the votes they need
        self.ties: set[int] = set()  # items whose votes tie: open for one more annotator
        self.skipped: set[int] = set()  # items this annotator set aside and has not labeled
        self.seq = 0  # the last event applied
        self.others = 0  # labels by other annotators applied so far
        self.events: list[LabelEvent] = []  # every event applied, in log order: the log as this reader has it

    def apply(self, events: Iterable[LabelEvent]) -> list[int]:
        """Apply events in log order (ones at or below :attr:`seq` are ignored); returns the changed pool indices."""
        fresh = [e for e in events if e.seq > self.seq]
        if not fresh:
            return []
        self.seq = fresh[-1].seq
        self.events.extend(fresh)
        self.others += sum(e.kind == LABEL and e.annotator != self.annotator for e in fresh)
        changed = []
        for item_id in self.tally.apply(fresh):
            i = self.index_of.get(item_id)
            if i is not None:
                self._refresh(i, item_id)
                changed.append(i)
        return changed

    def _refresh(self, i: int, item_id: str) -> None:
        votes = self.tally.votes.get(item_id, {})
        label, tie = majority(votes.values())
        if votes and not tie:
            if self.labels.get(i, _MISSING) != label:
                self.labels.pop(i, None)  # a changed label is decided anew: it moves to the end
                self.labels[i] = label
        else:
            self.labels.pop(i, None)
        if self.annotator in votes:
            self.mine[i] = votes[self.annotator]
        else:
            self.mine.pop(i, None)
        _toggle(self.closed, i, len(votes) >= self.overlap and not tie)
        _toggle(self.ties, i, tie and len(votes) >= self.overlap)
        skipped = item_id in self.tally.skips.get(self.annotator, ()) and i not in self.mine
        _toggle(self.skipped, i, skipped)

    # ------------------------------------------------------------------ reading

    def busy(self) -> set[int]:
        """Items this annotator is not to be asked: closed, already answered by them, or skipped."""
        return self.closed | set(self.mine) | self.skipped

    def unlabeled(self) -> np.ndarray:
        """Pool indices this annotator may still be asked, in index order."""
        mask = np.ones(len(self.item_ids), dtype=bool)
        busy = self.busy()
        if busy:
            mask[list(busy)] = False
        return np.flatnonzero(mask)

    def extra_slots(self) -> dict[str, int]:
        """Tied items and the votes they now need (one more than they have)."""
        return {self.item_ids[i]: len(self.tally.votes.get(self.item_ids[i], {})) + 1 for i in self.ties}

    def votes(self) -> dict[int, dict[str, object]]:
        """``{pool index: {annotator: label}}`` for every item of this pool someone has labeled."""
        return {self.index_of[item]: dict(v) for item, v in self.tally.votes.items() if item in self.index_of}

    def votes_newest_first(self) -> list[tuple[int, str, object]]:
        """``(pool index, annotator, label)`` of every current vote, the most recently given first.

        A vote's time is its label event's place in the log: a relabel, and
        the undo of one (which gives the old label again), move it to the front;
        a retraction that leaves an earlier label gives it its old place back.
        """
        tally = self.tally
        given = [(tally.voted_at[(item, who)], self.index_of[item], who, label)
                 for item, votes in tally.votes.items() if item in self.index_of for who, label in votes.items()]
        given.sort(key=lambda vote: -vote[0])
        return [(i, who, label) for _seq, i, who, label in given]

    def frozen(self) -> FrozenLabels:
        """The training labels as they stand now, immutable."""
        return FrozenLabels(self.seq, tuple(self.labels), tuple(self.labels.values()), self.others)


_MISSING = object()


def pool_progress(tally: Tally, pool: Collection[str], overlap: int = 1, leases: Iterable = ()) -> dict:
    """How far the labeling of a pool has come: the one definition every count on every page uses.

    An item is **labeled** when it has a training label: the majority of its
    current votes (a label taken back is no vote; a tie is not labeled). So
    with ``overlap`` above one, ``labeled`` counts items, not the labels
    annotators gave, which ``per_annotator`` counts.

    Parameters
    ----------
    tally : Tally
        The votes the store's log adds up to.
    pool : container of str
        The item ids of the pool; events on other items are not counted.
    overlap : int
        Votes an item needs before it is complete.
    leases : iterable of LeaseRow
        The leases to count as "being labeled right now" (pass the live ones).

    Returns
    -------
    dict
        ``{"labeled", "total", "complete", "ties", "per_annotator", "leased"}``;
        ``total`` is ``len(pool)``, ``ties`` counts items with all their votes
        and no majority, ``per_annotator`` is ``{name: labels given}`` sorted by
        count then name, ``leased`` the pool items in ``leases``.
    """
    labeled = complete = ties = 0
    per_annotator: dict[str, int] = {}
    for item_id, item_votes in tally.votes.items():
        if item_id not in pool:
            continue
        _, tie = majority(item_votes.values())
        enough = len(item_votes) >= overlap
        labeled += not tie
        complete += enough and not tie
        ties += enough and tie
        for name in item_votes:
            per_annotator[name] = per_annotator.get(name, 0) + 1
    leased = {row.item_id for row in leases if row.item_id in pool}
    return {"labeled": labeled, "total": len(pool), "complete": complete, "ties": ties,
            "per_annotator": dict(sorted(per_annotator.items(), key=lambda kv: (-kv[1], kv[0]))),
            "leased": len(leased)}


def _toggle(members: set, item, present: bool) -> None:
    if present:
        members.add(item)
    else:
        members.discard(item)
