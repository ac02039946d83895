"""The model's one writer: frozen labels in, a published :class:`~alwidgets.engine.snapshot.Snapshot` out.

A :class:`Trainer` fits a fresh clone of the user's model (with
``warm_start``, started from copies of the last model's coefficients: see
:func:`warm_start_from`; or, online, teaches a copy only the new mini-batch)
on exactly the labels of one point of the log, scores it, ranks the open
pool, feeds the stop signal, and swaps the new snapshot in with one assignment. It takes no lock a click needs, so
a click never waits for a fit; updates run one at a time (its own lock).

scikit-learn and the strategies are imported when a Trainer is made (or a check
below needs them), not with this module: a Session that follows a campaign
service has no Trainer, and imports neither.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from alwidgets import _learners
from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError, check_bool, match_class, to_plain
from alwidgets.engine import training
from alwidgets.engine.labelstate import FrozenLabels
from alwidgets.engine.snapshot import NO_LABELS, Ranking, Snapshot, frozen_status
from alwidgets.engine.stopping import StabilizingPredictions

__all__ = ["Trainer", "LabelingError", "STOPPING_OPTIONS", "check_online", "check_scoring", "check_stopping",
           "default_strategy", "warm_start_from"]

STOPPING_OPTIONS = ("threshold", "window", "stop_set_size")


class LabelingError(RuntimeError):
    """The learner failed to learn from labels that were nevertheless recorded."""


class Trainer:
    """Makes and publishes the model of one Session.

    Parameters
    ----------
    template : modAL learner
        The wrapped user model: read only, every fit clones it.
    X_pool : array-like
        The pool (checked), whose rows the labels index.
    labels : callable
        ``labels() -> (FrozenLabels, open pool indices)``: the labels to fit
        and the items to rank, read at the start of each update.
    strategy : Strategy
        What ranks the pool; assign :attr:`strategy` to switch (checked by the caller).
    is_classifier, classes, multi_label, online, X_test, y_test, scoring, candidates, blas_threads, random_state, stopping
        As the Session's parameters of the same names (already checked).
    warm_start : bool
        Start each refit from copies of the previous snapshot's coefficients when it can (:func:`warm_start_from`).
    """

    def __init__(self, template, X_pool, labels: Callable[[], tuple[FrozenLabels, np.ndarray]], strategy, *,
                 is_classifier: bool, classes=None, multi_label: bool = False, online: bool = False,
                 warm_start: bool = False, X_test=None, y_test=None, scoring=None, candidates: int | None = None,
                 blas_threads: int | None = 1, random_state=None, stopping: dict | None = None):
        self.template = template
        self.X_pool = X_pool
        self.n_pool = X_pool.shape[0] if hasattr(X_pool, "shape") else len(X_pool)
        self._labels = labels
        self.strategy = strategy
        self.is_classifier, self.classes, self.multi_label, self.online = is_classifier, classes, multi_label, online
        self.warm_start = warm_start
        self.X_test, self.y_test, self.scoring = X_test, y_test, scoring
        self.candidates, self.blas_threads = candidates, blas_threads
        from sklearn.utils import check_random_state

        self.base_X, self.base_y = _learners.training_data(template)
        self._rng = check_random_state(random_state)
        self.rank_n = 1  # the largest batch a query asked for: what batch strategies choose
        self._lock = threading.Lock()  # one update (fit + rank) at a time; no click takes it
        # its stop set has a seed of its own, so that it never draws from the stream that decides the queries
        self._stopper = StabilizingPredictions(agreement="kappa" if is_classifier else "concordance",
                                               random_state=0, **check_stopping(stopping))
        fitted = _learners.is_fitted(template)
        self._snapshot = Snapshot(0, template, fitted, NO_LABELS, None, self.score(template, fitted),
                                  stopping=self._stopper.status())

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def ask(self, n: int) -> None:
        """Note that a query asked for ``n`` items: batch-aware strategies choose that many from now on."""
        if self.strategy.batch_aware:
            self.rank_n = max(self.rank_n, n)

    def stale(self, n: int, others: int, refresh_every: int) -> bool:
        """Whether a query of ``n`` needs an update first: no ranking, another strategy, a bigger batch, or
        ``refresh_every`` new labels by others (``others`` counts them all) since the model was made."""
        snapshot = self._snapshot
        ranking = snapshot.ranking
        return (ranking is None or ranking.strategy != self.strategy.name
                or others - snapshot.labels.others >= refresh_every
                or (self.strategy.batch_aware and n > ranking.n_chosen))

    def is_current(self, frozen: FrozenLabels) -> bool:
        """Whether the published model was fitted on exactly ``frozen`` and ranks with the current strategy."""
        snapshot = self._snapshot
        return (snapshot.labels.items() == frozen.items() and snapshot.ranking is not None
                and snapshot.ranking.strategy == self.strategy.name)

    def update(self, n: int | None = None, rerank: bool = False) -> bool:
        """Fit, score and rank for the latest labels and publish one new snapshot; returns whether a model was fitted.

        Does nothing when the snapshot is already current (unless ``rerank``).
        Raises :class:`LabelingError` if the learner fails; the previous model
        stays in place.
        """
        with self._lock, _learners.blas_threads(self.blas_threads):
            labels, open_items = self._labels()
            old = self._snapshot
            strategy = self.strategy
            n_rank = max(n or 1, self.rank_n if strategy.batch_aware else 1)
            retrain = labels.items() != old.labels.items()
            if not (retrain or rerank or old.ranking is None or old.ranking.strategy != strategy.name
                    or old.ranking.label_seq != labels.seq or n_rank > max(old.ranking.n_chosen, 1)):
                return False
            learner, fitted, increments = old.learner, old.fitted, old.increments
            version, score, history = old.version, old.score, old.history
            if retrain:
                start = time.perf_counter()
                try:
                    learner, fitted, increments = self._train(old, labels)
                except Exception as error:
                    raise LabelingError(
                        f"the learner failed to learn from {len(labels)} label(s) ({type(error).__name__}: "
                        f"{error}); they are recorded and kept in the store, and the model is back to its last state"
                    ) from error
                version += 1
                score = self.score(learner, fitted)
                history = (*history, {
                    "n_labels": len(labels), "score": score, "strategy": strategy.name,
                    "seconds": time.perf_counter() - start, "event": _event_name(old.labels, labels),
                    "model_version": version,
                })
            snapshot = Snapshot(version, learner, fitted, labels, old.ranking, score, history, increments,
                                old.stopping)
            try:  # a ranking or a stop set that fails still leaves the new model published
                snapshot = replace(snapshot, ranking=self._rank(learner, fitted, open_items, strategy, n_rank,
                                                                labels.seq))
                if retrain and fitted:
                    snapshot = replace(snapshot, stopping=self._track_stability(learner, version, open_items))
            finally:
                self._snapshot = snapshot  # the one assignment readers see
            return retrain and fitted

    def _train(self, old: Snapshot, labels: FrozenLabels):
        """``(learner, fitted, increments)`` for ``labels``: a fresh fit, or an online step from ``old``."""
        values = training.indicator_matrix(labels.values, self.classes) if self.multi_label else labels.values
        X, y = training.training_set(self.base_X, self.base_y, self.X_pool, labels.indices, values)
        if not self.online:
            start = warm_start_from(old.learner, y, self.is_classifier) if self.warm_start and old.fitted else None
            learner, fitted = training.train(self.template, X, y, self.is_classifier, start=start)
            return learner, fitted, ()
        n_old = len(old.labels)
        if old.fitted and n_old < len(labels) and labels.items()[:n_old] == old.labels.items():
            learner = _learners.partially_fitted(old.learner, take_rows(self.X_pool, list(labels.indices[n_old:])),
                                                 np.asarray(labels.values[n_old:]), X, y, self.classes)
            return learner, True, (*old.increments, len(labels) - n_old)
        return self._replay(labels, old.increments, X, y)

    def _replay(self, labels: FrozenLabels, increments, X, y):
        """An online learner rebuilt from the label log, in the mini-batches it was first taught."""
        if self.base_X is not None:
            learner = _learners.fresh(self.template, self.base_X, self.base_y, fit=True)
        else:
            learner = _learners.fresh(self.template, None, None, fit=False)
        if not len(labels):
            return learner, self.base_X is not None, ()
        bounds = list(np.cumsum(increments)) if increments else []
        bounds = [b for b in bounds if b < len(labels)] + [len(labels)]
        start, sizes = 0, []
        for stop in bounds:
            rows = list(labels.indices[start:stop])
            learner = _learners.partially_fitted(learner, take_rows(self.X_pool, rows),
                                                 np.asarray(labels.values[start:stop]), X, y, self.classes)
            sizes.append(stop - start)
            start = stop
        return learner, True, tuple(sizes)

    def _rank(self, learner, fitted: bool, open_items: np.ndarray, strategy, n: int, seq: int) -> Ranking:
        scores = np.full(self.n_pool, np.nan)
        if len(open_items) == 0:
            return Ranking(open_items, scores, 0, strategy.name, seq)
        if not fitted:
            return Ranking(self._rng.permutation(open_items), scores, 0, strategy.name, seq)
        candidates = open_items
        if self.candidates is not None and len(candidates) > self.candidates:
            candidates = np.sort(self._rng.choice(candidates, size=self.candidates, replace=False))
        chosen, candidate_scores = strategy(learner, take_rows(self.X_pool, candidates), n_instances=n,
                                            random_state=self._rng)
        scores[candidates] = candidate_scores
        from alwidgets import strategies

        rest = strategies.top_n(candidate_scores, len(candidates))
        rest = rest[~np.isin(rest, chosen)]
        order = candidates[np.concatenate([chosen, rest]).astype(int)]
        return Ranking(order, scores, len(chosen), strategy.name, seq)

    def score(self, learner, fitted: bool) -> float | None:
        """The held-out score of ``learner``, or None without a test set or a fit."""
        if self.X_test is None or not fitted:
            return None
        return training.score(learner, self.X_test, self.y_test, self.is_classifier, self.scoring)

    def why(self, idx: int) -> dict:
        """The latest ranking's score of pool item ``idx`` and, for classifiers, the top two classes."""
        snapshot = self._snapshot
        ranking = snapshot.ranking
        info = {"strategy": ranking.strategy if ranking is not None else self.strategy.name,
                "score": float(ranking.scores[idx]) if ranking is not None else float("nan"),
                "top_classes": [], "model_version": snapshot.version}
        if self.multi_label and snapshot.fitted:  # one probability per class, each on its own
            proba = np.asarray(snapshot.learner.predict_proba(take_rows(self.X_pool, [idx])))[0]
            info["top_classes"] = [(self.classes[k], float(proba[k])) for k in np.argsort(-proba, kind="stable")]
        elif self.is_classifier and snapshot.fitted:
            classes, proba = self._class_probabilities(snapshot, idx)
            info["top_classes"] = [(to_plain(classes[k]), float(proba[k])) for k in np.argsort(-proba)[:2]]
        return info

    def top_classes(self, indices, k: int = 2) -> list[list[tuple[object, float]]]:
        """The ``k`` most probable classes of each pool item in ``indices``, all from one model in one prediction.

        What a campaign service sends pages with each model (``[]`` per item
        where :meth:`suggestion` would give None): one ``predict_proba`` over
        the rows instead of one per item.
        """
        snapshot = self._snapshot
        indices = list(indices)
        if (not indices or not self.is_classifier or self.multi_label or not snapshot.fitted
                or not hasattr(snapshot.learner, "predict_proba")):
            return [[] for _ in indices]
        proba = np.asarray(snapshot.learner.predict_proba(take_rows(self.X_pool, indices)), dtype=float)
        classes = _learners.proba_classes(snapshot.learner)
        return [[(to_plain(classes[j]), float(row[j])) for j in np.argsort(-row)[:k]] for row in proba]

    def adopt(self, snapshot: Snapshot) -> None:
        """Publish a snapshot made by another Trainer of the same pool (the campaign's trainer process)."""
        self._snapshot = snapshot

    def suggestion(self, idx: int) -> tuple[object, float] | None:
        """The latest model's most probable class for ``idx`` and its probability; None without one."""
        snapshot = self._snapshot
        if (not self.is_classifier or self.multi_label or not snapshot.fitted
                or not hasattr(snapshot.learner, "predict_proba")):
            return None  # (a multi-label guess would be a set: not offered yet)
        classes, proba = self._class_probabilities(snapshot, idx)
        best = int(np.argmax(proba))
        guess = to_plain(classes[best])
        if self.classes is not None:
            guess = match_class(guess, self.classes)
        return guess, float(proba[best])

    def _class_probabilities(self, snapshot: Snapshot, idx: int):
        proba = np.asarray(snapshot.learner.predict_proba(take_rows(self.X_pool, [idx])), dtype=float)[0]
        return _learners.proba_classes(snapshot.learner), proba

    def _track_stability(self, learner, version: int, open_items: np.ndarray):
        """The stop signal's status after feeding it the new model's predictions on the fixed stop set."""
        if self._stopper.stop_set is None:
            if not len(open_items):
                return self._snapshot.stopping
            self._stopper.choose_stop_set(open_items)
        return frozen_status(self._stopper.update(learner, self._stopper.stop_rows(self.X_pool), version=version))

    def stopping(self) -> dict:
        """Whether more labels are likely to help: stabilizing predictions, with no held-out labels.

        After every new model, predictions on a fixed stop set of pool items
        (up to 2,000) are compared with the previous model's (Cohen's kappa;
        Lin's concordance for regressors); ``"stop"`` is True once agreement
        stayed at or above 0.99 for 3 updates (Bloodgood & Vijay-Shanker,
        CoNLL 2009). Returns a new ``{"agreement", "window", "stop", "n_updates",
        "first_stop", "threshold", "stop_set_size"}`` from the latest snapshot,
        ``first_stop`` with the ``"n_labels"`` it fired at; see
        :class:`alwidgets.engine.stopping.StabilizingPredictions`.
        """
        snapshot = self._snapshot
        status = dict(snapshot.stopping)
        status["window"] = list(status["window"])
        first = status["first_stop"]
        if first is not None:
            first = status["first_stop"] = dict(first)
            fired = [h["n_labels"] for h in snapshot.history if h.get("model_version") == first["version"]]
            first["n_labels"] = fired[0] if fired else None
        return status


