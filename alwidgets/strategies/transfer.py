"""Active transfer learning: small heads on the model's own features pick what to label.

Three strategies from the active-transfer-learning family (Munro, *Human-in-the-Loop
Machine Learning*), each a small scikit-learn classifier (a "head") trained on
what the model computes for an item:

- ``transfer_uncertainty``: the model predicts its own errors. Labeled items are
  split into folds; a copy of the model trained on the other folds predicts each
  held-out fold, every held-out item is marked correct or incorrect, and a head
  learns to tell them apart. Unlabeled items the heads call "incorrect" are asked.
- ``transfer_representative``: adaptive representative sampling. A head learns
  "training" (labeled) against "application" (the unlabeled pool); the most
  application-like items are picked, relabeled "training" as if already
  labeled, the head is retrained, and so on until the batch is full.
- ``atlas``: both at once (Active Transfer Learning for Adaptive Sampling): pick
  the likeliest errors, assume they will be predicted correctly once labeled,
  retrain the heads, repeat within the batch.

What a head sees
----------------
:func:`hidden_features` gives the model's view of an item:

- ``MLPClassifier`` (alone or last step of a ``Pipeline``, whose earlier steps
  transform the data first): the activations of its last hidden layer, computed
  from ``coefs_`` and ``intercepts_`` with the network's own activation.
- An estimator type registered with :func:`register_feature_hook`: whatever the
  hook returns (e.g. a penultimate layer of a network in another library).
- Anything else: the output probabilities from ``predict_proba``, both as they
  are and sorted from most to least likely. The sorted copy is there because a
  linear head cannot read confidence from raw probabilities (they sum to one).

``transfer_representative`` uses every layer (``layers="all"``): the model's
input features, each hidden layer, and the output probabilities, because what
sets unlabeled items apart often shows in the earlier layers. Sparse inputs
(TF-IDF vectors of a text pipeline) are left out of that block: they are too
wide to densify.

When there is too little to learn from
--------------------------------------
``transfer_uncertainty`` and ``atlas`` need held-out items the model gets right
*and* wrong. With fewer than 4 labels, or when no fold has both (a model that is
right on every held-out item), they fall back to ``least_confident`` and log the
reason on the ``alwidgets.strategies.transfer`` logger: a person clicking "next" never sees
an error for it. ``transfer_representative`` with no labeled items at all falls
back to :func:`alwidgets.strategies.diversity.representative`.

Cost
----
``transfer_uncertainty`` and ``atlas`` refit the model once per fold (5 by
default); an MLP is refit per fold too, so their cost is about five fits.
``atlas`` and ``transfer_representative`` retrain their heads once per round,
at most ``n_rounds`` (10) rounds per batch: a batch of 20 takes two picks per
round (the book's reference code likewise takes several items per iteration).
With LogisticRegression a batch of 10 on the digits pool takes about a second
or less (measured in ``benchmarks/strategy_cost.py``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError, check_int, n_rows
from alwidgets.strategies._registry import register, top_n
from alwidgets.strategies.diversity import representative, representative_scores

__all__ = [
    "hidden_features",
    "register_feature_hook",
    "transfer_uncertainty",
    "transfer_representative",
    "atlas",
]

logger = logging.getLogger("alwidgets.strategies.transfer")

N_FOLDS = 5
N_APPLICATION_REFERENCE = 1000  # unlabeled rows a representative head trains on (bounds its cost)
N_ROUNDS = 10  # retraining rounds per batch for the adaptive strategies (bounds their cost on big batches)
HEAD_C = 1.0

_FEATURE_HOOKS: dict[type, Callable] = {}


# ----------------------------------------------------------------- features


def register_feature_hook(estimator_type: type, function: Callable) -> None:
    """Tell the transfer strategies which features to read from estimators of ``estimator_type``.

    ``function(estimator, X) -> array of shape (n_rows, n_features)`` receives
    the fitted estimator (for a ``Pipeline``, its last step) and ``X`` already
    transformed by any earlier pipeline steps. Use it to hand the heads a hidden
    layer of a model that is not a scikit-learn ``MLPClassifier``. Pass
    ``function=None`` to remove a hook.
    """
    if not isinstance(estimator_type, type):
        raise InvalidParameterError(f"estimator_type must be a class, e.g. MLPClassifier; got {estimator_type!r}")
    if function is None:
        _FEATURE_HOOKS.pop(estimator_type, None)
        return
    if not callable(function):
        raise InvalidParameterError(f"function must be callable as function(estimator, X); got {function!r}")
    _FEATURE_HOOKS[estimator_type] = function


def _hook_for(estimator) -> Callable | None:
    for kind in type(estimator).__mro__:
        if kind in _FEATURE_HOOKS:
            return _FEATURE_HOOKS[kind]
    return None


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: a,
    "relu": lambda a: np.maximum(a, 0.0),
    "tanh": np.tanh,
    "logistic": expit,
}


def mlp_hidden_layers(mlp: MLPClassifier, X) -> list[np.ndarray]:
    """Activations of every hidden layer of a fitted ``MLPClassifier``, first to last."""
    activation = _ACTIVATIONS[mlp.activation]
    a = X
    layers = []
    for W, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1], strict=True):
        a = activation(np.asarray(a @ W) + b)
        layers.append(a)
    return layers


def _dense(Z) -> np.ndarray:
    if sp.issparse(Z):
        return Z.toarray()
    Z = np.asarray(Z, dtype=float)
    return Z.reshape(Z.shape[0], -1)


def _unwrap(estimator):
    """The fitted scikit-learn model inside a bagged committee member, or the estimator itself."""
    return getattr(estimator, "estimator_", estimator)


def _split_pipeline(estimator, X):
    """``(last step, X transformed by the earlier steps)``."""
    estimator = _unwrap(estimator)
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        return estimator[-1], estimator[:-1].transform(X)
    if isinstance(estimator, Pipeline):
        return estimator[-1], X
    return estimator, X


def _probability_features(estimator, X) -> np.ndarray:
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    return np.hstack([proba, -np.sort(-proba, axis=1)])


def estimator_features(estimator, X, layers: str = "last") -> np.ndarray:
    """:func:`hidden_features` for a fitted estimator rather than a learner."""
    if layers not in ("last", "all"):
        raise InvalidParameterError(f"layers must be 'last' or 'all'; got {layers!r}")
    final, Z = _split_pipeline(estimator, X)
    hook = _hook_for(final)
    if hook is not None:
        hidden = [_dense(hook(final, Z))]
    elif isinstance(final, MLPClassifier):
        hidden = mlp_hidden_layers(final, Z)
    else:
        hidden = []
    if layers == "last":
        return hidden[-1] if hidden else _probability_features(_unwrap(estimator), X)
    texts = getattr(getattr(Z, "dtype", None), "kind", None) == "O"
    inputs = [] if sp.issparse(Z) or texts else [_dense(Z)]
    return np.hstack(inputs + hidden + [_probability_features(_unwrap(estimator), X)])


def hidden_features(learner, X, layers: str = "last") -> np.ndarray:
    """What the model computes for each row of ``X``: the features the transfer heads learn from.

    Parameters
    ----------
    learner : modAL learner or committee (committees use their first member)
    X : rows of the pool
    layers : {"last", "all"}
        "last": the last hidden layer (MLP or hook), else the output probabilities
        plus a sorted copy. "all": input features, every hidden layer and the
        output probabilities, side by side.
    """
    estimator = _learners.members(learner)[0].estimator
    return estimator_features(estimator, X, layers)


# ----------------------------------------------------------------- heads


def _standardize(*blocks: np.ndarray) -> list[np.ndarray]:
    """Scale every block by the mean and spread of all of them, so a head's penalty treats features alike."""
    stacked = np.vstack(blocks)
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale == 0] = 1.0
    return [(b - mean) / scale for b in blocks]


