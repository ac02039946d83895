"""What one model update publishes: a :class:`Ranking` and a :class:`Snapshot`, both immutable.

Readers (plots, "why this one?", other threads) take ``session.snapshot``
once and read it without a lock, so nothing in it may change after it is
published: its arrays are read-only, its history rows are read-only
mappings (:class:`Row`), and its learner is never refitted (every fit clones the template).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from alwidgets.engine.labelstate import FrozenLabels

__all__ = ["Ranking", "Snapshot", "Row", "NO_LABELS", "frozen_row", "frozen_status"]

NO_LABELS = FrozenLabels(0, (), (), 0)


class Row(Mapping):
    """A read-only mapping (a history row, the stop signal's status); unlike a mappingproxy it pickles and copies."""

    __slots__ = ("_data",)

    def __init__(self, data=()):
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __reduce__(self):
        return (type(self), (self._data,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


def frozen_row(row: Mapping) -> Row:
    """A read-only copy of ``row`` (a :class:`Row` is kept as it is: nobody can change it)."""
    return row if isinstance(row, Row) else Row(row)


def frozen_status(status: Mapping | None) -> Row | None:
    """The stop signal's status, read-only all the way down (its window a tuple, ``first_stop`` a :class:`Row`)."""
    if status is None or isinstance(status, Row):
        return status
    out = dict(status)
    out["window"] = tuple(out.get("window", ()))
    if out.get("first_stop") is not None:
        out["first_stop"] = frozen_row(out["first_stop"])
    return Row(out)


def _read_only(array) -> np.ndarray:
    array = np.asarray(array)
    if array.flags.writeable:
        array = array.view()  # the flag is set on our view only, never on an array the caller keeps
        array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Ranking:
    """The open pool ordered by a strategy, for one model and one point of the label log."""

    order: np.ndarray  # pool indices, most wanted first
    scores: np.ndarray  # one per pool index (NaN where not scored)
    n_chosen: int  # how many leading entries the strategy chose as a batch
    strategy: str
    label_seq: int  # the label log position it was made at

    def __post_init__(self):
        object.__setattr__(self, "order", _read_only(self.order))
        object.__setattr__(self, "scores", _read_only(self.scores))


@dataclass(frozen=True)
class Snapshot:
    """The model as one update left it. Immutable: readers never need a lock.

    ``learner`` must not be changed by anyone: it is shared by every reader of
    this snapshot. ``labels`` are exactly what it was taught (beyond any
    training data the learner came with). ``history`` holds one read-only
    mapping per fit; ``stopping`` the stop signal's status after this model.
    """

    version: int
    learner: object
    fitted: bool
    labels: FrozenLabels
    ranking: Ranking | None
    score: float | None
    history: tuple = ()
    increments: tuple[int, ...] = ()  # online learning: the size of each partial fit, in order
    stopping: Mapping | None = None

    def __post_init__(self):
        object.__setattr__(self, "history", tuple(frozen_row(row) for row in self.history))
        object.__setattr__(self, "increments", tuple(self.increments))
        object.__setattr__(self, "stopping", frozen_status(self.stopping))

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def label_dict(self) -> dict[int, object]:
        """``{pool index: label}`` the learner was taught."""
        return dict(self.labels.items())