def warm_start_from(previous, y, is_classifier: bool) -> Callable | None:
    """What starts a refit on labels ``y`` from a copy of ``previous``'s coefficients; None: a fit from scratch.

    ``previous`` is the fitted learner of the last snapshot. A refit starts
    from it when its estimator has ``coef_`` and ``intercept_`` and a
    ``warm_start`` parameter (LogisticRegression, SGDClassifier, linear SVMs
    with ``warm_start``...) and, for a classifier, was fitted on the same
    classes as ``y`` holds (a new class changes the shape of ``coef_``). A
    committee never does (its members fit bootstrap samples). The returned
    ``start(estimator)`` sets ``warm_start=True`` on a fresh clone and gives it
    copies of the arrays: ``previous`` is never changed.
    """
    if _learners.is_committee(previous):
        return None
    estimator = previous.estimator
    coef, intercept = getattr(estimator, "coef_", None), getattr(estimator, "intercept_", None)
    if coef is None or intercept is None or "warm_start" not in estimator.get_params(deep=False):
        return None
    if is_classifier:
        y = np.asarray(y)
        classes = getattr(estimator, "classes_", None)
        if y.ndim != 1 or classes is None or not np.array_equal(np.asarray(classes), np.unique(y)):
            return None
    coef, intercept = np.array(coef, copy=True), np.array(intercept, copy=True)

    def start(fresh_estimator) -> None:
        fresh_estimator.set_params(warm_start=True)
        fresh_estimator.coef_, fresh_estimator.intercept_ = coef.copy(), intercept.copy()

    return start


