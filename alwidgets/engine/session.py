"""The active-learning loop: a pool, the labels given so far, the next query.

Who owns what
-------------
A :class:`Session` has three pieces of state, each with one writer:

- **The label log** lives in the store (memory, SQLite or PostgreSQL). Clicks
  append events to it: a label, a retraction (undo), a skip. Nothing else
  writes labels.
- **The label state** (:class:`~alwidgets.engine.labelstate.LabelState`: labels,
  votes, ties, what is open) is what the log adds up to. It is only changed by
  applying the log's events in order (:meth:`Session.sync`), under a lock that
  is never held during a fit, a ranking or a draw.
- **The model** is an immutable :class:`Snapshot`: model version, fitted
  learner, the labels it was taught, its ranking of the pool, its held-out
  score and the history of scores. Only :meth:`Session.update` makes one: it
  freezes the label state, fits a *fresh* clone on exactly those labels,
  ranks the pool, and swaps the new snapshot in with one assignment. Updates
  run one at a time (the update lock), on whichever thread calls them: the
  widget's worker thread, or the caller's for :meth:`teach`.

So a click (:meth:`record`, :meth:`skip`, ``undo(refit=False)``, a strategy
switch, ``query(refresh=False)``) costs a store write and a dictionary update:
it never waits for a fit, a ranking or a draw. Readers (plots, "why this
one?") take ``session.snapshot`` once and read it at leisure; nobody mutates
a published learner. And the learner is always fitted on exactly the labels
of one consistent state of the store.

::

    click ──append──▶ store ──events──▶ LabelState ──frozen()──▶ update() ──▶ Snapshot ──▶ plots
                                                                  (worker)      (one assignment)

It imports no widget code: widgets are views over it, and tests and
benchmarks drive it directly.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import get_scorer
from sklearn.utils import check_random_state

from alwidgets import _learners, strategies
from alwidgets._learners import take_rows
from alwidgets._validation import check_int, check_label_set, check_label_value, match_class, to_plain
from alwidgets.engine import training
from alwidgets.engine.labelstate import FrozenLabels, LabelState, pool_progress
from alwidgets.engine.pool import as_oracle, check_annotator, check_item_ids, check_pool, check_seconds, check_test
from alwidgets.engine.stopping import StabilizingPredictions
from alwidgets.store import DEFAULT_LEASE_TIMEOUT, LABEL, LIVE_SECONDS, RETRACT, SKIP, LabelEvent, open_store

__all__ = ["Session", "LabelingError", "Snapshot", "Ranking"]


class LabelingError(RuntimeError):
    """The learner failed to learn from labels that were nevertheless recorded."""


@dataclass(frozen=True)
class Ranking:
    """The open pool ordered by a strategy, for one model and one point of the label log."""

    order: np.ndarray  # pool indices, most wanted first
    scores: np.ndarray  # one per pool index (NaN where not scored)
    n_chosen: int  # how many leading entries the strategy chose as a batch
    strategy: str
    label_seq: int  # the label log position it was made at


@dataclass(frozen=True)
class Snapshot:
    """The model as one update left it. Immutable: readers never need a lock.

    ``learner`` must not be changed by anyone: it is shared by every reader of
    this snapshot. ``labels`` are exactly what it was taught (beyond any
    training data the learner came with).
    """

    version: int
    learner: object
    fitted: bool
    labels: FrozenLabels
    ranking: Ranking | None
    score: float | None
    history: tuple = ()
    increments: tuple[int, ...] = ()  # online learning: the size of each partial fit, in order

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def label_dict(self) -> dict[int, object]:
        """``{pool index: label}`` the learner was taught."""
        return dict(self.labels.items())


_NO_LABELS = FrozenLabels(0, (), (), 0)


class Session:
    """An active-learning session over a pool of unlabeled items.

    Parameters
    ----------
    model : estimator or modAL learner
        A scikit-learn classifier or regressor (wrapped in ``ActiveLearner``),
        or a modAL ``ActiveLearner``, ``BayesianOptimizer``, ``Committee`` or
        ``CommitteeRegressor``, which keeps any training data it already has.
        It is never refitted in place: each update fits a fresh clone.
    X_pool : array-like of shape (n_items, n_features), DataFrame, or sequence of str
        The items to label. Texts may be a 1-D sequence of strings when the
        model is a pipeline that vectorizes them.
    strategy : str or Strategy, optional
        A name from :func:`alwidgets.strategies.available`. Default: "margin"
        for a classifier with probabilities, "max_std" for a regressor that
        gives a standard deviation (a Gaussian process), "random" otherwise.
    X_test, y_test : array-like, optional
        A held-out set: every fit records its score in :attr:`history`.
    store : None, str, Path or store, default=None
        Where labels live: ``None`` keeps them in memory; a file path such as
        ``"labels.db"`` keeps them in SQLite; ``"postgresql://user@host/db"``
        in PostgreSQL. A new Session on a store that already holds labels for
        this pool picks them up, refits, and never asks an answered item again.
    random_state : int, RandomState or None
        Seeds cold-start picks, candidate subsamples and random strategies.
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
        BLAS threads while the learner refits and ranks. Refits on a few
        hundred labels are tiny, and a multi-threaded BLAS spends longer waking
        threads than computing (5x slower measured on 2 cores); None leaves
        BLAS alone.
    candidates : int or None, default=None
        Rank only this many unlabeled items, drawn at random (seeded by
        ``random_state``) at each update, instead of the whole pool: the
        protocol of pool-based experiments on large pools, and what keeps
        ranking cheap on a pool of millions.
    online : bool, default=False
        Teach the model only each new mini-batch with ``partial_fit`` (an
        ``MLPClassifier``, ``SGDClassifier``...), as online training does,
        instead of refitting on every label. An undo or a changed vote
        rebuilds it by replaying the label log in the same mini-batches.
    multi_label : bool, default=False
        Each item takes a *set* of classes (any number of ``classes``, or none):
        ``session.record(idx, {"a", "b"})``; a list, tuple or frozenset works
        too, and ``set()`` or ``[]`` says that no class applies. Needs
        ``classes=``. The model learns a binary indicator matrix (one column per
        class, in ``classes`` order), so it must take one: the default strategy
        and the ``multi_label`` strategies expect a
        ``OneVsRestClassifier`` of an estimator with ``predict_proba``, such as
        :func:`alwidgets.strategies.multilabel.default_model`. ``y_test`` may be label sets
        or an indicator matrix; the default score is micro-averaged F1. Votes of
        several annotators are decided class by class
        (:func:`alwidgets.store.set_majority`).
    stopping : dict, optional
        Options of the stop signal (:meth:`stopping`), passed to
        :class:`alwidgets.engine.stopping.StabilizingPredictions`: ``threshold``,
        ``window`` and ``stop_set_size``. Default: agreement of at least 0.99
        over 3 updates; ``{"threshold": 0.995, "window": 5}`` is the stricter
        rule ``benchmarks/stopping.py`` measures.
    """

    def __init__(
        self,
        model,
        X_pool,
        strategy=None,
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
        candidates: int | None = None,
        online: bool = False,
        multi_label: bool = False,
        stopping: dict | None = None,
    ):
        self.X_pool = check_pool(X_pool)
        self.n_pool = self.X_pool.shape[0] if hasattr(self.X_pool, "shape") else len(self.X_pool)
        learner = _learners.wrap(model)
        self.is_classifier = _learners.learner_is_classifier(learner)
        self._template = learner  # read-only: every fit clones it
        self._base_X, self._base_y = _learners.training_data(learner)
        if multi_label is True and y_test is not None and not isinstance(y_test, np.ndarray):
            y_test = _one_per_row(y_test)  # label sets of unequal sizes: one object per test item
        self.X_test, self.y_test = check_test(X_test, y_test)
        self.multi_label = self._check_multi_label(multi_label, classes)
        self.classes = self._known_classes(classes)
        if self.multi_label:
            self.y_test = None if self.y_test is None else training.indicator_matrix(self.y_test, self.classes)
            scoring = "f1_micro" if scoring is None else scoring
        self.scoring = _check_scoring(scoring)
        self.annotator = check_annotator(annotator)
        self.overlap = check_int(overlap, "overlap")
        self.lease_timeout = check_seconds(lease_timeout, "lease_timeout")
        self.refresh_every = check_int(refresh_every, "refresh_every")
        self.blas_threads = None if blas_threads is None else check_int(blas_threads, "blas_threads")
        self.candidates = None if candidates is None else check_int(candidates, "candidates")
        self.online = self._check_online(online, learner)
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        default = _default_strategy(learner, self.multi_label)
        self._strategy = strategies.get(default if strategy is None else strategy)
        self._strategy.check(learner, multi_label=self.multi_label)
        self.item_ids = check_item_ids(item_ids, self.X_pool, self.n_pool)
        self._index_of = {item: i for i, item in enumerate(self.item_ids)}

        self._owns_store = store is not None and not hasattr(store, "append_many")
        self.store = open_store(store)
        # names this Session's leases in the store: a page gives back exactly its own when it closes
        self.holder = uuid.uuid4().hex
        self._holds = hasattr(self.store, "heartbeat")  # a store back end of one's own may not know holders
        self._state = LabelState(self.item_ids, self.annotator, self.overlap)
        self._state_lock = threading.Lock()  # guards the label state; never held during a fit, rank or draw
        self._update_lock = threading.Lock()  # one update (fit + rank) at a time; no click takes it
        # what this Session labeled, oldest first, as (index, the label it replaced or _NOT_LABELED): what undo takes back
        self._own_order: list[tuple[int, object]] = []
        self._rank_n = 1  # the largest batch a query asked for: what batch strategies choose
        # fed by update(), one per new model; its stop set has a seed of its own, so that it never draws from
        # the session's random stream (which decides the queries)
        self._stopper = StabilizingPredictions(agreement="kappa" if self.is_classifier else "concordance",
                                               random_state=0, **_check_stopping(stopping))
        fitted = _learners.is_fitted(learner)
        self._snapshot = Snapshot(0, learner, fitted, _NO_LABELS, None, self._score(learner, fitted))
        self.update()  # picks up labels already in the store, and makes the first ranking

    # ------------------------------------------------------------------ reading

    @property
    def snapshot(self) -> Snapshot:
        """The latest model: version, fitted learner, its labels, ranking, score and history. Immutable."""
        return self._snapshot

    @property
    def learner(self):
        """The latest fitted learner (read it, don't change it: plots and other threads share it)."""
        return self._snapshot.learner

    @property
    def model_version(self) -> int:
        return self._snapshot.version

    @property
    def history(self) -> list[dict]:
        """One entry per fit: ``n_labels``, ``score``, ``strategy``, ``seconds``, ``event``, ``model_version``."""
        return list(self._snapshot.history)

    @property
    def is_fitted(self) -> bool:
        """Whether the latest model is fitted and its strategy can rank the pool."""
        return self._snapshot.fitted

    def score(self) -> float | None:
        """The held-out score of the latest model, or None without a test set or fit."""
        return self._snapshot.score

    def training_data(self):
        """``(X, y)`` the latest model was trained on: the learner's own data, then the labels; or ``(None, None)``."""
        return _learners.training_data(self._snapshot.learner)

    @property
    def strategy(self) -> str:
        """The name of the current strategy; assign a name to switch (served by the next update)."""
        return self._strategy.name

    @strategy.setter
    def strategy(self, name) -> None:
        new = strategies.get(name)
        new.check(self._template, multi_label=self.multi_label)
        self._strategy = new

    @property
    def labels(self) -> dict[int, object]:
        """``{pool index: label}`` of every decided item (the majority vote), as recorded."""
        with self._state_lock:
            return dict(self._state.labels)

    @property
    def n_labeled(self) -> int:
        return len(self._state.labels)

    @property
    def skipped(self) -> set[int]:
        """Items this annotator set aside."""
        with self._state_lock:
            return set(self._state.skipped)

    @property
    def unlabeled(self) -> np.ndarray:
        """Pool indices this annotator may still be asked: not answered by enough people, nor by them, nor skipped."""
        with self._state_lock:
            return self._state.unlabeled()

    @property
    def my_labels(self) -> dict[int, object]:
        """``{pool index: label}`` given by this session's annotator (their votes, not the majority)."""
        with self._state_lock:
            return dict(self._state.mine)

    @property
    def votes(self) -> dict[int, dict[str, object]]:
        """``{pool index: {annotator: label}}`` for every item someone has labeled."""
        with self._state_lock:
            return self._state.votes()

    def labels_given(self) -> list[dict]:
        """Every current vote as ``{"index", "label", "annotator"}``, the most recently given first (a copy)."""
        with self._state_lock:
            given = self._state.votes_newest_first()
        return [{"index": i, "label": label, "annotator": who} for i, who, label in given]

    @property
    def is_current(self) -> bool:
        """Whether the latest model knows every recorded label and ranks with the current strategy."""
        snapshot = self._snapshot
        with self._state_lock:
            same_labels = snapshot.labels.items() == self._state.frozen().items()
        return same_labels and snapshot.ranking is not None and snapshot.ranking.strategy == self.strategy

    # ------------------------------------------------------------------ querying

    def query(self, n: int = 1, refresh: bool = True) -> list[int]:
        """Pool indices to label next, most wanted first.

        Never returns an index already labeled or skipped. Takes them from the
        ranking of the latest model. With ``refresh=True`` (the default) labels
        of other annotators are pulled from the store first, and the model is
        updated when its ranking is missing, is for another strategy, or
        ``refresh_every`` of those labels have arrived. With ``refresh=False``
        nothing is fitted or ranked: this is the click path of a widget, which
        must answer at once while an update runs elsewhere. Before the learner
        can be fitted (no labels, or a classifier that has seen one class
        only) the ranking is a random order.

        What is returned is leased to this annotator in the store: other
        sessions on the same store are not given it (beyond ``overlap``) until
        it is answered, skipped, or ``lease_timeout`` passes; this annotator's
        earlier unanswered leases go back to the pool.
        """
        n = check_int(n, "n")
        self._rank_n = max(self._rank_n, n) if self._strategy.batch_aware else self._rank_n
        if refresh:
            self.sync()
            if self._stale(n):
                self.update(n)
        ranking = self._snapshot.ranking
        picks = self._take(ranking.order if ranking is not None else np.array([], dtype=int), n)
        if len(picks) < n:
            with self._state_lock:
                open_items = self._state.unlabeled()
            ranked = ranking.order if ranking is not None else np.array([], dtype=int)
            unranked = open_items[np.isin(open_items, ranked, invert=True)]
            if len(unranked):  # items came back to the pool after the ranking was made
                if refresh:
                    self.update(n, rerank=True)
                    picks = self._take(self._snapshot.ranking.order, n)
                else:
                    picks += self._take(unranked, n - len(picks))
        return picks

    def peek(self, n: int = 1) -> list[int]:
        """The items the latest ranking asks next, without leasing them (what a plot marks)."""
        ranking = self._snapshot.ranking
        if ranking is None:
            return []
        with self._state_lock:
            busy = self._state.busy()
        picks = []
        for i in map(int, ranking.order):
            if i not in busy:
                picks.append(i)
                if len(picks) == n:
                    break
        return picks

    def _stale(self, n: int) -> bool:
        ranking = self._snapshot.ranking
        return (
            ranking is None
            or ranking.strategy != self.strategy
            or self._state.others - self._snapshot.labels.others >= self.refresh_every
            or (self._strategy.batch_aware and n > ranking.n_chosen)
        )

    def _take(self, order, n: int) -> list[int]:
        """Lease the first ``n`` items of ``order`` that are still open to this annotator."""
        with self._state_lock:
            busy = self._state.busy()
            extra = self._state.extra_slots()
        ids = self.item_ids
        candidates = (ids[i] for i in map(int, order) if i not in busy)
        leased = self.store.lease(self.annotator, candidates, n, slots=self.overlap, extra_slots=extra,
                                  timeout=self.lease_timeout, **self._holder_kw())
        return [self._index_of[item] for item in leased]

    def why(self, idx: int) -> dict:
        """Why ``idx`` was asked: its strategy score and, for classifiers, the top two classes."""
        idx = self.check_index(idx, allow_labeled=True)
        snapshot = self._snapshot
        ranking = snapshot.ranking
        score = float(ranking.scores[idx]) if ranking is not None else float("nan")
        info = {"strategy": ranking.strategy if ranking is not None else self.strategy, "score": score,
                "top_classes": [], "model_version": snapshot.version}
        if self.multi_label and snapshot.fitted:  # one probability per class, each on its own
            proba = np.asarray(snapshot.learner.predict_proba(take_rows(self.X_pool, [idx])))[0]
            info["top_classes"] = [(self.classes[k], float(proba[k])) for k in np.argsort(-proba, kind="stable")]
        elif self.is_classifier and snapshot.fitted:
            classes, proba = self._class_probabilities(snapshot, idx)
            top = np.argsort(-proba)[:2]
            info["top_classes"] = [(to_plain(classes[k]), float(proba[k])) for k in top]
        return info

    def _class_probabilities(self, snapshot: Snapshot, idx: int):
        """``(classes, probabilities)`` of one pool item under the snapshot's fitted classifier."""
        proba = np.asarray(snapshot.learner.predict_proba(take_rows(self.X_pool, [idx])), dtype=float)[0]
        return _learners.proba_classes(snapshot.learner), proba

    # ------------------------------------------------------------------ labeling (the click path)

    def record(self, idx, label, suggested=None) -> None:
        """Store label(s) for pool index(es) without refitting: the fast half of :meth:`teach`.

        ``suggested`` is the label the model suggested on screen when the
        person answered (one per index, None where none was shown): the store
        keeps it, so exports and the dashboard tell accepted suggestions from
        overridden ones. Everything is validated before anything is stored;
        if the store refuses the write, the error propagates and nothing is
        counted.
        """
        indices, labels = self._check_labels(idx, label)
        seen = self._check_suggested(suggested, len(indices), np.ndim(idx) > 0)
        version = self._snapshot.version
        events = [
            LabelEvent(item_id=self.item_ids[i], kind=LABEL, label=y, annotator=self.annotator,
                       strategy=self.strategy, model_version=version, suggested=g)
            for i, y, g in zip(indices, labels, seen, strict=True)
        ]
        self.store.append_many(events)  # one transaction; durable when it returns
        self._own_order.extend((i, _NOT_LABELED) for i in indices)
        self.sync()

    def relabel(self, idx, label, suggested=None) -> None:
        """Change the label this annotator gave item ``idx``: a retraction and the new label, in one transaction.

        Nothing is overwritten: the log keeps both. :meth:`undo` right after
        gives the old label back. Only this annotator's own label can be
        changed; another annotator's vote stays theirs.
        """
        idx = self.check_index(idx, allow_labeled=True)
        with self._state_lock:
            old = self._state.mine.get(idx, _NOT_LABELED)
        if old is _NOT_LABELED:
            raise ValueError(f"item {idx} has no label from {self.annotator!r} to change; label it with record()")
        new = self._check_label(label)
        seen = self._check_suggested(suggested, 1, False)[0]
        version = self._snapshot.version
        item = self.item_ids[idx]
        self.store.append_many([
            LabelEvent(item_id=item, kind=RETRACT, label=old, annotator=self.annotator, strategy=self.strategy,
                       model_version=version),
            LabelEvent(item_id=item, kind=LABEL, label=new, annotator=self.annotator, strategy=self.strategy,
                       model_version=version, suggested=seen),
        ])
        self._own_order.append((idx, old))
        self.sync()

    def suggestion(self, idx) -> tuple[object, float] | None:
        """The latest model's guess for item ``idx`` and its probability, or None before a classifier is fitted.

        One row's prediction: cheap enough for a click. A widget shows it on
        the class button and passes it to :meth:`record` as ``suggested``.
        """
        idx = self.check_index(idx, allow_labeled=True)
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

    def skip(self, idx) -> None:
        """Set an item aside: it is not asked again (until it is labeled explicitly)."""
        indices = [self.check_index(i) for i in np.atleast_1d(idx)]
        events = [LabelEvent(item_id=self.item_ids[i], kind=SKIP, annotator=self.annotator, strategy=self.strategy)
                  for i in indices]
        self.store.append_many(events)  # also gives the items' leases back
        self.sync()

    def undo(self, refit: bool = True):
        """Take back the last label this Session gave (or the last :meth:`relabel`); the model forgets it.

        Only labels given through this Session object are taken back, never
        labels the same annotator name gave elsewhere (another page, an
        earlier run). Undoing a relabel gives the item its old label back.
        With ``refit=False`` the model forgets at the next :meth:`update`
        instead (a widget's worker does it). Returns ``(index, label)`` that
        was taken back, or None if there is none.
        """
        with self._state_lock:
            while self._own_order and self._own_order[-1][0] not in self._state.mine:
                self._own_order.pop()
            if not self._own_order:
                return None
            idx, before = self._own_order[-1]
            label = self._state.mine[idx]
        events = [LabelEvent(item_id=self.item_ids[idx], kind=RETRACT, label=label, annotator=self.annotator,
                             strategy=self.strategy, model_version=self._snapshot.version)]
        if before is not _NOT_LABELED:  # a relabel: the old label comes back
            events.append(LabelEvent(item_id=self.item_ids[idx], kind=LABEL, label=before, annotator=self.annotator,
                                     strategy=self.strategy, model_version=self._snapshot.version))
        self.store.append_many(events)
        self._own_order.pop()
        self.sync()
        if before is _NOT_LABELED:
            # keep the item for this annotator to label again, without giving up what they are shown
            self.store.lease(self.annotator, [self.item_ids[idx]], 1, slots=self.overlap,
                             timeout=self.lease_timeout, release_others=False, **self._holder_kw())
        if refit:
            self.update()
        return idx, label

    @property
    def last_change(self) -> tuple[int, bool] | None:
        """``(index, was_relabel)`` of what :meth:`undo` would take back now, or None."""
        with self._state_lock:
            for idx, before in reversed(self._own_order):
                if idx in self._state.mine:
                    return idx, before is not _NOT_LABELED
        return None

    # ------------------------------------------------------------------ the model (the worker's half)

    def update(self, n: int | None = None, rerank: bool = False) -> bool:
        """Bring the model and its ranking up to date with the label log; returns whether a model was fitted.

        Freezes the label state, fits a fresh learner on exactly those labels
        (or, with ``online=True``, teaches a copy only the new ones), scores it,
        ranks the open pool, and publishes all of it as one new
        :attr:`snapshot`. Does nothing when the snapshot is already current
        (unless ``rerank``). Runs one at a time; clicks never wait for it.
        Raises :class:`LabelingError` if the learner fails; the labels stay
        recorded and the previous model stays in place.
        """
        with self._update_lock, _learners.blas_threads(self.blas_threads):
            self.sync()
            with self._state_lock:
                labels = self._state.frozen()
                open_items = self._state.unlabeled()
            old = self._snapshot
            strategy = self._strategy
            n_rank = max(n or 1, self._rank_n if strategy.batch_aware else 1)
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
                score = self._score(learner, fitted)
                history = (*history, {
                    "n_labels": len(labels), "score": score, "strategy": strategy.name,
                    "seconds": time.perf_counter() - start, "event": _event_name(old.labels, labels),
                    "model_version": version,
                })
            try:
                ranking = self._rank(learner, fitted, open_items, strategy, n_rank, labels.seq)
            except Exception:
                self._snapshot = Snapshot(version, learner, fitted, labels, old.ranking, score, history, increments)
                raise
            self._snapshot = Snapshot(version, learner, fitted, labels, ranking, score, history, increments)
            if retrain and fitted:
                self._track_stability(learner, version, open_items)
            return retrain and fitted

    def _track_stability(self, learner, version: int, open_items: np.ndarray) -> None:
        """Feed the stopping signal the new model's predictions on the fixed stop set."""
        if self._stopper.stop_set is None:
            if not len(open_items):
                return
            self._stopper.choose_stop_set(open_items)
        self._stopper.update(learner, self._stopper.stop_rows(self.X_pool), version=version)

    def stopping(self) -> dict:
        """Whether more labels are likely to help: stabilizing predictions, with no held-out labels.

        After every new model, the predictions on a fixed stop set of pool items
        (drawn once, up to 2,000) are compared with the previous model's
        (Cohen's kappa; Lin's concordance for regressors). ``"stop"`` is True
        once the agreement has stayed at or above 0.99 for 3 updates in a row
        (Bloodgood & Vijay-Shanker, CoNLL 2009). Returns ``{"agreement",
        "window", "stop", "n_updates", "first_stop", "threshold",
        "stop_set_size"}``; see :class:`alwidgets.engine.stopping.StabilizingPredictions`.
        ``first_stop`` also says at how many labels the signal first fired
        (``"n_labels"``), which the learning curves mark.
        """
        status = self._stopper.status()
        first = status["first_stop"]
        if first is not None:
            fired = [h["n_labels"] for h in self._snapshot.history if h.get("model_version") == first["version"]]
            first["n_labels"] = fired[0] if fired else None
        return status

    def review(self, *, label=None, annotator=None, disagree_only: bool = False, cv: int = 5):
        """The labels given so far, those the model most disagrees with first (out-of-fold probability).

        One row per vote (an item labeled by two annotators has two rows),
        ranked by :func:`alwidgets.engine.review.rank_labels_table` with a clone of
        this session's model: ``cv`` fits on the other labels, so it belongs
        on a worker thread, not in a click. Filters keep the order.
        """
        import pandas as pd

        from alwidgets.engine.review import rank_labels_table

        if not self.is_classifier or self.multi_label:
            raise ValueError("review ranks single class labels by the model's probability; this session is a "
                             + ("multi-label one" if self.multi_label else "regression"))
        rows = [{"index": i, "label": y, "annotator": who} for i, votes in sorted(self.votes.items())
                for who, y in sorted(votes.items())]
        table = pd.DataFrame(rows, columns=["index", "label", "annotator"])
        return rank_labels_table(table, self.X_pool, self._template, label=label, annotator=annotator,
                                 disagree_only=disagree_only, cv=cv, random_state=self.random_state)

    def refit(self) -> bool:
        """Teach the learner every recorded label it has not seen (see :meth:`update`)."""
        return self.update()

    def teach(self, idx, label) -> None:
        """Record label(s) for pool index(es), then update the model.

        ``idx`` is one pool index or a list; ``label`` one label or a list of the
        same length. The label is stored first: if the learner then fails, it
        stays recorded and :class:`LabelingError` says so.
        """
        self.record(idx, label)
        self.update()

    def _train(self, old: Snapshot, labels: FrozenLabels):
        """``(learner, fitted, increments)`` for ``labels``: a fresh fit, or an online step from ``old``."""
        values = training.indicator_matrix(labels.values, self.classes) if self.multi_label else labels.values
        X, y = training.training_set(self._base_X, self._base_y, self.X_pool, labels.indices, values)
        if not self.online:
            learner, fitted = training.train(self._template, X, y, self.is_classifier)
            return learner, fitted, ()
        n_old = len(old.labels)
        if old.fitted and n_old < len(labels) and labels.items()[:n_old] == old.labels.items():
            learner = _learners.partially_fitted(old.learner, take_rows(self.X_pool, list(labels.indices[n_old:])),
                                                 np.asarray(labels.values[n_old:]), X, y, self.classes)
            return learner, True, (*old.increments, len(labels) - n_old)
        return self._replay(labels, old.increments, X, y)

    def _replay(self, labels: FrozenLabels, increments, X, y):
        """An online learner rebuilt from the label log, in the mini-batches it was first taught."""
        if self._base_X is not None:
            learner = _learners.fresh(self._template, self._base_X, self._base_y, fit=True)
        else:
            learner = _learners.fresh(self._template, None, None, fit=False)
        if not len(labels):
            return learner, self._base_X is not None, ()
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
        rest = strategies.top_n(candidate_scores, len(candidates))
        rest = rest[~np.isin(rest, chosen)]
        order = candidates[np.concatenate([chosen, rest]).astype(int)]
        return Ranking(order, scores, len(chosen), strategy.name, seq)

    def _score(self, learner, fitted: bool) -> float | None:
        if self.X_test is None or not fitted:
            return None
        return training.score(learner, self.X_test, self.y_test, self.is_classifier, self.scoring)

    def simulate(self, oracle, n_queries: int, batch_size: int = 1, progress: Callable | None = None) -> list[dict]:
        """Let an oracle answer ``n_queries`` queries; returns the history.

        ``oracle`` is an array of true labels for the pool (indexed by pool
        position) or a callable ``oracle(index) -> label``. ``progress``, if
        given, is called as ``progress(done, total)`` after each query.
        """
        n_queries = check_int(n_queries, "n_queries", minimum=0)
        batch_size = check_int(batch_size, "batch_size")
        if self.multi_label and not callable(oracle):  # an indicator matrix or label sets, one per pool item
            oracle = training.label_sets(oracle, self.classes)
        answer = as_oracle(oracle, self.n_pool)
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

    # ------------------------------------------------------------------ the shared store

    def sync(self) -> int:
        """Apply the events appended to the store since the last look (by anyone, in log order).

        Updates :attr:`labels` (majority votes) and what is still open; the
        model learns them at the next :meth:`update`. Returns how many events
        were applied.
        """
        new = self.store.events(since=self._state.seq)  # read outside the lock: applying is idempotent
        if not new:
            return 0
        with self._state_lock:
            before = self._state.seq
            self._state.apply(new)
            return sum(e.seq > before for e in new)

    def progress(self) -> dict:
        """How far the labeling of this pool has come, over all annotators: :func:`~alwidgets.engine.labelstate.pool_progress`.

        ``{"labeled": items with a training label (the majority of their
        votes; a tie is not labeled), "total": pool size, "complete": items
        with all the votes they need, "ties": items with all their votes and
        no majority, "per_annotator": {name: labels given}, "leased": items on
        an open page right now (live leases)}``. Call :meth:`sync` first for
        the latest. ``labeled`` is always :attr:`n_labeled`.
        """
        leases = self.store.leases(live_within=LIVE_SECONDS) if self._holds else self.store.leases()
        with self._state_lock:
            return pool_progress(self._state.tally, self._index_of, self.overlap, leases)

    def agreement(self):
        """Agreement between annotators on the items several of them labeled; see :func:`alwidgets.store.agreement.agreement`."""
        from alwidgets.store.agreement import agreement

        return agreement(self.store.events())

    def export(self, path, what: str = "labels", overwrite: bool = False):
        """Write the labels (or with ``what="events"`` the whole log) to a .csv, .json or .parquet file.

        Returns the path written. Each label row names the item by its id and
        its position in this pool (``index``). An existing file is replaced only
        with ``overwrite=True``; the store itself never is.
        """
        from alwidgets.store.export import export_events

        return export_events(self.store.events(), path, what=what, item_index=self._index_of, overwrite=overwrite,
                             store=self.store)

    def release(self) -> None:
        """Give back the items this Session was shown and has not answered (another page's stay with it)."""
        self.store.release(self.annotator, **self._holder_kw())

    def heartbeat(self) -> None:
        """Say that this Session's page is still open: its leases count as live (a dashboard's poll calls this)."""
        if self._holds:
            self.store.heartbeat(self.holder)

    def _holder_kw(self) -> dict:
        return {"holder": self.holder} if self._holds else {}

    def release_items(self, indices) -> None:
        """Give back the leases on pool items ``indices`` (shown, then replaced by a fresher pick)."""
        self.store.release(self.annotator, [self.item_ids[self.check_index(i, allow_labeled=True)] for i in indices])

    def close(self) -> None:
        """Release this annotator's leases, and close the store if the Session opened it."""
        self.release()
        if self._owns_store:
            self.store.close()

    # ------------------------------------------------------------------ validation

    def check_index(self, idx, allow_labeled: bool = False) -> int:
        """``idx`` as a pool index; an error if it is not one, or (unless allowed) if this annotator labeled it."""
        if isinstance(idx, (bool, np.bool_)) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"idx must be an integer pool index; got {idx!r}")
        idx = int(idx)
        if not 0 <= idx < self.n_pool:
            raise IndexError(f"idx {idx} is out of range for a pool of {self.n_pool} items (0 to {self.n_pool - 1})")
        if not allow_labeled:
            mine = self._state.mine.get(idx, _NOT_LABELED)
            if mine is not _NOT_LABELED:
                raise ValueError(
                    f"item {idx} is already labeled ({mine!r}) by {self.annotator!r}; use undo() to take a label back"
                )
        return idx

    def _check_online(self, online, learner) -> bool:
        if not isinstance(online, (bool, np.bool_)):
            raise TypeError(f"online must be True or False; got {online!r}")
        if not online:
            return False
        if self.multi_label:
            raise ValueError("online=True is not available with multi_label=True: use online=False")
        if not _learners.supports_partial_fit(learner):
            raise ValueError(
                "online=True teaches the model one mini-batch at a time with partial_fit, but "
                f"{type(_learners.members(learner)[0].estimator).__name__} has no partial_fit (or is a committee); "
                "use e.g. MLPClassifier or SGDClassifier(loss='log_loss'), or online=False"
            )
        if self.is_classifier and self.classes is None:
            raise ValueError("online=True needs every class up front (partial_fit does): pass classes=[...]")
        return True

    def _check_multi_label(self, multi_label, classes) -> bool:
        if not isinstance(multi_label, (bool, np.bool_)):
            raise TypeError(f"multi_label must be True or False; got {multi_label!r}")
        if not multi_label:
            return False
        if not self.is_classifier:
            raise ValueError("multi_label=True is for classifiers; this model is a regressor")
        if classes is None or len(classes) < 2:
            raise ValueError("multi_label=True needs the classes an item may take, at least two: pass "
                             "classes=[...], e.g. classes=['Positiv', 'Negativ', 'Strong']")
        return True

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

    def _check_labels(self, idx, label):
        many = np.ndim(idx) > 0
        indices = list(np.atleast_1d(idx)) if many else [idx]
        if many and self.multi_label:  # a list of label sets (np.ndim would choke on sets of unequal size)
            labels = list(label) if isinstance(label, (list, tuple)) else None
        elif many:
            labels = list(label) if np.ndim(label) > 0 else None
        if many and (labels is None or len(labels) != len(indices)):
            raise ValueError(f"label must be a list of {len(indices)} labels, one per index; got {label!r}")
        if not many:
            labels = [label]
        indices = [self.check_index(i) for i in indices]
        if len(set(indices)) != len(indices):
            raise ValueError(f"idx holds the same item more than once: {indices}")
        return indices, [self._check_label(y) for y in labels]

    def _check_suggested(self, suggested, n: int, many: bool) -> list:
        """One suggestion (or None) per labeled item, each a class of this session."""
        if suggested is None:
            return [None] * n
        values = list(suggested) if many else [suggested]
        if len(values) != n:
            raise ValueError(f"suggested must hold one suggestion (or None) per item ({n}); got {suggested!r}")
        checked = []
        for g in values:
            try:
                checked.append(None if g is None else self._check_label(g))
            except (TypeError, ValueError) as error:
                raise type(error)(f"suggested {g!r} is not a label this session can hold: {error}") from None
        return checked

    def _check_label(self, y):
        if self.multi_label:
            return check_label_set(y, self.classes)  # every member one of the classes; the empty set is allowed
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
            f"learner={type(self.learner).__name__}, model version {self.model_version})"
        )


