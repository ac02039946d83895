"""A trainer that runs elsewhere: a page of a team campaign follows the model its campaign service publishes.

When a Session's store is a campaign service (:class:`alwidgets.store.remote.ServiceStore`),
the Session gets a :class:`FollowingTrainer` instead of a
:class:`~alwidgets.engine.trainer.Trainer`: it offers the same reading side
(snapshot, ranking, why, suggestion, stop signal), but an "update" fetches the
service's latest model instead of fitting one. So no annotator's kernel trains,
and every page ranks from the campaign's one model.

Such a page needs no estimator either: given a :class:`ServiceModel` (what a
campaign's page passes) in place of one, the Session imports neither
scikit-learn nor modAL, and builds the estimator only if a feature that fits on
the page asks for it (the "Labeled" view's review).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from alwidgets.engine.labelstate import FrozenLabels
from alwidgets.engine.snapshot import NO_LABELS, Ranking, Snapshot

__all__ = ["FollowingTrainer", "ServiceModel", "publishes_a_model"]


def publishes_a_model(store) -> bool:
    """Whether ``store`` is a campaign service whose trainer publishes the campaign's model."""
    return callable(getattr(store, "published_model", None)) and callable(getattr(store, "suggestions", None))


class ServiceModel:
    """The model of a campaign whose service trains it, as a page that follows the service holds it.

    A :class:`~alwidgets.engine.session.Session` takes it in place of an
    estimator. With a store that publishes a model (a campaign service), the
    page ranks and suggests from the service's model and never builds this
    one, so it imports neither scikit-learn nor modAL; :meth:`learner` builds
    it the first time a feature that fits on the page needs it (the "Labeled"
    view's review, a strategy menu). With any other store there is nothing
    to follow, and the Session builds it at once and trains it as usual.

    Parameters
    ----------
    build : callable
        ``build() -> model``: a scikit-learn estimator or a modAL learner, the campaign's model.
    is_classifier : bool, default=True
        What the model is (said here so that the page need not build it to know).
    name : str, optional
        What the model is called, for messages.
    """

    def __init__(self, build: Callable[[], object], *, is_classifier: bool = True, name: str = "the campaign's model"):
        if not callable(build):
            raise TypeError(f"build must be a callable that returns the model; got {type(build).__name__}")
        self._build = build
        self.is_classifier = bool(is_classifier)
        self.name = name
        self._learner = None
        self._lock = threading.Lock()

    def learner(self):
        """The model as a modAL learner, built on first call (imports scikit-learn and modAL); never fitted here."""
        with self._lock:
            if self._learner is None:
                from alwidgets import _learners

                self._learner = _learners.wrap(self._build())
            return self._learner

    @property
    def built(self) -> bool:
        """Whether :meth:`learner` has built the model."""
        return self._learner is not None

    def __repr__(self) -> str:
        return f"ServiceModel({self.name}{', built' if self.built else ''})"


def learner_of(model):
    """``model``'s learner: a :class:`ServiceModel` built (see :meth:`ServiceModel.learner`), anything else as it is."""
    return model.learner() if isinstance(model, ServiceModel) else model


class _Named:
    """What a page knows of the service's strategy: its name (the service chooses and runs it)."""

    batch_aware = False

    def __init__(self, name: str):
        self.name = name


