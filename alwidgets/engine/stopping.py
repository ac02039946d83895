"""When to stop labeling: stabilizing predictions, with no held-out labels.

Once more labels stop changing what the model predicts, they are unlikely to
make it better. :class:`StabilizingPredictions` implements the stopping
method of Bloodgood and Vijay-Shanker, "A Method for Stopping Active Learning
Based on Stabilizing Predictions and the Need for User-Adjustable Stopping"
(CoNLL 2009, https://aclanthology.org/W09-1107/):

1. pick a fixed *stop set* of unlabeled pool items, once; it is never labeled
   for this purpose and stays the same even if some of its items are labeled
   later (only the model's predictions on it matter);
2. after every model update, predict the stop set and compute Cohen's kappa
   between these predictions and those of the previous model;
3. signal "stop" once kappa has been at or above ``threshold`` (default 0.99)
   for ``window`` (default 3) consecutive updates.

Example::

    import alwidgets as alw
    from alwidgets.engine.stopping import StabilizingPredictions
    from sklearn.linear_model import LogisticRegression

    digits = alw.datasets.load_digits()
    session = alw.Session(LogisticRegression(max_iter=1000), digits.X, random_state=0)
    stopper = StabilizingPredictions(stop_set_size=1000, random_state=0)
    stopper.choose_stop_set(session.unlabeled)          # once, before labeling
    X_stop = stopper.stop_rows(session.X_pool)
    while not stopper.stop and len(session.unlabeled):
        session.simulate(digits.y, n_queries=10, batch_size=10)   # one model update
        status = stopper.update(session.learner, X_stop)
    print(session.n_labeled, status["window"])   # 200 [0.994.., 0.994.., 0.993..]: stopped after 20 updates

``update`` also takes the predictions themselves (``stopper.update(y_pred)``),
and ``version=`` makes repeated calls for the same model version harmless.

What it costs
-------------
``benchmarks/stopping.py`` measures where the signal fires on the benchmark's
scenarios (5 seeds; results in ``benchmarks/results/stopping.md``). With
margin sampling, the article's defaults stopped within 2 points of the
score of the whole pool labeled in 10 of 15 runs, leaving on average 83-91% of the pool
unlabeled; on digits they stopped 2.2 points short on average. With random
sampling the predictions settle well before the score does, and they stopped
too early on digits and on the skewed "3 vs not 3" task.
``threshold=0.995, window=5`` took 1.3 to 1.7 times the labels with margin
sampling and stopped within 2 points in 13 of 15 runs. Kappa compares
successive models, so it depends on how many labels arrive between two
updates (the benchmark updates after every batch of 10 or 20): expect an
earlier signal with fewer labels per update, as successive models differ less.

Agreement measures
------------------
``agreement="kappa"`` (the default) is for classifiers: Cohen's kappa between
the two models' predicted classes. Multi-label predictions (a 0/1 indicator
matrix, items x labels) are compared as one long list of yes/no decisions.

Kappa is undefined when both models predict one and the same class for every
item of the stop set: all their agreement is what chance would give, so
``1 - p_e`` is 0. :func:`kappa_agreement` returns NaN there, and a NaN never
counts as stable: it breaks the window. Such a model has not learned to tell
the classes apart on the stop set, so stopping there would be premature. A
larger stop set makes the case rarer.

``agreement="concordance"`` is the documented alternative for regressors:
Lin's concordance correlation coefficient between successive predictions,
``2 cov(a, b) / (var(a) + var(b) + (mean(a) - mean(b))**2)``. Like kappa it is
1 only for identical predictions and falls with any change of location, scale
or order. It is NaN when both models predict one and the same constant, for
the same reason as kappa. The default threshold of 0.99 was chosen for kappa
by the article; for regression it has not been validated by alwidgets.
"""

from __future__ import annotations

import threading
import warnings
from collections import deque

import numpy as np

from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError, check_choice, check_int, n_rows

__all__ = ["StabilizingPredictions", "kappa_agreement", "concordance_agreement"]

DEFAULT_STOP_SET_SIZE = 2000


