"""How much annotators agree, on the items several of them labeled.

Cohen's kappa compares two annotators on the items both labeled; Fleiss'
kappa summarizes all annotators at once. Both are 1 for perfect agreement and
0 for the agreement chance alone would give. They are computed from the
store's events (each annotator's current vote per item), so retracted labels
do not count. pandas and scikit-learn are imported when a table is made: a
dashboard page counts how often suggestions were taken
(:func:`suggestion_counts`) without them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from alwidgets._validation import InvalidParameterError
from alwidgets.store.events import Tally

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Agreement", "agreement", "fleiss_kappa", "suggestion_counts", "suggestion_use", "vote_counts"]


@dataclass(frozen=True)
class Agreement:
    """Agreement over a label store.

    Attributes
    ----------
    pairs : DataFrame
        One row per pair of annotators who share at least one item:
        ``annotator_a``, ``annotator_b``, ``n_items`` (labeled by both),
        ``agreed`` (fraction with the same label) and ``kappa`` (Cohen's).
    fleiss : float
        Fleiss' kappa over the items with two or more votes (NaN when there are
        none, or when every vote is for the same class so chance explains all).
    n_items : int
        Items with two or more votes.
    n_ties : int
        Items whose votes tie (no majority, not trained on).
    """

    pairs: pd.DataFrame
    fleiss: float
    n_items: int
    n_ties: int


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa from an (items x classes) matrix of vote counts.

    Items may have different numbers of votes (at least two each); rows with
    fewer are ignored. Returns NaN when it is undefined (no such items, or a
    single class everywhere).
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        raise InvalidParameterError(f"counts must be a 2-D (items x classes) matrix; got shape {counts.shape}")
    n_votes = counts.sum(axis=1)
    counts, n_votes = counts[n_votes >= 2], n_votes[n_votes >= 2]
    if len(counts) == 0:
        return float("nan")
    # observed agreement per item: the share of ordered pairs of votes that agree
    observed = ((counts * (counts - 1)).sum(axis=1) / (n_votes * (n_votes - 1))).mean()
    class_share = counts.sum(axis=0) / n_votes.sum()
    expected = float((class_share**2).sum())
    if np.isclose(expected, 1.0):
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def vote_counts(votes: dict[str, dict[str, object]]) -> tuple[np.ndarray, list]:
    """The (items x classes) count matrix of ``{item_id: {annotator: label}}`` and its class order."""
    classes = sorted({label for v in votes.values() for label in v.values()}, key=repr)
    column = {c: k for k, c in enumerate(classes)}
    counts = np.zeros((len(votes), len(classes)), dtype=int)
    for row, item_votes in enumerate(votes.values()):
        for label in item_votes.values():
            counts[row, column[label]] += 1
    return counts, classes


def agreement(source) -> Agreement:
    """Cohen's kappa for each pair of annotators and Fleiss' kappa overall.

    ``source`` is a list of label events, a store, or a Session.
    """
    import pandas as pd
    from sklearn.metrics import cohen_kappa_score

    if hasattr(source, "store"):
        source = source.store
    events = source.events() if hasattr(source, "events") else list(source)
    tally = Tally()
    tally.apply(events)
    shared = {item: dict(v) for item, v in tally.votes.items() if len(v) >= 2}
    annotators = sorted({name for v in shared.values() for name in v})
    rows = []
    for a, b in combinations(annotators, 2):
        both = [(v[a], v[b]) for v in shared.values() if a in v and b in v]
        if not both:
            continue
        y_a = np.array([repr(x) for x, _ in both])
        y_b = np.array([repr(y) for _, y in both])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # kappa is undefined (NaN) when both used one class
            kappa = float(cohen_kappa_score(y_a, y_b)) if len(both) > 1 else float("nan")
        rows.append({"annotator_a": a, "annotator_b": b, "n_items": len(both),
                     "agreed": float(np.mean(y_a == y_b)), "kappa": kappa})
    pairs = pd.DataFrame(rows, columns=["annotator_a", "annotator_b", "n_items", "agreed", "kappa"])
    counts, _ = vote_counts(shared)
    n_ties = sum(tally.decision(item)[1] for item in tally.votes)
    return Agreement(pairs=pairs, fleiss=fleiss_kappa(counts) if len(shared) else float("nan"),
                     n_items=len(shared), n_ties=n_ties)


def suggestion_use(events) -> pd.DataFrame:
    """How often each annotator took the model's suggested label, from every label given with one on screen.

    One row per annotator who saw a suggestion: ``annotator``, ``suggested``
    (labels given with a suggestion shown), ``accepted``, ``overridden`` and
    ``override_rate`` (overridden / suggested). A person who accepts every
    suggestion is either labeling an easy pool or not looking: the rate is a
    warning sign to read with the agreement between annotators. Every label
    event counts, including ones later taken back: this measures how a person
    labels, not what the labels are.
    """
    import pandas as pd

    return pd.DataFrame(suggestion_counts(events),
                        columns=["annotator", "suggested", "accepted", "overridden", "override_rate"])


def suggestion_counts(events) -> list[dict]:
    """The rows of :func:`suggestion_use`, as dicts (by annotator name), without pandas."""
    counts: dict[str, list[int]] = {}
    for e in events:
        accepted = getattr(e, "accepted", None)
        if accepted is None:
            continue
        row = counts.setdefault(e.annotator, [0, 0])
        row[0 if accepted else 1] += 1
    return [{"annotator": name, "suggested": a + o, "accepted": a, "overridden": o, "override_rate": o / (a + o)}
            for name, (a, o) in sorted(counts.items())]
