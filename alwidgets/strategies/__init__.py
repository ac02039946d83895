"""Query strategies: which unlabeled items a person should label next.

Each strategy is a utility *measure* (``measure(learner, X, random_state=None)
-> scores``, higher means more wanted) and a *selector* (the top scores, or a
diverse batch), registered under a name in :mod:`alwidgets.strategies._registry`. Calling
a strategy gives modAL's form, ``strategy(learner, X, n_instances=1) ->
(indices, scores)``: the positions in ``X`` to ask, best first, and a score for
every row of ``X`` (NaN where a row was not scored). Returning a pair means
modAL's ``learner.query`` calls it once, and a widget can show why an item was
chosen. The widgets offer :func:`available` in a dropdown::

    >>> import alwidgets as alw
    >>> alw.strategies.available()            # every name
    >>> alw.strategies.available(learner)     # the names valid for this learner
    >>> idx, scores = alw.strategies.get("margin")(learner, X_pool, n_instances=5)
    >>> scores = alw.strategies.get("margin").scores(learner, X_pool)   # the measure alone
"""


from __future__ import annotations

from alwidgets.strategies._registry import REQUIREMENTS, Strategy, available, features, get, register, top_n, unregister
from alwidgets.strategies.committee import consensus_entropy_scores, max_disagreement, vote_entropy_scores
from alwidgets.strategies.density import DENSITY_REFERENCE, information_density, ranked_batch, ranked_batch_scores
from alwidgets.strategies.expected_error import (
    EER_CANDIDATES,
    EER_EVALUATION,
    EER_MAX_CLASSES,
    expected_error_reduction,
)
from alwidgets.strategies.uncertainty import entropy, least_confident, margin, max_std, random_scores

__all__ = [
    "Strategy", "available", "get", "register", "unregister", "features", "top_n", "REQUIREMENTS",
    # the built-in measures and their settings
    "random_scores", "least_confident", "margin", "entropy", "max_std",
    "vote_entropy_scores", "consensus_entropy_scores", "max_disagreement",
    "expected_error_reduction", "EER_CANDIDATES", "EER_EVALUATION", "EER_MAX_CLASSES",
    "information_density", "ranked_batch", "ranked_batch_scores", "DENSITY_REFERENCE",
    "MULTI_LABEL_DEFAULTS",
]

CLASSIFIER = ("classifier", "proba")

# ----------------------------------------------------------------- the built-in measures, in dropdown order

register("random", random_scores)
register("least_confident", least_confident, requires=CLASSIFIER)
register("margin", margin, requires=CLASSIFIER)
register("entropy", entropy, requires=CLASSIFIER)
register("vote_entropy", vote_entropy_scores, requires=("committee", "classifier"))
register("consensus_entropy", consensus_entropy_scores, requires=("committee", "classifier"))
register("max_disagreement", max_disagreement, requires=("committee", "classifier"))
register("expected_error_reduction", expected_error_reduction, requires=(*CLASSIFIER, "single_estimator"))
register("information_density", information_density, requires=CLASSIFIER)
register("ranked_batch", ranked_batch_scores, select=ranked_batch, requires=CLASSIFIER)
register("max_std", max_std, requires=("regressor", "return_std"))

# the plug-ins, each registering its own strategies after these
from alwidgets.strategies import diversity, min_max, multilabel, transfer  # noqa: E402,F401
from alwidgets.strategies.multilabel import MULTI_LABEL_DEFAULTS  # noqa: E402,F401