def kappa_agreement(previous, current) -> float:
    """Cohen's kappa between two models' predicted classes on the same items.

    1-D arrays are class labels; 2-D arrays are multi-label indicator matrices
    and are compared cell by cell. Returns NaN when kappa is undefined: both
    models predict the same single class for every item.
    """
    a, b = _paired(previous, current)
    if a.ndim == 2:
        a, b = a.ravel(), b.ravel()
    if len(a) == 0:
        raise ValueError("cannot measure agreement on an empty stop set")
    a_values, b_values = np.unique(a), np.unique(b)
    if len(a_values) == 1 and len(b_values) == 1 and a_values[0] == b_values[0]:
        return float("nan")  # p_e = 1: kappa is 0/0
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohen_kappa_score(a, b))


def concordance_agreement(previous, current) -> float:
    """Lin's concordance correlation coefficient between two regressors' predictions on the same items.

    1 for identical predictions, 0 for none beyond chance, negative for
    opposite ones. NaN when both predict the same constant for every item.
    """
    a, b = _paired(previous, current)
    a, b = a.astype(float).ravel(), b.astype(float).ravel()
    if len(a) == 0:
        raise ValueError("cannot measure agreement on an empty stop set")
    mean_a, mean_b = a.mean(), b.mean()
    denominator = a.var() + b.var() + (mean_a - mean_b) ** 2
    if denominator == 0:
        return float("nan")  # one and the same constant: 0/0
    covariance = np.mean((a - mean_a) * (b - mean_b))
    return float(2 * covariance / denominator)


MEASURES = {"kappa": kappa_agreement, "concordance": concordance_agreement}


def _paired(previous, current) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(previous), np.asarray(current)
    if a.shape != b.shape:
        raise ValueError(
            f"the predictions of successive models must cover the same stop set; got shapes {a.shape} and {b.shape}"
        )
    if a.ndim not in (1, 2):
        raise ValueError(f"predictions must be 1-D (one class per item) or 2-D (multi-label); got shape {a.shape}")
    return a, b


