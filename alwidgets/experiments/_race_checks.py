"""The checks of a race's data and strategies, with errors that say what to pass instead."""

from __future__ import annotations

import numpy as np

from alwidgets import strategies as _strategies
from alwidgets._validation import InvalidParameterError
from alwidgets.experiments.curves import REFERENCE

__all__ = ["YOU", "check_X", "check_strategies", "check_y"]

YOU = "you"  # the person's own lane
MIN_STRATEGIES = 2
MAX_STRATEGIES = 6
DEFAULT_CLASSIFIER_STRATEGIES = ("random", "least_confident", "margin", "entropy")
DEFAULT_REGRESSOR_STRATEGIES = ("random", "max_std")

def check_X(X):
    if X is None:
        raise ValueError("X is required: the pool, an array of shape (n_items, n_features)")
    if hasattr(X, "iloc") or hasattr(X, "toarray"):
        return X
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_items, n_features); got shape {X.shape}. Flatten images with X.reshape(len(X), -1)"
        )
    return X


def check_y(y, n_pool: int, classifier: bool) -> np.ndarray:
    if y is None:
        raise ValueError("y is required: the true labels the simulated oracle answers from")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_pool:
        raise ValueError(f"y must hold one label per pool item ({n_pool}); got shape {y.shape}")
    if not classifier and not np.isfinite(y.astype(float)).all():
        raise ValueError("y holds NaN or infinite values; the oracle needs a true value for every item")
    return y


def check_strategies(strategies, classifier: bool) -> list[str]:
    if strategies is None:
        return list(DEFAULT_CLASSIFIER_STRATEGIES if classifier else DEFAULT_REGRESSOR_STRATEGIES)
    if isinstance(strategies, str):
        raise InvalidParameterError(f"strategies must be a list of names, e.g. ['random', {strategies!r}]; got a string")
    names = list(strategies)
    for name in names:
        if name == YOU:
            raise InvalidParameterError(
                f"strategies: {YOU!r} is the person's own lane, not a strategy; use add_you() or the widget's mode")
        _strategies.get(name)  # unknown names fail here, listing the known ones
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"strategies holds a name twice: {names}")
    if not MIN_STRATEGIES <= len(names) <= MAX_STRATEGIES:
        raise InvalidParameterError(
            f"strategies must name {MIN_STRATEGIES} to {MAX_STRATEGIES} strategies to race; got {len(names)} "
            f"({names}), e.g. ['random', 'margin', 'entropy']"
        )
    if REFERENCE not in names:
        if len(names) == MAX_STRATEGIES:
            raise InvalidParameterError(
                f"{REFERENCE!r} is the reference every strategy is measured against and is added when missing; "
                f"with it there would be {len(names) + 1} panels: pass at most {MAX_STRATEGIES - 1} others"
            )
        names.insert(0, REFERENCE)
    return names