def _event_name(old: FrozenLabels, new: FrozenLabels) -> str:
    """What changed the labels between two fits: new labels ("teach") or anything else ("undo")."""
    return "teach" if new.items()[: len(old)] == old.items() else "undo"


def default_strategy(learner, multi_label: bool = False) -> str:
    """The strategy a Session uses unless told: margin for a classifier with probabilities, max_std for a GP."""
    from alwidgets import strategies

    if multi_label:
        usable = strategies.available(learner, multi_label=True)
        return next((n for n in strategies.MULTI_LABEL_DEFAULTS if n in usable), "random")
    for name in ("margin", "max_std"):
        if strategies.get(name).problem(learner) is None:
            return name
    return "random"


def check_online(online, learner, *, multi_label: bool, is_classifier: bool, classes) -> bool:
    """Whether to learn online; an error if ``learner`` cannot (no ``partial_fit``, no classes up front)."""
    if not check_bool(online, "online"):
        return False
    if multi_label:
        raise ValueError("online=True is not available with multi_label=True: use online=False")
    if not _learners.supports_partial_fit(learner):
        raise ValueError(
            "online=True teaches the model one mini-batch at a time with partial_fit, but "
            f"{type(_learners.members(learner)[0].estimator).__name__} has no partial_fit (or is a committee); "
            "use e.g. MLPClassifier or SGDClassifier(loss='log_loss'), or online=False"
        )
    if is_classifier and classes is None:
        raise ValueError("online=True needs every class up front (partial_fit does): pass classes=[...]")
    return True


def check_stopping(stopping) -> dict:
    """The stop signal's options a Session may set; anything else is named in a TypeError."""
    if stopping is None:
        return {}
    if not isinstance(stopping, dict):
        raise InvalidParameterError(
            f"stopping must be a dict of {', '.join(STOPPING_OPTIONS)}; got {type(stopping).__name__}")
    unknown = sorted(set(stopping) - set(STOPPING_OPTIONS))
    if unknown:
        raise InvalidParameterError(f"stopping takes {', '.join(STOPPING_OPTIONS)}; got {', '.join(map(repr, unknown))}")
    return dict(stopping)


def check_scoring(scoring):
    """A scorer name (checked against scikit-learn's) or a callable, or None for the default."""
    if scoring is None or callable(scoring):
        return scoring
    if isinstance(scoring, str):
        from sklearn.metrics import get_scorer

        get_scorer(scoring)  # an unknown name fails here, naming the known ones
        return scoring
    raise InvalidParameterError(f"scoring must be a scorer name (e.g. 'f1_macro') or a callable; got {scoring!r}")
