"""Strategies racing on the same pool: the engine of classroom mode.

A :class:`Comparison` gives every strategy its own :class:`~alwidgets.Session`
over one pool, starting from the same initial labels, and lets a simulated
oracle answer their queries from the true labels ``y``. Each :meth:`~Comparison.step`
answers one query (or one mini-batch) per strategy, so the learning curves grow
side by side and can be compared label for label. ``random`` always runs as the
reference: :func:`labels_saved` says how many labels each strategy needed to
reach a target score, against how many ``random`` needed.

The oracle can lie: a fraction ``oracle_noise`` of its answers is flipped to a
wrong class (for a regressor, replaced by another item's value). Which items
are answered wrongly is drawn once from ``random_state``, so two runs with the
same seed give the same result, and two strategies that ask the same item get
the same answer.

A person can race too: :meth:`Comparison.add_you` adds a ``"you"`` lane whose
items are the person's own picks (:meth:`Comparison.pick`), on the same budget.

This module imports no widget code; :class:`alwidgets.StrategyComparison` is the view.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Sequence

import numpy as np
from modAL.models.base import BaseCommittee, BaseLearner
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import check_random_state

from alwidgets import strategies as _strategies
from alwidgets._learners import blas_threads as limit_blas_threads
from alwidgets._learners import make_committee, wrap
from alwidgets._validation import InvalidParameterError, check_int
from alwidgets.engine import training
from alwidgets.engine.session import Session
from alwidgets.experiments._race_checks import YOU, check_strategies, check_X, check_y
from alwidgets.experiments.curves import REFERENCE, LabelsSaved, history_points, labels_saved

__all__ = ["Comparison", "LabelsSaved", "labels_saved", "REFERENCE", "YOU"]



# ---------------------------------------------------------------------- the race


def _lane_seed(base: int, name: str) -> int:
    """A seed per lane that depends on the race's seed and the lane's name only.

    Adding or removing a strategy then leaves the other lanes' runs unchanged.
    """
    return (base + zlib.crc32(name.encode())) % (2**31 - 1)


class Comparison:
    """Several query strategies racing on the same pool with a simulated oracle.

    Parameters
    ----------
    model : scikit-learn estimator
        Cloned once per strategy (committee strategies get
        ``alw.make_committee(model, n_members)``).
    X : array-like of shape (n_items, n_features)
        The pool.
    y : array-like of shape (n_items,)
        The true labels; the oracle answers from them.
    strategies : sequence of str, optional
        2 to 6 strategy names. ``"random"`` is the reference and is added in
        front when missing (so at most 5 others). Default: random,
        least_confident, margin and entropy for a classifier; random and
        max_std for a regressor.
    X_test, y_test : array-like, optional
        Held-out set for the learning curves. Default: the whole pool with its
        true labels.
    n_initial : int, optional
        Labels every strategy starts with (the same items for all), drawn at
        random with one item per class first. Default: one per class for a
        classifier, 2 for a regressor.
    random_state : int or None
        Seeds the initial labels, the oracle's mistakes, the random strategy
        and the committees: the same seed gives the same race.
    budget : int, default=50
        Labels each strategy may ask for beyond the initial ones.
    batch_size : int, default=1
        Labels asked per strategy per step (a mini-batch).
    oracle_noise : float, default=0.0
        Fraction of answers flipped to a wrong class, in [0, 1].
    n_members : int, default=5
        Committee size for committee strategies.
    scoring : str or callable, optional
        Passed to every Session.
    blas_threads : int or None, default=1
        BLAS threads while a step fits its small models: one is much faster
        for small problems on a busy machine; None leaves the setting alone.
    """

    def __init__(
        self,
        model,
        X,
        y,
        strategies: Sequence[str] | None = None,
        X_test=None,
        y_test=None,
        n_initial: int | None = None,
        random_state=None,
        budget: int = 50,
        batch_size: int = 1,
        oracle_noise: float = 0.0,
        n_members: int = 5,
        scoring=None,
        blas_threads: int | None = 1,
    ):
        if isinstance(model, (BaseLearner, BaseCommittee)):
            raise InvalidParameterError(
                f"model must be a plain scikit-learn estimator, not a modAL learner ({type(model).__name__}): "
                "each strategy races with its own clone, and committees are built for the strategies that need "
                "one. Pass e.g. LogisticRegression()"
            )
        if not (hasattr(model, "fit") and hasattr(model, "get_params")):
            raise InvalidParameterError(
                "model must be a scikit-learn estimator (each strategy races with its own clone); "
                f"got {type(model).__name__}. Pass e.g. LogisticRegression(), not a modAL learner"
            )
        if not (is_classifier(model) or is_regressor(model)):
            raise InvalidParameterError(
                f"model must be a scikit-learn classifier or regressor; got {type(model).__name__}")
        self._settings = dict(
            model=model, X=X, y=y, strategies=strategies, X_test=X_test, y_test=y_test, n_initial=n_initial,
            random_state=random_state, budget=budget, batch_size=batch_size, oracle_noise=oracle_noise,
            n_members=n_members, scoring=scoring, blas_threads=blas_threads,
        )
        self.model = model
        self.is_classifier = bool(is_classifier(model))
        self.X = check_X(X)
        self.n_pool = self.X.shape[0] if hasattr(self.X, "shape") else len(self.X)
        self.y = check_y(y, self.n_pool, self.is_classifier)
        self.classes = np.unique(self.y) if self.is_classifier else None
        if self.is_classifier and len(self.classes) < 2:
            raise ValueError(f"y holds a single class ({self.classes[0]!r}); a classifier needs at least two")
        self.strategy_names = check_strategies(strategies, self.is_classifier)
        if (X_test is None) != (y_test is None):
            raise ValueError("X_test and y_test go together: give both, or neither to score on the whole pool")
        self.X_test = self.X if X_test is None else X_test
        self.y_test = self.y if y_test is None else np.asarray(y_test)
        self.n_initial = self._check_n_initial(n_initial)
        self.budget = budget
        self.batch_size = batch_size
        self.oracle_noise = oracle_noise
        self.n_members = check_int(n_members, "n_members", 2)
        self.scoring = scoring
        self.random_state = random_state
        self.blas_threads = None if blas_threads is None else check_int(blas_threads, "blas_threads", 1)

        rng = check_random_state(random_state)
        self._base_seed = int(rng.randint(0, 2**31 - 1))
        self.initial = self._draw_initial(rng)
        self._flip_rank, self._wrong = self._draw_mistakes(rng)
        self._you_rng = check_random_state(_lane_seed(self._base_seed, YOU))
        self._candidates: list[int] = []

        self.sessions: dict[str, Session] = {}
        for name in self.strategy_names:
            self.sessions[name] = self._new_session(name, name)  # validates strategy vs model before any fit
        self.wrong_answers = dict.fromkeys(self.sessions, 0)
        self.step_seconds: dict[str, list[float]] = {name: [] for name in self.sessions}
        self.n_steps = 0
        self._lock = threading.RLock()  # the strategies' lanes
        self._you_lock = threading.RLock()  # the person's lane, so a pick never waits for a step
        with limit_blas_threads(self.blas_threads):
            for session in self.sessions.values():
                session.teach(self.initial, [self.y[i] for i in self.initial])

    # ------------------------------------------------------------------ settings

    @property
    def budget(self) -> int:
        """Labels each strategy may ask beyond the initial ones; can be raised during a race."""
        return self._budget

    @budget.setter
    def budget(self, value: int) -> None:
        value = check_int(value, "budget", 1)
        room = self.n_pool - self.n_initial
        if value > room:
            raise InvalidParameterError(
                f"budget {value} is larger than the unlabeled pool ({room} items after {self.n_initial} initial labels)"
            )
        self._budget = value

    @property
    def batch_size(self) -> int:
        """Labels each strategy asks per step."""
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self._batch_size = check_int(value, "batch_size", 1)

    @property
    def oracle_noise(self) -> float:
        """Fraction of the pool the oracle answers wrongly; can change during a race."""
        return self._oracle_noise

    @oracle_noise.setter
    def oracle_noise(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidParameterError(f"oracle_noise must be a number between 0 and 1; got {value!r}")
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise InvalidParameterError(
                f"oracle_noise must be between 0 (always right) and 1 (always wrong); got {value}")
        self._oracle_noise = value

    @property
    def names(self) -> list[str]:
        """The lanes, in display order: the strategies, then "you" once added."""
        return list(self.sessions)

    def restart(self, **changes) -> Comparison:
        """A new race from the same settings and seed (so the same initial labels), with ``changes`` applied.

        What a Reset button does: ``race = race.restart(budget=80, oracle_noise=0.1)``.
        """
        unknown = sorted(set(changes) - set(self._settings))
        if unknown:
            raise InvalidParameterError(f"restart() got unknown settings {unknown}; it takes {sorted(self._settings)}")
        return Comparison(**{**self._settings, **changes})

    @property
    def score_name(self) -> str:
        """What the learning curves measure, for titles and tables."""
        return training.score_name(self.scoring, self.is_classifier)

    # ------------------------------------------------------------------ the oracle

    def answer(self, idx: int):
        """The simulated oracle's answer for pool item ``idx`` at the current noise level."""
        idx = int(idx)
        if self._flip_rank[idx] < round(self._oracle_noise * self.n_pool):
            return self._wrong[idx]
        return self.y[idx]

    def is_wrong(self, idx: int) -> bool:
        """Whether the oracle currently answers item ``idx`` wrongly."""
        return bool(self._flip_rank[int(idx)] < round(self._oracle_noise * self.n_pool))

    # ------------------------------------------------------------------ racing

    def used(self, name: str) -> int:
        """Labels lane ``name`` has asked for beyond the initial ones."""
        return self._session(name).n_labeled - self.n_initial

    def remaining(self, name: str) -> int:
        """Labels lane ``name`` may still ask for."""
        session = self._session(name)
        return max(0, min(self._budget - self.used(name), len(session.unlabeled)))

    @property
    def done(self) -> bool:
        """Whether every strategy has spent its budget (the "you" lane is not waited for)."""
        return all(self.remaining(name) == 0 for name in self.strategy_names)

    def step(self) -> dict[str, list[int]]:
        """Each strategy asks one query (or one mini-batch), the oracle answers, each learner is taught.

        Returns the pool indices each strategy asked; empty once the budget is spent.
        """
        asked: dict[str, list[int]] = {}
        with self._lock, limit_blas_threads(self.blas_threads):
            for name in self.strategy_names:
                n = min(self._batch_size, self.remaining(name))
                if n <= 0:
                    continue
                session = self.sessions[name]
                start = time.perf_counter()
                picks = session.query(n)
                if not picks:
                    continue
                answers = [self.answer(i) for i in picks]
                session.teach(picks, answers)
                self.step_seconds[name].append(time.perf_counter() - start)
                self.wrong_answers[name] += sum(self.is_wrong(i) for i in picks)
                asked[name] = picks
            if asked:
                self.n_steps += 1
        return asked

    def run(self, n_steps: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
        """Take ``n_steps`` steps (default: until the budget is spent); returns :attr:`curves`.

        ``progress(done, total)`` is called after each step.
        """
        total = self.steps_left() if n_steps is None else check_int(n_steps, "n_steps", 0)
        for done in range(1, total + 1):
            if not self.step():
                break
            if progress is not None:
                progress(done, total)
        return self.curves

    def steps_left(self) -> int:
        """Steps until every strategy has spent its budget."""
        most = max(self.remaining(name) for name in self.strategy_names)
        return -(-most // self._batch_size)

    def next_query(self, name: str) -> list[int]:
        """The items lane ``name`` will ask next (what a plot rings); empty when its budget is spent."""
        n = min(self._batch_size, self.remaining(name))
        if name == YOU or n <= 0:
            return []
        return self.sessions[name].peek(n)  # the latest ranking, read without waiting for a step

    @property
    def curves(self) -> dict[str, list[dict]]:
        """Learning curve of every lane: ``{name: session.history}``."""
        return {name: session.history for name, session in list(self.sessions.items())}

    def labels_saved(self, target: float | None = None, smooth: int = 1) -> dict[str, LabelsSaved]:
        """Labels each lane needed to reach ``target``, against ``random`` (see :func:`labels_saved`)."""
        return labels_saved(self.curves, target, smooth=smooth)

    def stopping_points(self) -> dict[str, int]:
        """``{name: labels}`` for each lane whose stopping signal has fired (see :meth:`Session.stopping`).

        The signal needs no held-out labels: it fires when a lane's model
        stops changing its predictions on a fixed stop set.
        """
        points = {}
        for name, session in list(self.sessions.items()):
            first = session.stopping()["first_stop"]
            if first is not None and first.get("n_labels") is not None:
                points[name] = first["n_labels"]
        return points

    def scores(self) -> dict[str, float | None]:
        """The latest held-out score of every lane."""
        return {name: _last_score(session.history) for name, session in list(self.sessions.items())}

    # ------------------------------------------------------------------ "you vs the strategies"

    def add_you(self) -> Session:
        """Add the person's own lane (once): same model, same initial labels, same budget."""
        with self._you_lock:
            if YOU not in self.sessions:
                session = self._new_session(YOU, REFERENCE)
                with limit_blas_threads(self.blas_threads):
                    session.teach(self.initial, [self.y[i] for i in self.initial])
                self.sessions[YOU] = session
                self.wrong_answers[YOU] = 0
                self.step_seconds[YOU] = []
            return self.sessions[YOU]

    def candidates(self, k: int = 12) -> list[int]:
        """``k`` unlabeled items the person may choose from, drawn at random and kept until picked.

        A picked item is replaced by a fresh one, so the numbers on the plot
        stay put while the person thinks.
        """
        k = check_int(k, "k", 1)
        session = self.add_you()
        with self._you_lock:
            labeled = set(session.labels)
            self._candidates = [i for i in self._candidates if i not in labeled][:k]
            free = np.setdiff1d(session.unlabeled, self._candidates)
            need = min(k - len(self._candidates), len(free))
            if need > 0:
                self._candidates += [int(i) for i in self._you_rng.choice(free, size=need, replace=False)]
            return list(self._candidates)

    def pick_problem(self, idx: int) -> str | None:
        """Why the person may not pick pool item ``idx`` now (labeled in their lane, budget spent), or None."""
        session = self.add_you()
        if int(idx) in session.labels:
            return f"item {int(idx)} is already labeled in your lane; pick another"
        if self.remaining(YOU) <= 0:
            return f"your budget of {self._budget} labels is spent"
        return None

    def pick(self, idx: int):
        """The person asks for pool item ``idx``: the oracle answers and the "you" learner is taught.

        Returns the oracle's answer.
        """
        session = self.add_you()
        idx = check_int(idx, "idx (a pool index)", 0)
        if idx >= self.n_pool:
            raise IndexError(f"idx {idx} is out of range for a pool of {self.n_pool} items")
        problem = self.pick_problem(idx)
        if problem:
            raise ValueError(problem)
        label = self.answer(idx)
        start = time.perf_counter()
        with self._you_lock, limit_blas_threads(self.blas_threads):
            session.teach(idx, label)
        self.step_seconds[YOU].append(time.perf_counter() - start)
        self.wrong_answers[YOU] += int(self.is_wrong(idx))
        return label

    # ------------------------------------------------------------------ internals

    def _session(self, name: str) -> Session:
        try:
            return self.sessions[name]
        except KeyError:
            raise KeyError(f"no lane named {name!r}; lanes are {list(self.sessions)}") from None

    def _new_session(self, name: str, strategy: str) -> Session:
        seed = _lane_seed(self._base_seed, name)
        spec = _strategies.get(strategy)
        if "committee" in spec.requires:
            learner = make_committee(self.model, n_members=self.n_members, random_state=seed)
        else:
            learner = clone(self.model)
        problem = spec.problem(wrap(learner))
        if problem:
            raise ValueError(f"strategy {strategy!r} cannot race with this model: {problem}")
        return Session(
            learner,
            self.X,
            strategy=strategy,
            X_test=self.X_test,
            y_test=self.y_test,
            random_state=seed,
            classes=self.classes,
            scoring=self.scoring,
            annotator=name,
            item_ids=[str(i) for i in range(self.n_pool)],
            blas_threads=self.blas_threads,
        )

    def _check_n_initial(self, n_initial) -> int:
        if n_initial is None:
            return len(self.classes) if self.is_classifier else 2
        n_initial = check_int(n_initial, "n_initial", 1)
        if n_initial >= self.n_pool:
            raise InvalidParameterError(f"n_initial {n_initial} leaves nothing to ask in a pool of {self.n_pool} items")
        return n_initial

    def _draw_initial(self, rng) -> list[int]:
        """``n_initial`` items at random, one of each class first (for classifiers)."""
        chosen: list[int] = []
        if self.is_classifier:
            for c in rng.permutation(self.classes)[: self.n_initial]:
                chosen.append(int(rng.choice(np.flatnonzero(self.y == c))))
        rest = np.setdiff1d(np.arange(self.n_pool), chosen)
        extra = rng.choice(rest, size=self.n_initial - len(chosen), replace=False)
        return chosen + [int(i) for i in extra]

    def _draw_mistakes(self, rng):
        """For each item, its rank in the order items turn wrong as noise grows, and its wrong answer."""
        flip_rank = np.empty(self.n_pool, dtype=int)
        flip_rank[rng.permutation(self.n_pool)] = np.arange(self.n_pool)
        if self.is_classifier:
            codes = np.searchsorted(self.classes, self.y)
            shift = rng.randint(1, len(self.classes), size=self.n_pool)  # never 0: always a different class
            wrong = self.classes[(codes + shift) % len(self.classes)]
        else:
            other = (np.arange(self.n_pool) + rng.randint(1, self.n_pool, size=self.n_pool)) % self.n_pool
            wrong = self.y[other]
        return flip_rank, wrong

    def __repr__(self) -> str:
        used = ", ".join(f"{name}={self.used(name)}" for name in self.sessions)
        return f"Comparison({used}; budget={self._budget}, batch_size={self._batch_size}, noise={self._oracle_noise})"


def _last_score(history) -> float | None:
    scores = history_points(history)[1]
    return float(scores[-1]) if len(scores) else None
