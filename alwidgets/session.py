"""The active-learning loop: a pool, the labels given so far, the next query.

A :class:`Session` owns a modAL learner and a pool of unlabeled items. It asks
its strategy which items to label, records each label in its store *before*
teaching the learner (so no label is lost if fitting fails), and keeps a
history of held-out scores for learning curves. It imports no widget code:
widgets are views over it, and tests and benchmarks drive it directly.

Labeling is split in two halves so that a person never waits for a refit:
:meth:`Session.record` stores a label at once, :meth:`Session.refit` teaches
the learner what was recorded. :meth:`Session.teach` does both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, get_scorer, r2_score
from sklearn.utils import check_random_state

from . import _learners, strategies
from ._learners import take_rows
from ._validation import check_int, check_label_value, match_class, n_rows, to_plain
from .store import DEFAULT_LEASE_TIMEOUT, LABEL, RETRACT, SKIP, LabelEvent, Tally, majority, open_store

__all__ = ["Session", "LabelingError"]


class LabelingError(RuntimeError):
    """The learner failed to learn from labels that were nevertheless recorded."""


@dataclass(frozen=True)
class _Ranking:
    """The pool ordered by the strategy, for one model version."""

    version: int
    order: np.ndarray  # pool indices, most wanted first
    scores: np.ndarray  # one per pool index (NaN where not scored)
    n_chosen: int  # how many leading entries the strategy chose as a batch
    strategy: str


class Session:
    """An active-learning session over a pool of unlabeled items.

    Parameters
    ----------
    model : estimator or modAL learner
        A scikit-learn classifier or regressor (wrapped in ``ActiveLearner``),
        or a modAL ``ActiveLearner``, ``BayesianOptimizer``, ``Committee`` or
        ``CommitteeRegressor``, which keeps any training data it already has.
    X_pool : array-like of shape (n_items, n_features), DataFrame, or sequence of str
        The items to label. Texts may be a 1-D sequence of strings when the
        model is a pipeline that vectorizes them.
    strategy : str or Strategy, default="margin"
        A name from :func:`alwidgets.strategies.available`.
    X_test, y_test : array-like, optional
        A held-out set: every fit records its score in :attr:`history`.
    store : None, str, Path or store, default=None
        Where labels live: ``None`` keeps them in memory; a file path such as
        ``"labels.db"`` keeps them in SQLite; ``"postgresql://user@host/db"``
        in PostgreSQL. A new Session on a store that already holds labels for
        this pool picks them up, refits, and never asks an answered item again.
    random_state : int, RandomState or None
        Seeds cold-start picks and random strategies, for reproducible runs.
    classes : sequence, optional
        The allowed labels of a classifier. Defaults to the classes of
        ``y_test`` or of the learner's existing training data, if any.
    scoring : str or callable, optional
        A scikit-learn scorer name or ``scorer(estimator, X, y)``. Default:
        accuracy for classifiers, R² for regressors.
    annotator : str, default="local"
        Who gives the labels; written with every event.
    item_ids : sequence of str, optional
        Stable names of the pool items; default: a hash of each row's content.
    overlap : int, default=1
        How many different annotators are asked per item. The label used for
        training is the majority vote; a tie is not trained on and the item is
        offered to one more annotator.
    lease_timeout : float, default=600
        Seconds an item shown by :meth:`query` stays reserved for this
        annotator; unanswered by then, it returns to the pool.
    refresh_every : int, default=10
        Refit on other annotators' labels (pulled from the store) once this
        many have arrived, even if this annotator labels nothing.
    blas_threads : int or None, default=1
        BLAS threads while the learner refits. Refits on a few hundred labels
        are tiny, and a multi-threaded BLAS spends longer waking threads than
        computing (5x slower measured on 2 cores); None leaves BLAS alone.
    """

    def __init__(
        self,
        model,
        X_pool,
        strategy="margin",
        X_test=None,
        y_test=None,
        store=None,
        random_state=None,
        *,
        classes=None,
        scoring=None,
        annotator: str = "local",
        item_ids=None,
        overlap: int = 1,
        lease_timeout: float = DEFAULT_LEASE_TIMEOUT,
        refresh_every: int = 10,
        blas_threads: int | None = 1,
    ):
        self.X_pool = _check_pool(X_pool)
        self.n_pool = n_rows(self.X_pool)
        self.learner = _learners.wrap(model)
        self.is_classifier = _learners.learner_is_classifier(self.learner)
        self._base_X, self._base_y = _learners.training_data(self.learner)
        self.X_test, self.y_test = _check_test(X_test, y_test)
        self.classes = self._known_classes(classes)
        self.scoring = scoring
        self.annotator = _check_annotator(annotator)
        self.overlap = check_int(overlap, "overlap")
        self.lease_timeout = _check_seconds(lease_timeout, "lease_timeout")
        self.refresh_every = check_int(refresh_every, "refresh_every")
        self.blas_threads = None if blas_threads is None else check_int(blas_threads, "blas_threads")
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self._strategy = strategies.get(strategy)
        self.item_ids = _check_item_ids(item_ids, self.X_pool, self.n_pool)
        self._index_of = {item: i for i, item in enumerate(self.item_ids)}

        self._owns_store = store is not None and not hasattr(store, "append_many")
        self.store = open_store(store)
        self.labels: dict[int, object] = {}  # the training label of each decided item (majority vote)
        self.skipped: set[int] = set()  # items this annotator set aside
        self._tally = Tally()  # every annotator's current vote per item, from the store's events
        self._mine: dict[int, object] = {}  # this annotator's current votes
        self._closed: set[int] = set()  # items with all the votes they need
        self._ties: set[int] = set()  # items whose votes tie: open for one more annotator
        self._own_seqs: set[int] = set()  # events this session appended and already applied
        self._others_new = 0  # labels by other annotators pulled since the last refit
        self._needs_rebuild = False  # a label the learner was taught has changed or gone
        self.history: list[dict] = []
        self.model_version = 0
        self._taught: list[int] = []  # pool indices the learner knows, in order
        self._pending: list[int] = []  # recorded, not yet taught
        self._order: list[int] = []  # this annotator's labels, oldest first (for undo)
        self._ranking: _Ranking | None = None
        self._state_lock = threading.RLock()
        self._model_lock = threading.RLock()
        self._events_seen = 0
        self._resume()

    # ------------------------------------------------------------------ properties

    @property
    def strategy(self) -> str:
        """The name of the current strategy; assign a name to switch."""
        return self._strategy.name

    @strategy.setter
    def strategy(self, name) -> None:
        new = strategies.get(name)
        new.check(self.learner)
        self._strategy = new
        self._ranking = None

    @property
    def model_lock(self):
        """Hold this while reading the learner from another thread (a plot, say): refits and undo wait for it."""
        return self._model_lock

    @property
    def is_fitted(self) -> bool:
        """Whether the learner has been fitted and its strategy can rank the pool."""
        return _learners.is_fitted(self.learner)

    @property
    def n_labeled(self) -> int:
        return len(self.labels)

    @property
    def unlabeled(self) -> np.ndarray:
        """Pool indices this annotator may still be asked: not answered by enough people, nor by them, nor skipped."""
        mask = np.ones(self.n_pool, dtype=bool)
        with self._state_lock:
            mask[list(self._closed)] = False
            mask[list(self._mine)] = False
            mask[list(self.skipped)] = False
        return np.flatnonzero(mask)

    @property
    def my_labels(self) -> dict[int, object]:
        """``{pool index: label}`` given by this session's annotator (their votes, not the majority)."""
        with self._state_lock:
            return dict(self._mine)

    @property
    def votes(self) -> dict[int, dict[str, object]]:
        """``{pool index: {annotator: label}}`` for every item someone has labeled."""
        with self._state_lock:
            return {self._index_of[item]: dict(v) for item, v in self._tally.votes.items() if item in self._index_of}

    # ------------------------------------------------------------------ querying

    def query(self, n: int = 1, refresh: bool = True) -> list[int]:
        """Pool indices to label next, most wanted first.

        Never returns an index already labeled or skipped. Uses the ranking of
        the current model when one is ready, so asking again after
        :meth:`record` costs no refit; ranks the pool anew when the model changed.
        With ``refresh=False`` any ranking of the current strategy is used even
        if the model has moved on since: this is the click path of a widget,
        which must answer at once while a refit runs elsewhere.
        Before the learner can be fitted (no labels, or a classifier that has
        seen one class only) picks at random.

        What is returned is leased to this annotator in the store: other
        sessions on the same store are not given it (beyond ``overlap``) until
        it is answered, skipped, or ``lease_timeout`` passes; this annotator's
        earlier unanswered leases go back to the pool. With ``refresh=True``
        labels of other annotators are pulled from the store first, and the
        model is refit once ``refresh_every`` of them have arrived.
        """
        n = check_int(n, "n")
        if refresh:
            self.sync()
            if self._others_new >= self.refresh_every:
                self.refit()
        ranking = self._ranking
        if (
            ranking is None
            or (refresh and ranking.version != self.model_version)
            or ranking.strategy != self.strategy
            or (self._strategy.batch_aware and n > ranking.n_chosen)
        ):
            ranking = self.rank(n)
        picks = self._take(ranking, n)
        if len(picks) < n and np.isin(self.unlabeled, ranking.order, invert=True).any():
            picks = self._take(self.rank(n), n)  # items came back to the pool since the ranking was made
        return picks

    def rank(self, n: int = 1) -> _Ranking:
        """Order the unlabeled pool by the current strategy and keep the result."""
        with self._model_lock, _learners.blas_threads(self.blas_threads):
            version = self.model_version
            candidates = self.unlabeled
            scores = np.full(self.n_pool, np.nan)
            if len(candidates) == 0:
                ranking = _Ranking(version, candidates, scores, 0, self.strategy)
            elif not self.is_fitted:
                order = self._rng.permutation(candidates)
                ranking = _Ranking(version, order, scores, 0, self.strategy)
            else:
                X = take_rows(self.X_pool, candidates)
                chosen, cand_scores = self._strategy(
                    self.learner, X, n_instances=max(n, 1), random_state=self._rng
                )
                scores[candidates] = cand_scores
                rest = strategies.top_n(cand_scores, len(candidates))
                rest = rest[~np.isin(rest, chosen)]
                order = candidates[np.concatenate([chosen, rest]).astype(int)]
                ranking = _Ranking(version, order, scores, len(chosen), self.strategy)
            self._ranking = ranking
            return ranking

    def _take(self, ranking: _Ranking, n: int) -> list[int]:
        """Lease the first ``n`` items of ``ranking`` that are still open to this annotator."""
        with self._state_lock:
            busy = self._closed | set(self._mine) | self.skipped
            extra = {self.item_ids[i]: len(self._tally.votes.get(self.item_ids[i], {})) + 1 for i in self._ties}
        ids = self.item_ids
        candidates = (ids[i] for i in map(int, ranking.order) if i not in busy)
        leased = self.store.lease(self.annotator, candidates, n, slots=self.overlap, extra_slots=extra,
                                  timeout=self.lease_timeout)
        return [self._index_of[item] for item in leased]

    def why(self, idx: int) -> dict:
        """Why ``idx`` was asked: its strategy score and, for classifiers, the top two classes."""
        idx = self._check_index(idx, allow_labeled=True)
        ranking = self._ranking
        score = float(ranking.scores[idx]) if ranking is not None else float("nan")
        info = {"strategy": self.strategy, "score": score, "top_classes": []}
        if self.is_classifier and self.is_fitted:
            with self._model_lock:
                proba = np.asarray(self.learner.predict_proba(take_rows(self.X_pool, [idx])))[0]
                classes = _learners.proba_classes(self.learner)
            top = np.argsort(-proba)[:2]
            info["top_classes"] = [(to_plain(classes[k]), float(proba[k])) for k in top]
        return info

    # ------------------------------------------------------------------ labeling

    def record(self, idx, label) -> None:
        """Store label(s) for pool index(es) without refitting: the fast half of :meth:`teach`.

        Everything is validated before anything is stored.
        """
        indices, labels = self._check_labels(idx, label)
        events = [
            LabelEvent(item_id=self.item_ids[i], kind=LABEL, label=y, annotator=self.annotator,
                       strategy=self.strategy, model_version=self.model_version)
            for i, y in zip(indices, labels, strict=True)
        ]
        with self._state_lock:
            self._apply_own(self.store.append_many(events))  # one transaction; durable when it returns
            self._order.extend(indices)

    def refit(self) -> bool:
        """Teach the learner every recorded label it has not seen; the slow half of :meth:`teach`.

        Returns whether the learner was (re)fitted. Raises :class:`LabelingError`
        if the learner fails; the labels stay recorded.
        """
        with self._model_lock, _learners.blas_threads(self.blas_threads):
            self.sync()
            with self._state_lock:
                new = [i for i in self._pending if i in self.labels]
                self._pending = []
                self._others_new = 0
                rebuild, self._needs_rebuild = self._needs_rebuild, False
            if rebuild:  # a label it was taught changed (another annotator's vote or retraction): start over
                start = time.perf_counter()
                self._taught.extend(new)
                try:
                    self._rebuild()
                except Exception as error:
                    raise LabelingError(
                        f"the learner failed to learn from the labels in the store ({error}); they are kept"
                    ) from error
                self._after_fit(self.is_fitted, time.perf_counter() - start)
                return self.is_fitted
            if not new:
                return False
            start = time.perf_counter()
            X_new = take_rows(self.X_pool, new)
            y_new = np.asarray([self.labels[i] for i in new])
            try:
                if self._can_fit(extra=y_new):
                    self.learner.teach(X_new, y_new)
                    fitted = True
                else:
                    for member in _learners.members(self.learner):
                        member._add_training_data(X_new, y_new)
                    fitted = False
            except Exception as error:
                self._rebuild()
                raise LabelingError(
                    f"the learner failed to learn from {len(new)} new label(s) ({error}); "
                    "they are recorded and kept in the store, and the model is back to its last state"
                ) from error
            self._taught.extend(new)
            self._after_fit(fitted, time.perf_counter() - start)
            return fitted

    def teach(self, idx, label) -> None:
        """Record label(s) for pool index(es), then teach the learner.

        ``idx`` is one pool index or a list; ``label`` one label or a list of the
        same length. The label is stored first: if the learner then fails, it
        stays recorded and :class:`LabelingError` says so.
        """
        self.record(idx, label)
        self.refit()

    def skip(self, idx) -> None:
        """Set an item aside: it is not asked again (until it is labeled explicitly)."""
        indices = [self._check_index(i) for i in np.atleast_1d(idx)]
        events = [LabelEvent(item_id=self.item_ids[i], kind=SKIP, annotator=self.annotator, strategy=self.strategy)
                  for i in indices]
        with self._state_lock:
            self._apply_own(self.store.append_many(events))  # also gives the items' leases back

    def undo(self):
        """Take back this annotator's last label; the model forgets it.

        Returns ``(index, label)`` that was taken back, or None if there is none.
        """
        with self._model_lock, self._state_lock:
            while self._order and self._order[-1] not in self._mine:
                self._order.pop()
            if not self._order:
                return None
            idx = self._order.pop()
            label = self._mine[idx]
            self._apply_own(self.store.append_many([
                LabelEvent(item_id=self.item_ids[idx], kind=RETRACT, label=label, annotator=self.annotator,
                           strategy=self.strategy, model_version=self.model_version)
            ]))
            if self._needs_rebuild:  # the model must forget it now, not at the next refit
                self._needs_rebuild = False
                with _learners.blas_threads(self.blas_threads):
                    self._rebuild()
                self._after_fit(self.is_fitted, 0.0, event="undo")
            # keep the item for this annotator to label again, without giving up what they are shown
            self.store.lease(self.annotator, [self.item_ids[idx]], 1, slots=self.overlap,
                             timeout=self.lease_timeout, release_others=False)
            return idx, label

    def simulate(self, oracle, n_queries: int, batch_size: int = 1, progress: Callable | None = None) -> list[dict]:
        """Let an oracle answer ``n_queries`` queries; returns the history.

        ``oracle`` is an array of true labels for the pool (indexed by pool
        position) or a callable ``oracle(index) -> label``. ``progress``, if
        given, is called as ``progress(done, total)`` after each query.
        """
        n_queries = check_int(n_queries, "n_queries", minimum=0)
        batch_size = check_int(batch_size, "batch_size")
        answer = _oracle(oracle, self.n_pool)
        done = 0
        while done < n_queries:
            picks = self.query(min(batch_size, n_queries - done))
            if not picks:
                break
            self.teach(picks, [answer(i) for i in picks])
            done += len(picks)
            if progress is not None:
                progress(done, n_queries)
        return self.history

    def score(self) -> float | None:
        """The held-out score of the current model, or None without a test set or fit."""
        if self.X_test is None or not self.is_fitted:
            return None
        with self._model_lock:
            if self.scoring is None:
                y_pred = self.learner.predict(self.X_test)
                y_true = self.y_test
                if self.is_classifier:
                    return float(accuracy_score(y_true, y_pred))
                return float(r2_score(np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()))
            scorer = get_scorer(self.scoring) if isinstance(self.scoring, str) else self.scoring
            return float(scorer(self.learner, self.X_test, self.y_test))

    # ------------------------------------------------------------------ internals

    def _can_fit(self, extra=()) -> bool:
        y = list(self._base_y if self._base_y is not None else [])
        y += [self.labels[i] for i in self._taught] + list(extra)
        if self.is_classifier:
            return len(set(map(to_plain, np.asarray(y).ravel()))) >= 2
        return len(y) >= 1

    def _rebuild(self) -> None:
        """Refit the learner from scratch on its base data plus the taught labels."""
        from ._compat import data_vstack

        taught = [i for i in self._taught if i in self.labels]
        self._taught = taught
        X_parts = [] if self._base_X is None else [self._base_X]
        y_parts = [] if self._base_y is None else [np.asarray(self._base_y)]
        if taught:
            X_parts.append(take_rows(self.X_pool, taught))
            y_parts.append(np.asarray([self.labels[i] for i in taught]))
        if not X_parts:
            _learners.reset(self.learner, None, None)
            return
        X = data_vstack(X_parts) if len(X_parts) > 1 else X_parts[0]
        y = np.concatenate(y_parts)
        if self._can_fit():
            _learners.reset(self.learner, X, y)
        else:
            _learners.reset(self.learner, None, None)
            for member in _learners.members(self.learner):
                member.X_training, member.y_training = X, y

    def _after_fit(self, fitted: bool, seconds: float, event: str = "teach") -> None:
        self.model_version += 1
        self.history.append(
            {
                "n_labels": self.n_labeled,
                "score": self.score() if fitted else None,
                "strategy": self.strategy,
                "seconds": seconds,
                "event": event,
                "model_version": self.model_version,
            }
        )

    def _resume(self) -> None:
        """Pick up the labels already in the store for items of this pool, and learn from them."""
        events = self.store.events()
        if not events:
            return
        self._events_seen = events[-1].seq
        self._refresh_items(self._tally.apply(events))
        # labels found in the store are not this Session's to undo: undo takes back only what it appended
        self._others_new = 0
        if self._pending:
            self.refit()

    # ------------------------------------------------------------------ the shared store

    def sync(self) -> int:
        """Pull the events other sessions appended to the store since the last look.

        Updates :attr:`labels` (majority votes), what is still open, and what
        the learner should be taught at the next :meth:`refit`. Returns how
        many new events there were.
        """
        new = self.store.events(since=self._events_seen)
        if not new:
            return 0
        with self._state_lock:
            fresh = []
            for e in new:
                if e.seq <= self._events_seen:
                    continue
                self._events_seen = e.seq
                if e.seq in self._own_seqs:
                    self._own_seqs.discard(e.seq)
                    continue
                fresh.append(e)
            self._refresh_items(self._tally.apply(fresh))
            self._others_new += sum(e.kind == LABEL and e.annotator != self.annotator for e in fresh)
        return len(fresh)

    def _apply_own(self, stored: list) -> None:
        """Apply events this session just appended (the store gave them their sequence numbers)."""
        self._own_seqs.update(e.seq for e in stored if e.seq > self._events_seen)
        self._refresh_items(self._tally.apply(stored))

    def _refresh_items(self, item_ids) -> None:
        """Bring the per-item state of ``item_ids`` in line with the tally of votes."""
        for item_id in item_ids:
            i = self._index_of.get(item_id)
            if i is None:
                continue
            item_votes = self._tally.votes.get(item_id, {})
            label, tie = majority(item_votes.values())
            had, old = i in self.labels, self.labels.get(i)
            if item_votes and not tie:
                self.labels[i] = label
            else:
                self.labels.pop(i, None)
            if (i in self.labels) != had or (had and self.labels.get(i) != old):
                if i in self._taught:
                    self._needs_rebuild = True
                elif i in self.labels and i not in self._pending:
                    self._pending.append(i)
            if self.annotator in item_votes:
                self._mine[i] = item_votes[self.annotator]
            else:
                self._mine.pop(i, None)
            if len(item_votes) >= self.overlap and not tie:
                self._closed.add(i)
            else:
                self._closed.discard(i)
            if tie and len(item_votes) >= self.overlap:
                self._ties.add(i)
            else:
                self._ties.discard(i)
            if item_id in self._tally.skips.get(self.annotator, ()) and i not in self._mine:
                self.skipped.add(i)
            else:
                self.skipped.discard(i)

    def progress(self) -> dict:
        """How far the labeling of this pool has come, over all annotators.

        ``{"labeled": items with a training label, "total": pool size,
        "complete": items with all the votes they need, "ties": items whose
        votes tie, "per_annotator": {name: labels given}, "leased": items
        shown to someone right now}``. Call :meth:`sync` first for the latest.
        """
        with self._state_lock:
            per_annotator: dict[str, int] = {}
            for item_id, item_votes in self._tally.votes.items():
                if item_id in self._index_of:
                    for name in item_votes:
                        per_annotator[name] = per_annotator.get(name, 0) + 1
            leased = {row.item_id for row in self.store.leases()} & self._index_of.keys()
            return {"labeled": len(self.labels), "total": self.n_pool, "complete": len(self._closed),
                    "ties": len(self._ties), "per_annotator": dict(sorted(per_annotator.items())),
                    "leased": len(leased)}

    def agreement(self):
        """Agreement between annotators on the items several of them labeled; see :func:`alwidgets.agreement.agreement`."""
        from .agreement import agreement

        return agreement(self.store.events())

    def export(self, path, what: str = "labels", overwrite: bool = False):
        """Write the labels (or with ``what="events"`` the whole log) to a .csv, .json or .parquet file.

        Returns the path written. Each label row names the item by its id and
        its position in this pool (``index``). An existing file is replaced only
        with ``overwrite=True``; the store itself never is.
        """
        from .export import export_events

        return export_events(self.store.events(), path, what=what, item_index=self._index_of, overwrite=overwrite,
                             store=self.store)

    def release(self) -> None:
        """Give back the items this annotator was shown and has not answered."""
        self.store.release(self.annotator)

    def close(self) -> None:
        """Release this annotator's leases, and close the store if the Session opened it."""
        self.release()
        if self._owns_store:
            self.store.close()

    def _known_classes(self, classes):
        if not self.is_classifier:
            return None
        if classes is not None:
            return [to_plain(c) for c in classes]
        if self.y_test is not None:
            return [to_plain(c) for c in np.unique(np.asarray(self.y_test))]
        if self._base_y is not None:
            return [to_plain(c) for c in np.unique(np.asarray(self._base_y))]
        return None

    def _check_index(self, idx, allow_labeled: bool = False) -> int:
        if isinstance(idx, (bool, np.bool_)) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"idx must be an integer pool index; got {idx!r}")
        idx = int(idx)
        if not 0 <= idx < self.n_pool:
            raise IndexError(f"idx {idx} is out of range for a pool of {self.n_pool} items (0 to {self.n_pool - 1})")
        if not allow_labeled and idx in self._mine:
            raise ValueError(
                f"item {idx} is already labeled ({self._mine[idx]!r}) by {self.annotator!r}; "
                "use undo() to take a label back"
            )
        return idx

    def _check_labels(self, idx, label):
        many = np.ndim(idx) > 0
        indices = list(np.atleast_1d(idx)) if many else [idx]
        if many:
            labels = list(label) if np.ndim(label) > 0 else None
            if labels is None or len(labels) != len(indices):
                raise ValueError(f"label must be a list of {len(indices)} labels, one per index; got {label!r}")
        else:
            labels = [label]
        indices = [self._check_index(i) for i in indices]
        if len(set(indices)) != len(indices):
            raise ValueError(f"idx holds the same item more than once: {indices}")
        return indices, [self._check_label(y) for y in labels]

    def _check_label(self, y):
        if self.is_classifier:
            if self.classes is not None:
                return match_class(y, self.classes)  # True or 1.0 for class 1 is stored as 1
            return check_label_value(y)
        try:
            value = float(y)
        except (TypeError, ValueError):
            raise ValueError(f"label must be a number for a regressor; got {y!r}") from None
        if not np.isfinite(value):
            raise ValueError(f"label must be a finite number; got {y!r}")
        return value

    def __repr__(self) -> str:
        return (
            f"Session({self.n_labeled}/{self.n_pool} labeled, strategy={self.strategy!r}, "
            f"learner={type(self.learner).__name__})"
        )