class StabilizingPredictions:
    """Stop when successive models agree on a fixed stop set (stabilizing predictions).

    Parameters
    ----------
    stop_set_size : int, default=2000
        How many unlabeled items :meth:`choose_stop_set` draws (all of them if
        fewer are given).
    threshold : float, default=0.99
        Agreement at or above which an update counts as stable.
    window : int, default=3
        Consecutive stable updates needed to signal "stop".
    agreement : {"kappa", "concordance"}, default="kappa"
        ``"kappa"`` for classifiers (Cohen's kappa), ``"concordance"`` for
        regressors (Lin's concordance correlation coefficient); see the module
        docstring.
    random_state : int, RandomState or None
        Seeds the choice of the stop set.

    Attributes
    ----------
    stop_set : ndarray of int or None
        The pool indices of the stop set, once chosen.
    agreements : list of float
        The agreement of every update with the previous one (the first update
        has nothing to compare with and adds nothing).
    n_updates : int
        Model updates seen (predictions recorded).
    first_stop : dict or None
        ``{"update": n, "version": v}`` of the update at which "stop" was
        first signalled (``version`` as passed to :meth:`update`), to mark on
        a learning curve; it stays set if later updates break the window.

    One object may be updated from a worker thread while another thread
    reads :meth:`status`: both hold an internal lock.
    """

    def __init__(self, stop_set_size: int = DEFAULT_STOP_SET_SIZE, threshold: float = 0.99, window: int = 3,
                 agreement: str = "kappa", random_state=None):
        self.stop_set_size = check_int(stop_set_size, "stop_set_size")
        if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, (int, float, np.number)):
            raise InvalidParameterError(f"threshold must be a number; got {threshold!r}")
        if not -1.0 <= threshold <= 1.0:
            raise InvalidParameterError(f"threshold must be between -1 and 1 (an agreement); got {threshold}")
        self.threshold = float(threshold)
        self.window = check_int(window, "window")
        self.agreement = check_choice(agreement, "agreement", sorted(MEASURES))
        self.random_state = random_state
        self.stop_set: np.ndarray | None = None
        self.agreements: list[float] = []
        self.n_updates = 0
        self._previous: np.ndarray | None = None
        self._recent: deque[float] = deque(maxlen=self.window)
        self._version = None
        self.first_stop: dict | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ the stop set

    def choose_stop_set(self, candidates) -> np.ndarray:
        """Draw the stop set from ``candidates`` (pool indices of unlabeled items), once.

        Returns the chosen indices, sorted. Calling it again returns the same
        stop set: predictions are only comparable on one fixed set of items.
        """
        if self.stop_set is not None:
            return self.stop_set
        candidates = np.unique(np.asarray(candidates).ravel())
        if len(candidates) == 0:
            raise ValueError("candidates is empty: the stop set needs at least one unlabeled item")
        if not np.issubdtype(candidates.dtype, np.integer):
            raise TypeError(f"candidates must be pool indices (integers); got dtype {candidates.dtype}")
        from sklearn.utils import check_random_state

        size = min(self.stop_set_size, len(candidates))
        rng = check_random_state(self.random_state)
        self.stop_set = np.sort(rng.choice(candidates, size=size, replace=False))
        return self.stop_set

    def stop_rows(self, X_pool):
        """The rows of ``X_pool`` (array, DataFrame, sparse matrix or list) that form the stop set."""
        if self.stop_set is None:
            raise RuntimeError("no stop set yet: call choose_stop_set(unlabeled pool indices) first")
        if n_rows(X_pool) <= int(self.stop_set[-1]):
            raise ValueError(f"X_pool has {n_rows(X_pool)} rows but the stop set refers to row {self.stop_set[-1]}")
        return take_rows(X_pool, self.stop_set)

    # ------------------------------------------------------------------ updates

    def update(self, predictions, X_stop=None, *, version=None) -> dict:
        """Record a new model's predictions on the stop set and return :meth:`status`.

        Call it after every model update, either with the predictions
        (``update(y_pred)``) or with the fitted model and the stop set's rows
        (``update(model, X_stop)``: the model's ``predict`` is called).
        ``version`` (e.g. the Session's model version) makes a repeated call
        for the same model a no-op, so it is safe to call on every redraw.
        """
        if self._repeated(version):
            return self.status()
        if X_stop is not None:
            if not hasattr(predictions, "predict"):
                raise InvalidParameterError(f"with X_stop, the first argument must be a fitted model with predict; "
                                f"got {type(predictions).__name__}")
            predictions = predictions.predict(X_stop)
        predictions = np.asarray(predictions)
        if self.stop_set is not None and len(predictions) != len(self.stop_set):
            raise ValueError(f"predictions has {len(predictions)} rows but the stop set has {len(self.stop_set)} items")
        if self.agreement == "kappa":
            _check_classes(predictions)
        with self._lock:
            if self._repeated(version):  # another thread recorded this version while we predicted
                return self.status()
            if self._previous is not None:
                value = MEASURES[self.agreement](self._previous, predictions)
                self.agreements.append(value)
                self._recent.append(value)
            self._previous = predictions.copy()
            self.n_updates += 1
            self._version = version
            if self.first_stop is None and self.stop:
                self.first_stop = {"update": self.n_updates, "version": version}
            return self.status()

    def _repeated(self, version) -> bool:
        with self._lock:
            return version is not None and self._version is not None and version == self._version

    @property
    def stop(self) -> bool:
        """Whether the last ``window`` agreements were all at or above the threshold (NaN never is)."""
        with self._lock:
            return len(self._recent) == self.window and all(v >= self.threshold for v in self._recent)

    def status(self) -> dict:
        """``{"agreement", "window", "stop", "n_updates", "first_stop", "threshold", "stop_set_size"}``.

        ``agreement`` is the last agreement (None before the second update);
        ``window`` the last ``window`` agreements, oldest first; ``first_stop``
        as the attribute. A new dict each time: safe to keep.
        """
        with self._lock:
            return {
                "agreement": self.agreements[-1] if self.agreements else None,
                "window": list(self._recent),
                "stop": self.stop,
                "n_updates": self.n_updates,
                "first_stop": None if self.first_stop is None else dict(self.first_stop),
                "threshold": self.threshold,
                "stop_set_size": None if self.stop_set is None else len(self.stop_set),
            }

    def __repr__(self) -> str:
        return (f"StabilizingPredictions(threshold={self.threshold}, window={self.window}, "
                f"agreement={self.agreement!r}, n_updates={self.n_updates}, stop={self.stop})")


def _check_classes(predictions: np.ndarray) -> None:
    """Kappa compares classes: continuous predictions need the concordance measure."""
    if predictions.dtype.kind == "f" and not np.all(np.isnan(predictions) | (predictions == np.round(predictions))):
        raise ValueError("these predictions are continuous (a regressor's): Cohen's kappa compares classes; "
                         "use StabilizingPredictions(agreement='concordance') for regressors")