class FollowingTrainer:
    """The campaign service's model, as the Session's trainer: read it, never fit it.

    Parameters
    ----------
    store : ServiceStore
        The campaign service.
    template : modAL learner or ServiceModel
        The page's copy of the campaign's model, never fitted here (the
        "Labeled" review fits its own clones of it, on demand). A
        :class:`ServiceModel` is built only then (:attr:`template`); until
        then the snapshots hold it unbuilt.
    item_ids : list of str
        The page's pool, by position.
    labels : callable
        ``labels() -> (FrozenLabels, open indices)``: the page's label book.
    """

    def __init__(self, store, template, item_ids: list[str], labels: Callable):
        self.store = store
        self.model = template
        self._item_ids = list(item_ids)
        self._index_of = {item: i for i, item in enumerate(self._item_ids)}
        self._labels = labels
        self.n_pool = len(self._item_ids)
        self.rank_n = 1
        self.strategy = _Named("")
        self._lock = threading.Lock()  # one fetch at a time
        self._snapshot = Snapshot(0, self.model, False, NO_LABELS, None, None)
        self._stopping: dict = {}
        self._guesses: dict[int, tuple] = {}
        self._guesses_version = -1

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def template(self):
        """The campaign's model as a modAL learner, unfitted (a :class:`ServiceModel` is built here, once)."""
        return learner_of(self.model)

    def ask(self, n: int) -> None:
        """The service chooses batches: nothing to note here."""

    def stale(self, n: int, others: int, refresh_every: int) -> bool:
        snapshot = self._snapshot
        return snapshot.ranking is None or others - snapshot.labels.others >= refresh_every

    def is_current(self, frozen: FrozenLabels) -> bool:
        """Whether the published model has seen every label this page knows of."""
        return self._snapshot.ranking is not None and self._snapshot.labels.seq >= frozen.seq

    def update(self, n: int | None = None, rerank: bool = False) -> bool:
        """Fetch the service's latest model; returns whether it is a newer model than the one held."""
        with self._lock:
            labels, _ = self._labels()
            old = self._snapshot
            known = None if rerank or old.ranking is None else (old.version, old.labels.seq)
            published = self.store.published_model(known=known)
            if published is None:  # the same model and ranking as before
                return False
            index = self._index_of
            ranked = [index[item] for item in published.ranking if item in index]
            scores = np.full(self.n_pool, np.nan)
            for item, score in zip(published.ranking, published.scores, strict=True):
                if item in index and score is not None:
                    scores[index[item]] = score
            taught = [(index[item], value) for item, value in published.labels if item in index]
            model_labels = FrozenLabels(published.label_seq, tuple(i for i, _ in taught),
                                        tuple(v for _, v in taught), labels.others)
            ranking = Ranking(np.asarray(ranked, dtype=int), scores, published.n_chosen, published.strategy,
                              published.label_seq)
            self.strategy = _Named(published.strategy)
            self._guesses = {index[item]: top for item, top in published.guesses.items() if item in index}
            self._guesses_version = published.version
            self._stopping = published.stopping
            self._snapshot = Snapshot(published.version, self.model, published.fitted, model_labels, ranking,
                                      published.score, published.history, stopping=published.stopping)
            return published.version > old.version

    def _guesses_for(self, idx: int) -> list:
        """The service's top classes for ``idx`` (asked once per model version and item)."""
        snapshot = self._snapshot
        if self._guesses_version != snapshot.version:
            self._guesses, self._guesses_version = {}, snapshot.version
        if idx not in self._guesses:
            item = self._item_ids[idx]
            self._guesses[idx] = self.store.suggestions([item]).get(item, [])
        return self._guesses[idx]

    def why(self, idx: int) -> dict:
        snapshot = self._snapshot
        ranking = snapshot.ranking
        score = float(ranking.scores[idx]) if ranking is not None else float("nan")
        top = self._guesses_for(idx) if snapshot.fitted else []
        return {"strategy": self.strategy.name, "score": score, "top_classes": [tuple(g) for g in top],
                "model_version": snapshot.version}

    def suggestion(self, idx: int) -> tuple[object, float] | None:
        if not self._snapshot.fitted:
            return None
        top = self._guesses_for(idx)
        return tuple(top[0]) if top else None

    def stopping(self) -> dict:
        status = dict(self._stopping or {})
        if "window" in status:
            status["window"] = list(status["window"])
        if status.get("first_stop") is not None:
            status["first_stop"] = dict(status["first_stop"])
        return status