_NOT_LABELED = object()


def _event_name(old: FrozenLabels, new: FrozenLabels) -> str:
    """What changed the labels between two fits: new labels ("teach") or anything else ("undo")."""
    return "teach" if new.items()[: len(old)] == old.items() else "undo"


def _one_per_row(values) -> np.ndarray:
    """A 1-D object array holding each of ``values`` as it is (numpy would split equal-sized lists into columns)."""
    values = list(values)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def _default_strategy(learner, multi_label: bool = False) -> str:
    if multi_label:
        usable = strategies.available(learner, multi_label=True)
        return next((n for n in strategies.MULTI_LABEL_DEFAULTS if n in usable), "random")
    for name in ("margin", "max_std"):
        if strategies.get(name).problem(learner) is None:
            return name
    return "random"


STOPPING_OPTIONS = ("threshold", "window", "stop_set_size")


def _check_stopping(stopping) -> dict:
    """The stop signal's options a Session may set; anything else is named in a TypeError."""
    if stopping is None:
        return {}
    if not isinstance(stopping, dict):
        raise TypeError(f"stopping must be a dict of {', '.join(STOPPING_OPTIONS)}; got {type(stopping).__name__}")
    unknown = sorted(set(stopping) - set(STOPPING_OPTIONS))
    if unknown:
        raise TypeError(f"stopping takes {', '.join(STOPPING_OPTIONS)}; got {', '.join(map(repr, unknown))}")
    return dict(stopping)


def _check_scoring(scoring):
    if scoring is None or callable(scoring):
        return scoring
    if isinstance(scoring, str):
        get_scorer(scoring)  # an unknown name fails here, naming the known ones
        return scoring
    raise TypeError(f"scoring must be a scorer name (e.g. 'f1_macro') or a callable; got {scoring!r}")