# ---------------------------------------------------------------------- validation






def _check_seconds(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds; got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds; got {value!r}")
    return float(value)


def _check_annotator(annotator) -> str:
    name = str(annotator).strip() if annotator is not None else ""
    if not name:
        raise ValueError(f"annotator must be a non-empty name; got {annotator!r}")
    return name


def _is_text(X) -> bool:
    return len(X) > 0 and all(isinstance(x, str) for x in X[:100])


def _check_pool(X_pool):
    """Return the pool as an ndarray or DataFrame; raise a clear error for unusable pools."""
    if X_pool is None:
        raise ValueError("X_pool is required: an array of shape (n_items, n_features), a DataFrame or a list of texts")
    if isinstance(X_pool, pd.DataFrame):
        if len(X_pool) == 0:
            raise ValueError("X_pool is empty: there is nothing to label")
        missing = X_pool.isna().to_numpy().any(axis=1)
        if missing.any():
            raise ValueError(
                f"X_pool has missing values in {missing.sum()} rows (first: position {np.flatnonzero(missing)[0]}); "
                "fill them (e.g. with sklearn.impute.SimpleImputer) or drop those rows"
            )
        return X_pool.reset_index(drop=True)
    if isinstance(X_pool, pd.Series) or (isinstance(X_pool, (list, tuple)) and X_pool and isinstance(X_pool[0], str)):
        X_pool = np.asarray(list(X_pool), dtype=object)
    if hasattr(X_pool, "toarray"):  # sparse matrices are used as they are
        if X_pool.shape[0] == 0:
            raise ValueError("X_pool is empty: there is nothing to label")
        return X_pool.tocsr()
    X = np.asarray(X_pool)
    if X.size == 0:
        raise ValueError("X_pool is empty: there is nothing to label")
    if X.ndim == 1:
        if _is_text(X):
            return X.astype(object)
        raise ValueError(
            f"X_pool must be 2-D (n_items, n_features); got a 1-D array of {X.shape[0]} values. "
            "For a single feature use X.reshape(-1, 1); for texts pass a list of strings"
        )
    if X.dtype.kind in "fc":
        bad = ~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"X_pool has NaN or infinite values in {bad.sum()} rows (first: row {np.flatnonzero(bad)[0]}); "
                "fill them (e.g. with sklearn.impute.SimpleImputer) or drop those rows"
            )
    return X


