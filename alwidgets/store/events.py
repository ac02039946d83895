"""The label log's vocabulary: events, their kinds, the errors of a store, campaign records and vote counting.

A label is never overwritten or deleted. Taking one back appends a
``retract`` event; skipping appends a ``skip``. :class:`Tally` adds a log up
to each annotator's current vote per item, and :func:`majority` decides the
label used for training (a tie is left open). Every store back end writes and
reads these; nothing here knows where a log is kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import numbers
import time
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from alwidgets._validation import LabelSet, check_label_value, label_from_json, shorten

__all__ = [
    "CAMPAIGN_KEYS", "InvalidEventWarning", "InvalidLabel", "KINDS", "LABEL", "LabelEvent", "RETRACT", "SKIP",
    "StoreError", "StoreUnavailable", "Tally", "campaign_info", "check_campaign", "check_classes", "check_event",
    "majority", "read_label", "replay", "report_invalid", "set_majority",
]

log = logging.getLogger(__package__)  # "alwidgets.store": one logger for every back end

LABEL = "label"
RETRACT = "retract"
SKIP = "skip"
KINDS = (LABEL, RETRACT, SKIP)


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


class InvalidEventWarning(UserWarning):
    """A store holds an event no alwidgets writes (an older one's label, a hand edit); it is reported, not counted."""


def report_invalid(message: str, stacklevel: int = 3) -> None:
    """Tell the operator (log) and the user (an :class:`InvalidEventWarning`) about a bad stored event."""
    log.warning("%s", message)
    warnings.warn(message, InvalidEventWarning, stacklevel=stacklevel)


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


def read_label(raw):
    """The label a store's JSON text holds; one that is not a label comes back as an :class:`InvalidLabel`.

    Never an error, whatever the text: a store others can write to must still
    open (JSON nested 100,000 deep raises RecursionError in ``json.loads``).
    """
    if raw is None:
        return None
    try:
        return label_from_json(raw)
    except (TypeError, ValueError, RecursionError):  # not JSON, a list, null, NaN, a 5,000-digit number, too deep
        return InvalidLabel(str(raw))


def check_event(event: LabelEvent) -> LabelEvent:
    """``event`` with a plain label; a ValueError (or TypeError for the label's type) naming what is wrong.

    Every store calls this before it writes anything, so a label no store can
    hold, count or export (a list, a dict, None, NaN) never reaches the log,
    nor a time that is not a number of seconds (an export could not write it).
    """
    if event.kind not in KINDS:
        raise ValueError(f"event kind must be one of {KINDS}; got {event.kind!r}")
    if not isinstance(event.item_id, str) or not event.item_id:
        raise ValueError(f"event item_id must be a non-empty string; got {event.item_id!r}")
    if not isinstance(event.annotator, str) or not event.annotator:
        raise ValueError(f"event annotator must be a non-empty string; got {event.annotator!r}")
    if isinstance(event.time, bool) or not isinstance(event.time, numbers.Real) or not math.isfinite(event.time):
        raise ValueError(f"event time must be a finite number of seconds since 1970; got {shorten(repr(event.time))}")
    label = event.label
    if event.kind == LABEL or label is not None:  # a retraction may name the label it takes back; a skip has none
        label = check_label_value(label)
    suggested = event.suggested
    if suggested is not None:
        if event.kind != LABEL:
            raise ValueError(f"only a label event can carry a suggestion; got a {event.kind!r} event")
        suggested = check_label_value(suggested)
    return LabelEvent(**{**event.as_dict(), "label": label, "suggested": suggested, "time": float(event.time)})


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


REBIND = ("If this is the same campaign and you changed it on purpose, run "
          "`python -m alwidgets serve CONFIG --rebind-store` once (in Python: "
          "store.bind_campaign(alwidgets.store.campaign_info(classes, item_ids), rebind=True)): it records the "
          "new classes and pool (labels already given are kept; those of items no longer in the pool are ignored).")


def _same_classes(then, now) -> bool:
    return sorted(map(json.dumps, then)) == sorted(map(json.dumps, now))


def check_campaign(recorded: dict[str, str], info: dict[str, str], where: str) -> None:
    """Raise StoreError if the store at ``where`` was made for another campaign than ``info``.

    ``recorded`` holds the ``campaign.*`` metadata the store has (none: any campaign may take it).
    """
    if not recorded.get("campaign.pool"):
        return
    theirs = recorded.get("campaign.name") or "another campaign"
    then = json.loads(recorded.get("campaign.classes") or "null")
    now = json.loads(info["campaign.classes"])
    if then is not None and now is not None and not _same_classes(then, now):
        raise StoreError(
            f"store {where} holds the labels of {theirs}, with classes {then}, and this campaign's classes are "
            f"{now}: two campaigns must not share a store. Give this one its own: set [store] url = "
            f"\"labels/NAME.db\" in its config (without [store], a config NAME.toml uses labels/NAME.db). {REBIND}"
        )
    if recorded["campaign.pool"] != info["campaign.pool"]:
        raise StoreError(
            f"store {where} holds the labels of {theirs}, made for a pool of {recorded.get('campaign.n_items')} "
            f"items (fingerprint {recorded['campaign.pool']}), and this campaign's pool has "
            f"{info['campaign.n_items']} items (fingerprint {info['campaign.pool']}): two campaigns must not share "
            f"a store. Give this one its own: set [store] url = \"labels/NAME.db\" in its config. {REBIND}"
        )


def check_classes(recorded: dict[str, str], classes, where: str) -> None:
    """Raise StoreError if the store at ``where`` is bound to a campaign of other classes than ``classes``.

    The check ``serve`` makes, for a store opened any other way (a Session's
    ``store=``): labels of other classes would be read as this session's
    (class 2 of a wine campaign as "white"). Only classes are compared: a
    Session may label part of a campaign's pool.
    """
    if not recorded.get("campaign.pool") or classes is None:
        return
    try:
        now = json.loads(json.dumps([check_label_value(c) for c in classes]))
        then = json.loads(recorded.get("campaign.classes") or "null")
    except (TypeError, ValueError):  # classes the Session's own checks refuse, or an unreadable record
        return
    if then is None or _same_classes(then, now):
        return
    theirs = recorded.get("campaign.name") or "a campaign"
    raise StoreError(
        f"store {where} holds the labels of {theirs}, with classes {then}, and this session's classes are {now}: "
        f"its labels would be read as this session's. Use a store of its own (another file or database). {REBIND}"
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
