"""Learning-curve experiments: how many labels does a strategy save against random sampling?

This is the measuring code shared by ``benchmarks/seed_mnist.py`` and notebook
06. It repeats the protocol of the article *Accelerate Machine Learning with
Active Learning*
(https://becominghuman.ai/accelerate-machine-learning-with-active-learning-96cea4b72fdb)
and lets each of its choices be switched, through a :class:`Protocol`:

- ``model``: ``"online"`` is a small network taught one mini-batch at a time
  (``partial_fit`` on the new labels only: each label is seen once, when it
  arrives), as in the article; ``"refit"`` is a LogisticRegression fitted on
  every label so far after each mini-batch, as the rest of alwidgets does.
- ``candidates``: the strategy ranks this many unlabeled items drawn at random
  for every mini-batch (the article: 1,000), or the whole unlabeled pool (None).
- ``strategy``: any registered strategy; the article's confidence is
  ``"min_max_margin"`` (:mod:`alwidgets.strategies.min_max`).
- ``batch``: labels per mini-batch (the article: 10).

:func:`learning_curve` runs one protocol on one seed, on an
:class:`alwidgets.Session` (:func:`make_session`), and returns the held-out
score after every mini-batch. The analysis helpers of
:mod:`alwidgets.experiments.curves`, re-exported here, turn curves into the
article's measure, "labels active learning needs to reach random sampling's
score at budget B" (:func:`ratio_at`), and into the area under the budget
curve (:func:`aubc`), the summary of Lu et al., *Re-Benchmarking Pool-Based
Active Learning for Binary Classification* (TMLR 2023).

This module imports no widget code. Its names load on first use (PEP 562)
from :mod:`alwidgets.experiments.protocol`: ``import alwidgets.experiments.baseline``
(what a Labeler's live plots do) imports neither scikit-learn nor pandas.
"""

from __future__ import annotations

import importlib
import importlib.util

__all__ = [
    "Protocol",
    "TODAY",
    "ARTICLE",
    "ARTICLE_BUDGET_FRACTION",
    "RATIO_FRACTIONS",
    "make_model",
    "random_protocol",
    "prepare",
    "article_budget",
    "full_budget",
    "make_session",
    "learning_curve",
    "smooth",
    "labels_to_reach",
    "interpolated_labels_to_reach",
    "score_at",
    "Ratio",
    "ratio_at",
    "aubc",
    "run_jobs",
    "cpu_seconds",
]

# where the names of __all__ live: the analysis of curves (numpy only), and the protocols (scikit-learn, pandas)
_CURVES = {"smooth", "labels_to_reach", "interpolated_labels_to_reach", "score_at", "Ratio", "ratio_at", "aubc"}


def __getattr__(name: str):
    """A name of the protocols (``TODAY``, ``learning_curve``, ``REFIT_C``...) or of the curves, on first use."""
    # dunders (copy, pickle and the import system ask for some a plain module lacks) and submodules not imported
    # yet (`from alwidgets.experiments import baseline` asks here first) are no names of the protocols
    if name.startswith("__") or importlib.util.find_spec(f"{__name__}.{name}") is not None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = "alwidgets.experiments.curves" if name in _CURVES else "alwidgets.experiments.protocol"
    try:
        value = getattr(importlib.import_module(home), name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