def _check_test(X_test, y_test):
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test go together: give both for a held-out score, or neither")
    if X_test is None:
        return None, None
    if n_rows(X_test) != len(y_test):
        raise ValueError(f"X_test has {n_rows(X_test)} rows but y_test has {len(y_test)} labels")
    if isinstance(X_test, (list, tuple)) and X_test and isinstance(X_test[0], str):
        X_test = np.asarray(X_test, dtype=object)
    return X_test, np.asarray(y_test)


def _check_item_ids(item_ids, X_pool, n_pool) -> list[str]:
    if item_ids is not None:
        ids = [str(i) for i in item_ids]
        if len(ids) != n_pool:
            raise ValueError(f"item_ids has {len(ids)} ids but X_pool has {n_pool} items")
        if len(set(ids)) != len(ids):
            raise ValueError("item_ids must be unique: each names one item")
        return ids
    return content_ids(X_pool)


def content_ids(X) -> list[str]:
    """A stable id per row from its content; repeated rows get ``#2``, ``#3``... suffixes."""
    if isinstance(X, pd.DataFrame):
        frame = X
    elif hasattr(X, "toarray"):
        frame = pd.DataFrame(X.toarray())
    else:
        arr = np.asarray(X)
        frame = pd.DataFrame(arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr)
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    seen: dict[int, int] = {}
    ids = []
    for h in hashes:
        k = seen.get(h, 0) + 1
        seen[h] = k
        ids.append(f"{h:016x}" if k == 1 else f"{h:016x}#{k}")
    return ids


def _oracle(oracle, n_pool) -> Callable:
    if callable(oracle):
        return oracle
    y = np.asarray(oracle)
    if y.ndim == 0 or len(y) != n_pool:
        raise ValueError(f"oracle must be a callable or an array of {n_pool} true labels, one per pool item")
    return lambda i: y[i]

