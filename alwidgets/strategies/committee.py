"""Query by committee: items the members of a modAL committee disagree on.

Measures ``measure(learner, X, random_state=None) -> scores`` over modAL's
disagreement functions; they need a ``Committee`` (see
:func:`alwidgets.make_committee`). :mod:`alwidgets.strategies` registers them.
"""

from __future__ import annotations

import numpy as np
from modAL.disagreement import KL_max_disagreement, consensus_entropy, vote_entropy

__all__ = ["consensus_entropy_scores", "max_disagreement", "vote_entropy_scores"]


def vote_entropy_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose committee members vote for the most different classes."""
    return vote_entropy(learner, X)


def consensus_entropy_scores(learner, X, random_state=None) -> np.ndarray:
    """Prefers items whose averaged committee prediction has the highest entropy."""
    return consensus_entropy(learner, X)


def max_disagreement(learner, X, random_state=None) -> np.ndarray:
    """Prefers items where one member's prediction diverges most (KL) from the consensus."""
    return KL_max_disagreement(learner, X)
