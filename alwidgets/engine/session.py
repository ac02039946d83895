"""The active-learning loop: a pool, the labels given so far, the next query.

A :class:`Session` is a facade over three owners, each the one writer of its state:

- :class:`~alwidgets.engine.label_book.LabelBook` (``session.book``): the label
  log in the store (labels, relabels, skips, undo) and the label state it adds
  up to. A click is one store transaction and a dictionary update.
- :class:`~alwidgets.engine.lease_client.LeaseClient` (``session.leases``): the
  items this page is showing, leased in the store.
- :class:`~alwidgets.engine.trainer.Trainer` (``session.trainer``): the model.
  Only :meth:`Session.update` makes one: it freezes the labels, fits a fresh
  clone on exactly those, ranks the pool and publishes an immutable
  :class:`~alwidgets.engine.snapshot.Snapshot` with one assignment.

So a click never waits for a fit, a ranking or a draw, and readers take
``session.snapshot`` once and read it without a lock. It imports no widget
code: widgets are views over it. Nor does it import scikit-learn, modAL or the
strategies until a model needs them: a page that follows a campaign service
with a :class:`~alwidgets.engine.following.ServiceModel` never does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alwidgets import _learners
from alwidgets._validation import check_bool, check_int
from alwidgets.engine import pool, training
from alwidgets.engine.following import FollowingTrainer, ServiceModel, learner_of, publishes_a_model
from alwidgets.engine.label_book import Change, LabelBook
from alwidgets.engine.lease_client import LeaseClient
from alwidgets.engine.snapshot import Ranking, Snapshot
from alwidgets.engine.trainer import (
    LabelingError,
    Trainer,
    check_online,
    check_scoring,
    check_stopping,
    default_strategy,
)
from alwidgets.store import DEFAULT_LEASE_TIMEOUT, LIVE_SECONDS, open_store

__all__ = ["Session", "LabelingError", "Snapshot", "Ranking", "Change"]


class Session:
    """An active-learning session over a pool of unlabeled items.

    Parameters
    ----------
    model : estimator, modAL learner or ServiceModel
        A scikit-learn classifier or regressor (wrapped in ``ActiveLearner``),
        or a modAL ``ActiveLearner``, ``BayesianOptimizer``, ``Committee`` or
        ``CommitteeRegressor``, which keeps any training data it already has.
        It is never refitted in place: each update fits a fresh clone, so the
        object passed stays untaught however many labels are given. The taught
        one is :attr:`learner` (``session.learner``): the latest clone, fitted
        on that training data and the labels; use it, or keep a
        ``copy.deepcopy(session.learner)``. A page
        of a team campaign passes a :class:`~alwidgets.engine.following.ServiceModel`:
        with a campaign service as ``store`` the model is the service's, and
        this Session neither builds nor checks one (nor ``strategy``,
        ``online``, ``warm_start``: the service's), nor scans the pool's values;
        with another store it is built and used as an estimator would be.
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
        A store bound to a campaign of other ``classes`` than the ones given is
        refused with a StoreError naming both (its labels would be misread).
    random_state : int, RandomState or None
        Seeds cold-start picks, candidate subsamples and random strategies.
    classes : sequence, optional
        The allowed labels of a classifier. Defaults to the classes of
        ``y_test`` or of the learner's existing training data, if any.
    scoring : str or callable, optional
        A scikit-learn scorer name or ``scorer(estimator, X, y)``. Default:
        accuracy for classifiers, R² for regressors.
    annotator : str, default="local"
        Who gives the labels; written with every event. With a campaign
        service as ``store`` (:class:`alwidgets.store.remote.ServiceStore`),
        the service names the annotator from the credentials it is given,
        and this is ignored; the service also trains, and this Session only
        follows its model (:class:`alwidgets.engine.following.FollowingTrainer`).
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
        BLAS threads while the learner refits and ranks: small refits run 5x
        faster on one thread (measured on 2 cores); None leaves BLAS alone.
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
    warm_start : bool, default=False
        Start each refit from the last model's solution. Each refit still
        clones the model and fits it on every label; with ``warm_start=True``,
        when the previous snapshot's learner is fitted on the same classes and
        its estimator has ``coef_`` and ``intercept_`` and a ``warm_start``
        parameter (LogisticRegression, SGDClassifier...), the clone gets
        ``warm_start=True`` and starts from copies of them. The published
        learner is never changed. For a strictly convex loss (a regularized
        LogisticRegression) the fit heads for the same optimum in fewer solver
        iterations. No effect on committees, on other estimators, or with
        ``online=True`` (which does not refit).
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

    The work is done by three owners: :attr:`book` (labels), :attr:`leases`
    (what is shown) and :attr:`trainer` (the model).
    """

    def __init__(self, model, X_pool, strategy=None, X_test=None, y_test=None, store=None, random_state=None, *,
                 classes=None, scoring=None, annotator: str = "local", item_ids=None, overlap: int = 1,
                 lease_timeout: float = DEFAULT_LEASE_TIMEOUT, refresh_every: int = 10, blas_threads: int | None = 1,
                 candidates: int | None = None, online: bool = False, warm_start: bool = False,
                 multi_label: bool = False, stopping: dict | None = None):
        follows = publishes_a_model(store)  # a campaign service: its trainer fits and ranks, this Session follows
        if isinstance(model, ServiceModel) and not follows:
            model = model.learner()  # nothing to follow: this Session trains the model itself
        lazy = isinstance(model, ServiceModel)  # the service's model, never built unless a feature fits here
        self.X_pool = pool.check_pool(X_pool, check_values=not lazy)
        self.n_pool = self.X_pool.shape[0] if hasattr(self.X_pool, "shape") else len(self.X_pool)
        learner = model if lazy else _learners.wrap(model)
        self.is_classifier = model.is_classifier if lazy else _learners.learner_is_classifier(learner)
        if multi_label is True and y_test is not None and not isinstance(y_test, np.ndarray):
            y_test = pool.one_per_row(y_test)  # label sets of unequal sizes: one object per test item
        self.X_test, self.y_test = pool.check_test(X_test, y_test)
        self.multi_label = pool.check_multi_label(multi_label, classes, self.is_classifier)
        base_y = None if lazy else _learners.training_data(learner)[1]
        self.classes = pool.known_classes(classes, self.is_classifier, self.y_test, base_y)
        if self.multi_label:
            self.y_test = None if self.y_test is None else training.indicator_matrix(self.y_test, self.classes)
            scoring = "f1_micro" if scoring is None else scoring
        self.scoring = check_scoring(scoring)
        self.annotator = pool.check_annotator(annotator)
        self.overlap = check_int(overlap, "overlap")
        self.lease_timeout = pool.check_seconds(lease_timeout, "lease_timeout")
        self.refresh_every = check_int(refresh_every, "refresh_every")
        self.blas_threads = None if blas_threads is None else check_int(blas_threads, "blas_threads")
        self.candidates = None if candidates is None else check_int(candidates, "candidates")
        self.online = check_bool(online, "online") if lazy else check_online(
            online, learner, multi_label=self.multi_label, is_classifier=self.is_classifier, classes=self.classes)
        self.warm_start = check_bool(warm_start, "warm_start")
        stopping = check_stopping(stopping)
        self.random_state = random_state
        chosen = None
        if not lazy:
            from alwidgets import strategies

            chosen = strategies.get(default_strategy(learner, self.multi_label) if strategy is None else strategy)
            chosen.check(learner, multi_label=self.multi_label)
        self.item_ids = pool.check_item_ids(item_ids, self.X_pool, self.n_pool)
        self._named_items = item_ids is not None  # else the ids are content hashes: pages name the index

        self._owns_store = store is not None and not hasattr(store, "append_many")
        self.store = open_store(store, classes=classes)  # a store bound to other classes is refused, as by serve
        if callable(getattr(self.store, "whoami", None)):  # a campaign service names the annotator, not the page
            self.annotator = self.store.whoami()
        self.book = LabelBook(self.store, self.item_ids, self.annotator, self.overlap,
                              is_classifier=self.is_classifier, classes=self.classes, multi_label=self.multi_label)
        self._index_of = self.book.index_of
        self.leases = LeaseClient(self.store, self.book, lease_timeout=self.lease_timeout)
        self.holder = self.leases.holder  # names this Session's leases: a closing page gives back its own
        if lazy or publishes_a_model(self.store):  # a page of a team campaign: the service trains, this page follows
            self.trainer = FollowingTrainer(self.store, learner, self.item_ids, self.book.freeze)
        else:
            self.trainer = Trainer(learner, self.X_pool, self.book.freeze, chosen, is_classifier=self.is_classifier,
                                   classes=self.classes, multi_label=self.multi_label, online=self.online,
                                   warm_start=self.warm_start, X_test=self.X_test, y_test=self.y_test, scoring=self.scoring,
                                   candidates=self.candidates, blas_threads=self.blas_threads,
                                   random_state=random_state, stopping=stopping)
        self.update()  # picks up labels already in the store, and makes the first ranking

    # ------------------------------------------------------------------ reading

    @property
    def snapshot(self) -> Snapshot:
        """The latest model: version, fitted learner, its labels, ranking, score and history. Immutable."""
        return self.trainer.snapshot

    @property
    def learner(self):
        """The latest fitted learner (read it, don't change it: plots and other threads share it).

        A page that follows a campaign service holds the service's model unfitted; a
        :class:`~alwidgets.engine.following.ServiceModel` is built here (see :meth:`ServiceModel.learner
        <alwidgets.engine.following.ServiceModel.learner>`).
        """
        return learner_of(self.snapshot.learner)

    @property
    def model_version(self) -> int:
        return self.snapshot.version

    @property
    def history(self) -> list[dict]:
        """One entry per fit: ``n_labels``, ``score``, ``strategy``, ``seconds``, ``event``, ``model_version``.

        Fresh dicts: changing one changes nothing in :attr:`snapshot`.
        """
        return [dict(row) for row in self.snapshot.history]

    @property
    def is_fitted(self) -> bool:
        """Whether the latest model is fitted and its strategy can rank the pool."""
        return self.snapshot.fitted

    def score(self) -> float | None:
        """The held-out score of the latest model, or None without a test set or fit."""
        return self.snapshot.score

    def training_data(self):
        """``(X, y)`` the latest model was trained on: the learner's own data, then the labels; or ``(None, None)``."""
        return _learners.training_data(self.learner)

    @property
    def strategy(self) -> str:
        """The name of the current strategy; assign a name to switch (served by the next update)."""
        return self.trainer.strategy.name

    @strategy.setter
    def strategy(self, name) -> None:
        from alwidgets import strategies

        new = strategies.get(name)
        new.check(self.trainer.template, multi_label=self.multi_label)
        self.trainer.strategy = new

    @property
    def labels(self) -> dict[int, object]:
        """``{pool index: label}`` of every decided item (the majority vote), as recorded."""
        return self.book.labels

    @property
    def n_labeled(self) -> int:
        return self.book.n_labeled

    @property
    def skipped(self) -> set[int]:
        """Items this annotator set aside."""
        return self.book.skipped

    @property
    def unlabeled(self) -> np.ndarray:
        """Pool indices this annotator may still be asked: not answered by enough people, nor by them, nor skipped."""
        return self.book.unlabeled()

    @property
    def my_labels(self) -> dict[int, object]:
        """``{pool index: label}`` given by this session's annotator (their votes, not the majority)."""
        return self.book.mine

    @property
    def votes(self) -> dict[int, dict[str, object]]:
        """``{pool index: {annotator: label}}`` for every item someone has labeled."""
        return self.book.votes()

    def labels_given(self) -> list[dict]:
        """Every current vote as ``{"index", "label", "annotator"}``, the most recently given first (a copy)."""
        return [{"index": i, "label": label, "annotator": who} for i, who, label in self.book.votes_newest_first()]

    @property
    def is_current(self) -> bool:
        """Whether the latest model knows every recorded label and ranks with the current strategy."""
        return self.trainer.is_current(self.book.frozen())

    # ------------------------------------------------------------------ querying

    def query(self, n: int = 1, refresh: bool = True) -> list[int]:
        """Pool indices to label next, most wanted first, leased to this annotator.

        Never an item already labeled or skipped. With ``refresh=True`` other
        annotators' labels are pulled first, and the model updated when its
        ranking is missing, for another strategy, or ``refresh_every`` of those
        labels arrived; ``refresh=False`` never fits or ranks (a click's path).
        Other sessions are not given what is returned (beyond ``overlap``) until
        it is answered, skipped, or ``lease_timeout`` passes.
        """
        n = check_int(n, "n")
        self.trainer.ask(n)
        if refresh:
            self.sync()
            if self.trainer.stale(n, self.book.others, self.refresh_every):
                self.update(n)

        def rerank():
            self.update(n, rerank=True)
            return self.snapshot.ranking

        return self.leases.query(self.snapshot.ranking, n, rerank if refresh else None)

    def peek(self, n: int = 1) -> list[int]:
        """The items the latest ranking asks next, without leasing them (what a plot marks)."""
        return self.leases.peek(self.snapshot.ranking, n)

    def item_name(self, idx) -> str:
        """The name a person finds item ``idx`` by: its id, as in the store and the export ("mnist-907").

        A Session given no ``item_ids`` names its items by pool index ("22"):
        their ids are then hashes of the rows' content, which nobody reads.
        """
        idx = self.check_index(idx, allow_labeled=True)
        return self.item_ids[idx] if self._named_items else str(idx)

    def why(self, idx: int) -> dict:
        """Why ``idx`` was asked: its strategy score and, for classifiers, the top two classes (all, multi-label)."""
        return self.trainer.why(self.check_index(idx, allow_labeled=True))

    def suggestion(self, idx) -> tuple[object, float] | None:
        """The latest model's guess for item ``idx`` and its probability, or None before a classifier is fitted.

        One row's prediction, cheap enough for a click: a widget shows it and
        passes it to :meth:`record` as ``suggested``.
        """
        return self.trainer.suggestion(self.check_index(idx, allow_labeled=True))

    # ------------------------------------------------------------------ labeling (the click path)

    def _stamp(self) -> dict:
        return {"strategy": self.strategy, "model_version": self.snapshot.version}

    def record(self, idx, label, suggested=None) -> Change:
        """Store label(s) for pool index(es) without refitting: the fast half of :meth:`teach`.

        ``suggested``: the model's guess shown on screen, per index (None: none), kept so exports tell accepted
        guesses from overridden ones. Returns the :class:`Change`: one call, however many items, is one :meth:`undo`.
        """
        return self.book.record(idx, label, suggested, **self._stamp())

    def relabel(self, idx, label, suggested=None) -> Change:
        """Change this annotator's own label of ``idx``: a retraction and the new label, in one transaction.

        The log keeps both; :meth:`undo` right after gives the old label back. Returns the :class:`Change`.
        """
        return self.book.relabel(idx, label, suggested, **self._stamp())

    def skip(self, idx) -> None:
        """Set an item aside: it is not asked again (until it is labeled explicitly)."""
        self.book.skip(idx, strategy=self.strategy)

    def undo(self, refit: bool = True) -> Change | None:
        """Take back the last :meth:`record` (a whole batch) or :meth:`relabel`; the model forgets it.

        One store transaction (:meth:`LabelBook.undo <alwidgets.engine.label_book.LabelBook.undo>`); the items
        are kept for this annotator to label again. With ``refit=False`` the model forgets at the next
        :meth:`update`. Returns the :class:`Change` taken back, or None.
        """
        change = self.book.undo(**self._stamp())
        if change is None:
            return None
        if not change.relabel:
            self.leases.hold(change.items)
        if refit:
            self.update()
        return change

    @property
    def last_change(self) -> Change | None:
        """The :class:`Change` :meth:`undo` would take back now, or None."""
        return self.book.last_change

    def teach(self, idx, label) -> None:
        """Record label(s), then update the model (a failing learner raises :class:`LabelingError`; labels stay)."""
        self.record(idx, label)
        self.update()

    # ------------------------------------------------------------------ the model (the worker's half)

    def update(self, n: int | None = None, rerank: bool = False) -> bool:
        """Bring the model and its ranking up to date with the label log; returns whether a model was fitted.

        One at a time, and clicks never wait for it. Raises :class:`LabelingError`
        if the learner fails: the labels stay recorded and the previous model stays.
        """
        return self.trainer.update(n, rerank)

    def stopping(self) -> dict:
        """Whether more labels are likely to help, with no held-out labels: see :meth:`Trainer.stopping
        <alwidgets.engine.trainer.Trainer.stopping>`."""
        return self.trainer.stopping()

    def review(self, *, label=None, annotator=None, disagree_only: bool = False, cv: int = 5):
        """The votes given so far, those the model most disagrees with first: ``cv`` fits, for a worker thread.

        See :func:`alwidgets.engine.review.rank_labels_table`.
        """
        from alwidgets.engine.review import rank_votes

        if not self.is_classifier or self.multi_label:
            raise ValueError("review ranks single class labels by the model's probability; this session is a "
                             + ("multi-label one" if self.multi_label else "regression"))
        return rank_votes(self.votes, self.X_pool, self.trainer.template, label=label, annotator=annotator,
                          disagree_only=disagree_only, cv=cv, random_state=self.random_state)

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
        answer = pool.as_oracle(oracle, self.n_pool)
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
        """Apply the store's new events (anyone's, in log order); the model learns them at the next :meth:`update`."""
        return self.book.sync()

    def progress(self) -> dict:
        """How far this pool's labeling has come, over all annotators: :func:`~alwidgets.engine.labelstate.pool_progress`.

        ``leased`` counts live leases (pages open now). Call :meth:`sync` first for the latest.
        """
        return self.book.progress(self.leases.live(LIVE_SECONDS))

    def agreement(self):
        """Agreement between annotators on the items several of them labeled; see :func:`alwidgets.store.agreement.agreement`."""
        from alwidgets.store.agreement import agreement

        return agreement(self.store.events())

    def export(self, path, what: str = "labels", overwrite: bool = False):
        """Write the labels (``what="events"``: the whole log) to a .csv, .json or .parquet file; returns its path."""
        from alwidgets.store.export import export_events

        return export_events(self.store.events(), path, what=what, item_index=self._index_of, overwrite=overwrite,
                             store=self.store)

    def release(self) -> None:
        """Give back the items this Session was shown and has not answered (another page's stay with it)."""
        self.leases.release()

    def heartbeat(self) -> None:
        """Say that this Session's page is still open: its leases count as live (a dashboard's poll calls this)."""
        self.leases.heartbeat()

    def release_items(self, indices) -> None:
        """Give back the leases on pool items ``indices`` (shown, then replaced by a fresher pick)."""
        self.leases.release_items(indices)

    def close(self) -> None:
        """Release this annotator's leases, and close the store if the Session opened it."""
        self.release()
        if self._owns_store:
            self.store.close()

    def check_index(self, idx, allow_labeled: bool = False) -> int:
        """``idx`` as a pool index; an error if it is not one, or (unless allowed) if this annotator labeled it."""
        return self.book.check_index(idx, allow_labeled)

    def __repr__(self) -> str:
        return (
            f"Session({self.n_labeled}/{self.n_pool} labeled, strategy={self.strategy!r}, "
            f"learner={type(self.snapshot.learner).__name__}, model version {self.model_version})"
        )