def _head(random_state) -> LogisticRegression:
    return LogisticRegression(C=HEAD_C, class_weight="balanced", max_iter=500, random_state=random_state)


class _ErrorHead:
    """One fold: a head trained on held-out items marked correct (0) or incorrect (1)."""

    def __init__(self, H_validation, incorrect, H_pool, random_state):
        self.H_validation, self.H_pool = _standardize(H_validation, H_pool)
        self.incorrect = incorrect.astype(int)
        self.random_state = random_state
        self.fit()

    def fit(self):
        self.model = _head(self.random_state).fit(self.H_validation, self.incorrect)

    def p_incorrect(self) -> np.ndarray:
        return self.model.predict_proba(self.H_pool)[:, 1]

    def assume_correct(self, rows) -> None:
        """ATLAS: these pool rows will be labeled, and the model will then get them right."""
        rows = np.atleast_1d(rows)
        self.H_validation = np.vstack([self.H_validation, self.H_pool[rows]])
        self.incorrect = np.append(self.incorrect, np.zeros(len(rows), dtype=int))
        self.fit()


def _error_heads(learner, X, random_state, n_folds: int) -> list[_ErrorHead] | str:
    """The fold heads of ``transfer_uncertainty``, or why none could be trained."""
    X_known, y_known = _learners.training_data(learner)
    n_known = 0 if X_known is None else n_rows(X_known)
    if n_known < 4:
        return f"only {n_known} labeled item(s); at least 4 are needed to hold some out"
    y_known = np.asarray(y_known)
    estimator = _learners.members(learner)[0].estimator
    rng = check_random_state(random_state)
    n_splits = min(n_folds, n_known // 2)
    folds = KFold(n_splits=n_splits, shuffle=True, random_state=rng.randint(2**31 - 1))
    heads = []
    for train, validation in folds.split(np.arange(n_known)):
        if len(np.unique(y_known[train])) < 2:
            continue  # a classifier cannot be fitted on one class
        with warnings.catch_warnings():
            # A fold copy sees fewer labels than the model itself; its convergence is not the user's concern.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = clone(estimator).fit(take_rows(X_known, train), y_known[train])
        X_validation = take_rows(X_known, validation)
        incorrect = np.asarray(model.predict(X_validation)) != y_known[validation]
        if incorrect.all() or not incorrect.any():
            continue  # nothing to tell apart in this fold
        heads.append(
            _ErrorHead(
                estimator_features(model, X_validation),
                incorrect,
                estimator_features(model, X),
                rng.randint(2**31 - 1),
            )
        )
    if not heads:
        return "no held-out fold had both correctly and incorrectly predicted items"
    return heads


def _least_confident(learner, X) -> np.ndarray:
    """The fallback measure: one minus the top class probability."""
    return 1.0 - np.asarray(learner.predict_proba(X)).max(axis=1)


def _error_scores(learner, X, random_state, name: str, n_folds: int = N_FOLDS):
    """``(scores, heads)``: the heads' mean P(incorrect), or least-confident scores and no heads."""
    heads = _error_heads(learner, X, random_state, n_folds)
    if isinstance(heads, str):
        logger.info("%s falls back to least_confident: %s", name, heads)
        return _least_confident(learner, X), []
    return np.mean([head.p_incorrect() for head in heads], axis=0), heads


# ----------------------------------------------------------------- strategies


def transfer_uncertainty(learner, X, random_state=None, n_folds: int = N_FOLDS) -> np.ndarray:
    """Prefers items a head trained on the model's hidden layer predicts it will get wrong.

    Each of ``n_folds`` folds of the labeled items is predicted by a copy of the
    model fitted on the others; a logistic head learns correct vs incorrect from
    the copy's hidden features, and an item's score is the mean probability of
    "incorrect" over the fold heads. Falls back to ``least_confident`` when no
    fold has both kinds of items (see the module docstring).
    """
    n_folds = check_int(n_folds, "n_folds", minimum=2)
    return _error_scores(learner, X, random_state, "transfer_uncertainty", n_folds)[0]


def _rounds(n_instances: int, n_rounds: int) -> list[int]:
    """How many picks each retraining round takes: ``n_instances`` split as evenly as possible."""
    n_rounds = max(1, min(int(n_rounds), n_instances))
    return [len(part) for part in np.array_split(np.arange(n_instances), n_rounds)]


def _take_best(scores: np.ndarray, chosen: list[int], k: int) -> list[int]:
    scores = scores.copy()
    scores[chosen] = -np.inf
    return [int(i) for i in top_n(scores, k)]


def atlas(scores, n, *, learner, X, random_state=None, n_folds: int = N_FOLDS, n_rounds: int = N_ROUNDS):
    """Prefers likely errors, assuming each pick will be right once labeled (ATLAS): diverse error batches.

    Like ``transfer_uncertainty``; the batch is then filled in up to
    ``n_rounds`` rounds (default 10, so one pick per round for batches up to
    10): after each round its picks join every head's training data as
    "correct" and the heads are retrained. Falls back to ``least_confident``
    (the top scores) like ``transfer_uncertainty``.
    """
    n_folds, n_rounds = check_int(n_folds, "n_folds", minimum=2), check_int(n_rounds, "n_rounds")
    scores, heads = _error_scores(learner, X, random_state, "atlas", n_folds)
    if not heads:
        return top_n(scores, n)
    chosen: list[int] = []
    sizes = _rounds(n, n_rounds)
    for round_number, size in enumerate(sizes):
        picks = _take_best(scores, chosen, size)
        chosen += picks
        if round_number < len(sizes) - 1:
            for head in heads:
                head.assume_correct(picks)
            scores = np.mean([head.p_incorrect() for head in heads], axis=0)
    return np.array(chosen, dtype=int)


def _application_rounds(learner, X, n: int, random_state, n_reference: int, n_rounds: int):
    """``(chosen, first scores)`` of adaptive representative sampling; None when nothing is labeled."""
    X_known, _ = _learners.training_data(learner)
    if X_known is None or n_rows(X_known) == 0:
        return None
    rng = check_random_state(random_state)
    H_known, H_pool = _standardize(hidden_features(learner, X_known, "all"), hidden_features(learner, X, "all"))
    n_pool = H_pool.shape[0]
    reference = rng.choice(n_pool, size=min(n_pool, n_reference), replace=False)
    is_application = np.ones(n_pool, dtype=bool)  # pool rows still assumed unlabeled
    head = LogisticRegression(C=HEAD_C, class_weight="balanced", max_iter=500, warm_start=True,
                              random_state=rng.randint(2**31 - 1))
    chosen: list[int] = []
    first_scores = None
    for size in _rounds(n, n_rounds):
        rows = np.union1d(reference, chosen).astype(int)
        X_head = np.vstack([H_known, H_pool[rows]])
        y_head = np.concatenate([np.zeros(len(H_known), dtype=int), is_application[rows].astype(int)])
        head.fit(X_head, y_head)
        scores = head.predict_proba(H_pool)[:, 1]
        if first_scores is None:
            first_scores = scores
        picks = _take_best(scores, chosen, size)
        chosen += picks
        is_application[picks] = False
    return np.array(chosen, dtype=int), first_scores


def transfer_representative_scores(learner, X, random_state=None,
                                   n_reference: int = N_APPLICATION_REFERENCE) -> np.ndarray:
    """Prefers items a head tells apart from the labeled ones (P("application") before any pick)."""
    n_reference = check_int(n_reference, "n_reference")
    result = _application_rounds(learner, X, 1, random_state, n_reference, 1)
    if result is None:
        logger.info("transfer_representative falls back to representative: nothing is labeled yet")
        return representative_scores(learner, X, random_state)
    return result[1]


def transfer_representative(scores, n, *, learner, X, random_state=None,
                            n_reference: int = N_APPLICATION_REFERENCE, n_rounds: int = N_ROUNDS):
    """Prefers items a head tells apart from the labeled ones, relabeling each pick "training" (adaptive).

    The head sees every layer of the model (:func:`hidden_features` with
    ``layers="all"``). It trains on the labeled items ("training") and up to
    ``n_reference`` unlabeled rows drawn at random ("application"), so its cost
    stays bounded on large pools. The batch is filled in up to ``n_rounds``
    rounds (default 10); each round's picks become "training" before the head
    is retrained.
    """
    n_reference, n_rounds = check_int(n_reference, "n_reference"), check_int(n_rounds, "n_rounds")
    result = _application_rounds(learner, X, n, random_state, n_reference, n_rounds)
    if result is None:
        return representative(scores, n, learner=learner, X=X, random_state=random_state)
    return result[0]


register("transfer_uncertainty", transfer_uncertainty, requires=("classifier", "proba"))
register("atlas", transfer_uncertainty, select=atlas, requires=("classifier", "proba"))
register("transfer_representative", transfer_representative_scores, select=transfer_representative,
         requires=("classifier", "proba"))
